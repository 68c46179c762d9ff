//! Hash-family storage: `hash`, `percpu_hash`, `lru_hash`, `lru_percpu_hash`.
//!
//! Like the kernel's preallocated hash map, values live in a slab of
//! `max_entries` fixed-size slots that never moves, so a value address a
//! program got from `bpf_map_lookup_elem` stays inside the map's region after
//! the element is deleted (it then reads stale or reused data, never foreign
//! memory). The index is a `hashbrown::HashTable` of slot numbers whose keys
//! live in a parallel key slab: no allocation per element.
//!
//! Differences from the kernel, all invisible to a correct program:
//! * an update of an existing key overwrites its slot in place (the kernel
//!   swaps in a fresh element);
//! * the LRU flavour is an exact least-recently-used list (the kernel's is
//!   approximate, with per-CPU free lists); program-side lookups and updates
//!   count as uses, host-side lookups do not.

use core::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::{BPF_EXIST, BPF_NOEXIST, MapErrorKind};

const NIL: u32 = u32::MAX;

/// An exact LRU order over slots: a doubly-linked list, most recent at `head`.
#[derive(Clone, Debug)]
struct Lru {
    prev: Vec<u32>,
    next: Vec<u32>,
    head: u32,
    tail: u32,
}

impl Lru {
    fn new(n: usize) -> Lru {
        Lru {
            prev: vec![NIL; n],
            next: vec![NIL; n],
            head: NIL,
            tail: NIL,
        }
    }

    fn unlink(&mut self, s: u32) {
        let (p, n) = (self.prev[s as usize], self.next[s as usize]);
        if p == NIL {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
        self.prev[s as usize] = NIL;
        self.next[s as usize] = NIL;
    }

    fn push_front(&mut self, s: u32) {
        self.prev[s as usize] = NIL;
        self.next[s as usize] = self.head;
        if self.head != NIL {
            self.prev[self.head as usize] = s;
        }
        self.head = s;
        if self.tail == NIL {
            self.tail = s;
        }
    }

    fn touch(&mut self, s: u32) {
        if self.head != s {
            self.unlink(s);
            self.push_front(s);
        }
    }
}

/// Storage of one hash-family map.
#[derive(Clone, Debug)]
pub(crate) struct HashStore {
    key_size: usize,
    value_size: usize,
    max: u32,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    keys: Vec<u8>,
    pub(crate) values: Vec<u8>,
    used: Vec<bool>,
    free: Vec<u32>,
    fresh: u32,
    count: u32,
    lru: Option<Lru>,
}

impl HashStore {
    /// Sizes are validated by the caller (non-zero, products fit).
    pub(crate) fn new(key_size: u32, value_size: u32, max: u32, lru: bool) -> HashStore {
        let (ks, vs, n) = (key_size as usize, value_size as usize, max as usize);
        HashStore {
            key_size: ks,
            value_size: vs,
            max,
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            keys: vec![0; ks * n],
            values: vec![0; vs * n],
            used: vec![false; n],
            free: Vec::new(),
            fresh: 0,
            count: 0,
            lru: lru.then(|| Lru::new(n)),
        }
    }

    fn key_at(keys: &[u8], ks: usize, slot: u32) -> &[u8] {
        let start = slot as usize * ks;
        &keys[start..start + ks]
    }

    fn find(&self, key: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        let (keys, ks) = (&self.keys, self.key_size);
        self.table
            .find(hash, |&s| Self::key_at(keys, ks, s) == key)
            .copied()
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> u32 {
        self.count
    }

    /// Byte offset of the value of `key` in the value slab. `touch` marks
    /// the element used (program-side lookups of LRU maps).
    pub(crate) fn lookup(&mut self, key: &[u8], touch: bool) -> Option<u32> {
        let slot = self.find(key)?;
        if touch && let Some(lru) = &mut self.lru {
            lru.touch(slot);
        }
        Some(slot * self.value_size as u32)
    }

    /// The value of `key`, without marking it used.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let slot = self.find(key)? as usize;
        self.values
            .get(slot * self.value_size..(slot + 1) * self.value_size)
    }

    fn alloc(&mut self) -> Option<u32> {
        if let Some(s) = self.free.pop() {
            return Some(s);
        }
        if self.fresh < self.max {
            self.fresh += 1;
            return Some(self.fresh - 1);
        }
        // Full: an LRU map evicts its least recently used element.
        let victim = self.lru.as_ref()?.tail;
        if victim == NIL {
            return None;
        }
        self.remove_slot(victim);
        self.free.pop()
    }

    fn remove_slot(&mut self, slot: u32) {
        let key_start = slot as usize * self.key_size;
        let hash = self
            .hasher
            .hash_one(&self.keys[key_start..key_start + self.key_size]);
        if let Ok(e) = self.table.find_entry(hash, |&s| s == slot) {
            e.remove();
        }
        self.used[slot as usize] = false;
        self.count -= 1;
        if let Some(lru) = &mut self.lru {
            lru.unlink(slot);
        }
        self.free.push(slot);
    }

