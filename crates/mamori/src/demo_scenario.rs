//! The demo's other sources, each in its real wire format: acme's GuardDuty
//! findings and VPC Flow Logs, globex's firewall syslog (CEF), Apache access
//! log and Windows events, initech's firewall that falls silent halfway.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::json;

use crate::corpus::Rng;
use crate::demo::{ATTACKER, access_key};

const ACME_ACCOUNT: &str = "111122223333";

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(path.parent().context("a parent folder")?)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Write lines (each ending in a newline) in time order, as devices log them.
fn write_sorted(path: &Path, mut lines: Vec<(DateTime<Utc>, String)>) -> anyhow::Result<()> {
    lines.sort_by_key(|(t, _)| *t);
    let text: String = lines.into_iter().map(|(_, l)| l).collect();
    write(path, &text)
}

/// Write every source of the scenario under `dir/<tenant>/`.
pub fn write_all(
    dir: &Path,
    rng: &mut Rng,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    total: u32,
) -> anyhow::Result<()> {
    let incident = now - Duration::hours(5);
    guardduty(dir, incident)?;
    vpcflow(dir, rng, start, now, total / 4, incident)?;
    globex_firewall(dir, rng, start, now, total / 2)?;
    globex_web(dir, rng, start, now, total)?;
    globex_windows(dir, rng, start, now, total / 4)?;
    initech(dir, rng, start, now, total / 2)?;
    Ok(())
}

