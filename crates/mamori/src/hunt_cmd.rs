//! `mamori hunt`: run Sigma rules over log files without storing anything,
//! and print a timeline of the detections (like Hayabusa or Chainsaw).
//!
//! Files are read in parallel (one worker per core pulls the next file,
//! largest first); each event goes through the [`Detector`] and only the
//! detections are kept, so memory stays bounded by the hits. Correlation
//! rules in the rule folders run over the detections in time order (the
//! events' times are the correlator's clock).

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Args;
use mamori_detect::{CorrelationAlert, Correlator, Detector, Level, Mappings, Rule, RuleMatch, RuleSet};
use mamori_formats::{Item, ParseContext, open_and_sniff, parse};
use mamori_model::Event;
use serde::Serialize;

use crate::ingest::expand_paths;
use mamori_server::export::csv_cell;

/// Arguments of `mamori hunt`.
#[derive(Args, Debug)]
pub struct HuntArgs {
    /// Sigma rules: a folder (read recursively) or a file; repeatable.
    #[arg(long, required = true)]
    pub rules: Vec<PathBuf>,
    /// Extra field/log-source mapping files (YAML), applied over the shipped ones.
    #[arg(long)]
    pub mapping: Vec<PathBuf>,
    /// Output: `table`, `csv` or `json` (one JSON object per line).
    #[arg(long, default_value = "table")]
    pub output: String,
    /// Only rules of this level or above (informational, low, medium, high, critical).
    #[arg(long, default_value = "informational")]
    pub min_level: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Files or folders of logs (EVTX, JSON, CloudTrail, … any format Mamori reads).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// One detection in the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The event's time.
    pub time: DateTime<Utc>,
    /// `host.name` (the computer).
    pub computer: String,
    /// `user.domain\user.name`, if known.
    pub account: String,
    /// The rule that fired.
    #[serde(skip)]
    pub rule: Arc<Rule>,
    /// The rule's fields with their values in the event (`field=value`).
    pub fields: Vec<(String, String)>,
    /// `event.id`.
    pub event_id: String,
    /// The file the event came from.
    pub file: String,
    /// The event, kept only for rules that correlation rules count.
    #[serde(skip)]
    pub event: Option<Arc<Event>>,
}

/// What a hunt found.
#[derive(Debug, Default)]
pub struct HuntReport {
    /// Detections, in time order.
    pub hits: Vec<Hit>,
    /// Files read.
    pub files: usize,
    /// Files skipped (not recognised or unreadable).
    pub skipped: Vec<(PathBuf, String)>,
    /// Events read.
    pub events: u64,
    /// Bad records.
    pub bad: u64,
}

/// Load rules from `dirs` with the shipped mappings plus `mapping_files`.
pub fn load_rules(dirs: &[PathBuf], mapping_files: &[PathBuf]) -> anyhow::Result<(RuleSet, Mappings)> {
    let mut mappings = Mappings::builtin();
    for m in mapping_files {
        mappings.add_file(m)?;
    }
    for d in dirs {
        std::fs::metadata(d).with_context(|| format!("cannot read rules {}", d.display()))?;
    }
    // One set, so that filters and correlations may name rules of any folder.
    let set = RuleSet::load_paths(dirs, &mappings).with_context(|| {
        let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        format!("cannot read rules {}", shown.join(", "))
    })?;
    Ok((set, mappings))
}

/// Run `detector` over `files` on `threads` workers; the events of hits of
/// the rules in `keep_events` (ids) are kept for correlation.
pub fn hunt_files(
    detector: &Detector,
    files: &[PathBuf],
    threads: usize,
    keep_events: &HashSet<String>,
) -> HuntReport {
    let mut order: Vec<(u64, &PathBuf)> = files
        .iter()
        .map(|p| (std::fs::metadata(p).map(|m| m.len()).unwrap_or(0), p))
        .collect();
    order.sort_by_key(|o| std::cmp::Reverse(o.0));
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, order.len().max(1));
    let parts: Vec<HuntReport> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut report = HuntReport::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((_, path)) = order.get(i) else { break };
                        hunt_file(detector, path, keep_events, &mut report);
                    }
                    report
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut out = HuntReport::default();
    for p in parts {
        out.hits.extend(p.hits);
        out.files += p.files;
        out.skipped.extend(p.skipped);
        out.events += p.events;
        out.bad += p.bad;
    }
    out.hits
        .sort_by(|a, b| (a.time, &a.file, &a.rule.title).cmp(&(b.time, &b.file, &b.rule.title)));
    out
}

