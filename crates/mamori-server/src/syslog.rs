//! Syslog listeners: UDP (one message per datagram) and TCP (newline or
//! RFC 6587 octet-counting framing). Each sender is mapped to a tenant and
//! source by address (CIDR) or by the hostname in its syslog header.
//! Messages are batched (up to [`BATCH`] or [`FLUSH`]) through the common
//! pipeline. UDP cannot push back: what the pipeline refuses is dropped and
//! counted; TCP stops reading until the pipeline accepts.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use mamori_formats::Format;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::Shared;
use crate::api::ingest::{ensure_tenant, ingest_body};
use crate::config::{SenderRule, SyslogListener};
use crate::pipeline::{Origin, PipelineError};
use crate::serve::ServeError;
use crate::state::Actor;

/// Messages per batch.
pub const BATCH: usize = 5_000;
/// Longest wait before a partial batch is sent.
pub const FLUSH: Duration = Duration::from_millis(200);
/// Longest message accepted (longer ones are cut and kept).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Start a listener; it runs until `stop` turns true, then sends what it holds.
pub async fn spawn(
    state: Shared,
    cfg: SyslogListener,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, ServeError> {
    let io = |source| ServeError::Io {
        context: format!("syslog {} listener on {}", cfg.protocol, cfg.listen),
        source,
    };
    Ok(match cfg.protocol.as_str() {
        "udp" => {
            let sock = UdpSocket::bind(cfg.listen).await.map_err(io)?;
            tracing::info!(addr = %cfg.listen, "syslog udp listening");
            tokio::spawn(udp_loop(state, cfg, sock, stop))
        }
        _ => {
            let l = TcpListener::bind(cfg.listen).await.map_err(io)?;
            tracing::info!(addr = %cfg.listen, "syslog tcp listening");
            tokio::spawn(tcp_loop(state, cfg, l, stop))
        }
    })
}

/// Tenant and source of a message from `peer`.
pub fn route<'a>(cfg: &'a SyslogListener, peer: IpAddr, message: &str) -> (&'a str, &'a str) {
    let host = header_hostname(message);
    cfg.senders
        .iter()
        .find(|r| rule_matches(r, peer, host))
        .map_or((cfg.tenant.as_str(), cfg.source.as_str()), |r| {
            (r.tenant.as_str(), r.source.as_str())
        })
}

fn rule_matches(r: &SenderRule, peer: IpAddr, host: Option<&str>) -> bool {
    if let Ok(net) = r.matches.parse::<IpNet>() {
        return net.contains(&peer);
    }
    if let Ok(ip) = r.matches.parse::<IpAddr>() {
        return ip == peer;
    }
    host.is_some_and(|h| h.eq_ignore_ascii_case(&r.matches))
}

/// The HOSTNAME of an RFC 5424 (`<pri>1 ts host …`) or RFC 3164 (`<pri>Mmm dd hh:mm:ss host …`) header.
pub fn header_hostname(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix('<')?;
    let rest = &rest[rest.find('>')? + 1..];
    let mut words = rest.split_ascii_whitespace();
    if rest.starts_with("1 ") {
        words.next();
        words.next();
        return words.next().filter(|h| *h != "-");
    }
    // Mmm dd hh:mm:ss host
    let (_m, _d, _t) = (words.next()?, words.next()?, words.next()?);
    words.next()
}

/// Resolves once `stop` turns true.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Messages waiting, per (tenant, source).
#[derive(Default)]
struct Pending {
    by_target: BTreeMap<(String, String), Vec<u8>>,
    count: usize,
}

impl Pending {
    fn push(&mut self, tenant: &str, source: &str, msg: &[u8]) {
        let buf = self.by_target.entry((tenant.into(), source.into())).or_default();
        let msg = &msg[..msg.len().min(MAX_MESSAGE)];
        let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
        let msg = msg.strip_suffix(b"\r").unwrap_or(msg);
        // A message is one line for the parser: embedded newlines become spaces.
        buf.extend(msg.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
        buf.push(b'\n');
        self.count += 1;
    }
}

/// Send what is pending; returns the messages refused.
async fn flush(state: &Shared, pending: &mut Pending, name: &str, wait_when_busy: bool) -> u64 {
    let batches = std::mem::take(&mut pending.by_target);
    pending.count = 0;
    let mut refused = 0;
    for ((tenant, source), body) in batches {
        let lines = body.iter().filter(|&&b| b == b'\n').count() as u64;
        let actor = Actor {
            name: format!("syslog {name}"),
            origin: name.to_string(),
        };
        if let Err(e) = ensure_tenant(state, &actor, &tenant) {
            tracing::warn!(%tenant, error = %e.body.message, "syslog: tenant refused");
            state.metrics.dropped(&tenant, &source, lines);
            refused += lines;
            continue;
        }
        let origin = Origin {
            tenant: tenant.clone(),
            source: Some(source.clone()),
            format: body.starts_with(b"<").then_some(Format::Syslog),
            name: name.to_string(),
        };
        loop {
            match ingest_body(state, origin.clone(), body.clone()).await {
                Ok(_) => break,
                Err(PipelineError::Busy { retry_after_secs, .. }) if wait_when_busy => {
                    tokio::time::sleep(Duration::from_secs(retry_after_secs)).await;
                }
                Err(e) => {
                    tracing::warn!(%tenant, %source, error = %e, "syslog batch refused");
                    state.metrics.dropped(&tenant, &source, lines);
                    refused += lines;
                    break;
                }
            }
        }
    }
    refused
}

async fn udp_loop(state: Shared, cfg: SyslogListener, sock: UdpSocket, mut stop: watch::Receiver<bool>) {
    let name = format!("syslog udp {}", cfg.listen);
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut pending = Pending::default();
    let mut tick = tokio::time::interval(FLUSH);
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let msg = &buf[..n];
                    let text = String::from_utf8_lossy(msg);
                    let (t, s) = route(&cfg, peer.ip(), &text);
                    pending.push(t, s, msg);
                    if pending.count >= BATCH {
                        flush(&state, &mut pending, &name, false).await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "syslog udp receive"),
            },
            _ = tick.tick() => {
                if pending.count > 0 {
                    flush(&state, &mut pending, &name, false).await;
                }
            }
            _ = stopped(&mut stop) => {
                flush(&state, &mut pending, &name, true).await;
                return;
            }
        }
    }
}

