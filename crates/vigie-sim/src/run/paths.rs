//! Counting attack paths in a prefix tree.
//!
//! A sample's path to a crown jewel is its predecessor chain on the sample's shortest-path
//! tree, from the start. Paths share prefixes (every jewel's path starts at the same few
//! nodes), so they are counted in a trie keyed by (parent trie node, graph node): a path is
//! a trie node, found without building or hashing the node list, and each tree node's trie
//! node is remembered for the sample (`Scratch::path_memo`), so the jewels of one sample
//! walk their common prefix once. Only the most frequent paths are turned into node lists.

use rustc_hash::FxHashMap;

use super::compile::{Compiled, NONE};

/// A trie of paths with the number of samples whose path to a jewel ends at each node.
#[derive(Default)]
pub(crate) struct PathTrie {
    /// (parent trie node, or NONE at a start; graph node) → trie node.
    index: FxHashMap<u64, u32>,
    /// Per trie node: its parent (NONE for a start), its graph node and its count.
    parent: Vec<u32>,
    node: Vec<u32>,
    count: Vec<u64>,
    /// The chain being walked (jewel first).
    buf: Vec<u32>,
}

impl PathTrie {
    fn child(&mut self, parent: u32, node: u32) -> u32 {
        let key = (u64::from(parent) << 32) | u64::from(node);
        let next = self.node.len() as u32;
        let id = *self.index.entry(key).or_insert(next);
        if id == next {
            self.parent.push(parent);
            self.node.push(node);
            self.count.push(0);
        }
        id
    }

    /// Count the path reaching `jewel` over `pred` (tree edge per node, NONE at a start).
    /// `memo` holds, per graph node of this sample, its trie node (NONE: not yet walked);
    /// nodes walked here are set.
    pub fn add(&mut self, c: &Compiled, pred: &[u32], memo: &mut [u32], jewel: u32) {
        self.buf.clear();
        let mut n = jewel;
        let mut id = loop {
            let m = memo[n as usize];
            if m != NONE {
                break m;
            }
            self.buf.push(n);
            let e = pred[n as usize];
            // Predecessor chains end at a start; the bound guards a malformed tree.
            if e == NONE || self.buf.len() > c.nodes {
                break NONE;
            }
            n = c.edge_from[e as usize];
        };
        for k in (0..self.buf.len()).rev() {
            let n = self.buf[k];
            id = self.child(id, n);
            memo[n as usize] = id;
        }
        if id != NONE {
            self.count[id as usize] += 1;
        }
    }

    /// Add `other`'s counts (counts are integers: the order of merging does not matter).
    pub fn merge_from(&mut self, other: &PathTrie) {
        let mut map = Vec::with_capacity(other.node.len());
        for i in 0..other.node.len() {
            let p = other.parent[i];
            let gp = if p == NONE { NONE } else { map[p as usize] };
            let g = self.child(gp, other.node[i]);
            self.count[g as usize] += other.count[i];
            map.push(g);
        }
    }

    /// The paths counted at least as often as the `k`-th most frequent (all of them when
    /// fewer than `k`; ties at the k-th count included, for the caller to order), as node
    /// lists from the start, with their counts, in no particular order.
    pub fn top(&self, k: usize) -> Vec<(Vec<u32>, u64)> {
        let mut ids: Vec<u32> = (0..self.count.len() as u32)
            .filter(|&i| self.count[i as usize] > 0)
            .collect();
        if k == 0 {
            return Vec::new();
        }
        if ids.len() > k {
            let (_, kth, _) = ids.select_nth_unstable_by(k - 1, |&a, &b| {
                self.count[b as usize].cmp(&self.count[a as usize])
            });
            let floor = self.count[*kth as usize];
            ids.retain(|&i| self.count[i as usize] >= floor);
        }
        ids.into_iter()
            .map(|i| {
                let mut nodes = Vec::new();
                let mut t = i;
                while t != NONE {
                    nodes.push(self.node[t as usize]);
                    t = self.parent[t as usize];
                }
                nodes.reverse();
                (nodes, self.count[i as usize])
            })
            .collect()
    }
}
