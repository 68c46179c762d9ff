//! Tight loops for instruction counts (`valgrind --tool=callgrind`) and
//! wall time of entering and leaving JIT code: `r0 = 0; exit` through
//! `JitVm::run` (hardened; answered without entering the code), `r0 = r2;
//! exit` through it (entered), `Jit::invoke_trusted` and a prepared trusted
//! `JitVm::run_trusted`, and a bpf-to-bpf call loop.
//!
//! `cargo run --release -p ebpf-jit-x86 --example enter_exit [-- RUNS]`

// Calling trusted code is `unsafe` (its contract is the caller's); the
// programs here touch no memory and terminate.
#![allow(unsafe_code)]

use std::hint::black_box;
use std::time::Instant;

use ebpf_isa::asm::assemble;
use ebpf_jit_x86::{Jit, JitConfig};
use ebpf_runtime::{Invocation, Runtime};

fn time(name: &str, runs: u64, mut f: impl FnMut() -> u64) {
    let start = Instant::now();
    let mut acc = 0u64;
    for _ in 0..runs {
        acc = acc.wrapping_add(f());
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / runs as f64;
    println!("{name:<34} {ns:8.2} ns/run (r0 sum {})", black_box(acc));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let empty = assemble("r0 = 0\nexit\n")?;
    let hardened = Jit::new(&empty, JitConfig::hardened())?;
    let trusted = Jit::new(&empty, JitConfig::trusted())?;
    let mut rt = Runtime::new();
    let mut input = [0u8; 8];
    {
        let mut vm = hardened.prepare(&mut rt);
        time("hardened JitVm::run", runs, || {
            vm.run(&mut input).map_or(u64::MAX, |o| o.r0)
        });
    }
    {
        // A result that depends on the input: the generated code is
        // entered (a `JitVm` answers `r0 = 0; exit` without it).
        let entered = Jit::new(&assemble("r0 = r2\nexit\n")?, JitConfig::hardened())?;
        let mut vm = entered.prepare(&mut rt);
        time("hardened JitVm::run (r0 = r2)", runs, || {
            vm.run(&mut input).map_or(u64::MAX, |o| o.r0)
        });
    }
    // SAFETY: `r0 = 0; exit` touches no memory and terminates.
    time("trusted invoke_trusted", runs, || unsafe {
        trusted
            .invoke_trusted(&mut rt, Invocation::new(&mut input))
            .map_or(u64::MAX, |o| o.r0)
    });
    {
        let mut vm = trusted.prepare(&mut rt);
        // SAFETY: as above.
        time("trusted JitVm::run_trusted", runs, || unsafe {
            vm.run_trusted(&mut input).map_or(u64::MAX, |o| o.r0)
        });
    }
    let n = 10_000u64;
    let calls = assemble(&format!(
        "r6 = {n}\nl: call f\nr6 -= 1\nif r6 != 0 goto l\nexit\nf: r0 = 1\nexit\n"
    ))?;
    let inlined = assemble(&format!(
        "r6 = {n}\nl: r0 = 1\nr6 -= 1\nif r6 != 0 goto l\nexit\n"
    ))?;
    let per =
        |p: &ebpf_isa::Program, rt: &mut Runtime| -> Result<f64, Box<dyn std::error::Error>> {
            let jit = Jit::new(p, JitConfig::trusted())?;
            let reps = (runs / 10_000).max(10);
            let start = Instant::now();
            for _ in 0..reps {
                // SAFETY: the loops touch no memory and terminate.
                black_box(unsafe { jit.invoke_trusted(rt, Invocation::new(&mut [0u8; 8])) }.ok());
            }
            Ok(start.elapsed().as_secs_f64() * 1e9 / reps as f64)
        };
    let with = per(&calls, &mut rt)?;
    let without = per(&inlined, &mut rt)?;
    println!(
        "{:<34} {:8.2} ns",
        "bpf-to-bpf call + return",
        (with - without) / n as f64
    );
    Ok(())
}
