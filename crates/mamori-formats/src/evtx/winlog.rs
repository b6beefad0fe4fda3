//! One EVTX record, as the `evtx` crate renders it to JSON, → one ECS event:
//! the `winlog.*` fields every record has, then the channel's own mapping
//! (Security, Sysmon, PowerShell, System). The table is in the module above.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Map, Value, json};

use crate::cloudtrail::TIMESTAMP_MISSING;
use crate::record::ParseContext;
use crate::time;

use super::{powershell, security, sysmon};

/// `Keywords` bit of events that record a failed audited attempt.
pub(super) const AUDIT_FAILURE: u64 = 0x0010_0000_0000_0000;
/// `Keywords` bit of events that record a successful audited attempt.
pub(super) const AUDIT_SUCCESS: u64 = 0x0020_0000_0000_0000;

/// The standard keyword bits (winmeta.xml) and their display names.
const KEYWORDS: &[(u64, &str)] = &[
    (0x0001_0000_0000_0000, "Response Time"),
    (0x0004_0000_0000_0000, "WDI Diag"),
    (0x0008_0000_0000_0000, "SQM"),
    (AUDIT_FAILURE, "Audit Failure"),
    (AUDIT_SUCCESS, "Audit Success"),
    (0x0040_0000_0000_0000, "Correlation Hint"),
    (0x0080_0000_0000_0000, "Classic"),
];

/// The standard opcodes (winmeta.xml).
const OPCODES: &[(u64, &str)] = &[
    (0, "Info"),
    (1, "Start"),
    (2, "Stop"),
    (3, "DCStart"),
    (4, "DCStop"),
    (5, "Extension"),
    (6, "Reply"),
    (7, "Resume"),
    (8, "Suspend"),
    (9, "Send"),
    (240, "Receive"),
];

/// The Sysmon channel.
pub(super) const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
/// The PowerShell channel of PowerShell 5 and later.
pub(super) const POWERSHELL_OPERATIONAL: &str = "Microsoft-Windows-PowerShell/Operational";
/// The classic PowerShell channel.
pub(super) const POWERSHELL_CLASSIC: &str = "Windows PowerShell";

/// Map one record (`value`, the crate's JSON with attributes under
/// `#attributes`, as [`super::parse`] asks for) to an event whose
/// `event.original` is `original`. `record_time` is the time in the record
/// header, used when `System/TimeCreated` is missing or unreadable.
///
/// Fails when `value` has no `Event` object with a `System` object in it.
pub fn map_record(
    value: &Value,
    original: &str,
    record_time: Option<DateTime<Utc>>,
    ctx: &ParseContext,
) -> Result<Event, String> {
    let event = value
        .get("Event")
        .and_then(Value::as_object)
        .ok_or("not an EVTX record: it has no Event element")?;
    let system = event
        .get("System")
        .and_then(Value::as_object)
        .ok_or("not an EVTX record: it has no Event/System element")?;
    let sys = System::read(system);

    let created = sys.time.as_deref().and_then(time::rfc3339);
    let time = created.or(record_time);
    let id = match (&sys.computer, &sys.record_id) {
        (Some(computer), Some(record_id)) => {
            let log = sys.channel.as_deref().or(sys.provider.as_deref()).unwrap_or("");
            let created = sys.time.as_deref().unwrap_or("");
            let key = format!("{computer}/{log}/{record_id}/{created}");
            Event::derived_id(&ctx.tenant, &key)
        }
        _ => Event::derived_id(&ctx.tenant, original),
    };
    let mut ev = Event::with_id(&ctx.tenant, time.unwrap_or(ctx.ingest_time), original, id);
    if time.is_none() {
        ev.add_tag(TIMESTAMP_MISSING);
        ev.set("event.ingested", json!(format_ts(ctx.ingest_time)));
    }

    let event_data = event.get("EventData").map(event_data).unwrap_or_default();
    let user_data = event.get("UserData").map(user_data).unwrap_or_default();
    let mut out = Out::new(ev);
    sys.apply(&mut out);
    if let Some(rendering) = event.get("RenderingInfo").and_then(Value::as_object) {
        rendering_info(&mut out, rendering);
    }
    if let Some(errors) = event.get("ProcessingErrorData") {
        out.set("winlog.processing_error_data", stringify(errors));
    }

    let channel = sys.channel.as_deref().unwrap_or("");
    let code = sys.event_id.as_deref().and_then(|c| c.parse::<u32>().ok());
    let fields = Fields(&event_data);
    let user_fields = Fields(&user_data);
    if let Some(code) = code {
        if channel.eq_ignore_ascii_case("Security") {
            security::map(&mut out, code, &fields, &user_fields);
        } else if channel.eq_ignore_ascii_case("System") {
            security::map_system(&mut out, code, &fields);
        } else if channel.eq_ignore_ascii_case(SYSMON) {
            sysmon::map(&mut out, code, &fields, sys.user_id.as_deref());
        } else if channel.eq_ignore_ascii_case(POWERSHELL_OPERATIONAL)
            || channel.eq_ignore_ascii_case(POWERSHELL_CLASSIC)
        {
            powershell::map(&mut out, channel, code, &fields);
        }
    }
    if !event_data.is_empty() {
        out.set("winlog.event_data", Value::Object(event_data));
    }
    if !user_data.is_empty() {
        out.set("winlog.user_data", Value::Object(user_data));
    }
    Ok(out.finish())
}

