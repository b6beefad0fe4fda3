//! The dead letter: records that could not be read, kept with their place and
//! reason in `<data>/dead-letter/<tenant>.ndjson`, one JSON object per line.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use mamori_formats::record::BadRecord;
use serde_json::{Map, Value, json};

/// Appends bad records for one tenant.
pub struct DeadLetter {
    path: PathBuf,
    out: BufWriter<File>,
    /// Records written by this writer.
    pub count: u64,
}

impl DeadLetter {
    /// Open (append) the dead letter of `tenant`.
    pub fn open(data_dir: &Path, tenant: &str) -> io::Result<Self> {
        let dir = data_dir.join("dead-letter");
        std::fs::create_dir_all(&dir).map_err(|e| in_file(&dir, "creating", e))?;
        let path = dir.join(format!("{tenant}.ndjson"));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| in_file(&path, "opening", e))?;
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
    pub fn write(&mut self, tenant: &str, bad: &BadRecord) -> io::Result<()> {
        self.write_with(tenant, bad, &Map::new())
    }

    /// Keep one bad record with more fields (a syslog sender, listener and
    /// size); they cannot replace the standard ones.
    pub fn write_with(
        &mut self,
        tenant: &str,
        bad: &BadRecord,
        extra: &Map<String, Value>,
    ) -> io::Result<()> {
        let mut line = json!({
            "time": Utc::now().to_rfc3339(),
            "tenant": tenant,
            "source": bad.location.source,
            "line": bad.location.line,
            "column": bad.location.column,
            "byte_offset": bad.location.byte_offset,
            "reason": bad.reason,
            "raw": bad.raw,
        });
        if let Some(obj) = line.as_object_mut() {
            for (k, v) in extra {
                obj.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        writeln!(self.out, "{line}").map_err(|e| in_file(&self.path, "writing", e))?;
        self.count += 1;
        Ok(())
    }

    /// Flush to disk (before the events of the same input are committed).
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush().map_err(|e| in_file(&self.path, "writing", e))?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(|e| in_file(&self.path, "syncing", e))
    }
}

/// An I/O error that names the file and what was being done.
fn in_file(path: &Path, doing: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{doing} {}: {e}", path.display()))
}
