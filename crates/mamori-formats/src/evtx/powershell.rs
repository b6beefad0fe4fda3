//! The PowerShell channels, as Elastic's PowerShell pipelines map them:
//! script blocks (4104), module logging context (4103) and the
//! `Key=Value` details of the classic channel (400, 403, 600, 800).

use serde_json::json;

use super::winlog::{Fields, Out, POWERSHELL_CLASSIC, number};

/// Context keys (spaces removed, compared case-insensitively) and where
/// they go. `User` and `ScriptName` are handled on their own.
const CONTEXT: &[(&str, &str)] = &[
    ("HostApplication", "process.command_line"),
    ("HostName", "process.title"),
    ("HostId", "process.entity_id"),
    ("HostVersion", "powershell.process.executable_version"),
    ("EngineVersion", "powershell.engine.version"),
    ("RunspaceId", "powershell.runspace_id"),
    ("PipelineId", "powershell.pipeline_id"),
    ("CommandName", "powershell.command.name"),
    ("CommandType", "powershell.command.type"),
    ("CommandPath", "powershell.command.path"),
    ("CommandLine", "powershell.command.value"),
    ("ShellId", "powershell.id"),
];

/// A PowerShell event from `channel`.
pub(super) fn map(out: &mut Out, channel: &str, code: u32, d: &Fields) {
    out.set("event.category", json!(["process"]));
    let kind = match (channel.eq_ignore_ascii_case(POWERSHELL_CLASSIC), code) {
        (true, 400) | (false, 4105) => "start",
        (true, 403) | (false, 4106) => "end",
        _ => "info",
    };
    out.set("event.type", json!([kind]));

    out.str("powershell.file.script_block_text", d.get("ScriptBlockText"));
    out.str("powershell.file.script_block_id", d.get("ScriptBlockId"));
    out.num("powershell.sequence", d.get("MessageNumber"));
    out.num("powershell.total", d.get("MessageTotal"));
    out.str("powershell.runspace_id", d.first(&["RunspaceId", "RunspaceID"]));
    out.file_path(d.get("Path"));

    // 4103's ContextInfo and the classic channel's parameters hold
    // "Key = Value" lines.
    let texts: Vec<&str> = if code == 4103 {
        d.get("ContextInfo").into_iter().collect()
    } else if channel.eq_ignore_ascii_case(POWERSHELL_CLASSIC) {
        d.values().collect()
    } else {
        Vec::new()
    };
    for text in texts {
        context(out, text);
    }
}

fn context(out: &mut Out, text: &str) {
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key: String = key.chars().filter(|c| !c.is_whitespace()).collect();
        let value = value.trim();
        if key.eq_ignore_ascii_case("User") {
            out.qualified_user("user", Some(value));
        } else if key.eq_ignore_ascii_case("ScriptName") {
            out.file_path(Some(value));
        } else if key.eq_ignore_ascii_case("SequenceNumber") {
            if let Some(n) = number(value) {
                out.set("event.sequence", json!(n));
            }
        } else if let Some((_, to)) = CONTEXT.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            out.str(to, Some(value));
        }
    }
}
