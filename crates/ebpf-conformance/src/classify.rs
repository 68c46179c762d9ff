//! Which ISA version and conformance groups a test needs, by the upstream
//! runner's table (bpf_conformance FORMAT.md a.4), quirks included.
//!
//! This is deliberately **not** [`ebpf_isa::Insn::cpu_version`] /
//! [`ebpf_isa::Insn::groups`]: the runner works on raw slots and its table
//! differs from RFC 9669 in places, and skipping has to match it test for
//! test:
//!
//! - `0x1f` (`sub` 64-bit register) and `0x87` (`neg` 64-bit) are in
//!   `base32`;
//! - `src` is compared only for `0x18` and `0x85`, `imm` only for `0xc3`,
//!   `0xd4`, `0xdb`, `0xdc`, `off` only for the div/mod and `mov` opcodes
//!   (`0x34 0x37 0x3c 0x3f 0x94 0x97 0x9c 0x9f 0xbc 0xbf`), so `0xd7` matches
//!   with any `imm` and a jump matches with any registers;
//! - a slot that matches no entry adds nothing (the engine has to reject it);
//! - the second slot of `lddw` (`0x18`) is not looked up;
//! - each entry names one group; a test's groups are the plain union (the
//!   "base64 includes base32" rule applies to the command line, see
//!   [`expand_group`]).

use ebpf_isa::{CpuVersion, Group, GroupSet, RawInsn};

/// The table entry for one slot, or `None` when no entry matches.
#[must_use]
pub fn classify_slot(slot: &RawInsn) -> Option<(CpuVersion, Group)> {
    use CpuVersion::{V1, V2, V3, V4};
    use Group::{Atomic32, Atomic64, Base32, Base64, Callx, Divmul32, Divmul64, Packet};
    const ATOMIC_IMMS: [i32; 10] = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
    let (off, imm, src) = (slot.off, slot.imm, slot.src);
    Some(match slot.code {
        // ALU (32-bit).
        0x04 | 0x0c | 0x14 | 0x1c | 0x44 | 0x4c | 0x54 | 0x5c | 0x64 | 0x6c | 0x74 | 0x7c
        | 0x84 | 0xa4 | 0xac | 0xb4 | 0xc4 | 0xcc => (V1, Base32),
        0xbc => match off {
            0 => (V1, Base32),
            8 | 16 => (V4, Base32),
            _ => return None,
        },
        0xd4 | 0xdc => match imm {
            16 | 32 => (V1, Base32),
            64 => (V1, Base64),
            _ => return None,
        },
        // ALU64.
        0x07 | 0x0f | 0x17 | 0x47 | 0x4f | 0x57 | 0x5f | 0x67 | 0x6f | 0x77 | 0x7f | 0xa7
        | 0xaf | 0xb7 | 0xc7 | 0xcf => (V1, Base64),
        0xbf => match off {
            0 => (V1, Base64),
            8 | 16 | 32 => (V4, Base64),
            _ => return None,
        },
        // The upstream table puts these two 64-bit instructions in base32.
        0x1f | 0x87 => (V1, Base32),
        // Multiplication, division, modulo.
        0x24 | 0x2c => (V1, Divmul32),
        0x34 | 0x3c | 0x94 | 0x9c => match off {
            0 => (V1, Divmul32),
            1 => (V4, Divmul32),
            _ => return None,
        },
        0x27 | 0x2f => (V1, Divmul64),
        0x37 | 0x3f | 0x97 | 0x9f => match off {
            0 => (V1, Divmul64),
            1 => (V4, Divmul64),
            _ => return None,
        },
        // bswap: imm is not compared.
        0xd7 => (V4, Base32),
        // Loads and stores.
        0x61 | 0x62 | 0x63 | 0x69 | 0x6a | 0x6b | 0x71 | 0x72 | 0x73 => (V1, Base32),
        0x79..=0x7b => (V1, Base64), // 0x79 0x7a 0x7b
        0x81 | 0x89 | 0x91 => (V4, Base32),
        0x18 => match src {
            0..=6 => (V1, Base64),
            _ => return None,
        },
        // Control flow.
        0x05 | 0x95 => (V1, Base32),
        0x85 => match src {
            0 => (V1, Base32),
            1 | 2 => (V3, Base32),
            _ => return None,
        },
        0x8d => (V1, Callx),
        0x15 | 0x1d | 0x25 | 0x2d | 0x35 | 0x3d | 0x45 | 0x4d | 0x55 | 0x5d | 0x65 | 0x6d
        | 0x75 | 0x7d => (V1, Base64),
        0xa5 | 0xad | 0xb5 | 0xbd | 0xc5 | 0xcd | 0xd5 | 0xdd => (V2, Base64),
        0x16 | 0x1e | 0x26 | 0x2e | 0x36 | 0x3e | 0x46 | 0x4e | 0x56 | 0x5e | 0x66 | 0x6e
        | 0x76 | 0x7e | 0xa6 | 0xae | 0xb6 | 0xbe | 0xc6 | 0xce | 0xd6 | 0xde => (V3, Base32),
        0x06 => (V4, Base32),
        // Atomics.
        0xc3 if ATOMIC_IMMS.contains(&imm) => (V3, Atomic32),
        0xdb if ATOMIC_IMMS.contains(&imm) => (V3, Atomic64),
        // Legacy packet access.
        0x20 | 0x28 | 0x30 | 0x40 | 0x48 | 0x50 => (V1, Packet),
        _ => return None,
    })
}

