//! Bloom filters of the event ids in each segment, so that finding
//! duplicates at commit does not look every new id up in every segment's term
//! dictionary: a segment is searched only when its filter says the id may be
//! there (an id already stored, or about 1 % of new ids).
//!
//! Segments never change, so a filter is built once per segment (from the
//! `event.id` range of the `kw` terms) and kept, by segment id, in an
//! [`IdFilters`] cache shared by the store's writers. Filters of segments
//! that were merged away are dropped when their partition reloads; when the
//! cache grows beyond its budget, filters no open writer uses go too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::SegmentReader;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

/// Bits per id: with [`HASHES`] hashes about 1 % of absent ids look present.
const BITS_PER_ID: usize = 10;
/// Hash functions per id.
const HASHES: u64 = 7;
/// Memory the cache may hold before it drops filters no open writer uses.
const BUDGET_BYTES: usize = 256 * 1024 * 1024;

/// The `kw` terms of event ids start with this.
pub const ID_PREFIX: &[u8] = b"event.id\0";

/// A Bloom filter over `kw` id terms.
pub struct IdFilter {
    bits: Vec<u64>,
    mask: u64,
}

/// The two hashes an id's bits derive from.
#[derive(Clone, Copy, Debug)]
pub struct IdHash(u64, u64);

impl IdHash {
    /// The hash of a `kw` id term (`event.id \0 lower(id)`): two SipHash
    /// values (the filter only lives in memory, so any stable hash will do).
    pub fn of(term: &[u8]) -> Self {
        use std::hash::Hasher;
        let mut a = std::hash::DefaultHasher::new();
        a.write(term);
        let mut b = std::hash::DefaultHasher::new();
        b.write_u8(0x5a);
        b.write(term);
        IdHash(a.finish(), b.finish() | 1)
    }
}

impl IdFilter {
    /// An empty filter sized for `ids` ids.
    pub fn with_capacity(ids: usize) -> Self {
        let bits = (ids.max(64) * BITS_PER_ID).next_power_of_two();
        IdFilter {
            bits: vec![0; bits / 64],
            mask: bits as u64 - 1,
        }
    }

    /// Add an id.
    pub fn insert(&mut self, h: IdHash) {
        for i in 0..HASHES {
            let bit = h.0.wrapping_add(i.wrapping_mul(h.1)) & self.mask;
            self.bits[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
    }

    /// False when the id is certainly absent.
    pub fn may_contain(&self, h: IdHash) -> bool {
        (0..HASHES).all(|i| {
            let bit = h.0.wrapping_add(i.wrapping_mul(h.1)) & self.mask;
            self.bits[(bit >> 6) as usize] & (1 << (bit & 63)) != 0
        })
    }

    /// Memory held.
    pub fn bytes(&self) -> usize {
        self.bits.len() * 8
    }

    /// The filter of a segment's ids: every `kw` term under [`ID_PREFIX`].
    pub fn of_segment(seg: &SegmentReader, kw: Field) -> tantivy::Result<Self> {
        let inv = seg.inverted_index(kw)?;
        let mut end = ID_PREFIX.to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let mut f = IdFilter::with_capacity(seg.max_doc() as usize);
        let mut stream = inv.terms().range().ge(ID_PREFIX).lt(&end).into_stream()?;
        while stream.advance() {
            f.insert(IdHash::of(stream.key()));
        }
        Ok(f)
    }
}

/// Filters by segment, shared by a store's writers.
#[derive(Default)]
pub struct IdFilters {
    by_segment: Mutex<HashMap<SegmentId, Arc<IdFilter>>>,
}

impl IdFilters {
    /// The filters of `segments` (built when missing), in their order;
    /// `replaced` are the segments the caller held before, whose filters go
    /// unless still listed.
    pub fn for_segments(
        &self,
        segments: &[SegmentReader],
        kw: Field,
        replaced: &[SegmentId],
    ) -> tantivy::Result<Vec<Arc<IdFilter>>> {
        let mut out = Vec::with_capacity(segments.len());
        let mut missing = Vec::new();
        {
            let cache = self.by_segment.lock().unwrap_or_else(|p| p.into_inner());
            for (i, seg) in segments.iter().enumerate() {
                match cache.get(&seg.segment_id()) {
                    Some(f) => out.push(Some(f.clone())),
                    None => {
                        out.push(None);
                        missing.push(i);
                    }
                }
            }
        }
        // Built outside the lock: a large merged segment takes a while.
        let mut built = Vec::with_capacity(missing.len());
        for i in missing {
            let f = Arc::new(IdFilter::of_segment(&segments[i], kw)?);
            out[i] = Some(f.clone());
            built.push((segments[i].segment_id(), f));
        }
        let mut cache = self.by_segment.lock().unwrap_or_else(|p| p.into_inner());
        for id in replaced {
            if !segments.iter().any(|s| s.segment_id() == *id) {
                cache.remove(id);
            }
        }
        cache.extend(built);
        if cache.values().map(|f| f.bytes()).sum::<usize>() > BUDGET_BYTES {
            // Only open writers hold filters besides the cache.
            cache.retain(|_, f| Arc::strong_count(f) > 1);
        }
        Ok(out.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut f = IdFilter::with_capacity(10_000);
        let term = |i: usize| format!("event.id\0{i:016x}");
        for i in 0..10_000 {
            f.insert(IdHash::of(term(i).as_bytes()));
        }
        assert!((0..10_000).all(|i| f.may_contain(IdHash::of(term(i).as_bytes()))));
        let false_hits = (10_000..110_000)
            .filter(|&i| f.may_contain(IdHash::of(term(i).as_bytes())))
            .count();
        // 10+ bits and 7 hashes per id: under 1 % of absent ids look present.
        assert!(false_hits < 1_000, "{false_hits} false positives in 100,000");
        assert!(!IdFilter::with_capacity(0).may_contain(IdHash::of(b"x")));
    }
}
