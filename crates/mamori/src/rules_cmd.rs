//! `mamori rules`: check a rule folder (`check`), try a rule on log files
//! (`test`), load rules into the data directory for the server and `mamori
//! ingest` (`load`), list them (`list`) and switch them on or off.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
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
    /// Copy a folder of Sigma rules into the data directory (`<data>/rules/<name>`), where the
    /// server and `mamori ingest` load them; refuses a folder where no rule compiles.
    Load {
        /// Rules folder.
        dir: PathBuf,
        /// Name of the set (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the rules loaded into the data directory, with whether each runs.
    List,
    /// Switch a rule on (by id).
    Enable {
        /// Rule id.
        id: String,
    },
    /// Switch a rule off (by id); it stops raising alerts.
    Disable {
        /// Rule id.
        id: String,
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

/// Where `mamori rules load` puts rule sets.
pub fn rules_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("rules")
}

/// Copy every `.yml`/`.yaml` under `from` into `to`, keeping the folder layout; returns the count.
fn copy_rules(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    for file in expand_paths(&[from.to_path_buf()])? {
        let is_yaml = file.extension().is_some_and(|e| e == "yml" || e == "yaml");
        if !is_yaml {
            continue;
        }
        let rel = file.strip_prefix(from).unwrap_or(&file);
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(&file, &dest).with_context(|| format!("copying {}", file.display()))?;
        n += 1;
    }
    Ok(n)
}

/// Run `mamori rules`.
pub fn run(data_dir: &Path, args: &RulesArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        RulesCommand::Load { dir, name } => {
            let (set, _) = load_rules(std::slice::from_ref(dir), &[])?;
            if set.rules.is_empty() {
                bail!(
                    "no rule in {} compiles ({} refused): nothing loaded",
                    dir.display(),
                    set.errors.len()
                );
            }
            let name = name.clone().unwrap_or_else(|| {
                dir.file_name()
                    .map_or("rules".into(), |n| n.to_string_lossy().into_owned())
            });
            let dest = rules_dir(data_dir).join(&name);
            if dest.exists() {
                std::fs::remove_dir_all(&dest).with_context(|| format!("replacing {}", dest.display()))?;
            }
            let files = copy_rules(dir, &dest)?;
            let mut db = crate::config_cmd::state(data_dir)?;
            db.record(
                &crate::config_cmd::cli_actor(),
                "rules.load",
                &format!("rules/{name}"),
                serde_json::json!({"from": dir.display().to_string(), "files": files,
                    "rules": set.rules.len(), "correlations": set.correlations.len(), "refused": set.errors.len()}),
            )?;
            println!(
                "loaded rule set `{name}` into {}: {} rules, {} correlation rules, {} refused ({} files); restart the server to apply",
                dest.display(),
                set.rules.len(),
                set.correlations.len(),
                set.errors.len(),
                files
            );
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::List => {
            let dir = rules_dir(data_dir);
            if !dir.exists() {
                bail!(
                    "no rules loaded in {}: use `mamori rules load DIR`",
                    data_dir.display()
                );
            }
            let (set, _) = load_rules(&[dir], &[])?;
            let disabled = crate::config_cmd::state(data_dir)?.disabled_rules()?;
            println!("{:<38} {:<13} {:<4} TITLE", "ID", "LEVEL", "ON");
            for r in &set.rules {
                let on = if disabled.contains(&r.id) { "no" } else { "yes" };
                println!("{:<38} {:<13} {:<4} {}", r.id, r.level.as_str(), on, r.title);
            }
            eprintln!("{} rules, {} disabled", set.rules.len(), disabled.len());
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Enable { id } | RulesCommand::Disable { id } => {
            let enabled = matches!(args.command, RulesCommand::Enable { .. });
            let mut db = crate::config_cmd::state(data_dir)?;
            db.set_rule_enabled(&crate::config_cmd::cli_actor(), id, enabled)?;
            println!("rule {id} {}", if enabled { "enabled" } else { "disabled" });
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Check {
            dir,
            mapping,
            verbose,
        } => {
            let start = std::time::Instant::now();
            let (set, _) = load_rules(std::slice::from_ref(dir), mapping)?;
            println!(
                "{} files, {} documents: {} rules loaded, {} correlation rules, {} filters, {} unsupported ({:.2?})",
                set.files,
                set.total() + set.filters.len(),
                set.rules.len(),
                set.correlations.len(),
                set.filters.len(),
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
