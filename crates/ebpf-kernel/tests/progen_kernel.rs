//! `ebpf-progen` against the running kernel: the generator's programs are
//! plausible (nearly all of those written to be valid load) and its planted
//! mistakes are real (most of them are refused). Prints the kernel's
//! refusals by message, so a generator change that makes the corpus
//! lopsided shows up. Gated on `probe_or_skip`.

use std::collections::BTreeMap;
use std::io::Write as _;

mod common;

use common::kernel_verdict;
use ebpf_kernel::probe_or_skip;
use ebpf_progen::{GenConfig, generate};

/// Programs per run.
const PROGRAMS: u64 = 600;

#[test]
fn generated_programs_are_plausible_and_planted_bugs_real() {
    let Some(k) = probe_or_skip("generated_programs_are_plausible_and_planted_bugs_real") else {
        return;
    };
    let cfg = GenConfig::default();
    let (mut clean, mut clean_ok, mut planted, mut planted_refused) = (0u32, 0u32, 0u32, 0u32);
    let mut messages: BTreeMap<String, u32> = BTreeMap::new();
    let mut clean_refusals = Vec::new();
    // Per planted mistake: (refused, planted).
    let mut by_bug: BTreeMap<&'static str, (u32, u32)> = BTreeMap::new();
    for seed in 0..PROGRAMS {
        let g = generate(seed, &cfg);
        let verdict = kernel_verdict(&k, &g);
        if let Err(line) = &verdict {
            // Numbers (offsets, registers' bounds) vary; keep the shape.
            let shape: String = line
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            *messages.entry(shape).or_default() += 1;
        }
        if g.bugs.is_empty() {
            clean += 1;
            match verdict {
                Ok(_) => clean_ok += 1,
                Err(line) => clean_refusals.push(format!("seed {seed}: {line}")),
            }
        } else {
            planted += 1;
            let entry = by_bug.entry(g.bugs[0]).or_default();
            entry.1 += 1;
            if verdict.is_err() {
                planted_refused += 1;
                entry.0 += 1;
            }
        }
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "progen_kernel: {PROGRAMS} programs: {clean_ok}/{clean} written valid are accepted, \
         {planted_refused}/{planted} with a planted mistake are refused"
    );
    for (bug, (refused, n)) in &by_bug {
        let _ = writeln!(err, "progen_kernel:   planted {bug}: {refused}/{n} refused");
    }
    for (m, n) in &messages {
        let _ = writeln!(err, "progen_kernel:   {n:4} x {m}");
    }
    assert!(
        clean_ok * 100 >= clean * 95,
        "only {clean_ok} of {clean} programs written to be valid load:\n{}",
        clean_refusals.join("\n")
    );
    assert!(
        planted_refused * 100 >= planted * 60,
        "only {planted_refused} of {planted} planted mistakes are refused"
    );
}
