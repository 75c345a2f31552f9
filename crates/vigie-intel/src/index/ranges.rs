//! Address networks as sorted elementary ranges.
//!
//! Networks of one family are nested or disjoint (never partly overlapping), so a sweep
//! over them sorted by (start, widest first) cuts the address space into elementary
//! ranges, each covered by a fixed set of networks (at most one per prefix length plus
//! duplicates). A lookup is one binary search for the last range starting at or below
//! the address, then the covering indicators of that range: O(log n) whatever the
//! number of prefix lengths. The search is narrowed first by a table of the first range
//! of each of (at most) 65,536 buckets of the space's top bits (the 16 top bits of the
//! largest start: an IPv4 address's first two bytes), so that it runs over the few
//! ranges of one bucket (100 k random IPv4 networks: 3 on average) instead of all.
//!
//! Built from `(first, last, indicator)` triples (inclusive bounds, `u128` for both
//! families). Ranges that are not nested (which networks cannot produce) are still
//! answered correctly for the outer range and its nested ones: the sweep only assumes
//! that an interval ending first was opened last, and any other input is split at its
//! start so that the answer never includes a range that does not hold the address.

/// The elementary ranges of a set of networks.
#[derive(Debug, Clone, Default)]
pub struct Ranges {
    /// Start of each elementary range, increasing. A range runs to the next start - 1
    /// (the last to the end of the space).
    starts: Vec<u128>,
    /// For each range, `(offset, len)` into `covers`.
    spans: Vec<(u32, u32)>,
    covers: Vec<u32>,
    networks: usize,
    /// Bucket of an address: `address >> shift` (the 16 top bits of the largest start).
    shift: u32,
    /// `first[b]`: the first range whose start is in bucket `b` or above; one more entry
    /// than buckets (empty when there is no range).
    first: Vec<u32>,
}

impl Ranges {
    /// Build from `(first, last, indicator)` with `first <= last`; others are ignored.
    pub fn build(mut nets: Vec<(u128, u128, u32)>) -> Ranges {
        nets.retain(|n| n.0 <= n.1);
        let mut r = Ranges {
            networks: nets.len(),
            ..Ranges::default()
        };
        if nets.is_empty() {
            return r;
        }
        // Start ascending, widest (largest last) first, then indicator.
        nets.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        // Open intervals; the one closing first is on top for laminar input.
        let mut stack: Vec<(u128, u32)> = Vec::new();
        for &(lo, hi, ind) in &nets {
            // Close every interval that ended before `lo`.
            while let Some(&(top_hi, _)) = stack.last() {
                if top_hi >= lo {
                    break;
                }
                stack.pop();
                // Pop others ending at the same place.
                while stack.last().is_some_and(|&(h, _)| h <= top_hi) {
                    stack.pop();
                }
                r.emit(top_hi + 1, &stack);
            }
            // Non-laminar input: an open interval ending inside [lo, hi] while a wider
            // one is below it cannot be represented exactly; cut `hi` to keep answers
            // sound (never claim an address outside a range).
            let hi = match stack.last() {
                Some(&(top_hi, _)) if top_hi < hi => top_hi,
                _ => hi,
            };
            stack.push((hi, ind));
            r.emit(lo, &stack);
        }
        while let Some((top_hi, _)) = stack.pop() {
            while stack.last().is_some_and(|&(h, _)| h <= top_hi) {
                stack.pop();
            }
            if top_hi == u128::MAX {
                break;
            }
            r.emit(top_hi + 1, &stack);
        }
        r.starts.shrink_to_fit();
        r.spans.shrink_to_fit();
        r.covers.shrink_to_fit();
        r.buckets();
        r
    }

    /// Fill `shift` and `first` from `starts`.
    fn buckets(&mut self) {
        let Some(&max) = self.starts.last() else {
            return;
        };
        let bits = 128 - max.leading_zeros();
        self.shift = bits.saturating_sub(16);
        let n = (max >> self.shift) as usize + 1;
        let mut first = Vec::with_capacity(n + 1);
        let mut k = 0usize;
        for b in 0..=n {
            while k < self.starts.len() && ((self.starts[k] >> self.shift) as usize) < b {
                k += 1;
            }
            first.push(k as u32);
        }
        self.first = first;
    }

