//! Server configuration: `mamori.toml`, then `MAMORI_…` environment
//! variables, then command-line flags (each overriding the one before).
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data_dir = "./mamori-data"
//! log_format = "text"          # or "json"
//! max_body_mb = 64
//! ingest_queue_events = 500000
//!
//! [tls]                        # optional: serve HTTPS
//! cert = "/etc/mamori/cert.pem"
//! key = "/etc/mamori/key.pem"
//!
//! [[bulk_index]]               # Elasticsearch _bulk: index name → tenant/source
//! pattern = "logs-{tenant}-{source}"
//!
//! [[syslog]]                   # syslog listeners
//! listen = "0.0.0.0:5514"
//! protocol = "udp"             # udp | tcp | tls (RFC 5425)
//! tenant = "acme"              # default tenant/source of this listener
//! source = "firewall"
//! max_message_bytes = 65536    # longer messages go to the dead letter
//! recv_buffer_bytes = 8388608  # udp: SO_RCVBUF (default: the kernel's)
//! [[syslog.senders]]           # by sender address (CIDR) or hostname
//! match = "10.20.0.0/16"
//! tenant = "globex"
//! source = "asa"
//!
//! [[syslog]]                   # syslog over TLS
//! listen = "0.0.0.0:6514"
//! protocol = "tls"
//! tenant = "acme"
//! [syslog.tls]
//! cert = "/etc/mamori/syslog-cert.pem"
//! key = "/etc/mamori/syslog-key.pem"
//! client_ca = "/etc/mamori/senders-ca.pem"   # optional: mutual TLS
//!
//! [detection]                  # Sigma rules run on every event at ingest
//! rules = ["/etc/mamori/rules"]
//! mappings = []                # extra field mappings
//!
//! [[s3]]                       # CloudTrail-style buckets
//! tenant = "acme"
//! source = "cloudtrail"
//! bucket = "acme-trail"
//! prefix = "AWSLogs/"
//! region = "eu-west-1"
//! endpoint = "http://127.0.0.1:9000"   # S3-compatible servers (path-style)
//! sqs_queue_url = "https://sqs…/queue" # read ObjectCreated notifications instead of listing
//! interval_secs = 60
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration problem, naming the file or variable.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ConfigError {
    /// The file or variable.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

/// The whole server configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the HTTP(S) listener.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// `text` or `json` logs on stdout.
    pub log_format: String,
    /// Largest request body accepted, in MiB (413 beyond).
    pub max_body_mb: usize,
    /// Events waiting to be committed before ingest answers 429.
    pub ingest_queue_events: usize,
    /// HTTPS.
    pub tls: Option<TlsConfig>,
    /// `_bulk` index name patterns, tried in order.
    pub bulk_index: Vec<BulkIndex>,
    /// Syslog listeners.
    pub syslog: Vec<SyslogListener>,
    /// S3 sources.
    pub s3: Vec<S3Source>,
    /// Sigma rules run on every event at ingest.
    pub detection: crate::rules::DetectionConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            data_dir: PathBuf::from("./mamori-data"),
            log_format: "text".into(),
            max_body_mb: 64,
            ingest_queue_events: 500_000,
            tls: None,
            bulk_index: Vec::new(),
            syslog: Vec::new(),
            s3: Vec::new(),
            detection: crate::rules::DetectionConfig::default(),
        }
    }
}

/// Certificate and key (PEM) for HTTPS and TLS syslog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// How an Elasticsearch index name maps to a tenant and source:
/// `{tenant}` and `{source}` capture the parts, anything else is literal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkIndex {
    /// Pattern such as `logs-{tenant}-{source}`.
    pub pattern: String,
}

/// A syslog listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogListener {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `udp`, `tcp` (newline or RFC 6587 octet-counting framing) or `tls`
    /// (RFC 5425: TCP with TLS, octet counting or newline framing).
    pub protocol: String,
    /// Tenant of senders no rule matches.
    pub tenant: String,
    /// Source of senders no rule matches.
    #[serde(default = "default_syslog_source")]
    pub source: String,
    /// Rules by sender, first match wins.
    #[serde(default)]
    pub senders: Vec<SenderRule>,
    /// Longest message accepted, in bytes; a longer one goes to the dead
    /// letter (with sender, listener and size) and is counted as rejected.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: usize,
    /// UDP: the socket's receive buffer (`SO_RCVBUF`), in bytes; unset keeps
    /// the kernel's default. A larger buffer rides out bursts.
    #[serde(default)]
    pub recv_buffer_bytes: Option<usize>,
    /// TLS: certificate, key and optional client CA (`protocol = "tls"` only).
    #[serde(default)]
    pub tls: Option<SyslogTls>,
}

