//! A fast, deterministic hasher for the maps the import and the history fill with one entry per row
//! (subscription ids, customers, segments).
//!
//! The standard library's SipHash guards a server against keys chosen to collide; here the keys come
//! from the person's own file, and hashing a million of them with SipHash is a visible part of an
//! import. This is FxHash (the multiply-and-add hash of the Rust compiler) with a final mix so that
//! every bit of the result depends on every bit of the key. Nothing depends on a map's order.

use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;

const K: u64 = 0xf135_7aea_2e62_a9c5;

#[derive(Clone, Copy, Default)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = self.hash.wrapping_add(word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps `ab` and `ab\0` apart.
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // MurmurHash3's finaliser.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The hash of a byte string, on its own.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = FastHasher::default();
    hasher.write(bytes);
    hasher.write_usize(bytes.len());
    hasher.finish()
}

/// Calls `group` once for each value that two or more of the `count` keys share (`key(i)` is the
/// i-th), with the indices of those keys in ascending order. Values held by one key alone are
/// skipped; groups come in no particular order.
///
/// It sorts hashes instead of filling a hash map: with a million distinct keys, a map's every
/// insertion misses the processor's caches, while a sort walks memory in order. Keys whose hashes
/// collide are told apart by comparing them.
pub fn for_each_repeated<'a>(count: usize, key: impl Fn(usize) -> &'a [u8], mut group: impl FnMut(&[u32])) {
    let mut order: Vec<(u64, u32)> = (0..count).map(|i| (hash_bytes(key(i)), i as u32)).collect();
    order.sort_unstable();
    let mut members: Vec<u32> = Vec::new();
    let mut run = 0;
    while run < order.len() {
        let hash = order[run].0;
        let end = run + order[run..].iter().take_while(|(h, _)| *h == hash).count();
        if end - run > 1 {
            // Indices ascend within the run. Nearly always every key in it is the same; when not,
            // each distinct key's members are gathered in turn.
            let mut rest: Vec<u32> = order[run..end].iter().map(|&(_, i)| i).collect();
            while rest.len() > 1 {
                let first = key(rest[0] as usize);
                members.clear();
                members.extend(rest.iter().copied().filter(|&i| key(i as usize) == first));
                rest.retain(|&i| key(i as usize) != first);
                if members.len() > 1 {
                    group(&members);
                }
            }
        }
        run = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the groups against a map, on any keys.
    fn check(keys: &[String]) {
        let mut expected: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
        for (index, key) in keys.iter().enumerate() {
            expected.entry(key).or_default().push(index as u32);
        }
        expected.retain(|_, members| members.len() > 1);
        let mut found = Vec::new();
        for_each_repeated(keys.len(), |i| keys[i].as_bytes(), |members| found.push(members.to_vec()));
        found.sort();
        let mut expected: Vec<Vec<u32>> = expected.into_values().collect();
        expected.sort();
        assert_eq!(found, expected);
    }

    #[test]
    fn keys_that_repeat_come_in_groups_of_ascending_indices() {
        check(&["b", "a", "b", "c", "a", "", "b"].map(String::from));
        check(&[]);
        check(&(0..20_000u64).map(|i| format!("cus_{}", (i * 7919) % 13_001)).collect::<Vec<_>>());
    }
}
