//! `ebpf-cfg` against the running kernel: every structural rejection
//! `Cfg::build` reports must be the kernel's error line for the same
//! program, word for word, and every program it accepts (here: fully valid
//! programs) must load.
//!
//! Each test calls `probe_or_skip`, which prints `SKIP: <test>: <reason>`
//! and returns when `bpf()` is unavailable (`EBPF_KERNEL_REQUIRED=1` makes
//! that a failure).
//!
//! Not compared here: the unprivileged rejections (`back-edge from insn N
//! to M`, "loading/calling other bpf or kernel functions are allowed for
//! CAP_BPF and CAP_SYS_ADMIN") need a loader without `CAP_BPF` and
//! `kernel.unprivileged_bpf_disabled=0`; `rejections_match_the_kernel`
//! prints a SKIP line saying so. The `gotox` jump-table messages need a
//! kernel with `gotox` and `BPF_MAP_TYPE_INSN_ARRAY` maps (Linux 6.18
//! refuses the opcode: "unknown opcode 0d"), and this client cannot create
//! such maps.

use std::io::Write;

use ebpf_cfg::{Cfg, CfgError, MAX_INSNS, MAX_SUBPROGS};
use ebpf_isa::asm::assemble;
use ebpf_isa::{CallTarget, Insn, Program, RawInsn};
use ebpf_kernel::{Errno, Kernel, LoadFailure, LogLevel, ProgLoad, ProgType, probe_or_skip};

fn prog(src: &str) -> Program {
    assemble(src).unwrap_or_else(|e| panic!("test program does not assemble: {e}\n{src}"))
}

/// The program types every case is loaded as: the structural checks do not
/// depend on the type.
const TYPES: [ProgType; 2] = [ProgType::SOCKET_FILTER, ProgType::XDP];

fn load(k: &Kernel, prog_type: ProgType, insns: &[RawInsn]) -> Result<(), LoadFailure> {
    k.prog_load(ProgLoad {
        prog_type,
        insns,
        log_level: LogLevel::LEVEL1 | LogLevel::STATS,
        ..ProgLoad::default()
    })
    .map(drop)
}