/// What `Event/System` says.
#[derive(Debug, Default)]
struct System {
    provider: Option<String>,
    provider_guid: Option<String>,
    event_id: Option<String>,
    version: Option<u64>,
    level: Option<u64>,
    task: Option<String>,
    opcode: Option<u64>,
    keywords: Option<u64>,
    time: Option<String>,
    record_id: Option<String>,
    activity_id: Option<String>,
    related_activity_id: Option<String>,
    pid: Option<u64>,
    tid: Option<u64>,
    channel: Option<String>,
    computer: Option<String>,
    user_id: Option<String>,
}

impl System {
    fn read(s: &Map<String, Value>) -> Self {
        let text = |k: &str| s.get(k).and_then(scalar).filter(|t| !t.is_empty());
        let attr = |elem: &str, name: &str| {
            s.get(elem)
                .and_then(|e| e.get("#attributes"))
                .and_then(|a| a.get(name))
                .and_then(scalar)
                .filter(|t| !t.is_empty())
        };
        let num = |k: &str| text(k).and_then(|t| number(&t));
        System {
            provider: attr("Provider", "Name"),
            provider_guid: attr("Provider", "Guid"),
            event_id: text("EventID"),
            version: num("Version"),
            level: num("Level"),
            task: text("Task"),
            opcode: num("Opcode"),
            keywords: num("Keywords"),
            time: attr("TimeCreated", "SystemTime"),
            record_id: text("EventRecordID"),
            activity_id: attr("Correlation", "ActivityID"),
            related_activity_id: attr("Correlation", "RelatedActivityID"),
            pid: attr("Execution", "ProcessID").and_then(|t| number(&t)),
            tid: attr("Execution", "ThreadID").and_then(|t| number(&t)),
            channel: text("Channel"),
            computer: text("Computer"),
            user_id: attr("Security", "UserID"),
        }
    }

    fn apply(&self, out: &mut Out) {
        let channel = self.channel.as_deref();
        out.set("event.kind", json!("event"));
        let module = if channel.is_some_and(|c| c.eq_ignore_ascii_case(SYSMON)) {
            "sysmon"
        } else {
            "windows"
        };
        out.set("event.module", json!(module));
        out.set("event.dataset", json!(dataset(channel, self.provider.as_deref())));
        if let Some(id) = &self.event_id {
            out.set("event.code", json!(id));
            out.set("winlog.event_id", json!(id));
        }
        if let Some(p) = &self.provider {
            out.set("event.provider", json!(p));
            out.set("winlog.provider_name", json!(p));
        }
        out.str("winlog.provider_guid", self.provider_guid.as_deref());
        out.str("winlog.channel", channel);
        if let Some(c) = &self.computer {
            out.set("winlog.computer_name", json!(c));
            out.set("host.name", json!(c));
        }
        out.str("winlog.record_id", self.record_id.as_deref());
        if let Some(pid) = self.pid {
            out.set("winlog.process.pid", json!(pid));
        }
        if let Some(tid) = self.tid {
            out.set("winlog.process.thread.id", json!(tid));
        }
        out.str("winlog.task", self.task.as_deref());
        if let Some(op) = self.opcode {
            out.set("winlog.opcode", json!(opcode_name(op)));
        }
        if let Some(kw) = self.keywords {
            let names = keyword_names(kw);
            if !names.is_empty() {
                out.set("winlog.keywords", json!(names));
            }
            if kw & AUDIT_FAILURE != 0 {
                out.set("event.outcome", json!("failure"));
            } else if kw & AUDIT_SUCCESS != 0 {
                out.set("event.outcome", json!("success"));
            }
        }
        if let Some(level) = self.level {
            let name = level_name(level);
            out.set("winlog.level", json!(name));
            out.set("log.level", json!(name));
        }
        if let Some(v) = self.version {
            out.set("winlog.version", json!(v));
        }
        out.str("winlog.activity_id", self.activity_id.as_deref());
        out.str("winlog.related_activity_id", self.related_activity_id.as_deref());
        out.str("winlog.user.identifier", self.user_id.as_deref());
    }
}

