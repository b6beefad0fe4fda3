//! Windows XML Event Log files (`.evtx`), mapped to ECS as Elastic's
//! Winlogbeat and Windows integration do.
//!
//! # Input
//! An EVTX file (recognised by `ElfFile\0` at byte 0), plain or gzipped. It
//! is read whole into memory (at most [`MAX_INPUT`] bytes) and its chunks
//! are parsed on all cores by the `evtx` crate, each record rendered as
//! JSON (attributes under `#attributes`); records come out in the log's
//! order (oldest chunk first). The reading runs on a thread of its own, so items are
//! handed over while the rest of the file is still being parsed.
//!
//! - A record the crate cannot read or render is a bad record naming its
//!   record number (or chunk and offset) and the error; the next records
//!   are still read. A chunk that cannot be read is one bad record at the
//!   chunk's byte offset.
//! - An input that is not a valid EVTX file (bad header, too short) is one
//!   bad record at byte 0.
//! - A file that ends inside a chunk (cut off) gives the records of its
//!   whole chunks and one bad record at the start of the partial chunk; a
//!   read error (a broken gzip stream), likewise at the byte where it
//!   happened.
//!
//! # Mapping
//! `event.original` is the record as the crate renders it to JSON (compact).
//! Fields are set only when the record has them; `-` and empty values are
//! not copied into ECS fields (they stay in `winlog.event_data`).
//!
//! | EVTX record                                   | ECS / Mamori |
//! |-----------------------------------------------|--------------|
//! | `System/TimeCreated/@SystemTime`               | `@timestamp` (UTC); else the record header's time; else the ingest time, tag `mamori.timestamp_missing`, `event.ingested` |
//! | `Computer`, `Channel` (else provider), `EventRecordID`, `@SystemTime` | `event.id` = hash of tenant and `<computer>/<channel>/<record id>/<time>` (stable across re-ingest; the time keeps apart records of a log that was cleared and numbered anew) |
//! | —                                              | `event.kind` = `event`; `event.module` = `sysmon` for the Sysmon channel, else `windows` |
//! | `Channel`                                      | `winlog.channel`; `event.dataset` = `windows.security`, `windows.system`, `windows.application`, `windows.sysmon_operational`, `windows.powershell` (Windows PowerShell), `windows.powershell_operational`, `windows.forwarded`, else `windows.<channel in snake case, less microsoft_windows_>` (the provider when there is no channel) |
//! | `EventID` (without qualifiers)                 | `winlog.event_id`, `event.code` (strings) |
//! | `Provider/@Name`, `Provider/@Guid`             | `winlog.provider_name`, `event.provider`; `winlog.provider_guid` |
//! | `Computer`                                     | `winlog.computer_name`, `host.name` |
//! | `EventRecordID`                                | `winlog.record_id` (string) |
//! | `Execution/@ProcessID`, `@ThreadID`            | `winlog.process.pid`, `winlog.process.thread.id` |
//! | `Task`                                         | `winlog.task` (the number; the name when `RenderingInfo` has it) |
//! | `Opcode`                                       | `winlog.opcode` (standard names: `Info`, `Start`, `Stop`, …; else the number) |
//! | `Keywords`                                     | `winlog.keywords`: names of the standard bits (`Audit Success`, `Audit Failure`, `Classic`, …); `event.outcome` = `success` / `failure` from the audit bits |
//! | `Level`                                        | `winlog.level`, `log.level`: `critical`, `error`, `warning`, `information` (0 and 4), `verbose` |
//! | `Version`                                      | `winlog.version` |
//! | `Correlation/@ActivityID`, `@RelatedActivityID` | `winlog.activity_id`, `winlog.related_activity_id` |
//! | `Security/@UserID`                             | `winlog.user.identifier` |
//! | `EventData/Data[@Name=X]`                      | `winlog.event_data.X`, the original name kept, value as a string (`""` when empty); unnamed `Data` as `param1`, `param2`, …; `Binary` kept |
//! | `UserData/<Element>/X`                         | `winlog.user_data.X`, and `winlog.user_data.xml_name` = `<Element>` |
//! | `ProcessingErrorData/*`                        | `winlog.processing_error_data.*` |
//! | `RenderingInfo/Message`, `Level`, `Task`, `Opcode`, `Keywords` | `message`, `winlog.level`, `winlog.task`, `winlog.opcode`, `winlog.keywords` |
//! | **Security channel**                           | |
//! | event id (4624, 4625, 4634, 4648, 4672, 4688, 4697, 4720, 4722, 4724, 4728, 4732, 4740, 4768, 4769, 4776, 1102, … about 100 ids) | `event.action` (`logged-in`, `logon-failed`, `logged-out`, `logged-in-explicit`, `logged-in-special`, `created-process`, `service-installed`, `added-user-account`, `enabled-user-account`, `reset-password`, `added-member-to-group`, `locked-out-user-account`, `kerberos-authentication-ticket-requested`, `kerberos-service-ticket-requested`, `credential-validated`, `audit-log-cleared`, …), `event.category`, `event.type` |
//! | 4625, 4771; `Status` ≠ `0x0` of 4768/4769/4770/4776 | `event.outcome` = `failure` (`success` for `Status` `0x0`) |
//! | logon events (4624, 4625, 4634, 4647, 4768–4771, 4776, 4964): `TargetUserName` (before `@`), `TargetDomainName`, `TargetUserSid`/`TargetSid` | `user.name`, `user.domain`, `user.id` |
//! | other events: `SubjectUserName`, `SubjectDomainName`, `SubjectUserSid` (1102: from `UserData`) | `user.name`, `user.domain`, `user.id` |
//! | 4648, 4688: `Target*`                          | `user.effective.*` |
//! | account management (4720, 4722–4726, 4738, 4740, 4767, 4798, 4670): `Target*`; 4781: `OldTargetUserName`, `NewTargetUserName` | `user.target.*`; `user.changes.name` |
//! | group management (4727–4737, 4744–4764, 4799): `TargetUserName`, `TargetDomainName`, `TargetSid`; `MemberName` (its `CN`), `MemberSid` | `group.name`, `.domain`, `.id`; `user.target.name`, `.id` |
//! | 4778, 4779: `AccountName`, `AccountDomain`, `ClientAddress`, `ClientName` | `user.name`, `user.domain`, `source.ip`, `source.domain` |
//! | `IpAddress`, `IpPort` (not `-`, not port 0); `WorkstationName` / `Workstation` | `source.ip` (IPv4-mapped IPv6 as IPv4), `source.port`; `source.domain` |
//! | `LogonType`                                    | `winlog.logon.type` (`Interactive`, `Network`, `RemoteInteractive`, …) |
//! | `TargetLogonId` (4624, 4634, 4647, 4964), else `SubjectLogonId` | `winlog.logon.id` |
//! | failures: `FailureReason` (`%%2313` → its text), `Status`, `SubStatus` | `winlog.logon.failure.reason`, `.status`, `.sub_status` |
//! | 4688: `NewProcessId`, `NewProcessName`, `CommandLine`, `ProcessId`, `ParentProcessName` | `process.pid`, `process.executable` and `process.name`, `process.command_line`, `process.parent.pid`, `process.parent.executable` and `.name` |
//! | other events: `ProcessId`, `ProcessName`       | `process.pid`, `process.executable`, `process.name` |
//! | 4697 (and System 7045): `ServiceName`, `ServiceType` (7045: `AccountName`) | `service.name`, `service.type`; `event.action` = `service-installed` (7045: `user.name`, `user.domain`) |
//! | **Sysmon channel**                             | |
//! | event id 1–29, 255                             | `event.action` (Sysmon's names: `Process creation`, `Network connection`, `Image loaded`, `CreateRemoteThread`, `ProcessAccess`, `FileCreate`, `RegistryEvent (Value Set)`, `DNSEvent (DNS query)`, `FileDelete (File Delete archived)`, …), `event.category`, `event.type`; 27, 255: `event.outcome` = `failure` |
//! | `RuleName`                                     | `rule.name` |
//! | `ProcessGuid` (8, 10: `SourceProcessGuid`), `ProcessId` (`SourceProcessId`), `SourceThreadId`, `Image` (`SourceImage`), `CommandLine`, `CurrentDirectory` | `process.entity_id`, `process.pid`, `process.thread.id`, `process.executable` and `.name`, `process.command_line`, `process.working_directory` |
//! | `ParentProcessGuid`, `ParentProcessId`, `ParentImage`, `ParentCommandLine` | `process.parent.entity_id`, `.pid`, `.executable` and `.name`, `.command_line` |
//! | `OriginalFileName`, `Company`, `Description`, `FileVersion`, `Product` | `process.pe.*` (7: `file.pe.*`) |
//! | `Hashes` / `Hash` (`MD5=…,SHA256=…,IMPHASH=…`) | 1, 25: `process.hash.md5`/`sha1`/`sha256`, `process.pe.imphash`; others (6, 7, 15, 23, 26, 29): `file.hash.*`, `file.pe.imphash`; all in `related.hash` |
//! | `TargetImage` (8, 10), `TargetProcessGuid`, `GrantedAccess`, … | stay in `winlog.event_data` (ECS has no target process) |
//! | `TargetFilename` (11, 23, 26, …), `ImageLoaded` (6, 7), `Device` (9) | `file.path`, `file.name`, `file.directory`, `file.extension` |
//! | `PipeName`; `Signature`, `SignatureStatus`, `Signed` | `file.name`; `file.code_signature.subject_name`, `.status`, `.signed` |
//! | `Protocol`, `DestinationPortName`              | `network.transport`, `network.protocol` (22: `dns`) |
//! | `SourceIp`, `SourcePort`, `SourceHostname`, `DestinationIp`, `DestinationPort`, `DestinationHostname` | `source.ip`, `.port`, `.domain`, `destination.ip`, `.port`, `.domain` |
//! | `Initiated`; `SourceIsIpv6`                    | `network.direction` = `egress` / `ingress`; `network.type` = `ipv6` / `ipv4` |
//! | `QueryName`; addresses in `QueryResults`       | `dns.question.name` (and `related.hosts`); `dns.resolved_ip` |
//! | `TargetObject` (12, 13, 14), `Details`         | `registry.path`, `registry.hive` (`HKLM`, `HKU`, …), `registry.key`, `registry.value`; `registry.data.strings` |
//! | `User` (`DOMAIN\name`); `Security/@UserID`     | `user.domain`, `user.name`; `user.id` |
//! | **PowerShell channels**                        | |
//! | —                                              | `event.category` = `process`, `event.type` = `start` (400, 4105), `end` (403, 4106), else `info` |
//! | `ScriptBlockText`, `ScriptBlockId` (4104), `MessageNumber`, `MessageTotal`, `Path` | `powershell.file.script_block_text`, `.script_block_id`, `powershell.sequence`, `powershell.total`, `file.path` |
//! | 4103 `ContextInfo`, classic channel parameters: `Host Application`, `Host Name`, `Host ID`, `Host Version`, `Engine Version`, `Runspace ID`, `Pipeline ID`, `Command Name`, `Command Type`, `Command Path`, `Command Line`, `Script Name`, `User`, `Sequence Number` | `process.command_line`, `process.title`, `process.entity_id`, `powershell.process.executable_version`, `powershell.engine.version`, `.runspace_id`, `.pipeline_id`, `powershell.command.name`, `.type`, `.path`, `.value`, `file.path`, `user.*`, `event.sequence` |
//! | **All**                                        | |
//! | user names, addresses, hashes, DNS names set above | `related.user`, `related.ip`, `related.hash`, `related.hosts` |
//!
//! Not mapped: the event message (EVTX files hold only the message's
//! parameters; the text is in the provider's DLLs), task and keyword names
//! of providers, and SID to account name resolution.

