//! The engines side by side on the fixtures (issue 6's table): the native
//! build, our JIT (trusted and hardened), the kernel's JIT, our
//! interpreter; enter/exit, the cost of a bpf-to-bpf call, compile times.

use std::time::{Duration, Instant};

use ebpf_interp::Interpreter;
use ebpf_isa::Program;
use ebpf_jit_x86::{Jit, JitConfig};
use ebpf_kernel::Kernel;
use ebpf_runtime::Invocation;

use crate::reference::{KernelProg, Native, NativeBuild};
use crate::{BenchError, Fixture, measure, runtime};

/// One row: ns per run of each engine (`NAN`: not measured).
#[derive(Clone, Debug)]
pub struct Row {
    /// Program.
    pub name: &'static str,
    /// clang -O2.
    pub native: f64,
    /// clang -O2 without vectorisation.
    pub native_novec: f64,
    /// Our JIT, trusted code.
    pub jit_trusted: f64,
    /// Our JIT, hardened code.
    pub jit_hardened: f64,
    /// The kernel's JIT (test run duration minus an empty program's).
    pub kernel: f64,
    /// Our interpreter.
    pub interp: f64,
}

fn ns(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}

/// Compile `f` for the JIT, `trusted` or hardened.
fn jit(f: &Fixture, trusted: bool) -> Result<Jit, BenchError> {
    let config = if trusted {
        JitConfig::trusted()
    } else {
        JitConfig::hardened()
    };
    Jit::new(&f.program, config).map_err(|e| BenchError::Prepare {
        name: f.name,
        message: format!("jit: {e}"),
    })
}

/// Run trusted JIT code of a benchmark fixture, prepared for repeated runs
/// (as the hardened code and the interpreter are timed).
#[allow(unsafe_code)]
fn run_trusted(vm: &mut ebpf_jit_x86::JitVm<'_>, input: &mut [u8]) -> u64 {
    // SAFETY: the fixtures are the shared benchmark programs, written with
    // explicit bounds checks: the kernel's verifier accepts their XDP build
    // (the kernel column loads it), whose core is the same bytecode. They
    // read only `[input, input + len)` and their own stack frames, which
    // the run gives them, call no helpers and terminate. Every fixture's
    // result is checked against the hardened JIT and the interpreter
    // before it is timed.
    unsafe { vm.run_trusted(input) }.map_or(u64::MAX, |o| o.r0)
}

