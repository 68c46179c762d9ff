//! ISA levels (`-mcpu=v1..v4`) and the conformance groups of RFC 9669
//! section 2.4, queryable per instruction.

use crate::insn::*;

/// ISA version, as clang's `-mcpu` and the conformance suite name them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum CpuVersion {
    /// The original eBPF ISA.
    V1,
    /// Adds 64-bit `<`, `<=`, `s<`, `s<=` jumps.
    V2,
    /// Adds the JMP32 class, atomics and bpf-to-bpf calls.
    V3,
    /// Adds sign-extending loads and moves, signed division, `bswap`, `gotol`.
    V4,
}

impl core::fmt::Display for CpuVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CpuVersion::V1 => "v1",
            CpuVersion::V2 => "v2",
            CpuVersion::V3 => "v3",
            CpuVersion::V4 => "v4",
        })
    }
}

impl core::str::FromStr for CpuVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v1" | "1" => Ok(CpuVersion::V1),
            "v2" | "2" => Ok(CpuVersion::V2),
            "v3" | "3" => Ok(CpuVersion::V3),
            "v4" | "4" => Ok(CpuVersion::V4),
            _ => Err(format!(
                "unknown cpu version `{s}` (expected v1, v2, v3 or v4)"
            )),
        }
    }
}

/// A conformance group (RFC 9669 section 2.4, plus `callx` of the suite).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Group {
    /// 32-bit base instructions.
    Base32,
    /// 64-bit base instructions.
    Base64,
    /// 32-bit atomics.
    Atomic32,
    /// 64-bit atomics.
    Atomic64,
    /// 32-bit multiplication, division and modulo.
    Divmul32,
    /// 64-bit multiplication, division and modulo.
    Divmul64,
    /// Legacy packet access (`LD_ABS`, `LD_IND`).
    Packet,
    /// Call through a register.
    Callx,
}

impl Group {
    /// Every group.
    pub const ALL: [Group; 8] = [
        Group::Base32,
        Group::Base64,
        Group::Atomic32,
        Group::Atomic64,
        Group::Divmul32,
        Group::Divmul64,
        Group::Packet,
        Group::Callx,
    ];
    /// The group's name as the suite spells it (`base32`, `callx`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Group::Base32 => "base32",
            Group::Base64 => "base64",
            Group::Atomic32 => "atomic32",
            Group::Atomic64 => "atomic64",
            Group::Divmul32 => "divmul32",
            Group::Divmul64 => "divmul64",
            Group::Packet => "packet",
            Group::Callx => "callx",
        }
    }
    /// Parse a group name.
    #[must_use]
    pub fn from_name(s: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == s)
    }
    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of [`Group`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct GroupSet(u8);

impl GroupSet {
    /// No group.
    pub const EMPTY: GroupSet = GroupSet(0);
    /// Every group.
    pub const ALL: GroupSet = GroupSet(0xff);

    /// The set holding one group.
    #[must_use]
    pub const fn of(g: Group) -> GroupSet {
        GroupSet(g.bit())
    }
    /// This set plus `g`.
    #[must_use]
    pub const fn with(self, g: Group) -> GroupSet {
        GroupSet(self.0 | g.bit())
    }
    /// This set without `g`.
    #[must_use]
    pub const fn without(self, g: Group) -> GroupSet {
        GroupSet(self.0 & !g.bit())
    }
    /// Union.
    #[must_use]
    pub const fn union(self, o: GroupSet) -> GroupSet {
        GroupSet(self.0 | o.0)
    }
    /// Whether `g` is in the set.
    #[must_use]
    pub const fn contains(self, g: Group) -> bool {
        self.0 & g.bit() != 0
    }
    /// Whether every group of `o` is in this set.
    #[must_use]
    pub const fn is_superset(self, o: GroupSet) -> bool {
        o.0 & !self.0 == 0
    }
    /// The groups in the set.
    pub fn iter(self) -> impl Iterator<Item = Group> {
        Group::ALL.into_iter().filter(move |g| self.contains(*g))
    }
}

impl core::fmt::Display for GroupSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut first = true;
        for g in self.iter() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(g.name())?;
        }
        Ok(())
    }
}

fn base(width: Width) -> Group {
    match width {
        Width::W32 => Group::Base32,
        Width::W64 => Group::Base64,
    }
}