/// GuardDuty findings AWS raises for the leaked key (raw findings, one per line).
fn guardduty(dir: &Path, incident: DateTime<Utc>) -> anyhow::Result<()> {
    let findings = [
        (
            "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
            5.0,
            "iam.amazonaws.com",
            "ListUsers",
            0,
        ),
        (
            "Discovery:IAMUser/AnomalousBehavior",
            5.0,
            "ec2.amazonaws.com",
            "DescribeInstances",
            6,
        ),
        (
            "Stealth:IAMUser/CloudTrailLoggingDisabled",
            2.0,
            "cloudtrail.amazonaws.com",
            "StopLogging",
            18,
        ),
        (
            "Exfiltration:S3/AnomalousBehavior",
            8.0,
            "s3.amazonaws.com",
            "GetObject",
            35,
        ),
    ];
    let mut out = String::new();
    for (i, (kind, sev, service, api, minutes)) in findings.iter().enumerate() {
        let t = (incident + Duration::minutes(*minutes)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let f = json!({
            "schemaVersion": "2.0", "accountId": ACME_ACCOUNT, "region": "eu-west-1", "partition": "aws",
            "id": format!("d0c0ffee{i:024x}"), "arn": format!("arn:aws:guardduty:eu-west-1:{ACME_ACCOUNT}:detector/demo/finding/d0c0ffee{i:024x}"),
            "type": kind, "severity": sev, "createdAt": t, "updatedAt": t,
            "title": format!("{api} invoked from a suspicious IP address by bob"),
            "description": format!("API {api} was invoked from the IP address {ATTACKER}, which is on a custom threat list."),
            "resource": {"resourceType": "AccessKey", "accessKeyDetails": {"accessKeyId": access_key("bob"), "principalId": "AIDABOB", "userName": "bob", "userType": "IAMUser"}},
            "service": {"serviceName": "guardduty", "detectorId": "demo", "count": 1 + i, "eventFirstSeen": t, "eventLastSeen": t,
                "action": {"actionType": "AWS_API_CALL", "awsApiCallAction": {"api": api, "serviceName": service, "callerType": "Remote IP",
                    "remoteIpDetails": {"ipAddressV4": ATTACKER, "country": {"countryName": "Netherlands"}, "organization": {"asn": "64500", "asnOrg": "Example Hosting"}}}}}
        });
        writeln!(out, "{f}")?;
    }
    write(&dir.join("acme/GuardDuty/findings.jsonl"), &out)
}

/// VPC Flow Logs (v2 default) with background traffic and the exfiltration flows.
fn vpcflow(
    dir: &Path,
    rng: &mut Rng,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    n: u32,
    incident: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut out = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    let span = (now - start).num_seconds().max(1) as usize;
    for _ in 0..n {
        let t = start.timestamp() + rng.below(span) as i64;
        let (src, dst, port, action) = if rng.below(10) == 0 {
            (
                format!("203.0.113.{}", 100 + rng.below(50)),
                "10.0.1.15".to_string(),
                22,
                "REJECT",
            )
        } else {
            (
                "10.0.1.15".to_string(),
                format!("52.95.{}.{}", rng.below(255), 1 + rng.below(250)),
                443,
                "ACCEPT",
            )
        };
        writeln!(
            out,
            "2 {ACME_ACCOUNT} eni-0a1b2c3d4e5f00001 {src} {dst} {} {port} 6 {} {} {t} {} {action} OK",
            1024 + rng.below(60000),
            5 + rng.below(50),
            500 + rng.below(90000),
            t + 60
        )?;
    }
    for i in 0..6 {
        let t = (incident + Duration::minutes(36 + i)).timestamp();
        writeln!(
            out,
            "2 {ACME_ACCOUNT} eni-0a1b2c3d4e5f00001 10.0.1.15 {ATTACKER} 443 {} 6 9000 {} {t} {} ACCEPT OK",
            50000 + i,
            12_000_000 + i * 1000,
            t + 60
        )?;
    }
    write(&dir.join("acme/vpcflow/eni-0a1b2c3d4e5f00001.log"), &out)
}

fn cef_line(t: DateTime<Utc>, host: &str, class: &str, name: &str, sev: u8, ext: &str) -> String {
    format!(
        "<134>{} {host} CEF:0|Globex|EdgeFW|7.2|{class}|{name}|{sev}|{ext}\n",
        t.format("%b %e %H:%M:%S")
    )
}

/// globex's firewall: background allow/deny, then a VPN brute force and a success.
fn globex_firewall(
    dir: &Path,
    rng: &mut Rng,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    n: u32,
) -> anyhow::Result<()> {
    let span = (now - start).num_seconds().max(1) as usize;
    let mut lines: Vec<(DateTime<Utc>, String)> = Vec::new();
    for _ in 0..n {
        let t = start + Duration::seconds(rng.below(span) as i64);
        let deny = rng.below(5) == 0;
        let ext = format!(
            "rt={} src=192.0.2.{} dst=10.10.0.{} spt={} dpt={} proto=TCP act={} outcome={}",
            t.timestamp_millis(),
            1 + rng.below(60),
            1 + rng.below(20),
            1024 + rng.below(60000),
            [443, 80, 22, 3389][rng.below(4)],
            if deny { "deny" } else { "allow" },
            if deny { "failure" } else { "success" }
        );
        lines.push((t, cef_line(t, "fw-edge-01", "100", "traffic", 3, &ext)));
    }
    let attack = now - Duration::hours(30);
    for i in 0..40 {
        let t = attack + Duration::seconds(i * 9);
        let user = ["admin", "administrator", "vpn", "jsmith"][i as usize % 4];
        let ext = format!(
            "rt={} src={ATTACKER} dst=10.10.0.1 dpt=443 suser={user} act=login outcome=failure msg=VPN authentication failed",
            t.timestamp_millis()
        );
        lines.push((
            t,
            cef_line(t, "fw-edge-01", "vpn-auth", "VPN login failed", 6, &ext),
        ));
    }
    let t = attack + Duration::seconds(400);
    let ext = format!(
        "rt={} src={ATTACKER} dst=10.10.0.1 dpt=443 suser=jsmith act=login outcome=success msg=VPN tunnel established",
        t.timestamp_millis()
    );
    lines.push((
        t,
        cef_line(t, "fw-edge-01", "vpn-auth", "VPN login succeeded", 8, &ext),
    ));
    write_sorted(&dir.join("globex/firewall/edge.log"), lines)
}

/// globex's Apache access log: shoppers, then SQL injection and traversal probes, one that works.
fn globex_web(
    dir: &Path,
    rng: &mut Rng,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    n: u32,
) -> anyhow::Result<()> {
    let span = (now - start).num_seconds().max(1) as usize;
    let paths = [
        "/",
        "/login",
        "/api/orders",
        "/static/app.js",
        "/search?q=shoes",
        "/cart",
    ];
    let mut lines: Vec<(DateTime<Utc>, String)> = Vec::new();
    let line = |t: DateTime<Utc>, ip: &str, req: &str, status: u16, bytes: usize, ua: &str| {
        format!(
            "{ip} - - [{}] \"GET {req} HTTP/1.1\" {status} {bytes} \"-\" \"{ua}\"\n",
            t.format("%d/%b/%Y:%H:%M:%S +0000")
        )
    };
    for _ in 0..n {
        let t = start + Duration::seconds(rng.below(span) as i64);
        let ip = format!("198.18.{}.{}", rng.below(200), 1 + rng.below(250));
        let status = [200, 200, 200, 200, 304, 404, 500][rng.below(7)];
        lines.push((
            t,
            line(
                t,
                &ip,
                paths[rng.below(paths.len())],
                status,
                rng.below(40_000),
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            ),
        ));
    }
    let probe = now - Duration::hours(20);
    let probes = [
        ("/search?q=1'%20OR%20'1'='1", 500, 312),
        ("/search?q=1%27%20union%20select%20null--", 500, 298),
        ("/../../../../etc/passwd", 404, 196),
        ("/static/..%2f..%2f..%2fetc%2fpasswd", 404, 196),
        (
            "/api/orders?id=1%20union%20select%20username,password%20from%20users--",
            200,
            48_213,
        ),
    ];
    for (i, (req, status, bytes)) in probes.iter().enumerate() {
        let t = probe + Duration::minutes(i as i64);
        lines.push((
            t,
            line(
                t,
                ATTACKER,
                req,
                *status,
                *bytes,
                "sqlmap/1.7.2#stable (https://sqlmap.org)",
            ),
        ));
    }
    write_sorted(&dir.join("globex/web/access.log"), lines)
}

/// globex's Windows events (as winlogbeat ships them: NDJSON with ECS names):
/// logons, a new local account, and encoded PowerShell on WS-042.
fn globex_windows(
    dir: &Path,
    rng: &mut Rng,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    n: u32,
) -> anyhow::Result<()> {
    let span = (now - start).num_seconds().max(1) as usize;
    let mut lines: Vec<(DateTime<Utc>, String)> = Vec::new();
    let ev = |t: DateTime<Utc>, host: &str, code: u32, extra: serde_json::Value| {
        let mut v = json!({
            "@timestamp": t.to_rfc3339_opts(SecondsFormat::Millis, true),
            "event": {"code": code.to_string(), "module": "windows", "dataset": if code == 1 || code == 3 { "windows.sysmon_operational" } else { "windows.security" }},
            "host": {"name": host},
            "winlog": {"event_id": code.to_string(), "computer_name": host, "channel": if code == 1 || code == 3 { "Microsoft-Windows-Sysmon/Operational" } else { "Security" }}
        });
        merge(&mut v, &extra);
        v.to_string()
    };
    for _ in 0..n {
        let t = start + Duration::seconds(rng.below(span) as i64);
        let host = format!("WS-{:03}", rng.below(60));
        let user = ["jsmith", "mlee", "akumar", "svc-backup"][rng.below(4)];
        lines.push((t, ev(t, &host, 4624, json!({"user": {"name": user}, "event": {"code": "4624", "action": "logged-in", "outcome": "success"}, "source": {"ip": "10.10.0.5"}}))));
    }
    let t0 = now - Duration::hours(29);
    let host = "WS-042";
    lines.push((t0, ev(t0, host, 4624, json!({"user": {"name": "jsmith"}, "event": {"code": "4624", "action": "logged-in", "outcome": "success"}, "source": {"ip": "10.10.0.200"}, "winlog": {"event_id": "4624", "computer_name": host, "channel": "Security", "logon": {"type": "RemoteInteractive"}}}))));
    let enc = "JABjAD0ATgBlAHcALQBPAGIAagBlAGMAdAAgAE4AZQB0AC4AVwBlAGIAQwBsAGkAZQBuAHQA";
    let t1 = t0 + Duration::minutes(4);
    let ps = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
    let cmd = format!("powershell.exe -nop -w hidden -enc {enc}");
    // winlogbeat keeps the Sysmon fields under winlog.event_data next to their ECS copies
    lines.push((t1, ev(t1, host, 1, json!({"user": {"name": "jsmith"}, "event": {"code": "1", "action": "Process Create (rule: ProcessCreate)"},
        "process": {"name": "powershell.exe", "executable": ps, "command_line": cmd,
            "parent": {"executable": "C:\\Windows\\explorer.exe"}},
        "winlog": {"event_data": {"Image": ps, "CommandLine": cmd, "ParentImage": "C:\\Windows\\explorer.exe", "User": "GLOBEX\\jsmith"}}}))));
    let t2 = t1 + Duration::seconds(20);
    lines.push((t2, ev(t2, host, 3, json!({"event": {"code": "3", "action": "Network connection detected"}, "process": {"executable": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"},
        "source": {"ip": "10.10.0.200", "port": 49811}, "destination": {"ip": ATTACKER, "port": 443}}))));
    let t3 = t1 + Duration::minutes(3);
    lines.push((t3, ev(t3, host, 4720, json!({"user": {"name": "jsmith", "target": {"name": "support_tmp"}}, "event": {"code": "4720", "action": "added-user-account"}}))));
    let lines = lines.into_iter().map(|(t, l)| (t, l + "\n")).collect();
    write_sorted(&dir.join("globex/windows/events.ndjson"), lines)
}

/// Merge `extra` into `v`, objects key by key.
fn merge(v: &mut serde_json::Value, extra: &serde_json::Value) {
    match (v, extra) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, x) in b {
                merge(a.entry(k.clone()).or_insert(serde_json::Value::Null), x);
            }
        }
        (slot, x) => *slot = x.clone(),
    }
}

/// initech: ordinary firewall traffic that stops halfway through the period.
fn initech(
    dir: &Path,
    rng: &mut Rng,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    n: u32,
) -> anyhow::Result<()> {
    let half = (now - start).num_seconds().max(2) as usize / 2;
    let mut lines: Vec<(DateTime<Utc>, String)> = Vec::new();
    for _ in 0..n {
        let t = start + Duration::seconds(rng.below(half) as i64);
        let ext = format!(
            "rt={} src=10.30.0.{} dst=172.16.{}.{} dpt={} proto=TCP act=allow outcome=success",
            t.timestamp_millis(),
            1 + rng.below(200),
            rng.below(20),
            1 + rng.below(250),
            [443, 53, 80][rng.below(3)]
        );
        lines.push((t, cef_line(t, "initech-fw", "100", "traffic", 2, &ext)));
    }
    write_sorted(&dir.join("initech/firewall/fw.log"), lines)
}
