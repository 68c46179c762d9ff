//! Calls, exits, tail calls, indirect jumps, `may_goto`, the budget, and the
//! static checks done at construction.

mod common;

use common::{asm, check, rt, run, vm};
use ebpf_interp::{InterpError, Interpreter, TargetKind};
use ebpf_isa::{Insn, Program};
use ebpf_runtime::{
    Config, HelperContext, Invocation, MapDef, MapType, Runtime, TailCallOverflow, Trap, layout,
};

#[test]
fn local_calls_preserve_callee_saved_and_isolate_frames() {
    let text = "
        mov %r6, 6
        mov %r7, 7
        mov %r8, 8
        mov %r9, 9
        stdw [%r10-8], 100
        mov %r1, 1
        call local f
        ldxdw %r1, [%r10-8]
        add %r0, %r1
        add %r0, %r6
        add %r0, %r7
        add %r0, %r8
        add %r0, %r9
        exit
    f:
        mov %r6, 60
        mov %r7, 70
        mov %r8, 80
        mov %r9, 90
        stdw [%r10-8], 555
        ldxdw %r0, [%r10-8]
        add %r0, %r1
        exit
    ";
    check(text, 556 + 100 + 6 + 7 + 8 + 9);
}

#[test]
fn frame_pointers_and_pointers_to_caller_stack() {
    // The callee's r10 is 512 below the caller's.
    check(
        "call local f\nexit\nf:\nmov %r0, %r10\nexit",
        layout::frame_pointer(1),
    );
    // A pointer into the caller's frame works in the callee.
    let text = "
        stdw [%r10-8], 0
        mov %r1, %r10
        add %r1, -8
        call local f
        ldxdw %r0, [%r10-8]
        exit
    f:
        stdw [%r1+0], 42
        exit
    ";
    check(text, 42);
}

#[test]
fn call_depth_is_limited_to_eight_frames() {
    // Seven nested calls are fine.
    let mut text = String::new();
    for i in 0..7 {
        text += &format!("call local f{i}\nexit\nf{i}:\n");
    }
    text += "mov %r0, %r10\nexit\n";
    check(&text, layout::frame_pointer(7));
    // Unbounded recursion stops at the eighth frame's call.
    assert_eq!(
        run("call local f\nexit\nf:\ncall local f\nexit"),
        Err(Trap::CallDepthExceeded { pc: 2, max: 8 })
    );
    // A lower limit from the configuration.
    let mut rt = Runtime::with_config(Config {
        max_call_frames: 2,
        ..Config::deterministic()
    });
    let t = vm("call local f\nexit\nf:\ncall local g\nexit\ng:\nexit")
        .run(&mut rt, &mut [])
        .unwrap_err();
    assert_eq!(t, Trap::CallDepthExceeded { pc: 2, max: 2 });
}

#[test]
fn budget_stops_infinite_loops_and_counts_exactly() {
    let limited = |budget: u64| {
        Runtime::with_config(Config {
            insn_budget: budget,
            ..Config::deterministic()
        })
    };
    let t = vm("ja -1\nexit")
        .run(&mut limited(1000), &mut [])
        .unwrap_err();
    assert_eq!(t, Trap::BudgetExhausted { pc: 0, limit: 1000 });
    let t = vm("mov %r0, 0\nl:\nadd %r0, 1\nja l\nexit")
        .run(&mut limited(100), &mut [])
        .unwrap_err();
    assert_eq!(t, Trap::BudgetExhausted { pc: 2, limit: 100 });
    // Exactly enough: 3 slots with a budget of 3 run, with 2 they trap at exit.
    let p = "mov %r0, 1\nmov %r1, 2\nexit";
    assert_eq!(vm(p).run(&mut limited(3), &mut []), Ok(1));
    assert_eq!(
        vm(p).run(&mut limited(2), &mut []),
        Err(Trap::BudgetExhausted { pc: 2, limit: 2 })
    );
    // The count: 2 + 10 * 3 + 1 slots, ld_imm64 counting two.
    let p = "lddw %r0, 0\nmov %r1, 10\nl:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, l\nexit";
    let out = vm(p).invoke(&mut rt(), Invocation::empty()).unwrap();
    assert_eq!((out.r0, out.insns), (10, 34));
    // Calls and returns are counted too.
    let p = "call local f\nexit\nf:\nmov %r0, 3\nexit";
    assert_eq!(
        vm(p).invoke(&mut rt(), Invocation::empty()).unwrap().insns,
        4
    );
}

