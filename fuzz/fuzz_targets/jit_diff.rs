//! Fuzz target `jit_diff`: arbitrary bytes as a program, run by the
//! interpreter and by the hardened JIT on identical fresh runtimes; both
//! must give the same answer.
//!
//! Input layout: byte 0 = instruction budget `1 << (b % 17)`; byte 1 =
//! flags ([`ECHO_HELPER`], [`MAPS`], [`TWO_PROGRAMS`]); byte 2 = length of
//! the input memory, taken from the end; the rest is the program.
//!
//! Checks, for every program the decoder accepts:
//! * both engines accept it or both refuse it, with the same message;
//! * the same `r0` (and the same input memory and trace afterwards), or
//!   the same trap kind, except where the budget is involved (the JIT
//!   charges it only at back edges, so one engine may stop on the budget
//!   where the other finishes or traps later) and for `bpf_loop`, which
//!   only the interpreter runs;
//! * neither panics, and nothing the program does reaches host memory
//!   outside its regions (the sanitizers watch the JIT's code too).
#![no_main]

use ebpf_interp::Interpreter;
use ebpf_isa::Program;
use ebpf_jit_x86::{Jit, JitConfig};
use ebpf_runtime::{Config, HelperContext, Invocation, MapDef, MapType, Outcome, Runtime, Trap};
use libfuzzer_sys::fuzz_target;

/// Register the conformance suite's helper 5 (returns its first argument).
const ECHO_HELPER: u8 = 1 << 0;
/// Create an array, a hash and a ring buffer map (fds 0, 1, 2).
const MAPS: u8 = 1 << 1;
/// Run a set of two copies with a prog array naming both.
const TWO_PROGRAMS: u8 = 1 << 2;

fn echo(_: &mut HelperContext<'_>, args: [u64; 5]) -> Result<u64, Trap> {
    Ok(args[0])
}

fn runtime(budget_log2: u8, flags: u8, programs: u32) -> Runtime {
    let config = Config {
        insn_budget: 1 << budget_log2,
        ..Config::deterministic()
    };
    let mut rt = Runtime::with_config(config);
    if flags & ECHO_HELPER != 0 {
        rt.register_helper(5, "echo", echo);
    }
    let mut defs = Vec::new();
    if flags & MAPS != 0 {
        defs.push(MapDef::new("array", MapType::ARRAY, 4, 8, 4));
        defs.push(MapDef::new("hash", MapType::HASH, 4, 8, 4));
        defs.push(MapDef::new("ringbuf", MapType::RINGBUF, 0, 0, 4096));
    }
    if programs > 1 {
        defs.push(MapDef::new("progs", MapType::PROG_ARRAY, 4, 4, programs));
    }
    for def in defs {
        let progs = def.map_type == MapType::PROG_ARRAY;
        let id = rt.maps_mut().create(def).expect("map");
        if progs {
            for i in 0..programs {
                let ok = rt
                    .maps_mut()
                    .update(id, &i.to_le_bytes(), &i.to_le_bytes(), 0);
                assert_eq!(ok, Ok(()));
            }
        }
    }
    rt
}

/// What one engine did.
#[derive(Debug)]
struct Seen {
    result: Result<Outcome, Trap>,
    input: Vec<u8>,
    trace: Vec<String>,
}

fn budget_trap(r: &Result<Outcome, Trap>) -> bool {
    matches!(r, Err(Trap::BudgetExhausted { .. }))
}

fuzz_target!(|data: &[u8]| {
    let [budget, flags, mem_len, body @ ..] = data else {
        return;
    };
    let budget_log2 = budget % 17;
    let mem_len = usize::from(*mem_len).min(body.len());
    let (code, mem) = body.split_at(body.len() - mem_len);
    let Ok(prog) = Program::from_bytes(code) else {
        return;
    };
    let programs = if flags & TWO_PROGRAMS != 0 {
        vec![prog.clone(), prog]
    } else {
        vec![prog]
    };
    let interp = Interpreter::with_programs(&programs);
    let jit = Jit::with_programs(&programs, JitConfig::hardened());
    let (interp, jit) = match (interp, jit) {
        (Ok(i), Ok(j)) => (i, j),
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string(), "different refusals");
            return;
        }
        (a, b) => panic!(
            "one engine refuses: interp {:?}, jit {:?}",
            a.err(),
            b.err()
        ),
    };
    let n = programs.len() as u32;
    let run = |f: &dyn Fn(&mut Runtime, Invocation<'_>) -> Result<Outcome, Trap>| {
        let mut rt = runtime(budget_log2, *flags, n);
        let mut input = mem.to_vec();
        let result = f(&mut rt, Invocation::new(&mut input));
        Seen {
            result,
            input,
            trace: rt.take_trace(),
        }
    };
    let a = run(&|rt, inv| interp.invoke(rt, inv));
    let b = run(&|rt, inv| jit.invoke(rt, inv));
    if budget_trap(&a.result) || budget_trap(&b.result) {
        return;
    }
    // `bpf_loop` runs in the interpreter only (the JIT refuses it).
    if matches!(b.result, Err(Trap::Unsupported { what, .. }) if what.starts_with("bpf_loop")) {
        return;
    }
    match (&a.result, &b.result) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x.r0, y.r0, "r0 differs");
            assert_eq!(a.input, b.input, "input memory differs");
            assert_eq!(a.trace, b.trace, "trace differs");
        }
        (Err(x), Err(y)) => assert_eq!(
            std::mem::discriminant(x),
            std::mem::discriminant(y),
            "different traps: interp {x}, jit {y}"
        ),
        (x, y) => panic!("interp {x:?}, jit {y:?}"),
    }
});
