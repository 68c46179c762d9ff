//! Fuzz target `interp`: arbitrary bytes through `Program::from_bytes`,
//! `Interpreter::with_programs` and a run on a deterministic runtime.
//!
//! Input layout (see [`Case::split`]):
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | instruction budget: `1 << (b % 17)` slots (1 to 65536) |
//! | 1 | flags: [`ECHO_HELPER`], [`MAPS`], [`TWO_PROGRAMS`], [`TAIL_TRAP`], [`NO_STANDARD`] |
//! | 2 | length of the input memory, taken from the end (clamped) |
//! | 3 | `may_goto` budget and call-frame limit (`b`, `1 + b % 8`) |
//! | 4.. | program bytes, then the input memory |
//!
//! Checks, for every program the decoder and the interpreter accept:
//! * running never panics: the answer is `r0` or a `Trap`;
//! * a run is deterministic under `Config::deterministic()`: two fresh
//!   runtimes built the same way give the same outcome (or trap), leave the
//!   same input bytes and print the same trace;
//! * a successful run executed at most one straight-line stretch past the
//!   budget (the interpreter charges at control transfers).
//!
//! Rejected inputs only have to not panic.
#![no_main]

use ebpf_interp::{Interpreter, Outcome, Runtime, Trap};
use ebpf_isa::Program;
use ebpf_runtime::{Config, HelperContext, Helpers, MapDef, MapType, TailCallOverflow};
use libfuzzer_sys::fuzz_target;

/// Register the conformance suite's helper 5 (returns its first argument)
/// over the standard `bpf_ktime_get_ns`.
const ECHO_HELPER: u8 = 1 << 0;
/// Create one map of each kind the runtime has (fds 0..=7), so `ld_imm64`
/// map references and the map helpers have something to work on.
const MAPS: u8 = 1 << 1;
/// Run a set of two copies of the program, with a prog array (fd 8 when
/// [`MAPS`] is set, else 0) naming both, so tail calls can succeed.
const TWO_PROGRAMS: u8 = 1 << 2;
/// A tail call past the limit traps instead of falling through.
const TAIL_TRAP: u8 = 1 << 3;
/// Start from an empty helper registry instead of the standard helpers.
const NO_STANDARD: u8 = 1 << 4;

const HEADER: usize = 4;

/// The suite's helper 5.
fn echo(_: &mut HelperContext<'_>, args: [u64; 5]) -> Result<u64, Trap> {
    Ok(args[0])
}

struct Case<'a> {
    budget_log2: u8,
    flags: u8,
    limits: u8,
    code: &'a [u8],
    mem: &'a [u8],
}

impl<'a> Case<'a> {
    fn split(data: &'a [u8]) -> Option<Case<'a>> {
        let (header, body) = data.split_at_checked(HEADER)?;
        let &[budget, flags, mem_len, limits] = header else {
            return None;
        };
        let mem_len = usize::from(mem_len).min(body.len());
        let (code, mem) = body.split_at(body.len() - mem_len);
        Some(Case {
            budget_log2: budget % 17,
            flags,
            limits,
            code,
            mem,
        })
    }

    fn config(&self) -> Config {
        Config {
            insn_budget: 1 << self.budget_log2,
            may_goto_budget: u64::from(self.limits),
            max_call_frames: 1 + u32::from(self.limits % 8),
            tail_call_overflow: if self.flags & TAIL_TRAP != 0 {
                TailCallOverflow::Trap
            } else {
                TailCallOverflow::FallThrough
            },
            ..Config::deterministic()
        }
    }

    /// A fresh runtime: the same for every call with the same case.
    fn runtime(&self, programs: u32) -> Runtime {
        let mut rt = Runtime::with_config(self.config());
        if self.flags & NO_STANDARD != 0 {
            *rt.helpers_mut() = Helpers::new();
        }
        if self.flags & ECHO_HELPER != 0 {
            rt.register_helper(5, "echo", echo);
        }
        if self.flags & MAPS != 0 {
            let defs = [
                MapDef::new("array", MapType::ARRAY, 4, 8, 4),
                MapDef::new("hash", MapType::HASH, 4, 8, 4),
                MapDef::new("percpu_array", MapType::PERCPU_ARRAY, 4, 8, 2),
                MapDef::new("percpu_hash", MapType::PERCPU_HASH, 8, 4, 2),
                MapDef::new("lru_hash", MapType::LRU_HASH, 4, 4, 2),
                MapDef::new("queue", MapType::QUEUE, 0, 8, 4),
                MapDef::new("stack", MapType::STACK, 0, 4, 4),
                MapDef::new("ringbuf", MapType::RINGBUF, 0, 0, 4096),
            ];
            for def in defs {
                let name = def.name.clone();
                if let Err(err) = rt.maps_mut().create(def) {
                    panic!("creating map {name}: {err}");
                }
            }
        }
        if programs > 1 {
            let def = MapDef::new("progs", MapType::PROG_ARRAY, 4, 4, programs);
            let id = match rt.maps_mut().create(def) {
                Ok(id) => id,
                Err(err) => panic!("creating the prog array: {err}"),
            };
            for i in 0..programs {
                let res = rt
                    .maps_mut()
                    .update(id, &i.to_le_bytes(), &i.to_le_bytes(), 0);
                assert_eq!(res, Ok(()), "prog array slot {i}");
            }
        }
        rt
    }
}

/// Everything observable about one run.
#[derive(Debug, PartialEq)]
struct Observed {
    result: Result<Outcome, Trap>,
    input: Vec<u8>,
    trace: Vec<String>,
}

fn run_once(vm: &Interpreter, case: &Case<'_>) -> Observed {
    let mut rt = case.runtime(vm.program_count() as u32);
    let mut input = case.mem.to_vec();
    let result = vm.invoke(&mut rt, ebpf_interp::Invocation::new(&mut input));
    Observed {
        result,
        input,
        trace: rt.take_trace(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = Case::split(data) else {
        return;
    };
    let Ok(prog) = Program::from_bytes(case.code) else {
        return;
    };
    let programs = if case.flags & TWO_PROGRAMS != 0 {
        vec![prog.clone(), prog]
    } else {
        vec![prog]
    };
    let Ok(vm) = Interpreter::with_programs(&programs) else {
        return;
    };
    let first = run_once(&vm, &case);
    let second = run_once(&vm, &case);
    assert_eq!(first, second, "two runs of the same case differ");
    if let Ok(outcome) = &first.result {
        // At most one straight-line run (bounded by the set's size) past
        // the budget.
        let slots: u64 = programs.iter().map(|p| p.len() as u64).sum();
        let budget = 1u64 << case.budget_log2;
        assert!(
            outcome.insns <= budget + slots,
            "{} slots executed, budget {budget}",
            outcome.insns
        );
    }
});