fn hunt_file(detector: &Detector, path: &Path, keep_events: &HashSet<String>, report: &mut HuntReport) {
    let (format, input) = match open_and_sniff(path) {
        Ok(x) => x,
        Err(e) => {
            report.skipped.push((path.to_path_buf(), e.to_string()));
            return;
        }
    };
    report.files += 1;
    let name = path.display().to_string();
    let ctx = ParseContext::new("hunt", name.clone());
    for item in parse(format, input, &ctx) {
        match item {
            Item::Event(ev) => {
                report.events += 1;
                let mut shared: Option<Arc<Event>> = None;
                for m in detector.detect(&ev) {
                    let mut h = hit(&ev, m.rule, &name);
                    if keep_events.contains(&h.rule.id) {
                        h.event = Some(shared.get_or_insert_with(|| Arc::new((*ev).clone())).clone());
                    }
                    report.hits.push(h);
                }
            }
            Item::Bad(_) => report.bad += 1,
            Item::Warning(_) => {}
        }
    }
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn hit(ev: &Event, rule: Arc<Rule>, file: &str) -> Hit {
    let account = match (ev.get_str("user.domain"), ev.user_name()) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (None, Some(u)) => u.to_string(),
        _ => String::new(),
    };
    let mut fields = Vec::new();
    for f in rule.fields.iter().chain(&rule.detection_fields) {
        if fields.iter().any(|(k, _): &(String, String)| k == f) || fields.len() >= 6 {
            continue;
        }
        if let Some(v) = ev.values(f).first() {
            fields.push((f.clone(), text(v)));
        }
    }
    Hit {
        time: ev.timestamp(),
        computer: ev.get_str("host.name").unwrap_or_default().to_string(),
        account,
        fields,
        event_id: ev.id().to_string(),
        file: file.to_string(),
        rule,
        event: None,
    }
}

/// Run `mamori hunt`.
pub fn run(args: &HuntArgs) -> anyhow::Result<ExitCode> {
    if !["table", "csv", "json"].contains(&args.output.as_str()) {
        bail!("--output must be table, csv or json, not `{}`", args.output);
    }
    let min_level =
        Level::parse(&args.min_level).with_context(|| format!("unknown level `{}`", args.min_level))?;
    let start = Instant::now();
    let (mut set, mappings) = load_rules(&args.rules, &args.mapping)?;
    set.retain(|r| r.level >= min_level);
    let load_time = start.elapsed();
    eprintln!(
        "rules: {} loaded, {} unsupported (see `mamori rules check`), in {:.2?}",
        set.rules.len(),
        set.errors.len(),
        load_time
    );
    let files = expand_paths(&args.paths)?;
    let mut correlator = if set.correlations.is_empty() {
        None
    } else {
        match Correlator::new(set.correlations.clone(), &set.rules, &mappings) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("correlation rules not run: {e}");
                None
            }
        }
    };
    let keep_events: HashSet<String> = correlator
        .iter()
        .flat_map(|c| c.rules())
        .flat_map(|c| {
            set.rules
                .iter()
                .filter(|r| c.rules.iter().any(|x| Some(x) == r.name.as_ref() || *x == r.id))
        })
        .map(|r| r.id.clone())
        .collect();
    let detector = Detector::new(set.rules);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let scan = Instant::now();
    let report = hunt_files(&detector, &files, threads, &keep_events);
    let mut correlations = Vec::new();
    if let Some(c) = correlator.as_mut() {
        for h in &report.hits {
            if let Some(ev) = &h.event {
                let m = RuleMatch { rule: h.rule.clone() };
                correlations.extend(c.observe(&m, ev, h.time));
            }
        }
    }
    let scan_time = scan.elapsed();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.output.as_str() {
        "csv" => write_csv(&mut out, &report.hits)?,
        "json" => write_json(&mut out, &report.hits)?,
        _ => write_table(&mut out, &report.hits)?,
    }
    write_correlations(&mut out, &args.output, &correlations)?;
    out.flush()?;
    drop(out);
    for (p, why) in &report.skipped {
        eprintln!("skipped {}: {why}", p.display());
    }
    let summary = summary(&report);
    if args.output == "table" {
        print!("{summary}");
    } else {
        eprint!("{summary}");
    }
    eprintln!(
        "{} files, {} events ({} bad records) in {:.2?} ({:.0} events/s); rules loaded in {:.2?}",
        report.files,
        report.events,
        report.bad,
        scan_time,
        report.events as f64 / scan_time.as_secs_f64().max(1e-9),
        load_time
    );
    Ok(ExitCode::SUCCESS)
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn key_fields(h: &Hit) -> String {
    h.fields
        .iter()
        .map(|(k, v)| {
            let short = ["winlog.event_data.", "winlog.user_data.", "aws.cloudtrail."]
                .iter()
                .find_map(|p| k.strip_prefix(p))
                .unwrap_or(k);
            let v: String = v.chars().take(120).collect();
            format!("{short}={}", v.replace(['\n', '\r'], " "))
        })
        .collect::<Vec<_>>()
        .join(" ¦ ")
}

fn write_table(out: &mut impl Write, hits: &[Hit]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<20}  {:<16}  {:<24}  {:<8}  {:<50}  fields",
        "time", "computer", "account", "level", "rule"
    )?;
    for h in hits {
        let cut = |s: &str, n: usize| -> String { s.chars().take(n).collect() };
        writeln!(
            out,
            "{:<20}  {:<16}  {:<24}  {:<8}  {:<50}  {}",
            time(&h.time),
            cut(&h.computer, 16),
            cut(&h.account, 24),
            h.rule.level.as_str(),
            cut(&h.rule.title, 50),
            key_fields(h)
        )?;
    }
    Ok(())
}

