//! `mamori demo`: a small, deterministic three-tenant data set written in the
//! sources' real wire formats (CloudTrail in the S3 key layout, GuardDuty
//! findings, VPC Flow Logs, firewall syslog with CEF, Apache access logs,
//! Windows events), ingested through the normal pipeline. See docs/tour.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Duration, SecondsFormat, Timelike, Utc};
use clap::Args;
use flate2::Compression;
use flate2::write::GzEncoder;
use mamori_server::rules::{DetectionConfig, RuleEngine};
use mamori_server::state::{Role, TenantAccess};
use mamori_store::LocalStore;

use crate::corpus::Rng;
use serde_json::{Value, json};

/// Arguments of `mamori demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Seed of the generator (same seed, same data).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Background events per tenant per day.
    #[arg(long, default_value_t = 1500)]
    pub events_per_day: u32,
    /// Only prepare the data; do not start the server.
    #[arg(long)]
    pub no_serve: bool,
    /// Server options (`--listen`, `--config`), as for `mamori serve`.
    #[command(flatten)]
    pub serve: crate::serve_cmd::ServeArgs,
}

/// The demo's Sigma rules (written into the data directory, run at ingest and by the server).
const DEMO_RULES: [(&str, &str); 4] = [
    (
        "aws_cloudtrail_logging_stopped.yml",
        include_str!("../demo-rules/aws_cloudtrail_logging_stopped.yml"),
    ),
    (
        "aws_iam_admin_policy_attached.yml",
        include_str!("../demo-rules/aws_iam_admin_policy_attached.yml"),
    ),
    (
        "win_encoded_powershell.yml",
        include_str!("../demo-rules/win_encoded_powershell.yml"),
    ),
    (
        "web_sql_injection_probe.yml",
        include_str!("../demo-rules/web_sql_injection_probe.yml"),
    ),
];