impl Insn {
    /// The lowest ISA version that has this instruction. Kernel extensions
    /// outside RFC 9669 (see [`Insn::is_rfc9669`]) report `V4`, the level
    /// clang emits them at.
    #[must_use]
    pub const fn cpu_version(&self) -> CpuVersion {
        match self {
            Insn::Jump {
                width: Width::W64,
                cond: JmpCond::Lt | JmpCond::Le | JmpCond::Slt | JmpCond::Sle,
                ..
            } => CpuVersion::V2,
            Insn::Jump {
                width: Width::W32, ..
            }
            | Insn::Atomic { .. }
            | Insn::Call(CallTarget::Local(_) | CallTarget::Kfunc { .. }) => CpuVersion::V3,
            Insn::Alu {
                op: AluOp::SDiv | AluOp::SMod,
                ..
            }
            | Insn::MovSx { .. }
            | Insn::LoadSx { .. }
            | Insn::Endian {
                order: ByteOrder::Swap,
                ..
            }
            | Insn::Gotol { .. }
            | Insn::LoadAcquire { .. }
            | Insn::StoreRelease { .. }
            | Insn::MayGoto { .. }
            | Insn::AddrSpaceCast { .. }
            | Insn::Gotox { .. } => CpuVersion::V4,
            _ => CpuVersion::V1,
        }
    }

    /// Whether RFC 9669 defines this instruction. `false` for the kernel's
    /// later additions: load-acquire, store-release, `may_goto`,
    /// `addr_space_cast` and `gotox`.
    #[must_use]
    pub const fn is_rfc9669(&self) -> bool {
        !matches!(
            self,
            Insn::LoadAcquire { .. }
                | Insn::StoreRelease { .. }
                | Insn::MayGoto { .. }
                | Insn::AddrSpaceCast { .. }
                | Insn::Gotox { .. }
        )
    }

    /// The conformance group of this instruction (RFC 9669 appendix A).
    #[must_use]
    pub fn group(&self) -> Group {
        match *self {
            Insn::Alu {
                op: AluOp::Mul | AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod,
                width,
                ..
            } => match width {
                Width::W32 => Group::Divmul32,
                Width::W64 => Group::Divmul64,
            },
            Insn::Alu { width, .. } | Insn::Neg { width, .. } | Insn::MovSx { width, .. } => {
                base(width)
            }
            Insn::Endian {
                bits: SwapBits::B64,
                ..
            } => Group::Base64,
            Insn::Endian { .. } => Group::Base32,
            Insn::Load { size, .. } | Insn::LoadSx { size, .. } | Insn::Store { size, .. } => {
                if size == Size::DW {
                    Group::Base64
                } else {
                    Group::Base32
                }
            }
            Insn::Atomic { size, .. }
            | Insn::LoadAcquire { size, .. }
            | Insn::StoreRelease { size, .. } => {
                if size == Size::DW {
                    Group::Atomic64
                } else {
                    Group::Atomic32
                }
            }
            Insn::LdAbs { .. } | Insn::LdInd { .. } => Group::Packet,
            Insn::LdImm64 { .. } | Insn::LdImm64Tail | Insn::AddrSpaceCast { .. } => Group::Base64,
            Insn::Jump { width, .. } => base(width),
            Insn::Callx { .. } => Group::Callx,
            Insn::MayGoto { .. } | Insn::Gotox { .. } => Group::Base64,
            Insn::Ja { .. } | Insn::Gotol { .. } | Insn::Call(_) | Insn::Exit => Group::Base32,
        }
    }

    /// The groups a runtime must claim to run this instruction: its own group
    /// and the groups it builds on (`base64` includes `base32`, `atomic64`
    /// includes `atomic32`, `divmul64` includes `divmul32`).
    #[must_use]
    pub fn groups(&self) -> GroupSet {
        let g = self.group();
        let set = GroupSet::of(g);
        match g {
            Group::Base64 => set.with(Group::Base32),
            Group::Atomic64 => set.with(Group::Atomic32),
            Group::Divmul64 => set.with(Group::Divmul32),
            _ => set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_groups() {
        let j = Insn::Jump {
            cond: JmpCond::Lt,
            width: Width::W64,
            dst: Reg::R1,
            src: Operand::Imm(1),
            off: 0,
        };
        assert_eq!(j.cpu_version(), CpuVersion::V2);
        assert_eq!(j.groups(), GroupSet::of(Group::Base64).with(Group::Base32));
        let a = Insn::Atomic {
            op: AtomicOp::Add,
            size: Size::W,
            dst: Reg::R10,
            src: Reg::R1,
            off: -4,
        };
        assert_eq!(a.cpu_version(), CpuVersion::V3);
        assert_eq!(a.group(), Group::Atomic32);
        assert!(Insn::Callx { reg: Reg::R2 }.groups().contains(Group::Callx));
        assert!(!Insn::MayGoto { off: 1 }.is_rfc9669());
        assert_eq!("v3".parse::<CpuVersion>(), Ok(CpuVersion::V3));
        assert_eq!(
            GroupSet::ALL.to_string(),
            "base32,base64,atomic32,atomic64,divmul32,divmul64,packet,callx"
        );
    }
}
