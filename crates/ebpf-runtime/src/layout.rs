//! The guest address space: tagged virtual addresses.
//!
//! A guest address is a `u64` whose **top 32 bits are a region tag** and
//! whose **low 32 bits are a byte offset** into that region. Every engine
//! translates an access by looking at the tag (a `match` or a table index),
//! then checking `offset + size <= region length`. Nothing a program computes
//! can name host memory outside the regions it was given.
//!
//! | tag | region | writable | contents |
//! |---|---|---|---|
//! | 0 | none | - | `NULL` and small integers: every access traps |
//! | 1 | [`RegionKind::Stack`] | yes | [`MAX_CALL_FRAMES`] frames of [`STACK_FRAME_SIZE`] bytes |
//! | 2 | [`RegionKind::Input`] | yes | the input / context buffer given in `r1` |
//! | 3 | [`RegionKind::Packet`] | yes | packet data for `LD_ABS`/`LD_IND` and XDP-style `data`/`data_end` |
//! | 4 | [`RegionKind::Rodata`] | no | read-only data set with [`crate::Runtime::set_rodata`] |
//! | 5 | [`RegionKind::Code`] | no | function addresses (`ld_imm64` with `src = 4`); empty, never accessible |
//! | 6, 7 | none | - | reserved |
//! | 8 + i | [`RegionKind::Map`] | per map | value storage of map `i` ([`crate::MapId`]) |
//!
//! The stack grows down like a real one: frame 0 (the entry program) is the
//! top 512 bytes, and `r10` of frame `k` is [`frame_pointer`]`(k)`, the
//! address just past frame `k`. Pointers into a caller's frame stay valid in
//! the callee, as in the kernel.
//!
//! A **map handle** (what `ld_imm64 r1, map` puts in a register and what
//! helpers take as their map argument) is the address of offset 0 of the map's
//! region, [`map_addr`]. Dereferencing it reads the first value of an array
//! map, which the kernel's verifier forbids but which is memory-safe here.

/// Tag of the stack region.
pub const STACK_TAG: u32 = 1;
/// Tag of the input (context) region.
pub const INPUT_TAG: u32 = 2;
/// Tag of the packet region.
pub const PACKET_TAG: u32 = 3;
/// Tag of the read-only data region.
pub const RODATA_TAG: u32 = 4;
/// Tag of function addresses.
pub const CODE_TAG: u32 = 5;
/// Tag of map 0's value region; map `i` has tag `MAP_TAG_BASE + i`.
pub const MAP_TAG_BASE: u32 = 8;

/// Bytes in one stack frame (`MAX_BPF_STACK` in the kernel).
pub const STACK_FRAME_SIZE: usize = 512;
/// Maximum number of frames: the entry program plus seven nested bpf-to-bpf
/// calls (`MAX_CALL_FRAMES` in the kernel).
pub const MAX_CALL_FRAMES: usize = 8;
/// Bytes in the stack region.
pub const STACK_SIZE: usize = STACK_FRAME_SIZE * MAX_CALL_FRAMES;

/// Address of the first byte of a region.
#[must_use]
pub const fn region_base(tag: u32) -> u64 {
    (tag as u64) << 32
}

/// First byte of the stack region.
pub const STACK_BASE: u64 = region_base(STACK_TAG);
/// First byte of the input region.
pub const INPUT_BASE: u64 = region_base(INPUT_TAG);
/// First byte of the packet region (XDP `data`).
pub const PACKET_BASE: u64 = region_base(PACKET_TAG);
/// First byte of the read-only data region.
pub const RODATA_BASE: u64 = region_base(RODATA_TAG);
/// Base of function addresses: `CODE_BASE + slot` names the function
/// starting at `slot` of the current program.
pub const CODE_BASE: u64 = region_base(CODE_TAG);

/// The region tag of an address.
#[must_use]
#[inline(always)]
pub const fn tag(addr: u64) -> u32 {
    (addr >> 32) as u32
}

/// The byte offset of an address within its region.
#[must_use]
#[inline(always)]
pub const fn offset(addr: u64) -> u32 {
    addr as u32
}