    /// `bpf_map_update_elem` with flags already checked to be at most
    /// `BPF_EXIST`.
    pub(crate) fn update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapErrorKind> {
        let vs = self.value_size;
        if let Some(slot) = self.find(key) {
            if flags == BPF_NOEXIST {
                return Err(MapErrorKind::Exists);
            }
            let start = slot as usize * vs;
            self.values[start..start + vs].copy_from_slice(value);
            if let Some(lru) = &mut self.lru {
                lru.touch(slot);
            }
            return Ok(());
        }
        if flags == BPF_EXIST {
            return Err(MapErrorKind::NotFound);
        }
        let slot = self.alloc().ok_or(MapErrorKind::Full)?;
        let (ks, s) = (self.key_size, slot as usize);
        self.keys[s * ks..(s + 1) * ks].copy_from_slice(key);
        self.values[s * vs..(s + 1) * vs].copy_from_slice(value);
        self.used[s] = true;
        self.count += 1;
        let hash = self.hasher.hash_one(key);
        let (keys, hasher) = (&self.keys, &self.hasher);
        self.table
            .insert_unique(hash, slot, |&t| hasher.hash_one(Self::key_at(keys, ks, t)));
        if let Some(lru) = &mut self.lru {
            lru.push_front(slot);
        }
        Ok(())
    }

    /// `bpf_map_delete_elem`.
    pub(crate) fn delete(&mut self, key: &[u8]) -> Result<(), MapErrorKind> {
        let slot = self.find(key).ok_or(MapErrorKind::NotFound)?;
        self.remove_slot(slot);
        Ok(())
    }

    /// Keys in slot order (deterministic for a given operation sequence).
    pub(crate) fn keys(&self) -> Vec<Vec<u8>> {
        let ks = self.key_size;
        self.used
            .iter()
            .enumerate()
            .filter(|(_, u)| **u)
            .map(|(s, _)| self.keys[s * ks..(s + 1) * ks].to_vec())
            .collect()
    }

    /// Total heap bytes the store will use when full (for the memory limit).
    pub(crate) fn footprint(key_size: u32, value_size: u32, max: u32, lru: bool) -> Option<u64> {
        let per =
            u64::from(key_size) + u64::from(value_size) + 1 + 4 + 16 + if lru { 8 } else { 0 };
        per.checked_mul(u64::from(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::BPF_ANY;

    #[test]
    fn insert_update_delete() {
        let mut h = HashStore::new(4, 8, 2, false);
        assert_eq!(h.update(&[1, 0, 0, 0], &[1; 8], BPF_ANY), Ok(()));
        assert_eq!(
            h.update(&[1, 0, 0, 0], &[2; 8], BPF_NOEXIST),
            Err(MapErrorKind::Exists)
        );
        assert_eq!(
            h.update(&[2, 0, 0, 0], &[2; 8], BPF_EXIST),
            Err(MapErrorKind::NotFound)
        );
        assert_eq!(h.update(&[2, 0, 0, 0], &[2; 8], BPF_ANY), Ok(()));
        assert_eq!(
            h.update(&[3, 0, 0, 0], &[3; 8], BPF_ANY),
            Err(MapErrorKind::Full)
        );
        assert_eq!(h.get(&[2, 0, 0, 0]), Some(&[2u8; 8][..]));
        let off = h.lookup(&[1, 0, 0, 0], true);
        assert_eq!(off, Some(0));
        assert_eq!(h.delete(&[1, 0, 0, 0]), Ok(()));
        assert_eq!(h.delete(&[1, 0, 0, 0]), Err(MapErrorKind::NotFound));
        assert_eq!(h.len(), 1);
        // The freed slot is reused.
        assert_eq!(h.update(&[3, 0, 0, 0], &[3; 8], BPF_ANY), Ok(()));
        assert_eq!(h.lookup(&[3, 0, 0, 0], false), Some(0));
        assert_eq!(h.keys(), vec![vec![3, 0, 0, 0], vec![2, 0, 0, 0]]);
    }

    #[test]
    fn lru_evicts_least_recent() {
        let mut h = HashStore::new(1, 1, 3, true);
        for k in 0..3u8 {
            h.update(&[k], &[k], BPF_ANY).unwrap();
        }
        // Use 0, so 1 is now the least recent.
        assert!(h.lookup(&[0], true).is_some());
        h.update(&[9], &[9], BPF_ANY).unwrap();
        assert!(h.get(&[1]).is_none());
        assert!(h.get(&[0]).is_some() && h.get(&[2]).is_some() && h.get(&[9]).is_some());
        // Host-side get does not count as a use: 2 is evicted next.
        assert!(h.get(&[2]).is_some());
        h.update(&[10], &[10], BPF_ANY).unwrap();
        assert!(h.get(&[2]).is_none());
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn many_keys() {
        let mut h = HashStore::new(8, 8, 1000, false);
        for k in 0..1000u64 {
            h.update(&k.to_le_bytes(), &(k * 3).to_le_bytes(), BPF_ANY)
                .unwrap();
        }
        for k in 0..1000u64 {
            assert_eq!(h.get(&k.to_le_bytes()), Some(&(k * 3).to_le_bytes()[..]));
        }
        for k in (0..1000u64).step_by(2) {
            h.delete(&k.to_le_bytes()).unwrap();
        }
        assert_eq!(h.len(), 500);
        assert!(h.get(&4u64.to_le_bytes()).is_none());
        assert!(h.get(&5u64.to_le_bytes()).is_some());
    }
}
