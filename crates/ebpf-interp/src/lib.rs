//! A memory-safe eBPF interpreter over the [`ebpf_runtime`] ABI.
//!
//! [`Interpreter::new`] translates a decoded [`Program`] once into a dense
//! internal form (one specialised op per slot, absolute branch targets) and
//! rejects what the run loop would otherwise have to check: jump and call
//! targets outside the program or onto an `ld_imm64` tail, a last instruction
//! that falls through, writes to `r10`, unusable map references
//! ([`InterpError`]). Running needs a [`Runtime`] (maps, helpers, stack,
//! configuration) and an input; faults come back as [`Trap`] values.
//!
//! ```
//! use ebpf_interp::Interpreter;
//! use ebpf_isa::{AluOp, Insn, Operand, Program, Reg, Size, Width};
//! use ebpf_runtime::Runtime;
//!
//! // r0 = *(u32 *)(r1 + 0); r0 += r2; exit
//! let prog = Program::from_insns([
//!     Insn::Load { size: Size::W, dst: Reg::R0, src: Reg::R1, off: 0 },
//!     Insn::Alu { op: AluOp::Add, width: Width::W64, dst: Reg::R0, src: Operand::Reg(Reg::R2) },
//!     Insn::Exit,
//! ]);
//! let vm = Interpreter::new(&prog)?;
//! let mut rt = Runtime::new();
//! let mut input = 40u32.to_le_bytes();
//! assert_eq!(vm.run(&mut rt, &mut input)?, 44); // r2 = input length
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Semantics
//!
//! Every instruction of RFC 9669 plus the kernel's extensions, with the RFC's
//! edge cases: `x / 0 = 0`, `x % 0 = x`, `INT_MIN s/ -1 = INT_MIN`,
//! `INT_MIN s% -1 = 0`, shift amounts masked to the width, 32-bit results
//! zero-extended, 64-bit immediates sign-extended. Atomics are plain
//! read-modify-writes (single-threaded); load-acquire and store-release are
//! plain loads and stores.
//!
//! * **Entry**: by default `r1` = the input's address (0 if empty), `r2` =
//!   its length, `r10` = top of frame 0, other registers 0 (see
//!   [`Invocation`] for explicit `r1..=r5` and a separate packet).
//! * **Memory**: every load, store and atomic goes through the runtime's
//!   region check ([`ebpf_runtime::layout`]); a fault is a
//!   [`Trap::OutOfBounds`] or [`Trap::ReadOnly`].
//! * **`ld_imm64`** with a map reference resolves to the map's address by
//!   index: `src = 5` (map index) and `src = 1` (map fd, where the fd *is*
//!   the index in the runtime's [`ebpf_runtime::Maps`]), plus the value
//!   forms `src = 2`/`6` (address + offset). `src = 4` gives a function
//!   address in the code region (usable only as data). A BTF id (`src = 3`)
//!   traps as unsupported when executed.
//! * **`LD_ABS`/`LD_IND`** read the packet region (the input if the
//!   invocation has no packet) in network byte order; an offset out of range
//!   (or negative) ends the run with `r0 = 0`, as in the kernel.
//! * **bpf-to-bpf calls** save `r6..=r9`, give the callee a fresh 512-byte
//!   frame (`r10` moves down by 512) and restore both on `exit`; at most 8
//!   frames ([`Trap::CallDepthExceeded`]).
//! * **Helper calls** go through the runtime's registry; `callx` calls the
//!   helper whose id is in the register. `bpf_loop` (181) is the
//!   interpreter's own: it calls the callback (a function address, `ld_imm64`
//!   with `src = 4`) with `r1` = the index and `r2` = its context, in a new
//!   frame, until it returns non-zero or `n` iterations ran, and returns the
//!   count (`-EINVAL` for non-zero flags, `-E2BIG` past `BPF_MAX_LOOPS`); the
//!   callback's instructions count against the budget.
//! * **Tail calls** (`bpf_tail_call`, helper 12): on success execution
//!   continues at the target program's first slot, in the current frame (so
//!   its `exit` returns to the current frame's caller, as on the kernel's
//!   x86 JIT), with `r1` = the helper's first argument. The target is an
//!   index into this interpreter's program set ([`Interpreter::with_programs`]).
//!   Failure falls through with a negative `r0`; at most 33 per run.
//! * **`may_goto`** falls through while a per-run counter
//!   ([`ebpf_runtime::Config::may_goto_budget`], default 8Mi) lasts, then
//!   takes its jump.
//! * **`gotox`**: the register holds a slot index of the current program;
//!   anything else (out of range, an `ld_imm64` tail) traps with
//!   [`Trap::InvalidJumpTarget`].
//! * **Budget**: [`ebpf_runtime::Config::insn_budget`] slots per run,
//!   charged at control transfers (taken jumps, calls, returns, tail calls,
//!   exit); [`Trap::BudgetExhausted`] at the first transfer past it.
//!
//! **Not here:** verification (this engine runs unverified code safely, but
//! does not judge it), kfunc calls, arenas, callbacks other than `bpf_loop`
//! (timers, `for_each_map_elem`), helper argument type checks beyond what
//! the runtime does.
#![forbid(unsafe_code)]