mod powershell;
mod security;
mod sysmon;
mod winlog;

use std::any::Any;
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use ::evtx::err::EvtxError;
use ::evtx::{EvtxParser, ParserSettings};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::record::{BadRecord, Item, ParseContext};

pub use winlog::map_record;

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8; 8] = b"ElfFile\0";

/// The largest input read: 4 GiB; the rest of a larger one is reported as
/// not read.
pub const MAX_INPUT: u64 = 4 << 30;

/// The file header's size, where the first chunk starts.
const HEADER_LEN: u64 = 4096;
/// A chunk's size.
const CHUNK_LEN: u64 = 65536;
/// Items parsed ahead of the consumer.
const QUEUE: usize = 1024;

/// True when an input starting with `head` is an EVTX file.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// Parse an EVTX file, yielding its records in file order. Reading and
/// parsing start at the first call to `next`, on a thread of their own.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    Box::new(Records {
        state: State::Start(input, ctx.clone()),
    })
}

struct Records {
    state: State,
}

enum State {
    /// Not started.
    Start(Box<dyn BufRead + Send>, ParseContext),
    /// The reader thread's items.
    Thread(Receiver<Item>),
    /// Items produced without a thread (when one could not be started).
    Ready(VecDeque<Item>),
    Done,
}

impl Iterator for Records {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            match &mut self.state {
                State::Start(..) => {
                    if let State::Start(input, ctx) = std::mem::replace(&mut self.state, State::Done) {
                        self.state = start(input, ctx);
                    }
                }
                State::Thread(rx) => match rx.recv() {
                    Ok(item) => return Some(item),
                    Err(_) => self.state = State::Done,
                },
                State::Ready(items) => match items.pop_front() {
                    Some(item) => return Some(item),
                    None => self.state = State::Done,
                },
                State::Done => return None,
            }
        }
    }
}

