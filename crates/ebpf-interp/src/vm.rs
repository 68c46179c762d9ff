//! [`Vm`]: an interpreter bound to a runtime, re-entered once per input.

use ebpf_runtime::{INPUT_BASE, Invocation, Outcome, Runtime, Trap, layout};
use smallvec::SmallVec;

use crate::Interpreter;
use crate::exec::{Calls, EXITED, MAX_BUDGET, fast, prelude};

/// A prepared entry into program 0 of an [`Interpreter`] on one
/// [`Runtime`] ([`Interpreter::prepare`]): everything that does not change
/// between runs (the entry program, the budget, the call-depth limit, the
/// call-frame storage, the register file) is worked out once, so that
/// [`Vm::run`] only sets up what does (`r0..=r10`, the budget counter).
/// The register moves a program starts with, and an `exit` right after
/// them, run inline in [`Vm::run`] (the *entry prelude*); the memory
/// regions and the fast loop are set up only when the run goes further,
/// and the session (helpers, host state) only when it needs the slow tier.
/// Nothing is allocated or zeroed per run beyond the registers, and every
/// memory access stays checked.
///
/// A run through a `Vm` is the same as [`Interpreter::invoke`] with
/// [`Invocation::new`]: same result, same executed slot count, same traps.
///
/// ```
/// use ebpf_interp::Interpreter;
/// use ebpf_isa::{Insn, Program, Reg, Size};
/// use ebpf_runtime::Runtime;
///
/// // r0 = *(u8 *)(r1 + 0); exit
/// let prog = Program::from_insns([
///     Insn::Load { size: Size::B, dst: Reg::R0, src: Reg::R1, off: 0 },
///     Insn::Exit,
/// ]);
/// let interp = Interpreter::new(&prog)?;
/// let mut rt = Runtime::new();
/// let mut vm = interp.prepare(&mut rt);
/// for b in [3u8, 7, 9] {
///     assert_eq!(vm.run(&mut [b])?.r0, u64::from(b));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Vm<'a> {
    interp: &'a Interpreter,
    rt: &'a mut Runtime,
    calls: Calls,
    /// Op index of program 0's slot 0 (`None`: the set is empty).
    start: Option<usize>,
    /// The per-run budget, capped.
    limit: u64,
    /// The register file, kept between runs: each run sets `r0..=r10` (the
    /// same entry values as [`Interpreter::invoke`]); `r11..=r15` exist only
    /// so that 4-bit register nibbles index it without a bounds check, and
    /// no op reads them.
    regs: [u64; 16],
}

impl Interpreter {
    /// Bind this interpreter to `rt` for repeated runs of program 0 on
    /// different inputs ([`Vm::run`]). The runtime's configuration is read
    /// here, once: it cannot change while the `Vm` borrows the runtime.
    #[must_use]
    pub fn prepare<'a>(&'a self, rt: &'a mut Runtime) -> Vm<'a> {
        let config = rt.config();
        let start = self.progs.first().map(|p| p.base as usize);
        let calls = Calls {
            frames: SmallVec::new(),
            max: config.call_frames() as usize,
            base: start.unwrap_or(0),
            prog: 0,
        };
        let limit = config.insn_budget.min(MAX_BUDGET);
        Vm {
            interp: self,
            rt,
            calls,
            start,
            limit,
            regs: [0; 16],
        }
    }
}

impl Vm<'_> {
    /// Run program 0 with `input` as the input region (`r1` = its address,
    /// 0 if empty; `r2` = its length).
    #[inline]
    pub fn run(&mut self, input: &mut [u8]) -> Result<Outcome, Trap> {
        let Some(start) = self.start else {
            // An empty set: the general path builds the trap.
            return self.interp.invoke(self.rt, Invocation::new(input));
        };
        let r = &mut self.regs;
        // The entry registers, `r0..=r10`, written in pairs.
        let r1 = if input.is_empty() { 0 } else { INPUT_BASE };
        [r[0], r[1], r[2], r[3]] = [0, r1, input.len() as u64, 0];
        [r[4], r[5], r[6], r[7], r[8], r[9]] = [0; 6];
        r[10] = layout::frame_pointer(0);
        // The budget runs out when `pc` passes `stop` at a control transfer
        // (see `exec`): `stop` = start of the current straight-line run +
        // budget left.
        let stop = self.limit + start as u64;
        // Leading register moves and an `exit` right after them are done
        // here, without the fast loop's set-up.
        let pc = match prelude(&self.interp.ops, r, start, stop) {
            Ok(done) => return Ok(done),
            Err(pc) => pc,
        };
        self.enter(input, pc, stop)
    }

    /// The rest of [`Vm::run`]: from `pc` (program 0, no suspended caller)
    /// in the fast loop, then the slow tier if needed.
    #[inline(always)]
    fn enter(&mut self, input: &mut [u8], pc: usize, stop: u64) -> Result<Outcome, Trap> {
        let r = &mut self.regs;
        // `calls.frames` is empty: every run that leaves frames behind goes
        // through the slow tier below, which clears them.
        self.calls.base = self.start.unwrap_or(0);
        self.calls.prog = 0;
        // The fast tier needs only the memory; the session (helpers, host
        // state, the tail-call count) is built if the run needs the slow one.
        let mut mem = self.rt.memory(input);
        let (pc, stop) = fast(&self.interp.fast, r, pc, stop, &mut mem, &mut self.calls);
        if pc == EXITED {
            return Ok(Outcome {
                r0: r[0],
                insns: self.limit - stop,
            });
        }
        let programs = self.interp.progs.len() as u32;
        let mut sess = self.rt.session(Invocation::new(input), programs);
        let result = self
            .interp
            .slow(&mut sess, r, &mut self.calls, pc, stop, self.limit);
        self.calls.frames.clear();
        result
    }

    /// The runtime (to inspect maps, the trace, the stack between runs).
    #[must_use]
    pub fn runtime(&mut self) -> &mut Runtime {
        self.rt
    }
}
