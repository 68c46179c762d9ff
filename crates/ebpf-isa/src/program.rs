//! [`Program`]: a decoded instruction sequence indexed by slot.

use core::fmt;

use crate::decode::{DecodeError, decode};
use crate::encode::encode;
use crate::insn::{Insn, RawInsn, raw_from_bytes};
use crate::version::{CpuVersion, GroupSet};

/// A validated program: instructions indexed by slot, the way the kernel
/// indexes them (an `ld_imm64` is followed by [`Insn::LdImm64Tail`]).
///
/// **Invariant:** every `LdImm64` is immediately followed by exactly one
/// `LdImm64Tail`, and no tail appears anywhere else. All constructors keep it.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Program {
    insns: Vec<Insn>,
}

impl Program {
    /// Decode little-endian bytecode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Program, DecodeError> {
        Program::from_raw(&raw_from_bytes(bytes)?)
    }

    /// Decode wire slots.
    pub fn from_raw(slots: &[RawInsn]) -> Result<Program, DecodeError> {
        Ok(Program {
            insns: decode(slots)?,
        })
    }

    /// Build from instructions. Tails are (re)inserted after every
    /// `ld_imm64`; any `LdImm64Tail` in the input is dropped.
    pub fn from_insns(insns: impl IntoIterator<Item = Insn>) -> Program {
        let mut out = Vec::new();
        for insn in insns {
            if insn == Insn::LdImm64Tail {
                continue;
            }
            out.push(insn);
            if insn.slots() == 2 {
                out.push(Insn::LdImm64Tail);
            }
        }
        Program { insns: out }
    }

    /// The instructions, indexed by slot.
    #[must_use]
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    /// Number of slots.
    #[must_use]
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the program has no instruction.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The instructions with their slot index, tails skipped.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Insn)> {
        self.insns
            .iter()
            .enumerate()
            .filter(|(_, i)| **i != Insn::LdImm64Tail)
    }

    /// Encode to wire slots.
    #[must_use]
    pub fn to_raw(&self) -> Vec<RawInsn> {
        encode(&self.insns)
    }

    /// Encode to little-endian bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_raw().iter().flat_map(|r| r.to_bytes()).collect()
    }

    /// The ISA version the program needs (the maximum over its instructions).
    #[must_use]
    pub fn cpu_version(&self) -> CpuVersion {
        self.iter()
            .map(|(_, i)| i.cpu_version())
            .max()
            .unwrap_or(CpuVersion::V1)
    }

    /// The conformance groups the program uses.
    #[must_use]
    pub fn groups(&self) -> GroupSet {
        self.iter()
            .fold(GroupSet::EMPTY, |acc, (_, i)| acc.union(i.groups()))
    }
}

/// One instruction per line in kernel syntax, prefixed with its slot index
/// (`0: r0 = 0`).
impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, insn) in self.iter() {
            writeln!(f, "{idx}: {insn}")?;
        }
        Ok(())
    }
}
