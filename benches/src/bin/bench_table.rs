//! `bench_table`: the interpreter on every fixture in one process, as a
//! table of ns/run, executed instructions per run and ns per instruction,
//! next to the uBPF and rbpf interpreters' figures from
//! `shared/bench-programs/ANCHORS.md`; then every engine on every fixture
//! (native clang -O2, our JIT trusted and hardened, the kernel's JIT, our
//! interpreter) with ratios to native. Run it as `cargo xtask bench`.

use std::process::ExitCode;
use std::time::Duration;

use ebpf_benches::{BenchError, asm_loops, check, fixtures, measure, prepare, run_once, runtime};
use ebpf_runtime::Invocation;

const HELP: &str = "\
bench_table: interpreter ns/run and ns/insn on every fixture

USAGE:
    bench_table [--batches N] [--batch-ms MS]

    --batches N    timed batches per program; the median is reported (default 11)
    --batch-ms MS  target length of one batch in milliseconds (default 20)
";

/// Runs per timed call in the enter + exit measurements.
const ENTER_EXIT_RUNS: u64 = 1000;

/// ANCHORS.md: uBPF and rbpf interpreter ns per run (the `empty` row is a range for uBPF).
const ANCHORS: [(&str, &str, f64, f64); 8] = [
    ("empty", "16-30", 23.0, 51.0),
    ("sum", "381,351", 381_351.0, 463_794.0),
    ("fnv", "77,151", 77_151.0, 94_123.0),
    ("xxh", "140,710", 140_710.0, 179_232.0),
    ("parse", "209,917", 209_917.0, 250_914.0),
    ("sort", "128,996", 128_996.0, 144_195.0),
    ("collatz", "191,493", 191_493.0, 246_833.0),
    ("calls", "199,163", 199_163.0, 253_468.0),
];

struct Options {
    batches: usize,
    batch: Duration,
}

fn parse_args() -> Result<Option<Options>, String> {
    let mut opts = Options {
        batches: 11,
        batch: Duration::from_millis(20),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| -> Result<u64, String> {
            let v = args.next().ok_or(format!("{flag} needs a value"))?;
            v.parse()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--batches" => opts.batches = value("--batches")?.clamp(1, 1000) as usize,
            "--batch-ms" => {
                opts.batch = Duration::from_millis(value("--batch-ms")?.clamp(1, 10_000))
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(Some(opts))
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench_table: {e}");
            return ExitCode::FAILURE;
        }
    };
    match table(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_table: {e}");
            ExitCode::FAILURE
        }
    }
}