/// `RenderingInfo` (logs saved with display information): the message and
/// the level, task, opcode and keyword names.
fn rendering_info(out: &mut Out, r: &Map<String, Value>) {
    let text = |k: &str| r.get(k).and_then(scalar).filter(|t| !t.is_empty());
    out.str("message", text("Message").as_deref());
    out.str("winlog.task", text("Task").as_deref());
    out.str("winlog.opcode", text("Opcode").as_deref());
    if let Some(level) = text("Level") {
        out.set("winlog.level", json!(level.to_lowercase()));
        out.set("log.level", json!(level.to_lowercase()));
    }
    let keywords: Vec<String> = match r.get("Keywords").and_then(|k| k.get("Keyword")) {
        Some(Value::Array(list)) => list.iter().filter_map(scalar).collect(),
        Some(one) => scalar(one).into_iter().collect(),
        None => Vec::new(),
    };
    if !keywords.is_empty() {
        out.set("winlog.keywords", json!(keywords));
    }
}

/// `event.dataset`: `windows.` and the channel (or, without one, the
/// provider) in snake case, less a `microsoft_windows_` prefix; the usual
/// channels get the names of Elastic's Windows integration.
pub(super) fn dataset(channel: Option<&str>, provider: Option<&str>) -> String {
    let known = [
        ("Security", "security"),
        ("System", "system"),
        ("Application", "application"),
        ("ForwardedEvents", "forwarded"),
        (SYSMON, "sysmon_operational"),
        (POWERSHELL_CLASSIC, "powershell"),
        (POWERSHELL_OPERATIONAL, "powershell_operational"),
    ];
    if let Some(c) = channel
        && let Some((_, name)) = known.iter().find(|(k, _)| k.eq_ignore_ascii_case(c))
    {
        return format!("windows.{name}");
    }
    let Some(source) = channel.or(provider) else {
        return "windows.unknown".to_string();
    };
    let mut snake = String::new();
    for c in source.chars() {
        if c.is_ascii_alphanumeric() {
            snake.push(c.to_ascii_lowercase());
        } else if !snake.is_empty() && !snake.ends_with('_') {
            snake.push('_');
        }
    }
    let snake = snake.trim_end_matches('_');
    let snake = snake.strip_prefix("microsoft_windows_").unwrap_or(snake);
    if snake.is_empty() {
        "windows.unknown".to_string()
    } else {
        format!("windows.{snake}")
    }
}

/// Level names as Event Viewer shows them (0, "log always", shows as
/// Information), lower-cased.
fn level_name(level: u64) -> String {
    match level {
        0 | 4 => "information",
        1 => "critical",
        2 => "error",
        3 => "warning",
        5 => "verbose",
        _ => return level.to_string(),
    }
    .to_string()
}

fn opcode_name(op: u64) -> String {
    OPCODES
        .iter()
        .find(|(n, _)| *n == op)
        .map_or_else(|| op.to_string(), |(_, name)| name.to_string())
}

