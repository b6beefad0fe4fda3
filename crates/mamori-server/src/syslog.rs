//! Syslog listeners: UDP (one message per datagram), TCP and TLS (RFC 5425;
//! RFC 6587 octet-counting or newline framing on both). Each sender is mapped
//! to a tenant and source by address (CIDR) or by the hostname in its syslog
//! header. Messages are batched (up to [`BATCH`] or [`FLUSH`]) through the
//! common pipeline. UDP cannot push back: what the pipeline refuses is dropped
//! and counted, and the datagrams the kernel drops on a full receive buffer are
//! counted per listener ([`kernel_drops`]); TCP and TLS stop reading until the
//! pipeline accepts.
//!
//! A message longer than the listener's `max_message_bytes` is never cut: it
//! goes to the dead letter with its sender, listener, size and first bytes,
//! and counts as rejected; a stream then carries on at the next frame (octet
//! counting) or line (newline framing).

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use mamori_formats::Format;
use mamori_formats::record::{BadRecord, Location};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::api::Shared;
use crate::api::ingest::{ensure_tenant, ingest_body};
use crate::config::{SenderRule, SyslogListener, SyslogTls};
use crate::pipeline::{Origin, PipelineError};
use crate::serve::ServeError;
use crate::state::Actor;

/// Messages per batch.
pub const BATCH: usize = 5_000;
/// Longest wait before a partial batch is sent.
pub const FLUSH: Duration = Duration::from_millis(200);
/// How often the kernel's drop counter of a UDP socket is read.
pub const DROP_SAMPLE: Duration = Duration::from_secs(1);
/// Receive buffer of a UDP listener: larger than any datagram, so the size
/// of an oversized one is always known.
const UDP_BUF: usize = 64 * 1024;
/// Batches of a UDP listener being made durable while it keeps reading.
const UDP_FLUSHES: usize = 2;
/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of a message's start read to route it by its header's hostname.
const ROUTE_HEAD: usize = 1024;

/// A listener's configuration and name, shared by its connections.
struct Ctx {
    cfg: SyslogListener,
    /// `udp 0.0.0.0:5514`.
    id: String,
}

/// Start a listener; it runs until `stop` turns true, then sends what it holds.
pub async fn spawn(
    state: Shared,
    cfg: SyslogListener,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, ServeError> {
    let id = cfg.id();
    let io = |source| ServeError::Io {
        context: format!("syslog {id} listener"),
        source,
    };
    let mut tenants: Vec<String> = std::iter::once(cfg.tenant.clone())
        .chain(cfg.senders.iter().map(|r| r.tenant.clone()))
        .collect();
    tenants.sort();
    tenants.dedup();
    let tls = match (cfg.protocol.as_str(), &cfg.tls) {
        ("tls", Some(t)) => Some(tls_acceptor(&id, t)?),
        ("tls", None) => {
            return Err(io(io::Error::other(
                "protocol tls needs a [syslog.tls] table with cert and key",
            )));
        }
        _ => None,
    };
    let ctx = Arc::new(Ctx { cfg, id: id.clone() });
    let handle = match ctx.cfg.protocol.as_str() {
        "udp" => {
            let sock = bind_udp(&ctx.cfg).map_err(io)?;
            tracing::info!(listener = %id, "syslog listening");
            state.metrics.listener_started(&id, tenants);
            tokio::spawn(udp_loop(state, ctx, sock, stop))
        }
        _ => {
            let l = TcpListener::bind(ctx.cfg.listen).await.map_err(io)?;
            tracing::info!(listener = %id, "syslog listening");
            state.metrics.listener_started(&id, tenants);
            tokio::spawn(tcp_loop(state, ctx, l, tls, stop))
        }
    };
    Ok(handle)
}

/// A UDP socket bound to the listener's address, with its receive buffer set.
fn bind_udp(cfg: &SyslogListener) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(cfg.listen), Type::DGRAM, Some(Protocol::UDP))?;
    if let Some(n) = cfg.recv_buffer_bytes {
        sock.set_recv_buffer_size(n)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&cfg.listen.into())?;
    UdpSocket::from_std(sock.into())
}

