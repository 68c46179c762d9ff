//! The kernel's structural checks: every rejection with the kernel's exact
//! message, and the order in which the kernel reports them.

use ebpf_cfg::{BackEdge, Cfg, CfgConfig, CfgError, MAX_SUBPROGS};
use ebpf_isa::asm::assemble;
use ebpf_isa::{CallTarget, Insn, Program};

fn prog(src: &str) -> Program {
    assemble(src).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

fn build(src: &str) -> Result<Cfg, CfgError> {
    Cfg::build(&prog(src))
}

fn build_with(src: &str, config: &CfgConfig) -> Result<Cfg, CfgError> {
    Cfg::build_with(&prog(src), config)
}

/// The error and its message.
fn reject(src: &str) -> (CfgError, String) {
    reject_with(src, &CfgConfig::default())
}

fn reject_with(src: &str, config: &CfgConfig) -> (CfgError, String) {
    match build_with(src, config) {
        Ok(cfg) => panic!("accepted:\n{cfg}"),
        Err(e) => {
            let msg = e.to_string();
            (e, msg)
        }
    }
}

// ---- bpf_prog_load ---------------------------------------------------------

#[test]
fn empty_program() {
    let e = Cfg::build(&Program::default()).unwrap_err();
    assert_eq!(e, CfgError::Empty);
}

#[test]
fn too_large_program() {
    let mut insns = vec![Insn::Exit; ebpf_cfg::MAX_INSNS];
    // At the limit: fine structurally except for unreachable code.
    let p = Program::from_insns(insns.iter().copied());
    assert_eq!(
        Cfg::build(&p).unwrap_err(),
        CfgError::UnreachableInsn { insn: 1 }
    );
    insns.push(Insn::Exit);
    let p = Program::from_insns(insns);
    assert_eq!(
        Cfg::build(&p).unwrap_err(),
        CfgError::TooLarge {
            len: 1_000_001,
            limit: 1_000_000
        }
    );
}

#[test]
fn unprivileged_size_limit_is_bpf_maxinsns() {
    let unpriv = ebpf_cfg::CfgConfig::unprivileged();
    let mut insns = vec![Insn::Ja { off: 0 }; 4095];
    insns.push(Insn::Exit);
    assert!(Cfg::build_with(&Program::from_insns(insns.iter().copied()), &unpriv).is_ok());
    insns.insert(0, Insn::Ja { off: 0 });
    let p = Program::from_insns(insns);
    assert_eq!(
        Cfg::build_with(&p, &unpriv).unwrap_err(),
        CfgError::TooLarge {
            len: 4097,
            limit: 4096
        }
    );
    // A privileged loader takes it.
    assert!(Cfg::build(&p).is_ok());
}

// ---- add_subprog_and_kfunc -------------------------------------------------

#[test]
fn call_to_invalid_destination() {
    let (e, msg) = reject("call pc+5\nexit");
    assert_eq!(e, CfgError::CallToInvalidDestination { insn: 0, target: 6 });
    assert_eq!(msg, "call to invalid destination");
    // Backwards past the start.
    let (e, _) = reject("r0 = 0\ncall pc-3\nexit");
    assert_eq!(
        e,
        CfgError::CallToInvalidDestination {
            insn: 1,
            target: -1
        }
    );
    // Exactly one past the end.
    let (e, _) = reject("call pc+1\nexit");
    assert_eq!(e, CfgError::CallToInvalidDestination { insn: 0, target: 2 });
    // A function reference counts as a call (`bpf_pseudo_func`).
    let (e, msg) = reject("r0 = 0\nr1 = func pc+10\nexit");
    assert_eq!(
        e,
        CfgError::CallToInvalidDestination {
            insn: 1,
            target: 12
        }
    );
    assert_eq!(msg, "call to invalid destination");
}

#[test]
fn call_target_wraps_like_c_int() {
    let p = Program::from_insns([
        Insn::Alu {
            op: ebpf_isa::AluOp::Mov,
            width: ebpf_isa::Width::W64,
            dst: ebpf_isa::Reg::R0,
            src: ebpf_isa::Operand::Imm(0),
        },
        Insn::Call(CallTarget::Local(i32::MAX)),
        Insn::Exit,
    ]);
    assert_eq!(
        Cfg::build(&p).unwrap_err(),
        CfgError::CallToInvalidDestination {
            insn: 1,
            target: i32::MIN + 1
        }
    );
}

/// `n` calls to `n` distinct one-instruction subprograms.
fn many_subprogs(n: usize) -> Program {
    let mut insns = Vec::new();
    for i in 0..n {
        // call at slot i to slot n + 1 + i (after the main `exit`).
        insns.push(Insn::Call(CallTarget::Local(i32::try_from(n).unwrap())));
        let _ = i;
    }
    insns.push(Insn::Exit);
    insns.extend(std::iter::repeat_n(Insn::Exit, n));
    Program::from_insns(insns)
}

#[test]
fn too_many_subprograms() {
    // 255 calls + main = 256 subprograms: the limit.
    let cfg = Cfg::build(&many_subprogs(MAX_SUBPROGS - 1)).unwrap();
    assert_eq!(cfg.subprogs().len(), MAX_SUBPROGS);
    let (e, msg) = match Cfg::build(&many_subprogs(MAX_SUBPROGS)) {
        Err(e) => (e.clone(), e.to_string()),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        e,
        CfgError::TooManySubprograms {
            insn: 255,
            limit: 256
        }
    );
    assert_eq!(msg, "too many subprograms");
}

#[test]
fn repeated_call_targets_are_one_subprogram() {
    let cfg = build(
        "
        call f
        call f
        r1 = func f
        exit
    f:
        r0 = 0
        exit
    ",
    )
    .unwrap();
    assert_eq!(cfg.subprogs().len(), 2);
    assert_eq!(cfg.subprogs()[1].start, 5);
}

#[test]
fn calls_need_cap_bpf() {
    let unpriv = CfgConfig::unprivileged();
    let msg =
        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN";
    for (src, insn) in [
        ("r0 = 0\ncall f\nexit\nf:\nexit", 1),
        ("r1 = func f\nexit\nf:\nexit", 0),
        ("r0 = 0\nr0 = 0\ncall kernel-function#1234\nexit", 2),
    ] {
        let (e, m) = reject_with(src, &unpriv);
        assert_eq!(e, CfgError::CallsNotAllowed { insn }, "{src}");
        assert_eq!(m, msg);
    }
    // Before the target check: the kernel tests CAP_BPF first.
    let (e, _) = reject_with("call pc+100\nexit", &unpriv);
    assert_eq!(e, CfgError::CallsNotAllowed { insn: 0 });
    // Helper calls are fine; kfuncs are fine when privileged.
    build_with("call bpf_ktime_get_ns\nexit", &unpriv).unwrap();
    build("call kernel-function#1234\nexit").unwrap();
}

// ---- check_subprogs --------------------------------------------------------

#[test]
fn jump_out_of_range() {
    let (e, msg) = reject("goto pc+5\nexit");
    assert_eq!(e, CfgError::JumpOutOfRange { from: 0, to: 6 });
    assert_eq!(msg, "jump out of range from insn 0 to 6");
    let (_, msg) = reject("r0 = 0\nif r0 > 1 goto pc-3\nexit");
    assert_eq!(msg, "jump out of range from insn 1 to -1");
    let (_, msg) = reject("r0 = 0\nmay_goto pc+1\nexit");
    assert_eq!(msg, "jump out of range from insn 1 to 3");
    let (_, msg) = reject("r0 = 0\ngotol pc+70000\nexit");
    assert_eq!(msg, "jump out of range from insn 1 to 70002");
}

#[test]
fn jump_target_wraps_like_c_int() {
    let p = Program::from_insns([Insn::Exit, Insn::Gotol { imm: i32::MAX }, Insn::Exit]);
    assert_eq!(
        Cfg::build(&p).unwrap_err().to_string(),
        "jump out of range from insn 1 to -2147483647"
    );
}

#[test]
fn jump_across_subprograms() {
    // From the main program into a subprogram...
    let (e, msg) = reject(
        "
        call f
        if r0 > 0 goto g
        exit
    f:
        r0 = 1
    g:
        exit
    ",
    );
    assert_eq!(e, CfgError::JumpOutOfRange { from: 1, to: 4 });
    assert_eq!(msg, "jump out of range from insn 1 to 4");
    // ...and back from a subprogram into the main program.
    let (_, msg) = reject(
        "
    top:
        call f
        exit
    f:
        r0 = 1
        goto top
    ",
    );
    assert_eq!(msg, "jump out of range from insn 3 to 0");
}

#[test]
fn last_insn_is_not_an_exit_or_jmp() {
    let (e, msg) = reject("r0 = 0");
    assert_eq!(
        e,
        CfgError::LastInsnNotExitOrJmp {
            insn: 0,
            subprog: 0
        }
    );
    assert_eq!(msg, "last insn is not an exit or jmp");
    // The main program falls into its callee.
    let (e, _) = reject("r0 = 0\ncall f\nf:\nr0 = 0\nexit");
    assert_eq!(
        e,
        CfgError::LastInsnNotExitOrJmp {
            insn: 1,
            subprog: 0
        }
    );
    // A conditional jump is not enough.
    let (e, _) = reject("r0 = 0\nif r0 > 0 goto pc-2");
    assert_eq!(
        e,
        CfgError::LastInsnNotExitOrJmp {
            insn: 1,
            subprog: 0
        }
    );
    // Nor is may_goto.
    let (e, _) = reject("r0 = 0\nmay_goto pc-2");
    assert_eq!(
        e,
        CfgError::LastInsnNotExitOrJmp {
            insn: 1,
            subprog: 0
        }
    );
    // The second slot of a final ld_imm64 is the last instruction.
    let (e, _) = reject("r0 = 0\nr1 = 0x100000000");
    assert_eq!(
        e,
        CfgError::LastInsnNotExitOrJmp {
            insn: 2,
            subprog: 0
        }
    );
    // The last subprogram too.
    let (e, _) = reject("call f\nexit\nf:\nr0 = 0");
    assert_eq!(
        e,
        CfgError::LastInsnNotExitOrJmp {
            insn: 2,
            subprog: 1
        }
    );
    // goto and gotol are fine, even as infinite loops.
    build("r0 = 0\ngoto pc-1").unwrap();
    build("r0 = 0\ngotol pc-2").unwrap();
}

#[test]
fn gotox_at_the_end_jumps_out_of_range() {
    // check_subprogs takes gotox's (zero) offset: its "target" is the next
    // slot, out of the subprogram when gotox is last.
    let (e, msg) = reject("r1 = 0\ngotox r1");
    assert_eq!(e, CfgError::JumpOutOfRange { from: 1, to: 2 });
    assert_eq!(msg, "jump out of range from insn 1 to 2");
}

// ---- check_cfg -------------------------------------------------------------

#[test]
fn unreachable_insn() {
    let (e, msg) = reject("exit\nr0 = 0\nexit");
    assert_eq!(e, CfgError::UnreachableInsn { insn: 1 });
    assert_eq!(msg, "unreachable insn 1");
    // A subprogram only called from dead code is dead too: the first dead
    // slot is reported.
    let (_, msg) = reject("r0 = 0\nexit\ncall f\nexit\nf:\nr0 = 1\nexit");
    assert_eq!(msg, "unreachable insn 2");
    // The CFG does not evaluate conditions: both sides of a conditional
    // jump are reachable, even when the condition is constant.
    build("r0 = 0\nif r0 == 0 goto pc+1\nr0 = 1\nexit").unwrap();
}

#[test]
fn jump_into_the_middle_of_ldimm64() {
    let (e, msg) = reject(
        "
        if r1 == 0 goto pc+1
        r0 = 0x100000000
        exit
    ",
    );
    assert_eq!(e, CfgError::JumpIntoLdImm64 { insn: 1 });
    assert_eq!(msg, "jump into the middle of ldimm64 insn 1");
    // The kernel's selftest "test1 ld_imm64" shape: a jump into the first
    // of several ld_imm64.
    let (_, msg) = reject(
        "
        if r1 == 0 goto pc+1
        r0 = 0 ll
        r0 = 0 ll
        r0 = 1 ll
        r0 = 1 ll
        r0 = 2
        exit
    ",
    );
    assert_eq!(msg, "jump into the middle of ldimm64 insn 1");
}

#[test]
fn back_edges_are_data_when_privileged() {
    let src = "
        r0 = 0
    l:
        r0 += 1
        if r0 < 10 goto l
        exit
    ";
    let cfg = build(src).unwrap();
    assert_eq!(cfg.back_edges(), &[BackEdge { from: 2, to: 1 }]);
    assert_eq!(
        cfg.back_edges()[0].to_string(),
        "back-edge from insn 2 to 1"
    );
    let (e, msg) = reject_with(src, &CfgConfig::unprivileged());
    assert_eq!(e, CfgError::BackEdge { from: 2, to: 1 });
    assert_eq!(msg, "back-edge from insn 2 to 1");
}

#[test]
fn back_edges_in_kernel_dfs_order() {
    // The kernel's DFS explores the fall-through side first, so the loop
    // at 2..3 is found before the loop at 5..6.
    let src = "
        r0 = 0
        if r1 > 0 goto b
    a:
        r0 += 1
        if r0 < 10 goto a
        exit
    b:
        r0 += 2
        if r0 < 10 goto b
        exit
    ";
    let cfg = build(src).unwrap();
    assert_eq!(
        cfg.back_edges(),
        &[BackEdge { from: 3, to: 2 }, BackEdge { from: 6, to: 5 }]
    );
    let (_, msg) = reject_with(src, &CfgConfig::unprivileged());
    assert_eq!(msg, "back-edge from insn 3 to 2");
}

#[test]
fn self_loops_are_back_edges() {
    let cfg = build("r0 = 0\ngoto pc-1").unwrap();
    assert_eq!(cfg.back_edges(), &[BackEdge { from: 1, to: 1 }]);
    let cfg = build("r0 = 0\nif r1 > 0 goto pc-1\nexit").unwrap();
    assert_eq!(cfg.back_edges(), &[BackEdge { from: 1, to: 1 }]);
    let (_, msg) = reject_with("goto pc-1", &CfgConfig::unprivileged());
    assert_eq!(msg, "back-edge from insn 0 to 0");
}

#[test]
fn recursion_is_a_back_edge_of_the_kernel_dfs() {
    let cfg = build(
        "
        call f
        exit
    f:
        if r1 > 0 goto out
        call f
    out:
        exit
    ",
    )
    .unwrap();
    assert_eq!(cfg.back_edges(), &[BackEdge { from: 3, to: 2 }]);
    // ...but not a loop: calls are not intra-procedural edges.
    assert!(cfg.loops().is_empty());
}

#[test]
fn no_jump_tables_for_gotox() {
    let src = "
        r1 = 0
        gotox r1
        exit
    ";
    let cfg = build_with(src, &CfgConfig::default().with_jump_tables(vec![])).err();
    let e = cfg.unwrap();
    assert_eq!(
        e,
        CfgError::NoJumpTables {
            insn: 1,
            subprog_start: 0
        }
    );
    assert_eq!(
        e.to_string(),
        "no jump tables found for subprog starting at 0"
    );
    // A table of another subprogram does not count.
    let src = "
        call f
        r1 = 0
        gotox r1
        exit
    f:
        r0 = 0
        exit
    ";
    let config = CfgConfig::default().with_jump_tables(vec![vec![4, 5]]);
    let (_, msg) = reject_with(src, &config);
    assert_eq!(msg, "no jump tables found for subprog starting at 0");
}

#[test]
fn jump_table_outside_the_subprog() {
    let src = "
        call f
        r1 = 0
        gotox r1
        exit
    f:
        r0 = 0
        exit
    ";
    // Starts in the main program (its smallest entry, 3), ends in `f`.
    let config = CfgConfig::default().with_jump_tables(vec![vec![5, 3]]);
    let (e, msg) = reject_with(src, &config);
    assert_eq!(
        e,
        CfgError::JumpTableOutsideSubprog {
            insn: 2,
            subprog_start: 0,
            subprog_end: 4
        }
    );
    assert_eq!(
        msg,
        "jump table for insn 2 points outside of the subprog [0,4]"
    );
}

#[test]
fn gotox_with_jump_tables() {
    let src = "
        r1 = 0
        gotox r1
    a:
        r0 = 1
        exit
    b:
        r0 = 2
        exit
    ";
    // Unsorted, repeated entries, and an empty table, are fine.
    let config = CfgConfig::default().with_jump_tables(vec![vec![4, 2, 4], vec![]]);
    let cfg = build_with(src, &config).unwrap();
    let b = cfg.block_of(1).unwrap();
    let targets: Vec<usize> = cfg.succs(b).iter().map(|e| cfg.block(e.to).start).collect();
    assert_eq!(targets, [2, 4]);
    assert!(cfg.blocks().iter().all(|b| cfg.is_reachable(b.id)));
    assert!(cfg.marks(1).is_prune_point());
    assert!(cfg.marks(2).is_jmp_point() && !cfg.marks(2).is_prune_point());
    assert!(cfg.marks(4).is_jmp_point());
    // Slot 2 is only a target of... nothing: unreachable, as in the kernel.
    let src2 = "r1 = 0\ngotox r1\nexit\nr0 = 1\nexit";
    let config = CfgConfig::default().with_jump_tables(vec![vec![3]]);
    let (_, msg) = reject_with(src2, &config);
    assert_eq!(msg, "unreachable insn 2");
}

#[test]
fn gotox_without_jump_tables_invents_no_edge() {
    let src = "
        r1 = 0
        gotox r1
        exit
        r0 = 1
        exit
    ";
    let cfg = build(src).unwrap();
    assert_eq!(cfg.indirect_jumps(), &[1]);
    assert!(!cfg.jump_tables_known());
    let b = cfg.block_of(1).unwrap();
    assert!(cfg.succs(b).is_empty());
    for slot in 2..5 {
        let b = cfg.block_of(slot).unwrap();
        assert!(!cfg.is_reachable(b), "slot {slot}");
        assert_eq!(cfg.idom(b), None);
    }
    assert!(cfg.marks(1).is_prune_point());
    // Dead code elsewhere is still dead.
    let (_, msg) = reject(
        "
        call f
        exit
        r0 = 0
        exit
    f:
        r1 = 0
        gotox r1
        exit
    ",
    );
    assert_eq!(msg, "unreachable insn 2");
    // Whatever a gotox may reach is checked like the rest: here a jump into
    // an ld_imm64.
    let (_, msg) = reject(
        "
        r1 = 0
        gotox r1
        if r1 > 0 goto pc+1
        r0 = 0 ll
        exit
    ",
    );
    assert_eq!(msg, "jump into the middle of ldimm64 insn 3");
}

// ---- order -----------------------------------------------------------------

#[test]
fn subprogram_errors_come_before_jump_errors() {
    // add_subprog_and_kfunc runs before check_subprogs.
    let (e, _) = reject("goto pc+10\ncall pc+10\nexit");
    assert_eq!(
        e,
        CfgError::CallToInvalidDestination {
            insn: 1,
            target: 12
        }
    );
    // Within add_subprog_and_kfunc, slot order.
    let mut insns = Vec::new();
    for _ in 0..MAX_SUBPROGS {
        insns.push(Insn::Call(CallTarget::Local(300)));
    }
    insns.push(Insn::Call(CallTarget::Local(-1000)));
    insns.push(Insn::Exit);
    insns.extend(std::iter::repeat_n(Insn::Exit, 300));
    let e = Cfg::build(&Program::from_insns(insns)).unwrap_err();
    assert_eq!(
        e,
        CfgError::TooManySubprograms {
            insn: 255,
            limit: 256
        }
    );
}

#[test]
fn check_subprogs_reports_in_slot_order() {
    // The main program's bad end (slot 0) before f's bad jump (slot 1).
    let (e, _) = reject("call f\nf:\ngoto pc+100\nexit");
    assert_eq!(
        e,
        CfgError::LastInsnNotExitOrJmp {
            insn: 0,
            subprog: 0
        }
    );
    // A bad jump (slot 1) before the bad end (slot 2).
    let (e, _) = reject("r0 = 0\ngoto pc+100\nr0 = 1");
    assert_eq!(e, CfgError::JumpOutOfRange { from: 1, to: 102 });
}

#[test]
fn check_subprogs_before_check_cfg() {
    // Slot 1 is unreachable, but the jump out of range at 2 is reported.
    let (e, _) = reject("exit\nr0 = 0\ngoto pc+5\nexit");
    assert_eq!(e, CfgError::JumpOutOfRange { from: 2, to: 8 });
}

#[test]
fn check_cfg_final_checks_in_slot_order() {
    // Unreachable slot 1 before the ld_imm64 at 3.
    let (e, _) = reject(
        "
        goto l
        r0 = 0
    l:
        if r1 == 0 goto pc+1
        r0 = 0 ll
        exit
    ",
    );
    assert_eq!(e, CfgError::UnreachableInsn { insn: 1 });
    // ld_imm64 at 1 before the unreachable slot 5.
    let (e, _) = reject(
        "
        if r1 == 0 goto pc+1
        r0 = 0 ll
        exit
        exit
    ",
    );
    assert_eq!(e, CfgError::JumpIntoLdImm64 { insn: 1 });
}

#[test]
fn back_edge_before_unreachable_when_unprivileged() {
    let src = "
    l:
        r0 += 1
        if r0 < 10 goto l
        exit
        r0 = 1
        exit
    ";
    let (e, _) = reject_with(src, &CfgConfig::unprivileged());
    assert_eq!(e, CfgError::BackEdge { from: 1, to: 0 });
    let (e, _) = reject(src);
    assert_eq!(e, CfgError::UnreachableInsn { insn: 3 });
}

#[test]
fn gotox_table_error_in_dfs_order() {
    // The DFS takes the fall-through side first: unprivileged, it meets
    // the back-edge (2 -> 0) before the gotox on the branch side;
    // privileged, it goes on to the gotox.
    let src = "
    top:
        r1 = 0
        if r1 > 0 goto g
        goto top
    g:
        gotox r1
        exit
    ";
    let config = CfgConfig::unprivileged().with_jump_tables(vec![]);
    let (_, msg) = reject_with(src, &config);
    assert_eq!(msg, "back-edge from insn 2 to 0");
    let config = CfgConfig::privileged().with_jump_tables(vec![]);
    let (_, msg) = reject_with(src, &config);
    assert_eq!(msg, "no jump tables found for subprog starting at 0");
}

#[test]
fn gotox_siblings_are_back_edges_to_the_kernel() {
    // visit_gotox_insn marks every jump table entry discovered at once:
    // exploring entry 4 first, the jump from 5 to entry 2 (discovered, not
    // explored) is a "back-edge" though there is no cycle. Reproduced.
    let src = "
        r1 = 0
        gotox r1
        r0 = 1
        exit
        r0 = 2
        goto pc-4
    ";
    let tables = vec![vec![2, 4]];
    let cfg = build_with(
        src,
        &CfgConfig::privileged().with_jump_tables(tables.clone()),
    )
    .unwrap();
    assert_eq!(cfg.back_edges(), &[BackEdge { from: 5, to: 2 }]);
    assert!(cfg.loops().is_empty() && cfg.irreducible_edges().is_empty());
    let (_, msg) = reject_with(src, &CfgConfig::unprivileged().with_jump_tables(tables));
    assert_eq!(msg, "back-edge from insn 5 to 2");
}
