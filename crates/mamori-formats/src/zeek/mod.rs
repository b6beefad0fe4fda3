//! Zeek logs, TSV and JSON, mapped to ECS as Elastic's Zeek integration does.
//!
//! # Inputs
//! - **TSV** (Zeek's ASCII writer): a header of `#separator \x09`,
//!   `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#open`,
//!   `#fields`, `#types` lines, data lines, `#close`. A new header may
//!   follow (concatenated logs); it replaces the previous one. Values are
//!   unescaped (`\xNN`, `\\`) and typed by `#types`: `count`, `int`, `port` →
//!   integers; `double`, `interval` → floats; `time` → RFC 3339 text (UTC,
//!   µs); `bool` `T`/`F` → `true`/`false`; `set[…]`, `vector[…]` → arrays
//!   split on the set separator, elements typed by the inner type; anything
//!   else (`string`, `addr`, `subnet`, `enum`, …) → text. A value that does
//!   not read as its type is kept as text. Unset (`-`) and empty
//!   (`(empty)`) fields are left out. A data line whose field count differs
//!   from `#fields`, or one before any `#fields`, is a bad record; a
//!   `#types` line of another length is a warning (values are then text).
//! - **JSON** (`LogAscii::use_json`, or the Kafka writer): one object per
//!   line. The log is named by `_path` (or `@stream`), else by OwlH's
//!   `bro_engine` (lowercased), else guessed from the keys (`conn_state` → conn, `query` → dns, `method` + `uri` → http, `cipher`
//!   or `server_name` → ssl), else `unknown`. `ts` is epoch seconds (number or
//!   text) or RFC 3339. The Kafka writer's `id_orig_h`-style keys are read as
//!   `id.orig_h`; `_path`, `_write_ts`, `@stream`, `@proc` are not kept, and
//!   `@system` becomes `observer.hostname`. Empty arrays and strings are left
//!   out. A line that is not a JSON object is a bad record.
//!
//! Sniffing: TSV when the input starts with `#separator`; JSON when the
//! first object has `_path`, or `@stream` and `@proc`, or `ts`, `uid` and
//! `id.orig_h` (or `id_orig_h`).
//!
//! # Mapping
//! Every field is also kept, typed, under `zeek.<log>.<field>` (dotted
//! names nest: `zeek.conn.id.orig_h`).
//!
//! | Zeek | ECS |
//! |---|---|
//! | — | `event.module` = `zeek`, `event.dataset` = `zeek.<log>`, `event.kind` = `event` (`alert` for notice), `event.category`/`event.type` by log (below) |
//! | `ts` | `@timestamp` (without one: the ingest time, tag `mamori.timestamp_missing`) |
//! | `uid` | `zeek.session_id` (not `event.id`: a uid is shared by the conn, dns, http… lines of one connection and by several lines of one log, and `event.id` is Mamori's de-duplication key; the id is derived from tenant and line) |
//! | `id.orig_h`, `id.orig_p` | `source.ip`, `source.port` |
//! | `id.resp_h`, `id.resp_p` | `destination.ip`, `destination.port` |
//! | `proto` | `network.transport` |
//! | `community_id` | `network.community_id` |
//! | source and destination addresses; `user.name` | `related.ip`; `related.user` |
//! | **conn** `service` | `network.protocol` (category `network`, type `connection`) |
//! | conn `duration` | `event.duration` (ns) |
//! | conn `orig_bytes`, `resp_bytes` | `source.bytes`, `destination.bytes` (and their sum `network.bytes`) |
//! | conn `orig_pkts`, `resp_pkts` | `source.packets`, `destination.packets` (and `network.packets`) |
//! | conn `conn_state`, `history` | `zeek.connection.state`, `zeek.connection.history` |
//! | conn `orig_l2_addr`, `resp_l2_addr` | `source.mac`, `destination.mac` |
//! | **dns** `query` | `dns.question.name` (category `network`, type `protocol`; `network.protocol` = `dns`) |
//! | dns `qtype_name`, `qclass_name` | `dns.question.type`, `dns.question.class` |
//! | dns `rcode_name` | `dns.response_code`; `dns.type` = `answer` when there is a response code, else `query` |
//! | dns `trans_id` | `dns.id` |
//! | dns `answers` + `TTLs` | `dns.answers` (`[{data, ttl}]`), `dns.resolved_ip` (the answers that are addresses) |
//! | dns `AA`, `TC`, `RD`, `RA` (true) | `dns.header_flags` |
//! | **http** `method`, `host`, `uri` | `http.request.method`, `url.domain`, `url.original` (+ `url.path`, `url.query`, `url.extension`) (category `network`+`web`; `network.protocol` = `http`) |
//! | http `status_code`, `version`, `referrer` | `http.response.status_code`, `http.version`, `http.request.referrer` |
//! | http `user_agent`, `username` | `user_agent.original`, `user.name` |
//! | http `request_body_len`, `response_body_len` | `http.request.body.bytes`, `http.response.body.bytes` |
//! | **ssl** `version` | `tls.version_protocol`, `tls.version` (`TLSv12` → `tls`, `1.2`); `network.protocol` = `tls` |
//! | ssl `cipher`, `curve`, `resumed`, `established`, `next_protocol` | `tls.cipher`, `tls.curve`, `tls.resumed`, `tls.established`, `tls.next_protocol` |
//! | ssl `server_name` | `tls.client.server_name`, `destination.domain` |
//! | ssl `ja3`, `ja3s` | `tls.client.ja3`, `tls.server.ja3s` |
//! | ssl `subject`, `issuer`, `client_subject`, `client_issuer` | `tls.server.subject`, `tls.server.issuer`, `tls.client.subject`, `tls.client.issuer` |
//! | **files** `filename`, `mime_type`, `total_bytes` (else `seen_bytes`), `md5`, `sha1`, `sha256` | `file.name`, `file.mime_type`, `file.size`, `file.hash.*` (category `file`) |
//! | **notice** `note`, `msg`, `src`, `dst`, `p` | `rule.name`, `message`, `source.ip`, `destination.ip`, `destination.port` (kind `alert`, category `intrusion_detection`) |
//! | **x509** `certificate.version`, `.serial`, `.subject`, `.issuer`, `.not_valid_before`, `.not_valid_after`, `.key_alg`, `.sig_alg`, `.key_length`, `.exponent`, `.curve`; `san.dns` | `x509.version_number`, `.serial_number`, `.subject.distinguished_name`, `.issuer.distinguished_name`, `.not_before`, `.not_after`, `.public_key_algorithm`, `.signature_algorithm`, `.public_key_size`, `.public_key_exponent`, `.public_key_curve`; `x509.alternative_names` |
//! | **smtp** `mailfrom`, `rcptto`, `subject`, `msg_id` | `email.from.address`, `email.to.address`, `email.subject`, `email.message_id` |
//! | **ssh** `auth_success` | `event.outcome` (category `network`+`authentication`) |
//! | **weird** `name` | `rule.name` |
//! | **ntlm** `username`, `domainname`, `success` | `user.name`, `user.domain`, `event.outcome` (category `network`+`authentication`) |
//! | **kerberos** `client` (`user/REALM`), `success` | `user.name`, `user.domain`, `event.outcome` (category `network`+`authentication`) |
//! | **ftp** `user`, `command`; **rdp** `cookie` | `user.name`, `event.action`; `user.name` |
//! | dns, http, ssh, smtp, ftp, rdp, ntlm, kerberos, smb_*, dce_rpc, snmp, ntp, modbus, syslog, rfb, ldap, sip, dhcp, mysql, radius | `network.protocol` = the log name (`smb` for `smb_*`) |
//! | `@system` (Kafka writer) | `observer.hostname` |