/// The TLS configuration of a listener: its certificate and key, and the
/// client CA when senders must present certificates (mutual TLS).
fn tls_acceptor(id: &str, tls: &SyslogTls) -> Result<TlsAcceptor, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let fail = |what: String, e: &dyn std::fmt::Display| ServeError::Io {
        context: format!("syslog {id} listener: {what}"),
        source: io::Error::other(e.to_string()),
    };
    let read_certs = |path: &std::path::Path, what: &str| {
        let place = format!("reading {what} {}", path.display());
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| fail(place.clone(), &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(place.clone(), &e))?;
        if certs.is_empty() {
            return Err(fail(place, &"no PEM certificate in the file"));
        }
        Ok(certs)
    };
    let certs = read_certs(&tls.cert, "certificate")?;
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| fail(format!("reading key {}", tls.key.display()), &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("choosing TLS versions".into(), &e))?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in read_certs(ca, "client CA")? {
                roots
                    .add(c)
                    .map_err(|e| fail(format!("reading client CA {}", ca.display()), &e))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| fail(format!("using client CA {}", ca.display()), &e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(certs, key).map_err(|e| {
        fail(
            format!(
                "certificate {} and key {} do not make a TLS identity",
                tls.cert.display(),
                tls.key.display()
            ),
            &e,
        )
    })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Tenant and source of a message from `peer`.
pub fn route<'a>(cfg: &'a SyslogListener, peer: IpAddr, message: &str) -> (&'a str, &'a str) {
    let host = header_hostname(message);
    cfg.senders
        .iter()
        .find(|r| rule_matches(r, peer, host))
        .map_or((cfg.tenant.as_str(), cfg.source.as_str()), |r| {
            (r.tenant.as_str(), r.source.as_str())
        })
}

fn rule_matches(r: &SenderRule, peer: IpAddr, host: Option<&str>) -> bool {
    if let Ok(net) = r.matches.parse::<IpNet>() {
        return net.contains(&peer);
    }
    if let Ok(ip) = r.matches.parse::<IpAddr>() {
        return ip == peer;
    }
    host.is_some_and(|h| h.eq_ignore_ascii_case(&r.matches))
}

/// The HOSTNAME of an RFC 5424 (`<pri>1 ts host …`) or RFC 3164 (`<pri>Mmm dd hh:mm:ss host …`) header.
pub fn header_hostname(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix('<')?;
    let rest = &rest[rest.find('>')? + 1..];
    let mut words = rest.split_ascii_whitespace();
    if rest.starts_with("1 ") {
        words.next();
        words.next();
        return words.next().filter(|h| *h != "-");
    }
    // Mmm dd hh:mm:ss host
    let (_m, _d, _t) = (words.next()?, words.next()?, words.next()?);
    words.next()
}

/// Tenant and source of a message (routing reads only its start).
fn route_bytes<'a>(cfg: &'a SyslogListener, peer: IpAddr, msg: &[u8]) -> (&'a str, &'a str) {
    let head = String::from_utf8_lossy(&msg[..msg.len().min(ROUTE_HEAD)]);
    route(cfg, peer, &head)
}

/// Resolves once `stop` turns true.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// What a stream (or a datagram) carried.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// A whole message.
    Message(Vec<u8>),
    /// A message longer than the limit: its size, first bytes (at most the
    /// limit) and, on a stream, the offset where it started.
    Oversized {
        size: u64,
        head: Vec<u8>,
        offset: Option<u64>,
    },
    /// The stream ended inside an octet-counted message.
    Cut {
        declared: u64,
        received: u64,
        head: Vec<u8>,
        offset: u64,
    },
}

/// A message refused before parsing, waiting for the dead letter.
struct Refused {
    record: BadRecord,
    extra: Map<String, Value>,
    bytes: u64,
}

/// Messages waiting, per (tenant, source).
#[derive(Default)]
struct Pending {
    by_target: BTreeMap<(String, String), Vec<u8>>,
    refused: BTreeMap<(String, String), Vec<Refused>>,
    /// Messages held (refused ones included).
    count: usize,
    oversized: u64,
}