fn echo(_: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    Ok(a[0])
}

#[test]
fn helper_calls_and_callx() {
    let mut rt = rt();
    rt.register_helper(5, "echo", echo);
    let v = vm("mov %r1, -1\ncall 5\nexit");
    assert_eq!(v.run(&mut rt, &mut []), Ok(u64::MAX));
    let v = vm("mov %r1, 77\nmov %r2, 5\ncall %r2\nexit");
    assert_eq!(v.run(&mut rt, &mut []), Ok(77));
    assert_eq!(
        vm("call 9999\nexit").run(&mut rt, &mut []),
        Err(Trap::UnknownHelper { pc: 0, id: 9999 })
    );
    assert_eq!(
        vm("call -3\nexit").run(&mut rt, &mut []),
        Err(Trap::UnknownHelper { pc: 0, id: -3 })
    );
    assert_eq!(
        vm("mov %r2, 4000\ncall %r2\nexit").run(&mut rt, &mut []),
        Err(Trap::UnknownHelper { pc: 1, id: 4000 })
    );
    assert_eq!(
        vm("lddw %r2, func +1\ncall %r2\nexit").run(&mut rt, &mut []),
        Err(Trap::CallxNotHelper {
            pc: 2,
            value: layout::CODE_BASE + 2
        })
    );
    // kfuncs are not supported.
    assert_eq!(
        vm("call runtime 7\nexit").run(&mut rt, &mut []),
        Err(Trap::Unsupported {
            pc: 0,
            what: "kfunc call"
        })
    );
}

struct Counter(u64);

fn bump(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let c = ctx.require_state::<Counter>()?;
    c.0 += a[0];
    Ok(c.0)
}

#[test]
fn custom_helper_with_embedder_state() {
    let mut rt = rt();
    rt.register_helper(0x1_0000, "bump", bump);
    let v = vm("mov %r1, 2\ncall 65536\nmov %r1, 3\ncall 65536\nexit");
    let mut counter = Counter(10);
    let out = v
        .invoke(&mut rt, Invocation::empty().state(&mut counter))
        .unwrap();
    assert_eq!((out.r0, counter.0), (15, 15));
    // Without state the helper reports an error.
    assert_eq!(
        v.run(&mut rt, &mut []),
        Err(Trap::HelperError {
            pc: 1,
            helper: 0x1_0000,
            message: "no embedder state of type control::Counter".into()
        })
    );
}

#[test]
fn gotox() {
    let good = "mov %r1, 4\ngotox %r1\nmov %r0, 1\nexit\nmov %r0, 2\nexit";
    check(good, 2);
    assert_eq!(
        run("mov %r1, 100\ngotox %r1\nexit"),
        Err(Trap::InvalidJumpTarget { pc: 1, target: 100 })
    );
    assert_eq!(
        run("mov %r1, -1\ngotox %r1\nexit"),
        Err(Trap::InvalidJumpTarget {
            pc: 1,
            target: u64::MAX
        })
    );
    // Slot 3 is the second half of the ld_imm64.
    assert_eq!(
        run("mov %r1, 3\ngotox %r1\nlddw %r0, 1\nexit"),
        Err(Trap::InvalidJumpTarget { pc: 1, target: 3 })
    );
}

#[test]
fn may_goto_budget() {
    let p = "mov %r0, 0\nl:\nmay_goto out\nadd %r0, 1\nja l\nout:\nexit";
    let mut rt = Runtime::with_config(Config {
        may_goto_budget: 10,
        ..Config::deterministic()
    });
    assert_eq!(vm(p).run(&mut rt, &mut []), Ok(10));
    // The default is the kernel's 8Mi, per run (three slots per iteration
    // is more than the default instruction budget allows).
    let mut rt = Runtime::with_config(Config {
        insn_budget: u64::MAX,
        ..Config::deterministic()
    });
    assert_eq!(vm(p).run(&mut rt, &mut []), Ok(8 * 1024 * 1024));
    let t = vm(p).run(&mut common::rt(), &mut []).unwrap_err();
    assert!(matches!(t, Trap::BudgetExhausted { .. }), "{t}");
}

