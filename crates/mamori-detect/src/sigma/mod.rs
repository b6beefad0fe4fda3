//! Reading Sigma rules: YAML documents to [`Rule`](crate::Rule)s and
//! correlation rules, compiled into the filter AST.

pub(crate) mod collection;
pub(crate) mod condition;
pub(crate) mod document;
pub(crate) mod modifiers;
pub(crate) mod string;
