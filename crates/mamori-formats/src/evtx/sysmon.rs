//! The Sysmon channel, as Elastic's Sysmon pipeline maps it: `event.action`,
//! `.category`, `.type`, the process (and its parent), file, network, DNS,
//! registry and user fields. Every event data field also stays under
//! `winlog.event_data`.

use serde_json::json;

use super::winlog::{Fields, Out, parse_ip};

/// (event id, `event.action`, `event.category`, `event.type`).
#[rustfmt::skip]
const ACTIONS: &[(u32, &str, &[&str], &[&str])] = &[
    (1, "Process creation", &["process"], &["start"]),
    (2, "A process changed a file creation time", &["file"], &["change"]),
    (3, "Network connection", &["network"], &["start", "connection", "protocol"]),
    (4, "Sysmon service state changed", &["process"], &["change"]),
    (5, "Process terminated", &["process"], &["end"]),
    (6, "Driver loaded", &["driver"], &["start"]),
    (7, "Image loaded", &["process"], &["change"]),
    (8, "CreateRemoteThread", &["process"], &["change"]),
    (9, "RawAccessRead", &["process"], &["access"]),
    (10, "ProcessAccess", &["process"], &["access"]),
    (11, "FileCreate", &["file"], &["creation"]),
    (12, "RegistryEvent (Object create and delete)", &["configuration", "registry"], &["change"]),
    (13, "RegistryEvent (Value Set)", &["configuration", "registry"], &["change"]),
    (14, "RegistryEvent (Key and Value Rename)", &["configuration", "registry"], &["change"]),
    (15, "FileCreateStreamHash", &["file"], &["access"]),
    (16, "ServiceConfigurationChange", &["configuration"], &["change"]),
    (17, "PipeEvent (Pipe Created)", &["file"], &["creation"]),
    (18, "PipeEvent (Pipe Connected)", &["file"], &["access"]),
    (19, "WmiEvent (WmiEventFilter activity detected)", &["process"], &["info"]),
    (20, "WmiEvent (WmiEventConsumer activity detected)", &["process"], &["change"]),
    (21, "WmiEvent (WmiEventConsumerToFilter activity detected)", &["process"], &["access"]),
    (22, "DNSEvent (DNS query)", &["network"], &["connection", "protocol", "info"]),
    (23, "FileDelete (File Delete archived)", &["file"], &["deletion"]),
    (24, "ClipboardChange (New content in the clipboard)", &[], &["change"]),
    (25, "ProcessTampering (Process image change)", &["process"], &["change"]),
    (26, "FileDeleteDetected (File Delete logged)", &["file"], &["deletion"]),
    (27, "FileBlockExecutable", &["file"], &["creation"]),
    (28, "FileBlockShredding", &["file"], &["deletion"]),
    (29, "FileExecutableDetected", &["file"], &["creation"]),
    (255, "Error", &["process"], &[]),
];

/// Registry hive names and their short forms.
const HIVES: &[(&str, &str)] = &[
    ("HKEY_CLASSES_ROOT", "HKCR"),
    ("HKCR", "HKCR"),
    ("HKEY_CURRENT_CONFIG", "HKCC"),
    ("HKCC", "HKCC"),
    ("HKEY_CURRENT_USER", "HKCU"),
    ("HKCU", "HKCU"),
    ("HKEY_LOCAL_MACHINE", "HKLM"),
    ("HKLM", "HKLM"),
    ("HKEY_USERS", "HKU"),
    ("HKU", "HKU"),
];

