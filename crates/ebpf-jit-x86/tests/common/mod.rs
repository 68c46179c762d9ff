//! The differential harness: run a program set in the interpreter and in
//! the JIT (hardened with and without blinding; trusted when the
//! interpreter ran it without a trap) and compare r0 or the trap, the
//! input, the stack, the maps and the trace.
#![allow(dead_code, unsafe_code)]

use ebpf_interp::Interpreter;
use ebpf_isa::Program;
use ebpf_jit_x86::{Jit, JitConfig};
use ebpf_runtime::{Invocation, Runtime, Trap};

/// Everything a run can change that tests compare.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Observed {
    /// `r0`, or the trap.
    pub(crate) result: Result<u64, Trap>,
    pub(crate) input: Vec<u8>,
    pub(crate) stack: Vec<u8>,
    pub(crate) maps: Vec<Vec<u8>>,
    pub(crate) trace: Vec<String>,
}

/// How strictly the JIT must match.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Compare {
    /// Everything equal.
    Exact,
    /// Same trap variant (for budget traps, whose pc may differ).
    TrapKind,
}

fn observe(rt: &mut Runtime, result: Result<u64, Trap>, input: Vec<u8>) -> Observed {
    let maps = rt
        .maps_mut()
        .regions_mut()
        .map(|(_, r, _)| r.to_vec())
        .collect();
    Observed {
        result,
        input,
        stack: rt.stack().to_vec(),
        maps,
        trace: rt.take_trace(),
    }
}

/// Run in the interpreter.
pub(crate) fn interp(progs: &[Program], input: &[u8], mk: &dyn Fn() -> Runtime) -> Observed {
    let mut rt = mk();
    let mut buf = input.to_vec();
    let result = match Interpreter::with_programs(progs) {
        Ok(vm) => vm.invoke(&mut rt, Invocation::new(&mut buf)).map(|o| o.r0),
        Err(e) => panic!("interpreter rejected the program: {e}"),
    };
    observe(&mut rt, result, buf)
}

/// Run in the JIT with `config` (trusted configs through `invoke_trusted`).
pub(crate) fn jit(
    progs: &[Program],
    input: &[u8],
    mk: &dyn Fn() -> Runtime,
    config: JitConfig,
) -> Observed {
    let mut rt = mk();
    let mut buf = input.to_vec();
    let jit = Jit::with_programs(progs, config.clone()).expect("JIT rejected the program");
    let result = if config.is_hardened() {
        jit.invoke(&mut rt, Invocation::new(&mut buf))
    } else {
        // SAFETY: only called for programs the hardened JIT and the
        // interpreter ran on this same input without a memory trap.
        unsafe { jit.invoke_trusted(&mut rt, Invocation::new(&mut buf)) }
    }
    .map(|o| o.r0);
    observe(&mut rt, result, buf)
}

fn same(a: &Observed, b: &Observed, how: Compare) -> bool {
    match how {
        Compare::Exact => a == b,
        Compare::TrapKind => match (&a.result, &b.result) {
            (Err(x), Err(y)) => core::mem::discriminant(x) == core::mem::discriminant(y),
            _ => a == b,
        },
    }
}

/// Compare every engine on `progs`; returns the interpreter's result.
pub(crate) fn check_with(
    progs: &[Program],
    input: &[u8],
    mk: &dyn Fn() -> Runtime,
    how: Compare,
) -> Result<u64, Trap> {
    let want = interp(progs, input, mk);
    for config in [
        JitConfig::hardened(),
        JitConfig::hardened().without_blinding(),
        JitConfig::hardened().with_blinding_key(0xdead_beef),
    ] {
        let got = jit(progs, input, mk, config.clone());
        assert!(
            same(&want, &got, how),
            "{config:?} differs from the interpreter on\n{}\ninterp: {:?}\njit:    {:?}",
            progs.first().map(ToString::to_string).unwrap_or_default(),
            want,
            got
        );
    }
    if want.result.is_ok() {
        let got = jit(progs, input, mk, JitConfig::trusted());
        assert!(
            same(&want, &got, how),
            "trusted differs from the interpreter\ninterp: {:?}\njit:    {:?}",
            want,
            got
        );
    }
    want.result
}

/// [`check_with`] on one kernel-syntax program with a default runtime,
/// exact comparison.
pub(crate) fn check(text: &str, input: &[u8]) -> Result<u64, Trap> {
    let prog = ebpf_isa::asm::assemble(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    check_with(
        &[prog],
        input,
        &|| Runtime::with_config(ebpf_runtime::Config::deterministic()),
        Compare::Exact,
    )
}

/// [`check`] with a custom runtime.
pub(crate) fn check_rt(text: &str, input: &[u8], mk: &dyn Fn() -> Runtime) -> Result<u64, Trap> {
    let prog = ebpf_isa::asm::assemble(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    check_with(&[prog], input, mk, Compare::Exact)
}

/// A tiny deterministic PRNG (xorshift64*).
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
