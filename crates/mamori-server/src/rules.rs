//! Detection at ingest: the configured Sigma rules run on every event before
//! it is stored; what they find becomes [`Detection`]s, grouped into alerts
//! by the state database once the events are durable.

use std::path::PathBuf;
use std::sync::Arc;

use mamori_detect::{CorrelationAlert, Correlator, Detector, Mappings, RuleMatch, RuleSet};
use mamori_model::Event;
use serde::Deserialize;

use std::collections::{HashMap, HashSet};

use mamori_model::filter::Matcher;

use crate::state::{Detection, Exclusion, StateDb, StateError};

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

/// The rules in force, their detector and the correlations over them.
pub struct RuleEngine {
    detector: Detector,
    /// Correlation state per tenant (built from `correlation_rules` on a tenant's first match),
    /// so one customer's events never complete another's correlation.
    correlators: std::sync::Mutex<HashMap<String, Correlator>>,
    correlation_rules: Vec<mamori_detect::CorrelationRule>,
    mappings: Mappings,
    /// Rules (and correlations) referenced by correlations that do not `generate` their own alerts.
    silent: HashSet<String>,
    /// Rule files that did not load, with their reasons.
    pub errors: Vec<String>,
}

/// Events matched per thread at a time: a batch amortizes spawning a thread.
pub const DETECT_BATCH: usize = 4096;

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
        // One set, so that filters and correlations may name rules of any folder.
        let set = RuleSet::load_paths(&cfg.rules, &mappings).map_err(|e| {
            let shown: Vec<String> = cfg.rules.iter().map(|p| p.display().to_string()).collect();
            format!("rules {}: {e}", shown.join(", "))
        })?;
        let mut errors: Vec<String> = set.errors.iter().map(|e| e.to_string()).collect();
        let silent: HashSet<String> = set
            .correlations
            .iter()
            .filter(|c| !c.generate)
            .flat_map(|c| c.rules.iter().cloned())
            .collect();
        let correlation_rules = if set.correlations.is_empty() {
            Vec::new()
        } else {
            // Checked once here; each tenant's correlator is built the same way later.
            match Correlator::new(set.correlations.clone(), &set.rules, &mappings) {
                Ok(_) => set.correlations,
                Err(e) => {
                    errors.push(format!("correlation rules not loaded: {e}"));
                    Vec::new()
                }
            }
        };
        // A correlation names its rules (detection rules or other correlations) by id or by name.
        let named = |id: &String, name: &Option<String>| {
            silent.contains(id) || name.as_ref().is_some_and(|n| silent.contains(n))
        };
        let silent = set
            .rules
            .iter()
            .filter(|r| named(&r.id, &r.name))
            .map(|r| r.id.clone())
            .chain(
                correlation_rules
                    .iter()
                    .filter(|c| named(&c.id, &c.name))
                    .map(|c| c.id.clone()),
            )
            .collect();
        Ok(Some(Arc::new(RuleEngine {
            detector: Detector::new(set.rules),
            correlators: std::sync::Mutex::new(HashMap::new()),
            correlation_rules,
            mappings,
            silent,
            errors,
        })))
    }

    /// The rules loaded.
    pub fn rules(&self) -> &[Arc<mamori_detect::Rule>] {
        self.detector.rules()
    }

    /// Feed a match to its tenant's correlator.
    fn correlate(&self, m: &RuleMatch, ev: &Event) -> Vec<CorrelationAlert> {
        let mut all = self.correlators.lock().unwrap_or_else(|p| p.into_inner());
        if !all.contains_key(ev.tenant()) {
            match Correlator::new(
                self.correlation_rules.clone(),
                self.detector.rules(),
                &self.mappings,
            ) {
                Ok(c) => {
                    all.insert(ev.tenant().to_string(), c);
                }
                Err(_) => return Vec::new(),
            }
        }
        all.get_mut(ev.tenant())
            .map(|c| c.observe(m, ev, ev.timestamp()))
            .unwrap_or_default()
    }

    /// Rules in force.
    pub fn rule_count(&self) -> usize {
        self.detector.rules().len()
    }

    /// What the rules find in `events`.
    pub fn detections(&self, events: &[Event]) -> Vec<Detection> {
        self.detections_except(events, &Suppressions::default()).0
    }

    /// The detector's matches for each event, in order. Beyond one batch
    /// ([`DETECT_BATCH`] events), batches are spread over the cores.
    pub fn matches(&self, events: &[Event]) -> Vec<Vec<RuleMatch>> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(events.len().div_ceil(DETECT_BATCH));
        if threads <= 1 {
            return events.iter().map(|ev| self.detector.detect(ev)).collect();
        }
        let per_thread = events.len().div_ceil(threads);
        std::thread::scope(|s| {
            let parts: Vec<_> = events
                .chunks(per_thread)
                .map(|part| {
                    s.spawn(move || part.iter().map(|ev| self.detector.detect(ev)).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| {
                    // A panic in the detector is a bug; re-raise it on the caller's thread.
                    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
                })
                .collect()
        })
    }

    /// What the rules find in `events`, less what active exclusions
    /// suppress; also returns how many each exclusion suppressed. Matching
    /// runs batch-wise on all cores ([`RuleEngine::matches`]); exclusions and
    /// correlations then follow the events' order.
    pub fn detections_except(
        &self,
        events: &[Event],
        except: &Suppressions,
    ) -> (Vec<Detection>, HashMap<i64, u64>) {
        let mut out = Vec::new();
        let mut hits: HashMap<i64, u64> = HashMap::new();
        for (ev, found) in events.iter().zip(self.matches(events)) {
            for m in found {
                if except.disabled_rules.contains(&m.rule.id) {
                    continue;
                }
                if let Some(x) = except.suppressing(ev.tenant(), &m.rule.id, ev) {
                    *hits.entry(x).or_default() += 1;
                    continue;
                }
                if !self.correlation_rules.is_empty() {
                    let fired = self.correlate(&m, ev);
                    out.extend(
                        fired
                            .iter()
                            .filter(|a| !self.silent.contains(&a.rule.id))
                            .flat_map(|a| correlation_detections(ev.tenant(), a)),
                    );
                }
                if self.silent.contains(&m.rule.id) {
                    continue;
                }
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
        (out, hits)
    }
}

/// A fired correlation as detections: one per event in its window (alerts count each event once).
fn correlation_detections(tenant: &str, a: &CorrelationAlert) -> Vec<Detection> {
    let group_key = if a.group.is_empty() {
        "-".to_string()
    } else {
        a.group
            .iter()
            .map(|(f, v)| format!("{f}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    a.event_ids
        .iter()
        .map(|id| Detection {
            tenant: tenant.to_string(),
            rule_id: a.rule.id.clone(),
            rule_title: a.rule.title.clone(),
            level: a.rule.level.as_str().to_string(),
            tactics: a.rule.attack.tactics.clone(),
            techniques: a.rule.attack.techniques.clone(),
            group_key: group_key.clone(),
            event_id: id.clone(),
            at: a.last_seen,
        })
        .collect()
}

/// What suppresses detections now: rules switched off, and the exclusions
/// in force (approved, not expired, not revoked), compiled.
#[derive(Default)]
pub struct Suppressions {
    items: Vec<(Exclusion, Matcher)>,
    /// Ids of rules switched off.
    pub disabled_rules: HashSet<String>,
    /// Reload after this: the earliest expiry among them, or a minute from loading.
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Suppressions {
    /// Load the active exclusions from the state database.
    pub fn load(db: &StateDb) -> Result<Self, StateError> {
        let mut items = Vec::new();
        let mut valid_until = None;
        for x in db.exclusions()? {
            if x.state != "active" {
                continue;
            }
            let Ok(m) = mamori_model::filter::parse(&x.filter).and_then(|f| f.compile()) else {
                continue;
            };
            let exp = mamori_model::time::parse_instant(&x.expires_at);
            valid_until = match (valid_until, exp) {
                (None, e) => e,
                (Some(v), Some(e)) => Some(v.min(e)),
                (v, None) => v,
            };
            items.push((x, m));
        }
        // Re-read at least every minute, so changes made elsewhere (the CLI) take effect.
        let refresh = chrono::Utc::now() + chrono::Duration::seconds(60);
        let valid_until =
            Some(valid_until.map_or(refresh, |v: chrono::DateTime<chrono::Utc>| v.min(refresh)));
        Ok(Suppressions {
            items,
            valid_until,
            disabled_rules: db.disabled_rules()?,
        })
    }

    /// The exclusion suppressing a detection of `rule` on `ev` in `tenant`, if any.
    pub fn suppressing(&self, tenant: &str, rule: &str, ev: &Event) -> Option<i64> {
        self.items
            .iter()
            .find(|(x, m)| x.covers(tenant, rule) && m.matches(ev))
            .map(|(x, _)| x.id)
    }

    /// How many are in force.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none is in force.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
title: Failed logon
id: r-failed
name: failed_logon
logsource: { product: windows, service: security }
detection:
  sel: { EventID: 4625 }
  condition: sel
---
title: Logon
id: r-ok
name: ok_logon
logsource: { product: windows, service: security }
detection:
  sel: { EventID: 4624 }
  condition: sel
---
title: Many failed logons
id: c-many
name: many_failed
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 1h
  condition: { gte: 3 }
---
title: Brute force then success
id: c-chain
correlation:
  type: temporal_ordered
  rules: [many_failed, ok_logon]
  group-by: [TargetUserName]
  timespan: 1h
"#;

    fn logon(id: u32, user: &str, secs: i64) -> Event {
        let t = chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("valid time");
        let mut ev = Event::new("acme", t, format!("{id}-{user}-{secs}"));
        ev.set("winlog.channel", "Security".into());
        ev.set("winlog.event_id", id.to_string().into());
        ev.set("winlog.event_data.TargetUserName", user.into());
        ev
    }

    fn engine(dir: &tempfile::TempDir) -> Arc<RuleEngine> {
        let rules = dir.path().join("rules.yml");
        std::fs::write(&rules, RULES).unwrap();
        RuleEngine::load(&DetectionConfig {
            rules: vec![rules],
            mappings: Vec::new(),
        })
        .unwrap()
        .unwrap()
    }

    #[test]
    fn matches_in_parallel_batches_keep_the_events_order() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let events: Vec<Event> = (0..DETECT_BATCH as i64 * 2 + 17)
            .map(|i| logon(if i % 3 == 0 { 4625 } else { 4688 }, "bob", i))
            .collect();
        let batched = e.matches(&events);
        assert_eq!(batched.len(), events.len());
        for (i, (ev, found)) in events.iter().zip(&batched).enumerate() {
            let one: Vec<String> = e.detector.detect(ev).iter().map(|m| m.rule.id.clone()).collect();
            let got: Vec<String> = found.iter().map(|m| m.rule.id.clone()).collect();
            assert_eq!(got, one, "event {i}");
            assert_eq!(got.len(), usize::from(i % 3 == 0), "event {i}");
        }
    }

    #[test]
    fn chained_correlations_alert_once_and_inner_ones_stay_silent() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        let events = [
            logon(4625, "bob", 0),
            logon(4625, "bob", 10),
            logon(4625, "bob", 20),
            logon(4624, "bob", 30),
        ];
        let found = e.detections(&events);
        let rules: Vec<&str> = found.iter().map(|d| d.rule_id.as_str()).collect();
        // Counted rules and the inner correlation do not alert on their own
        // (no `generate`); the outer correlation alerts with its four events.
        assert_eq!(rules, ["c-chain"; 4], "{rules:?}");
        assert_eq!(found[0].group_key, "TargetUserName:bob");
    }
}
