//! `queue` (FIFO) and `stack` (LIFO) maps: a fixed ring of value slots.
//!
//! As in the kernel, `push` with `BPF_EXIST` on a full map drops the oldest
//! element (for both flavours) to make room.

use super::{BPF_EXIST, MapErrorKind};

/// Storage of one queue or stack map.
#[derive(Clone, Debug)]
pub(crate) struct QueueStore {
    data: Vec<u8>,
    value_size: usize,
    max: u32,
    head: u32,
    len: u32,
    lifo: bool,
}

impl QueueStore {
    pub(crate) fn new(value_size: u32, max: u32, lifo: bool) -> QueueStore {
        QueueStore {
            data: vec![0; value_size as usize * max as usize],
            value_size: value_size as usize,
            max,
            head: 0,
            len: 0,
            lifo,
        }
    }

    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    fn slot(&self, i: u32) -> &[u8] {
        let s = i as usize * self.value_size;
        &self.data[s..s + self.value_size]
    }

    /// `bpf_map_push_elem`; `flags` is 0 or `BPF_EXIST`.
    pub(crate) fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapErrorKind> {
        if flags & !BPF_EXIST != 0 {
            return Err(MapErrorKind::InvalidFlags);
        }
        if self.len == self.max {
            if flags != BPF_EXIST {
                return Err(MapErrorKind::Full);
            }
            self.head = (self.head + 1) % self.max;
            self.len -= 1;
        }
        let i = ((u64::from(self.head) + u64::from(self.len)) % u64::from(self.max)) as usize;
        let vs = self.value_size;
        self.data[i * vs..(i + 1) * vs].copy_from_slice(value);
        self.len += 1;
        Ok(())
    }

    fn next_index(&self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        Some(if self.lifo {
            ((u64::from(self.head) + u64::from(self.len) - 1) % u64::from(self.max)) as u32
        } else {
            self.head
        })
    }

    /// `bpf_map_peek_elem`.
    pub(crate) fn peek(&self) -> Option<&[u8]> {
        Some(self.slot(self.next_index()?))
    }

    /// `bpf_map_pop_elem`: the slot stays readable until overwritten.
    pub(crate) fn pop(&mut self) -> Option<&[u8]> {
        let i = self.next_index()?;
        if !self.lifo {
            self.head = (self.head + 1) % self.max;
        }
        self.len -= 1;
        Some(self.slot(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_lifo() {
        for lifo in [false, true] {
            let mut q = QueueStore::new(1, 3, lifo);
            assert_eq!(q.pop(), None);
            for v in 1..=3u8 {
                q.push(&[v], 0).unwrap();
            }
            assert_eq!(q.push(&[4], 0), Err(MapErrorKind::Full));
            assert_eq!(q.push(&[4], 1), Err(MapErrorKind::InvalidFlags));
            q.push(&[4], BPF_EXIST).unwrap(); // drops 1
            assert_eq!(q.len(), 3);
            let order: Vec<u8> = (0..3).map(|_| q.pop().unwrap()[0]).collect();
            assert_eq!(order, if lifo { vec![4, 3, 2] } else { vec![2, 3, 4] });
            assert_eq!(q.peek(), None);
        }
    }
}