/// `r10` of frame `frame` (0 = the entry program): the address one past the
/// frame's highest byte. Frames at or above [`MAX_CALL_FRAMES`] have no
/// stack; the value is then the bottom of the stack region.
#[must_use]
pub const fn frame_pointer(frame: usize) -> u64 {
    let used = if frame < MAX_CALL_FRAMES {
        frame * STACK_FRAME_SIZE
    } else {
        STACK_SIZE
    };
    STACK_BASE + (STACK_SIZE - used) as u64
}

/// The address of byte 0 of map `index`'s value region, which is also the
/// map's handle. `None` if the tag would not fit in 32 bits.
#[must_use]
pub const fn map_addr(index: u32) -> Option<u64> {
    match MAP_TAG_BASE.checked_add(index) {
        Some(t) => Some(region_base(t)),
        None => None,
    }
}

/// Which region a tag names.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RegionKind {
    /// Tag 0 or a reserved tag: no region.
    Unmapped,
    /// The stack.
    Stack,
    /// The input / context buffer.
    Input,
    /// The packet.
    Packet,
    /// Read-only data.
    Rodata,
    /// Function addresses (never accessible).
    Code,
    /// Value storage of the map with this index.
    Map(u32),
}

impl RegionKind {
    /// The region a tag names.
    #[must_use]
    pub const fn from_tag(tag: u32) -> RegionKind {
        match tag {
            STACK_TAG => RegionKind::Stack,
            INPUT_TAG => RegionKind::Input,
            PACKET_TAG => RegionKind::Packet,
            RODATA_TAG => RegionKind::Rodata,
            CODE_TAG => RegionKind::Code,
            t if t >= MAP_TAG_BASE => RegionKind::Map(t - MAP_TAG_BASE),
            _ => RegionKind::Unmapped,
        }
    }

    /// The region's tag (0 for [`RegionKind::Unmapped`]).
    #[must_use]
    pub const fn tag(self) -> u32 {
        match self {
            RegionKind::Unmapped => 0,
            RegionKind::Stack => STACK_TAG,
            RegionKind::Input => INPUT_TAG,
            RegionKind::Packet => PACKET_TAG,
            RegionKind::Rodata => RODATA_TAG,
            RegionKind::Code => CODE_TAG,
            RegionKind::Map(i) => MAP_TAG_BASE.saturating_add(i),
        }
    }
}

/// A description of one region, as traps report it.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RegionInfo {
    /// Which region.
    pub kind: RegionKind,
    /// Human name: `stack`, `input`, `packet`, `rodata`, `code`, `unmapped`
    /// or `map 'NAME'`.
    pub name: String,
    /// Guest address of its first byte.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Whether programs may write it.
    pub writable: bool,
}

impl core::fmt::Display for RegionInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} [{:#x}, +{:#x}){}",
            self.name,
            self.start,
            self.len,
            if self.writable { "" } else { " read-only" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_pointers_descend() {
        assert_eq!(frame_pointer(0), STACK_BASE + STACK_SIZE as u64);
        assert_eq!(frame_pointer(1), STACK_BASE + (STACK_SIZE - 512) as u64);
        assert_eq!(frame_pointer(7), STACK_BASE + 512);
        assert_eq!(frame_pointer(8), STACK_BASE);
        assert_eq!(frame_pointer(usize::MAX), STACK_BASE);
    }

    #[test]
    fn tags_round_trip() {
        for t in 0..20 {
            let k = RegionKind::from_tag(t);
            if k != RegionKind::Unmapped {
                assert_eq!(k.tag(), t);
            }
        }
        assert_eq!(RegionKind::from_tag(6), RegionKind::Unmapped);
        assert_eq!(map_addr(0), Some(8 << 32));
        assert_eq!(map_addr(u32::MAX), None);
        assert_eq!(tag(INPUT_BASE + 5), INPUT_TAG);
        assert_eq!(offset(INPUT_BASE + 5), 5);
    }
}
