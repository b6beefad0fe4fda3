//! Mamori's detection core: Sigma rules compiled into the one filter AST
//! (rule collections and meta filters included), field and log-source
//! mappings, a streaming [`Detector`] with a literal prefilter, and a
//! [`Correlator`] for Sigma correlation rules (chains included).
//!
//! Pure: no storage and no clock of its own (the correlator is given the time).
//!
//! ```
//! use mamori_detect::{Detector, Mappings, RuleSet};
//! let yaml = r#"
//! title: Whoami
//! id: 1
//! logsource: { product: windows, category: process_creation }
//! detection:
//!   sel: { Image|endswith: '\whoami.exe' }
//!   condition: sel
//! "#;
//! let set = RuleSet::from_yaml(yaml, &Mappings::builtin());
//! assert!(set.errors.is_empty());
//! let detector = Detector::new(set.rules);
//! assert_eq!(detector.stats().rules, 1);
//! ```

pub mod correlation;
pub mod detector;
pub mod error;
pub mod mapping;
pub mod meta_filter;
mod plan;
mod prefilter;
pub mod rule;
pub mod ruleset;
mod sigma;

pub use correlation::{CorrelationAlert, CorrelationRule, CorrelationType, Correlator, Limits};
pub use detector::{Detector, DetectorStats, Explanation, RuleMatch, explain};
pub use error::{ErrorKind, MappingError, RuleError};
pub use mapping::Mappings;
pub use meta_filter::MetaFilter;
pub use rule::{Attack, Level, LogSource, Rule};
pub use ruleset::{LoadError, RuleSet};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn shareable() {
        assert_send_sync::<Detector>();
        assert_send_sync::<RuleSet>();
    }
}
