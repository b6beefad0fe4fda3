//! `mamori`: the command line of the Mamori security-operations platform.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
#[global_allocator]
static GLOBAL: mamori::Allocator = mimalloc::MiMalloc;

use mamori::{
    alerts_cmd, config_cmd, demo, hunt_cmd, ingest, rules_cmd, search, serve_cmd, sources_cmd, store_cmd,
    users_cmd,
};

/// Mamori (守り): collect, search and detect across your customers' logs.
#[derive(Parser, Debug)]
#[command(name = "mamori", version, about)]
struct Cli {
    /// Data directory (events, dead letters, state) [default: ./mamori-data].
    #[arg(long, global = true, env = "MAMORI_DATA")]
    data_dir: Option<PathBuf>,
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
    /// Run the server: REST API, web ingest (`_bulk`), syslog listeners.
    Serve(serve_cmd::ServeArgs),
    /// Manage local users.
    User(users_cmd::UserArgs),
    /// Manage API tokens.
    Token(users_cmd::TokenArgs),
    /// Run Sigma rules over log files without storing them; print a timeline of detections.
    Hunt(hunt_cmd::HuntArgs),
    /// Sigma rules: load into the data directory, list, enable/disable, check a folder, test on files.
    Rules(rules_cmd::RulesArgs),
    /// The alert queue: list and triage.
    Alerts(alerts_cmd::AlertsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        mamori::init_logging(false, false);
    }
    let explicit = cli.data_dir.clone();
    let data_dir = cli.data_dir.unwrap_or_else(|| PathBuf::from("./mamori-data"));
    let data_dir = &data_dir;
    let result = match cli.command {
        Command::Ingest(a) => ingest::run(data_dir, &a),
        Command::Search(a) => search::run(data_dir, &a),
        Command::Demo(a) => demo::run(data_dir, &a),
        Command::Context(a) => config_cmd::context(data_dir, &a),
        Command::Saved(a) => config_cmd::saved(data_dir, &a),
        Command::Audit(a) => config_cmd::audit(data_dir, &a),
        Command::Store(a) => store_cmd::run(data_dir, &a),
        Command::Sources(a) => sources_cmd::run(data_dir, &a),
        Command::Serve(a) => serve_cmd::run(explicit.as_deref(), &a),
        Command::User(a) => users_cmd::user(data_dir, &a),
        Command::Token(a) => users_cmd::token(data_dir, &a),
        Command::Hunt(a) => hunt_cmd::run(&a),
        Command::Rules(a) => rules_cmd::run(data_dir, &a),
        Command::Alerts(a) => alerts_cmd::run(data_dir, &a),
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
