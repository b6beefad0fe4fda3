//! Detection at ingest: the configured Sigma rules run on every event before
//! it is stored; what they find becomes [`Detection`]s, grouped into alerts
//! by the state database once the events are durable.

use std::path::PathBuf;
use std::sync::Arc;

use mamori_detect::{Detector, Mappings, RuleSet};
use mamori_model::Event;
use serde::Deserialize;

use crate::state::Detection;

/// `[detection]` in `mamori.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionConfig {
    /// Folders or files of Sigma rules.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Extra field mapping files (on top of the built-in ones).
    #[serde(default)]
    pub mappings: Vec<PathBuf>,
}

/// The rules in force and their detector.
pub struct RuleEngine {
    detector: Detector,
    /// Rule files that did not load, with their reasons.
    pub errors: Vec<String>,
}

/// Fields that name what an alert is about, in order of preference.
const ENTITY_FIELDS: &[&str] = &[
    "host.name",
    "user.name",
    "aws.cloudtrail.user_identity.access_key_id",
    "source.ip",
];

impl RuleEngine {
    /// Load the configured rules (`None` when none are configured).
    pub fn load(cfg: &DetectionConfig) -> Result<Option<Arc<RuleEngine>>, String> {
        if cfg.rules.is_empty() {
            return Ok(None);
        }
        let mut mappings = Mappings::builtin();
        for m in &cfg.mappings {
            mappings
                .add_file(m)
                .map_err(|e| format!("mapping {}: {e}", m.display()))?;
        }
        let mut set = RuleSet::default();
        for path in &cfg.rules {
            if path.is_dir() {
                let more = RuleSet::load_dir(path, &mappings)
                    .map_err(|e| format!("rules {}: {e}", path.display()))?;
                set.merge(more);
            } else {
                set.add_file(path, &mappings);
            }
        }
        let errors = set.errors.iter().map(|e| e.to_string()).collect();
        Ok(Some(Arc::new(RuleEngine {
            detector: Detector::new(set.rules),
            errors,
        })))
    }

    /// Rules in force.
    pub fn rule_count(&self) -> usize {
        self.detector.rules().len()
    }

    /// What the rules find in `events`.
    pub fn detections(&self, events: &[Event]) -> Vec<Detection> {
        let mut out = Vec::new();
        for ev in events {
            for m in self.detector.detect(ev) {
                let group_key = ENTITY_FIELDS
                    .iter()
                    .find_map(|f| ev.get_str(f).map(|v| format!("{f}:{v}")))
                    .unwrap_or_else(|| "-".into());
                out.push(Detection {
                    tenant: ev.tenant().to_string(),
                    rule_id: m.rule.id.clone(),
                    rule_title: m.rule.title.clone(),
                    level: m.rule.level.as_str().to_string(),
                    tactics: m.rule.attack.tactics.clone(),
                    techniques: m.rule.attack.techniques.clone(),
                    group_key,
                    event_id: ev.id().to_string(),
                    at: ev.timestamp(),
                });
            }
        }
        out
    }
}