/// Start the reader thread.
fn start(input: Box<dyn BufRead + Send>, ctx: ParseContext) -> State {
    let (tx, rx) = sync_channel(QUEUE);
    let fallback = ctx.clone();
    let spawned = thread::Builder::new().name("mamori-evtx".into()).spawn(move || {
        let mut emit = |item: Item| tx.send(item).is_ok();
        let run = catch_unwind(AssertUnwindSafe(|| read(input, &ctx, &mut emit)));
        if let Err(panic) = run {
            emit(panicked(&ctx, panic.as_ref()));
        }
    });
    match spawned {
        Ok(_) => State::Thread(rx),
        Err(e) => {
            let reason = format!("could not start the EVTX reader thread: {e}");
            State::Ready(VecDeque::from([bad(&fallback, None, reason)]))
        }
    }
}

/// Read the input and emit its items until done or `emit` says stop.
fn read(mut input: Box<dyn BufRead + Send>, ctx: &ParseContext, emit: &mut dyn FnMut(Item) -> bool) {
    let mut data = Vec::new();
    let mut trailer = None;
    match (&mut input).take(MAX_INPUT).read_to_end(&mut data) {
        Err(e) => {
            let at = data.len() as u64;
            trailer = Some(bad(ctx, Some(at), format!("read error: {e}")));
        }
        Ok(_) if data.len() as u64 >= MAX_INPUT => {
            let mut more = [0u8; 1];
            if matches!(input.read(&mut more), Ok(n) if n > 0) {
                let reason = format!("input larger than {MAX_INPUT} bytes; the rest was not read");
                trailer = Some(bad(ctx, Some(MAX_INPUT), reason));
            }
        }
        Ok(_) => {}
    }
    if trailer.is_none() {
        trailer = partial_chunk(&data, ctx);
    }

    let parser = match EvtxParser::from_buffer(data) {
        Ok(p) => p,
        Err(e) => {
            let reason = format!("not a valid EVTX file: {}", chain(&e));
            if emit(bad(ctx, Some(0), reason))
                && let Some(t) = trailer
            {
                emit(t);
            }
            return;
        }
    };
    let settings = ParserSettings::new()
        .num_threads(0)
        .separate_json_attributes(false)
        .indent(false);
    let mut parser = parser.with_configuration(settings);
    let worker_ctx = ctx.clone();
    let records = parser.serialized_records(move |record| {
        let record = record?;
        let id = record.event_record_id;
        let time = DateTime::from_timestamp_micros(record.timestamp.as_microsecond());
        let json = record.into_json()?;
        Ok(render(json.data, id, time, &worker_ctx))
    });
    for record in records {
        let item = match record {
            Ok(item) => item,
            Err(e) => crate_error(&e, ctx),
        };
        if !emit(item) {
            return;
        }
    }
    if let Some(t) = trailer {
        emit(t);
    }
}