impl Pending {
    fn push(&mut self, tenant: &str, source: &str, msg: &[u8]) {
        let buf = self.by_target.entry((tenant.into(), source.into())).or_default();
        let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
        let msg = msg.strip_suffix(b"\r").unwrap_or(msg);
        // A message is one line for the parser: embedded newlines become spaces.
        buf.extend(msg.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
        buf.push(b'\n');
        self.count += 1;
    }

    /// Hold one frame from `peer`, received by `name` of listener `l`.
    fn add(&mut self, l: &Ctx, peer: SocketAddr, name: &str, frame: Frame) {
        let max = l.cfg.max_message_bytes;
        let (head, offset, size, reason) = match frame {
            Frame::Message(m) => {
                let (t, s) = route_bytes(&l.cfg, peer.ip(), &m);
                self.push(t, s, &m);
                return;
            }
            Frame::Oversized { size, head, offset } => {
                self.oversized += 1;
                let reason = format!(
                    "syslog message of {size} bytes is longer than max_message_bytes ({max}) of listener {}; \
                     not stored, its first {} bytes are kept in raw",
                    l.id,
                    head.len().min(mamori_formats::record::RAW_CAP)
                );
                (head, offset, size, reason)
            }
            Frame::Cut {
                declared,
                received,
                head,
                offset,
            } => {
                let reason = format!(
                    "the connection closed after {received} of the {declared} bytes of an octet-counted syslog message"
                );
                (head, Some(offset), received, reason)
            }
        };
        let (t, s) = route_bytes(&l.cfg, peer.ip(), &head);
        let record = BadRecord::new(
            Location {
                source: name.to_string(),
                line: None,
                column: None,
                byte_offset: offset,
            },
            reason,
            &head,
        );
        let mut extra = Map::new();
        extra.insert("sender".into(), json!(peer.to_string()));
        extra.insert("listener".into(), json!(l.id));
        extra.insert("size".into(), json!(size));
        extra.insert("max_message_bytes".into(), json!(max));
        self.refused
            .entry((t.to_string(), s.to_string()))
            .or_default()
            .push(Refused {
                record,
                extra,
                bytes: size,
            });
        self.count += 1;
    }
}

/// Send what is pending: refused messages to the dead letter, the rest
/// through the pipeline. Returns the messages the pipeline refused.
async fn flush(state: &Shared, l: &Ctx, pending: Pending, name: &str, wait_when_busy: bool) -> u64 {
    state
        .metrics
        .listener_received(&l.id, pending.count as u64, pending.oversized);
    let actor = Actor {
        name: name.to_string(),
        origin: name.to_string(),
    };
    for ((tenant, source), refused) in pending.refused {
        let n = refused.len() as u64;
        let bytes = refused.iter().map(|r| r.bytes).sum();
        if let Err(e) = ensure_tenant(state, &actor, &tenant) {
            tracing::warn!(%tenant, error = %e.body.message, "syslog: tenant refused");
            state.metrics.dropped(&tenant, &source, n);
            continue;
        }
        let st = state.clone();
        let t = tenant.clone();
        let written = tokio::task::spawn_blocking(move || {
            st.dead
                .write_all_with(&t, refused.iter().map(|r| (&r.record, &r.extra)))
        })
        .await
        .map_err(|e| io::Error::other(e.to_string()))
        .and_then(|r| r);
        match written {
            Ok(()) => state.metrics.rejected(&tenant, &source, n, bytes),
            Err(e) => {
                tracing::error!(%tenant, %source, error = %e, "syslog: writing the dead letter failed");
                state.metrics.dropped(&tenant, &source, n);
            }
        }
    }
    let mut refused = 0;
    for ((tenant, source), body) in pending.by_target {
        let lines = body.iter().filter(|&&b| b == b'\n').count() as u64;
        if let Err(e) = ensure_tenant(state, &actor, &tenant) {
            tracing::warn!(%tenant, error = %e.body.message, "syslog: tenant refused");
            state.metrics.dropped(&tenant, &source, lines);
            refused += lines;
            continue;
        }
        let origin = Origin {
            tenant: tenant.clone(),
            source: Some(source.clone()),
            format: body.starts_with(b"<").then_some(Format::Syslog),
            name: name.to_string(),
        };
        let mut body = Some(body);
        while let Some(b) = body.take() {
            let again = wait_when_busy.then(|| b.clone());
            match ingest_body(state, origin.clone(), b).await {
                Ok(_) => {}
                Err(PipelineError::Busy { retry_after_secs, .. }) if again.is_some() => {
                    tokio::time::sleep(Duration::from_secs(retry_after_secs)).await;
                    body = again;
                }
                Err(e) => {
                    tracing::warn!(%tenant, %source, error = %e, "syslog batch refused");
                    state.metrics.dropped(&tenant, &source, lines);
                    refused += lines;
                }
            }
        }
    }
    refused
}

/// Datagrams the kernel has dropped on `sock` since it was opened because
/// its receive buffer was full: the `drops` column of `/proc/net/udp` or
/// `/proc/net/udp6` for the socket's inode. `None` off Linux or when the
/// tables cannot be read.
#[cfg(target_os = "linux")]
pub fn kernel_drops(sock: &impl std::os::fd::AsRawFd) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", sock.as_raw_fd())).ok()?;
    let inode = link
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .to_string();
    ["/proc/net/udp", "/proc/net/udp6"].iter().find_map(|table| {
        let text = std::fs::read_to_string(table).ok()?;
        udp_table_drops(&text, &inode)
    })
}

