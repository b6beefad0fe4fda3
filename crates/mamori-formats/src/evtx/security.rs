//! The Security channel (and service installs in the System channel), as
//! Elastic's Windows Security pipeline maps them: `event.action`,
//! `.category`, `.type`, `.outcome`, the user (the target account for logon
//! events, the subject otherwise), source address, logon and process.

use serde_json::json;

use super::winlog::{Fields, Out, number};

const AUTH: &[&str] = &["authentication"];
const AUTH_SESSION: &[&str] = &["authentication", "session"];
const IAM: &[&str] = &["iam"];
const IAM_CONF: &[&str] = &["iam", "configuration"];
const CONF: &[&str] = &["configuration"];
const REG_CONF: &[&str] = &["registry", "configuration"];
const PROCESS: &[&str] = &["process"];

/// (event id, `event.action`, `event.category`, `event.type`), from
/// Elastic's Windows Security pipeline.
#[rustfmt::skip]
const ACTIONS: &[(u32, &str, &[&str], &[&str])] = &[
    (1100, "logging-service-shutdown", PROCESS, &["end"]),
    (1102, "audit-log-cleared", IAM, &["admin", "change"]),
    (1104, "logging-full", IAM, &["admin"]),
    (1105, "auditlog-archieved", IAM, &["admin"]),
    (1108, "logging-processing-error", IAM, &["admin"]),
    (4610, "authentication-package-loaded", CONF, &["access"]),
    (4611, "trusted-logon-process-registered", CONF, &["change"]),
    (4614, "notification-package-loaded", CONF, &["access"]),
    (4616, "system-time-changed", CONF, &["change"]),
    (4622, "security-package-loaded", CONF, &["access"]),
    (4624, "logged-in", AUTH, &["start"]),
    (4625, "logon-failed", AUTH, &["start"]),
    (4634, "logged-out", AUTH, &["end"]),
    (4647, "logged-out", AUTH, &["end"]),
    (4648, "logged-in-explicit", AUTH, &["start"]),
    (4657, "registry-value-modified", REG_CONF, &["change"]),
    (4670, "permissions-changed", IAM_CONF, &["admin", "change"]),
    (4672, "logged-in-special", IAM, &["admin"]),
    (4673, "privileged-service-called", IAM, &["admin"]),
    (4674, "privileged-operation", IAM, &["admin"]),
    (4688, "created-process", PROCESS, &["start"]),
    (4689, "exited-process", PROCESS, &["end"]),
    (4697, "service-installed", IAM_CONF, &["admin", "change"]),
    (4698, "scheduled-task-created", IAM_CONF, &["creation", "admin"]),
    (4699, "scheduled-task-deleted", IAM_CONF, &["deletion", "admin"]),
    (4700, "scheduled-task-enabled", IAM_CONF, &["change", "admin"]),
    (4701, "scheduled-task-disabled", IAM_CONF, &["change", "admin"]),
    (4702, "scheduled-task-updated", IAM_CONF, &["change", "admin"]),
    (4706, "domain-trust-added", CONF, &["creation"]),
    (4707, "domain-trust-removed", CONF, &["deletion"]),
    (4713, "kerberos-policy-changed", CONF, &["change"]),
    (4714, "encrypted-data-recovery-policy-changed", CONF, &["change"]),
    (4715, "object-audit-policy-changed", CONF, &["change"]),
    (4716, "trusted-domain-information-changed", CONF, &["change"]),
    (4717, "system-security-access-granted", IAM_CONF, &["admin", "change"]),
    (4718, "system-security-access-removed", IAM_CONF, &["admin", "deletion"]),
    (4719, "changed-audit-config", IAM_CONF, &["admin", "change"]),
    (4720, "added-user-account", IAM, &["user", "creation"]),
    (4722, "enabled-user-account", IAM, &["user", "change"]),
    (4723, "changed-password", IAM, &["user", "change"]),
    (4724, "reset-password", IAM, &["user", "change"]),
    (4725, "disabled-user-account", IAM, &["user", "deletion"]),
    (4726, "deleted-user-account", IAM, &["user", "deletion"]),
    (4727, "added-group-account", IAM, &["group", "creation"]),
    (4728, "added-member-to-group", IAM, &["group", "change"]),
    (4729, "removed-member-from-group", IAM, &["group", "change"]),
    (4730, "deleted-group-account", IAM, &["group", "deletion"]),
    (4731, "added-group-account", IAM, &["group", "creation"]),
    (4732, "added-member-to-group", IAM, &["group", "change"]),
    (4733, "removed-member-from-group", IAM, &["group", "change"]),
    (4734, "deleted-group-account", IAM, &["group", "deletion"]),
    (4735, "modified-group-account", IAM, &["group", "change"]),
    (4737, "modified-group-account", IAM, &["group", "change"]),
    (4738, "modified-user-account", IAM, &["user", "change"]),
    (4739, "domain-policy-changed", CONF, &["change"]),
    (4740, "locked-out-user-account", IAM, &["user", "change"]),
    (4741, "added-computer-account", IAM, &["creation", "admin"]),
    (4742, "changed-computer-account", IAM, &["change", "admin"]),
    (4743, "deleted-computer-account", IAM, &["deletion", "admin"]),
    (4744, "added-distribution-group-account", IAM, &["group", "creation"]),
    (4745, "changed-distribution-group-account", IAM, &["group", "change"]),
    (4746, "added-member-to-distribution-group", IAM, &["group", "change"]),
    (4747, "removed-member-from-distribution-group", IAM, &["group", "change"]),
    (4748, "deleted-distribution-group-account", IAM, &["group", "deletion"]),
    (4749, "added-distribution-group-account", IAM, &["group", "creation"]),
    (4750, "changed-distribution-group-account", IAM, &["group", "change"]),
    (4751, "added-member-to-distribution-group", IAM, &["group", "change"]),
    (4752, "removed-member-from-distribution-group", IAM, &["group", "change"]),
    (4753, "deleted-distribution-group-account", IAM, &["group", "deletion"]),
    (4754, "added-group-account", IAM, &["group", "creation"]),
    (4755, "modified-group-account", IAM, &["group", "change"]),
    (4756, "added-member-to-group", IAM, &["group", "change"]),
    (4757, "removed-member-from-group", IAM, &["group", "change"]),
    (4758, "deleted-group-account", IAM, &["group", "deletion"]),
    (4759, "added-distribution-group-account", IAM, &["group", "creation"]),
    (4760, "changed-distribution-group-account", IAM, &["group", "change"]),
    (4761, "added-member-to-distribution-group", IAM, &["group", "change"]),
    (4762, "removed-member-from-distribution-group", IAM, &["group", "change"]),
    (4763, "deleted-distribution-group-account", IAM, &["group", "deletion"]),
    (4764, "type-changed-group-account", IAM, &["group", "change"]),
    (4767, "unlocked-user-account", IAM, &["user", "change"]),
    (4768, "kerberos-authentication-ticket-requested", AUTH, &["start"]),
    (4769, "kerberos-service-ticket-requested", AUTH, &["start"]),
    (4770, "kerberos-service-ticket-renewed", AUTH, &["start"]),
    (4771, "kerberos-preauth-failed", AUTH, &["start"]),
    (4776, "credential-validated", AUTH, &["start"]),
    (4778, "session-reconnected", AUTH_SESSION, &["start"]),
    (4779, "session-disconnected", AUTH_SESSION, &["end"]),
    (4781, "renamed-user-account", IAM, &["user", "change"]),
    (4798, "group-membership-enumerated", IAM, &["user", "info"]),
    (4799, "user-member-enumerated", IAM, &["group", "info"]),
    (4817, "object-audit-changed", IAM_CONF, &["admin", "change"]),
    (4902, "user-audit-policy-created", IAM_CONF, &["admin", "creation"]),
    (4904, "security-event-source-added", IAM_CONF, &["admin", "change"]),
    (4905, "security-event-source-removed", IAM_CONF, &["admin", "deletion"]),
    (4906, "crash-on-audit-changed", IAM_CONF, &["admin", "change"]),
    (4907, "audit-setting-changed", IAM_CONF, &["admin", "change"]),
    (4908, "special-group-table-changed", IAM_CONF, &["admin", "change"]),
    (4912, "per-user-audit-policy-changed", IAM_CONF, &["admin", "change"]),
    (4964, "logged-in-special", IAM, &["admin", "group"]),
    (5024, "windows-firewall-service-started", PROCESS, &["start"]),
    (5025, "windows-firewall-service-stopped", PROCESS, &["end"]),
];