impl Default for SyslogListener {
    /// A UDP listener on `127.0.0.1:514` for the tenant `default` (tests set the fields they need).
    fn default() -> Self {
        SyslogListener {
            listen: SocketAddr::from(([127, 0, 0, 1], 514)),
            protocol: "udp".into(),
            tenant: "default".into(),
            source: default_syslog_source(),
            senders: Vec::new(),
            max_message_bytes: default_max_message(),
            recv_buffer_bytes: None,
            tls: None,
        }
    }
}

impl SyslogListener {
    /// How the listener is named in metrics, logs and the dead letter: `udp 0.0.0.0:5514`.
    pub fn id(&self) -> String {
        format!("{} {}", self.protocol, self.listen)
    }

    /// Whether messages of this listener may be routed to `tenant`.
    pub fn serves(&self, tenant: &str) -> bool {
        self.tenant == tenant || self.senders.iter().any(|r| r.tenant == tenant)
    }
}

fn default_syslog_source() -> String {
    "syslog".into()
}

/// The default longest syslog message: 64 KiB, as rsyslog and syslog-ng
/// receivers commonly allow (RFC 5425 requires at least 2,048 octets).
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;
/// The smallest `max_message_bytes` allowed (what RFC 5425 requires receivers to accept).
pub const MIN_MAX_MESSAGE: usize = 2048;
/// The largest `max_message_bytes` allowed.
pub const MAX_MAX_MESSAGE: usize = 16 * 1024 * 1024;

fn default_max_message() -> usize {
    DEFAULT_MAX_MESSAGE
}

/// Certificate and key (PEM) of a TLS syslog listener, and the CA that
/// senders' client certificates must chain to (mutual TLS) when set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogTls {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates (PEM) of the senders; set: a sender without a certificate it signed is refused.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
}

/// A sender (address in a CIDR, or hostname in the syslog header) mapped to a tenant and source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderRule {
    /// `10.0.0.0/8`, `10.1.2.3` or a hostname.
    #[serde(rename = "match")]
    pub matches: String,
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
}

/// An S3 bucket (or prefix) to read, by listing or by SQS notifications.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Source {
    /// Tenant.
    pub tenant: String,
    /// Source name.
    pub source: String,
    /// Bucket.
    pub bucket: String,
    /// Key prefix.
    #[serde(default)]
    pub prefix: String,
    /// Region.
    #[serde(default = "default_region")]
    pub region: String,
    /// Endpoint of an S3-compatible server (path-style addressing, plain HTTP allowed).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Access key id (else `AWS_ACCESS_KEY_ID`).
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// Secret (else `AWS_SECRET_ACCESS_KEY`).
    #[serde(default)]
    pub secret_access_key: Option<String>,
    /// SQS queue receiving the bucket's ObjectCreated notifications; unset: list the prefix.
    #[serde(default)]
    pub sqs_queue_url: Option<String>,
    /// Seconds between polls.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_interval() -> u64 {
    60
}

impl S3Source {
    /// The name of this source in checkpoints and logs: `tenant/source`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.tenant, self.source)
    }
}