mod map;

use std::io::BufRead;

use serde_json::{Map, Value, json};

use crate::json;
use crate::lines::Line;
use crate::netlog::{self, Ids, LineItems, LineParser};
use crate::record::{Diagnostic, Item, ParseContext};
use crate::sniff;

/// True when `head` is a Zeek TSV log (starts with `#separator`) or a
/// Zeek JSON log (see the module documentation).
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = sniff::start(head);
    let rest = &head[start..];
    if rest.starts_with(b"#separator") {
        return true;
    }
    let Some(obj) = sniff::first_object(rest) else {
        return false;
    };
    obj.get("_path").is_some()
        || (obj.get("@stream").is_some() && obj.get("@proc").is_some())
        || (obj.has_all(&["ts", "uid"]) && (obj.get("id.orig_h").is_some() || obj.get("id_orig_h").is_some()))
}

/// Parse a Zeek TSV or JSON log, line by line.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, Parser::default(), ctx)
}

/// The TSV header in force.
struct Header {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    path: String,
    fields: Vec<String>,
    types: Vec<String>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            path: String::new(),
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Parser {
    ids: Ids,
    header: Header,
}

impl LineParser for Parser {
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        let content = line.content();
        if content.trim_ascii().is_empty() {
            return None;
        }
        if content.starts_with(b"#") {
            return self.directive(content, line, ctx);
        }
        if content.trim_ascii_start().starts_with(b"{") && self.header.fields.is_empty() {
            return Some(self.json_line(content, line, ctx));
        }
        self.tsv_line(content, line, ctx)
    }
}