fn table(opts: &Options) -> Result<(), BenchError> {
    let mut rt = runtime();
    println!(
        "ebpf-interp on benches/fixtures (UBPF entry, 2048-byte inputs), median of {} batches of ~{} ms",
        opts.batches,
        opts.batch.as_millis()
    );
    println!();
    println!(
        "| program | ns/run | insns/run | ns/insn | uBPF interp ns | x faster | rbpf interp ns | x faster |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for f in fixtures()? {
        let vm = prepare(f.name, &f.program)?;
        let mut input = f.input.clone();
        // Checked once before timing.
        let insns = check(&f, &vm, &mut rt, &mut input)?;
        let d = measure(opts.batches, opts.batch, || {
            vm.invoke(&mut rt, Invocation::new(&mut input))
                .map_or(u64::MAX, |o| o.r0)
        });
        let ns = d.as_secs_f64() * 1e9;
        let (ubpf_text, ubpf, rbpf) = ANCHORS
            .iter()
            .find(|a| a.0 == f.name)
            .map_or(("-", f64::NAN, f64::NAN), |a| (a.1, a.2, a.3));
        println!(
            "| {} | {} | {} | {:.2} | {} | {:.1} | {} | {:.1} |",
            f.name,
            group(ns),
            group_int(insns),
            ns / insns as f64,
            ubpf_text,
            ubpf / ns,
            group(rbpf),
            rbpf / ns,
        );
    }
    println!();
    println!("| loop | ns/run | insns/run | ns/insn |");
    println!("|---|---:|---:|---:|");
    for l in asm_loops()? {
        let vm = prepare(l.name, &l.program)?;
        let mut input = l.input.clone();
        let (_, insns) = run_once(l.name, &vm, &mut rt, &mut input)?;
        let d = measure(opts.batches, opts.batch, || {
            vm.invoke(&mut rt, Invocation::new(&mut input))
                .map_or(u64::MAX, |o| o.r0)
        });
        let ns = d.as_secs_f64() * 1e9;
        println!(
            "| {} | {} | {} | {:.2} |",
            l.name,
            group(ns),
            group_int(insns),
            ns / insns as f64
        );
    }
    // Enter + exit of the empty program, 1000 runs per timed call so that
    // the figure keeps its sub-nanosecond digits (`measure` gives whole ns).
    let empty = fixtures()?
        .into_iter()
        .find(|f| f.name == "empty")
        .ok_or(BenchError::NoExpected { name: "empty" })?;
    let interp = prepare(empty.name, &empty.program)?;
    let mut input = empty.input.clone();
    let per_run = |d: Duration| d.as_secs_f64() * 1e9 / ENTER_EXIT_RUNS as f64;
    let empty_ns = per_run(measure(opts.batches, opts.batch, || {
        (0..ENTER_EXIT_RUNS).fold(0, |x, _| {
            x ^ interp
                .invoke(&mut rt, Invocation::new(&mut input))
                .map_or(u64::MAX, |o| o.r0)
        })
    }));
    // The interpreter's own share: the same empty program in one session
    // built once and reused (no `Runtime::session` per run).
    let reused_ns = {
        let mut sess = rt.session(Invocation::new(&mut input), 1);
        per_run(measure(opts.batches, opts.batch, || {
            (0..ENTER_EXIT_RUNS).fold(0, |x, _| {
                x ^ interp.run_session(&mut sess).map_or(u64::MAX, |o| o.r0)
            })
        }))
    };
    // A prepared entry (`Interpreter::prepare`), re-entered with the input.
    let vm_ns = {
        let mut vm = interp.prepare(&mut rt);
        per_run(measure(opts.batches, opts.batch, || {
            (0..ENTER_EXIT_RUNS).fold(0, |x, _| x ^ vm.run(&mut input).map_or(u64::MAX, |o| o.r0))
        }))
    };
    println!();
    println!(
        "enter + exit (empty program, `r0 = 0; exit`): {empty_ns:.2} ns per run with \
         `Interpreter::invoke` (session built per run), {reused_ns:.2} ns with \
         `Interpreter::run_session` on a reused session, {vm_ns:.2} ns with `Vm::run` \
         (`Interpreter::prepare`)"
    );
    println!(
        "uBPF/rbpf figures: shared/bench-programs/ANCHORS.md (another run, same kind of machine); \
         uBPF empty is given as 16-30 ns, 23 is used for the ratio."
    );
    engines(opts)
}

/// The geometric mean of `xs` (NaN-free).
fn geomean(xs: &[f64]) -> f64 {
    let logs: Vec<f64> = xs
        .iter()
        .filter(|x| x.is_finite() && **x > 0.0)
        .map(|x| x.ln())
        .collect();
    (logs.iter().sum::<f64>() / logs.len().max(1) as f64).exp()
}