/// Time every engine on `f`; `kernel` with the test-run overhead to
/// subtract, when the kernel can be asked.
pub fn row(
    f: &Fixture,
    batches: usize,
    batch: Duration,
    kernel: Option<(&Kernel, f64)>,
) -> Result<Row, BenchError> {
    let mut rt = runtime();
    let mut input = f.input.clone();
    let check = |got: u64, what: &str| {
        if got == f.expected {
            Ok(())
        } else {
            Err(BenchError::WrongResult {
                name: f.name,
                got,
                expected: f.expected,
            })
            .map_err(|e| {
                eprintln!("{what}: {e}");
                e
            })
        }
    };
    let native = Native::of(f.name, NativeBuild::Vectorized);
    let novec = Native::of(f.name, NativeBuild::NoVec);
    let trusted = jit(f, true)?;
    let hardened = jit(f, false)?;
    let interp = Interpreter::new(&f.program).map_err(|e| BenchError::Prepare {
        name: f.name,
        message: e.to_string(),
    })?;
    // Every engine must give the README's result before it is timed.
    let hard_r0 = hardened
        .invoke(&mut rt, Invocation::new(&mut input))
        .map_or(u64::MAX, |o| o.r0);
    check(hard_r0, "jit hardened")?;
    check(
        run_trusted(&mut trusted.prepare(&mut rt), &mut input),
        "jit trusted",
    )?;
    let interp_r0 = interp.run(&mut rt, &mut input).unwrap_or(u64::MAX);
    check(interp_r0, "interp")?;
    let time_native = |n: Option<Native>, input: &mut Vec<u8>| -> Result<f64, BenchError> {
        let Some(n) = n else { return Ok(f64::NAN) };
        check(n.run(input), "native")?;
        Ok(ns(measure(batches, batch, || n.run(input))))
    };
    let native_ns = time_native(native, &mut input)?;
    let novec_ns = time_native(novec, &mut input)?;
    let trusted_ns = {
        let mut vm = trusted.prepare(&mut rt);
        ns(measure(batches, batch, || run_trusted(&mut vm, &mut input)))
    };
    let hardened_ns = {
        let mut vm = hardened.prepare(&mut rt);
        ns(measure(batches, batch, || {
            vm.run(&mut input).map_or(u64::MAX, |o| o.r0)
        }))
    };
    let interp_ns = {
        let mut vm = interp.prepare(&mut rt);
        ns(measure(batches, batch, || {
            vm.run(&mut input).map_or(u64::MAX, |o| o.r0)
        }))
    };
    let kernel_ns = match kernel {
        None => f64::NAN,
        Some((k, overhead)) => {
            let prog = KernelProg::load(k, f)?;
            // About 50 ms per call, whatever the program's speed.
            let probe = prog.time(k, f.name, &f.input, 16)?;
            if u64::from(probe.1) != f.expected & 0xffff_ffff {
                return Err(BenchError::WrongResult {
                    name: f.name,
                    got: u64::from(probe.1),
                    expected: f.expected & 0xffff_ffff,
                });
            }
            let per = f64::from(probe.0.max(1));
            let repeat = (50e6 / per).clamp(16.0, 1e6) as u32;
            let mut best = f64::INFINITY;
            for _ in 0..batches.max(3) {
                let (d, _) = prog.time(k, f.name, &f.input, repeat)?;
                best = best.min(f64::from(d));
            }
            (best - overhead).max(0.0)
        }
    };
    Ok(Row {
        name: f.name,
        native: native_ns,
        native_novec: novec_ns,
        jit_trusted: trusted_ns,
        jit_hardened: hardened_ns,
        kernel: kernel_ns,
        interp: interp_ns,
    })
}

/// Cost of one bpf-to-bpf call and return in trusted JIT code: a loop of
/// `N` calls to a one-instruction function, minus the same loop with the
/// instruction inlined, divided by `N`.
pub fn call_cost_ns(batches: usize, batch: Duration) -> Result<f64, BenchError> {
    const N: u32 = 10_000;
    let with_call =
        format!("r6 = {N}\nl: call f\nr6 -= 1\nif r6 != 0 goto l\nexit\nf: r0 = 1\nexit\n");
    let inlined = format!("r6 = {N}\nl: r0 = 1\nr6 -= 1\nif r6 != 0 goto l\nexit\n");
    let time = |text: &str| -> Result<f64, BenchError> {
        let prog = asm(text)?;
        let jit = Jit::new(&prog, JitConfig::trusted()).map_err(|e| BenchError::Prepare {
            name: "call_cost",
            message: e.to_string(),
        })?;
        let mut rt = runtime();
        let mut input = [0u8; 8];
        let mut vm = jit.prepare(&mut rt);
        Ok(ns(measure(batches, batch, || {
            run_trusted(&mut vm, &mut input)
        })))
    };
    Ok((time(&with_call)? - time(&inlined)?) / f64::from(N))
}

fn asm(text: &str) -> Result<Program, BenchError> {
    ebpf_isa::asm::assemble(text).map_err(|e| BenchError::Decode {
        name: "asm",
        message: e.to_string(),
    })
}