/// A Sysmon event; `user_id` is the record's `Security/@UserID`.
pub(super) fn map(out: &mut Out, code: u32, d: &Fields, user_id: Option<&str>) {
    if let Some((_, action, categories, types)) = ACTIONS.iter().find(|(c, ..)| *c == code) {
        out.set("event.action", json!(action));
        if !categories.is_empty() {
            out.set("event.category", json!(categories));
        }
        if !types.is_empty() {
            out.set("event.type", json!(types));
        }
    }
    if matches!(code, 27 | 255) {
        out.set("event.outcome", json!("failure"));
    }
    if code == 255 {
        out.str("error.code", d.get("ID"));
    }
    out.str("rule.name", d.get("RuleName"));

    // The acting process (the source one for 8 and 10).
    out.str(
        "process.entity_id",
        d.first(&["ProcessGuid", "SourceProcessGuid", "SourceProcessGUID"]),
    );
    out.num("process.pid", d.first(&["ProcessId", "SourceProcessId"]));
    out.num("process.thread.id", d.get("SourceThreadId"));
    out.executable("process", d.first(&["Image", "SourceImage"]));
    out.str("process.command_line", d.get("CommandLine"));
    out.str("process.working_directory", d.get("CurrentDirectory"));
    out.str("process.parent.entity_id", d.get("ParentProcessGuid"));
    out.num("process.parent.pid", d.get("ParentProcessId"));
    out.executable("process.parent", d.get("ParentImage"));
    out.str("process.parent.command_line", d.get("ParentCommandLine"));
    let pe = if code == 7 { "file.pe" } else { "process.pe" };
    for (from, to) in [
        ("OriginalFileName", "original_file_name"),
        ("Company", "company"),
        ("Description", "description"),
        ("FileVersion", "file_version"),
        ("Product", "product"),
    ] {
        out.str(&format!("{pe}.{to}"), d.get(from));
    }
    let hashed = if matches!(code, 1 | 25) { "process" } else { "file" };
    out.hashes(hashed, d.first(&["Hashes", "Hash"]));

    // Files: created, deleted, loaded, and named pipes.
    out.file_path(d.first(&["TargetFilename", "ImageLoaded", "Device"]));
    out.str("file.name", d.get("PipeName"));
    out.str("file.code_signature.subject_name", d.get("Signature"));
    out.str("file.code_signature.status", d.get("SignatureStatus"));
    if let Some(signed) = d.get("Signed") {
        out.set(
            "file.code_signature.signed",
            json!(signed.eq_ignore_ascii_case("true")),
        );
    }

    network(out, code, d);
    if matches!(code, 12..=14) {
        registry(out, d);
    }

    out.str("user.id", user_id);
    out.qualified_user("user", d.get("User"));
}

fn network(out: &mut Out, code: u32, d: &Fields) {
    if let Some(proto) = d.get("Protocol") {
        out.set("network.transport", json!(proto.to_ascii_lowercase()));
    }
    if code == 22 {
        out.set("network.protocol", json!("dns"));
    } else if let Some(name) = d.first(&["DestinationPortName", "SourcePortName"]) {
        out.set("network.protocol", json!(name.to_ascii_lowercase()));
    }
    out.ip("source.ip", d.get("SourceIp"));
    out.str("source.domain", d.get("SourceHostname"));
    out.port("source.port", d.get("SourcePort"));
    out.ip("destination.ip", d.get("DestinationIp"));
    out.str("destination.domain", d.get("DestinationHostname"));
    out.port("destination.port", d.get("DestinationPort"));
    match d.get("Initiated").map(str::to_ascii_lowercase).as_deref() {
        Some("true") => out.set("network.direction", json!("egress")),
        Some("false") => out.set("network.direction", json!("ingress")),
        _ => {}
    }
    match d.get("SourceIsIpv6").map(str::to_ascii_lowercase).as_deref() {
        Some("true") => out.set("network.type", json!("ipv6")),
        Some("false") => out.set("network.type", json!("ipv4")),
        _ => {}
    }
    if let Some(name) = d.get("QueryName") {
        out.set("dns.question.name", json!(name));
        out.related_host(name);
    }
    // QueryResults: "type:  5 cname.example;::ffff:1.2.3.4;…"
    if let Some(results) = d.get("QueryResults") {
        let mut ips = Vec::new();
        for answer in results.split(';').map(str::trim) {
            if let Some(ip) = parse_ip(answer) {
                let ip = ip.to_string();
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            } else if let Some(rest) = answer.strip_prefix("type:")
                && let Some(host) = rest.split_whitespace().nth(1)
            {
                out.related_host(host);
            }
        }
        for ip in &ips {
            out.related_ip(ip);
        }
        if !ips.is_empty() {
            out.set("dns.resolved_ip", json!(ips));
        }
    }
}

fn registry(out: &mut Out, d: &Fields) {
    let Some(path) = d.get("TargetObject") else {
        return;
    };
    out.set("registry.path", json!(path));
    let mut parts = path.splitn(2, '\\');
    let head = parts.next().unwrap_or_default();
    if let Some((_, hive)) = HIVES.iter().find(|(k, _)| k.eq_ignore_ascii_case(head)) {
        out.set("registry.hive", json!(hive));
        out.str("registry.key", parts.next());
    }
    if let Some((_, value)) = path.rsplit_once('\\') {
        out.str("registry.value", Some(value));
    }
    if let Some(details) = d.get("Details") {
        out.set("registry.data.strings", json!([details]));
    }
}
