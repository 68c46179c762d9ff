//! Verify a raw bytecode file as a given program type and print the verdict,
//! the kernel-style counts and the time per processed instruction.
//!
//! ```text
//! cargo run --release -p ebpf-verifier --example verify_file -- PROG.bin [TYPE] [RUNS]
//! ```
//!
//! `TYPE` as bpftool spells it (default `xdp`), `RUNS` timed repetitions
//! (default 20; the median is printed).

use std::time::Instant;

use ebpf_isa::Program;
use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::{VerifierConfig, verify_with};
use ebpf_verifier::platform::{LinuxPlatform, ProgType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: verify_file PROG.bin [TYPE] [RUNS]")?;
    let prog_type = args.get(1).map_or("xdp", String::as_str);
    let runs: usize = args.get(2).map_or(Ok(20), |r| r.parse())?;
    let prog = Program::from_bytes(&std::fs::read(path)?)?;
    let platform = LinuxPlatform::new();
    let t = ProgType::from_name(prog_type).ok_or("unknown program type")?;
    let env = LinuxEnv::new(&platform, t, 0, "GPL");
    let config = VerifierConfig {
        log_level: 0,
        ..VerifierConfig::default()
    };
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let out = verify_with(&prog, &env, &[], &config);
        times.push(start.elapsed().as_secs_f64() * 1e6);
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    let us = times[times.len() / 2];
    let out = last.ok_or("no run")?;
    let n = out.stats.insns_processed;
    match &out.result {
        Ok(()) => println!("accepted"),
        Err(r) => println!("rejected: {} {}", r.errno, r.message),
    }
    println!(
        "processed {n} insns, total_states {}, peak_states {}: {us:.1} us, {:.3} us/insn",
        out.stats.total_states,
        out.stats.peak_states,
        us / n.max(1) as f64
    );
    Ok(())
}