/// Logon events: the user is the account logged on (`Target*`).
const LOGON: &[u32] = &[4624, 4625, 4634, 4647, 4768, 4769, 4770, 4771, 4776, 4964];
/// The subject acts as the target account (`user.effective`).
const EFFECTIVE: &[u32] = &[4648, 4688];
/// Account management: the subject acts on the target account (`user.target`).
const ACCOUNT: &[u32] = &[4670, 4720, 4722, 4723, 4724, 4725, 4726, 4738, 4740, 4767, 4798];
/// Group management: the subject acts on a group (`group.*`) and a member (`user.target`).
const GROUP: &[u32] = &[
    4727, 4728, 4729, 4730, 4731, 4732, 4733, 4734, 4735, 4737, 4744, 4745, 4746, 4747, 4748, 4749, 4750,
    4751, 4752, 4753, 4754, 4755, 4756, 4757, 4758, 4759, 4760, 4761, 4762, 4763, 4764, 4799,
];
/// Events whose `Status` is `0x0` on success and an error code on failure.
const STATUS_OUTCOME: &[u32] = &[4768, 4769, 4770, 4776];

/// `LogonType` names.
const LOGON_TYPES: &[(&str, &str)] = &[
    ("0", "System"),
    ("2", "Interactive"),
    ("3", "Network"),
    ("4", "Batch"),
    ("5", "Service"),
    ("7", "Unlock"),
    ("8", "NetworkCleartext"),
    ("9", "NewCredentials"),
    ("10", "RemoteInteractive"),
    ("11", "CachedInteractive"),
    ("12", "CachedRemoteInteractive"),
    ("13", "CachedUnlock"),
];