impl Parser {
    fn directive(&mut self, content: &[u8], line: &Line, ctx: &ParseContext) -> Option<Item> {
        if let Some(sep) = content.strip_prefix(b"#separator") {
            // A new header block starts.
            let sep = unescape(sep.trim_ascii());
            self.header = Header {
                separator: if sep.is_empty() { b"\t".to_vec() } else { sep },
                ..Header::default()
            };
            return None;
        }
        let body = &content[1..];
        let (name, value) = match find(body, &self.header.separator) {
            Some(i) => (&body[..i], &body[i + self.header.separator.len()..]),
            None => (body, &b""[..]),
        };
        let text = |v: &[u8]| String::from_utf8_lossy(&unescape(v)).into_owned();
        let list = |v: &[u8], sep: &[u8]| split(v, sep).into_iter().map(text).collect::<Vec<_>>();
        match name {
            b"set_separator" => self.header.set_separator = unescape(value),
            b"empty_field" => self.header.empty = unescape(value),
            b"unset_field" => self.header.unset = unescape(value),
            b"path" => self.header.path = text(value),
            b"fields" => {
                self.header.fields = list(value, &self.header.separator);
                self.header.types.clear();
            }
            b"types" => {
                let types = list(value, &self.header.separator);
                if types.len() != self.header.fields.len() {
                    let message = format!(
                        "#types names {} types for {} fields; values are read as text",
                        types.len(),
                        self.header.fields.len()
                    );
                    let location = ctx.location(Some(line.number), None, Some(line.offset));
                    return Some(Item::Warning(Diagnostic { location, message }));
                }
                self.header.types = types;
            }
            _ => {}
        }
        None
    }

    fn tsv_line(&mut self, content: &[u8], line: &Line, ctx: &ParseContext) -> Option<Item> {
        let h = &self.header;
        if h.fields.is_empty() {
            return Some(netlog::bad(
                ctx,
                line,
                None,
                "data line before any #fields header line",
            ));
        }
        let values = split(content, &h.separator);
        if values.len() != h.fields.len() {
            let reason = format!("{} fields, but #fields names {}", values.len(), h.fields.len());
            return Some(netlog::bad(ctx, line, None, reason));
        }
        let mut fields = Map::new();
        for (i, (name, raw)) in h.fields.iter().zip(&values).enumerate() {
            if *raw == h.unset.as_slice() || *raw == h.empty.as_slice() {
                continue;
            }
            let ty = h.types.get(i).map_or("string", String::as_str);
            let value = typed(ty, raw, &h.set_separator, &h.empty, &h.unset);
            if !value.is_null() {
                fields.insert(name.clone(), value);
            }
        }
        let log = if h.path.is_empty() {
            map::guess_log(&fields)
        } else {
            h.path.clone()
        };
        let original = String::from_utf8_lossy(content);
        let ev = map::map(log, fields, None, &original, ctx, &mut self.ids);
        Some(Item::Event(Box::new(ev)))
    }

    fn json_line(&mut self, content: &[u8], line: &Line, ctx: &ParseContext) -> Item {
        let text = match std::str::from_utf8(content) {
            Ok(t) => t,
            Err(e) => {
                let column = Some(e.valid_up_to() as u64 + 1);
                return netlog::bad(ctx, line, column, format!("line is not valid UTF-8: {e}"));
            }
        };
        let obj = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(obj)) => obj,
            Ok(other) => {
                let reason = format!("expected a JSON object, found {}", json::kind(&other));
                return netlog::bad(ctx, line, Some(1), reason);
            }
            Err(e) => {
                let column = json::position(&e, line.number, 1).map(|(_, c)| c);
                let at = column.map(|c| format!(" at column {c}")).unwrap_or_default();
                return netlog::bad(
                    ctx,
                    line,
                    column,
                    format!("invalid JSON: {}{at}", json::message(&e)),
                );
            }
        };
        let mut fields = Map::new();
        let mut log = None;
        let mut system = None;
        for (key, value) in obj {
            match key.as_str() {
                "_path" | "@stream" => {
                    if let Value::String(s) = value {
                        log.get_or_insert(s);
                    }
                }
                "@system" => system = value.as_str().map(str::to_string),
                "_write_ts" | "@proc" => {}
                _ => {
                    let empty = match &value {
                        Value::Array(a) => a.is_empty(),
                        Value::String(s) => s.is_empty(),
                        Value::Null => true,
                        _ => false,
                    };
                    if !empty {
                        fields.insert(json_key(key), value);
                    }
                }
            }
        }
        let log = log.unwrap_or_else(|| map::guess_log(&fields));
        let ev = map::map(log, fields, system, text, ctx, &mut self.ids);
        Item::Event(Box::new(ev))
    }
}

