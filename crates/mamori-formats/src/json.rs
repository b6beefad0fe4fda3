//! Small helpers for JSON values and serde's errors in messages.

use serde_json::Value;

/// How a JSON value is named in messages ("an array").
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde's message without its own position (which is relative to the
/// parsed slice).
pub(crate) fn message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

/// Where serde's error is in the input, for a slice parsed from `line`,
/// `column` (1-based) of the input: (line, column), or `None` when serde
/// gives no position.
pub(crate) fn position(e: &serde_json::Error, line: u64, column: u64) -> Option<(u64, u64)> {
    if e.line() == 0 {
        return None;
    }
    let l = line + e.line() as u64 - 1;
    let c = if e.line() == 1 {
        column + e.column() as u64 - 1
    } else {
        e.column() as u64
    };
    Some((l, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_made_absolute() {
        let e = serde_json::from_str::<Value>("{\"a\":\n x}").unwrap_err();
        assert_eq!(message(&e), "expected value");
        assert_eq!(position(&e, 10, 5), Some((11, 2)));
        let e = serde_json::from_str::<Value>("{\"a\" 1}").unwrap_err();
        assert_eq!(position(&e, 3, 4), Some((3, 9)));
        assert_eq!(kind(&Value::Null), "null");
    }
}