/// Enter and leave `r0 = 0; exit`: trusted (`JitVm::run_trusted`) and
/// hardened (`JitVm::run`); and hardened `r0 = r2; exit`, whose result
/// depends on the input, so its generated code is entered (a `JitVm`
/// answers a program of immediate moves and `exit` without it).
pub fn enter_exit_ns(batches: usize, batch: Duration) -> Result<(f64, f64, f64), BenchError> {
    let compile = |text: &str, config: JitConfig| -> Result<Jit, BenchError> {
        Jit::new(&asm(text)?, config).map_err(|e| BenchError::Prepare {
            name: "empty",
            message: e.to_string(),
        })
    };
    let trusted = compile("r0 = 0\nexit\n", JitConfig::trusted())?;
    let hardened = compile("r0 = 0\nexit\n", JitConfig::hardened())?;
    let entered = compile("r0 = r2\nexit\n", JitConfig::hardened())?;
    let mut rt = runtime();
    let mut input = [0u8; 8];
    let t = {
        let mut vm = trusted.prepare(&mut rt);
        ns(measure(batches, batch, || run_trusted(&mut vm, &mut input)))
    };
    let h = {
        let mut vm = hardened.prepare(&mut rt);
        ns(measure(batches, batch, || {
            vm.run(&mut input).map_or(u64::MAX, |o| o.r0)
        }))
    };
    let mut vm = entered.prepare(&mut rt);
    let e = ns(measure(batches, batch, || {
        vm.run(&mut input).map_or(u64::MAX, |o| o.r0)
    }));
    Ok((t, h, e))
}

/// Median microseconds to compile `f` (hardened, the slower mode).
pub fn compile_us(f: &Fixture) -> f64 {
    let mut times: Vec<f64> = (0..21)
        .map(|_| {
            let start = Instant::now();
            let _ = Jit::new(&f.program, JitConfig::hardened());
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// One program verified by the kernel and by us.
#[derive(Clone, Debug)]
pub struct VerifyRow {
    /// Program.
    pub name: &'static str,
    /// The kernel's `processed N insns` and `verification time` (µs).
    pub kernel: Option<(u64, u64)>,
    /// Ours: processed instructions, total states, and the median wall
    /// time in µs, or the refusal.
    pub ours: Result<(u64, u64, f64), String>,
}

/// Verify `f`'s XDP build with `ebpf-verifier` (and, given a kernel, load
/// it with `BPF_LOG_STATS` for its counts and time).
pub fn verify_row(f: &Fixture, kernel: Option<&Kernel>) -> Result<VerifyRow, BenchError> {
    use ebpf_verifier::LinuxEnv;
    use ebpf_verifier::platform::{LinuxPlatform, ProgType};
    let prog = Program::from_bytes(f.xdp_bytecode).map_err(|e| BenchError::Decode {
        name: f.name,
        message: e.to_string(),
    })?;
    let kernel = match kernel {
        None => None,
        Some(k) => {
            let slots = prog.to_raw();
            let loaded = k
                .prog_load(ebpf_kernel::ProgLoad {
                    prog_type: ebpf_kernel::ProgType::XDP,
                    insns: &slots,
                    log_level: ebpf_kernel::LogLevel::LEVEL1 | ebpf_kernel::LogLevel::STATS,
                    prog_name: f.name,
                    ..ebpf_kernel::ProgLoad::default()
                })
                .map_err(|e| BenchError::Prepare {
                    name: f.name,
                    message: format!("kernel: {e}"),
                })?;
            loaded
                .log()
                .stats()
                .map(|s| (s.insns_processed, s.verification_time_usec.unwrap_or(0)))
        }
    };
    let platform = LinuxPlatform::new();
    let env = LinuxEnv::new(&platform, ProgType::XDP, 0, "GPL");
    // Like for like: the kernel is asked for a level-1 log with stats.
    let config = ebpf_verifier::check::VerifierConfig {
        log_level: ebpf_verifier::check::LOG_LEVEL1 | ebpf_verifier::check::LOG_STATS,
        ..ebpf_verifier::check::VerifierConfig::default()
    };
    let first = ebpf_verifier::check::verify_with(&prog, &env, &[], &config);
    let ours = match first.result {
        Err(r) => Err(format!("{} {}", r.errno, r.message)),
        Ok(()) => {
            let mut times: Vec<f64> = (0..5)
                .map(|_| {
                    let start = Instant::now();
                    let _ = ebpf_verifier::check::verify_with(&prog, &env, &[], &config);
                    start.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            times.sort_by(f64::total_cmp);
            Ok((
                first.stats.insns_processed,
                first.stats.total_states,
                times[times.len() / 2],
            ))
        }
    };
    Ok(VerifyRow {
        name: f.name,
        kernel,
        ours,
    })
}
