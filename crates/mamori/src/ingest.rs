//! `mamori ingest`: files → formats → store, with dead letters and a summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_formats::record::{Item, ParseContext};
use mamori_formats::{Format, FormatError};
use mamori_model::Event;
use mamori_store::{CommitReport, LocalStore, validate_tenant};

use crate::appender::Appender;

use mamori_server::dead_letter::DeadLetter;
use std::collections::HashMap;

use mamori_server::rules::{DetectionConfig, RuleEngine, Suppressions};
use mamori_server::state::Detection;

/// Arguments of `mamori ingest`.
#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Tenant (customer) the logs belong to.
    #[arg(long)]
    pub tenant: String,
    /// Input format, or `auto` to recognise each file.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Events buffered between commits.
    #[arg(long, default_value_t = 200_000)]
    pub commit_every: usize,
    /// Sigma rules (files or folders, repeatable) to run on every event, besides those loaded
    /// with `mamori rules load`; what they find becomes alerts.
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// Files or directories (read recursively); `.gz` files are decompressed;
    /// `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Counts of one ingest run.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Files read.
    pub files: u64,
    /// Files skipped (digests, unrecognised, unreadable).
    pub skipped_files: u64,
    /// Bytes of input files (as stored on disk).
    pub bytes: u64,
    /// Events read.
    pub events: u64,
    /// Events stored / already present.
    pub stored: CommitReport,
    /// Records sent to the dead letter.
    pub rejected: u64,
    /// Recovered structural problems.
    pub warnings: u64,
    /// Detections recorded as alerts.
    pub detections: u64,
    /// Per format: files, events, rejected records.
    pub per_format: std::collections::BTreeMap<&'static str, [u64; 3]>,
    /// Seconds taken.
    pub seconds: f64,
}

