//! Run a flat eBPF bytecode file through the interpreter.
//!
//! ```text
//! cargo run --release -p ebpf-interp --example run -- PROG.bin [INPUT] [REPEAT]
//! cargo run --release -p ebpf-interp --example run          # built-in demo
//! ```
//!
//! `PROG.bin` is raw little-endian instruction slots (entry at slot 0), such
//! as `extract.py` writes for the benchmark programs; `INPUT` is a file whose
//! bytes become the input region (`r1` = its address, `r2` = its length).
//! Helper 5 is replaced by the conformance suite's "return the first
//! argument". Prints `r0`, the executed slot count and the time per run.

use std::time::Instant;

use ebpf_interp::{Interpreter, Invocation, Runtime, Trap};
use ebpf_isa::Program;
use ebpf_runtime::{Config, HelperContext};

fn echo(_: &mut HelperContext<'_>, args: [u64; 5]) -> Result<u64, Trap> {
    Ok(args[0])
}

/// `r0 = sum of the input's bytes`, when no file is given.
fn demo() -> Program {
    let text = "
        mov %r0, 0
        mov %r3, %r1
        add %r3, %r2
        jge %r1, %r3, done
    loop:
        ldxb %r4, [%r1+0]
        add %r0, %r4
        add %r1, 1
        jlt %r1, %r3, loop
    done:
        exit
    ";
    ebpf_isa::ubpf::assemble(text).expect("the demo assembles")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let prog = match args.first() {
        Some(path) => Program::from_bytes(&std::fs::read(path)?)?,
        None => demo(),
    };
    let mut input = match args.get(1) {
        Some(path) => std::fs::read(path)?,
        None => (0..=255u8).collect(),
    };
    let repeat: u32 = args.get(2).map_or(Ok(1000), |s| s.parse())?;

    let vm = Interpreter::new(&prog)?;
    let mut rt = Runtime::with_config(Config {
        insn_budget: u64::MAX,
        ..Config::default()
    });
    rt.register_helper(5, "echo", echo);
    let out = vm.invoke(&mut rt, Invocation::new(&mut input))?;
    let start = Instant::now();
    for _ in 0..repeat {
        vm.invoke(&mut rt, Invocation::new(&mut input))?;
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(repeat.max(1));
    println!("r0 = {:#x}", out.r0);
    println!("executed {} instruction slots", out.insns);
    println!(
        "{ns:.0} ns per run, {:.2} ns per instruction",
        ns / out.insns.max(1) as f64
    );
    for line in rt.take_trace() {
        print!("trace: {line}");
    }
    Ok(())
}