    /// Start a range at `start` covered by the stack's indicators (replacing a range
    /// that started at the same place).
    fn emit(&mut self, start: u128, stack: &[(u128, u32)]) {
        if self.starts.last() == Some(&start) {
            self.starts.pop();
            if let Some((off, _)) = self.spans.pop() {
                self.covers.truncate(off as usize);
            }
        }
        let off = self.covers.len() as u32;
        self.covers.extend(stack.iter().map(|&(_, i)| i));
        self.starts.push(start);
        self.spans.push((off, stack.len() as u32));
    }

    /// Append the indicators of every network holding `a`.
    #[inline]
    pub fn lookup(&self, a: u128, out: &mut Vec<u32>) {
        if self.starts.is_empty() {
            return;
        }
        // Ranges before bucket `b` start below `a`; those after it, above.
        let b = (a >> self.shift).min(u128::from(u32::MAX)) as usize;
        let k = match (self.first.get(b), self.first.get(b + 1)) {
            (Some(&lo), Some(&hi)) => {
                let (lo, hi) = (lo as usize, hi as usize);
                lo + self.starts[lo..hi].partition_point(|&s| s <= a)
            }
            // Above the last bucket: every range starts below `a`.
            _ => self.starts.len(),
        };
        if k == 0 {
            return;
        }
        let (off, len) = self.spans[k - 1];
        out.extend_from_slice(&self.covers[off as usize..(off + len) as usize]);
    }

    /// Networks it was built from.
    pub fn networks(&self) -> usize {
        self.networks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(nets: &[(u128, u128, u32)], a: u128) -> Vec<u32> {
        let mut v: Vec<u32> = nets
            .iter()
            .filter(|n| n.0 <= a && a <= n.1)
            .map(|n| n.2)
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn nested_and_disjoint() {
        let nets = vec![
            (0, 255, 0),
            (16, 31, 1),
            (16, 23, 2),
            (24, 31, 3),
            (64, 127, 4),
            (100, 100, 5),
            (16, 31, 6),
            (300, 400, 7),
            (400, 400, 8),
        ];
        let r = Ranges::build(nets.clone());
        for a in 0..=450u128 {
            let mut got = Vec::new();
            r.lookup(a, &mut got);
            got.sort_unstable();
            assert_eq!(got, brute(&nets, a), "address {a}");
        }
    }

    #[test]
    fn buckets_agree_with_brute_force() {
        // Networks of a 32-bit space (nested by construction: aligned blocks), and of
        // a small one (shift 0), probed at their bounds and around them.
        let mut x = 12345u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for space in [32u32, 10] {
            let mut nets = Vec::new();
            for i in 0..500u32 {
                let len = rnd() % u64::from(space);
                let size = 1u128 << (u64::from(space) - len);
                let lo = (u128::from(rnd() as u32) % (1u128 << space)) / size * size;
                nets.push((lo, lo + size - 1, i));
            }
            let r = Ranges::build(nets.clone());
            let mut probes: Vec<u128> = nets.iter().flat_map(|n| [n.0, n.1, n.1 + 1]).collect();
            probes.extend(nets.iter().filter(|n| n.0 > 0).map(|n| n.0 - 1));
            probes.extend((0..500).map(|_| u128::from(rnd() as u32) % (1u128 << space)));
            probes.push(u128::MAX);
            for a in probes {
                let mut got = Vec::new();
                r.lookup(a, &mut got);
                got.sort_unstable();
                assert_eq!(got, brute(&nets, a), "space {space}, address {a}");
            }
        }
    }

    #[test]
    fn whole_space() {
        let nets = vec![(0, u128::MAX, 0), (u128::MAX, u128::MAX, 1)];
        let r = Ranges::build(nets);
        let mut got = Vec::new();
        r.lookup(u128::MAX, &mut got);
        got.sort_unstable();
        assert_eq!(got, vec![0, 1]);
        got.clear();
        r.lookup(5, &mut got);
        assert_eq!(got, vec![0]);
    }
}