/// One record's JSON as an event (or a bad record).
fn render(json: String, id: u64, time: Option<DateTime<Utc>>, ctx: &ParseContext) -> Item {
    let mapped = serde_json::from_str::<Value>(&json)
        .map_err(|e| format!("its JSON rendering does not parse: {e}"))
        .and_then(|value| map_record(&value, &json, time, ctx));
    match mapped {
        Ok(ev) => Item::Event(Box::new(ev)),
        Err(reason) => Item::Bad(BadRecord::new(
            ctx.location(None, None, None),
            format!("record {id}: {reason}"),
            json.as_bytes(),
        )),
    }
}

/// A bad record for an error of the crate, at the chunk (and offset) it
/// names.
fn crate_error(e: &EvtxError, ctx: &ParseContext) -> Item {
    let chunk_at = |chunk: u64| HEADER_LEN.saturating_add(chunk.saturating_mul(CHUNK_LEN));
    let at = match e {
        EvtxError::FailedToParseChunk { chunk_id, .. } => Some(chunk_at(*chunk_id)),
        EvtxError::FailedToReadRecordAt {
            chunk: Some(chunk),
            offset,
            ..
        } => Some(chunk_at(*chunk).saturating_add(*offset)),
        _ => None,
    };
    bad(ctx, at, chain(e))
}

/// A bad record for bytes after the last whole chunk, unless they are zeros.
fn partial_chunk(data: &[u8], ctx: &ParseContext) -> Option<Item> {
    let len = data.len() as u64;
    if len <= HEADER_LEN || !data.starts_with(MAGIC) {
        return None;
    }
    let rest = (len - HEADER_LEN) % CHUNK_LEN;
    let start = len - rest;
    let tail = data.get(start as usize..).unwrap_or_default();
    if rest == 0 || tail.iter().all(|&b| b == 0) {
        return None;
    }
    let reason = format!(
        "the input ends {rest} bytes into a chunk of {CHUNK_LEN}: it is cut off, and the records of that chunk were not read"
    );
    Some(bad(ctx, Some(start), reason))
}

fn bad(ctx: &ParseContext, at: Option<u64>, reason: String) -> Item {
    Item::Bad(BadRecord::new(ctx.location(None, None, at), reason, &[]))
}

/// An error and its sources, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn panicked(ctx: &ParseContext, panic: &(dyn Any + Send)) -> Item {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_string());
    bad(
        ctx,
        None,
        format!("the EVTX parser failed ({message}); the rest of the file was not read"),
    )
}

#[cfg(test)]
mod tests;