impl ServerConfig {
    /// Read `path` if given (or `./mamori.toml` if it exists), then apply the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let implicit = Path::new("mamori.toml");
        let file = path.or_else(|| implicit.exists().then_some(implicit));
        let mut cfg = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError {
                    place: p.display().to_string(),
                    message: e.to_string(),
                })?;
                Self::parse(&text, &p.display().to_string())?
            }
            None => ServerConfig::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    /// Parse TOML text (`place` names it in errors).
    pub fn parse(text: &str, place: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError {
            place: place.into(),
            message: e.to_string(),
        })
    }

    /// Apply `MAMORI_LISTEN`, `MAMORI_DATA`, `MAMORI_LOG_FORMAT`, `MAMORI_MAX_BODY_MB`,
    /// `MAMORI_TLS_CERT` + `MAMORI_TLS_KEY`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let bad = |k: &str, m: String| ConfigError {
            place: k.into(),
            message: m,
        };
        if let Some(v) = var("MAMORI_LISTEN") {
            self.listen = v
                .parse()
                .map_err(|e| bad("MAMORI_LISTEN", format!("`{v}`: {e}")))?;
        }
        if let Some(v) = var("MAMORI_DATA") {
            self.data_dir = v.into();
        }
        if let Some(v) = var("MAMORI_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = var("MAMORI_MAX_BODY_MB") {
            self.max_body_mb = v
                .parse()
                .map_err(|e| bad("MAMORI_MAX_BODY_MB", format!("`{v}`: {e}")))?;
        }
        match (var("MAMORI_TLS_CERT"), var("MAMORI_TLS_KEY")) {
            (Some(cert), Some(key)) => {
                self.tls = Some(TlsConfig {
                    cert: cert.into(),
                    key: key.into(),
                })
            }
            (None, None) => {}
            _ => {
                return Err(bad(
                    "MAMORI_TLS_CERT/MAMORI_TLS_KEY",
                    "set both or neither".into(),
                ));
            }
        }
        self.validate()
    }

    /// Check values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| {
            Err(ConfigError {
                place: "configuration".into(),
                message: m,
            })
        };
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return bad(format!("log_format `{}`: use text or json", self.log_format));
        }
        if self.max_body_mb == 0 {
            return bad("max_body_mb must be at least 1".into());
        }
        for b in &self.bulk_index {
            if !b.pattern.contains("{tenant}") {
                return bad(format!("bulk_index pattern `{}` has no {{tenant}}", b.pattern));
            }
        }
        for s in &self.s3 {
            if s.interval_secs == 0 {
                return bad(format!("s3 {}: interval_secs must be at least 1", s.id()));
            }
        }
        for s in &self.syslog {
            if !matches!(s.protocol.as_str(), "udp" | "tcp" | "tls") {
                return bad(format!(
                    "syslog {}: protocol `{}`: use udp, tcp or tls",
                    s.listen, s.protocol
                ));
            }
            if !(MIN_MAX_MESSAGE..=MAX_MAX_MESSAGE).contains(&s.max_message_bytes) {
                return bad(format!(
                    "syslog {}: max_message_bytes {} is out of range ({MIN_MAX_MESSAGE} to {MAX_MAX_MESSAGE})",
                    s.listen, s.max_message_bytes
                ));
            }
            match (s.protocol.as_str(), &s.tls) {
                ("tls", None) => {
                    return bad(format!(
                        "syslog {}: protocol tls needs a [syslog.tls] table with cert and key",
                        s.listen
                    ));
                }
                ("udp" | "tcp", Some(_)) => {
                    return bad(format!(
                        "syslog {}: [syslog.tls] is set but protocol is `{}`; use protocol = \"tls\"",
                        s.listen, s.protocol
                    ));
                }
                _ => {}
            }
            if s.recv_buffer_bytes.is_some() && s.protocol != "udp" {
                return bad(format!(
                    "syslog {}: recv_buffer_bytes applies to udp listeners only",
                    s.listen
                ));
            }
            if s.recv_buffer_bytes == Some(0) {
                return bad(format!(
                    "syslog {}: recv_buffer_bytes must be at least 1",
                    s.listen
                ));
            }
        }
        Ok(())
    }
}

/// Tenant and source of an Elasticsearch index name, by the first pattern
/// that matches. Without patterns the name must be an existing tenant
/// (`acme`) or one followed by `-<source>` (`acme-firewall`): shippers'
/// default index names never create tenants by accident.
pub fn map_index(
    patterns: &[BulkIndex],
    index: &str,
    is_tenant: impl Fn(&str) -> bool,
) -> Option<(String, Option<String>)> {
    if patterns.is_empty() {
        if is_tenant(index) {
            return Some((index.to_string(), None));
        }
        return index
            .match_indices('-')
            .map(|(i, _)| (&index[..i], &index[i + 1..]))
            .find(|(t, s)| !s.is_empty() && is_tenant(t))
            .map(|(t, s)| (t.to_string(), Some(s.to_string())));
    }
    patterns.iter().find_map(|p| match_pattern(&p.pattern, index))
}