/// `FailureReason` message ids (msobjs.dll) of failed logons.
const FAILURE_REASONS: &[(&str, &str)] = &[
    ("%%2304", "An Error occured during Logon."),
    ("%%2305", "The specified user account has expired."),
    ("%%2306", "The NetLogon component is not active."),
    ("%%2307", "Account locked out."),
    (
        "%%2308",
        "The user has not been granted the requested logon type at this machine.",
    ),
    ("%%2309", "The specified account's password has expired."),
    ("%%2310", "Account currently disabled."),
    ("%%2311", "Account logon time restriction violation."),
    ("%%2312", "User not allowed to logon at this computer."),
    ("%%2313", "Unknown user name or bad password."),
    ("%%2314", "Domain sid inconsistent."),
    ("%%2315", "Smartcard logon is required and was not used."),
];

/// `ServiceType` codes of service installs.
const SERVICE_TYPES: &[(u64, &str)] = &[
    (0x1, "Kernel Driver"),
    (0x2, "File System Driver"),
    (0x8, "Recognizer Driver"),
    (0x10, "Win32 Own Process"),
    (0x20, "Win32 Share Process"),
    (0x110, "Interactive Own Process"),
    (0x120, "Interactive Share Process"),
];

fn lookup<K: PartialEq, V: Copy>(table: &[(K, V)], key: K) -> Option<V> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// A Security channel event.
pub(super) fn map(out: &mut Out, code: u32, d: &Fields, user_data: &Fields) {
    if let Some((_, action, categories, types)) = ACTIONS.iter().find(|(c, ..)| *c == code) {
        out.set("event.action", json!(action));
        out.set("event.category", json!(categories));
        out.set("event.type", json!(types));
    }
    outcome(out, code, d);
    users(out, code, d, user_data);
    logon(out, code, d, user_data);
    process(out, code, d);
    out.ip("source.ip", d.first(&["IpAddress"]));
    out.port("source.port", d.get("IpPort"));
    out.str("source.domain", d.first(&["WorkstationName", "Workstation"]));
    if code == 4697 {
        service(out, d);
    }
}

/// A System channel event: service installs (7045) get the ECS fields of
/// the Security channel's 4697.
pub(super) fn map_system(out: &mut Out, code: u32, d: &Fields) {
    if code == 7045 {
        out.set("event.action", json!("service-installed"));
        out.set("event.category", json!(IAM_CONF));
        out.set("event.type", json!(["admin", "change"]));
        service(out, d);
        out.qualified_user("user", d.get("AccountName"));
    }
}

fn service(out: &mut Out, d: &Fields) {
    out.str("service.name", d.get("ServiceName"));
    if let Some(t) = d.get("ServiceType") {
        let name = number(t).and_then(|n| lookup(SERVICE_TYPES, n));
        out.str("service.type", Some(name.unwrap_or(t)));
    }
}

fn outcome(out: &mut Out, code: u32, d: &Fields) {
    let failed = match code {
        4625 | 4771 => Some(true),
        c if STATUS_OUTCOME.contains(&c) => d.get("Status").map(|s| number(s) != Some(0)),
        _ => None,
    };
    if let Some(failed) = failed {
        out.set("event.outcome", json!(if failed { "failure" } else { "success" }));
    }
}