mod compile;
mod error;
mod exec;
mod op;
mod vm;

use ebpf_isa::Program;
pub use ebpf_runtime::{Invocation, Outcome, Runtime, Session, Trap};

pub use compile::{MAX_PROGRAM_SLOTS, MAX_PROGRAMS};
pub use error::{InterpError, TargetKind};
pub use vm::Vm;

use compile::ProgInfo;
use op::Op;

/// A program set, translated for execution. Immutable and reusable: one
/// interpreter can serve any number of runs, on any runtime.
#[derive(Clone, Debug)]
pub struct Interpreter {
    ops: Box<[Op]>,
    /// `ops` with superinstructions, for the fast loop.
    fast: Box<[Op]>,
    progs: Box<[ProgInfo]>,
}

impl Interpreter {
    /// Prepare a single program.
    pub fn new(program: &Program) -> Result<Interpreter, InterpError> {
        Interpreter::with_programs(core::slice::from_ref(program))
    }

    /// Prepare a program set; program `i` is what prog-array value `i`
    /// names for tail calls, and [`Invocation::entry`] picks where to start.
    pub fn with_programs(programs: &[Program]) -> Result<Interpreter, InterpError> {
        let (ops, progs) = compile::compile(programs)?;
        let fast = compile::fuse(&ops, &progs);
        Ok(Interpreter {
            ops: ops.into_boxed_slice(),
            fast: fast.into_boxed_slice(),
            progs: progs.into_boxed_slice(),
        })
    }

    /// Number of programs in the set.
    #[must_use]
    pub fn program_count(&self) -> usize {
        self.progs.len()
    }

    /// Run program 0 with `input` as the input region (`r1` = its address,
    /// `r2` = its length) and return `r0`.
    #[inline]
    pub fn run(&self, rt: &mut Runtime, input: &mut [u8]) -> Result<u64, Trap> {
        self.invoke(rt, Invocation::new(input)).map(|o| o.r0)
    }

    /// Run as `inv` describes; the outcome includes the executed slot count.
    #[inline]
    pub fn invoke(&self, rt: &mut Runtime, inv: Invocation<'_>) -> Result<Outcome, Trap> {
        let programs = self.progs.len() as u32;
        let mut sess = rt.session(inv, programs);
        self.exec(&mut sess)
    }

    /// Run in a session the caller built with [`Runtime::session`] (with
    /// this set's [`Interpreter::program_count`]).
    #[inline]
    pub fn run_session(&self, sess: &mut Session<'_>) -> Result<Outcome, Trap> {
        self.exec(sess)
    }
}
