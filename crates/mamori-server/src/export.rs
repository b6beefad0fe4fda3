//! Export a whole result set as NDJSON or CSV, streamed (constant memory).

use std::io::Write;

use mamori_model::{Event, Filter, TimeRange};
use mamori_store::{EventStore, StoreError};

use crate::access::{ScopeError, Scoped};
use serde_json::Value;

/// Write every event matching `filter` to `out` as `kind` (`ndjson` or `csv`
/// with `columns`), newest first. Returns the number written.
pub fn export(
    store: &dyn EventStore,
    tenants: &[String],
    filter: &Filter,
    range: &TimeRange,
    kind: &str,
    columns: &[String],
    out: &mut dyn Write,
) -> Result<u64, StoreError> {
    export_with(
        |visit| store.scan(tenants, filter, range, visit),
        kind,
        columns,
        out,
    )
}

/// [`export`] through a principal's view of the store (the API's exports).
pub fn export_scoped(
    scoped: &Scoped<'_>,
    tenants: &[String],
    filter: &Filter,
    range: &TimeRange,
    kind: &str,
    columns: &[String],
    out: &mut dyn Write,
) -> Result<u64, ScopeError> {
    export_with(
        |visit| scoped.scan(tenants, filter, range, visit),
        kind,
        columns,
        out,
    )
}

type Visit<'a> = &'a mut dyn FnMut(Event) -> Result<bool, StoreError>;

fn export_with<E: From<StoreError>>(
    scan: impl FnOnce(Visit<'_>) -> Result<u64, E>,
    kind: &str,
    columns: &[String],
    out: &mut dyn Write,
) -> Result<u64, E> {
    let csv = kind == "csv";
    let io = |e: std::io::Error| StoreError::Engine {
        action: "writing the export".into(),
        message: e.to_string(),
    };
    if csv {
        writeln!(
            out,
            "{}",
            columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",")
        )
        .map_err(io)?;
    }
    scan(&mut |ev: Event| {
        if csv {
            let row: Vec<String> = columns.iter().map(|c| csv_cell(&cell(&ev, c))).collect();
            writeln!(out, "{}", row.join(",")).map_err(io)?;
        } else {
            writeln!(out, "{}", ev.to_json()).map_err(io)?;
        }
        Ok(true)
    })
}

/// A field's value as one CSV cell: several values joined by `;`, objects as JSON.
fn cell(ev: &Event, field: &str) -> String {
    ev.values(field)
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A data cell: [`quote`]d, with a leading `'` against spreadsheet formula injection.
pub fn csv_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        quote(&format!("'{s}"))
    } else {
        quote(s)
    }
}

/// RFC 4180 quoting.
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_guarded() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_cell("-5"), "-5");
    }
}
