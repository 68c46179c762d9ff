//! [`ebpf_interp::Vm`]: a prepared entry re-entered with new inputs gives
//! exactly what [`ebpf_interp::Interpreter::invoke`] gives, run after run.

mod common;

use common::{asm, rt};
use ebpf_interp::Interpreter;
use ebpf_runtime::{Config, Invocation, Runtime, Trap};

/// Programs covering the fast loop, the slow tier, calls, faults and the
/// budget; each runs on several inputs.
const PROGRAMS: [&str; 9] = [
    // Sum of the input bytes.
    "mov %r0, 0\nl:\njeq %r2, 0, e\nldxb %r3, [%r1]\nadd %r0, %r3\nadd %r1, 1\nsub %r2, 1\nja l\ne:\nexit",
    // Stack traffic.
    "stxdw [%r10-8], %r2\nldxdw %r0, [%r10-8]\nmul %r0, 3\nexit",
    // bpf-to-bpf calls (the fast tier's call frames are reused across runs).
    "mov %r6, %r2\nmov %r7, 0\nl:\njeq %r6, 0, e\nmov %r1, %r6\ncall local f\nadd %r7, %r0\n\
     sub %r6, 1\nja l\ne:\nmov %r0, %r7\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit",
    // A fault: reads past the input.
    "ldxdw %r0, [%r1+8]\nexit",
    // Registers other than r1, r2, r10 start at 0 on every run.
    "add %r3, 5\nadd %r4, %r3\nmov %r0, %r4\nadd %r0, %r9\nexit",
    // A helper (bpf_get_prandom_u32) through the slow tier.
    "call 7\nmov %r0, %r2\nexit",
    // An endless loop: the budget.
    "ja -1\nexit",
    // On a 3-byte input, unbounded recursion (a trap with frames pending);
    // otherwise one call. The next run must start with no frames.
    "mov %r6, %r2\njeq %r6, 3, d\ncall local f\nexit\nd:\ncall local g\nexit\n\
     f:\nmov %r0, %r6\nadd %r0, 1\nexit\ng:\ncall local g\nexit",
    // A legacy packet load past the input, two calls deep: the run ends
    // with r0 = 0 and frames pending; in range, it returns the byte.
    "call local f\nadd %r0, 1\nexit\nf:\ncall local g\nexit\ng:\nldabsb 2\nexit",
];

#[test]
fn vm_matches_invoke() {
    let inputs: [Vec<u8>; 4] = [vec![], vec![1, 2, 3], (0..16).collect(), vec![0xff; 9]];
    for text in PROGRAMS {
        let interp = match Interpreter::new(&asm(text)) {
            Ok(i) => i,
            Err(e) => panic!("{e}\n{text}"),
        };
        let mut want = Vec::new();
        let mut reference = rt();
        for input in &inputs {
            let mut buf = input.clone();
            want.push(interp.invoke(&mut reference, Invocation::new(&mut buf)));
        }
        let mut runtime = rt();
        let mut vm = interp.prepare(&mut runtime);
        // Twice over, so state left by one run cannot leak into the next.
        for round in 0..2 {
            for (input, want) in inputs.iter().zip(&want) {
                let mut buf = input.clone();
                let got = vm.run(&mut buf);
                assert_eq!(&got, want, "round {round}, input {input:?}\n{text}");
            }
        }
    }
}

#[test]
fn vm_reads_the_budget_once() {
    let interp = match Interpreter::new(&asm("ja -1\nexit")) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    let mut runtime = Runtime::with_config(Config {
        insn_budget: 100,
        ..Config::deterministic()
    });
    let mut vm = interp.prepare(&mut runtime);
    assert!(matches!(
        vm.run(&mut []),
        Err(Trap::BudgetExhausted { limit: 100, .. })
    ));
    assert_eq!(vm.runtime().config().insn_budget, 100);
}

#[test]
fn empty_program_set() {
    let interp = match Interpreter::with_programs(&[]) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    let mut runtime = rt();
    let mut want_rt = rt();
    let want = interp.invoke(&mut want_rt, Invocation::new(&mut []));
    assert!(want.is_err());
    assert_eq!(interp.prepare(&mut runtime).run(&mut []), want);
}

/// The entry prelude (leading register moves and an `exit`, run before the
/// fast loop) gives what `invoke` gives for every budget, including the ones
/// that run out at the `exit` or inside the moves.
#[test]
fn prelude_matches_invoke_at_every_budget() {
    const TEXTS: [&str; 6] = [
        "mov %r0, 0\nexit",
        "exit",
        "mov32 %r0, -1\nmov %r3, %r2\nmov %r0, %r3\nexit",
        // Moves, then an op the prelude leaves to the fast loop.
        "mov %r6, %r1\nmov %r0, 3\nldxb %r0, [%r6]\nexit",
        // A fault after the prelude: the trap names the load's slot.
        "mov %r6, %r1\nldxdw %r0, [%r6+64]\nexit",
        // Stale registers from an earlier run must not show.
        "mov %r0, %r7\nadd %r0, %r4\nmov %r7, 9\nmov %r4, 11\nexit",
    ];
    for text in TEXTS {
        let interp = match Interpreter::new(&asm(text)) {
            Ok(i) => i,
            Err(e) => panic!("{e}\n{text}"),
        };
        for budget in 0..6u64 {
            let config = Config {
                insn_budget: budget,
                ..Config::deterministic()
            };
            let mut reference = Runtime::with_config(config.clone());
            let mut runtime = Runtime::with_config(config);
            let mut vm = interp.prepare(&mut runtime);
            for input in [vec![], vec![5u8, 6, 7]] {
                let mut a = input.clone();
                let want = interp.invoke(&mut reference, Invocation::new(&mut a));
                for round in 0..2 {
                    let mut b = input.clone();
                    let got = vm.run(&mut b);
                    assert_eq!(got, want, "budget {budget}, round {round}\n{text}");
                }
            }
        }
    }
}
