//! [`JitError`]: why a program set cannot be compiled.

/// What kind of static control transfer a target belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TargetKind {
    /// A jump (`goto`, `gotol`, conditional jumps, `may_goto`).
    Jump,
    /// A bpf-to-bpf call.
    Call,
    /// A function address (`ld_imm64` with `src = 4`).
    Func,
}

impl core::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TargetKind::Jump => "jump",
            TargetKind::Call => "call",
            TargetKind::Func => "function",
        })
    }
}

/// Why [`crate::Jit::new`] rejected a program set. `prog` is the index in
/// the set (0 for a single program), `pc` a slot index. The static checks
/// (and their messages) are the interpreter's (`ebpf_interp::InterpError`).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JitError {
    /// A program with no instruction.
    #[error("program {prog}: no instructions")]
    Empty {
        /// Program index.
        prog: usize,
    },
    /// A program with more slots than the limit.
    #[error("program {prog}: {len} slots is more than the limit of {limit}")]
    TooLarge {
        /// Program index.
        prog: usize,
        /// Its length.
        len: usize,
        /// The limit ([`crate::MAX_PROGRAM_SLOTS`]).
        limit: usize,
    },
    /// More programs than the limit.
    #[error("{count} programs is more than the limit of {limit}")]
    TooManyPrograms {
        /// Number given.
        count: usize,
        /// The limit ([`crate::MAX_PROGRAMS`]).
        limit: usize,
    },
    /// A static target outside the program.
    #[error(
        "program {prog}, insn {pc}: {kind} target {target} is out of range (program has {len} slots)"
    )]
    TargetOutOfRange {
        /// Program index.
        prog: usize,
        /// The instruction.
        pc: usize,
        /// The target slot (`pc + 1 + offset`).
        target: i64,
        /// Jump, call or function address.
        kind: TargetKind,
        /// Slots in the program.
        len: usize,
    },
    /// A static target on the second slot of an `ld_imm64`.
    #[error("program {prog}, insn {pc}: {kind} target {target} is the second slot of ld_imm64")]
    TargetInLdImm64 {
        /// Program index.
        prog: usize,
        /// The instruction.
        pc: usize,
        /// The target slot.
        target: usize,
        /// Jump, call or function address.
        kind: TargetKind,
    },
    /// The last instruction can continue to the slot past the end.
    #[error("program {prog}, insn {pc}: execution can fall off the end of the program")]
    FallsOffEnd {
        /// Program index.
        prog: usize,
        /// The last slot.
        pc: usize,
    },
    /// An instruction writes `r10`.
    #[error("program {prog}, insn {pc}: frame pointer r10 is read only")]
    FramePointerWrite {
        /// Program index.
        prog: usize,
        /// The instruction.
        pc: usize,
    },
    /// An `ld_imm64` map reference that cannot name a map region.
    #[error("program {prog}, insn {pc}: invalid map reference {value}")]
    InvalidMapReference {
        /// Program index.
        prog: usize,
        /// The instruction.
        pc: usize,
        /// The fd or index.
        value: i64,
    },
    /// The assembler failed (a label left undefined: a bug in the JIT).
    #[error("program {prog}: code generation failed: {message}")]
    Codegen {
        /// Program index (0 when not tied to one).
        prog: usize,
        /// The assembler's message.
        message: String,
    },
    /// Executable memory could not be mapped.
    #[error("cannot map executable memory of {size} bytes: {message}")]
    Memory {
        /// Bytes requested.
        size: usize,
        /// The operating system's message.
        message: String,
    },
}
