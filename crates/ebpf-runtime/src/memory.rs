//! [`Memory`]: the regions of one run and checked access by guest address.
//!
//! Translation is a `match` on the tag (the stack and input first, inline),
//! then a bounds check with checked arithmetic; no hashing, no allocation.
//! Failures are [`Fault`]s, which engines turn into a [`Trap`] with
//! [`Memory::trap`] once they know the instruction.

use crate::layout::{self, INPUT_TAG, RegionInfo, RegionKind, STACK_TAG};
use crate::maps::Maps;
use crate::trap::{Access, Trap};

/// Why an access failed, before it is attributed to an instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
pub enum Fault {
    /// Outside every region, or past the end of its region.
    #[error("access out of bounds")]
    OutOfBounds,
    /// A store into a read-only region.
    #[error("write to a read-only region")]
    ReadOnly,
}

/// The memory a run can touch, borrowed from the runtime and the caller.
#[derive(Debug)]
pub struct Memory<'a> {
    stack: &'a mut [u8],
    input: &'a mut [u8],
    packet: Option<&'a mut [u8]>,
    rodata: &'a [u8],
    /// The maps (their value regions are part of guest memory).
    pub maps: &'a mut Maps,
}

impl<'a> Memory<'a> {
    /// Assemble the regions of a run. Without a `packet`, the packet region
    /// is the input buffer (so `LD_ABS` works on a plain input).
    #[inline]
    pub fn new(
        stack: &'a mut [u8],
        input: &'a mut [u8],
        packet: Option<&'a mut [u8]>,
        rodata: &'a [u8],
        maps: &'a mut Maps,
    ) -> Memory<'a> {
        Memory {
            stack,
            input,
            packet,
            rodata,
            maps,
        }
    }

    /// A shorter-lived view of the same memory (for helper calls).
    #[inline]
    pub fn reborrow(&mut self) -> Memory<'_> {
        Memory {
            stack: self.stack,
            input: self.input,
            packet: self.packet.as_deref_mut(),
            rodata: self.rodata,
            maps: self.maps,
        }
    }

    /// The bytes of the input region.
    #[must_use]
    pub fn input(&self) -> &[u8] {
        self.input
    }

    /// The bytes of the stack region.
    #[must_use]
    pub fn stack(&self) -> &[u8] {
        self.stack
    }

    /// The bytes of a region, if the tag names one.
    #[inline(always)]
    #[must_use]
    pub fn region(&self, tag: u32) -> Option<&[u8]> {
        match tag {
            STACK_TAG => Some(self.stack),
            INPUT_TAG => Some(self.input),
            _ => self.region_slow(tag),
        }
    }

    #[inline(never)]
    fn region_slow(&self, tag: u32) -> Option<&[u8]> {
        match RegionKind::from_tag(tag) {
            RegionKind::Packet => Some(self.packet.as_deref().unwrap_or(self.input)),
            RegionKind::Rodata => Some(self.rodata),
            RegionKind::Map(i) => self.maps.region(i).map(|(r, _)| r),
            RegionKind::Code => Some(&[]),
            _ => None,
        }
    }

    /// The bytes of a writable region.
    #[inline(always)]
    pub fn region_mut(&mut self, tag: u32) -> Result<&mut [u8], Fault> {
        match tag {
            STACK_TAG => Ok(self.stack),
            INPUT_TAG => Ok(self.input),
            _ => self.region_mut_slow(tag),
        }
    }

    #[inline(never)]
    fn region_mut_slow(&mut self, tag: u32) -> Result<&mut [u8], Fault> {
        match RegionKind::from_tag(tag) {
            RegionKind::Packet => Ok(match &mut self.packet {
                Some(p) => p,
                None => self.input,
            }),
            RegionKind::Rodata | RegionKind::Code => Err(Fault::ReadOnly),
            RegionKind::Map(i) => match self.maps.region_mut(i) {
                Some((r, true)) => Ok(r),
                Some((_, false)) => Err(Fault::ReadOnly),
                None => Err(Fault::OutOfBounds),
            },
            _ => Err(Fault::OutOfBounds),
        }
    }

    /// Read `N` bytes at `addr`.
    #[inline(always)]
    #[must_use]
    pub fn load<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        let region = self.region(layout::tag(addr))?;
        let off = layout::offset(addr) as usize;
        region.get(off..off.checked_add(N)?)?.try_into().ok()
    }

    /// Write `N` bytes at `addr`.
    #[inline(always)]
    pub fn store<const N: usize>(&mut self, addr: u64, bytes: [u8; N]) -> Result<(), Fault> {
        let region = self.region_mut(layout::tag(addr))?;
        let off = layout::offset(addr) as usize;
        let end = off.checked_add(N).ok_or(Fault::OutOfBounds)?;
        region
            .get_mut(off..end)
            .ok_or(Fault::OutOfBounds)?
            .copy_from_slice(&bytes);
        Ok(())
    }

    /// Read a little-endian value of `size` bytes (1, 2, 4 or 8), zero-extended.
    #[inline(always)]
    #[must_use]
    pub fn load_uint(&self, addr: u64, size: usize) -> Option<u64> {
        Some(match size {
            1 => u64::from(self.load::<1>(addr)?[0]),
            2 => u64::from(u16::from_le_bytes(self.load(addr)?)),
            4 => u64::from(u32::from_le_bytes(self.load(addr)?)),
            _ => u64::from_le_bytes(self.load(addr)?),
        })
    }

    /// Write the low `size` bytes (1, 2, 4 or 8) of `value`, little-endian.
    #[inline(always)]
    pub fn store_uint(&mut self, addr: u64, size: usize, value: u64) -> Result<(), Fault> {
        match size {
            1 => self.store(addr, [value as u8]),
            2 => self.store(addr, (value as u16).to_le_bytes()),
            4 => self.store(addr, (value as u32).to_le_bytes()),
            _ => self.store(addr, value.to_le_bytes()),
        }
    }

    /// `len` bytes at `addr`.
    #[must_use]
    pub fn slice(&self, addr: u64, len: u64) -> Option<&[u8]> {
        let region = self.region(layout::tag(addr))?;
        let off = u64::from(layout::offset(addr));
        let end = usize::try_from(off.checked_add(len)?).ok()?;
        region.get(off as usize..end)
    }

    /// `len` writable bytes at `addr`.
    pub fn slice_mut(&mut self, addr: u64, len: u64) -> Result<&mut [u8], Fault> {
        let region = self.region_mut(layout::tag(addr))?;
        let off = u64::from(layout::offset(addr));
        let end = off
            .checked_add(len)
            .and_then(|e| usize::try_from(e).ok())
            .ok_or(Fault::OutOfBounds)?;
        region.get_mut(off as usize..end).ok_or(Fault::OutOfBounds)
    }

    /// Describe a region (for traps and diagnostics).
    #[must_use]
    pub fn region_info(&self, kind: RegionKind) -> RegionInfo {
        let tag = kind.tag();
        let (name, writable) = match kind {
            RegionKind::Unmapped => ("unmapped".to_string(), false),
            RegionKind::Stack => ("stack".to_string(), true),
            RegionKind::Input => ("input".to_string(), true),
            RegionKind::Packet => ("packet".to_string(), true),
            RegionKind::Rodata => ("rodata".to_string(), false),
            RegionKind::Code => ("code".to_string(), false),
            RegionKind::Map(i) => {
                let name = self
                    .maps
                    .def(crate::MapId(i))
                    .map_or_else(|| format!("map #{i}"), |d| format!("map '{}'", d.name));
                let w = self.maps.region(i).is_some_and(|(_, w)| w);
                (name, w)
            }
        };
        let len = self.region(tag).map_or(0, |r| r.len() as u64);
        RegionInfo {
            kind,
            name,
            start: layout::region_base(tag),
            len,
            writable,
        }
    }

    /// The trap for a failed access: `size` bytes at `addr` by the
    /// instruction at `pc`. `base` is the base register's value, if the
    /// instruction had one; it picks the nearest region when the address's
    /// own tag names none (the input otherwise).
    #[cold]
    #[inline(never)]
    #[must_use]
    pub fn trap(
        &self,
        fault: Fault,
        pc: u32,
        addr: u64,
        size: u64,
        access: Access,
        base: Option<u64>,
    ) -> Trap {
        let mapped = |a: u64| {
            let k = RegionKind::from_tag(layout::tag(a));
            (k != RegionKind::Unmapped && self.region(k.tag()).is_some()).then_some(k)
        };
        let kind = mapped(addr)
            .or_else(|| base.and_then(mapped))
            .unwrap_or(RegionKind::Input);
        let region = self.region_info(kind);
        match fault {
            Fault::ReadOnly => Trap::ReadOnly {
                pc,
                addr,
                size,
                region,
            },
            Fault::OutOfBounds => Trap::OutOfBounds {
                pc,
                addr,
                size,
                access,
                region,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{INPUT_BASE, PACKET_BASE, RODATA_BASE, STACK_BASE};
    use crate::maps::{MapDef, MapType, flags};

    #[test]
    fn translate_and_trap() {
        let mut stack = vec![0u8; 64];
        let mut input = vec![1u8, 2, 3, 4];
        let rodata = [9u8; 4];
        let mut maps = Maps::new();
        maps.create(
            MapDef::new("ro", MapType::ARRAY, 4, 4, 1).with_flags(flags::BPF_F_RDONLY_PROG),
        )
        .unwrap();
        let mut m = Memory::new(&mut stack, &mut input, None, &rodata, &mut maps);
        assert_eq!(m.load_uint(INPUT_BASE, 4), Some(0x0403_0201));
        assert_eq!(m.load_uint(INPUT_BASE + 1, 4), None);
        assert_eq!(m.load_uint(PACKET_BASE + 3, 1), Some(4));
        assert_eq!(m.load_uint(RODATA_BASE, 2), Some(0x0909));
        assert_eq!(m.store_uint(RODATA_BASE, 1, 0), Err(Fault::ReadOnly));
        assert_eq!(
            m.store_uint(crate::MapId(0).addr(), 4, 1),
            Err(Fault::ReadOnly)
        );
        assert_eq!(m.store_uint(STACK_BASE + 60, 4, 7), Ok(()));
        assert_eq!(m.store_uint(STACK_BASE + 61, 4, 7), Err(Fault::OutOfBounds));
        assert_eq!(m.load_uint(STACK_BASE + 60, 4), Some(7));
        assert_eq!(m.load_uint(0, 1), None);
        assert_eq!(m.load_uint(u64::MAX, 8), None);
        assert_eq!(m.slice(INPUT_BASE + 1, 3), Some(&[2u8, 3, 4][..]));
        assert_eq!(m.slice(INPUT_BASE + 1, u64::MAX), None);
        let t = m.trap(
            Fault::OutOfBounds,
            3,
            0x10,
            8,
            Access::Read,
            Some(STACK_BASE),
        );
        let Trap::OutOfBounds { region, .. } = &t else {
            panic!("{t:?}")
        };
        assert_eq!(region.kind, RegionKind::Stack);
        assert_eq!(region.len, 64);
        let t = m.trap(Fault::OutOfBounds, 3, 0x10, 8, Access::Read, None);
        assert_eq!(t.pc(), 3);
        let Trap::OutOfBounds { region, .. } = &t else {
            panic!("{t:?}")
        };
        assert_eq!(region.name, "input");
        let t = m.trap(
            Fault::ReadOnly,
            1,
            crate::MapId(0).addr(),
            4,
            Access::Write,
            None,
        );
        let Trap::ReadOnly { region, .. } = &t else {
            panic!("{t:?}")
        };
        assert_eq!(region.name, "map 'ro'");
        assert!(!region.writable);
    }
}
