//! `mamori user …` and `mamori token …`: local users and API tokens, changed
//! directly in the state database (audited as the operating-system user).

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use clap::{Args, Subcommand};
use mamori_server::state::{Role, TenantAccess};
use rand::RngCore;

use crate::config_cmd::{cli_actor, state};

/// `mamori user …`
#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(subcommand)]
    cmd: UserCmd,
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Create a user; prints a generated password unless one comes on stdin.
    Add {
        /// Login name.
        name: String,
        /// admin, analyst, viewer, customer or ingest.
        #[arg(long)]
        role: String,
        /// Tenants, comma-separated, or `*` for all (a customer has exactly one).
        #[arg(long, default_value = "*")]
        tenants: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Set a user's password (generated unless given on stdin).
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user (sessions end, tokens stop working).
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        /// Login name.
        name: String,
    },
}

/// `mamori token …`
#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(subcommand)]
    cmd: TokenCmd,
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Create an API token; prints it once.
    Create {
        /// Owner.
        #[arg(long)]
        user: String,
        /// What it is for.
        #[arg(long)]
        name: String,
        /// Role (default: the owner's).
        #[arg(long)]
        role: Option<String>,
        /// Tenants, comma-separated or `*` (default: the owner's).
        #[arg(long)]
        tenants: Option<String>,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_days: Option<i64>,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by id.
    Revoke {
        /// Token id.
        id: String,
    },
}

fn tenants_of(text: &str) -> TenantAccess {
    let list: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    TenantAccess::from_list(&list)
}

fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password")?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        if p.is_empty() {
            bail!("no password on standard input");
        }
        return Ok((p, false));
    }
    let mut b = [0u8; 12];
    rand::rng().fill_bytes(&mut b);
    Ok((b.iter().map(|x| format!("{x:02x}")).collect(), true))
}

/// Run `mamori user …`.
pub fn user(data_dir: &Path, args: &UserArgs) -> anyhow::Result<ExitCode> {
    let mut db = state(data_dir)?;
    let actor = cli_actor();
    match &args.cmd {
        UserCmd::Add {
            name,
            role,
            tenants,
            password_stdin,
        } => {
            let role: Role = role.parse()?;
            let (pw, generated) = password(*password_stdin)?;
            let u = db.add_user(&actor, name, role, &tenants_of(tenants), Some(&pw))?;
            println!(
                "created {} ({}, tenants {})",
                u.name,
                u.role,
                u.tenants.to_list().join(",")
            );
            if generated {
                println!("password: {pw}   (shown once)");
            }
        }
        UserCmd::List => {
            println!("{:<20} {:<9} {:<8} TENANTS", "USER", "ROLE", "STATUS");
            for u in db.users()? {
                let status = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<20} {:<9} {:<8} {}",
                    u.name,
                    u.role,
                    status,
                    u.tenants.to_list().join(",")
                );
            }
        }
        UserCmd::Passwd { name, password_stdin } => {
            let (pw, generated) = password(*password_stdin)?;
            db.set_password(&actor, name, &pw)?;
            println!("password of {name} changed");
            if generated {
                println!("password: {pw}   (shown once)");
            }
        }
        UserCmd::Disable { name } => {
            db.update_user(&actor, name, None, None, Some(true))?;
            println!("{name} disabled");
        }
        UserCmd::Enable { name } => {
            db.update_user(&actor, name, None, None, Some(false))?;
            println!("{name} enabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Run `mamori token …`.
pub fn token(data_dir: &Path, args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let mut db = state(data_dir)?;
    let actor = cli_actor();
    match &args.cmd {
        TokenCmd::Create {
            user,
            name,
            role,
            tenants,
            expires_days,
        } => {
            let owner = db
                .user(user)?
                .with_context(|| format!("no user {user}: create it with `mamori user add`"))?;
            let role = match role {
                Some(r) => r.parse()?,
                None => owner.role,
            };
            let tenants = tenants.as_deref().map_or(owner.tenants, tenants_of);
            let expires = expires_days.map(|d| Utc::now() + Duration::days(d));
            let t = db.create_token(&actor, user, name, role, &tenants, expires)?;
            println!("{}", t.token);
            eprintln!(
                "token {} for {} ({}, tenants {}); this is the only time it is shown",
                t.info.id,
                user,
                t.info.role,
                t.info.tenants.to_list().join(",")
            );
        }
        TokenCmd::List { user } => {
            println!(
                "{:<14} {:<16} {:<9} {:<20} {:<22} STATUS",
                "ID", "USER", "ROLE", "NAME", "EXPIRES"
            );
            for t in db.tokens(user.as_deref())? {
                let status = if t.revoked { "revoked" } else { "active" };
                println!(
                    "{:<14} {:<16} {:<9} {:<20} {:<22} {status}",
                    t.id,
                    t.user,
                    t.role,
                    t.name,
                    t.expires_at.as_deref().unwrap_or("never")
                );
            }
        }
        TokenCmd::Revoke { id } => {
            db.revoke_token(&actor, id)?;
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