async fn tcp_loop(
    state: Shared,
    cfg: SyslogListener,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = Vec::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    conns.push(tokio::spawn(tcp_conn(state.clone(), cfg.clone(), stream, peer, stop.clone())));
                }
                Err(e) => tracing::warn!(error = %e, "syslog tcp accept"),
            },
            _ = stopped(&mut stop) => break,
        }
    }
    for c in conns {
        let _ = c.await;
    }
}

/// Read one message: octet-counted (`LEN SP MSG`) when it starts with a digit, else up to a newline.
async fn read_message<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
) -> std::io::Result<bool> {
    out.clear();
    let first = {
        let buf = r.fill_buf().await?;
        match buf.first() {
            None => return Ok(false),
            Some(b) => *b,
        }
    };
    if first.is_ascii_digit() {
        let mut len_text = Vec::new();
        r.read_until(b' ', &mut len_text).await?;
        let digits = String::from_utf8_lossy(&len_text);
        if let Ok(len) = digits.trim().parse::<usize>()
            && len <= 1024 * 1024
        {
            out.resize(len, 0);
            r.read_exact(out).await?;
            return Ok(true);
        }
        // Not octet counting after all: the digits start a plain line.
        out.extend_from_slice(&len_text);
    }
    r.read_until(b'\n', out).await?;
    Ok(!out.is_empty())
}

async fn tcp_conn(
    state: Shared,
    cfg: SyslogListener,
    stream: TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let name = format!("syslog tcp {peer}");
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut pending = Pending::default();
    let mut msg = Vec::new();
    let mut tick = tokio::time::interval(FLUSH);
    loop {
        tokio::select! {
            r = read_message(&mut reader, &mut msg) => match r {
                Ok(true) => {
                    let text = String::from_utf8_lossy(&msg);
                    let (t, s) = route(&cfg, peer.ip(), &text);
                    pending.push(t, s, &msg);
                    if pending.count >= BATCH {
                        flush(&state, &mut pending, &name, true).await;
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "syslog tcp read");
                    break;
                }
            },
            _ = tick.tick() => {
                if pending.count > 0 {
                    flush(&state, &mut pending, &name, true).await;
                }
            }
            _ = stopped(&mut stop) => break,
        }
    }
    flush(&state, &mut pending, &name, true).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SyslogListener {
        SyslogListener {
            listen: "127.0.0.1:0".parse().unwrap(),
            protocol: "udp".into(),
            tenant: "acme".into(),
            source: "syslog".into(),
            senders: vec![
                SenderRule {
                    matches: "10.20.0.0/16".into(),
                    tenant: "globex".into(),
                    source: "asa".into(),
                },
                SenderRule {
                    matches: "fw-paris".into(),
                    tenant: "initech".into(),
                    source: "fw".into(),
                },
            ],
        }
    }

    #[test]
    fn senders_map_by_address_then_hostname() {
        let c = cfg();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(route(&c, ip("10.20.1.1"), "<13>hello"), ("globex", "asa"));
        assert_eq!(
            route(&c, ip("192.0.2.1"), "<13>Oct 11 22:14:15 fw-paris sshd[1]: x"),
            ("initech", "fw")
        );
        assert_eq!(
            route(
                &c,
                ip("192.0.2.1"),
                "<13>1 2026-01-01T00:00:00Z FW-PARIS app - - - x"
            ),
            ("initech", "fw")
        );
        assert_eq!(route(&c, ip("192.0.2.1"), "no header"), ("acme", "syslog"));
    }

    #[tokio::test]
    async fn octet_counting_and_newline_framing() {
        let data: &[u8] = b"12 <13>hi there11 <13>second\n<13>third line\n";
        let mut r = tokio::io::BufReader::new(data);
        let mut m = Vec::new();
        let mut got = Vec::new();
        while read_message(&mut r, &mut m).await.unwrap() {
            got.push(String::from_utf8_lossy(&m).trim_end().to_string());
        }
        assert_eq!(got, vec!["<13>hi there", "<13>second", "<13>third line"]);
    }
}