/// Run `mamori ingest`.
pub fn run(data_dir: &Path, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    validate_tenant(&args.tenant)?;
    let format = match args.format.as_str() {
        "auto" => None,
        name => Some(name.parse::<Format>().map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    let mut rule_paths = args.rules.clone();
    let loaded = crate::rules_cmd::rules_dir(data_dir);
    if loaded.is_dir() {
        rule_paths.push(loaded);
    }
    let rules = RuleEngine::load(&DetectionConfig {
        rules: rule_paths,
        mappings: Vec::new(),
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    if let Some(r) = &rules {
        eprintln!("{} rules loaded ({} refused)", r.rule_count(), r.errors.len());
    }
    let store = LocalStore::open(crate::events_dir(data_dir))?;
    let summary = ingest_paths(
        &store,
        data_dir,
        &args.paths,
        &IngestJob {
            tenant: &args.tenant,
            format,
            commit_every: args.commit_every,
            progress: true,
            rules: rules.as_deref(),
        },
    )?;
    store.close()?;
    print_summary(&summary, data_dir, &args.tenant);
    Ok(if summary.rejected > 0 || summary.skipped_files > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every file under the given paths, sorted, directories walked recursively.
pub fn expand_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
            continue;
        }
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// What one ingest run reads and how.
#[derive(Clone, Copy)]
pub struct IngestJob<'a> {
    /// Tenant of every event.
    pub tenant: &'a str,
    /// Format, or `None` to recognise each file.
    pub format: Option<Format>,
    /// Events buffered between commits.
    pub commit_every: usize,
    /// Show a progress bar.
    pub progress: bool,
    /// Rules to run on every event (their detections become alerts).
    pub rules: Option<&'a RuleEngine>,
}

/// Ingest files into `store`; bad records go to the dead letter. Records are
/// parsed on this thread, detected on a helper thread and indexed on another
/// ([`Appender`]).
pub fn ingest_paths(
    store: &LocalStore,
    data_dir: &Path,
    paths: &[PathBuf],
    job: &IngestJob<'_>,
) -> anyhow::Result<Summary> {
    let IngestJob {
        tenant,
        format,
        commit_every,
        progress,
        rules,
    } = *job;
    let started = Instant::now();
    let files = expand_paths(paths)?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let bar = if progress {
        ProgressBar::new(total_bytes)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut dead = DeadLetter::open(data_dir, tenant)?;
    let (mut alerts_db, except) = match rules {
        Some(_) => {
            let db = crate::config_cmd::state(data_dir)?;
            let except = Suppressions::load(&db)?;
            (Some(db), Some(except))
        }
        None => (None, None),
    };
    let rules = rules.zip(except.as_ref());
    let mut s = Summary::default();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let sink = Appender::spawn(scope, store).context("starting the ingest thread")?;
        let mut out = Detecting {
            scope,
            sink,
            rules,
            in_flight: None,
            found: Found::default(),
        };
        let mut batch: Vec<Event> = Vec::with_capacity(APPEND_BATCH);
        let mut since_commit = 0;
        for file in &files {
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            s.bytes += size;
            let opened = match format {
                _ if file.as_os_str() == "-" => open_stdin(format),
                Some(f) => mamori_formats::open(file).map(|r| (f, r)),
                None => mamori_formats::open_and_sniff(file),
            };
            let (fmt, reader) = match opened {
                Ok(x) => x,
                Err(e) => {
                    report_skip(&bar, &e);
                    s.skipped_files += 1;
                    bar.inc(size);
                    continue;
                }
            };
            if fmt == Format::CloudTrailDigest {
                say(
                    &bar,
                    format!("skipped {}: CloudTrail digest file", file.display()),
                );
                bar.inc(size);
                continue;
            }
            s.files += 1;
            let fmt_name = fmt.name();
            s.per_format.entry(fmt_name).or_default()[0] += 1;
            let source_name = if file.as_os_str() == "-" {
                "stdin".to_string()
            } else {
                file.display().to_string()
            };
            let ctx = ParseContext::new(tenant, source_name);
            for item in mamori_formats::parse(fmt, reader, &ctx) {
                match item {
                    Item::Event(ev) => {
                        s.events += 1;
                        s.per_format.entry(fmt_name).or_default()[1] += 1;
                        batch.push(*ev);
                        if batch.len() >= APPEND_BATCH {
                            out.push(std::mem::replace(&mut batch, Vec::with_capacity(APPEND_BATCH)))?;
                            since_commit += APPEND_BATCH;
                        }
                        if since_commit >= commit_every {
                            out.push(std::mem::take(&mut batch))?;
                            let found = out.finish()?;
                            flush(&mut out.sink, &mut dead, &mut s)?;
                            record_alerts(alerts_db.as_mut(), found, &mut s)?;
                            since_commit = 0;
                            bar.set_message(format!("{} events", s.events));
                        }
                    }
                    Item::Bad(bad) => {
                        say(&bar, format!("rejected {}: {}", bad.location, bad.reason));
                        dead.write(tenant, &bad)?;
                        s.rejected += 1;
                        s.per_format.entry(fmt_name).or_default()[2] += 1;
                    }
                    Item::Warning(w) => {
                        say(&bar, format!("warning {}: {}", w.location, w.message));
                        s.warnings += 1;
                    }
                }
            }
            bar.inc(size);
        }
        out.push(batch)?;
        let found = out.finish()?;
        flush(&mut out.sink, &mut dead, &mut s)?;
        out.sink.finish()?;
        record_alerts(alerts_db.as_mut(), found, &mut s)
    })?;
    bar.finish_and_clear();
    s.seconds = started.elapsed().as_secs_f64();
    Ok(s)
}

/// Events handed to the store (and detected) at a time (indexed at once, durable at commit).
const APPEND_BATCH: usize = mamori_server::rules::DETECT_BATCH;

/// Detections and hits per exclusion, as [`RuleEngine::detections_except`] gives them.
type Found = (Vec<Detection>, HashMap<i64, u64>);

/// Hands batches of events to the appending thread ([`Appender`]), each
/// after the rules ran over it on a helper thread while the next batch was
/// being read: streaming detection overlaps parsing and indexing instead of
/// adding to them. Batches are detected one at a time, in order, so
/// correlations see the events in the order read.
struct Detecting<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    sink: Appender<'scope>,
    rules: Option<(&'env RuleEngine, &'env Suppressions)>,
    /// The batch being detected.
    in_flight: Option<std::thread::ScopedJoinHandle<'scope, (Vec<Event>, Found)>>,
    /// Detections of the batches appended since the last [`Detecting::finish`].
    found: Found,
}

impl<'scope, 'env> Detecting<'scope, 'env> {
    /// Start detecting `batch` and append the previous one (its detection done).
    fn push(&mut self, batch: Vec<Event>) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let Some((rules, except)) = self.rules else {
            return self.sink.append(batch);
        };
        let previous = self.join()?;
        let handle = std::thread::Builder::new()
            .name("mamori-detect".into())
            .spawn_scoped(self.scope, move || {
                let found = rules.detections_except(&batch, except);
                (batch, found)
            })
            .context("starting the detection thread")?;
        self.in_flight = Some(handle);
        if let Some(events) = previous {
            self.sink.append(events)?;
        }
        Ok(())
    }

    /// Wait for the batch in flight; keep its detections, return its events.
    fn join(&mut self) -> anyhow::Result<Option<Vec<Event>>> {
        let Some(handle) = self.in_flight.take() else {
            return Ok(None);
        };
        let (events, (found, hits)) = handle
            .join()
            .map_err(|_| anyhow::anyhow!("the detection thread failed"))?;
        self.found.0.extend(found);
        for (id, n) in hits {
            *self.found.1.entry(id).or_insert(0) += n;
        }
        Ok(Some(events))
    }

    /// Append everything pushed; the detections found since the last call.
    fn finish(&mut self) -> anyhow::Result<Found> {
        if let Some(events) = self.join()? {
            self.sink.append(events)?;
        }
        Ok(std::mem::take(&mut self.found))
    }
}

/// Standard input, gzip-transparent, its format named or recognised.
fn open_stdin(format: Option<Format>) -> Result<(Format, Box<dyn std::io::BufRead + Send>), FormatError> {
    let stdin = PathBuf::from("-");
    let reader =
        mamori_formats::decode::decode(Box::new(std::io::stdin())).map_err(|source| FormatError::Read {
            path: stdin.clone(),
            source,
        })?;
    if let Some(f) = format {
        return Ok((f, reader));
    }
    let peeked = mamori_formats::decode::peek(reader, mamori_formats::sniff::HEAD_LEN);
    match mamori_formats::sniff::sniff(&peeked.head) {
        Some(f) => Ok((f, peeked.reader)),
        None => Err(FormatError::Unrecognised {
            path: stdin,
            reason: "standard input: name its format with --format".into(),
        }),
    }
}

fn report_skip(bar: &ProgressBar, e: &FormatError) {
    say(bar, format!("skipped: {e}"));
}

/// A line on stderr that does not tear the progress bar (printed even when the bar is hidden).
fn say(bar: &ProgressBar, line: String) {
    bar.suspend(|| eprintln!("{line}"));
}

/// Turn the detections of committed events into alerts in the state database.
fn record_alerts(
    db: Option<&mut mamori_server::StateDb>,
    (found, hits): Found,
    s: &mut Summary,
) -> anyhow::Result<()> {
    if let Some(db) = db {
        db.record_detections(&found)?;
        s.detections += found.len() as u64;
        for (id, n) in hits {
            db.add_exclusion_hits(id, n)?;
        }
    }
    Ok(())
}

/// Make everything appended so far durable: the dead letter first, then the events.
fn flush(store: &mut Appender<'_>, dead: &mut DeadLetter, s: &mut Summary) -> anyhow::Result<()> {
    dead.sync()?;
    s.stored += store.commit()?;
    Ok(())
}

fn print_summary(s: &Summary, data_dir: &Path, tenant: &str) {
    if s.per_format.len() > 1 {
        for (name, [files, events, rejected]) in &s.per_format {
            eprintln!("  {name:<18} {files:>6} files {events:>10} events {rejected:>6} rejected");
        }
    }
    let rate = if s.seconds > 0.0 {
        s.events as f64 / s.seconds
    } else {
        0.0
    };
    eprintln!(
        "ingested {} files ({} skipped), {:.1} MiB: {} events read, {} stored, {} already present, {} rejected, {} warnings in {:.2}s ({:.0} events/s)",
        s.files,
        s.skipped_files,
        s.bytes as f64 / 1_048_576.0,
        s.events,
        s.stored.added,
        s.stored.duplicates,
        s.rejected,
        s.warnings,
        s.seconds,
        rate
    );
    if s.detections > 0 {
        eprintln!(
            "{} detections recorded as alerts (mamori alerts list --tenant {tenant})",
            s.detections
        );
    }
    if s.rejected > 0 {
        eprintln!(
            "rejected records are in {}",
            data_dir
                .join("dead-letter")
                .join(format!("{tenant}.ndjson"))
                .display()
        );
    }
}

/// Fail when a tenant has no data directory yet (used by search).
pub fn require_data(data_dir: &Path) -> anyhow::Result<()> {
    if !crate::events_dir(data_dir).exists() {
        bail!(
            "no events in {} yet: run `mamori ingest` or `mamori demo` first (or set --data-dir / MAMORI_DATA)",
            data_dir.display()
        );
    }
    Ok(())
}
