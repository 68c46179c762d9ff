//! Shared helpers for the interpreter's integration tests.
#![allow(dead_code, unreachable_pub)]

use ebpf_interp::Interpreter;
use ebpf_isa::Program;
use ebpf_runtime::{Config, Invocation, Outcome, Runtime, Trap};

/// Assemble uBPF-dialect text (labels allowed).
pub fn asm(text: &str) -> Program {
    match ebpf_isa::ubpf::assemble(text) {
        Ok(p) => p,
        Err(e) => panic!("assembly failed: {e}\n{text}"),
    }
}

/// A runtime with a fixed clock and seed.
pub fn rt() -> Runtime {
    Runtime::with_config(Config::deterministic())
}

/// Prepare a program, failing the test on a construction error.
pub fn vm(text: &str) -> Interpreter {
    match Interpreter::new(&asm(text)) {
        Ok(vm) => vm,
        Err(e) => panic!("interpreter rejected the program: {e}\n{text}"),
    }
}

/// Run `text` with `input` on a fresh deterministic runtime.
pub fn run_with(text: &str, input: &mut [u8]) -> Result<u64, Trap> {
    vm(text).run(&mut rt(), input)
}

/// Run `text` with no input.
pub fn run(text: &str) -> Result<u64, Trap> {
    run_with(text, &mut [])
}

/// Run `text` and return the full outcome.
pub fn outcome(text: &str, rt: &mut Runtime, inv: Invocation<'_>) -> Result<Outcome, Trap> {
    vm(text).invoke(rt, inv)
}

/// Run and expect `r0`.
#[track_caller]
pub fn check(text: &str, want: u64) {
    match run(text) {
        Ok(v) => assert_eq!(v, want, "r0 = {v:#x}, expected {want:#x}\n{text}"),
        Err(t) => panic!("trap {t}\n{text}"),
    }
}