fn keyword_names(kw: u64) -> Vec<&'static str> {
    KEYWORDS
        .iter()
        .filter(|(bit, _)| kw & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// `EventData` as `winlog.event_data`: every named `Data` under its own name,
/// values as strings (`""` for empty ones); unnamed `Data` as `param1`,
/// `param2`, …; `Binary` kept.
fn event_data(v: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match k.as_str() {
                    "#attributes" => {}
                    "Data" | "#text" => {
                        let texts = match v {
                            Value::Object(o) => o.get("#text").unwrap_or(&Value::Null),
                            other => other,
                        };
                        push_params(&mut out, texts);
                    }
                    _ => {
                        out.insert(k.clone(), stringify(v));
                    }
                }
            }
        }
        Value::Null => {}
        other => push_params(&mut out, other),
    }
    out
}

fn push_params(out: &mut Map<String, Value>, texts: &Value) {
    let mut add = |v: &Value| {
        let n = out.keys().filter(|k| k.starts_with("param")).count() + 1;
        out.insert(format!("param{n}"), stringify(v));
    };
    match texts {
        Value::Array(list) => list.iter().for_each(&mut add),
        Value::Null => {}
        one => add(one),
    }
}

/// `UserData` as `winlog.user_data`: the fields of its element, values as
/// strings, and the element's name as `xml_name`.
fn user_data(v: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let Value::Object(m) = v else { return out };
    for (name, child) in m {
        if name == "#attributes" {
            continue;
        }
        match child {
            Value::Object(fields) => {
                for (k, v) in fields {
                    if k != "#attributes" {
                        out.insert(k.clone(), stringify(v));
                    }
                }
            }
            other => {
                out.insert(name.clone(), stringify(other));
            }
        }
        out.entry("xml_name").or_insert_with(|| json!(name));
    }
    out
}

/// A value with every leaf as a string (null as `""`), attributes dropped
/// and `{"#text": x}` as `x`.
pub(super) fn stringify(v: &Value) -> Value {
    match v {
        Value::Null => json!(""),
        Value::String(_) => v.clone(),
        Value::Bool(b) => json!(b.to_string()),
        Value::Number(n) => json!(n.to_string()),
        Value::Array(list) => Value::Array(list.iter().map(stringify).collect()),
        Value::Object(m) => {
            if let Some(text) = m.get("#text")
                && m.keys().all(|k| k == "#text" || k == "#attributes")
            {
                return stringify(text);
            }
            Value::Object(
                m.iter()
                    .filter(|(k, _)| *k != "#attributes")
                    .map(|(k, v)| (k.clone(), stringify(v)))
                    .collect(),
            )
        }
    }
}

/// A scalar (or `{"#text": scalar}`) as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(m) => m.get("#text").and_then(scalar),
        _ => None,
    }
}

/// A decimal or `0x` hexadecimal number.
pub(super) fn number(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Placeholder values that mean "none": empty, `-`, `(null)`.
fn absent(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v == "-" || v == "(null)"
}

/// The event data (or user data) of a record, read as strings.
pub(super) struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The value of `key`, trimmed, unless it is a placeholder.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        // Few fields: comparing names is cheaper than hashing.
        let found = if self.0.len() <= 32 {
            self.0.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
        } else {
            self.0.get(key)
        };
        found
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !absent(v))
    }

    /// The first of `keys` that has a value.
    pub fn first(&self, keys: &[&str]) -> Option<&'a str> {
        keys.iter().find_map(|k| self.get(k))
    }

    /// Every string value, in order.
    pub fn values(&self) -> impl Iterator<Item = &'a str> {
        self.0.values().filter_map(Value::as_str)
    }
}

/// The event being built, and the values gathered for `related.*`.
pub(super) struct Out {
    ev: Event,
    users: Vec<String>,
    ips: Vec<String>,
    hashes: Vec<String>,
    hosts: Vec<String>,
}

impl Out {
    fn new(ev: Event) -> Self {
        Out {
            ev,
            users: Vec::new(),
            ips: Vec::new(),
            hashes: Vec::new(),
            hosts: Vec::new(),
        }
    }

    /// The event, with `related.user`, `.ip`, `.hash` and `.hosts`.
    fn finish(mut self) -> Event {
        for (path, list) in [
            ("related.user", self.users),
            ("related.ip", self.ips),
            ("related.hash", self.hashes),
            ("related.hosts", self.hosts),
        ] {
            if !list.is_empty() {
                self.ev.set(path, json!(list));
            }
        }
        self.ev
    }

