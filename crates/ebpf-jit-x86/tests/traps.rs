//! Every trap kind, in the interpreter and the hardened JIT: same variant,
//! same pc, same address and region.

mod common;

use common::{Compare, check, check_rt, check_with};
use ebpf_isa::{CallTarget, Imm64, Insn, Program, Reg};
use ebpf_jit_x86::{Jit, JitConfig, JitError};
use ebpf_runtime::{Access, Config, Invocation, MapDef, MapType, Runtime, Trap, flags};

fn rt() -> Runtime {
    let mut rt = Runtime::with_config(Config::deterministic());
    rt.set_rodata(vec![1, 2, 3, 4]);
    rt.maps_mut()
        .create(MapDef::new("ro", MapType::ARRAY, 4, 4, 1).with_flags(flags::BPF_F_RDONLY_PROG))
        .unwrap();
    rt
}

#[test]
fn out_of_bounds_loads_and_stores() {
    let input = [0u8; 8];
    let cases = [
        ("r0 = *(u64 *)(r1 +1)\nexit", 0, Access::Read),
        ("r0 = 0\nr0 = *(u8 *)(r0 +0)\nexit", 1, Access::Read),
        ("*(u32 *)(r1 +6) = 1\nr0 = 0\nexit", 0, Access::Write),
        (
            "r2 = 5\n*(u64 *)(r1 -8) = r2\nr0 = 0\nexit",
            1,
            Access::Write,
        ),
        ("r0 = *(u64 *)(r10 +0)\nexit", 0, Access::Read),
        (
            "r1 = 0x700000000 ll\nr0 = *(u8 *)(r1 +0)\nexit",
            2,
            Access::Read,
        ),
        (
            "r1 = 0xffffffffffffffff ll\nr0 = *(u8 *)(r1 +0)\nexit",
            2,
            Access::Read,
        ),
        // Tag 9: one past the last map (the region table's size).
        (
            "r1 = 0x900000000 ll\nr0 = *(u8 *)(r1 +0)\nexit",
            2,
            Access::Read,
        ),
        (
            "r1 = 0x900000000 ll\n*(u8 *)(r1 +0) = 1\nr0 = 0\nexit",
            2,
            Access::Write,
        ),
        (
            "r0 = func l\nr0 = *(u8 *)(r0 +0)\nexit\nl: exit",
            2,
            Access::Read,
        ),
        ("lock *(u64 *)(r1 +4) += r1\nr0 = 0\nexit", 0, Access::Write),
        (
            "r0 = 1\nr0 = atomic_cmpxchg((u64 *)(r1 +4), r0, r1)\nexit",
            1,
            Access::Write,
        ),
    ];
    for (text, pc, access) in cases {
        match check_rt(text, &input, &rt) {
            Err(Trap::OutOfBounds {
                pc: p, access: a, ..
            }) => {
                assert_eq!((p, a), (pc, access), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn read_only_stores() {
    let cases = [
        ("r1 = 0x400000000 ll\n*(u8 *)(r1 +0) = 1\nr0 = 0\nexit", 2),
        ("r1 = map[idx:0]\n*(u32 *)(r1 +0) = 1\nr0 = 0\nexit", 2),
        (
            "r1 = map[idx:0]\nr2 = 1\nlock *(u32 *)(r1 +0) += w2\nr0 = 0\nexit",
            3,
        ),
        (
            "r1 = 0x400000000 ll\nr2 = 1\nr2 = atomic_xchg((u32 *)(r1 +0), w2)\nr0 = 0\nexit",
            3,
        ),
    ];
    for (text, pc) in cases {
        let r = check_rt(text, &[], &rt);
        assert!(
            matches!(r, Err(Trap::ReadOnly { pc: p, .. }) if p == pc),
            "{text}: {r:?}"
        );
    }
    // An atomic past the end of a read-only region is out of bounds (the
    // interpreter loads first).
    let r = check_rt(
        "r1 = 0x400000000 ll\nlock *(u64 *)(r1 +0) += r1\nr0 = 0\nexit",
        &[],
        &rt,
    );
    assert!(matches!(r, Err(Trap::OutOfBounds { pc: 2, .. })), "{r:?}");
}

#[test]
fn helper_traps() {
    assert_eq!(
        check("call 9999\nexit", &[]),
        Err(Trap::UnknownHelper { pc: 0, id: 9999 })
    );
    let neg = Program::from_insns([Insn::Call(CallTarget::Helper(-3)), Insn::Exit]);
    assert_eq!(
        check_with(&[neg], &[], &rt, Compare::Exact),
        Err(Trap::UnknownHelper { pc: 0, id: -3 })
    );
    assert_eq!(
        check("r2 = 0x100000000 ll\ncallx r2\nexit", &[]),
        Err(Trap::CallxNotHelper {
            pc: 2,
            value: 0x1_0000_0000
        })
    );
    assert_eq!(
        check("r2 = 77777\ncallx r2\nexit", &[]),
        Err(Trap::UnknownHelper { pc: 1, id: 77777 })
    );
    // A helper refusing its arguments (not a map) and a helper reading
    // outside memory.
    let r = check("r1 = 0\nr2 = 0\ncall bpf_map_lookup_elem\nexit", &[]);
    assert!(matches!(r, Err(Trap::HelperError { pc: 2, .. })), "{r:?}");
    let r = check_rt(
        "r1 = map[idx:0]\nr2 = 16\ncall bpf_map_lookup_elem\nexit",
        &[],
        &rt,
    );
    assert!(matches!(r, Err(Trap::OutOfBounds { pc: 3, .. })), "{r:?}");
}

#[test]
fn call_depth() {
    let text = "call f\nexit\nf: call f\nexit";
    assert_eq!(
        check(text, &[]),
        Err(Trap::CallDepthExceeded { pc: 2, max: 8 })
    );
    let mk = || {
        let mut c = Config::deterministic();
        c.max_call_frames = 3;
        Runtime::with_config(c)
    };
    assert_eq!(
        check_rt(text, &[], &mk),
        Err(Trap::CallDepthExceeded { pc: 2, max: 3 })
    );
}

#[test]
fn budget() {
    let mk = || {
        let mut c = Config::deterministic();
        c.insn_budget = 1000;
        Runtime::with_config(c)
    };
    for text in [
        "l: goto l",
        "r0 = 0\nl: r0 += 1\nif r0 != 0 goto l\nexit",
        "r1 = 0\ngotox r1",
    ] {
        let prog = ebpf_isa::asm::assemble(text).unwrap();
        let r = check_with(&[prog], &[], &mk, Compare::TrapKind);
        assert!(
            matches!(r, Err(Trap::BudgetExhausted { limit: 1000, .. })),
            "{text}: {r:?}"
        );
    }
    // Within budget: same result.
    assert_eq!(
        check_rt(
            "r0 = 0\nr1 = 10\nl: r0 += 1\nr1 -= 1\nif r1 != 0 goto l\nexit",
            &[],
            &mk
        ),
        Ok(10)
    );
}

#[test]
fn tail_call_limit_trap() {
    let mk = || {
        let mut c = Config::deterministic();
        c.tail_call_overflow = ebpf_runtime::TailCallOverflow::Trap;
        let mut rt = Runtime::with_config(c);
        let id = rt
            .maps_mut()
            .create(MapDef::new("progs", MapType::PROG_ARRAY, 4, 4, 1))
            .unwrap();
        rt.maps_mut().prog_array_set(id, 0, Some(0)).unwrap();
        rt
    };
    let p = ebpf_isa::asm::assemble("r2 = map[idx:0]\nr3 = 0\ncall bpf_tail_call\nexit").unwrap();
    assert_eq!(
        check_with(&[p], &[], &mk, Compare::Exact),
        Err(Trap::TailCallLimit { pc: 3, limit: 33 })
    );
}

#[test]
fn invalid_jump_targets_and_unsupported() {
    assert_eq!(
        check("r1 = 9\ngotox r1\nexit", &[]),
        Err(Trap::InvalidJumpTarget { pc: 1, target: 9 })
    );
    assert_eq!(
        check("r1 = 3\ngotox r1\nr0 = 1 ll\nexit", &[]),
        Err(Trap::InvalidJumpTarget { pc: 1, target: 3 })
    );
    let r = check("call kernel-function#123\nexit", &[]);
    assert!(
        matches!(
            r,
            Err(Trap::Unsupported {
                pc: 0,
                what: "kfunc call"
            })
        ),
        "{r:?}"
    );
    let r = check("r0 = btf_id[5]\nexit", &[]);
    assert!(matches!(r, Err(Trap::Unsupported { pc: 0, .. })), "{r:?}");
    let r = check("r1 = addr_space_cast(r2, 0, 1)\nr0 = 0\nexit", &[]);
    assert!(matches!(r, Err(Trap::Unsupported { pc: 0, .. })), "{r:?}");
}

#[test]
fn no_such_entry_program() {
    let p = ebpf_isa::asm::assemble("r0 = 1\nexit").unwrap();
    let jit = Jit::new(&p, JitConfig::hardened()).unwrap();
    let mut rt = Runtime::new();
    assert_eq!(
        jit.invoke(&mut rt, Invocation::empty().entry(3)),
        Err(Trap::NoSuchProgram {
            pc: 0,
            index: 3,
            count: 1
        })
    );
}

#[test]
fn compile_errors_match_the_interpreter() {
    let cases: Vec<(Vec<Insn>, &str)> = vec![
        (vec![], "program 0: no instructions"),
        (
            vec![Insn::Ja { off: 5 }, Insn::Exit],
            "program 0, insn 0: jump target 6 is out of range (program has 2 slots)",
        ),
        (
            vec![
                Insn::Alu {
                    op: ebpf_isa::AluOp::Mov,
                    width: ebpf_isa::Width::W64,
                    dst: Reg::R10,
                    src: ebpf_isa::Operand::Imm(0),
                },
                Insn::Exit,
            ],
            "program 0, insn 0: frame pointer r10 is read only",
        ),
        (
            vec![Insn::Alu {
                op: ebpf_isa::AluOp::Mov,
                width: ebpf_isa::Width::W64,
                dst: Reg::R0,
                src: ebpf_isa::Operand::Imm(0),
            }],
            "program 0, insn 0: execution can fall off the end of the program",
        ),
        (
            vec![
                Insn::LdImm64 {
                    dst: Reg::R1,
                    imm: Imm64::MapFd(-1),
                },
                Insn::Exit,
            ],
            "program 0, insn 0: invalid map reference -1",
        ),
        (
            vec![Insn::Call(CallTarget::Local(-2)), Insn::Exit],
            "program 0, insn 0: call target -1 is out of range (program has 2 slots)",
        ),
    ];
    for (insns, msg) in cases {
        let p = Program::from_insns(insns);
        let jit_err = Jit::new(&p, JitConfig::hardened()).unwrap_err();
        let interp_err = ebpf_interp::Interpreter::new(&p).unwrap_err();
        assert_eq!(jit_err.to_string(), msg);
        assert_eq!(interp_err.to_string(), msg);
    }
    let p = Program::from_insns([
        Insn::Ja { off: 0 },
        Insn::LdImm64 {
            dst: Reg::R0,
            imm: Imm64::Imm(1),
        },
        Insn::Exit,
    ]);
    let p2 = Program::from_insns([
        Insn::Jump {
            cond: ebpf_isa::JmpCond::Eq,
            width: ebpf_isa::Width::W64,
            dst: Reg::R0,
            src: ebpf_isa::Operand::Imm(0),
            off: 1,
        },
        Insn::LdImm64 {
            dst: Reg::R0,
            imm: Imm64::Imm(1),
        },
        Insn::Exit,
    ]);
    assert!(Jit::new(&p, JitConfig::hardened()).is_ok());
    assert_eq!(
        Jit::new(&p2, JitConfig::hardened()).unwrap_err(),
        JitError::TargetInLdImm64 {
            prog: 0,
            pc: 0,
            target: 2,
            kind: ebpf_jit_x86::TargetKind::Jump
        }
    );
}

#[test]
fn trusted_code_is_refused_by_the_safe_api() {
    let p = ebpf_isa::asm::assemble("r0 = 1\nexit").unwrap();
    let jit = Jit::new(&p, JitConfig::trusted()).unwrap();
    let mut rt = Runtime::new();
    assert!(matches!(
        jit.run(&mut rt, &mut []),
        Err(Trap::Unsupported { .. })
    ));
}

#[test]
fn bpf_loop_is_refused_with_a_typed_trap() {
    // The interpreter runs bpf_loop itself; JIT code says it cannot.
    let prog = ebpf_isa::asm::assemble(
        "r1 = 3
         r2 = func pc+4
         r3 = 0
         r4 = 0
         call bpf_loop#181
         exit
         r0 = 0
         exit",
    )
    .expect("assembles");
    let jit = ebpf_jit_x86::Jit::new(&prog, ebpf_jit_x86::JitConfig::hardened()).expect("compiles");
    let mut rt = ebpf_runtime::Runtime::new();
    match jit.run(&mut rt, &mut []) {
        Err(ebpf_runtime::Trap::Unsupported { pc: 5, what }) => {
            assert!(what.starts_with("bpf_loop"), "{what}");
        }
        other => panic!("{other:?}"),
    }
    let interp = ebpf_interp::Interpreter::new(&prog).expect("valid");
    assert_eq!(interp.run(&mut rt, &mut []), Ok(3));
}

#[test]
fn prepared_runs_trap_like_the_interpreter() {
    // A `JitVm` runs a set without helper calls without a session once its
    // tables are built (the first run): every later run must still check
    // each access and give the interpreter's trap, with pc, and the budget.
    let cases = [
        "r0 = *(u8 *)(r1 +0)\nr0 = *(u32 *)(r1 +4)\nexit",
        "r2 = *(u8 *)(r1 +0)\n*(u64 *)(r1 +2) = r2\nr0 = 0\nexit",
        "r1 = 0x700000000 ll\nr0 = *(u8 *)(r1 +0)\nexit",
        "r0 = 0\nl: r0 += 1\nif r0 != 0 goto l\nexit",
        "r6 = 3\nl: call f\nr6 -= 1\nif r6 != 0 goto l\nr0 = *(u64 *)(r1 +0)\nexit\nf: r0 = 1\nexit",
    ];
    for text in cases {
        let prog = ebpf_isa::asm::assemble(text).unwrap();
        let interp = ebpf_interp::Interpreter::new(&prog).unwrap();
        let jit = Jit::new(&prog, JitConfig::hardened()).unwrap();
        let mut config = Config::deterministic();
        config.insn_budget = 1000;
        let mut rt_i = Runtime::with_config(config.clone());
        let mut rt_j = Runtime::with_config(config);
        let mut vm = jit.prepare(&mut rt_j);
        for input in [&[7u8; 8][..], &[1u8, 2, 3], &[], &[9u8; 16]] {
            let want = interp.run(&mut rt_i, &mut input.to_vec());
            let got = vm.run(&mut input.to_vec()).map(|o| o.r0);
            match (&want, &got) {
                // The budget is charged at back edges only: same variant.
                (Err(Trap::BudgetExhausted { .. }), Err(Trap::BudgetExhausted { .. })) => {}
                _ => assert_eq!(got, want, "{text} on {input:?}"),
            }
        }
    }
}