/// Writes past libtest's capture, like `probe_or_skip`'s SKIP line.
fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `n` calls to `n` distinct one-instruction subprograms (`n + 1`
/// subprograms with the main one).
fn many_subprogs(n: usize) -> Program {
    let off = i32::try_from(n).expect("small");
    let mut insns = vec![Insn::Call(CallTarget::Local(off)); n];
    insns.push(Insn::Exit);
    insns.extend(std::iter::repeat_n(Insn::Exit, n));
    Program::from_insns(insns)
}

/// `n` calls to `n` distinct subprograms `r0 = 0; exit` (valid).
fn valid_subprogs(n: usize) -> Program {
    let mov_r0_0 = Insn::Alu {
        op: ebpf_isa::AluOp::Mov,
        width: ebpf_isa::Width::W64,
        dst: ebpf_isa::Reg::R0,
        src: ebpf_isa::Operand::Imm(0),
    };
    let mut insns = Vec::new();
    for i in 0..n {
        // The call at slot i targets slot n + 1 + 2i: offset n + i.
        let off = i32::try_from(n + i).expect("small");
        insns.push(Insn::Call(CallTarget::Local(off)));
    }
    insns.push(Insn::Exit);
    for _ in 0..n {
        insns.push(mov_r0_0);
        insns.push(Insn::Exit);
    }
    Program::from_insns(insns)
}

/// Programs `Cfg::build` rejects, named, each with its expected message:
/// one or more per structural check, plus programs with two defects,
/// where the kernel's pass order decides which one is reported.
fn rejected_cases() -> Vec<(&'static str, Program, &'static str)> {
    let a = |name, src: &str, msg| (name, prog(src), msg);
    vec![
        // add_subprog_and_kfunc
        a(
            "call past the end",
            "call pc+5\nexit",
            "call to invalid destination",
        ),
        a(
            "call before the start",
            "r0 = 0\ncall pc-3\nexit",
            "call to invalid destination",
        ),
        a(
            "call one past the end",
            "call pc+1\nexit",
            "call to invalid destination",
        ),
        a(
            "function reference past the end",
            "r0 = 0\nr1 = func pc+10\nexit",
            "call to invalid destination",
        ),
        (
            "257 subprograms",
            many_subprogs(MAX_SUBPROGS),
            "too many subprograms",
        ),
        // check_subprogs
        a(
            "goto past the end",
            "goto pc+5\nexit",
            "jump out of range from insn 0 to 6",
        ),
        a(
            "branch before the start",
            "r0 = 0\nif r0 > 1 goto pc-3\nexit",
            "jump out of range from insn 1 to -1",
        ),
        a(
            "may_goto past the end",
            "r0 = 0\nmay_goto pc+1\nexit",
            "jump out of range from insn 1 to 3",
        ),
        a(
            "gotol past the end",
            "r0 = 0\ngotol pc+70000\nexit",
            "jump out of range from insn 1 to 70002",
        ),
        a(
            "jump from main into a subprogram",
            "call f\nif r0 > 0 goto g\nexit\nf:\nr0 = 1\ng:\nexit",
            "jump out of range from insn 1 to 4",
        ),
        a(
            "jump from a subprogram back into main",
            "top:\ncall f\nexit\nf:\nr0 = 1\ngoto top",
            "jump out of range from insn 3 to 0",
        ),
        a(
            // bpf_jmp_offset gives gotox offset 0: its "target" is the next
            // slot. (Kernels before gotox still run check_subprogs before
            // refusing the opcode.)
            "gotox as the last insn",
            "r1 = 0\ngotox r1",
            "jump out of range from insn 1 to 2",
        ),
        a(
            "falls off the end",
            "r0 = 0",
            "last insn is not an exit or jmp",
        ),
        a(
            "main falls into its callee",
            "r0 = 0\ncall f\nf:\nr0 = 0\nexit",
            "last insn is not an exit or jmp",
        ),
        a(
            "ends in a conditional jump",
            "r0 = 0\nif r0 > 0 goto pc-2",
            "last insn is not an exit or jmp",
        ),
        a(
            "ends in may_goto",
            "r0 = 0\nmay_goto pc-2",
            "last insn is not an exit or jmp",
        ),
        a(
            "ends in an ld_imm64",
            "r0 = 0\nr1 = 0x100000000",
            "last insn is not an exit or jmp",
        ),
        a(
            "last subprogram falls off the end",
            "call f\nexit\nf:\nr0 = 0",
            "last insn is not an exit or jmp",
        ),
        // check_cfg
        a(
            "dead code after exit",
            "r0 = 0\nexit\nr0 = 1\nexit",
            "unreachable insn 2",
        ),
        a(
            "jumped-over code",
            "r0 = 0\ngoto pc+1\nr0 = 1\nexit",
            "unreachable insn 2",
        ),
        a(
            "subprogram called only from dead code",
            "r0 = 0\nexit\ncall f\nexit\nf:\nr0 = 1\nexit",
            "unreachable insn 2",
        ),
        a(
            "jump into an ld_imm64",
            "if r1 == 0 goto pc+1\nr0 = 0x100000000\nexit",
            "jump into the middle of ldimm64 insn 1",
        ),
        a(
            "jump into the first of several ld_imm64",
            "if r1 == 0 goto pc+1\nr0 = 0 ll\nr0 = 0 ll\nr0 = 1 ll\nr0 = 1 ll\nr0 = 2\nexit",
            "jump into the middle of ldimm64 insn 1",
        ),
        // Two defects: the kernel's pass order picks the message.
        a(
            "bad call before bad jump (add_subprog first)",
            "goto pc+10\ncall pc+10\nexit",
            "call to invalid destination",
        ),
        a(
            "bad end before bad jump (slot order)",
            "call f\nf:\ngoto pc+100\nexit",
            "last insn is not an exit or jmp",
        ),
        a(
            "bad jump before bad end (slot order)",
            "r0 = 0\ngoto pc+100\nr0 = 1",
            "jump out of range from insn 1 to 102",
        ),
        a(
            "jump range before reachability",
            "exit\nr0 = 0\ngoto pc+5\nexit",
            "jump out of range from insn 2 to 8",
        ),
        a(
            "unreachable before ld_imm64 (slot order)",
            "goto l\nr0 = 0\nl:\nif r1 == 0 goto pc+1\nr0 = 0 ll\nexit",
            "unreachable insn 1",
        ),
        a(
            "ld_imm64 before unreachable (slot order)",
            "if r1 == 0 goto pc+1\nr0 = 0 ll\nexit\nexit",
            "jump into the middle of ldimm64 insn 1",
        ),
    ]
}

#[test]
fn rejections_match_the_kernel() {
    let Some(k) = probe_or_skip("rejections_match_the_kernel") else {
        return;
    };
    let cases = rejected_cases();
    let mut compared = 0usize;
    let mut differ = Vec::new();
    for (name, p, expected) in &cases {
        let ours = match Cfg::build(p) {
            Ok(cfg) => panic!("{name}: ebpf-cfg accepts it:\n{cfg}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(ours, *expected, "{name}: our message");
        let raw = p.to_raw();
        for prog_type in TYPES {
            compared += 1;
            let kernel = match load(&k, prog_type, &raw) {
                Ok(()) => "(loaded)".to_owned(),
                Err(f) => {
                    // Structural rejections are EINVAL, except E2BIG for
                    // too many subprograms.
                    let want = if ours == "too many subprograms" {
                        Errno::E2BIG
                    } else {
                        Errno::EINVAL
                    };
                    assert_eq!(f.errno(), Some(want), "{name} as {prog_type:?}: {f}");
                    f.error_line().unwrap_or("(no log line)").to_owned()
                }
            };
            if kernel != ours {
                differ.push(format!(
                    "{name} as {prog_type:?}: ours {ours:?}, kernel {kernel:?}"
                ));
            }
        }
    }
    note(&format!(
        "cfg agreement: {} of {compared} kernel messages equal ({} programs x {} program types)",
        compared - differ.len(),
        cases.len(),
        TYPES.len()
    ));
    // The unprivileged-only rejections (back-edges, calls without CAP_BPF)
    // are compared by tests/unprivileged_agreement.rs, which loads as nobody.
    assert!(differ.is_empty(), "messages differ:\n{}", differ.join("\n"));
}

#[test]
fn size_limits_match_the_kernel() {
    let Some(k) = probe_or_skip("size_limits_match_the_kernel") else {
        return;
    };
    // No log line from the kernel (E2BIG in bpf_prog_load, before the
    // verifier); the verdicts must agree.
    assert_eq!(
        Cfg::build(&Program::default()).unwrap_err(),
        CfgError::Empty
    );
    let err = load(&k, ProgType::XDP, &[]).expect_err("empty");
    assert_eq!(err.errno(), Some(Errno::E2BIG));
    assert_eq!(err.error_line(), None);

    let big = Program::from_insns(std::iter::repeat_n(Insn::Exit, MAX_INSNS + 1));
    assert_eq!(
        Cfg::build(&big).unwrap_err(),
        CfgError::TooLarge {
            len: MAX_INSNS + 1,
            limit: MAX_INSNS
        }
    );
    let err = load(&k, ProgType::XDP, &big.to_raw()).expect_err("too large");
    assert_eq!(err.errno(), Some(Errno::E2BIG));
    assert_eq!(err.error_line(), None);
}

/// Fully valid programs: `Cfg::build` accepts them, and so does the
/// kernel; the kernel's per-subprogram stack depths (`stack depth 8+24`)
/// count as many subprograms as ours.
#[test]
fn accepted_programs_load() {
    let Some(k) = probe_or_skip("accepted_programs_load") else {
        return;
    };
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/cfg-demo.s"
    ))
    .expect("examples/cfg-demo.s");
    let mut cases: Vec<(&str, Program)> = vec![
        ("straight line", prog("r0 = 0\nexit")),
        (
            "diamond",
            prog("r0 = 0\nif r1 == 0 goto a\nr0 = 1\ngoto b\na:\nr0 = 2\nb:\nexit"),
        ),
        (
            "bounded loop",
            prog("r0 = 0\nr1 = 0\nl:\nr0 += r1\nr1 += 1\nif r1 < 10 goto l\nexit"),
        ),
        (
            "nested loops",
            prog(
                "r0 = 0\nr1 = 0\nouter:\nr2 = 0\ninner:\nr0 += 1\nr2 += 1\n\
                 if r2 < 4 goto inner\nr1 += 1\nif r1 < 3 goto outer\nexit",
            ),
        ),
        (
            "may_goto loop",
            prog("r0 = 0\nl:\nmay_goto out\nr0 += 1\ngoto l\nout:\nr0 = 0\nexit"),
        ),
        (
            "ld_imm64 jumped over, not into",
            prog("r0 = 0\nif r1 == 0 goto pc+2\nr0 = 0x100000000 ll\nr0 = 1\nexit"),
        ),
        (
            "gotol",
            prog("r0 = 0\nif r1 == 0 goto pc+1\ngotol pc+1\nr0 = 1\nexit"),
        ),
        (
            "two subprograms",
            prog(
                "r1 = 1\ncall f\nr1 = r0\ncall g\nexit\n\
                 f:\nr0 = r1\nr0 += 1\nexit\ng:\nr0 = r1\ncall f\nexit",
            ),
        ),
        (
            "subprogram with a stack slot",
            prog(
                "r1 = 0\n*(u64 *)(r10 -8) = r1\ncall f\nexit\n\
                 f:\nr1 = 0\n*(u64 *)(r10 -24) = r1\nr0 = 0\nexit",
            ),
        ),
    ];
    // 256 subprograms: the limit is allowed.
    cases.push(("256 subprograms", valid_subprogs(MAX_SUBPROGS - 1)));
    let mut loads: Vec<(&str, Program, ProgType)> = cases
        .into_iter()
        .flat_map(|(name, p)| TYPES.map(|t| (name, p.clone(), t)))
        .collect();
    // The example reads an XDP context.
    loads.push(("examples/cfg-demo.s", prog(&demo), ProgType::XDP));
    let mut loaded = 0usize;
    for (name, p, prog_type) in &loads {
        let prog_type = *prog_type;
        let cfg = Cfg::build(p).unwrap_or_else(|e| panic!("{name}: ebpf-cfg rejects it: {e}"));
        let raw = p.to_raw();
        let prog = k
            .prog_load(ProgLoad {
                prog_type,
                insns: &raw,
                log_level: LogLevel::LEVEL1 | LogLevel::STATS,
                ..ProgLoad::default()
            })
            .unwrap_or_else(|f| panic!("{name} as {prog_type:?}: the kernel rejects it: {f}"));
        let stats = prog.log().stats().expect("stats line");
        assert_eq!(
            stats.stack_depth.len(),
            cfg.subprogs().len(),
            "{name} as {prog_type:?}: subprograms\n{}",
            prog.log()
        );
        loaded += 1;
    }
    note(&format!(
        "cfg agreement: {loaded} of {} accepted programs loaded",
        loads.len()
    ));
}

/// The example the CFG picture shows is a working program: the kernel runs
/// it and returns what its comment says.
#[test]
fn demo_example_runs() {
    let Some(k) = probe_or_skip("demo_example_runs") else {
        return;
    };
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/cfg-demo.s"
    ))
    .expect("examples/cfg-demo.s");
    let raw = prog(&demo).to_raw();
    let loaded = k
        .prog_load(ProgLoad {
            prog_type: ProgType::XDP,
            insns: &raw,
            ..ProgLoad::default()
        })
        .expect("loads");
    let mut verdicts = [0usize; 3];
    for seed in 0u8..16 {
        // A small LCG: packets with varied bytes.
        let mut x = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
        let packet: Vec<u8> = (0..64)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect();
        let hash = packet.iter().take(14).fold(0x811c_9dc5u32, |h, &b| {
            (h ^ u32::from(b)).wrapping_mul(16_777_619)
        });
        let want = if hash & 1 == 1 { 2 } else { 1 };
        let run = k
            .prog_test_run(
                &loaded,
                ebpf_kernel::TestRun {
                    data_in: &packet,
                    ..ebpf_kernel::TestRun::default()
                },
            )
            .expect("runs");
        assert_eq!(run.retval, want, "packet {packet:02x?}");
        if let Some(v) = verdicts.get_mut(want as usize) {
            *v += 1;
        }
    }
    // Both outcomes were exercised.
    assert!(verdicts[1] > 0 && verdicts[2] > 0, "{verdicts:?}");
}
