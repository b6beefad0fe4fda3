//! `mamori rules`: check a rule folder (`check`) and try a rule on log files (`test`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use mamori_detect::{Detector, explain};
use mamori_formats::{Item, ParseContext, open_and_sniff, parse};

use crate::hunt_cmd::load_rules;
use crate::ingest::expand_paths;

/// Arguments of `mamori rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// `mamori rules …` subcommands.
#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Load a folder of Sigma rules and count loaded and unsupported rules by reason.
    Check {
        /// Rules folder or file.
        dir: PathBuf,
        /// Extra mapping files.
        #[arg(long)]
        mapping: Vec<PathBuf>,
        /// List every unsupported rule with its reason.
        #[arg(long)]
        verbose: bool,
    },
    /// Run one rule (or a folder) over log files: which events match and why.
    Test {
        /// The rule file (or folder).
        rule: PathBuf,
        /// Log files or folders.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Extra mapping files.
        #[arg(long)]
        mapping: Vec<PathBuf>,
    },
}

/// Run `mamori rules`.
pub fn run(args: &RulesArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        RulesCommand::Check {
            dir,
            mapping,
            verbose,
        } => {
            let start = std::time::Instant::now();
            let (set, _) = load_rules(std::slice::from_ref(dir), mapping)?;
            println!(
                "{} files, {} documents: {} rules loaded, {} correlation rules, {} unsupported ({:.2?})",
                set.files,
                set.total(),
                set.rules.len(),
                set.correlations.len(),
                set.errors.len(),
                start.elapsed()
            );
            for (kind, n) in set.errors_by_kind() {
                println!("  unsupported, {kind}: {n}");
            }
            if *verbose || set.errors.len() <= 20 {
                for e in &set.errors {
                    println!("  - {e}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Test { rule, files, mapping } => {
            let (set, _) = load_rules(std::slice::from_ref(rule), mapping)?;
            for e in &set.errors {
                eprintln!("unsupported: {e}");
            }
            if set.rules.is_empty() {
                bail!("no rule could be loaded from {}", rule.display());
            }
            for r in &set.rules {
                println!("rule {} ({}): {}", r.title, r.id, r.filter());
            }
            let detector = Detector::new(set.rules.clone());
            let (mut events, mut matched) = (0u64, 0u64);
            for path in expand_paths(files)? {
                let (format, input) = match open_and_sniff(&path) {
                    Ok(x) => x,
                    Err(e) => {
                        eprintln!("skipped {}: {e}", path.display());
                        continue;
                    }
                };
                let ctx = ParseContext::new("test", path.display().to_string());
                for item in parse(format, input, &ctx) {
                    let Item::Event(ev) = item else { continue };
                    events += 1;
                    for m in detector.detect(&ev) {
                        matched += 1;
                        println!(
                            "\nMATCH {} — {} — {} (event {})",
                            ev.timestamp(),
                            path.display(),
                            m.rule.title,
                            ev.id()
                        );
                        for e in explain(&m.rule, &ev).iter().filter(|e| e.holds) {
                            println!("  ✓ {}  ← {:?}", e.condition, e.values);
                        }
                    }
                }
            }
            println!("\n{matched} matches in {events} events");
            Ok(if matched > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
    }
}