    /// Set a field.
    pub fn set(&mut self, path: &str, v: Value) {
        self.ev.set(path, v);
    }

    /// The string at `path`, if set.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.ev.get_str(path)
    }

    /// Set a string field unless the value is missing or a placeholder.
    pub fn str(&mut self, path: &str, v: Option<&str>) -> bool {
        match v.map(str::trim).filter(|v| !absent(v)) {
            Some(v) => {
                self.ev.set(path, json!(v));
                true
            }
            None => false,
        }
    }

    /// Set a number field from decimal or `0x` hexadecimal text.
    pub fn num(&mut self, path: &str, v: Option<&str>) -> bool {
        match v.and_then(number) {
            Some(n) => {
                self.ev.set(path, json!(n));
                true
            }
            None => false,
        }
    }

    /// Set an IP field (IPv4-mapped IPv6 written as IPv4) and add it to
    /// `related.ip`.
    pub fn ip(&mut self, path: &str, v: Option<&str>) -> bool {
        let Some(addr) = v.and_then(parse_ip) else {
            return false;
        };
        let text = addr.to_string();
        self.ev.set(path, json!(text));
        self.related_ip(&text);
        true
    }

    /// Add an address to `related.ip`.
    pub fn related_ip(&mut self, ip: &str) {
        push_unique(&mut self.ips, ip);
    }

    /// Set a port field (1–65535).
    pub fn port(&mut self, path: &str, v: Option<&str>) -> bool {
        match v.and_then(|v| v.trim().parse::<u16>().ok()).filter(|p| *p != 0) {
            Some(p) => {
                self.ev.set(path, json!(p));
                true
            }
            None => false,
        }
    }

    /// Set `<prefix>.name` (the part before `@` of a UPN), `.domain` and
    /// `.id`, and add the name to `related.user`.
    pub fn user(&mut self, prefix: &str, name: Option<&str>, domain: Option<&str>, id: Option<&str>) {
        if let Some(name) = name.map(|n| n.split('@').next().unwrap_or(n))
            && self.str(&format!("{prefix}.name"), Some(name))
        {
            self.related_user(name);
        }
        self.str(&format!("{prefix}.domain"), domain);
        self.str(&format!("{prefix}.id"), id);
    }

    /// `DOMAIN\name` as `<prefix>.domain` and `<prefix>.name`.
    pub fn qualified_user(&mut self, prefix: &str, v: Option<&str>) {
        let Some(v) = v.map(str::trim).filter(|v| !absent(v)) else {
            return;
        };
        match v.split_once('\\') {
            Some((domain, name)) => self.user(prefix, Some(name), Some(domain), None),
            None => self.user(prefix, Some(v), None, None),
        }
    }

    /// Add a name to `related.user`.
    pub fn related_user(&mut self, name: &str) {
        let name = name.trim();
        if !absent(name) {
            push_unique(&mut self.users, name);
        }
    }

    /// Add a host name to `related.hosts`.
    pub fn related_host(&mut self, host: &str) {
        let host = host.trim();
        if !absent(host) {
            push_unique(&mut self.hosts, host);
        }
    }

    /// `<prefix>.executable` and `<prefix>.name` (the file name) from a path.
    pub fn executable(&mut self, prefix: &str, path: Option<&str>) {
        if let Some(path) = path.map(str::trim).filter(|p| !absent(p)) {
            self.ev.set(&format!("{prefix}.executable"), json!(path));
            self.str(&format!("{prefix}.name"), Some(basename(path)));
        }
    }

    /// `file.path`, `.name`, `.directory` and `.extension` from a path.
    pub fn file_path(&mut self, path: Option<&str>) {
        let Some(path) = path.map(str::trim).filter(|p| !absent(p)) else {
            return;
        };
        self.ev.set("file.path", json!(path));
        if let Some((dir, name)) = path.rsplit_once('\\') {
            self.str("file.directory", Some(dir));
            self.str("file.name", Some(name));
        }
        let name = basename(path);
        if let Some((stem, ext)) = name.rsplit_once('.')
            && !stem.is_empty()
            && !ext.is_empty()
        {
            self.ev.set("file.extension", json!(ext));
        }
    }

    /// Sysmon's `MD5=…,SHA256=…,IMPHASH=…` as `<prefix>.hash.*` (lower case)
    /// and `<prefix>.pe.imphash`, each in `related.hash`.
    pub fn hashes(&mut self, prefix: &str, v: Option<&str>) {
        let Some(v) = v else { return };
        for pair in v.split(',') {
            let Some((alg, hash)) = pair.split_once('=') else {
                continue;
            };
            let hash = hash.trim().to_ascii_lowercase();
            if hash.is_empty() || hash.bytes().all(|b| b == b'0') {
                continue;
            }
            let path = match alg.trim().to_ascii_lowercase().as_str() {
                "imphash" => format!("{prefix}.pe.imphash"),
                alg @ ("md5" | "sha1" | "sha256" | "sha384" | "sha512") => format!("{prefix}.hash.{alg}"),
                _ => continue,
            };
            self.ev.set(&path, json!(hash));
            push_unique(&mut self.hashes, &hash);
        }
    }
}

