//! `mamori`: the command line of the Mamori security-operations platform.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
#[global_allocator]
static GLOBAL: mamori::Allocator = mimalloc::MiMalloc;

use mamori::{config_cmd, demo, hunt_cmd, ingest, rules_cmd, search, sources_cmd, store_cmd};

/// Mamori (守り): collect, search and detect across your customers' logs.
#[derive(Parser, Debug)]
#[command(name = "mamori", version, about)]
struct Cli {
    /// Data directory (events, dead letters, state).
    #[arg(long, global = true, env = "MAMORI_DATA", default_value = "./mamori-data")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read log files (plain, .gz, or directories) into the store.
    Ingest(ingest::IngestArgs),
    /// Search a tenant's events with the filter language.
    Search(search::SearchArgs),
    /// Build a demo data set for two tenants and print searches to try.
    Demo(demo::DemoArgs),
    /// Edit a tenant's context lists (`@office` in filters).
    Context(config_cmd::ContextArgs),
    /// Save, list and delete searches.
    Saved(config_cmd::SavedArgs),
    /// Show the audit log of configuration changes.
    Audit(config_cmd::AuditArgs),
    /// Store statistics and retention.
    Store(store_cmd::StoreArgs),
    /// Which of a tenant's log feeds are alive and which fell silent (exit 3 if any is silent).
    Sources(sources_cmd::SourcesArgs),
    /// Run Sigma rules over log files without storing them; print a timeline of detections.
    Hunt(hunt_cmd::HuntArgs),
    /// Check Sigma rule folders and test a rule on log files.
    Rules(rules_cmd::RulesArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(a) => ingest::run(&cli.data_dir, &a),
        Command::Search(a) => search::run(&cli.data_dir, &a),
        Command::Demo(a) => demo::run(&cli.data_dir, &a),
        Command::Context(a) => config_cmd::context(&cli.data_dir, &a),
        Command::Saved(a) => config_cmd::saved(&cli.data_dir, &a),
        Command::Audit(a) => config_cmd::audit(&cli.data_dir, &a),
        Command::Store(a) => store_cmd::run(&cli.data_dir, &a),
        Command::Sources(a) => sources_cmd::run(&cli.data_dir, &a),
        Command::Hunt(a) => hunt_cmd::run(&a),
        Command::Rules(a) => rules_cmd::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// A reader of our output went away (`mamori search … | head`): not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.to_string().contains("Broken pipe")
    })
}