/// prog 0 tail-calls prog-array slot 1; prog 1 returns r1 + 7.
#[test]
fn tail_calls() {
    let p0 = asm("mov %r6, %r1\nlddw %r2, map_idx 0\nmov %r3, 1\ncall 12\nmov %r0, 99\nexit");
    let p1 = asm("mov %r0, %r1\nadd %r0, 7\nexit");
    let vm = Interpreter::with_programs(&[p0, p1]).unwrap();
    assert_eq!(vm.program_count(), 2);
    let mut rt = rt();
    let pa = rt
        .maps_mut()
        .create(MapDef::new("progs", MapType::PROG_ARRAY, 4, 4, 4))
        .unwrap();
    // Empty slot: the call fails with -ENOENT and execution continues.
    let fails = Interpreter::with_programs(&[
        asm("lddw %r2, map_idx 0\nmov %r3, 1\ncall 12\nexit"),
        asm("exit"),
    ])
    .unwrap();
    assert_eq!(fails.run(&mut rt, &mut []), Ok((-2i64) as u64));
    assert_eq!(vm.run(&mut rt, &mut []), Ok(99));
    rt.maps_mut().prog_array_set(pa, 1, Some(1)).unwrap();
    let mut input = [0u8; 4];
    let out = vm.invoke(&mut rt, Invocation::new(&mut input)).unwrap();
    assert_eq!(out.r0, ebpf_runtime::INPUT_BASE + 7);
    // Slot past the end, and a program index the set does not have.
    rt.maps_mut().prog_array_set(pa, 2, Some(9)).unwrap();
    let far = Interpreter::with_programs(&[
        asm("lddw %r2, map_idx 0\nmov %r3, 2\ncall 12\nexit"),
        asm("exit"),
    ])
    .unwrap();
    assert_eq!(far.run(&mut rt, &mut []), Ok((-2i64) as u64));
    // The entry can be any program of the set.
    let out = vm
        .invoke(&mut rt, Invocation::empty().entry(1).args([5, 0, 0, 0, 0]))
        .unwrap();
    assert_eq!(out.r0, 12);
    assert!(matches!(
        vm.invoke(&mut rt, Invocation::empty().entry(2)),
        Err(Trap::NoSuchProgram {
            index: 2,
            count: 2,
            ..
        })
    ));
}

