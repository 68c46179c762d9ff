//! Benchmarks of the eBPF engines on the shared benchmark programs.
//!
//! The programs of `shared/bench-programs` are compiled once by
//! `cargo xtask fixtures` (clang-19, UBPF entry: `r1` = input, `r2` = its
//! length) into the committed files of `benches/fixtures/`, which this crate
//! embeds, so neither the benchmarks nor their tests need clang:
//!
//! * [`fixtures`]: every program with its 2048-byte input and expected `r0`;
//! * [`asm_loops`]: small hand-written loops (pure ALU, loads, stack, calls)
//!   that isolate one kind of instruction;
//! * [`measure`]: the timing used by the `bench_table` binary
//!   (`cargo xtask bench`): median ns per run over several batches.
//!
//! * [`reference`](mod@reference): what the engines are compared with: the same C compiled
//!   natively (a committed static archive, linked by `build.rs`) and the
//!   kernel's JIT through `BPF_PROG_TEST_RUN`;
//! * [`engines`]: every engine on every fixture, the JIT's enter/exit,
//!   call and compile costs (the second table of `bench_table`).
//!
//! The criterion benchmarks are in `benches/interp.rs`
//! (`cargo bench -p ebpf-benches`).
#![deny(unsafe_code)]

pub mod engines;
pub mod reference;
pub mod verifier;

use std::hint::black_box;
use std::time::{Duration, Instant};

use ebpf_interp::Interpreter;
use ebpf_isa::Program;
use ebpf_runtime::{Config, Invocation, Runtime};

/// Why a fixture or loop could not be prepared or did not give its result.
#[derive(Clone, PartialEq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The bytecode does not decode.
    #[error("{name}: bytecode does not decode: {message}")]
    Decode {
        /// Program name.
        name: &'static str,
        /// The decoder's message.
        message: String,
    },
    /// The interpreter rejected the program.
    #[error("{name}: interpreter rejected the program: {message}")]
    Prepare {
        /// Program name.
        name: &'static str,
        /// The interpreter's message.
        message: String,
    },
    /// The run trapped.
    #[error("{name}: run trapped: {message}")]
    Trap {
        /// Program name.
        name: &'static str,
        /// The trap.
        message: String,
    },
    /// The run returned something else than expected.
    #[error("{name}: r0 = {got:#x}, expected {expected:#x}")]
    WrongResult {
        /// Program name.
        name: &'static str,
        /// What it returned.
        got: u64,
        /// What the README table says.
        expected: u64,
    },
    /// `expected.txt` has no line for the program.
    #[error("{name}: no expected result in fixtures/expected.txt")]
    NoExpected {
        /// Program name.
        name: &'static str,
    },
}

/// One benchmark program: bytecode, input and expected result.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// Name (the source file's stem).
    pub name: &'static str,
    /// The decoded program (entry at slot 0).
    pub program: Program,
    /// Its input buffer (2048 bytes for every fixture).
    pub input: Vec<u8>,
    /// The `r0` it must return.
    pub expected: u64,
    /// The same program built with the XDP entry (`r1` = `struct
    /// xdp_md`), flat bytecode, for the kernel's `BPF_PROG_TEST_RUN`.
    pub xdp_bytecode: &'static [u8],
}

macro_rules! fixture_files {
    ($($name:literal),* $(,)?) => {
        [$(
            (
                $name,
                include_bytes!(concat!("../fixtures/", $name, ".bin")) as &[u8],
                include_bytes!(concat!("../fixtures/", $name, ".input")) as &[u8],
                include_bytes!(concat!("../fixtures/", $name, ".xdp.bin")) as &[u8],
            ),
        )*]
    };
}

/// One fixture's files: name, bytecode, input, XDP-entry bytecode.
type FixtureFiles = (&'static str, &'static [u8], &'static [u8], &'static [u8]);

/// Every fixture's files, in the README's order.
const FILES: [FixtureFiles; 8] = fixture_files!(
    "empty", "sum", "fnv", "xxh", "parse", "sort", "collatz", "calls"
);

