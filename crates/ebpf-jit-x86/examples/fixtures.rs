//! The shared benchmark programs (`benches/fixtures`) in the JIT: ns per
//! run of trusted code (`invoke_trusted`, as `cargo xtask bench` runs it)
//! and hardened code (`JitVm::run`), each result checked against
//! `expected.txt`; `--dump NAME` lists NAME's trusted code instead
//! (`--mode hardened`: its hardened code).
//!
//! `cargo run --release -p ebpf-jit-x86 --example fixtures [-- --dump sum]`
//! (under `valgrind --tool=callgrind`, add `--runs N` for instruction
//! counts of N runs).

// Calling trusted code is `unsafe`: see `run_trusted`.
#![allow(unsafe_code)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use ebpf_isa::Program;
use ebpf_jit_x86::{Jit, JitConfig};
use ebpf_runtime::{Invocation, Runtime};
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/fixtures")
}

fn run_trusted(jit: &Jit, rt: &mut Runtime, input: &mut [u8]) -> u64 {
    // SAFETY: the fixtures are the shared benchmark programs, which the
    // kernel's verifier accepts (their XDP build): they read only their
    // input and stack, call no helpers and terminate; the result is
    // checked against the expected value before timing.
    unsafe { jit.invoke_trusted(rt, Invocation::new(input)) }.map_or(u64::MAX, |o| o.r0)
}

fn dump(prog: &Program, jit: &Emitted) {
    let mut heads: Vec<(usize, String)> = prog
        .iter()
        .filter_map(|(pc, insn)| jit.slots[pc].map(|o| (o, format!("{pc}: {insn}"))))
        .collect();
    heads.sort_by_key(|h| h.0);
    let start = jit.entries[0];
    let mut decoder = Decoder::with_ip(64, &jit.code[start..], start as u64, DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    let mut text = String::new();
    let mut h = 0;
    for insn in &mut decoder {
        let at = insn.ip() as usize;
        while h < heads.len() && heads[h].0 <= at {
            println!("; {}", heads[h].1);
            h += 1;
        }
        if h >= heads.len() && at > heads.last().map_or(0, |x| x.0) + 64 {
            break;
        }
        text.clear();
        fmt.format(&insn, &mut text);
        println!("{at:6x}  {text}");
    }
}

use ebpf_jit_x86::Emitted;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let dir = fixtures_dir();
    let expected = std::fs::read_to_string(dir.join("expected.txt"))?;
    if let Some(name) = flag("--dump") {
        let prog = Program::from_bytes(&std::fs::read(dir.join(format!("{name}.bin")))?)?;
        let config = if flag("--mode").as_deref() == Some("hardened") {
            JitConfig::hardened().with_blinding_key(0x5a5a_1234)
        } else {
            JitConfig::trusted()
        };
        dump(&prog, &Jit::emit(core::slice::from_ref(&prog), &config, 0)?);
        return Ok(());
    }
    let runs: Option<u64> = flag("--runs").and_then(|r| r.parse().ok());
    let only = flag("--only");
    // `trusted` or `hardened`: time only that one (for instruction counts).
    let mode = flag("--mode");
    let timed = |m: &str| mode.as_deref().is_none_or(|x| x == m);
    println!("| program | trusted ns | hardened ns |");
    println!("|---|---:|---:|");
    for line in expected.lines() {
        let Some((name, want)) = line.split_once(' ') else {
            continue;
        };
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let want = u64::from_str_radix(want.trim_start_matches("0x"), 16)?;
        let prog = Program::from_bytes(&std::fs::read(dir.join(format!("{name}.bin")))?)?;
        let mut input = std::fs::read(dir.join(format!("{name}.input")))?;
        let trusted = Jit::new(&prog, JitConfig::trusted())?;
        let hardened = Jit::new(&prog, JitConfig::hardened())?;
        let mut rt = Runtime::new();
        assert_eq!(
            run_trusted(&trusted, &mut rt, &mut input),
            want,
            "{name} trusted"
        );
        let n = runs.unwrap_or_else(|| {
            let start = Instant::now();
            run_trusted(&trusted, &mut rt, &mut input);
            (200e6 / start.elapsed().as_nanos().max(1) as f64).clamp(10.0, 2e7) as u64
        });
        // Best of 5 batches (the machine is shared).
        let best = |f: &mut dyn FnMut() -> u64| {
            (0..5)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..n.div_ceil(5) {
                        black_box(f());
                    }
                    start.elapsed().as_secs_f64() * 1e9 / n.div_ceil(5) as f64
                })
                .fold(f64::INFINITY, f64::min)
        };
        let t = if timed("trusted") {
            best(&mut || run_trusted(&trusted, &mut rt, &mut input))
        } else {
            f64::NAN
        };
        let h = if !timed("hardened") {
            f64::NAN
        } else {
            let mut vm = hardened.prepare(&mut rt);
            assert_eq!(
                vm.run(&mut input).map(|o| o.r0),
                Ok(want),
                "{name} hardened"
            );
            best(&mut || vm.run(&mut input).map_or(u64::MAX, |o| o.r0))
        };
        println!("| {name} | {t:.1} | {h:.1} |");
    }
    Ok(())
}