fn write_csv(out: &mut impl Write, hits: &[Hit]) -> std::io::Result<()> {
    writeln!(out, "time,computer,account,rule,level,tags,fields,event_id,file")?;
    for h in hits {
        let cells = [
            time(&h.time),
            h.computer.clone(),
            h.account.clone(),
            h.rule.title.clone(),
            h.rule.level.to_string(),
            h.rule.tags.join(" "),
            key_fields(h),
            h.event_id.clone(),
            h.file.clone(),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}

fn write_json(out: &mut impl Write, hits: &[Hit]) -> std::io::Result<()> {
    for h in hits {
        let fields: serde_json::Map<String, serde_json::Value> = h
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        let row = serde_json::json!({
            "time": time(&h.time),
            "computer": h.computer,
            "account": h.account,
            "rule": { "id": h.rule.id, "title": h.rule.title, "level": h.rule.level,
                      "tags": h.rule.tags, "tactics": h.rule.attack.tactics, "techniques": h.rule.attack.techniques },
            "fields": fields,
            "event_id": h.event_id,
            "file": h.file,
        });
        writeln!(out, "{row}")?;
    }
    Ok(())
}

fn write_correlations(out: &mut impl Write, kind: &str, alerts: &[CorrelationAlert]) -> std::io::Result<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    if kind == "table" {
        writeln!(out, "\ncorrelations:")?;
    }
    for a in alerts {
        let group = a
            .group
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ¦ ");
        match kind {
            "json" => writeln!(
                out,
                "{}",
                serde_json::json!({
                    "time": time(&a.last_seen), "first_seen": time(&a.first_seen),
                    "correlation": { "id": a.rule.id, "title": a.rule.title, "level": a.rule.level, "type": a.rule.kind },
                    "group": group, "count": a.count, "event_ids": a.event_ids,
                })
            )?,
            "csv" => {
                let cells = [
                    time(&a.last_seen),
                    String::new(),
                    String::new(),
                    a.rule.title.clone(),
                    a.rule.level.to_string(),
                    a.rule.tags.join(" "),
                    format!("{group} ¦ count={}", a.count),
                    a.event_ids.first().cloned().unwrap_or_default(),
                    String::new(),
                ];
                let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                writeln!(out, "{}", row.join(","))?;
            }
            _ => writeln!(
                out,
                "{:<20}  {:<8}  {:<50}  {} (count {}, since {})",
                time(&a.last_seen),
                a.rule.level.as_str(),
                a.rule.title,
                group,
                a.count,
                time(&a.first_seen)
            )?,
        }
    }
    Ok(())
}

/// Detections by level and by rule.
pub fn summary(report: &HuntReport) -> String {
    let mut by_level: BTreeMap<std::cmp::Reverse<Level>, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<(std::cmp::Reverse<Level>, String), usize> = BTreeMap::new();
    for h in &report.hits {
        *by_level.entry(std::cmp::Reverse(h.rule.level)).or_default() += 1;
        *by_rule
            .entry((std::cmp::Reverse(h.rule.level), h.rule.title.clone()))
            .or_default() += 1;
    }
    let mut s = format!("\n{} detections by {} rules\n", report.hits.len(), by_rule.len());
    for (l, n) in &by_level {
        s.push_str(&format!("  {:<14} {n}\n", l.0.as_str()));
    }
    s.push_str("by rule:\n");
    for ((l, title), n) in &by_rule {
        s.push_str(&format!("  {n:>6}  {:<13} {title}\n", l.0.as_str()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunts_cloudtrail_files() {
        let dir = tempfile::tempdir().unwrap();
        let trail = dir.path().join("trail.json");
        std::fs::write(
            &trail,
            r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"responseElements":{"ConsoleLogin":"Success"},"eventID":"e1","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}]}"#,
        )
        .unwrap();
        let rules = dir.path().join("rules");
        std::fs::create_dir(&rules).unwrap();
        std::fs::write(
            rules.join("root.yml"),
            "title: Root console login\nid: r1\nlevel: high\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: ConsoleLogin, userIdentity.type: Root}\n  condition: sel\n",
        )
        .unwrap();
        let (set, _) = load_rules(&[rules], &[]).unwrap();
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let detector = Detector::new(set.rules);
        let report = hunt_files(&detector, &[trail], 2, &HashSet::new());
        assert_eq!(report.events, 1);
        assert_eq!(report.hits.len(), 1);
        assert_eq!(report.hits[0].rule.title, "Root console login");
        assert!(summary(&report).contains("1 detections by 1 rules"));
        let mut csv = Vec::new();
        write_csv(&mut csv, &report.hits).unwrap();
        assert!(
            String::from_utf8(csv)
                .unwrap()
                .contains("Root console login,high")
        );
    }
}
