//! The dead letter: records that could not be read, kept with their place and
//! reason in `<data>/dead-letter/<tenant>.ndjson`, one JSON object per line.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use mamori_formats::record::BadRecord;
use serde_json::json;

/// Appends bad records for one tenant.
pub struct DeadLetter {
    path: PathBuf,
    out: BufWriter<File>,
    /// Records written by this writer.
    pub count: u64,
}

impl DeadLetter {
    /// Open (append) the dead letter of `tenant`.
    pub fn open(data_dir: &Path, tenant: &str) -> anyhow::Result<Self> {
        let dir = data_dir.join("dead-letter");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{tenant}.ndjson"));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(DeadLetter {
            path,
            out: BufWriter::new(file),
            count: 0,
        })
    }

    /// Where the records go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keep one bad record.
    pub fn write(&mut self, tenant: &str, bad: &BadRecord) -> anyhow::Result<()> {
        let line = json!({
            "time": Utc::now().to_rfc3339(),
            "tenant": tenant,
            "source": bad.location.source,
            "line": bad.location.line,
            "column": bad.location.column,
            "byte_offset": bad.location.byte_offset,
            "reason": bad.reason,
            "raw": bad.raw,
        });
        writeln!(self.out, "{line}").with_context(|| format!("writing {}", self.path.display()))?;
        self.count += 1;
        Ok(())
    }

    /// Flush to disk (before the events of the same input are committed).
    pub fn sync(&mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        Ok(())
    }
}
