//! An x86-64 JIT for eBPF over the [`ebpf_runtime`] ABI: the same memory
//! model, helpers, maps and traps as `ebpf-interp`, compiled to machine code
//! with `dynasm`.
//!
//! [`Jit::new`] checks a program set with the interpreter's static rules
//! ([`JitError`]), translates every instruction to x86-64 and maps the code
//! read-execute (never writable and executable at once). Running needs a
//! [`Runtime`] and an input, exactly as for the interpreter; faults come
//! back as [`Trap`] values equal to the interpreter's.
//!
//! ```
//! use ebpf_isa::{AluOp, Insn, Operand, Program, Reg, Size, Width};
//! use ebpf_jit_x86::{Jit, JitConfig};
//! use ebpf_runtime::Runtime;
//!
//! // r0 = *(u32 *)(r1 + 0); r0 += r2; exit
//! let prog = Program::from_insns([
//!     Insn::Load { size: Size::W, dst: Reg::R0, src: Reg::R1, off: 0 },
//!     Insn::Alu { op: AluOp::Add, width: Width::W64, dst: Reg::R0, src: Operand::Reg(Reg::R2) },
//!     Insn::Exit,
//! ]);
//! let jit = Jit::new(&prog, JitConfig::hardened())?;
//! let mut rt = Runtime::new();
//! let mut input = 40u32.to_le_bytes();
//! assert_eq!(jit.run(&mut rt, &mut input)?, 44); // r2 = input length
//!
//! // A load past the input is the interpreter's trap, with its pc.
//! let bad = Program::from_insns([
//!     Insn::Load { size: Size::DW, dst: Reg::R0, src: Reg::R1, off: 2 },
//!     Insn::Exit,
//! ]);
//! let jit = Jit::new(&bad, JitConfig::hardened())?;
//! assert_eq!(jit.run(&mut rt, &mut input).unwrap_err().pc(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Trust levels
//!
//! * [`JitConfig::hardened`] (for any program): every load, store and
//!   atomic checks the address's region tag and `offset + size` against the
//!   region (and writability for stores), a fault returns the
//!   interpreter's [`Trap::OutOfBounds`] / [`Trap::ReadOnly`] (accesses
//!   `r10 + off` that provably stay in the current frame,
//!   `-512 <= off && off + size <= 0`, skip the check: `r10` is read-only
//!   and always a frame pointer); backward
//!   jumps and `gotox` charge [`ebpf_runtime::Config::insn_budget`]; ALU,
//!   jump, store and `ld_imm64` immediates are blinded with a random key
//!   per compile (`mov r10, imm ^ key; xor r10, key`). Entered with the safe
//!   [`Jit::run`] / [`Jit::invoke`].
//! * [`JitConfig::trusted`] (for verifier-accepted programs): no checks,
//!   no budget, no blinding. Registers still hold guest addresses, except
//!   that `rbp` holds the host address of the frame (`r10` read as a value
//!   is converted back), so `r10 + off` is one `[rbp + off]` operand; any
//!   other address `a` is at `a + bias[tag(a)]` (a shift and a load from
//!   the inline bias table). Entered only through the `unsafe`
//!   [`Jit::invoke_trusted`] / [`JitVm::run_trusted`].
//!
//! # Semantics
//!
//! Those of `ebpf-interp` (its crate documentation is the reference): RFC
//! 9669 edge cases (`x / 0 = 0`, `x % 0 = x`, `INT_MIN s/ -1 = INT_MIN`,
//! `INT_MIN s% -1 = 0`, masked shifts, zero-extended 32-bit results),
//! entry registers, `ld_imm64` map references, `LD_ABS`/`LD_IND` ending the
//! run with `r0 = 0` when out of range, bpf-to-bpf calls with per-frame
//! stacks and at most [`ebpf_runtime::Config::call_frames`] frames, helper
//! calls and `callx` through [`Session::call_helper`], tail calls into the
//! set's programs (the runtime counts them), `may_goto`, `gotox`. Atomics
//! use `lock`-prefixed instructions, `xchg` and `cmpxchg`.
//!
//! Differences: the instruction budget is charged only at backward jumps
//! (the slots of the loop body) and `gotox` (one slot), not at calls,
//! returns or `exit`, so a budget trap can come at a different iteration
//! than the interpreter's (same variant, possibly another `pc`), a
//! straight-line run longer than the budget completes, and
//! [`Outcome::insns`] is that charge (0 in trusted mode), not the exact
//! slot count. Shift amounts are not blinded (they are at most 63). A
//! helper that panics aborts the process (the panic cannot unwind through
//! generated code), where the interpreter would unwind.
//!
//! Register map: `r0` rax, `r1`..`r5` rdi, rsi, rdx, rcx, r8, `r6`..`r9`
//! rbx, r13, r14, r15, `r10` rbp; r12 holds the run context, r9-r11 are
//! scratch.
//!
//! # Entry points
//!
//! [`Jit::new`] / [`Jit::with_programs`] compile; [`Jit::run`],
//! [`Jit::invoke`], [`Jit::run_session`] and [`Jit::prepare`] (a
//! [`JitVm`] for repeated runs, which keeps the run context and its tables
//! between runs and only swaps the input in; for a set that calls no
//! helper it builds no session, only the memory when a run faults) mirror
//! `ebpf_interp::Interpreter`; [`Jit::invoke_trusted`] is the `unsafe`
//! entry for trusted code; [`Jit::emit`] gives the machine code for
//! listings. The generated code's layout and register map are described in
//! the `codegen` module.
//!
//! **Not here:** verification, kfuncs and arenas (they trap as unsupported
//! like the interpreter), `bpf_loop` (the interpreter runs it; JIT code
//! traps with `Trap::Unsupported`), other architectures (the crate builds only on
//! x86-64 hosts; generated code uses the System V calling convention
//! internally), register allocation (the map is fixed) and other
//! optimisations beyond: the frame-relative fast path, saving only the
//! callee-saved registers a bpf-to-bpf callee may write (and at entry only
//! those the set uses), `if cond goto +1; goto L` as one inverted branch,
//! the budget in a register, a bias reused across accesses through one
//! base register (trusted), and strength-reduced multiplications.
#![deny(unsafe_code)]