/// The version a program needs (the maximum over its slots, `V1` when
/// nothing matches) and the union of its groups.
#[must_use]
pub fn classify(slots: &[RawInsn]) -> (CpuVersion, GroupSet) {
    let mut cpu = CpuVersion::V1;
    let mut groups = GroupSet::EMPTY;
    let mut idx = 0usize;
    while let Some(slot) = slots.get(idx) {
        if let Some((v, g)) = classify_slot(slot) {
            cpu = cpu.max(v);
            groups = groups.with(g);
        }
        // The second slot of lddw is skipped, whatever the first one's src.
        idx = idx.saturating_add(if slot.code == 0x18 { 2 } else { 1 });
    }
    (cpu, groups)
}

/// A group as the runner's command line means it: `base64` is
/// base32 + base64, `atomic64` is atomic32 + atomic64, `divmul64` is
/// divmul32 + divmul64, every other name is itself.
#[must_use]
pub const fn expand_group(g: Group) -> GroupSet {
    let set = GroupSet::of(g);
    match g {
        Group::Base64 => set.with(Group::Base32),
        Group::Atomic64 => set.with(Group::Atomic32),
        Group::Divmul64 => set.with(Group::Divmul32),
        _ => set,
    }
}

/// What a runtime claims: an ISA version and the groups it implements.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Settings {
    /// `--cpu_version`.
    pub cpu: CpuVersion,
    /// The enabled groups.
    pub groups: GroupSet,
}

impl Settings {
    /// The runner's default groups: all but `callx` and `packet`.
    pub const DEFAULT_GROUPS: GroupSet = GroupSet::ALL.without(Group::Callx).without(Group::Packet);

    /// The runner's settings for `--cpu_version cpu --include_groups include
    /// --exclude_groups exclude`: the default groups plus `include`, then
    /// minus `exclude`, each name expanded by [`expand_group`].
    #[must_use]
    pub fn new(cpu: CpuVersion, include: &[Group], exclude: &[Group]) -> Settings {
        let mut groups = Self::DEFAULT_GROUPS;
        for g in include {
            groups = groups.union(expand_group(*g));
        }
        for g in exclude {
            for e in expand_group(*g).iter() {
                groups = groups.without(e);
            }
        }
        Settings { cpu, groups }
    }

    /// Whether a test needing `cpu` and `groups` runs under these settings
    /// (otherwise the runner reports SKIP).
    #[must_use]
    pub fn should_run(&self, cpu: CpuVersion, groups: GroupSet) -> bool {
        cpu <= self.cpu && self.groups.is_superset(groups)
    }
}