/// A program that counts its runs in array map 1 and tail-calls itself.
fn self_tail_caller() -> Program {
    asm("
        mov %r6, %r1
        stw [%r10-4], 0
        lddw %r1, map_idx 1
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, out
        ldxdw %r1, [%r0+0]
        add %r1, 1
        stxdw [%r0+0], %r1
        mov %r1, %r6
        lddw %r2, map_idx 0
        mov %r3, 0
        call 12
    out:
        exit
    ")
}

#[test]
fn tail_call_chain_limit() {
    let vm = Interpreter::new(&self_tail_caller()).unwrap();
    for overflow in [TailCallOverflow::FallThrough, TailCallOverflow::Trap] {
        let mut rt = Runtime::with_config(Config {
            tail_call_overflow: overflow,
            ..Config::deterministic()
        });
        let pa = rt
            .maps_mut()
            .create(MapDef::new("progs", MapType::PROG_ARRAY, 4, 4, 1))
            .unwrap();
        let count = rt
            .maps_mut()
            .create(MapDef::new("count", MapType::ARRAY, 4, 8, 1))
            .unwrap();
        rt.maps_mut().prog_array_set(pa, 0, Some(0)).unwrap();
        let r = vm.run(&mut rt, &mut []);
        let runs = rt
            .maps()
            .lookup(count, &0u32.to_le_bytes())
            .unwrap()
            .unwrap();
        // The first run plus 33 tail calls.
        assert_eq!(runs, 34u64.to_le_bytes());
        match overflow {
            TailCallOverflow::FallThrough => assert_eq!(r, Ok((-7i64) as u64)),
            TailCallOverflow::Trap => {
                assert_eq!(r, Err(Trap::TailCallLimit { pc: 15, limit: 33 }))
            }
        }
    }
}

#[test]
fn tail_call_from_a_subprogram_returns_to_its_caller() {
    let p0 = asm("
        call local f
        add %r0, 1000
        exit
    f:
        lddw %r2, map_idx 0
        mov %r3, 0
        call 12
        mov %r0, 5
        exit
    ");
    let p1 = asm("mov %r0, %r10\nexit");
    let vm = Interpreter::with_programs(&[p0, p1]).unwrap();
    let mut rt = rt();
    let pa = rt
        .maps_mut()
        .create(MapDef::new("progs", MapType::PROG_ARRAY, 4, 4, 1))
        .unwrap();
    rt.maps_mut().prog_array_set(pa, 0, Some(1)).unwrap();
    // p1 runs in f's frame and its exit returns to p0's `add`.
    assert_eq!(
        vm.run(&mut rt, &mut []),
        Ok(layout::frame_pointer(1) + 1000)
    );
}

#[test]
fn construction_errors() {
    let err = |text: &str| Interpreter::new(&asm(text)).unwrap_err();
    assert_eq!(
        err("ja +5\nexit"),
        InterpError::TargetOutOfRange {
            prog: 0,
            pc: 0,
            target: 6,
            kind: TargetKind::Jump,
            len: 2
        }
    );
    assert_eq!(
        err("jeq %r1, 0, -3\nexit"),
        InterpError::TargetOutOfRange {
            prog: 0,
            pc: 0,
            target: -2,
            kind: TargetKind::Jump,
            len: 2
        }
    );
    assert_eq!(
        err("ja +1\nlddw %r0, 1\nexit"),
        InterpError::TargetInLdImm64 {
            prog: 0,
            pc: 0,
            target: 2,
            kind: TargetKind::Jump
        }
    );
    assert_eq!(
        err("call local +7\nexit"),
        InterpError::TargetOutOfRange {
            prog: 0,
            pc: 0,
            target: 8,
            kind: TargetKind::Call,
            len: 2
        }
    );
    assert_eq!(
        err("lddw %r0, func +9\nexit"),
        InterpError::TargetOutOfRange {
            prog: 0,
            pc: 0,
            target: 10,
            kind: TargetKind::Func,
            len: 3
        }
    );
    assert_eq!(
        err("mov %r0, 0"),
        InterpError::FallsOffEnd { prog: 0, pc: 0 }
    );
    assert_eq!(
        err("exit\njeq %r0, 0, -2"),
        InterpError::FallsOffEnd { prog: 0, pc: 1 }
    );
    assert_eq!(
        err("mov %r10, 0\nexit"),
        InterpError::FramePointerWrite { prog: 0, pc: 0 }
    );
    assert_eq!(
        err("ldxdw %r10, [%r1+0]\nexit"),
        InterpError::FramePointerWrite { prog: 0, pc: 0 }
    );
    assert_eq!(
        err("lock fetch add [%r1+0], %r10\nexit"),
        InterpError::FramePointerWrite { prog: 0, pc: 0 }
    );
    assert_eq!(
        Interpreter::new(&Program::default()).unwrap_err(),
        InterpError::Empty { prog: 0 }
    );
    assert_eq!(
        Interpreter::with_programs(&[
            asm("exit"),
            Program::from_insns([Insn::Exit, Insn::Ja { off: 1 }])
        ])
        .unwrap_err(),
        InterpError::TargetOutOfRange {
            prog: 1,
            pc: 1,
            target: 3,
            kind: TargetKind::Jump,
            len: 2
        }
    );
    // A backward jump may end a program; storing through r10 is fine.
    assert!(Interpreter::new(&asm("l:\nja l")).is_ok());
    assert!(Interpreter::new(&asm("stxdw [%r10-8], %r1\nexit")).is_ok());
}

#[test]
fn reuse_across_runs_and_runtimes() {
    let v = vm("ldxdw %r0, [%r10-8]\nadd %r0, 1\nstxdw [%r10-8], %r0\nexit");
    let mut rt = rt();
    // The stack is not cleared between runs (it never holds host data).
    assert_eq!(v.run(&mut rt, &mut []), Ok(1));
    assert_eq!(v.run(&mut rt, &mut []), Ok(2));
    assert_eq!(v.run(&mut common::rt(), &mut []), Ok(1));
}

#[test]
fn add_then_conditional_jump_fused_or_not() {
    // `dst += a; if dst <cond> k|r2 goto l` is one superinstruction in the
    // fast loop; with a `ja +0` between the two it is not. Both agree.
    let conds = [
        "jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset",
    ];
    let steps = ["add %r1, 3", "sub %r1, 1", "add %r1, -7", "sub %r1, -2"];
    for cond in conds {
        for step in steps {
            for operand in ["0", "5", "-4", "%r2"] {
                for start in ["0", "9", "-9"] {
                    let body = |sep: &str| {
                        format!(
                            "mov %r0, 0\nmov %r1, {start}\nmov %r2, 6\nl:\nadd %r0, 1\n\
                             jgt %r0, 40, out\n{step}\n{sep}{cond} %r1, {operand}, l\n\
                             out:\nlsh %r0, 32\nxor %r0, %r1\nexit"
                        )
                    };
                    let fused = run(&body(""));
                    let plain = run(&body("ja +0\n"));
                    assert_eq!(fused, plain, "{cond} {step} {operand} {start}");
                }
            }
        }
    }
}

/// `bpf_loop(n, callback, ctx, 0)` in kernel syntax: the callback adds its
/// index to a stack counter through `ctx` and stops once the index reaches
/// `stop_at`.
fn bpf_loop_program(n: i64, stop_at: i64, flags: i64) -> Program {
    ebpf_isa::asm::assemble(&format!(
        "*(u64 *)(r10 -8) = 0
         r1 = {n} ll
         r2 = func pc+9
         r3 = r10
         r3 += -8
         r4 = {flags}
         call bpf_loop#181
         r1 = *(u64 *)(r10 -8)
         r0 <<= 32
         r0 |= r1
         exit
         r3 = *(u64 *)(r2 +0)
         r3 += r1
         *(u64 *)(r2 +0) = r3
         r0 = 0
         if r1 < {stop_at} goto +1
         r0 = 1
         exit"
    ))
    .expect("assembles")
}

#[test]
fn bpf_loop_calls_back_until_told_to_stop() {
    let run = |prog: &Program| {
        let vm = Interpreter::new(prog).expect("valid");
        vm.run(&mut rt(), &mut []).expect("runs")
    };
    // Five iterations: 0+1+2+3+4 = 10; r0 (high half) = 5.
    assert_eq!(run(&bpf_loop_program(5, 100, 0)), 5 << 32 | 10);
    // Stops at index 2 (returns 1): 0+1+2 = 3 after 3 iterations.
    assert_eq!(run(&bpf_loop_program(5, 2, 0)), 3 << 32 | 3);
    // No iteration.
    assert_eq!(run(&bpf_loop_program(0, 100, 0)), 0);
    // Flags must be 0: -EINVAL, no iteration.
    assert_eq!(
        run(&bpf_loop_program(5, 100, 1)) >> 32,
        (-22i64 as u64) & 0xffff_ffff
    );
    // More than BPF_MAX_LOOPS (8 Mi): -E2BIG.
    assert_eq!(
        run(&bpf_loop_program(1 << 24, 100, 0)) >> 32,
        (-7i64 as u64) & 0xffff_ffff
    );
}

#[test]
fn bpf_loop_checks_its_callback_and_budget() {
    // Not a function address.
    let prog = ebpf_isa::asm::assemble(
        "r1 = 1
         r2 = 12345
         r3 = 0
         r4 = 0
         call bpf_loop#181
         exit",
    )
    .expect("assembles");
    let vm = Interpreter::new(&prog).expect("valid");
    assert!(matches!(
        vm.run(&mut rt(), &mut []),
        Err(Trap::InvalidJumpTarget {
            pc: 4,
            target: 12345
        })
    ));
    // The callback's instructions count against the budget.
    let prog = bpf_loop_program(1000, 100_000, 0);
    let vm = Interpreter::new(&prog).expect("valid");
    let mut small = Runtime::with_config(Config {
        insn_budget: 500,
        ..Config::default()
    });
    assert!(matches!(
        vm.run(&mut small, &mut []),
        Err(Trap::BudgetExhausted { .. })
    ));
}
