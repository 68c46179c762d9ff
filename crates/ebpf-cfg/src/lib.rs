//! Control flow of eBPF programs: the kernel's structural checks, then the
//! graph the verifier and the tools work on.
//!
//! [`Cfg::build`] takes a decoded [`Program`](ebpf_isa::Program) and either
//! rejects it with the kernel's first structural error ([`CfgError`], whose
//! `Display` is the kernel's log line) or returns a [`Cfg`]:
//!
//! * **subprograms** ([`Subprog`]): the main program plus every target of a
//!   `call pc+N` and of an `ld_imm64` function reference, like the kernel's
//!   `add_subprog_and_kfunc`;
//! * **basic blocks** ([`Block`]) and **edges** ([`Edge`], [`EdgeKind`]):
//!   fall-through, taken branch, jump, call (to the callee's entry),
//!   function reference, `gotox` jump-table entries, and the abnormal
//!   return of tail calls and `ld_abs`; each block ends in a
//!   [`Terminator`] (`exit` included), with predecessors and successors;
//! * **orders and dominators**: reverse postorder per subprogram, immediate
//!   dominators (Lengauer-Tarjan), constant-time `dominates`;
//! * **loops**: natural loops with header, latches, body and nesting depth,
//!   edges of irreducible cycles, and the back-edges exactly as the kernel's
//!   `check_cfg` finds them (data, not errors, for a privileged loader);
//! * **`check_cfg`'s marks** per instruction: where the verifier prunes
//!   (`prune_point`), records jump history (`jmp_point`), forces checkpoints
//!   ([`InsnMarks`], [`Cfg::marks`]);
//! * renderings: [`Cfg::to_dot`] (Graphviz) and `Display` (text).
//!
//! ```
//! use ebpf_cfg::{Cfg, EdgeKind};
//! use ebpf_isa::asm::assemble;
//!
//! let prog = assemble(
//!     "
//!         r0 = 0
//!     loop:
//!         r0 += 1
//!         if r0 < 10 goto loop
//!         exit
//!     ",
//! )?;
//! let cfg = Cfg::build(&prog)?;
//! assert_eq!(cfg.blocks().len(), 3);
//! let header = cfg.block_of(1).unwrap();
//! assert!(cfg.is_loop_header(header));
//! assert_eq!(cfg.back_edges()[0].to_string(), "back-edge from insn 2 to 1");
//! assert!(cfg.marks(2).is_prune_point());
//! assert_eq!(cfg.succs(header)[1].kind, EdgeKind::Branch);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Who uses it: the verifier (subprogram layout, prune points, loop
//! information, the structural rejections), the CLI (`ebpf cfg`, DOT
//! output), analyses that need dominators.
//!
//! # The checks, in the kernel's order
//!
//! [`Cfg::build`] runs the kernel's structural passes in `bpf_check`'s
//! order, each stopping at its first failure, so its error is the kernel's
//! first error for every structural defect. Like the kernel, the passes see
//! *slots*: the second slot of an `ld_imm64` is an instruction of opcode 0
//! to them (not a jump, one slot long).
//!
//! 1. `bpf_prog_load`: no instruction, or more than 1,000,000
//!    ([`CfgError::Empty`], [`CfgError::TooLarge`]; the kernel's `E2BIG`
//!    has no log line, the text is ours).
//! 2. `add_subprog_and_kfunc`, in slot order: without `CAP_BPF`, any
//!    bpf-to-bpf call, kfunc call or function reference ("loading/calling
//!    other bpf or kernel functions are allowed for CAP_BPF and
//!    CAP_SYS_ADMIN"); a call or function reference outside the program
//!    ("call to invalid destination"); a 257th subprogram ("too many
//!    subprograms").
//! 3. `check_subprogs`, in slot order: a jump leaving its subprogram ("jump
//!    out of range from insn 3 to 9"; `gotox` counts as a jump to the next
//!    slot, as the kernel's `bpf_jmp_offset` makes it), and a subprogram
//!    whose last slot is not `exit`, `goto` or `gotol` ("last insn is not
//!    an exit or jmp").
//! 4. `check_cfg`: a depth-first search from slot 0 in the kernel's order
//!    (fall-through edge first, then the branch; calls enter the callee
//!    after the return point), which records back-edges or, without
//!    `CAP_BPF`, fails on the first ("back-edge from insn 5 to 1"), and
//!    resolves `gotox` jump tables ("no jump tables found for subprog
//!    starting at 0", "jump table for insn 4 points outside of the subprog
//!    \[0,9\]"); then, in slot order, "unreachable insn 7" and "jump into the
//!    middle of ldimm64 insn 2".
//!
//! Between 3 and 4 the kernel runs `check_btf_info` and
//! `resolve_pseudo_ldimm64`; those belong to the verifier.
//!
//! **Configuration** ([`CfgConfig`]): whether the loader has `CAP_BPF`
//! (without it, calls are refused and the first back-edge is an error), and
//! the `gotox` jump tables (without them a `gotox` has no edges; see
//! [`CfgConfig::jump_tables`]).
//!
//! **Cost**: linear in the program size (dominators `O(E log N)`), no
//! recursion; a realistic program of 1,000,000 instructions builds in a few
//! tens of milliseconds (`benches/build.rs`).
//!
//! **Not here**, deliberately: anything that needs BTF, maps, helper
//! prototypes or the program type — kfunc resolution (the kernel reports
//! kfunc errors in the same loop as subprogram errors), the exception
//! callback (a second `check_cfg` root found through BTF), recursion and
//! stack-depth limits (`check_max_stack_depth`), kfunc-dependent marks
//! (iterator and callback kfuncs), `changes_pkt_data`/`might_sleep`
//! summaries. No Cargo features; needs `std`.
#![forbid(unsafe_code)]

mod cfg;
mod dom;
mod error;
mod graph;
mod ids;
mod kernel;
mod loops;
mod render;

pub use cfg::{
    BackEdge, Block, Cfg, CfgChecks, CfgConfig, Edge, EdgeKind, Loop, Subprog, Terminator,
};
pub use error::CfgError;
pub use ids::{BlockId, InsnMarks, LoopId, SubprogId};

/// `BPF_MAX_SUBPROGS`: the most subprograms a program may have, the main
/// program included.
pub const MAX_SUBPROGS: usize = kernel::BPF_MAX_SUBPROGS;

/// `BPF_COMPLEXITY_LIMIT_INSNS`: the most slots a program may have.
pub const MAX_INSNS: usize = kernel::BPF_COMPLEXITY_LIMIT_INSNS;