/// `name 0x<r0>` per line.
const EXPECTED: &str = include_str!("../fixtures/expected.txt");

fn expected_for(name: &str) -> Option<u64> {
    EXPECTED.lines().find_map(|line| {
        let (n, v) = line.split_once(' ')?;
        let hex = v.trim().strip_prefix("0x")?;
        (n == name).then(|| u64::from_str_radix(hex, 16).ok())?
    })
}

/// Every fixture, decoded, in the README's order (`empty` first).
pub fn fixtures() -> Result<Vec<Fixture>, BenchError> {
    FILES
        .iter()
        .map(|&(name, code, input, xdp_bytecode)| {
            let program = Program::from_bytes(code).map_err(|e| BenchError::Decode {
                name,
                message: e.to_string(),
            })?;
            let expected = expected_for(name).ok_or(BenchError::NoExpected { name })?;
            Ok(Fixture {
                name,
                program,
                input: input.to_vec(),
                expected,
                xdp_bytecode,
            })
        })
        .collect()
}

/// A hand-written loop: name, program, input and expected `r0`.
#[derive(Clone, Debug)]
pub struct AsmLoop {
    /// Name.
    pub name: &'static str,
    /// The program.
    pub program: Program,
    /// Its input.
    pub input: Vec<u8>,
}

/// The loop sources, kernel syntax.
const LOOPS: [(&str, &str, usize); 5] = [
    (
        "alu_loop",
        // 10,000 x (add, xor, sub, branch): pure register ALU.
        "r0 = 0\nr1 = 10000\nl: r0 += r1\nr0 ^= 0x55\nr1 -= 1\nif r1 != 0 goto l\nexit",
        0,
    ),
    (
        "load_loop",
        // Sum the 2 KiB input as u64 words: load, add, pointer bump, branch.
        "r0 = 0\nr3 = r1\nr3 += r2\nl: r4 = *(u64 *)(r1 +0)\nr0 += r4\nr1 += 8\n\
         if r1 < r3 goto l\nexit",
        2048,
    ),
    (
        "byte_mul_loop",
        // FNV-1a over the 2 KiB input, a byte at a time.
        "r0 = 0xcbf29ce484222325\nr5 = 0x100000001b3\nr3 = r1\nr3 += r2\n\
         l: r4 = *(u8 *)(r1 +0)\nr0 ^= r4\nr0 *= r5\nr1 += 1\nif r1 < r3 goto l\nexit",
        2048,
    ),
    (
        "stack_loop",
        // Store to and reload from the stack, 10,000 times.
        "r0 = 0\nr1 = 10000\nl: *(u64 *)(r10 -8) = r1\nr2 = *(u64 *)(r10 -8)\n\
         r0 += r2\nr1 -= 1\nif r1 s> 0 goto l\nexit",
        0,
    ),
    (
        "call_loop",
        // 10,000 bpf-to-bpf calls of a 3-insn function.
        "r6 = 10000\nr7 = 0\nl: r1 = r6\ncall f\nr7 += r0\nr6 -= 1\nif r6 != 0 goto l\n\
         r0 = r7\nexit\nf: r0 = r1\nr0 += 1\nexit",
        0,
    ),
];

/// The hand-written loops.
pub fn asm_loops() -> Result<Vec<AsmLoop>, BenchError> {
    LOOPS
        .iter()
        .map(|&(name, text, len)| {
            let program = ebpf_isa::asm::assemble(text).map_err(|e| BenchError::Decode {
                name,
                message: e.to_string(),
            })?;
            let input = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            Ok(AsmLoop {
                name,
                program,
                input,
            })
        })
        .collect()
}

/// A runtime for benchmarking: no instruction budget.
#[must_use]
pub fn runtime() -> Runtime {
    Runtime::with_config(Config {
        insn_budget: u64::MAX,
        ..Config::default()
    })
}

/// Prepare `program` for the interpreter.
pub fn prepare(name: &'static str, program: &Program) -> Result<Interpreter, BenchError> {
    Interpreter::new(program).map_err(|e| BenchError::Prepare {
        name,
        message: e.to_string(),
    })
}