/// Datagrams the kernel has dropped on `sock` (only Linux says).
#[cfg(not(target_os = "linux"))]
pub fn kernel_drops<S>(_sock: &S) -> Option<u64> {
    None
}

/// The `drops` column of the row of socket `inode` in a `/proc/net/udp` table.
pub fn udp_table_drops(table: &str, inode: &str) -> Option<u64> {
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next()?.split_whitespace().collect();
    // The header names `tx_queue rx_queue` and `tr tm->when` as two words each but
    // rows as one: the inode is the 10th column of a row and drops the last.
    if !header.contains(&"inode") || header.last() != Some(&"drops") {
        return None;
    }
    lines.find_map(|row| {
        let cols: Vec<&str> = row.split_whitespace().collect();
        (cols.get(9) == Some(&inode))
            .then(|| cols.last()?.parse().ok())
            .flatten()
    })
}

async fn udp_loop(state: Shared, l: Arc<Ctx>, sock: UdpSocket, mut stop: watch::Receiver<bool>) {
    let name = format!("syslog udp {}", l.cfg.listen);
    let max = l.cfg.max_message_bytes;
    let mut buf = vec![0u8; UDP_BUF];
    let mut pending = Pending::default();
    let mut tick = tokio::time::interval(FLUSH);
    let mut sample = tokio::time::interval(DROP_SAMPLE);
    // Batches being made durable, oldest first: the socket is read meanwhile.
    let mut flushing: VecDeque<JoinHandle<u64>> = VecDeque::new();
    let sample_drops = |sock: &UdpSocket| {
        if let Some(n) = kernel_drops(sock) {
            state.metrics.kernel_drops(&l.id, n);
        }
    };
    sample_drops(&sock);
    loop {
        let dispatch = tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let frame = if n > max {
                        Frame::Oversized { size: n as u64, head: buf[..max].to_vec(), offset: None }
                    } else {
                        Frame::Message(buf[..n].to_vec())
                    };
                    pending.add(&l, peer, &name, frame);
                    pending.count >= BATCH
                }
                Err(e) => {
                    tracing::warn!(listener = %l.id, error = %e, "syslog udp receive");
                    false
                }
            },
            _ = tick.tick() => pending.count > 0,
            _ = sample.tick() => {
                sample_drops(&sock);
                false
            }
            _ = stopped(&mut stop) => {
                flush(&state, &l, std::mem::take(&mut pending), &name, true).await;
                for f in flushing {
                    let _ = f.await;
                }
                sample_drops(&sock);
                return;
            }
        };
        if dispatch {
            while flushing.front().is_some_and(|f| f.is_finished()) {
                flushing.pop_front();
            }
            if flushing.len() >= UDP_FLUSHES
                && let Some(oldest) = flushing.pop_front()
            {
                // The pipeline is behind: stop reading until the oldest batch is through.
                let _ = oldest.await;
            }
            let (st, ctx, nm) = (state.clone(), l.clone(), name.clone());
            let batch = std::mem::take(&mut pending);
            flushing.push_back(tokio::spawn(
                async move { flush(&st, &ctx, batch, &nm, false).await },
            ));
        }
    }
}

