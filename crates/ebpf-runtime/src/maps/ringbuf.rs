//! `ringbuf` maps: a byte ring whose records the embedder reads after a run.
//!
//! Space is accounted as in the kernel: each record takes an 8-byte header
//! plus its length rounded up to 8. The sample bytes live in the map's region,
//! so a pointer from `bpf_ringbuf_reserve` is an ordinary checked guest
//! address. Record metadata (length, busy/committed/discarded) is kept on the
//! host side, so a program scribbling over the region cannot corrupt the
//! bookkeeping. A record that would wrap around the end of the ring starts at
//! offset 0 instead (the kernel maps the data twice to keep it contiguous;
//! here the skipped tail counts as used space until the record is consumed).
//! Records are consumed strictly in reservation order, so one record still
//! reserved holds back the ones after it, as in the kernel.

use std::collections::VecDeque;

use super::MapErrorKind;

/// Header bytes accounted per record (`BPF_RINGBUF_HDR_SZ`).
pub(crate) const HDR: u32 = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Busy,
    Committed,
    Discarded,
}

#[derive(Clone, Copy, Debug)]
struct Record {
    /// Offset of the sample data in the ring.
    data: u32,
    len: u32,
    /// Bytes of ring this record holds, padding included.
    footprint: u32,
    state: State,
}

/// Storage of one ring buffer map.
#[derive(Clone, Debug)]
pub(crate) struct RingBuf {
    pub(crate) data: Vec<u8>,
    records: VecDeque<Record>,
    head: u32,
    used: u32,
}

impl RingBuf {
    /// `size` is validated by the caller: a power of two, a multiple of 4096.
    pub(crate) fn new(size: u32) -> RingBuf {
        RingBuf {
            data: vec![0; size as usize],
            records: VecDeque::new(),
            head: 0,
            used: 0,
        }
    }

    fn size(&self) -> u32 {
        self.data.len() as u32
    }

    /// Reserve `len` bytes; returns the offset of the sample in the ring.
    pub(crate) fn reserve(&mut self, len: u64) -> Option<u32> {
        let size = self.size();
        let need = len.checked_add(7)? & !7;
        let need = u32::try_from(need.checked_add(u64::from(HDR))?).ok()?;
        if len == 0 || need > size {
            return None;
        }
        let (start, pad) = if self.head.checked_add(need)? > size {
            (0, size - self.head)
        } else {
            (self.head, 0)
        };
        let footprint = pad + need;
        if self.used.checked_add(footprint)? > size {
            return None;
        }
        self.used += footprint;
        self.head = (start + need) % size;
        let data = start + HDR;
        self.records.push_back(Record {
            data,
            len: len as u32,
            footprint,
            state: State::Busy,
        });
        Some(data)
    }

    /// Commit (`discard == false`) or discard the reservation whose sample
    /// starts at `data`.
    pub(crate) fn finish(&mut self, data: u32, discard: bool) -> Result<(), MapErrorKind> {
        let rec = self
            .records
            .iter_mut()
            .rev()
            .find(|r| r.data == data && r.state == State::Busy)
            .ok_or(MapErrorKind::NotReserved)?;
        rec.state = if discard {
            State::Discarded
        } else {
            State::Committed
        };
        Ok(())
    }

    /// Copy `bytes` into a new committed record (`bpf_ringbuf_output`).
    pub(crate) fn output(&mut self, bytes: &[u8]) -> Result<(), MapErrorKind> {
        let at = self
            .reserve(bytes.len() as u64)
            .ok_or(MapErrorKind::NoSpace)? as usize;
        self.data[at..at + bytes.len()].copy_from_slice(bytes);
        self.finish(at as u32, false)
    }

    /// Consume every finished record at the front; committed ones are
    /// returned in order.
    pub(crate) fn drain(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(r) = self.records.front().copied() {
            if r.state == State::Busy {
                break;
            }
            if r.state == State::Committed {
                let s = r.data as usize;
                out.push(self.data[s..s + r.len as usize].to_vec());
            }
            self.used -= r.footprint;
            self.records.pop_front();
        }
        if self.records.is_empty() {
            self.head = 0;
            self.used = 0;
        }
        out
    }

    /// Bytes of committed or busy records not yet consumed
    /// (`BPF_RB_AVAIL_DATA`).
    pub(crate) fn used(&self) -> u32 {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_commit_drain() {
        let mut rb = RingBuf::new(4096);
        let a = rb.reserve(5).unwrap();
        assert_eq!(a, 8);
        rb.data[a as usize..a as usize + 5].copy_from_slice(b"hello");
        let b = rb.reserve(3).unwrap();
        assert_eq!(b, 8 + 8 + 8);
        // a is still busy: nothing can be consumed yet.
        rb.finish(b, false).unwrap();
        assert!(rb.drain().is_empty());
        rb.finish(a, false).unwrap();
        assert_eq!(rb.finish(a, false), Err(MapErrorKind::NotReserved));
        assert_eq!(rb.drain(), vec![b"hello".to_vec(), vec![0, 0, 0]]);
        assert_eq!(rb.used(), 0);
    }

    #[test]
    fn discard_and_output() {
        let mut rb = RingBuf::new(4096);
        let a = rb.reserve(16).unwrap();
        rb.finish(a, true).unwrap();
        rb.output(b"xyz").unwrap();
        assert_eq!(rb.drain(), vec![b"xyz".to_vec()]);
    }

    #[test]
    fn full_and_wrap() {
        let mut rb = RingBuf::new(4096);
        assert_eq!(rb.reserve(0), None);
        assert_eq!(rb.reserve(4089), None);
        assert_eq!(rb.reserve(u64::MAX), None);
        // 3 records of 1000 bytes (1008 + 8 each) fit, a fourth does not.
        let r: Vec<u32> = (0..3).map(|_| rb.reserve(1000).unwrap()).collect();
        assert_eq!(rb.reserve(1100), None);
        assert_eq!(rb.output(&[0; 1100]), Err(MapErrorKind::NoSpace));
        for x in &r {
            rb.finish(*x, false).unwrap();
        }
        assert_eq!(rb.drain().len(), 3);
        // Now wrap: head was reset to 0 because the ring emptied.
        let a = rb.reserve(3000).unwrap();
        rb.finish(a, false).unwrap();
        // 1100 does not fit before the end, and with the 1088-byte tail as
        // padding it does not fit at all.
        assert!(rb.reserve(1100).is_none());
        let c = rb.reserve(500).unwrap();
        assert_eq!(c, 3008 + 8);
        rb.finish(c, false).unwrap();
        assert_eq!(rb.drain().len(), 2);
        let d = rb.reserve(3000).unwrap();
        assert_eq!(d, 8);
    }

    #[test]
    fn wrap_pads_tail() {
        let mut rb = RingBuf::new(4096);
        let a = rb.reserve(3000).unwrap();
        let b = rb.reserve(500).unwrap();
        rb.finish(a, false).unwrap();
        assert_eq!(rb.drain().len(), 1);
        // head is at 3520; a 1000-byte record does not fit before the end,
        // so it starts at 0 and the 576-byte tail is padding.
        let c = rb.reserve(1000).unwrap();
        assert_eq!(c, 8);
        assert_eq!(rb.used(), 512 + 576 + 1008);
        rb.finish(b, true).unwrap();
        rb.finish(c, false).unwrap();
        assert_eq!(rb.drain().len(), 1);
        assert_eq!(rb.used(), 0);
    }
}