fn subject(out: &mut Out, d: &Fields) {
    out.user(
        "user",
        d.get("SubjectUserName"),
        d.get("SubjectDomainName"),
        d.get("SubjectUserSid"),
    );
}

fn target(out: &mut Out, prefix: &str, d: &Fields) {
    out.user(
        prefix,
        d.get("TargetUserName"),
        d.get("TargetDomainName"),
        d.first(&["TargetUserSid", "TargetSid"]),
    );
}

fn users(out: &mut Out, code: u32, d: &Fields, user_data: &Fields) {
    if LOGON.contains(&code) {
        target(out, "user", d);
        if let Some(name) = d.get("SubjectUserName") {
            out.related_user(name);
        }
    } else if EFFECTIVE.contains(&code) {
        subject(out, d);
        target(out, "user.effective", d);
    } else if ACCOUNT.contains(&code) {
        subject(out, d);
        target(out, "user.target", d);
    } else if code == 4781 {
        subject(out, d);
        out.user(
            "user.target",
            d.get("OldTargetUserName"),
            d.get("TargetDomainName"),
            d.get("TargetSid"),
        );
        if let Some(new) = d.get("NewTargetUserName") {
            out.set("user.changes.name", json!(new));
            out.related_user(new);
        }
    } else if GROUP.contains(&code) {
        subject(out, d);
        out.str("group.name", d.get("TargetUserName"));
        out.str("group.domain", d.get("TargetDomainName"));
        out.str("group.id", d.first(&["TargetSid", "TargetUserSid"]));
        // MemberName is a distinguished name: CN=name,OU=…,DC=…
        let member = d.get("MemberName").map(|dn| {
            let first = dn.split(',').next().unwrap_or(dn);
            first
                .strip_prefix("CN=")
                .or_else(|| first.strip_prefix("cn="))
                .unwrap_or(first)
        });
        out.user("user.target", member, None, d.get("MemberSid"));
    } else if matches!(code, 4778 | 4779) {
        out.user("user", d.get("AccountName"), d.get("AccountDomain"), None);
        out.ip("source.ip", d.get("ClientAddress"));
        out.str("source.domain", d.get("ClientName"));
    } else if code == 1102 {
        out.user(
            "user",
            user_data.get("SubjectUserName"),
            user_data.get("SubjectDomainName"),
            user_data.get("SubjectUserSid"),
        );
    } else {
        subject(out, d);
    }
}

fn logon(out: &mut Out, code: u32, d: &Fields, user_data: &Fields) {
    if let Some(t) = d.get("LogonType") {
        let name = lookup(LOGON_TYPES, t).unwrap_or(t);
        out.set("winlog.logon.type", json!(name));
    }
    let id = match code {
        4624 | 4634 | 4647 | 4964 => d.get("TargetLogonId"),
        1102 => user_data.get("SubjectLogonId"),
        4778 | 4779 => d.get("LogonID"),
        _ => d.get("SubjectLogonId"),
    };
    out.str("winlog.logon.id", id);
    if code == 4625 || out.get_str("event.outcome") == Some("failure") {
        if let Some(reason) = d.get("FailureReason") {
            let text = lookup(FAILURE_REASONS, reason).unwrap_or(reason);
            out.set("winlog.logon.failure.reason", json!(text));
        }
        out.str("winlog.logon.failure.status", d.get("Status"));
        out.str("winlog.logon.failure.sub_status", d.get("SubStatus"));
    }
}

fn process(out: &mut Out, code: u32, d: &Fields) {
    if code == 4688 {
        out.num("process.pid", d.get("NewProcessId"));
        out.executable("process", d.get("NewProcessName"));
        out.str("process.command_line", d.get("CommandLine"));
        out.num("process.parent.pid", d.get("ProcessId"));
        out.executable("process.parent", d.get("ParentProcessName"));
    } else {
        out.num("process.pid", d.get("ProcessId"));
        out.executable("process", d.get("ProcessName"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_unique_ids() {
        for (i, (code, ..)) in ACTIONS.iter().enumerate() {
            assert!(ACTIONS[i + 1..].iter().all(|(c, ..)| c != code), "{code} twice");
        }
        assert_eq!(lookup(LOGON_TYPES, "10"), Some("RemoteInteractive"));
        assert_eq!(lookup(SERVICE_TYPES, 0x10), Some("Win32 Own Process"));
    }
}