async fn tcp_loop(
    state: Shared,
    l: Arc<Ctx>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    conns.retain(|c| !c.is_finished());
                    let (state, l, stop) = (state.clone(), l.clone(), stop.clone());
                    conns.push(match tls.clone() {
                        None => tokio::spawn(conn(state, l, stream, peer, stop)),
                        Some(acceptor) => tokio::spawn(tls_conn(state, l, acceptor, stream, peer, stop)),
                    });
                }
                Err(e) => tracing::warn!(listener = %l.id, error = %e, "syslog accept"),
            },
            _ = stopped(&mut stop) => break,
        }
    }
    for c in conns {
        let _ = c.await;
    }
}

async fn tls_conn(
    state: Shared,
    l: Arc<Ctx>,
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => conn(state, l, tls, peer, stop).await,
        Ok(Err(e)) => tracing::warn!(listener = %l.id, %peer, error = %e, "syslog tls handshake failed"),
        Err(_) => tracing::warn!(listener = %l.id, %peer, "syslog tls handshake timed out"),
    }
}

/// One stream: a reader task cuts frames (so a flush never interrupts a
/// message half read); this task batches them. A full pipeline stops the
/// reader, which stops the sender (TCP flow control).
async fn conn<S: AsyncRead + Unpin + Send + 'static>(
    state: Shared,
    l: Arc<Ctx>,
    stream: S,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let name = format!("syslog {} {peer}", l.cfg.protocol);
    let (tx, mut rx) = mpsc::channel::<Frame>(1024);
    let frames = FrameReader::new(
        BufReader::with_capacity(64 * 1024, stream),
        l.cfg.max_message_bytes,
    );
    let id = l.id.clone();
    let reader = tokio::spawn(async move {
        if let Err(e) = frames.send_all(&tx).await {
            tracing::warn!(listener = %id, %peer, error = %e, "syslog read");
        }
    });
    let mut pending = Pending::default();
    let mut tick = tokio::time::interval(FLUSH);
    loop {
        tokio::select! {
            f = rx.recv() => match f {
                Some(f) => {
                    pending.add(&l, peer, &name, f);
                    if pending.count >= BATCH {
                        flush(&state, &l, std::mem::take(&mut pending), &name, true).await;
                    }
                }
                None => break,
            },
            _ = tick.tick() => {
                if pending.count > 0 {
                    flush(&state, &l, std::mem::take(&mut pending), &name, true).await;
                }
            }
            _ = stopped(&mut stop) => {
                reader.abort();
                while let Ok(f) = rx.try_recv() {
                    pending.add(&l, peer, &name, f);
                }
                break;
            }
        }
    }
    flush(&state, &l, pending, &name, true).await;
}

/// Cuts a byte stream into syslog messages: RFC 6587 octet counting
/// (`LEN SP MSG`, LEN of at most 9 digits) when a message starts with a
/// digit, else one message per line. At most `max` bytes of a message are
/// held in memory; the rest of a longer one is read past.
struct FrameReader<R> {
    r: R,
    max: usize,
    /// Bytes consumed from the stream.
    offset: u64,
}

impl<R: AsyncBufRead + Unpin> FrameReader<R> {
    fn new(r: R, max: usize) -> Self {
        FrameReader { r, max, offset: 0 }
    }