/// Write the demo rules into `<data>/demo-rules` and load them.
fn demo_rules(data_dir: &Path) -> anyhow::Result<(PathBuf, std::sync::Arc<RuleEngine>)> {
    let dir = data_dir.join("demo-rules");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in DEMO_RULES {
        std::fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    let engine = RuleEngine::load(&DetectionConfig {
        rules: vec![dir.clone()],
        mappings: Vec::new(),
    })
    .map_err(|e| anyhow::anyhow!(e))?
    .context("the demo rules did not load")?;
    anyhow::ensure!(
        engine.errors.is_empty() && engine.rule_count() == DEMO_RULES.len(),
        "demo rules refused: {:?}",
        engine.errors
    );
    Ok((dir, engine))
}

/// The demo's users: (name, role, tenants, password). Demo only: the passwords are public.
const DEMO_USERS: [(&str, Role, &str, &str); 2] = [
    ("admin", Role::Admin, "*", "mamori-demo"),
    ("acme-soc", Role::Customer, "acme", "acme-demo"),
];

/// Run `mamori demo`.
pub fn run(data_dir: &Path, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if args.no_serve {
        crate::init_logging(false, false);
    }
    let input = data_dir.join("demo-input");
    let now = Utc::now().with_nanosecond(0).unwrap_or_else(Utc::now);
    if !input.exists() {
        eprintln!("writing demo logs to {}", input.display());
        generate(&input, args, now)?;
    } else {
        eprintln!("reusing demo logs in {}", input.display());
    }
    let (rules_dir, rules) = demo_rules(data_dir)?;
    let marker = input.join(".ingested");
    if marker.exists() {
        eprintln!(
            "demo data already ingested (delete {} to ingest again)",
            marker.display()
        );
    } else {
        ingest(data_dir, &input, &rules)?;
        std::fs::write(&marker, now.to_rfc3339()).context("writing the demo marker")?;
    }
    demo_users(data_dir)?;
    let dd = data_dir.display();
    println!("Demo data is ready in {dd} (tenants acme, globex, initech). Try:");
    println!("  mamori --data-dir {dd} search --tenant acme --from -7d 'event.kind:alert'");
    println!(
        "  mamori --data-dir {dd} search --tenant acme --from -7d --agg terms:source.ip 'not source.ip:@office'"
    );
    println!("  mamori --data-dir {dd} search --tenant globex --from -7d --facets 'source.ip:198.51.100.77'");
    println!("Then investigate the incident step by step: docs/tour.md");
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    serve(data_dir, &args.serve, rules_dir)
}

/// Create the demo users when missing (never changes existing ones).
fn demo_users(data_dir: &Path) -> anyhow::Result<()> {
    let mut db = crate::config_cmd::state(data_dir)?;
    let actor = mamori_server::Actor {
        name: "demo".into(),
        origin: "cli".into(),
    };
    for (name, role, tenants, password) in DEMO_USERS {
        if db.user(name)?.is_none() {
            let access = TenantAccess::from_list(&[tenants.to_string()]);
            db.add_user(&actor, name, role, &access, Some(password))?;
        }
    }
    Ok(())
}

/// Serve the demo data until Ctrl-C, printing where and how to log in.
fn serve(data_dir: &Path, args: &crate::serve_cmd::ServeArgs, rules: PathBuf) -> anyhow::Result<ExitCode> {
    let mut cfg = crate::serve_cmd::load_config(Some(data_dir), args)?;
    if cfg.detection.rules.is_empty() {
        cfg.detection.rules = vec![rules];
    }
    crate::init_logging(true, cfg.log_format == "json");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let running = mamori_server::serve::start(cfg).await?;
        let base = format!("http://{}", running.addr);
        println!();
        println!("Mamori is serving the demo at {base}");
        for (name, role, tenants, password) in DEMO_USERS {
            println!("  log in as {name} / {password}  ({role}, tenants {tenants})");
        }
        println!("First searches over the API (token: `mamori token create --user admin --name me`):");
        println!(
            "  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{\"tenants\":[\"acme\"],\"query\":\"event.kind:alert\",\"from\":\"-7d\"}}' {base}/api/v1/search"
        );
        println!("Stop with Ctrl-C.");
        crate::serve_cmd::until_stopped().await;
        running.shutdown().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Ingest the generated logs of every tenant and create their context lists.
fn ingest(data_dir: &Path, input: &Path, rules: &RuleEngine) -> anyhow::Result<()> {
    let store = LocalStore::open(crate::events_dir(data_dir))?;
    for tenant in ["acme", "globex", "initech"] {
        let s = crate::ingest::ingest_paths(
            &store,
            data_dir,
            &[input.join(tenant)],
            &crate::ingest::IngestJob {
                tenant,
                format: None,
                commit_every: 200_000,
                progress: false,
                rules: Some(rules),
            },
        )?;
        eprintln!(
            "{tenant}: {} events read from {} files, {} new, {} already present, {} rejected, {} detections",
            s.events, s.files, s.stored.added, s.stored.duplicates, s.rejected, s.detections
        );
    }
    store.close()?;
    let mut db = crate::config_cmd::state(data_dir)?;
    let actor = mamori_server::Actor {
        name: "demo".into(),
        origin: "cli".into(),
    };
    let lists: [(&str, &str, &[&str], &str); 3] = [
        (
            "acme",
            "office",
            &["203.0.113.0/24", "10.20.1.5/32"],
            "HQ egress range and the VPN concentrator",
        ),
        (
            "acme",
            "admins",
            &["alice", "carol"],
            "people allowed to change IAM",
        ),
        ("globex", "office", &["192.0.2.0/26"], "branch offices"),
    ];
    for (tenant, name, entries, description) in lists {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        db.set_context_list(&actor, tenant, name, &entries, Some(description))?;
    }
    Ok(())
}

const ACCOUNT: &str = "111122223333";
const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "dave",
    "svc-backup",
    "svc-deploy",
    "ci-runner",
];
const OFFICE: &[&str] = &["203.0.113.10", "203.0.113.11", "203.0.113.12", "10.20.1.5"];
const ACTIONS: &[(&str, &str)] = &[
    ("s3.amazonaws.com", "GetObject"),
    ("s3.amazonaws.com", "PutObject"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("iam.amazonaws.com", "ListUsers"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("sts.amazonaws.com", "GetCallerIdentity"),
    ("kms.amazonaws.com", "Decrypt"),
    ("signin.amazonaws.com", "ConsoleLogin"),
];
/// The demo's (stable) access key of an IAM user.
pub(crate) fn access_key(user: &str) -> String {
    format!(
        "AKIA{:016X}",
        (user.len() as u64) * 0x1F2E3D4C5B6A + user.bytes().map(u64::from).sum::<u64>()
    )
}

/// The attacker's address in every tenant's incident.
pub const ATTACKER: &str = "198.51.100.77";

fn cloudtrail_record(
    rng: &mut Rng,
    t: DateTime<Utc>,
    user: &str,
    ip: &str,
    source: &str,
    action: &str,
    error: Option<&str>,
) -> Value {
    let key = access_key(user);
    let mut r = json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": format!("AIDA{}", user.to_uppercase().replace('-', "")),
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            "accountId": ACCOUNT,
            "accessKeyId": key,
            "userName": user
        },
        "eventTime": t.to_rfc3339_opts(SecondsFormat::Secs, true),
        "eventSource": source,
        "eventName": action,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 botocore/2.0",
        "requestParameters": if source == "s3.amazonaws.com" { json!({"bucketName": "acme-finance-reports", "key": format!("q{}/report.pdf", rng.below(4) + 1)}) } else { Value::Null },
        "responseElements": Value::Null,
        "requestID": rng.uuid(),
        "eventID": rng.uuid(),
        "readOnly": action.starts_with("Get") || action.starts_with("List") || action.starts_with("Describe"),
        "eventType": "AwsApiCall",
        "managementEvent": source != "s3.amazonaws.com",
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    });
    if let Some(code) = error {
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!(format!(
            "User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action}"
        ));
    }
    r
}

