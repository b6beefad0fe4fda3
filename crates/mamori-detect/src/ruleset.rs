//! Loading rules from files and folders, keeping every failure with its reason.
//!
//! A file may hold several documents, with the action documents of a Sigma
//! rule collection (see `sigma::collection`). Meta filters are applied once
//! the documents of a load are read (see [`meta_filter`](crate::meta_filter)):
//! load everything a filter refers to in one call ([`RuleSet::load_paths`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::correlation::CorrelationRule;
use crate::error::{ErrorKind, RuleError};
use crate::mapping::Mappings;
use crate::meta_filter::MetaFilter;
use crate::rule::Rule;
use crate::sigma::collection;
use crate::sigma::document::{Document, documents, read};

/// A rule document that could not be loaded.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// The file, if read from one.
    pub path: Option<PathBuf>,
    /// The rule's `id`, when it could be read.
    pub id: Option<String>,
    /// The rule's `title`, when it could be read.
    pub title: Option<String>,
    /// Why.
    pub error: RuleError,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
        if let Some(t) = &self.title {
            write!(f, "{t}: ")?;
        }
        write!(f, "{}", self.error)
    }
}

/// Rules loaded from YAML: the compiled ones and the ones refused, each with its reason.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Compiled detection rules.
    pub rules: Vec<Arc<Rule>>,
    /// Correlation rules (bind them with [`Correlator::new`](crate::Correlator::new)).
    pub correlations: Vec<CorrelationRule>,
    /// Sigma filters (meta filters) read; already applied to the rules they name.
    pub filters: Vec<MetaFilter>,
    /// Documents that were not loaded, and filter references that could not be applied.
    pub errors: Vec<LoadError>,
    /// Files read.
    pub files: usize,
}

impl RuleSet {
    /// Rules from YAML text (one or more documents), filters applied.
    pub fn from_yaml(text: &str, mappings: &Mappings) -> RuleSet {
        let mut set = RuleSet::default();
        set.add_text(text, None, mappings);
        set.apply_filters(mappings);
        set
    }

    /// Every rule under these folders and files as one set, so that filters
    /// and correlations may name rules of any of them.
    pub fn load_paths(paths: &[PathBuf], mappings: &Mappings) -> std::io::Result<RuleSet> {
        let mut files = Vec::new();
        for p in paths {
            if p.is_file() {
                files.push(p.clone());
            } else {
                let mut more = Vec::new();
                collect_yaml(p, &mut more)?;
                more.sort();
                files.extend(more);
            }
        }
        Ok(Self::load_files(&files, mappings))
    }

    /// Every `*.yml` / `*.yaml` file under `dir` (recursively), read on all
    /// cores; a path that is a file is read alone. Files are taken in path
    /// order, so the result does not depend on the thread count.
    pub fn load_dir(dir: &Path, mappings: &Mappings) -> std::io::Result<RuleSet> {
        let mut paths = Vec::new();
        if dir.is_file() {
            paths.push(dir.to_path_buf());
        } else {
            collect_yaml(dir, &mut paths)?;
        }
        paths.sort();
        Ok(Self::load_files(&paths, mappings))
    }

    /// Load these files (on all cores), filters applied.
    pub fn load_files(paths: &[PathBuf], mappings: &Mappings) -> RuleSet {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(paths.len().max(1));
        let chunk = paths.len().div_ceil(threads).max(1);
        let parts: Vec<RuleSet> = std::thread::scope(|s| {
            let handles: Vec<_> = paths
                .chunks(chunk)
                .map(|chunk| {
                    s.spawn(move || {
                        let mut set = RuleSet::default();
                        for p in chunk {
                            set.add_file(p, mappings);
                        }
                        set
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut out = RuleSet::default();
        for p in parts {
            out.merge(p);
        }
        out.apply_filters(mappings);
        out
    }

    /// Add another set's rules, correlations, filters and errors. Filters
    /// are not applied across the two sets: load them together with
    /// [`RuleSet::load_paths`] for that.
    pub fn merge(&mut self, other: RuleSet) {
        self.rules.extend(other.rules);
        self.correlations.extend(other.correlations);
        self.filters.extend(other.filters);
        self.errors.extend(other.errors);
        self.files += other.files;
    }

    /// Apply every filter to the rules it names (a rule already tuned by a
    /// filter is left as it is); references that cannot be applied become errors.
    /// The loaders call this; call it after reading with [`RuleSet::add_file`].
    pub fn apply_filters(&mut self, mappings: &Mappings) {
        for f in &self.filters {
            let problems = f.apply(&mut self.rules, &self.correlations, mappings);
            self.errors.extend(problems);
        }
    }

    /// Read one file into the set (filters are applied by [`RuleSet::apply_filters`]).
    pub fn add_file(&mut self, path: &Path, mappings: &Mappings) {
        self.files += 1;
        match std::fs::read_to_string(path) {
            Ok(text) => self.add_text(&text, Some(path), mappings),
            Err(e) => self.errors.push(LoadError {
                path: Some(path.to_path_buf()),
                id: None,
                title: None,
                error: RuleError::new(ErrorKind::Yaml, format!("cannot read: {e}")),
            }),
        }
    }

    fn add_text(&mut self, text: &str, path: Option<&Path>, mappings: &Mappings) {
        let docs = match documents(text) {
            Ok(d) => d,
            Err(error) => {
                self.errors.push(LoadError {
                    path: path.map(Path::to_path_buf),
                    id: None,
                    title: None,
                    error,
                });
                return;
            }
        };
        for collection::Expanded { doc, error } in collection::expand(docs) {
            let outcome = match error {
                Some(e) => Err(e),
                None => read(&doc, mappings, path),
            };
            match outcome {
                Ok(Document::Rule(r)) => self.rules.push(Arc::from(r)),
                Ok(Document::Correlation(c)) => self.correlations.push(*c),
                Ok(Document::Filter(f)) => self.filters.push(*f),
                Err(error) => {
                    let s = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    self.errors.push(LoadError {
                        path: path.map(Path::to_path_buf),
                        id: s("id"),
                        title: s("title"),
                        error,
                    });
                }
            }
        }
    }

    /// Rule documents seen: loaded rules, correlations and errors (filters
    /// are counted apart, in `filters`).
    pub fn total(&self) -> usize {
        self.rules.len() + self.correlations.len() + self.errors.len()
    }

    /// Unsupported documents counted by reason family.
    pub fn errors_by_kind(&self) -> BTreeMap<ErrorKind, usize> {
        let mut out = BTreeMap::new();
        for e in &self.errors {
            *out.entry(e.error.kind).or_insert(0) += 1;
        }
        out
    }

    /// Keep only the rules `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&Rule) -> bool) {
        self.rules.retain(|r| keep(r));
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_yaml(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            out.push(path);
        }
    }
    Ok(())
}
