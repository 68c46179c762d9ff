//! `bench_profile NAME [RUNS] [vm]`: run one fixture or loop `RUNS` times
//! (default 100,000) and print its result, for profilers
//! (`valgrind --tool=callgrind target/release/bench_profile sum 100`).
//! With `vm`, the runs go through one `Interpreter::prepare`d entry
//! instead of `Interpreter::invoke`.

use std::process::ExitCode;

use ebpf_benches::{asm_loops, fixtures, prepare, run_once, runtime};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!("usage: bench_profile NAME [RUNS]");
        return ExitCode::FAILURE;
    };
    let runs: u64 = args.next().and_then(|r| r.parse().ok()).unwrap_or(100_000);
    let use_vm = args.next().is_some_and(|a| a == "vm");
    let mut programs: Vec<(&'static str, ebpf_isa::Program, Vec<u8>)> = Vec::new();
    if let Ok(fs) = fixtures() {
        programs.extend(fs.into_iter().map(|f| (f.name, f.program, f.input)));
    }
    if let Ok(ls) = asm_loops() {
        programs.extend(ls.into_iter().map(|l| (l.name, l.program, l.input)));
    }
    let Some((name, program, mut input)) = programs.into_iter().find(|p| p.0 == name) else {
        eprintln!("bench_profile: no fixture or loop named `{name}`");
        return ExitCode::FAILURE;
    };
    let mut rt = runtime();
    let result = prepare(name, &program).and_then(|vm| {
        let mut last = (0, 0);
        if use_vm {
            let mut prepared = vm.prepare(&mut rt);
            for _ in 0..runs {
                let o = prepared
                    .run(&mut input)
                    .map_err(|t| ebpf_benches::BenchError::Trap {
                        name,
                        message: t.to_string(),
                    })?;
                last = (o.r0, o.insns);
            }
            return Ok(last);
        }
        for _ in 0..runs {
            last = run_once(name, &vm, &mut rt, &mut input)?;
        }
        Ok(last)
    });
    match result {
        Ok((r0, insns)) => {
            println!("{name}: r0 = {r0:#x}, {insns} insns per run, {runs} runs");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_profile: {e}");
            ExitCode::FAILURE
        }
    }
}