/// Issue 6's table: every engine on every fixture, ratios to native.
fn engines(opts: &Options) -> Result<(), BenchError> {
    use ebpf_benches::engines::{call_cost_ns, compile_us, enter_exit_ns, row};
    println!();
    let kernel = match ebpf_kernel::Kernel::probe() {
        Ok(k) => match k.test_run_overhead(1_000_000, 5) {
            Ok(o) => Some((k, f64::from(o.kernel_ns_per_run))),
            Err(e) => {
                println!("SKIP: kernel JIT column: measuring the test-run overhead failed: {e}");
                None
            }
        },
        Err(e) => {
            println!("SKIP: kernel JIT column: {e}");
            None
        }
    };
    if let Some((_, o)) = &kernel {
        println!(
            "Engines, ns per run (ratio to native -O2); kernel JIT = BPF_PROG_TEST_RUN duration \
             minus an empty XDP program's ({o:.0} ns)"
        );
    }
    println!();
    println!(
        "| program | native -O2 | native no-vec | our JIT trusted | our JIT hardened | kernel JIT | our interp | JIT compile |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut ratios: Vec<[f64; 5]> = Vec::new();
    for f in fixtures()? {
        let r = row(
            &f,
            opts.batches,
            opts.batch,
            kernel.as_ref().map(|(k, o)| (k, *o)),
        )?;
        let cell = |v: f64| {
            if v.is_nan() {
                "-".to_owned()
            } else if f.name == "empty" {
                format!("{v:.1}")
            } else {
                format!("{} ({:.2})", group(v), v / r.native)
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} us |",
            f.name,
            if f.name == "empty" {
                format!("{:.1}", r.native)
            } else {
                group(r.native)
            },
            cell(r.native_novec),
            cell(r.jit_trusted),
            cell(r.jit_hardened),
            cell(r.kernel),
            cell(r.interp),
            compile_us(&f),
        );
        if f.name != "empty" {
            ratios.push([
                r.native_novec / r.native,
                r.jit_trusted / r.native,
                r.jit_hardened / r.native,
                r.kernel / r.native,
                r.interp / r.native,
            ]);
        }
    }
    let col = |i: usize| geomean(&ratios.iter().map(|r| r[i]).collect::<Vec<_>>());
    println!(
        "| geomean ratio to native (7 programs) | 1.00 | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | |",
        col(0),
        col(1),
        col(2),
        col(3),
        col(4)
    );
    let (trusted, hardened, entered) = enter_exit_ns(opts.batches, opts.batch)?;
    let call = call_cost_ns(opts.batches, opts.batch)?;
    println!();
    println!(
        "JIT enter + exit (empty program): {trusted:.1} ns trusted (`JitVm::run_trusted`), \
         {hardened:.1} ns hardened (`JitVm::run`); {entered:.1} ns hardened for `r0 = r2; exit` \
         (generated code entered); bpf-to-bpf call + return in trusted code: {call:.2} ns"
    );
    println!(
        "Peers (ANCHORS.md, another run): geomean ratio to native: kernel JIT 2.07, llvmbpf \
         1.44, uBPF JIT 1.95, rbpf JIT 1.88; call + return: kernel 7.9 ns, llvmbpf 1.05 ns."
    );
    verifier_table(kernel.as_ref().map(|(k, _)| k))
}

/// Issue 8's table: our verifier against the kernel's on the XDP builds.
fn verifier_table(kernel: Option<&ebpf_kernel::Kernel>) -> Result<(), BenchError> {
    use ebpf_benches::engines::verify_row;
    println!();
    println!("Verifier on the XDP builds: processed insns and time, the kernel's and ours");
    println!();
    println!(
        "| program | kernel processed | kernel time (us) | our processed | our states | our time (us) | time ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for f in fixtures()? {
        let r = verify_row(&f, kernel)?;
        let (kp, kt) = r.kernel.map_or(("-".to_owned(), f64::NAN), |(p, t)| {
            (group_int(p), t as f64)
        });
        match r.ours {
            Ok((p, states, t)) => println!(
                "| {} | {kp} | {} | {} | {} | {:.0} | {:.2} |",
                r.name,
                if kt.is_nan() {
                    "-".to_owned()
                } else {
                    format!("{kt:.0}")
                },
                group_int(p),
                group_int(states),
                t,
                t / kt
            ),
            Err(e) => println!("| {} | {kp} | {kt:.0} | refused: {e} | | | |", r.name),
        }
    }
    println!(
        "(both with a level-1 log and stats, like for like; ours walks every loop iteration as the \
         kernel does. Its precision tracking falls back to marking every scalar precise where \
         backtracking would cross a bpf-to-bpf call, so programs with calls in loops can take a \
         different count)"
    );
    Ok(())
}

/// `12345` as `12,345`.
fn group_int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12345.6` as `12,346`; small values keep one decimal.
fn group(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_owned();
    }
    if v < 100.0 {
        return format!("{v:.1}");
    }
    group_int(v.round() as u64)
}