/// The runner's defaults: `v3` and [`Settings::DEFAULT_GROUPS`].
impl Default for Settings {
    fn default() -> Settings {
        Settings {
            cpu: CpuVersion::V3,
            groups: Settings::DEFAULT_GROUPS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CpuVersion::*;

    fn slot(code: u8, src: u8, off: i16, imm: i32) -> RawInsn {
        RawInsn::new(code, 0, src, off, imm)
    }

    #[test]
    fn table_quirks() {
        assert_eq!(
            classify_slot(&slot(0x1f, 1, 0, 0)),
            Some((V1, Group::Base32))
        );
        assert_eq!(
            classify_slot(&slot(0x87, 0, 0, 0)),
            Some((V1, Group::Base32))
        );
        assert_eq!(
            classify_slot(&slot(0x17, 0, 0, 0)),
            Some((V1, Group::Base64))
        );
        // imm not compared for 0xd7; compared for 0xd4.
        assert_eq!(
            classify_slot(&slot(0xd7, 0, 0, 8)),
            Some((V4, Group::Base32))
        );
        assert_eq!(classify_slot(&slot(0xd4, 0, 0, 8)), None);
        assert_eq!(
            classify_slot(&slot(0xdc, 0, 0, 64)),
            Some((V1, Group::Base64))
        );
        // Offsets select the signed/sign-extending variants.
        assert_eq!(
            classify_slot(&slot(0x3f, 0, 1, 0)),
            Some((V4, Group::Divmul64))
        );
        assert_eq!(classify_slot(&slot(0x3f, 0, 2, 0)), None);
        assert_eq!(classify_slot(&slot(0xbc, 0, 32, 0)), None);
        assert_eq!(
            classify_slot(&slot(0xbf, 0, 32, 0)),
            Some((V4, Group::Base64))
        );
        // Offsets are not compared elsewhere: a jump with any off matches.
        assert_eq!(
            classify_slot(&slot(0xad, 0, -5, 0)),
            Some((V2, Group::Base64))
        );
        // src is compared for calls and lddw only.
        assert_eq!(
            classify_slot(&slot(0x85, 2, 0, 0)),
            Some((V3, Group::Base32))
        );
        assert_eq!(classify_slot(&slot(0x85, 3, 0, 0)), None);
        assert_eq!(classify_slot(&slot(0x18, 7, 0, 0)), None);
        assert_eq!(classify_slot(&slot(0xdb, 0, 0, 0x100)), None);
        assert_eq!(
            classify_slot(&slot(0xc3, 0, 0, 0xf1)),
            Some((V3, Group::Atomic32))
        );
        assert_eq!(classify_slot(&slot(0xff, 0, 0, 0)), None);
    }

    #[test]
    fn lddw_second_slot_is_not_looked_up() {
        // The second slot looks like `ja32` (0x06, v4) but is skipped.
        let prog = [
            slot(0x18, 0, 0, 1),
            slot(0x06, 0, 0, 0),
            slot(0x95, 0, 0, 0),
        ];
        assert_eq!(
            classify(&prog),
            (V1, GroupSet::of(Group::Base64).with(Group::Base32))
        );
        assert_eq!(classify(&[]), (V1, GroupSet::EMPTY));
    }

    #[test]
    fn settings() {
        let d = Settings::default();
        assert_eq!(d.cpu, V3);
        assert!(!d.groups.contains(Group::Callx));
        assert!(!d.groups.contains(Group::Packet));
        assert!(d.should_run(V3, GroupSet::of(Group::Atomic64)));
        assert!(!d.should_run(V4, GroupSet::of(Group::Base32)));
        assert!(!d.should_run(V1, GroupSet::of(Group::Callx)));
        let s = Settings::new(V4, &[Group::Callx], &[Group::Divmul64]);
        assert!(s.should_run(V4, GroupSet::of(Group::Callx)));
        assert!(!s.groups.contains(Group::Divmul32));
        assert!(s.groups.contains(Group::Base64));
    }
}
