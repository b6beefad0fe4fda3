//! `mamori serve`: the server (REST API, `_bulk`, syslog) until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use mamori_server::config::ServerConfig;
use mamori_server::serve::{self, FirstAdmin, Running};

/// Arguments of `mamori serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Configuration file (default: ./mamori.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on (overrides the file and MAMORI_LISTEN).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// The configuration `mamori serve` would use: file, environment, then flags.
pub fn load_config(data_dir: Option<&Path>, args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let mut cfg = ServerConfig::load(args.config.as_deref())?;
    if let Some(d) = data_dir {
        cfg.data_dir = d.to_path_buf();
    }
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    Ok(cfg)
}

/// Create the first admin if there is no user, and say so.
pub fn first_admin(cfg: &ServerConfig) -> anyhow::Result<Option<FirstAdmin>> {
    let mut db = crate::config_cmd::state(&cfg.data_dir)?;
    let admin = serve::ensure_first_admin(&mut db, std::env::var("MAMORI_ADMIN_PASSWORD").ok())?;
    Ok(admin)
}

/// Print how to reach the server.
pub fn announce(running: &Running, admin: Option<&FirstAdmin>) {
    let scheme = if running.state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!("mamori is listening on {scheme}://{}", running.addr);
    if let Some(a) = admin {
        eprintln!(
            "first start: created user `{}` with password `{}` (shown once; change it with `mamori user passwd {}`)",
            a.user, a.password, a.user
        );
    }
}

/// Wait for Ctrl-C or SIGTERM.
pub async fn until_stopped() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Run `mamori serve`.
pub fn run(data_dir: Option<&Path>, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let cfg = load_config(data_dir, args)?;
    crate::init_logging(true, cfg.log_format == "json");
    let admin = first_admin(&cfg)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let running = serve::start(cfg).await?;
        announce(&running, admin.as_ref());
        until_stopped().await;
        eprintln!("stopping: finishing in-flight ingests…");
        running.shutdown().await?;
        Ok(ExitCode::SUCCESS)
    })
}
