//! `mamori serve`: open the stores, create the first admin, start the HTTP
//! listener, the syslog listeners and the S3 sources, and stop gracefully (in-flight
//! ingests finish and are committed before the process exits).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use mamori_store::{EventStore, LocalStore, StoreError};
use rand::RngCore;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::access::Events;
use crate::api::{AppState, Shared, router};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::pipeline::{Committer, DeadLetters};
use crate::state::{Actor, Role, StateDb, StateError, TenantAccess};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Listening or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// A running server.
pub struct Running {
    /// Address of the HTTP listener.
    pub addr: SocketAddr,
    /// Shared state (tests and the demo use it).
    pub state: Shared,
    store: Arc<LocalStore>,
    stop: watch::Sender<bool>,
    http: JoinHandle<Result<(), std::io::Error>>,
    sources: Vec<JoinHandle<()>>,
}

/// The first admin's credentials, when this start created them.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    /// User name (`admin`).
    pub user: String,
    /// Password (from `MAMORI_ADMIN_PASSWORD`, or generated).
    pub password: String,
}

/// Open the data directory's stores and build the shared state.
pub fn open_state(config: ServerConfig) -> Result<(Shared, Arc<LocalStore>), ServeError> {
    let events_dir = config.data_dir.join("events");
    let store = Arc::new(LocalStore::open(&events_dir)?);
    let db = StateDb::open(&config.data_dir)?;
    let exclusions = crate::rules::Suppressions::load(&db)?;
    let mut known: HashSet<String> = db.tenants()?.into_iter().collect();
    known.extend(store.tenants()?);
    let dyn_store: Arc<dyn EventStore> = store.clone();
    let mut detection = config.detection.clone();
    let loaded = config.data_dir.join("rules");
    if loaded.is_dir() && !detection.rules.contains(&loaded) {
        detection.rules.push(loaded);
    }
    let rules = crate::rules::RuleEngine::load(&detection).map_err(|message| ServeError::Io {
        context: "loading detection rules".into(),
        source: std::io::Error::other(message),
    })?;
    if let Some(r) = &rules {
        tracing::info!(
            rules = r.rule_count(),
            refused = r.errors.len(),
            "detection rules loaded"
        );
    }
    let state = Arc::new(AppState {
        events: Events::new(dyn_store.clone()),
        db: Mutex::new(db),
        committer: Committer::start(dyn_store, config.ingest_queue_events),
        dead: DeadLetters::new(&config.data_dir),
        metrics: Metrics::new(),
        events_dir,
        started: Instant::now(),
        known_tenants: Mutex::new(known),
        rules,
        exclusions: std::sync::RwLock::new(Arc::new(exclusions)),
        config,
    });
    Ok((state, store))
}

/// Create the `admin` user when there is no user yet.
pub fn ensure_first_admin(
    db: &mut StateDb,
    password: Option<String>,
) -> Result<Option<FirstAdmin>, StateError> {
    if db.user_count()? > 0 {
        return Ok(None);
    }
    let password = password.unwrap_or_else(|| {
        let mut b = [0u8; 12];
        rand::rng().fill_bytes(&mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    });
    let actor = Actor {
        name: "system".into(),
        origin: "first start".into(),
    };
    db.add_user(&actor, "admin", Role::Admin, &TenantAccess::All, Some(&password))?;
    Ok(Some(FirstAdmin {
        user: "admin".into(),
        password,
    }))
}

/// Start serving on `config.listen` (port 0 picks a free port).
pub async fn start(config: ServerConfig) -> Result<Running, ServeError> {
    let listen = config.listen;
    let (state, store) = open_state(config)?;
    let listener = std::net::TcpListener::bind(listen).map_err(|source| ServeError::Io {
        context: format!("listening on {listen}"),
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        context: "reading the bound address".into(),
        source,
    })?;
    listener.set_nonblocking(true).map_err(|source| ServeError::Io {
        context: "configuring the listener".into(),
        source,
    })?;
    let (stop, mut stopped) = watch::channel(false);
    let app: IntoMakeServiceWithConnectInfo<_, SocketAddr> =
        router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let http = match state.config.tls.clone() {
        None => {
            let listener = TcpListener::from_std(listener).map_err(|source| ServeError::Io {
                context: "configuring the listener".into(),
                source,
            })?;
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await
            })
        }
        Some(tls) => {
            // ring as rustls' provider (no C toolchain beyond what ring needs); ignore "already installed".
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|source| ServeError::Io {
                    context: format!(
                        "reading TLS certificate {} and key {}",
                        tls.cert.display(),
                        tls.key.display()
                    ),
                    source,
                })?;
            let handle = axum_server::Handle::new();
            let server = axum_server::from_tcp_rustls(listener, config)
                .map_err(|source| ServeError::Io {
                    context: "configuring the TLS listener".into(),
                    source,
                })?
                .handle(handle.clone());
            tokio::spawn(async move {
                let _ = stopped.wait_for(|s| *s).await;
                handle.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
            });
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    let mut sources = Vec::new();
    for l in state.config.syslog.clone() {
        sources.push(crate::syslog::spawn(state.clone(), l, stop.subscribe()).await?);
    }
    sources.push(crate::scheduler::spawn(state.clone(), stop.subscribe()));
    for s in state.config.s3.clone() {
        sources.push(crate::s3::spawn(state.clone(), s, stop.subscribe()));
    }
    tracing::info!(%addr, "mamori listening");
    Ok(Running {
        addr,
        state,
        store,
        stop,
        http,
        sources,
    })
}

impl Running {
    /// Stop: refuse new connections, finish in-flight requests, commit
    /// everything queued, close the store.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let _ = self.stop.send(true);
        let served = self.http.await;
        for s in self.sources {
            let _ = s.await;
        }
        let state = self.state.clone();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            state.committer.shutdown();
            store.close()
        })
        .await
        .map_err(|e| ServeError::Io {
            context: "stopping".into(),
            source: std::io::Error::other(e.to_string()),
        })??;
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(ServeError::Io {
                context: "serving HTTP".into(),
                source,
            }),
            Err(e) => Err(ServeError::Io {
                context: "serving HTTP".into(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}