#[cfg(not(target_arch = "x86_64"))]
compile_error!("ebpf-jit-x86 generates and runs x86-64 code: build it for an x86-64 host");

mod codegen;
mod ctx;
mod error;
mod exec;

pub use codegen::{MAX_PROGRAM_SLOTS, MAX_PROGRAMS};
pub use ebpf_runtime::{Invocation, Outcome, Runtime, Session, Trap};
pub use error::{JitError, TargetKind};

use ebpf_isa::Program;

/// How code is generated: the trust level and its parts.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JitConfig {
    /// Bounds checks on every access and the instruction budget.
    hardened: bool,
    /// Constant blinding (hardened only).
    blinding: bool,
    /// A fixed blinding key instead of a random one (for reproducible
    /// listings).
    key: Option<u32>,
}

impl JitConfig {
    /// For any program: checked accesses, budget, constant blinding.
    #[must_use]
    pub fn hardened() -> JitConfig {
        JitConfig {
            hardened: true,
            blinding: true,
            key: None,
        }
    }

    /// For programs a verifier accepted for this runtime: no checks, no
    /// budget, no blinding. Such code is run with [`Jit::invoke_trusted`].
    #[must_use]
    pub fn trusted() -> JitConfig {
        JitConfig {
            hardened: false,
            blinding: false,
            key: None,
        }
    }

    /// Use `key` as the blinding key (reproducible code, for tests and
    /// listings); the default is a fresh random key per compile.
    #[must_use]
    pub fn with_blinding_key(mut self, key: u32) -> JitConfig {
        self.key = Some(key);
        self
    }

    /// Turn constant blinding off (hardened code stays checked).
    #[must_use]
    pub fn without_blinding(mut self) -> JitConfig {
        self.blinding = false;
        self
    }

    /// Whether accesses are checked.
    #[must_use]
    pub fn is_hardened(&self) -> bool {
        self.hardened
    }
}

/// A random 32-bit key from the standard library's per-process hashing
/// seed and the clock.
fn random_key() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    let v = h.finish();
    (v ^ (v >> 32)) as u32 | 1
}

/// Machine code from [`Jit::emit`], with where each instruction starts.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Emitted {
    /// The address the code is listed at.
    pub base: u64,
    /// The bytes: the entry function, then the programs, then trap stubs.
    pub code: Vec<u8>,
    /// Offset of each program's slot 0 in `code`.
    pub entries: Vec<usize>,
    /// Offset of every slot of every program (programs concatenated;
    /// `None` for the second slot of `ld_imm64`).
    pub slots: Vec<Option<usize>>,
}