/// Run once; return `(r0, executed slots)`.
pub fn run_once(
    name: &'static str,
    vm: &Interpreter,
    rt: &mut Runtime,
    input: &mut [u8],
) -> Result<(u64, u64), BenchError> {
    vm.invoke(rt, Invocation::new(input))
        .map(|o| (o.r0, o.insns))
        .map_err(|t| BenchError::Trap {
            name,
            message: t.to_string(),
        })
}

/// Run a fixture once and check its result; return the executed slots.
pub fn check(
    fixture: &Fixture,
    vm: &Interpreter,
    rt: &mut Runtime,
    input: &mut [u8],
) -> Result<u64, BenchError> {
    let (r0, insns) = run_once(fixture.name, vm, rt, input)?;
    if r0 != fixture.expected {
        return Err(BenchError::WrongResult {
            name: fixture.name,
            got: r0,
            expected: fixture.expected,
        });
    }
    Ok(insns)
}

/// Median time of one call of `f`: `batches` batches, each sized to take
/// about `batch_time`, after one warm-up batch.
pub fn measure(batches: usize, batch_time: Duration, mut f: impl FnMut() -> u64) -> Duration {
    // Calibrate: double the batch until it takes at least a tenth of the target.
    let mut iters: u64 = 1;
    loop {
        let t = time_batch(iters, &mut f);
        if t >= batch_time / 10 || iters >= 1 << 30 {
            let per = t.as_secs_f64() / iters as f64;
            iters = ((batch_time.as_secs_f64() / per.max(1e-12)) as u64).max(1);
            break;
        }
        iters *= 2;
    }
    time_batch(iters, &mut f);
    let mut samples: Vec<f64> = (0..batches.max(1))
        .map(|_| time_batch(iters, &mut f).as_secs_f64() / iters as f64)
        .collect();
    samples.sort_by(f64::total_cmp);
    Duration::from_secs_f64(samples[samples.len() / 2])
}

fn time_batch(iters: u64, f: &mut impl FnMut() -> u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_gives_its_expected_result() {
        let fixtures = fixtures().unwrap();
        assert_eq!(fixtures.len(), 8);
        let mut rt = runtime();
        for f in &fixtures {
            let vm = prepare(f.name, &f.program).unwrap();
            let mut input = f.input.clone();
            assert_eq!(input.len(), 2048, "{}", f.name);
            let insns = check(f, &vm, &mut rt, &mut input).unwrap();
            assert!(insns >= 2, "{}: {insns}", f.name);
        }
    }

    #[test]
    fn asm_loops_run() {
        let mut rt = runtime();
        let want = [
            // Setup + iterations x loop body + exit (ld_imm64 is 2 slots).
            ("alu_loop", 2 + 10_000 * 4 + 1),
            ("load_loop", 3 + 256 * 4 + 1),
            ("byte_mul_loop", 6 + 2048 * 5 + 1),
            ("stack_loop", 2 + 10_000 * 5 + 1),
            ("call_loop", 2 + 10_000 * 8 + 2),
        ];
        for (l, (name, insns)) in asm_loops().unwrap().iter().zip(want) {
            assert_eq!(l.name, name);
            let vm = prepare(l.name, &l.program).unwrap();
            let mut input = l.input.clone();
            let (_, got) = run_once(l.name, &vm, &mut rt, &mut input).unwrap();
            assert_eq!(got, insns, "{name}");
        }
    }

    #[test]
    fn wrong_result_is_reported() {
        let mut f = fixtures().unwrap().swap_remove(1);
        f.expected ^= 1;
        let vm = prepare(f.name, &f.program).unwrap();
        let mut rt = runtime();
        let mut input = f.input.clone();
        assert!(matches!(
            check(&f, &vm, &mut rt, &mut input),
            Err(BenchError::WrongResult { name: "sum", .. })
        ));
    }

    #[test]
    fn measure_returns_a_median() {
        let mut n = 0u64;
        let d = measure(3, Duration::from_millis(1), || {
            n = n.wrapping_add(1);
            n
        });
        assert!(d < Duration::from_millis(1));
    }
}
