//! The filter AST.

use ipnet::IpNet;

/// A filter over events. `Filter::All` is the empty filter (matches everything).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Matches every event (empty query, `*`).
    All,
    /// All of these (at least two).
    And(Vec<Filter>),
    /// Any of these (at least two).
    Or(Vec<Filter>),
    /// Not this.
    Not(Box<Filter>),
    /// `n of (a or b or c)`: at least `n` of the children hold (Sigma's
    /// `2 of selection_*`). `n` counts from 1; more than there are children never holds.
    AtLeast {
        /// How many children must hold.
        n: usize,
        /// The alternatives counted.
        children: Vec<Filter>,
    },
    /// `field:value`, or a bare value (`field: None`) matched against the
    /// words of every text value of the event.
    Match {
        /// ECS field name; `None` for a bare word or phrase.
        field: Option<String>,
        /// What to match.
        value: Pattern,
    },
    /// `field >= value` and friends.
    Compare {
        /// ECS field name.
        field: String,
        /// Operator.
        op: CompareOp,
        /// Right-hand side.
        value: Scalar,
    },
    /// `field:[a TO b]`, `{a TO b}` exclusive; `*` for an open end (`None`).
    Range {
        /// ECS field name.
        field: String,
        /// Lower end.
        lower: Option<Bound>,
        /// Upper end.
        upper: Option<Bound>,
    },
    /// `_exists_:field` or `field:*`: the field has a non-null value.
    Exists {
        /// ECS field name.
        field: String,
    },
    /// `field:=other`: some value of `field` equals some value of `other`
    /// (whole values, case-insensitive, numbers by their JSON text); Sigma's
    /// `fieldref`. `field:=other*`, `field:=*other`, `field:=*other*`: a value
    /// of `field` starts with, ends with, contains a value of `other`;
    /// `field:==other` (and its `*` forms) compares case-sensitively.
    FieldRef {
        /// ECS field name.
        field: String,
        /// The field compared with.
        other: String,
        /// How a value of `field` must relate to a value of `other`.
        op: RefOp,
        /// Compare case-sensitively (Sigma's `cased`).
        cased: bool,
    },
    /// `@name` or `field:@name`: a reference to a tenant's context list,
    /// expanded to plain values by the caller before evaluation or storage.
    ListRef {
        /// Field, or `None` for a bare `@name` (matches the words of any text).
        field: Option<String>,
        /// List name (letters, digits, `_`, `-`, `.`).
        name: String,
    },
}

/// A value to match.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// An unquoted value without wildcards: whole-value equality for keyword
    /// fields (case-insensitive), a word for text fields and bare terms.
    Term(String),
    /// A quoted value: whole-value equality for keyword fields, a sequence of
    /// words for text fields and bare phrases.
    Phrase(String),
    /// An unquoted value with `*` (any run) or `?` (one character).
    Wildcard(Vec<WildPart>),
    /// An IP network written as CIDR (`10.0.0.0/8`); matches addresses inside it.
    Cidr(IpNet),
    /// `/regex/`: the whole value matches the regular expression (Rust syntax).
    Regex(String),
}

/// How [`Filter::FieldRef`] compares a value of its field with a value of the other field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefOp {
    /// The whole values are equal (`field:=other`).
    #[default]
    Equals,
    /// The field's value starts with the other's (`field:=other*`).
    StartsWith,
    /// The field's value ends with the other's (`field:=*other`).
    EndsWith,
    /// The field's value contains the other's (`field:=*other*`).
    Contains,
}

impl RefOp {
    /// Whether `value` relates to `other` this way (both already in the case to compare).
    pub fn holds(self, value: &str, other: &str) -> bool {
        match self {
            RefOp::Equals => value == other,
            RefOp::StartsWith => value.starts_with(other),
            RefOp::EndsWith => value.ends_with(other),
            RefOp::Contains => value.contains(other),
        }
    }
}

/// One piece of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WildPart {
    /// Literal text.
    Literal(String),
    /// `*`: any run of characters, possibly empty.
    Any,
    /// `?`: exactly one character.
    One,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A literal on the right of a comparison or in a range. Numbers compare
/// numerically, IPs as addresses, RFC 3339 times as instants, anything else as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A number.
    Number(f64),
    /// Any other literal (time, IP, text).
    Text(String),
}

/// One end of a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The value.
    pub value: Scalar,
    /// `[`/`]` inclusive, `{`/`}` exclusive.
    pub inclusive: bool,
}

impl Filter {
    /// `a and b`, flattening nested ands and dropping `All`.
    pub fn and(items: Vec<Filter>) -> Filter {
        let mut out = Vec::new();
        for f in items {
            match f {
                Filter::All => {}
                Filter::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Filter::All,
            1 => out.pop().expect("one item"),
            _ => Filter::And(out),
        }
    }

    /// `a or b`, flattening nested ors.
    pub fn or(items: Vec<Filter>) -> Filter {
        let mut out = Vec::new();
        for f in items {
            match f {
                Filter::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        if out.contains(&Filter::All) {
            return Filter::All;
        }
        match out.len() {
            0 => Filter::All,
            1 => out.pop().expect("one item"),
            _ => Filter::Or(out),
        }
    }

    /// At least `n` of `children`: `or` for 1 (and for 0, which always holds
    /// as `All`), `and` when `n` is the number of children, else [`Filter::AtLeast`].
    pub fn at_least(n: usize, children: Vec<Filter>) -> Filter {
        if n <= 1 {
            return if n == 0 { Filter::All } else { Filter::or(children) };
        }
        if n == children.len() {
            return Filter::and(children);
        }
        Filter::AtLeast { n, children }
    }

    /// The context lists this filter refers to.
    pub fn list_refs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |f| {
            if let Filter::ListRef { name, .. } = f {
                out.push(name.as_str());
            }
        });
        out
    }

    /// Replace every [`Filter::ListRef`] with what `expand(field, name)` returns
    /// (typically an `Or` of `Match`es); an error from `expand` stops the walk.
    pub fn expand_lists<E>(
        self,
        expand: &mut impl FnMut(Option<&str>, &str) -> Result<Filter, E>,
    ) -> Result<Filter, E> {
        Ok(match self {
            Filter::ListRef { field, name } => expand(field.as_deref(), &name)?,
            Filter::And(items) => Filter::and(
                items
                    .into_iter()
                    .map(|f| f.expand_lists(expand))
                    .collect::<Result<_, _>>()?,
            ),
            Filter::Or(items) => Filter::or(
                items
                    .into_iter()
                    .map(|f| f.expand_lists(expand))
                    .collect::<Result<_, _>>()?,
            ),
            Filter::Not(inner) => Filter::Not(Box::new(inner.expand_lists(expand)?)),
            Filter::AtLeast { n, children } => Filter::AtLeast {
                n,
                children: children
                    .into_iter()
                    .map(|f| f.expand_lists(expand))
                    .collect::<Result<_, _>>()?,
            },
            other => other,
        })
    }

    /// Call `f` on this node and every node below it.
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Filter)) {
        f(self);
        match self {
            Filter::And(items) | Filter::Or(items) | Filter::AtLeast { children: items, .. } => {
                items.iter().for_each(|i| i.visit(f))
            }
            Filter::Not(inner) => inner.visit(f),
            _ => {}
        }
    }
}