/// A compiled program set. Immutable and reusable across runs and runtimes.
#[derive(Debug)]
pub struct Jit {
    code: exec::ExecCode,
    len: usize,
    entries: Vec<u64>,
    slots: Vec<u64>,
    config: JitConfig,
    /// Some program calls a helper (`call` of a helper id, `callx`): runs
    /// need a whole session, not only the memory.
    calls_helpers: bool,
    /// Host address of the entry function (offset 0 of `code`).
    code_addr: u64,
}

impl Jit {
    /// Compile a single program.
    pub fn new(program: &Program, config: JitConfig) -> Result<Jit, JitError> {
        Jit::with_programs(core::slice::from_ref(program), config)
    }

    /// Compile a program set; program `i` is what prog-array value `i`
    /// names for tail calls, and [`Invocation::entry`] picks where to start.
    pub fn with_programs(programs: &[Program], config: JitConfig) -> Result<Jit, JitError> {
        let key = config.key.unwrap_or_else(random_key);
        let code = codegen::compile(programs, &config, key)?;
        let exec = exec::ExecCode::new(&code.bytes)?;
        let entries = code.entries.iter().map(|&o| exec.addr(o)).collect();
        let slots = code
            .slots
            .iter()
            .map(|o| o.map_or(0, |o| exec.addr(o)))
            .collect();
        let calls_helpers = programs.iter().flat_map(Program::insns).any(|i| {
            matches!(
                i,
                ebpf_isa::Insn::Call(ebpf_isa::CallTarget::Helper(id)) if *id >= 0
            ) || matches!(i, ebpf_isa::Insn::Callx { .. })
        });
        let code_addr = exec.addr(0);
        Ok(Jit {
            code: exec,
            len: code.bytes.len(),
            entries,
            slots,
            config,
            calls_helpers,
            code_addr,
        })
    }

    /// Machine code of a program set as [`Jit::with_programs`] would map it,
    /// assembled for address `base` (for listings and snapshot tests; the
    /// code is position independent, `base` only labels it).
    pub fn emit(programs: &[Program], config: &JitConfig, base: u64) -> Result<Emitted, JitError> {
        let key = config.key.unwrap_or_else(random_key);
        let code = codegen::compile(programs, config, key)?;
        Ok(Emitted {
            base,
            code: code.bytes,
            entries: code.entries,
            slots: code.slots,
        })
    }

    /// Number of programs in the set.
    #[must_use]
    pub fn program_count(&self) -> usize {
        self.entries.len()
    }

    /// Size of the machine code in bytes.
    #[must_use]
    pub fn code_size(&self) -> usize {
        self.len
    }

    /// The configuration the set was compiled with.
    #[must_use]
    pub fn config(&self) -> &JitConfig {
        &self.config
    }

    /// Run program 0 with `input` as the input region (`r1` = its address,
    /// `r2` = its length) and return `r0`. Hardened code only (trusted code
    /// traps with [`Trap::Unsupported`] here; use [`Jit::invoke_trusted`]).
    pub fn run(&self, rt: &mut Runtime, input: &mut [u8]) -> Result<u64, Trap> {
        self.invoke(rt, Invocation::new(input)).map(|o| o.r0)
    }

    /// Run as `inv` describes (hardened code only, see [`Jit::run`]).
    pub fn invoke(&self, rt: &mut Runtime, inv: Invocation<'_>) -> Result<Outcome, Trap> {
        let mut sess = rt.session(inv, self.entries.len() as u32);
        self.run_session(&mut sess)
    }

    /// Run in a session the caller built with [`Runtime::session`] (with
    /// this set's [`Jit::program_count`]); hardened code only.
    pub fn run_session(&self, sess: &mut Session<'_>) -> Result<Outcome, Trap> {
        with_scratch(|scratch| self.run_hardened(sess, scratch))
    }

