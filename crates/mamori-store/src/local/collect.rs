//! A collector of every matching document with its timestamp, for results
//! that must be re-checked in memory.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// Collects `(ts µs, address)` of every match.
pub struct Candidates;

/// Per-segment part of [`Candidates`].
pub struct SegmentCandidates {
    segment: SegmentOrdinal,
    ts: Column<i64>,
    out: Vec<(i64, DocAddress)>,
}

impl Collector for Candidates {
    type Fruit = Vec<(i64, DocAddress)>;
    type Child = SegmentCandidates;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentCandidates> {
        Ok(SegmentCandidates {
            segment,
            ts: reader.fast_fields().i64("ts")?,
            out: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, parts: Vec<Vec<(i64, DocAddress)>>) -> tantivy::Result<Self::Fruit> {
        Ok(parts.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentCandidates {
    type Fruit = Vec<(i64, DocAddress)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let ts = self.ts.first(doc).unwrap_or(0);
        self.out.push((ts, DocAddress::new(self.segment, doc)));
    }

    fn harvest(self) -> Self::Fruit {
        self.out
    }
}
