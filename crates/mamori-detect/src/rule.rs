//! A compiled Sigma rule and its metadata.

use std::fmt;
use std::path::PathBuf;

use mamori_model::Filter;
use serde::Serialize;

/// Sigma `level`, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium` (also when a rule gives no level).
    #[default]
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// Read a Sigma level (case-insensitive); `None` if unknown.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The Sigma spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sigma `logsource`: which events a rule is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogSource {
    /// `product` (windows, linux, aws, …).
    pub product: Option<String>,
    /// `service` (security, sysmon, cloudtrail, …).
    pub service: Option<String>,
    /// `category` (process_creation, webserver, …).
    pub category: Option<String>,
    /// `definition`: free text for humans.
    pub definition: Option<String>,
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = [&self.product, &self.service, &self.category]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect();
        f.write_str(&parts.join("/"))
    }
}

/// MITRE ATT&CK references found in a rule's tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Attack {
    /// Tactics, as ATT&CK names them (`credential-access`, `lateral-movement`).
    pub tactics: Vec<String>,
    /// Techniques and sub-techniques (`T1003`, `T1059.001`).
    pub techniques: Vec<String>,
}

/// The ATT&CK tactics (short names), enterprise matrix.
const TACTICS: &[&str] = &[
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "defense-impairment",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

impl Attack {
    /// Extract tactics and techniques from Sigma tags (`attack.execution`, `attack.t1059.001`).
    pub fn from_tags(tags: &[String]) -> Attack {
        let mut out = Attack::default();
        for tag in tags {
            let Some(rest) = tag
                .to_ascii_lowercase()
                .strip_prefix("attack.")
                .map(str::to_string)
            else {
                continue;
            };
            let tactic = rest.replace('_', "-");
            if TACTICS.contains(&tactic.as_str()) {
                if !out.tactics.contains(&tactic) {
                    out.tactics.push(tactic);
                }
            } else if is_technique(&rest) {
                let t = rest.to_ascii_uppercase();
                if !out.techniques.contains(&t) {
                    out.techniques.push(t);
                }
            }
        }
        out
    }
}

/// `t1234` or `t1234.001`.
fn is_technique(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b't' && digits(&b[1..]),
        9 => b[0] == b't' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

/// A Sigma detection rule compiled into the filter AST.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// `id` (a UUID in SigmaHQ); the file path when the rule has none.
    pub id: String,
    /// `name` (used by correlation rules), if any.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `status` (stable, test, experimental, deprecated, unsupported), if given.
    pub status: Option<String>,
    /// `description`, if given.
    pub description: Option<String>,
    /// `author`, if given.
    pub author: Option<String>,
    /// `level`.
    pub level: Level,
    /// `tags` as written.
    pub tags: Vec<String>,
    /// ATT&CK tactics and techniques from the tags.
    pub attack: Attack,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `logsource`.
    pub logsource: LogSource,
    /// `fields`, mapped to Mamori fields: what an analyst wants to see in a hit.
    pub fields: Vec<String>,
    /// The filter selecting the rule's log source (from the mapping).
    #[serde(skip)]
    pub guard: Filter,
    /// The compiled `detection` and `condition`.
    #[serde(skip)]
    pub detection: Filter,
    /// The Mamori fields the detection reads (for timelines and explanations).
    pub detection_fields: Vec<String>,
    /// Ids of the Sigma filters (meta filters) applied to the detection.
    pub filters: Vec<String>,
    /// Where the rule was read from, if from a file.
    pub path: Option<PathBuf>,
}

impl Rule {
    /// The whole filter: log source and detection.
    pub fn filter(&self) -> Filter {
        Filter::and(vec![self.guard.clone(), self.detection.clone()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags() {
        let tags: Vec<String> = [
            "attack.credential_access",
            "attack.t1003.001",
            "attack.T1059",
            "attack.g0007",
            "cve.2021-1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = Attack::from_tags(&tags);
        assert_eq!(a.tactics, ["credential-access"]);
        assert_eq!(a.techniques, ["T1003.001", "T1059"]);
    }

    #[test]
    fn levels_order() {
        assert!(Level::Critical > Level::High);
        assert_eq!(Level::parse("HIGH"), Some(Level::High));
        assert_eq!(Level::parse("urgent"), None);
    }
}