    fn run_hardened(
        &self,
        sess: &mut Session<'_>,
        scratch: &mut Box<ctx::Ctx>,
    ) -> Result<Outcome, Trap> {
        if !self.config.hardened {
            return Err(Trap::Unsupported {
                pc: 0,
                what: "trusted JIT code entered through the safe API",
            });
        }
        #[allow(unsafe_code)]
        // SAFETY: hardened code checks every access against the session's
        // regions, so running it has no precondition.
        unsafe {
            exec::run(&self.compiled(), sess, scratch)
        }
    }

    /// Bind this set to `rt` for repeated runs of program 0 on different
    /// inputs ([`JitVm::run`] for hardened code, the `unsafe`
    /// [`JitVm::run_trusted`] for either), reusing the per-run storage.
    #[must_use]
    pub fn prepare<'a>(&'a self, rt: &'a mut Runtime) -> JitVm<'a> {
        JitVm {
            jit: self,
            rt,
            ctx: new_ctx(true),
        }
    }

    /// Run code of either trust level.
    ///
    /// # Safety
    ///
    /// If the set was compiled with [`JitConfig::trusted`], every program in
    /// it must have been accepted by a verifier for this runtime's memory
    /// layout and helpers: all its loads, stores and atomics stay inside the
    /// regions the run gives it (stack frames, input, packet, read-only data
    /// for loads only, map values), it does not loop without bound, and
    /// `ld_imm64` map references name existing maps. Unchecked code that
    /// breaks this reads or writes arbitrary host memory. For hardened code
    /// this is the same as [`Jit::invoke`].
    #[allow(unsafe_code)]
    pub unsafe fn invoke_trusted(
        &self,
        rt: &mut Runtime,
        inv: Invocation<'_>,
    ) -> Result<Outcome, Trap> {
        let mut sess = rt.session(inv, self.entries.len() as u32);
        // SAFETY: forwarded to our caller's contract.
        with_scratch(|scratch| unsafe { exec::run(&self.compiled(), &mut sess, scratch) })
    }

    fn compiled(&self) -> exec::Compiled<'_> {
        exec::Compiled {
            code: &self.code,
            entries: &self.entries,
            slots: &self.slots,
            hardened: self.config.hardened,
        }
    }
}

thread_local! {
    /// Context storage for the entry points without a [`JitVm`], so a run
    /// does not allocate (a nested run on the same thread finds it taken
    /// and uses fresh storage).
    static SCRATCH: core::cell::Cell<Option<Box<ctx::Ctx>>> = const {
        core::cell::Cell::new(None)
    };
}

/// A context for runs; with `keep`, the tables stay valid between runs.
fn new_ctx(keep: bool) -> Box<ctx::Ctx> {
    let tables = ctx::Tables {
        keep,
        ..ctx::Tables::default()
    };
    // The smallest size class always exists.
    ctx::Ctx::boxed(tables, 0).unwrap_or_else(|| unreachable!())
}

/// Run `f` with this thread's context storage.
fn with_scratch<R>(f: impl FnOnce(&mut Box<ctx::Ctx>) -> R) -> R {
    let mut ctx = SCRATCH
        .try_with(core::cell::Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| new_ctx(false));
    // Storage only: each run may use another runtime.
    ctx.tables.valid = false;
    ctx.tables.keep = false;
    let r = f(&mut ctx);
    // Ignored: only fails while the thread is being torn down.
    let _ = SCRATCH.try_with(|c| c.set(Some(ctx)));
    r
}

/// A [`Jit`] bound to a [`Runtime`] for repeated runs ([`Jit::prepare`]),
/// the counterpart of `ebpf_interp::Vm`.
///
/// ```
/// use ebpf_isa::{Insn, Program, Reg, Size};
/// use ebpf_jit_x86::{Jit, JitConfig};
/// use ebpf_runtime::Runtime;
///
/// // r0 = *(u8 *)(r1 + 0); exit
/// let prog = Program::from_insns([
///     Insn::Load { size: Size::B, dst: Reg::R0, src: Reg::R1, off: 0 },
///     Insn::Exit,
/// ]);
/// let jit = Jit::new(&prog, JitConfig::hardened())?;
/// let mut rt = Runtime::new();
/// let mut vm = jit.prepare(&mut rt);
/// for b in [3u8, 7, 9] {
///     assert_eq!(vm.run(&mut [b])?.r0, u64::from(b));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct JitVm<'a> {
    jit: &'a Jit,
    rt: &'a mut Runtime,
    /// The context of its runs, with tables kept between them.
    ctx: Box<ctx::Ctx>,
}

