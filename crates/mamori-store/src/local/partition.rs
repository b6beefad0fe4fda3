//! Partitions: one tantivy index per tenant per UTC day, at
//! `<root>/<tenant>/<YYYY-MM-DD>/`. Retention deletes whole folders; a query
//! opens only the days its time range touches.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use tantivy::schema::Field;
use tantivy::schema::Schema;
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{Index, IndexReader, IndexSettings, ReloadPolicy, Searcher};

use super::schema::{WORDS_TOKENIZER, words_analyzer};
use crate::StoreError;

/// Which partition an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    /// Tenant.
    pub tenant: String,
    /// UTC day of `@timestamp`.
    pub day: NaiveDate,
}

impl PartitionKey {
    /// The partition of a tenant's event at `ts`.
    pub fn of(tenant: &str, ts: DateTime<Utc>) -> Self {
        PartitionKey {
            tenant: tenant.to_string(),
            day: ts.date_naive(),
        }
    }

    /// Folder of this partition under `root`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join(&self.tenant)
            .join(self.day.format("%Y-%m-%d").to_string())
    }

    /// `[start, end)` of the day in µs.
    pub fn span_micros(&self) -> (i64, i64) {
        let start = self.day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        (
            start.timestamp_micros(),
            start.timestamp_micros() + 86_400_000_000,
        )
    }
}

/// An open partition.
pub struct Partition {
    pub key: PartitionKey,
    pub index: Index,
    pub reader: IndexReader,
}

fn settings() -> IndexSettings {
    IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor {
            compression_level: Some(3),
        }),
        docstore_blocksize: 128 * 1024,
        ..IndexSettings::default()
    }
}

/// Open a partition, creating it when `create` is set and it does not exist.
pub fn open(
    root: &Path,
    key: &PartitionKey,
    schema: &Schema,
    create: bool,
) -> Result<Option<Partition>, StoreError> {
    let dir = key.dir(root);
    let what = || format!("opening partition {}", dir.display());
    let index = if dir.join("meta.json").exists() {
        Index::open_in_dir(&dir).map_err(|e| StoreError::engine(what(), e))?
    } else if create {
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::engine(what(), e))?;
        Index::builder()
            .schema(schema.clone())
            .settings(settings())
            .create_in_dir(&dir)
            .map_err(|e| StoreError::engine(what(), e))?
    } else {
        return Ok(None);
    };
    index.tokenizers().register(WORDS_TOKENIZER, words_analyzer());
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|e| StoreError::engine(what(), e))?;
    Ok(Some(Partition {
        key: key.clone(),
        index,
        reader,
    }))
}

/// The partitions of `tenant` whose day overlaps `[from, to)` (µs), oldest first.
pub fn list(root: &Path, tenant: &str, from: i64, to: i64) -> Result<Vec<PartitionKey>, StoreError> {
    let dir = root.join(tenant);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::engine(format!("listing {}", dir.display()), e)),
    };
    let mut keys = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(day) = name
            .to_str()
            .and_then(|n| NaiveDate::parse_from_str(n, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let key = PartitionKey {
            tenant: tenant.to_string(),
            day,
        };
        let (start, end) = key.span_micros();
        if start < to && from < end && entry.path().join("meta.json").exists() {
            keys.push(key);
        }
    }
    keys.sort();
    Ok(keys)
}

/// The field paths present in a partition (the terms of its `fields` field).
pub fn paths(searcher: &Searcher, fields: Field) -> Result<Vec<String>, StoreError> {
    let mut out = std::collections::BTreeSet::new();
    for seg in searcher.segment_readers() {
        let inv = seg
            .inverted_index(fields)
            .map_err(|e| StoreError::engine("listing fields", e))?;
        let mut stream = inv
            .terms()
            .stream()
            .map_err(|e| StoreError::engine("listing fields", e))?;
        while stream.advance() {
            out.insert(String::from_utf8_lossy(stream.key()).into_owned());
        }
    }
    Ok(out.into_iter().collect())
}

/// Bytes of the files under a folder.
pub fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_bytes(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

/// What Mamori writes into each commit of a partition (tantivy's commit
/// payload, saved atomically with the commit in `meta.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    /// Bytes of the original records of every event committed so far.
    #[serde(default)]
    pub raw_bytes: u64,
}

impl Payload {
    /// A payload counting `raw_bytes`.
    pub fn new(raw_bytes: u64) -> Self {
        Payload { raw_bytes }
    }

    /// The payload as stored.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).expect("a struct of numbers serializes")
    }
}

/// The payload of a partition's last commit (zero for partitions written
/// before payloads existed).
pub fn payload(index: &Index) -> Result<Payload, StoreError> {
    let metas = index
        .load_metas()
        .map_err(|e| StoreError::engine("reading a partition's commit", e))?;
    Ok(metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default())
}

/// A partition as one request sees it: the searcher taken when the request
/// began, so segment ordinals found by one step stay valid in the next
/// whatever other requests reload meanwhile (a reload after a merge
/// renumbers segments).
#[derive(Clone)]
pub struct View {
    pub part: std::sync::Arc<Partition>,
    pub searcher: Searcher,
}

impl View {
    /// The partition as its reader sees it now.
    pub fn of(part: std::sync::Arc<Partition>) -> Self {
        let searcher = part.reader.searcher();
        View { part, searcher }
    }
}

impl std::ops::Deref for View {
    type Target = Partition;
    fn deref(&self) -> &Partition {
        &self.part
    }
}
