//! A kernel-faithful eBPF verifier: the verdicts and the logs of Linux
//! 6.18's `kernel/bpf/verifier.c`, without a kernel. It is not a loader
//! (`ebpf-loader` turns objects into programs) and does not run programs.
//!
//! Its numeric core is the scalar domain every other part builds on:
//!
//! * [`Tnum`]: tristate numbers (`kernel/bpf/tnum.c`), per-bit knowledge of
//!   a 64-bit value, with the kernel's arithmetic and bitwise operations;
//! * [`ScalarBounds`]: the numeric fields of `struct bpf_reg_state` (a tnum
//!   plus signed/unsigned 64- and 32-bit ranges), their maintenance
//!   (`reg_bounds_sync`), the ALU transfer functions of
//!   `adjust_scalar_min_max_vals`, branch prediction (`is_branch_taken`) and
//!   branch refinement ([`reg_set_min_max`]), and the kernel log's text for a
//!   scalar register.
//!
//! On top of it, the verifier itself:
//!
//! * [`state`]: register types and states (`struct bpf_reg_state`: scalars,
//!   ctx, stack, map pointers and values, packet pointers, helper memory,
//!   sockets, `NULL`-able and acquired pointers), stack slots byte by byte, call
//!   frames, and their text in the kernel log (`ctx()`, `fp-8`,
//!   `map_value(ks=4,vs=16,off=8)`, `pkt(off=14,r=14)`, `fp-8=0000????`);
//! * [`check`]: [`check::verify`], the instruction walk (`do_check`),
//!   depth-first over both successors of every undecided jump, with the
//!   kernel's checks and messages for registers, ALU and pointer
//!   arithmetic, stack/ctx/map/packet/helper-memory accesses, `NULL`
//!   checks, helper calls and their arguments, references, bpf-to-bpf
//!   calls, the return value and the instruction limit, and state pruning.
//!   The program-type facts come from a [`check::ProgramEnv`];
//! * [`platform`]: what Linux 6.18 says about each program type: helper
//!   prototypes (152), which helpers each type may call and which are
//!   GPL-only, valid context accesses and what they yield (both probed
//!   from the running kernel by `ebpf-kernel`'s `probe_platform` and
//!   committed as `platform/linux-6.18.txt`), return-value rules;
//!   [`LinuxEnv`] answers the walk's questions from it.
//!
//! Measured against the kernel: `tests/corpus/` holds 313 programs, one
//! kernel check each, with Linux 6.18's verdicts and logs as golden files
//! (kept true by `ebpf-kernel`'s `verifier_corpus` test); `tests/corpus.rs`
//! requires our verdict and error line to equal the kernel's on all of
//! them but the listed known difference (an `ld_imm64` of a kernel BTF id),
//! and compares the whole level-2 logs.
//!
//! Pruning treats a scalar as any scalar unless a decision depended on it:
//! precision tracking (`mark_chain_precision`) backtracks through each
//! path's instruction history and its checkpoints, marking what a decided
//! branch, a pointer offset, a helper size, a constant map key or a
//! checked return value was computed from; where it cannot follow (a call
//! argument, another frame's stack, a narrow spill), it marks every scalar
//! of the path, which is sound and prunes less.
//!
//! Every refusal can be classified ([`diag`]): a stable code (`EBPF-V304`)
//! and a hint that says what to change.
//!
//! The log follows the kernel's at levels 1 and 2 and with stats
//! ([`check::VerifierConfig`]): `func#N @S`, the initial state, each
//! instruction with the registers and stack slots it touched aligned after
//! a `;`, `from A to B:` lines, `N: safe`, the error, `verification time`,
//! `stack depth` and the `processed` line, the `mark_precise:` trace, the
//! live-registers table and SCC lines. Not yet: the stack-liveness lines.
//!
//! Callbacks of `bpf_loop` and `bpf_for_each_map_elem` are verified as the
//! kernel does: in a frame of their own, iterated at the helper call until
//! the states converge (`bpf_loop`: at most its count's maximum times).
//!
//! Unprivileged loaders get the kernel's extra rules
//! ([`check::VerifierConfig`]`::unprivileged`), `may_goto` loops are walked
//! as the kernel does, and sockets (`bpf_sk_lookup_*`, `skb->sk`,
//! `bpf_sk_fullsock`, `bpf_tcp_sock`, `bpf_sk_release`) are typed and
//! reference-counted. Spin locks are checked as the kernel does when the
//! map's value BTF places a `struct bpf_spin_lock` ([`state::MapMeta`]):
//! one lock at a time, no calls while it is held, no direct access.
//!
//! Not yet: other callbacks (timers, `bpf_find_vma`, user ring buffers),
//! open-coded iterators, kfuncs, BTF-typed pointers, dynptrs.
//!
//! ```
//! use ebpf_isa::{AluOp, JmpCond, Width};
//! use ebpf_verifier::{BranchTaken, ScalarBounds, Tnum, reg_set_min_max};
//!
//! // r1 = <unknown>; r1 &= 0xf0; r1 += 4
//! let mut r1 = ScalarBounds::unknown();
//! r1.alu(AluOp::And, Width::W64, &ScalarBounds::from_imm(0xf0));
//! r1.alu(AluOp::Add, Width::W64, &ScalarBounds::from_imm(4));
//! assert_eq!(r1.var_off, Tnum { value: 4, mask: 0xf0 });
//! assert_eq!(
//!     r1.to_string(),
//!     "scalar(smin=umin=smin32=umin32=4,smax=umax=smax32=umax32=244,var_off=(0x4; 0xf0))"
//! );
//!
//! // if r1 > 100 goto ...: undecided, so both successors are refined.
//! let hundred = ScalarBounds::from_imm(100);
//! assert_eq!(r1.is_branch_taken(&hundred, JmpCond::Gt, Width::W64), BranchTaken::Unknown);
//! let succ = reg_set_min_max(&r1, &hundred, JmpCond::Gt, Width::W64);
//! assert_eq!(succ.true_dst.umin_value, 101);
//! assert_eq!(succ.false_dst.umax_value, 100);
//! // if r1 == 3: impossible, the low nibble is known to be 4.
//! let three = ScalarBounds::from_imm(3);
//! assert_eq!(r1.is_branch_taken(&three, JmpCond::Eq, Width::W64), BranchTaken::NotTaken);
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::arithmetic_side_effects)]

pub mod check;
pub mod diag;
mod env;
mod liveness;
pub mod platform;
mod scalar;
pub mod state;
mod tnum;

pub use env::LinuxEnv;
pub use scalar::{
    BranchTaken, CondRefinement, InvariantKind, RegDisplay, RegInvariantViolation, ScalarBounds,
    reg_set_min_max, regs_refine_cond_op,
};
pub use tnum::Tnum;