impl JitVm<'_> {
    /// Run program 0 with `input` as the input region (`r1` = its address,
    /// 0 if empty; `r2` = its length).
    pub fn run(&mut self, input: &mut [u8]) -> Result<Outcome, Trap> {
        if !self.jit.config.hardened {
            return Err(Trap::Unsupported {
                pc: 0,
                what: "trusted JIT code entered through the safe API",
            });
        }
        // SAFETY: hardened code checks every access against the run's
        // regions, so running it has no precondition.
        #[allow(unsafe_code)]
        unsafe {
            self.run_any(input)
        }
    }

    /// Run program 0 on `input` like [`JitVm::run`], with code of either
    /// trust level.
    ///
    /// # Safety
    ///
    /// That of [`Jit::invoke_trusted`]: trusted code must have been
    /// accepted by a verifier for this runtime.
    #[allow(unsafe_code)]
    pub unsafe fn run_trusted(&mut self, input: &mut [u8]) -> Result<Outcome, Trap> {
        // SAFETY: forwarded to our caller's contract.
        unsafe { self.run_any(input) }
    }

    /// A run of program 0 on `input`: without a session (only the memory,
    /// with the tables kept from the previous run) when the set calls no
    /// helper, in a session otherwise.
    ///
    /// # Safety
    ///
    /// That of [`JitVm::run_trusted`].
    #[allow(unsafe_code)]
    #[inline]
    unsafe fn run_any(&mut self, input: &mut [u8]) -> Result<Outcome, Trap> {
        if !self.jit.calls_helpers
            && self.ctx.tables.valid
            && let Some(&entry) = self.jit.entries.first()
        {
            // SAFETY: forwarded to our caller's contract; the set calls no
            // helper and the tables were built for this runtime by an
            // earlier run of this `JitVm` (`valid`), as `run_prepared` needs.
            let st = unsafe { exec::run_prepared(self.jit.code_addr, entry, input, &mut self.ctx) };
            if st == ctx::status::OK {
                return Ok(Outcome {
                    r0: self.ctx.r0,
                    insns: if self.jit.config.hardened {
                        self.ctx.budget0.saturating_sub(self.ctx.budget)
                    } else {
                        0
                    },
                });
            }
            return self.decode(input);
        }
        // SAFETY: forwarded to our caller's contract.
        unsafe { self.run_setup(input) }
    }

    /// The result of a fast-path run that did not end with `exit`.
    #[cold]
    #[inline(never)]
    fn decode(&mut self, input: &mut [u8]) -> Result<Outcome, Trap> {
        let mut mem = self.rt.memory(input);
        exec::decode(&mut self.ctx, &mut mem, self.jit.config.hardened)
    }

    /// A run that builds the tables, or in a session (a set calling
    /// helpers).
    ///
    /// # Safety
    ///
    /// That of [`JitVm::run_trusted`].
    #[allow(unsafe_code)]
    #[inline(never)]
    unsafe fn run_setup(&mut self, input: &mut [u8]) -> Result<Outcome, Trap> {
        let compiled = self.jit.compiled();
        if self.jit.calls_helpers {
            let mut sess = self
                .rt
                .session(Invocation::new(input), self.jit.entries.len() as u32);
            // SAFETY: forwarded to our caller's contract.
            return unsafe { exec::run(&compiled, &mut sess, &mut self.ctx) };
        }
        // The same entry registers as `Runtime::session` gives.
        let r1 = if input.is_empty() {
            0
        } else {
            ebpf_runtime::layout::INPUT_BASE
        };
        let args = [r1, input.len() as u64, 0, 0, 0];
        let limits = exec::Limits::of(self.rt.config());
        let mut mem = self.rt.memory(input);
        // SAFETY: forwarded to our caller's contract; the set calls no
        // helper, so the run needs no session.
        unsafe {
            exec::run_in(
                &compiled,
                exec::Env::Memory(&mut mem),
                0,
                args,
                limits,
                &mut self.ctx,
            )
        }
    }

    /// The runtime (to inspect maps, the trace, the stack between runs).
    #[must_use]
    pub fn runtime(&mut self) -> &mut Runtime {
        // The caller may change maps, read-only data or the configuration:
        // the next run rebuilds the tables.
        self.ctx.tables.valid = false;
        self.rt
    }
}