fn generate(dir: &Path, args: &DemoArgs, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut rng = Rng::new(args.seed);
    let start = now - Duration::days(i64::from(args.days));
    // acme: CloudTrail, one file per hour as AWS delivers them.
    let mut by_hour: std::collections::BTreeMap<DateTime<Utc>, Vec<Value>> = Default::default();
    let total = args.days * args.events_per_day;
    for _ in 0..total {
        let t = start + Duration::seconds(rng.below((args.days as usize) * 86_400) as i64);
        let user = *rng.pick(USERS);
        let ip = *rng.pick(OFFICE);
        let (source, action) = *rng.pick(ACTIONS);
        let err = (rng.below(40) == 0).then_some("AccessDenied");
        let rec = cloudtrail_record(&mut rng, t, user, ip, source, action, err);
        by_hour.entry(hour(t)).or_default().push(rec);
    }
    // The incident: bob's key used from an unknown IP.
    let t0 = now - Duration::hours(5);
    let steps = [
        ("sts.amazonaws.com", "GetCallerIdentity", None),
        ("s3.amazonaws.com", "ListBuckets", None),
        ("ec2.amazonaws.com", "DescribeInstances", None),
        ("iam.amazonaws.com", "ListUsers", None),
        ("iam.amazonaws.com", "CreateAccessKey", None),
        ("iam.amazonaws.com", "AttachUserPolicy", None),
        ("cloudtrail.amazonaws.com", "StopLogging", Some("AccessDenied")),
        ("secretsmanager.amazonaws.com", "GetSecretValue", None),
    ];
    for (i, (source, action, err)) in steps.iter().enumerate() {
        let t = t0 + Duration::minutes(i as i64 * 3);
        let rec = cloudtrail_record(&mut rng, t, "bob", ATTACKER, source, action, *err);
        by_hour.entry(hour(t)).or_default().push(rec);
    }
    for i in 0..40 {
        let t = t0 + Duration::minutes(30) + Duration::seconds(i * 7);
        let rec = cloudtrail_record(
            &mut rng,
            t,
            "bob",
            ATTACKER,
            "s3.amazonaws.com",
            "GetObject",
            None,
        );
        by_hour.entry(hour(t)).or_default().push(rec);
    }
    for (h, mut records) in by_hour {
        records.sort_by(|a, b| a["eventTime"].as_str().cmp(&b["eventTime"].as_str()));
        let path = dir.join("acme").join(format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/{}/{ACCOUNT}_CloudTrail_eu-west-1_{}Z_demo.json.gz",
            h.format("%Y/%m/%d"),
            h.format("%Y%m%dT%H%M")
        ));
        write_gz(&path, &serde_json::to_vec(&json!({ "Records": records }))?)?;
    }
    crate::demo_scenario::write_all(dir, &mut rng, start, now, total)?;
    Ok(())
}

fn hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_minute(0).and_then(|t| t.with_second(0)).unwrap_or(t)
}

pub(crate) fn write_gz(path: &PathBuf, data: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(path.parent().expect("has parent"))?;
    let file = std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut gz = GzEncoder::new(file, Compression::fast());
    gz.write_all(data)?;
    gz.finish()?;
    Ok(())
}
