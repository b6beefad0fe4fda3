//! Pages in a stable order. Candidates are ordered by what the index knows
//! (sort value, then time); documents with an equal key are read and ordered
//! by `event.id`, so every hit has a unique [`Cursor`] and a page that starts
//! after a cursor is exact however many events arrived meanwhile.

use std::cmp::Ordering;

use tantivy::DocAddress;

use crate::store::{Cursor, Order, SearchRequest};

/// A document that may be a hit, with the part of its sort key the index knows.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Sort value (field sort only).
    pub value: Option<Vec<u8>>,
    /// `@timestamp` in µs.
    pub ts: i64,
    /// Index of its partition in the search's partition list.
    pub part: usize,
    /// Where it is.
    pub addr: DocAddress,
}

/// The order of hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// By time, then id in the same direction.
    Time { newest: bool },
    /// By value (events without one last), then newest first, then id descending.
    Field { descending: bool },
}

impl SortOrder {
    /// The order a request asks for.
    pub fn of(req: &SearchRequest) -> Self {
        match &req.sort {
            Some(s) => SortOrder::Field {
                descending: s.descending,
            },
            None => SortOrder::Time {
                newest: req.order == Order::NewestFirst,
            },
        }
    }

    /// Compare what the index knows (`Less`: `a` comes first).
    pub fn cmp_known(self, a: (Option<&[u8]>, i64), b: (Option<&[u8]>, i64)) -> Ordering {
        match self {
            SortOrder::Time { newest: true } => b.1.cmp(&a.1),
            SortOrder::Time { newest: false } => a.1.cmp(&b.1),
            SortOrder::Field { descending } => {
                let by_value = match (a.0, b.0) {
                    (Some(x), Some(y)) if descending => y.cmp(x),
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                by_value.then(b.1.cmp(&a.1))
            }
        }
    }

    /// Compare whole keys (`Less`: `a` comes first).
    pub fn cmp(self, a: &Cursor, b: &Cursor) -> Ordering {
        let known = self.cmp_known((a.value.as_deref(), a.ts), (b.value.as_deref(), b.ts));
        let by_id = match self {
            SortOrder::Time { newest: false } => a.id.cmp(&b.id),
            _ => b.id.cmp(&a.id),
        };
        known.then(by_id)
    }

    /// Sort candidates by what the index knows (ties by address, so the
    /// order is deterministic).
    pub fn sort(self, cands: &mut [Candidate]) {
        cands.sort_by(|a, b| {
            self.cmp_known((a.value.as_deref(), a.ts), (b.value.as_deref(), b.ts))
                .then(a.part.cmp(&b.part))
                .then(a.addr.cmp(&b.addr))
        });
    }

    /// Whether a candidate's known key comes before the cursor's (so it
    /// cannot follow it, whatever its id).
    pub fn before(self, c: &Candidate, cursor: &Cursor) -> bool {
        self.cmp_known((c.value.as_deref(), c.ts), (cursor.value.as_deref(), cursor.ts)) == Ordering::Less
    }
}

/// Runs of candidates with an equal known key, in order.
pub fn groups(cands: &[Candidate], order: SortOrder) -> impl Iterator<Item = &[Candidate]> {
    let mut rest = cands;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let n = rest
            .iter()
            .position(|c| {
                order.cmp_known((c.value.as_deref(), c.ts), (first.value.as_deref(), first.ts))
                    != Ordering::Equal
            })
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(n);
        rest = tail;
        Some(group)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(value: Option<&[u8]>, ts: i64, id: &str) -> Cursor {
        Cursor {
            value: value.map(<[u8]>::to_vec),
            ts,
            id: id.into(),
        }
    }

    #[test]
    fn time_orders_break_ties_by_id_in_the_same_direction() {
        let newest = SortOrder::Time { newest: true };
        assert_eq!(newest.cmp(&cur(None, 2, "a"), &cur(None, 1, "z")), Ordering::Less);
        assert_eq!(newest.cmp(&cur(None, 1, "b"), &cur(None, 1, "a")), Ordering::Less);
        let oldest = SortOrder::Time { newest: false };
        assert_eq!(oldest.cmp(&cur(None, 1, "a"), &cur(None, 1, "b")), Ordering::Less);
    }

    #[test]
    fn field_orders_put_missing_values_last_and_ties_newest_first() {
        for descending in [false, true] {
            let o = SortOrder::Field { descending };
            assert_eq!(
                o.cmp(&cur(Some(b"a"), 1, "x"), &cur(None, 9, "x")),
                Ordering::Less
            );
            assert_eq!(
                o.cmp(&cur(Some(b"a"), 5, "x"), &cur(Some(b"a"), 1, "x")),
                Ordering::Less
            );
        }
        let asc = SortOrder::Field { descending: false };
        assert_eq!(
            asc.cmp(&cur(Some(b"a"), 1, "x"), &cur(Some(b"b"), 9, "x")),
            Ordering::Less
        );
        let desc = SortOrder::Field { descending: true };
        assert_eq!(
            desc.cmp(&cur(Some(b"b"), 1, "x"), &cur(Some(b"a"), 9, "x")),
            Ordering::Less
        );
    }

    #[test]
    fn groups_are_runs_of_equal_known_keys() {
        let c = |ts| Candidate {
            value: None,
            ts,
            part: 0,
            addr: DocAddress::new(0, ts as u32),
        };
        let cands = [c(3), c(3), c(2), c(1), c(1), c(1)];
        let sizes: Vec<usize> = groups(&cands, SortOrder::Time { newest: true })
            .map(<[Candidate]>::len)
            .collect();
        assert_eq!(sizes, [2, 1, 3]);
    }
}