    /// The buffered bytes; empty at the end of the stream (a TLS peer that
    /// closes without `close_notify` ends the stream too).
    async fn fill(&mut self) -> io::Result<&[u8]> {
        match self.r.fill_buf().await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(&[]),
            Err(e) => Err(e),
        }
    }

    fn consume(&mut self, n: usize) {
        self.r.consume(n);
        self.offset += n as u64;
    }

    /// Send every frame to `tx` until the stream ends or nobody listens.
    async fn send_all(mut self, tx: &mpsc::Sender<Frame>) -> io::Result<()> {
        while let Some(f) = self.next().await? {
            if tx.send(f).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// The next message, `None` at the end of the stream.
    async fn next(&mut self) -> io::Result<Option<Frame>> {
        loop {
            let start = self.offset;
            let mut digits = Vec::new();
            let mut octets = None;
            loop {
                let Some(&b) = self.fill().await?.first() else {
                    break;
                };
                if b.is_ascii_digit() && digits.len() < 10 {
                    digits.push(b);
                    self.consume(1);
                    continue;
                }
                if b == b' ' && (1..=9).contains(&digits.len()) {
                    self.consume(1);
                    octets = std::str::from_utf8(&digits)
                        .ok()
                        .and_then(|d| d.parse::<u64>().ok());
                }
                break;
            }
            if let Some(len) = octets {
                let mut head = Vec::with_capacity((len as usize).min(self.max));
                let received = self.take(len, &mut head).await?;
                if received < len {
                    return Ok(Some(Frame::Cut {
                        declared: len,
                        received,
                        head,
                        offset: start,
                    }));
                }
                if len > self.max as u64 {
                    return Ok(Some(Frame::Oversized {
                        size: len,
                        head,
                        offset: Some(start),
                    }));
                }
                if len == 0 {
                    continue;
                }
                return Ok(Some(Frame::Message(head)));
            }
            // Newline framing; digits already read start the line.
            let mut line = digits;
            let (mut size, ended) = self.line(&mut line).await?;
            if size == 0 && !ended {
                return Ok(None);
            }
            if line.len() as u64 == size && line.last() == Some(&b'\r') {
                line.pop();
                size -= 1;
            }
            if size > self.max as u64 {
                line.truncate(self.max);
                return Ok(Some(Frame::Oversized {
                    size,
                    head: line,
                    offset: Some(start),
                }));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(Frame::Message(line)));
        }
    }

    /// Read `n` bytes, keeping those that fit in `max` into `out`; returns
    /// the bytes read (fewer at the end of the stream).
    async fn take(&mut self, n: u64, out: &mut Vec<u8>) -> io::Result<u64> {
        let max = self.max;
        let mut read = 0u64;
        while read < n {
            let buf = self.fill().await?;
            if buf.is_empty() {
                break;
            }
            let k = buf.len().min((n - read) as usize);
            let keep = k.min(max.saturating_sub(out.len()));
            out.extend_from_slice(&buf[..keep]);
            self.consume(k);
            read += k as u64;
        }
        Ok(read)
    }

    /// Read up to and past the next newline, appending at most `max + 1`
    /// bytes to `out` (which may hold the line's first bytes already);
    /// returns the line's length without the newline and whether one ended it.
    async fn line(&mut self, out: &mut Vec<u8>) -> io::Result<(u64, bool)> {
        let cap = self.max + 1;
        let mut size = out.len() as u64;
        loop {
            let buf = self.fill().await?;
            if buf.is_empty() {
                return Ok((size, false));
            }
            let newline = buf.iter().position(|&b| b == b'\n');
            let k = newline.unwrap_or(buf.len());
            let keep = k.min(cap.saturating_sub(out.len()));
            out.extend_from_slice(&buf[..keep]);
            size += k as u64;
            self.consume(k + usize::from(newline.is_some()));
            if newline.is_some() {
                return Ok((size, true));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SyslogListener {
        SyslogListener {
            listen: "127.0.0.1:0".parse().unwrap(),
            protocol: "udp".into(),
            tenant: "acme".into(),
            source: "syslog".into(),
            senders: vec![
                SenderRule {
                    matches: "10.20.0.0/16".into(),
                    tenant: "globex".into(),
                    source: "asa".into(),
                },
                SenderRule {
                    matches: "fw-paris".into(),
                    tenant: "initech".into(),
                    source: "fw".into(),
                },
            ],
            ..SyslogListener::default()
        }
    }

    #[test]
    fn senders_map_by_address_then_hostname() {
        let c = cfg();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(route(&c, ip("10.20.1.1"), "<13>hello"), ("globex", "asa"));
        assert_eq!(
            route(&c, ip("192.0.2.1"), "<13>Oct 11 22:14:15 fw-paris sshd[1]: x"),
            ("initech", "fw")
        );
        assert_eq!(
            route(
                &c,
                ip("192.0.2.1"),
                "<13>1 2026-01-01T00:00:00Z FW-PARIS app - - - x"
            ),
            ("initech", "fw")
        );
        assert_eq!(route(&c, ip("192.0.2.1"), "no header"), ("acme", "syslog"));
    }

    async fn frames(data: &[u8], max: usize, buffer: usize) -> Vec<Frame> {
        let mut r = FrameReader::new(tokio::io::BufReader::with_capacity(buffer, data), max);
        let mut out = Vec::new();
        while let Some(f) = r.next().await.unwrap() {
            out.push(f);
        }
        out
    }

    fn msg(s: &str) -> Frame {
        Frame::Message(s.as_bytes().to_vec())
    }

    #[tokio::test]
    async fn octet_counting_and_newline_framing() {
        let data: &[u8] = b"12 <13>hi there11 <13>second\n<13>third line\r\n\n1234567890 ten digits\n0 \n";
        for buffer in [1, 3, 64 * 1024] {
            assert_eq!(
                frames(data, 2048, buffer).await,
                vec![
                    msg("<13>hi there"),
                    msg("<13>second\n"),
                    msg("<13>third line"),
                    // ten digits cannot be an octet count: a line
                    msg("1234567890 ten digits"),
                ],
                "buffer {buffer}"
            );
        }
    }

    #[tokio::test]
    async fn oversized_messages_are_reported_and_the_stream_resynchronises() {
        let big = "x".repeat(5000);
        let data = format!("<13>{big}\n<13>after line\n5004 <13>{big}15 <13>after frame");
        for buffer in [7, 64 * 1024] {
            let got = frames(data.as_bytes(), 2048, buffer).await;
            assert_eq!(got.len(), 4, "buffer {buffer}: {got:?}");
            let Frame::Oversized { size, head, offset } = &got[0] else {
                panic!("{:?}", got[0]);
            };
            assert_eq!((*size, head.len(), *offset), (5004, 2048, Some(0)));
            assert!(head.starts_with(b"<13>xxx"));
            assert_eq!(got[1], msg("<13>after line"));
            let Frame::Oversized { size, head, offset } = &got[2] else {
                panic!("{:?}", got[2]);
            };
            assert_eq!((*size, head.len(), *offset), (5004, 2048, Some(5020)));
            assert_eq!(got[3], msg("<13>after frame"));
        }
        // exactly at the limit is accepted, with and without CR
        let at = format!("<13>{}\r\n", "y".repeat(2044));
        assert!(matches!(&frames(at.as_bytes(), 2048, 16).await[..], [Frame::Message(m)] if m.len() == 2048));
    }

    #[tokio::test]
    async fn a_stream_ending_inside_a_frame_is_reported() {
        let got = frames(b"20 <13>only part", 2048, 64).await;
        assert_eq!(
            got,
            vec![Frame::Cut {
                declared: 20,
                received: 13,
                head: b"<13>only part".to_vec(),
                offset: 0
            }]
        );
    }

    #[test]
    fn kernel_drops_are_read_from_the_udp_table() {
        let table = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
  123: 00000000:15AA 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n\
  124: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 999 2 0000000000000000 0\n";
        assert_eq!(udp_table_drops(table, "4242"), Some(17));
        assert_eq!(udp_table_drops(table, "999"), Some(0));
        assert_eq!(udp_table_drops(table, "1"), None);
        assert_eq!(udp_table_drops("garbage\n1 2 3", "1"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fresh_udp_socket_has_dropped_nothing() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(kernel_drops(&sock), Some(0));
    }
}