fn match_pattern(pattern: &str, index: &str) -> Option<(String, Option<String>)> {
    // Split the pattern into literals and placeholders, then match left to right;
    // a placeholder takes the shortest run that lets the next literal follow.
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}')? + start;
        if start > 0 {
            parts.push((false, &rest[..start]));
        }
        parts.push((true, &rest[start + 1..end]));
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        parts.push((false, rest));
    }
    let mut tenant = None;
    let mut source = None;
    let mut pos = 0;
    for (i, (is_var, text)) in parts.iter().enumerate() {
        if !is_var {
            if !index[pos..].starts_with(text) {
                return None;
            }
            pos += text.len();
            continue;
        }
        let end = match parts.get(i + 1) {
            Some((false, lit)) => pos + index[pos..].find(lit)?,
            Some((true, _)) => return None,
            None => index.len(),
        };
        if end == pos {
            return None;
        }
        let value = index[pos..end].to_string();
        match *text {
            "tenant" => tenant = Some(value),
            "source" => source = Some(value),
            _ => {}
        }
        pos = end;
    }
    (pos == index.len()).then_some(())?;
    Some((tenant?, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let mut c = ServerConfig::parse(
            "listen = \"0.0.0.0:9000\"\n[[bulk_index]]\npattern = \"logs-{tenant}-{source}\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        c.apply_env(|k| (k == "MAMORI_LISTEN").then(|| "127.0.0.1:9999".to_string()))
            .unwrap();
        assert_eq!(c.listen.port(), 9999);
        let err = ServerConfig::parse("lisen = 1", "t.toml").unwrap_err();
        assert!(err.to_string().starts_with("t.toml:"), "{err}");
        assert!(
            c.apply_env(|k| (k == "MAMORI_TLS_CERT").then(|| "x".into()))
                .is_err()
        );
    }

    #[test]
    fn syslog_listeners_are_checked() {
        let c = ServerConfig::parse(
            "[[syslog]]\nlisten = \"0.0.0.0:6514\"\nprotocol = \"tls\"\ntenant = \"acme\"\nmax_message_bytes = 8192\n\
             [syslog.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\nclient_ca = \"ca.pem\"\n",
            "t.toml",
        )
        .unwrap();
        c.validate().unwrap();
        let l = &c.syslog[0];
        assert_eq!(l.max_message_bytes, 8192);
        assert_eq!(l.id(), "tls 0.0.0.0:6514");
        assert_eq!(
            l.tls.as_ref().unwrap().client_ca.as_deref(),
            Some(Path::new("ca.pem"))
        );
        let udp = ServerConfig::parse(
            "[[syslog]]\nlisten = \"0.0.0.0:5514\"\nprotocol = \"udp\"\ntenant = \"acme\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(udp.syslog[0].max_message_bytes, DEFAULT_MAX_MESSAGE);
        let refused = |tweak: fn(&mut SyslogListener), says: &str| {
            let mut c = udp.clone();
            tweak(&mut c.syslog[0]);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("syslog 0.0.0.0:5514") && e.contains(says), "{e}");
        };
        refused(|l| l.protocol = "tls".into(), "needs a [syslog.tls] table");
        refused(
            |l| l.max_message_bytes = 100,
            "max_message_bytes 100 is out of range",
        );
        refused(|l| l.protocol = "relp".into(), "use udp, tcp or tls");
        refused(
            |l| {
                l.protocol = "tcp".into();
                l.recv_buffer_bytes = Some(4096);
            },
            "udp listeners only",
        );
        refused(
            |l| {
                l.tls = Some(SyslogTls {
                    cert: "c".into(),
                    key: "k".into(),
                    client_ca: None,
                })
            },
            "use protocol = \"tls\"",
        );
    }

    #[test]
    fn index_names_map_to_tenants() {
        let p = vec![BulkIndex {
            pattern: "logs-{tenant}-{source}".into(),
        }];
        let known = |t: &str| t == "acme" || t == "acme-eu";
        assert_eq!(
            map_index(&p, "logs-acme-fw", known),
            Some(("acme".into(), Some("fw".into())))
        );
        assert_eq!(map_index(&p, "other-acme", known), None);
        assert_eq!(map_index(&[], "acme", known), Some(("acme".into(), None)));
        assert_eq!(
            map_index(&[], "acme-vpc", known),
            Some(("acme".into(), Some("vpc".into())))
        );
        assert_eq!(
            map_index(&[], "acme-eu-vpc", known),
            Some(("acme".into(), Some("eu-vpc".into())))
        );
        assert_eq!(map_index(&[], "fluent-bit", known), None);
    }
}
