//! [`Trap`]: why a run stopped before its entry program returned.

use crate::layout::RegionInfo;

/// Direction of a memory access.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Access {
    /// A load.
    Read,
    /// A store (atomics count as stores).
    Write,
}

impl core::fmt::Display for Access {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// A run-time fault. Every variant names `pc`, the slot index (within the
/// program that was executing) of the instruction that faulted; for faults
/// inside a helper it is the slot of the `call`.
///
/// Engines return traps as values; the interpreter and the JIT produce equal
/// traps for the same program and input.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Trap {
    /// An access of `size` bytes at `addr` is outside every region, or runs
    /// past the end of the one its tag names.
    ///
    /// `region` is the nearest region: the one the address's tag names; if
    /// the tag names none, the one the base register pointed into (for
    /// instructions that have one); else the input.
    #[error(
        "pc {pc}: {access} of {size} bytes at {addr:#x} is out of bounds (nearest region: {region})"
    )]
    OutOfBounds {
        /// Faulting instruction.
        pc: u32,
        /// Guest address of the first byte.
        addr: u64,
        /// Access size in bytes.
        size: u64,
        /// Read or write.
        access: Access,
        /// The nearest region.
        region: RegionInfo,
    },
    /// A store into a region programs may only read.
    #[error("pc {pc}: write of {size} bytes at {addr:#x} into read-only {region}")]
    ReadOnly {
        /// Faulting instruction.
        pc: u32,
        /// Guest address of the first byte.
        addr: u64,
        /// Access size in bytes.
        size: u64,
        /// The region.
        region: RegionInfo,
    },
    /// `call` or `callx` named a helper id nothing is registered for.
    #[error("pc {pc}: unknown helper function {id}")]
    UnknownHelper {
        /// The call.
        pc: u32,
        /// The helper id.
        id: i64,
    },
    /// `callx` with a register value that cannot be a helper id (for
    /// example a function address).
    #[error("pc {pc}: callx target {value:#x} is not a helper id")]
    CallxNotHelper {
        /// The call.
        pc: u32,
        /// The register value.
        value: u64,
    },
    /// A helper refused its arguments (a bad map handle, a ring buffer
    /// pointer that is not a reservation, ...): what the kernel's verifier
    /// would have rejected.
    #[error("pc {pc}: helper {helper}: {message}")]
    HelperError {
        /// The call.
        pc: u32,
        /// The helper id.
        helper: u32,
        /// What went wrong.
        message: String,
    },
    /// The instruction budget ran out (see `Config::insn_budget`).
    #[error("pc {pc}: instruction budget of {limit} exhausted")]
    BudgetExhausted {
        /// The control transfer at which the budget was found exhausted.
        pc: u32,
        /// The budget.
        limit: u64,
    },
    /// A bpf-to-bpf call would need a ninth frame.
    #[error("pc {pc}: call depth exceeds {max} frames")]
    CallDepthExceeded {
        /// The call.
        pc: u32,
        /// The frame limit.
        max: u32,
    },
    /// A tail call beyond the chain limit, when `Config::tail_call_overflow`
    /// asks for a trap instead of the kernel's fall-through.
    #[error("pc {pc}: more than {limit} tail calls")]
    TailCallLimit {
        /// The `bpf_tail_call`.
        pc: u32,
        /// The limit.
        limit: u32,
    },
    /// A run-time computed jump (`gotox`) whose target is not the start of an
    /// instruction of the current program.
    #[error("pc {pc}: invalid jump target {target:#x}")]
    InvalidJumpTarget {
        /// The jump.
        pc: u32,
        /// The register value.
        target: u64,
    },
    /// An instruction this engine cannot execute (kfunc calls, BTF-id
    /// `ld_imm64`, arena address-space casts).
    #[error("pc {pc}: unsupported instruction: {what}")]
    Unsupported {
        /// The instruction.
        pc: u32,
        /// What it is.
        what: &'static str,
    },
    /// The entry program index given to the engine does not exist.
    #[error("no program with index {index} (the set has {count})")]
    NoSuchProgram {
        /// Always 0: no instruction ran.
        pc: u32,
        /// Requested index.
        index: u32,
        /// Number of programs.
        count: u32,
    },
}

impl Trap {
    /// The instruction the trap is about.
    #[must_use]
    pub fn pc(&self) -> u32 {
        match *self {
            Trap::OutOfBounds { pc, .. }
            | Trap::ReadOnly { pc, .. }
            | Trap::UnknownHelper { pc, .. }
            | Trap::CallxNotHelper { pc, .. }
            | Trap::HelperError { pc, .. }
            | Trap::BudgetExhausted { pc, .. }
            | Trap::CallDepthExceeded { pc, .. }
            | Trap::TailCallLimit { pc, .. }
            | Trap::InvalidJumpTarget { pc, .. }
            | Trap::Unsupported { pc, .. }
            | Trap::NoSuchProgram { pc, .. } => pc,
        }
    }
}
