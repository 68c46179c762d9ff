//! [`CfgError`]: why a program has no control-flow graph.

/// A structural rejection, in the order and with the wording of the
/// kernel's `add_subprog_and_kfunc`, `check_subprogs` and `check_cfg`.
///
/// `Display` prints exactly the line the kernel's verifier log shows
/// (without the trailing newline), so the verifier can reuse it. Every
/// variant also names *where* (the instruction slot) even when the kernel's
/// text does not.
///
/// Jump targets are computed the way the kernel computes them, in 32-bit
/// `int` arithmetic (`insn + off + 1`, wrapping), so `to` is what the kernel
/// would print even for `gotol` offsets that overflow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CfgError {
    /// The program has no instruction. The kernel refuses it in
    /// `bpf_prog_load` with `E2BIG` and no log line; the text is ours.
    #[error("program has no instructions")]
    Empty,
    /// More slots than the kernel's limit for this loader:
    /// `BPF_COMPLEXITY_LIMIT_INSNS` (1,000,000) with `CAP_BPF`, `BPF_MAXINSNS`
    /// (4096) without. The kernel refuses it in `bpf_prog_load` with `E2BIG`
    /// and no log line; the text is ours.
    #[error("program of {len} insns is larger than the limit of {limit} insns")]
    TooLarge {
        /// Number of slots.
        len: usize,
        /// The limit (1,000,000 or 4096).
        limit: usize,
    },
    /// A bpf-to-bpf call, a kfunc call or an `ld_imm64` of a function in a
    /// program loaded without `CAP_BPF` (`add_subprog_and_kfunc`; only when
    /// [`CfgConfig::bpf_capable`](crate::CfgConfig::bpf_capable) is false).
    #[error(
        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN"
    )]
    CallsNotAllowed {
        /// The call or `ld_imm64` slot.
        insn: usize,
    },
    /// `call pc+N` or `ld_imm64` of a function whose target is outside the
    /// program (`add_subprog`).
    #[error("call to invalid destination")]
    CallToInvalidDestination {
        /// The call or `ld_imm64` slot.
        insn: usize,
        /// The target slot as the kernel computes it.
        target: i32,
    },
    /// A call or function reference would create subprogram number 257
    /// (`BPF_MAX_SUBPROGS`, counting the main program).
    #[error("too many subprograms")]
    TooManySubprograms {
        /// The call or `ld_imm64` slot that needed one more subprogram.
        insn: usize,
        /// The limit (256).
        limit: usize,
    },
    /// A jump whose target is outside its own subprogram, including
    /// outside the program (`check_subprogs`; also `push_insn` in
    /// `check_cfg`, which cannot fire once `check_subprogs` passed).
    #[error("jump out of range from insn {from} to {to}")]
    JumpOutOfRange {
        /// The jump slot.
        from: usize,
        /// The target slot as the kernel computes it.
        to: i32,
    },
    /// The last slot of a subprogram is not `exit`, `goto` or `gotol`, so
    /// control could fall into the next subprogram or off the end
    /// (`check_subprogs`).
    #[error("last insn is not an exit or jmp")]
    LastInsnNotExitOrJmp {
        /// The last slot of the subprogram.
        insn: usize,
        /// Index of the subprogram, in start order.
        subprog: usize,
    },
    /// A `gotox` in a subprogram for which no jump table starts
    /// (`create_jt` in `check_cfg`; only when jump tables are given).
    #[error("no jump tables found for subprog starting at {subprog_start}")]
    NoJumpTables {
        /// The `gotox` slot.
        insn: usize,
        /// First slot of its subprogram.
        subprog_start: usize,
    },
    /// A jump table used by a `gotox` has an entry outside the subprogram
    /// (`create_jt`). The kernel prints the end as one past the last slot.
    #[error(
        "jump table for insn {insn} points outside of the subprog [{subprog_start},{subprog_end}]"
    )]
    JumpTableOutsideSubprog {
        /// The `gotox` slot.
        insn: usize,
        /// First slot of the subprogram.
        subprog_start: usize,
        /// One past its last slot.
        subprog_end: usize,
    },
    /// A loop, found by `check_cfg`'s depth-first search, in a program
    /// loaded without `CAP_BPF` (only when
    /// [`CfgConfig::bpf_capable`](crate::CfgConfig::bpf_capable) is false;
    /// otherwise back-edges are data, [`Cfg::back_edges`](crate::Cfg::back_edges)).
    #[error("back-edge from insn {from} to {to}")]
    BackEdge {
        /// Source slot of the edge.
        from: usize,
        /// Target slot (a slot on the current DFS path).
        to: usize,
    },
    /// A slot no path from the entry reaches (`check_cfg`).
    #[error("unreachable insn {insn}")]
    UnreachableInsn {
        /// The first such slot.
        insn: usize,
    },
    /// Some edge leads to the second slot of an `ld_imm64` (`check_cfg`).
    #[error("jump into the middle of ldimm64 insn {insn}")]
    JumpIntoLdImm64 {
        /// The slot of the `ld_imm64` (its second slot is `insn + 1`).
        insn: usize,
    },
}