fn push_unique(list: &mut Vec<String>, v: &str) {
    if !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

/// An IP address, also in `[v6]` brackets; IPv4-mapped IPv6 as IPv4.
pub(super) fn parse_ip(v: &str) -> Option<IpAddr> {
    let v = v.trim();
    let v = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(v);
    v.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The file name of a Windows path.
pub(super) fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets() {
        assert_eq!(dataset(Some("Security"), None), "windows.security");
        assert_eq!(dataset(Some(SYSMON), None), "windows.sysmon_operational");
        assert_eq!(dataset(Some("Windows PowerShell"), None), "windows.powershell");
        assert_eq!(
            dataset(Some("Microsoft-Windows-WMI-Activity/Operational"), None),
            "windows.wmi_activity_operational"
        );
        assert_eq!(dataset(None, Some("Microsoft-Windows-RPC")), "windows.rpc");
        assert_eq!(dataset(None, None), "windows.unknown");
        assert_eq!(dataset(Some("///"), None), "windows.unknown");
    }

    #[test]
    fn numbers_names_and_paths() {
        assert_eq!(number("0x2de4"), Some(0x2de4));
        assert_eq!(number("4624"), Some(4624));
        assert_eq!(number("0x"), None);
        assert_eq!(number("-"), None);
        assert_eq!(keyword_names(0x8020_0000_0000_0000), vec!["Audit Success"]);
        assert_eq!(opcode_name(0), "Info");
        assert_eq!(opcode_name(77), "77");
        assert_eq!(level_name(0), "information");
        assert_eq!(level_name(9), "9");
        assert_eq!(basename("C:\\Windows\\cmd.exe"), "cmd.exe");
        assert_eq!(basename("cmd.exe"), "cmd.exe");
        assert_eq!(
            parse_ip("::ffff:10.0.0.5").map(|i| i.to_string()).as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(
            parse_ip("[fe80::1]").map(|i| i.to_string()).as_deref(),
            Some("fe80::1")
        );
        assert_eq!(parse_ip("-"), None);
    }

    #[test]
    fn event_data_shapes() {
        let named =
            event_data(&json!({"A": "x", "B": 5, "C": true, "D": null, "#attributes": {"Name": "N"}}));
        assert_eq!(
            Value::Object(named),
            json!({"A": "x", "B": "5", "C": "true", "D": ""})
        );
        let unnamed = event_data(&json!({"Data": {"#text": ["one", 2]}, "Binary": "00AA"}));
        assert_eq!(
            Value::Object(unnamed),
            json!({"param1": "one", "param2": "2", "Binary": "00AA"})
        );
        let single = event_data(&json!({"Data": {"#text": "only"}}));
        assert_eq!(Value::Object(single), json!({"param1": "only"}));
        assert!(event_data(&Value::Null).is_empty());
        assert_eq!(
            Value::Object(event_data(&json!("bare"))),
            json!({"param1": "bare"})
        );
    }

    #[test]
    fn user_data_flattens_its_element() {
        let v = json!({"LogFileCleared": {"#attributes": {"xmlns": "x"}, "SubjectUserName": "bob", "N": 3}});
        assert_eq!(
            Value::Object(user_data(&v)),
            json!({"SubjectUserName": "bob", "N": "3", "xml_name": "LogFileCleared"})
        );
        assert!(user_data(&json!("x")).is_empty());
    }
}
