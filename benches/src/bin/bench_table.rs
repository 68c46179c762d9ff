//! `bench_table`: the interpreter on every fixture in one process, as a
//! table of ns/run, executed instructions per run and ns per instruction,
//! next to the uBPF and rbpf interpreters' figures from
//! `shared/bench-programs/ANCHORS.md`. Run it as `cargo xtask bench`.

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
    let mut empty_ns = 0.0;
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
        if f.name == "empty" {
            empty_ns = ns;
        }
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
    // The interpreter's own share: the same empty program in one session
    // built once and reused (no `Runtime::session` per run).
    let reused_ns = {
        let f = fixtures()?
            .into_iter()
            .find(|f| f.name == "empty")
            .ok_or(BenchError::NoExpected { name: "empty" })?;
        let vm = prepare(f.name, &f.program)?;
        let mut input = f.input.clone();
        let mut sess = rt.session(Invocation::new(&mut input), 1);
        let d = measure(opts.batches, opts.batch, || {
            vm.run_session(&mut sess).map_or(u64::MAX, |o| o.r0)
        });
        d.as_secs_f64() * 1e9
    };
    // A prepared entry (`Interpreter::prepare`), re-entered with the input.
    let vm_ns = {
        let f = fixtures()?
            .into_iter()
            .find(|f| f.name == "empty")
            .ok_or(BenchError::NoExpected { name: "empty" })?;
        let interp = prepare(f.name, &f.program)?;
        let mut input = f.input.clone();
        let mut vm = interp.prepare(&mut rt);
        let d = measure(opts.batches, opts.batch, || {
            vm.run(&mut input).map_or(u64::MAX, |o| o.r0)
        });
        d.as_secs_f64() * 1e9
    };
    println!();
    println!(
        "enter + exit (empty program, `r0 = 0; exit`): {empty_ns:.1} ns per run with \
         `Interpreter::invoke` (session built per run), {reused_ns:.1} ns with \
         `Interpreter::run_session` on a reused session, {vm_ns:.1} ns with `Vm::run` \
         (`Interpreter::prepare`)"
    );
    println!(
        "uBPF/rbpf figures: shared/bench-programs/ANCHORS.md (another run, same kind of machine); \
         uBPF empty is given as 16-30 ns, 23 is used for the ratio."
    );
    println!(
        "Kernel JIT column: not measured. The fixtures use the UBPF entry (r1 = mem, r2 = len), \
         which BPF_PROG_TEST_RUN cannot call; it needs -DENTRY_XDP builds."
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