/// The Kafka writer's `id_orig_h` is `id.orig_h`.
fn json_key(key: String) -> String {
    match key.as_str() {
        "id_orig_h" | "id_orig_p" | "id_resp_h" | "id_resp_p" => key.replacen('_', ".", 1),
        _ => key,
    }
}

/// A TSV value typed by its Zeek type (`Null` for an empty set).
fn typed(ty: &str, raw: &[u8], set_sep: &[u8], empty: &[u8], unset: &[u8]) -> Value {
    let inner = ty
        .strip_prefix("set[")
        .or_else(|| ty.strip_prefix("vector["))
        .or_else(|| ty.strip_prefix("table["))
        .and_then(|t| t.strip_suffix(']'));
    if let Some(inner) = inner {
        let items: Vec<Value> = split(raw, set_sep)
            .into_iter()
            .filter(|v| *v != empty && *v != unset)
            .map(|v| scalar(inner, v))
            .collect();
        return if items.is_empty() {
            Value::Null
        } else {
            Value::Array(items)
        };
    }
    scalar(ty, raw)
}

fn scalar(ty: &str, raw: &[u8]) -> Value {
    let unescaped;
    let bytes = if raw.contains(&b'\\') {
        unescaped = unescape(raw);
        &unescaped[..]
    } else {
        raw
    };
    // Borrowed unless it had to be repaired: owned only when kept as text.
    let text = String::from_utf8_lossy(bytes);
    let typed = match ty {
        "count" | "port" => text.parse::<u64>().ok().map(|n| json!(n)),
        "int" => text.parse::<i64>().ok().map(|n| json!(n)),
        "double" | "interval" => text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| json!(f)),
        "time" => netlog::epoch_text(&text).map(|t| json!(mamori_model::event::format_ts(t))),
        "bool" => match &*text {
            "T" => Some(json!(true)),
            "F" => Some(json!(false)),
            _ => None,
        },
        _ => None,
    };
    typed.unwrap_or_else(|| Value::String(text.into_owned()))
}

/// Zeek's escapes: `\xNN` and `\\`.
fn unescape(raw: &[u8]) -> Vec<u8> {
    if !raw.contains(&b'\\') {
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            if raw.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if raw.get(i + 1) == Some(&b'x')
                && let Some(hex) = raw.get(i + 2..i + 4)
                && let Ok(hex) = std::str::from_utf8(hex)
                && let Ok(v) = u8::from_str_radix(hex, 16)
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [] => None,
        [b] => memchr::memchr(*b, hay),
        _ => memchr::memmem::find(hay, needle),
    }
}

fn split<'a>(hay: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = hay;
    while let Some(i) = find(rest, sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape(br"a\x09b\\c\xzz"), b"a\tb\\c\\xzz");
        assert_eq!(split(b"a\tb\t\tc", b"\t"), [&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(split(b"abc", b""), [&b"abc"[..]]);
    }

    #[test]
    fn types() {
        let t = |ty: &str, raw: &[u8]| typed(ty, raw, b",", b"(empty)", b"-");
        assert_eq!(t("count", b"42"), json!(42));
        assert_eq!(t("int", b"-3"), json!(-3));
        assert_eq!(t("port", b"x"), json!("x"));
        assert_eq!(t("interval", b"0.5"), json!(0.5));
        assert_eq!(
            t("time", b"1521911720.865716"),
            json!("2018-03-24T17:15:20.865716Z")
        );
        assert_eq!(t("bool", b"T"), json!(true));
        assert_eq!(t("bool", b"F"), json!(false));
        assert_eq!(t("vector[interval]", b"1.0,2.5"), json!([1.0, 2.5]));
        assert_eq!(t("set[string]", br"a\x2cb,c"), json!(["a,b", "c"]));
        assert_eq!(t("set[string]", b"(empty)"), Value::Null);
        assert_eq!(t("addr", b"10.0.0.1"), json!("10.0.0.1"));
    }
}
