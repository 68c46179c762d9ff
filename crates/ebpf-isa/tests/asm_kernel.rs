//! Kernel-syntax assembler: exhaustive round trip through `Display`, a
//! hand-checked program, LLVM and verifier-log variants, labels, and exact
//! error values.

use ebpf_isa::asm::{assemble, assemble_line};
use ebpf_isa::{
    AluOp, AsmError, AtomicOp, CallTarget, Imm64, Insn, JmpCond, Operand, Program, Reg, Size,
    Width, decode, encode,
};

mod common;
use common::candidates;

fn bytes(prog: &Program) -> Vec<u8> {
    prog.to_bytes()
}

#[test]
fn every_decodable_instruction_round_trips_through_display() {
    let mut ok = 0usize;
    let mut codes = std::collections::BTreeSet::new();
    let mut sample = Vec::new();
    for slots in candidates() {
        let Ok(insns) = decode(&slots) else { continue };
        ok += 1;
        codes.insert(slots[0].code);
        let text = insns[0].to_string();
        let prog = assemble(&text).unwrap_or_else(|e| panic!("`{text}`: {e}"));
        assert_eq!(prog.to_raw(), slots, "`{text}`");
        // The verifier log's form, with slot index and opcode prefix.
        let log = format!("7: {} ; R0=1", insns[0].kernel_log());
        let prog = assemble(&log).unwrap_or_else(|e| panic!("`{log}`: {e}"));
        assert_eq!(prog.to_raw(), slots, "`{log}`");
        assert_eq!(assemble_line(&text), Ok(insns[0]), "`{text}`");
        if ok.is_multiple_of(7) {
            sample.extend(insns);
        }
    }
    assert!(ok > 25_000, "only {ok} instructions decoded");
    assert!(codes.len() >= 130, "{} opcodes: {codes:x?}", codes.len());

    // Whole programs: `Program`'s listing (with `N:` indices) re-assembles.
    for chunk in sample.chunks(997) {
        let prog = Program::from_insns(chunk.iter().copied());
        let text = prog.to_string();
        assert_eq!(assemble(&text), Ok(prog));
    }
}

#[test]
fn display_listing_with_tails_reassembles() {
    let prog = assemble("r1 = 0x1122334455667788\nr2 = map[idx:1][0]+16\nexit").unwrap();
    let listing: String = prog.insns().iter().map(|i| format!("{i}\n")).collect();
    assert!(listing.contains("(ld_imm64 second slot)"), "{listing}");
    assert_eq!(assemble(&listing), Ok(prog));
}

/// A realistic program: labels on their own line and before instructions,
/// every comment style, `ld_imm64` of a map and of a constant, a helper
/// call by name, an atomic, a bpf-to-bpf call. Bytes checked by hand.
#[test]
fn realistic_program_with_hand_checked_bytes() {
    let text = "\
; Count events per key; on a miss, call a subprogram.
# r1 = ctx
entry:
        r6 = r1                         // save ctx
        r0 = *(u32 *)(r6 + 0)
        *(u32 *)(r10 - 4) = r0
        r2 = r10
        r2 += -4
        r1 = map[fd:3]                  # ld_imm64, src 1: two slots
        call bpf_map_lookup_elem
        if r0 == 0 goto miss
        r1 = 1
        lock *(u64 *)(r0 +0) += r1
        goto out
miss:   call double                     ; bpf-to-bpf
out:    w0 = 0
        exit

double:
        r2 = 0x1122334455667788
        r0 = r1
        r0 <<= 1
        exit
";
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        0xbf, 0x16, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  0: r6 = r1
        0x61, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  1: r0 = *(u32 *)(r6 +0)
        0x63, 0x0a, 0xfc, 0xff, 0x00, 0x00, 0x00, 0x00, //  2: *(u32 *)(r10 -4) = r0
        0xbf, 0xa2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  3: r2 = r10
        0x07, 0x02, 0x00, 0x00, 0xfc, 0xff, 0xff, 0xff, //  4: r2 += -4
        0x18, 0x11, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, //  5: r1 = map[fd:3]
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  6:   (second slot)
        0x85, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, //  7: call 1
        0x15, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, //  8: if r0 == 0 goto pc+3 (12)
        0xb7, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, //  9: r1 = 1
        0xdb, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 10: lock *(u64 *)(r0 +0) += r1
        0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // 11: goto pc+1 (13)
        0x85, 0x10, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, // 12: call pc+2 (15)
        0xb4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 13: w0 = 0
        0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 14: exit
        0x18, 0x02, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55, // 15: r2 = 0x1122334455667788
        0x00, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11, // 16:   (second slot)
        0xbf, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 17: r0 = r1
        0x67, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // 18: r0 <<= 1
        0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 19: exit
    ];
    let prog = assemble(text).unwrap();
    assert_eq!(bytes(&prog), expected);
    assert_eq!(prog.insns()[12], Insn::Call(CallTarget::Local(2)));
    assert_eq!(assemble(&prog.to_string()), Ok(prog));
}

fn insn(text: &str) -> Insn {
    assemble_line(text).unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

#[test]
fn kernel_syntax_examples() {
    let r = |n| Reg::new(n).unwrap();
    let cases: &[(&str, Insn)] = &[
        (
            "r0 = *(u32 *)(r1 +4)",
            Insn::Load {
                size: Size::W,
                dst: r(0),
                src: r(1),
                off: 4,
            },
        ),
        (
            "if r1 > 0x5 goto pc+3",
            Insn::Jump {
                cond: JmpCond::Gt,
                width: Width::W64,
                dst: r(1),
                src: Operand::Imm(5),
                off: 3,
            },
        ),
        (
            "if r1 == 0xffffffff goto pc-2",
            Insn::Jump {
                cond: JmpCond::Eq,
                width: Width::W64,
                dst: r(1),
                src: Operand::Imm(-1),
                off: -2,
            },
        ),
        (
            "if w1 s< w2 goto pc-1",
            Insn::Jump {
                cond: JmpCond::Slt,
                width: Width::W32,
                dst: r(1),
                src: Operand::Reg(r(2)),
                off: -1,
            },
        ),
        (
            "r1 = 0x1234",
            Insn::LdImm64 {
                dst: r(1),
                imm: Imm64::Imm(0x1234),
            },
        ),
        (
            "r1 = 4660",
            Insn::Alu {
                op: AluOp::Mov,
                width: Width::W64,
                dst: r(1),
                src: Operand::Imm(0x1234),
            },
        ),
        (
            "w1 = 0x1234",
            Insn::Alu {
                op: AluOp::Mov,
                width: Width::W32,
                dst: r(1),
                src: Operand::Imm(0x1234),
            },
        ),
        (
            "r1 = -0x1",
            Insn::LdImm64 {
                dst: r(1),
                imm: Imm64::Imm(u64::MAX),
            },
        ),
        (
            "r1 = map[idx:0][0]+8",
            Insn::LdImm64 {
                dst: r(1),
                imm: Imm64::MapIdxValue { idx: 0, off: 8 },
            },
        ),
        (
            "r1 = btf_id[5][fd:2]",
            Insn::LdImm64 {
                dst: r(1),
                imm: Imm64::BtfId { id: 5, btf_fd: 2 },
            },
        ),
        (
            "r1 = func pc+5",
            Insn::LdImm64 {
                dst: r(1),
                imm: Imm64::Func(5),
            },
        ),
        ("call unknown#9999", Insn::Call(CallTarget::Helper(9999))),
        ("call unknown#1", Insn::Call(CallTarget::Helper(1))),
        ("call map_lookup_elem#1", Insn::Call(CallTarget::Helper(1))),
        (
            "call kernel-function#123@2",
            Insn::Call(CallTarget::Kfunc {
                btf_id: 123,
                module: 2,
            }),
        ),
        (
            "r0 = atomic_cmpxchg((u32 *)(r2 +0), r0, r3)",
            Insn::Atomic {
                op: AtomicOp::Cmpxchg,
                size: Size::W,
                dst: r(2),
                src: r(3),
                off: 0,
            },
        ),
        (
            "*(u64 *)(r10 -8) = 0xffffffff",
            Insn::Store {
                size: Size::DW,
                dst: r(10),
                off: -8,
                src: Operand::Imm(-1),
            },
        ),
        (
            "r0 = *(u32 *)skb[r3 + -2]",
            Insn::LdInd {
                size: Size::W,
                src: r(3),
                imm: -2,
            },
        ),
        (
            "r0 = *(u16 *)skb[r3]",
            Insn::LdInd {
                size: Size::H,
                src: r(3),
                imm: 0,
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(insn(text), *want, "`{text}`");
    }
}

/// What LLVM prints and people type: each pair must give the same bytes.
#[test]
fn llvm_and_hand_written_variants() {
    let same = [
        ("r0 = *(u32 *)(r1 + 4)", "r0 = *(u32 *)(r1 +4)"),
        ("r0 = *(u32*)(r1+4)", "r0 = *(u32 *)(r1 +4)"),
        ("*(u64 *)(r10 - 8) = r1", "*(u64 *)(r10 -8) = r1"),
        ("*(u64 *)(r10 + -8) = r1", "*(u64 *)(r10 -8) = r1"),
        ("r1 = *(u64 *)(r2)", "r1 = *(u64 *)(r2 +0)"),
        ("w0 = *(u32 *)(r1 + 0)", "r0 = *(u32 *)(r1 +0)"),
        ("*(u8 *)(r10 - 1) = w2", "*(u8 *)(r10 -1) = r2"),
        ("goto +3", "goto pc+3"),
        ("goto -1", "goto pc-1"),
        ("goto 3", "goto pc+3"),
        ("goto pc + 3", "goto pc+3"),
        ("gotol +70000", "gotol pc+70000"),
        ("may_goto +2", "may_goto pc+2"),
        ("if r1 > 5 goto +3", "if r1 > 0x5 goto pc+3"),
        ("if r1 > -1 goto -1", "if r1 > 0xffffffff goto pc-1"),
        ("if w1 s<= w2 goto +1", "if w1 s<= w2 goto pc+1"),
        ("if r1 & 0x10 goto +1", "if r1 & 0x10 goto pc+1"),
        ("r1 = 0x1234 ll", "r1 = 0x1234"),
        ("r1 = 5 ll", "r1 = 0x5"),
        ("r1 = -1 ll", "r1 = 0xffffffffffffffff"),
        ("lddw r1, 0x1234", "r1 = 0x1234"),
        ("ld_imm64 r1, 4660", "r1 = 0x1234"),
        ("r1 = 0x7fffffff", "lddw r1, 2147483647"),
        ("r1 = 0xffffffff", "r1 = 4294967295 ll"),
        ("w1 = 0xffffffff", "w1 = -1"),
        ("r1 = 4294967295", "r1 = -1"),
        ("r1 += 0x10", "r1 += 16"),
        ("r1 = +5", "r1 = 5"),
        ("call 1", "call bpf_map_lookup_elem#1"),
        ("call 0x1", "call bpf_map_lookup_elem#1"),
        ("call bpf_map_lookup_elem", "call bpf_map_lookup_elem#1"),
        ("call map_lookup_elem", "call bpf_map_lookup_elem#1"),
        ("call bpf_trace_printk", "call bpf_trace_printk#6"),
        ("call -1", "call unknown#-1"),
        ("call kernel-function#7", "call kernel-function#7@0"),
        ("r1 = map[fd:3][0]+0", "r1 = map[fd:3][0]+0"),
        ("r1 = btf_id[5][fd:0]", "r1 = btf_id[5]"),
        (
            "lock *(u32 *)(r10 - 8) += w1",
            "lock *(u32 *)(r10 -8) += r1",
        ),
        (
            "w1 = atomic_fetch_add((u32 *)(r10 - 8), w1)",
            "r1 = atomic_fetch_add((u32 *)(r10 -8), r1)",
        ),
        (
            "r1 = atomic_fetch_or((u64 *)(r10 - 8), r1)",
            "r1 = atomic64_fetch_or((u64 *)(r10 -8), r1)",
        ),
        (
            "r1 = xchg_64(r10 - 8, r1)",
            "r1 = atomic64_xchg((u64 *)(r10 -8), r1)",
        ),
        (
            "w1 = xchg32_32(r10 - 8, w1)",
            "r1 = atomic_xchg((u32 *)(r10 -8), r1)",
        ),
        (
            "r0 = cmpxchg_64(r10 - 8, r0, r1)",
            "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)",
        ),
        (
            "w0 = cmpxchg32_32(r10 - 8, w0, w1)",
            "r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r1)",
        ),
        (
            "w1 = load_acquire((u8 *)(r2 + 0))",
            "r1 = load_acquire((u8 *)(r2 +0))",
        ),
        ("r0=r1", "r0 = r1"),
        ("r1 s/= r2", "r1 s/=r2"),
        ("\tr0 = 0\t// zero", "r0 = 0"),
        ("12: (bf) r6 = r1", "r6 = r1"),
        ("0: (b7) r0 = 0                        ; R0_w=0", "r0 = 0"),
        ("lbl: r0 = 0", "r0 = 0"),
        ("a: b: r0 = 0", "r0 = 0"),
        ("3: lbl: (95) exit", "exit"),
        ("exit # done", "exit"),
        ("exit\u{a0}", "exit"),
    ];
    for (variant, canonical) in same {
        let a = assemble(variant).unwrap_or_else(|e| panic!("`{variant}`: {e}"));
        let b = assemble(canonical).unwrap_or_else(|e| panic!("`{canonical}`: {e}"));
        assert_eq!(bytes(&a), bytes(&b), "`{variant}` vs `{canonical}`");
    }
}

#[test]
fn labels_resolve_for_every_jump_kind() {
    let prog = assemble(
        "
        start:
            r1 = 0x100000000        ; slots 0-1
            r2 = func sub           ; slots 2-3
            if w1 != 0 goto start   ; slot 4 -> -5
            gotol end               ; slot 5 -> +4
            may_goto start          ; slot 6 -> -7
            call sub                ; slot 7 -> +2
            goto end                ; slot 8 -> +1
        sub: r0 = 1                 ; slot 9
        end:
            exit                    ; slot 10
        after:
        ",
    )
    .unwrap();
    let insns = prog.insns();
    assert_eq!(prog.len(), 11);
    assert_eq!(
        insns[2],
        Insn::LdImm64 {
            dst: Reg::R2,
            imm: Imm64::Func(6)
        }
    );
    assert_eq!(insns[4].jump_offset(), Some(-5));
    assert_eq!(insns[5], Insn::Gotol { imm: 4 });
    assert_eq!(insns[6], Insn::MayGoto { off: -7 });
    assert_eq!(insns[7], Insn::Call(CallTarget::Local(1)));
    assert_eq!(insns[8], Insn::Ja { off: 1 });
    // A label at the very end names the slot after the last instruction.
    assert_eq!(
        assemble("goto end\nend:").unwrap().insns()[0],
        Insn::Ja { off: 0 }
    );
    // A defined label wins over the helper of the same name.
    let p = assemble("call bpf_map_lookup_elem\nexit\nbpf_map_lookup_elem: exit").unwrap();
    assert_eq!(p.insns()[0], Insn::Call(CallTarget::Local(1)));
    // LLVM's local labels.
    let p = assemble("if r1 == 0 goto .LBB0_2\nr0 = 1\n.LBB0_2:\nexit").unwrap();
    assert_eq!(p.insns()[0].jump_offset(), Some(1));
}

fn syntax(line: usize, column: usize, message: &str) -> AsmError {
    AsmError::Syntax {
        line,
        column,
        message: message.into(),
    }
}

fn range(line: usize, column: usize, message: &str) -> AsmError {
    AsmError::OutOfRange {
        line,
        column,
        message: message.into(),
    }
}

#[test]
fn errors_name_line_column_and_what_was_expected() {
    let cases: Vec<(&str, AsmError)> = vec![
        (
            "exit\n  goto nowhere",
            AsmError::UnknownLabel {
                line: 2,
                column: 8,
                label: "nowhere".into(),
            },
        ),
        (
            "call no_such_fn",
            AsmError::UnknownLabel {
                line: 1,
                column: 6,
                label: "no_such_fn".into(),
            },
        ),
        (
            "r1 = func f",
            AsmError::UnknownLabel {
                line: 1,
                column: 11,
                label: "f".into(),
            },
        ),
        (
            "a:\n exit\n  a: exit",
            AsmError::DuplicateLabel {
                line: 3,
                column: 3,
                label: "a".into(),
            },
        ),
        (
            "r1 = *(u32 *)(r2 +40000)",
            range(1, 19, "offset 40000 out of range -32768..=32767"),
        ),
        (
            "goto pc+0x8000",
            range(1, 6, "jump offset 0x8000 out of range -32768..=32767"),
        ),
        (
            "r1 = 4294967296",
            range(
                1,
                6,
                "immediate (write `ll` or hex for a 64-bit constant) 4294967296 out of range -2147483648..=0xffffffff",
            ),
        ),
        (
            "w1 += -2147483649",
            range(
                1,
                7,
                "immediate -2147483649 out of range -2147483648..=0xffffffff",
            ),
        ),
        (
            "r1 = -9223372036854775809 ll",
            range(
                1,
                6,
                "ld_imm64 constant -9223372036854775809 out of range -9223372036854775808..=0xffffffffffffffff",
            ),
        ),
        (
            "r1 = 0x10000000000000000",
            range(1, 6, "number `0x10000000000000000` does not fit in 64 bits"),
        ),
        (
            "r1 = map[idx:-1]",
            range(1, 14, "map index -1 out of range 0..=4294967295"),
        ),
        (
            "gotol pc+2147483648",
            range(
                1,
                7,
                "jump offset 2147483648 out of range -2147483648..=2147483647",
            ),
        ),
        (
            "r1 =",
            syntax(
                1,
                5,
                "expected a register, a number, a memory operand or an operation, found end of line",
            ),
        ),
        (
            "  exit now",
            syntax(1, 8, "expected end of line, found `now`"),
        ),
        (
            "r11 = 1",
            syntax(
                1,
                1,
                "no register `r11`: registers are r0..r10 (w0..w10 for 32 bits)",
            ),
        ),
        (
            "if w1 > r2 goto +1",
            syntax(1, 9, "expected a 32-bit register (`wN`), found `r2`"),
        ),
        (
            "if r1 >> 1 goto +1",
            syntax(1, 8, "expected a register or a number, found `>`"),
        ),
        (
            "if r1 = 1 goto +1",
            syntax(
                1,
                7,
                "expected a comparison (`==`, `!=`, `>`, `>=`, `<`, `<=`, `&`, `s>`, `s>=`, `s<`, `s<=`), found `=`",
            ),
        ),
        (
            "if r1 > 1 goto",
            syntax(
                1,
                15,
                "expected a jump target (`pc+N`, `+N`, `-N` or a label), found end of line",
            ),
        ),
        (
            "jmp 3",
            syntax(1, 1, "expected an instruction, found `jmp`"),
        ),
        ("r1 = $5", syntax(1, 6, "unexpected character `$`")),
        ("r1 = 0xg", syntax(1, 6, "invalid number `0xg`")),
        (
            "0: (b7) r0 = r1",
            syntax(
                1,
                4,
                "opcode prefix (b7) does not match the instruction's opcode (bf)",
            ),
        ),
        (
            "5: (bf)",
            syntax(1, 8, "expected an instruction, found end of line"),
        ),
        (
            "call bpf_map_lookup_elem#2",
            syntax(
                1,
                6,
                "`bpf_map_lookup_elem` is not the name of helper 2: expected `bpf_map_update_elem` or `unknown`",
            ),
        ),
        (
            "w1 = 0x1 ll",
            syntax(1, 1, "ld_imm64 needs a 64-bit register (`rN`), found `w1`"),
        ),
        (
            "r1 = addr_space_cast(r2, 2, 3)",
            syntax(
                1,
                26,
                "addr_space_cast converts between address spaces 0 and 1 only, found 2, 3",
            ),
        ),
        (
            "(ld_imm64 second slot)",
            syntax(
                1,
                1,
                "`(ld_imm64 second slot)` must directly follow an ld_imm64",
            ),
        ),
        (
            "r1: exit",
            syntax(1, 1, "expected a label, found register `r1`"),
        ),
        (
            "r2 = atomic_fetch_add((u64 *)(r10 -8), r1)",
            syntax(
                1,
                1,
                "`atomic_fetch_add` returns the old value in its value register: expected `r1`, found `r2`",
            ),
        ),
        (
            "r1 = atomic64_xchg((u32 *)(r10 -8), r1)",
            syntax(1, 21, "`atomic64_xchg` takes `(u64 *)`, found `(u32 *)`"),
        ),
        (
            "lock *(u8 *)(r1 +0) += r2",
            syntax(1, 8, "atomic operations take `u32` or `u64`, found `u8`"),
        ),
        (
            "w1 = *(u64 *)(r1 +0)",
            syntax(
                1,
                1,
                "expected a 64-bit register (`rN`) for a u64 access, found `w1`",
            ),
        ),
        (
            "*(s8 *)(r1 +0) = 1",
            syntax(1, 3, "expected an unsigned type here, found `s8`"),
        ),
        (
            "r1 = *(u64 *)(w1 +0)",
            syntax(
                1,
                15,
                "an address needs a 64-bit register (`rN`), found `w1`",
            ),
        ),
        (
            "r1 = *(u8 *)skb[0]",
            syntax(1, 1, "packet loads write `r0`, found `r1`"),
        ),
        (
            "w1 = (s32)w2",
            syntax(1, 7, "`(s32)` needs a 64-bit destination (`rN`)"),
        ),
        (
            "r1 = -r2",
            syntax(1, 7, "negation works in place: expected `r1`, found `r2`"),
        ),
        (
            "r1 = be16 r2",
            syntax(
                1,
                11,
                "byte-order conversions work in place: expected `r1`, found `r2`",
            ),
        ),
        (
            "r1 = map[id:5]",
            syntax(1, 10, "expected `fd` or `idx`, found `id`"),
        ),
        (
            "r1 = map[fd:1][1]+0",
            syntax(1, 16, "expected `0`, found `1`"),
        ),
        (
            "\u{a0}exit now",
            syntax(1, 7, "expected end of line, found `now`"),
        ),
        (
            "r0 = 0\nr1 = r2 r3",
            syntax(2, 9, "expected end of line, found `r3`"),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(assemble(text), Err(want), "`{text}`");
    }
}

#[test]
fn resolved_offsets_out_of_range_are_errors() {
    let mut text = String::from("start:\n  goto far\n");
    for _ in 0..40_000 {
        text.push_str("r0 = 0\n");
    }
    text.push_str("far: exit\n  if r0 > 1 goto start\n  gotol start\n");
    assert_eq!(
        assemble(&text),
        Err(range(
            2,
            8,
            "offset 40000 to label `far` out of range -32768..=32767"
        ))
    );
    // Past the goto, the i32 jumps reach.
    let tail = text.replace("  goto far\n", "");
    assert_eq!(
        assemble(&tail),
        Err(range(
            40_003,
            18,
            "offset -40002 to label `start` out of range -32768..=32767"
        ))
    );
    let ok = tail.replace("  if r0 > 1 goto start\n", "");
    let prog = assemble(&ok).unwrap();
    assert_eq!(prog.insns()[40_001], Insn::Gotol { imm: -40_002 });
}

#[test]
fn assemble_line_takes_exactly_one_instruction() {
    assert_eq!(
        assemble_line("; (95) exit"),
        Err(syntax(1, 1, "expected an instruction, found none"))
    );
    assert_eq!(
        assemble_line("exit\n  exit"),
        Err(syntax(
            2,
            3,
            "expected a single instruction, found a second one"
        ))
    );
    assert_eq!(
        assemble_line("r1 = 0x5"),
        Ok(Insn::LdImm64 {
            dst: Reg::R1,
            imm: Imm64::Imm(5)
        })
    );
    assert_eq!(assemble_line("l: goto l"), Ok(Insn::Ja { off: -1 }));
}

/// Truncating and corrupting every line `Display` prints never panics,
/// and every error's position is inside the text (or just past a line).
#[test]
fn damaged_input_never_panics() {
    let prog = assemble(
        "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)\nr1 = map[fd:3][0]+8\n\
         call kernel-function#123@2\nif w1 s< w2 goto pc-1\nr0 = *(u32 *)skb[r3 + 2]\n\
         r1 = btf_id[5][fd:2]\nr1 = addr_space_cast(r2, 0, 1)\nstore_release((u64 *)(r1 +8), r2)\n\
         w7 = (s8)w3\nr3 = bswap32 r3\nlock *(u64 *)(r10 -8) ^= r1\nr1 = func pc+5\n\
         r1 = load_acquire((u8 *)(r2 +0))\ncall bpf_map_lookup_elem#1\n*(u64 *)(r10 -8) = 7",
    )
    .unwrap();
    let mut n = 0;
    let mut check = |text: &str| {
        n += 1;
        if let Err(e) = assemble(text) {
            let lines = text.lines().count().max(1);
            assert!((1..=lines).contains(&e.line()), "`{text}`: {e:?}");
        }
    };
    let junk = [
        "",
        " ",
        "#",
        ";",
        "(",
        ")",
        "[",
        "]",
        "-",
        "+",
        "*",
        ":",
        ",",
        "@",
        "r11",
        "w",
        "0x",
        "99999999999999999999999",
        "pc",
        "s",
        "goto",
        "ll",
        "é",
        "\u{0}",
    ];
    for (_, i) in prog.iter() {
        let line = i.to_string();
        for (cut, _) in line.char_indices() {
            check(&line[..cut]);
            check(&line[cut..]);
            for j in junk {
                check(&format!("{}{j}{}", &line[..cut], &line[cut..]));
            }
        }
    }
    // A deterministic pseudo-random token soup.
    let words = [
        "r0",
        "w1",
        "r10",
        "=",
        "+=",
        "s>>=",
        "*",
        "(",
        ")",
        "u32",
        "s8",
        "goto",
        "pc",
        "+",
        "-",
        "1",
        "0xffffffff",
        "if",
        ">",
        "call",
        "#",
        "map",
        "[",
        "]",
        "fd",
        ":",
        "lbl",
        "exit",
        "lock",
        "atomic_fetch_add",
        ",",
        "ll",
        "func",
        "skb",
        "gotol",
        "may_goto",
        "(bf)",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(seed % 9) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(words[(seed % words.len() as u64) as usize]);
            if seed & 0x100 != 0 {
                text.push(' ');
            }
            if seed & 0x3000 == 0 {
                text.push('\n');
            }
        }
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        check(&text);
    }
    assert!(n > 25_000, "{n}");
}

#[test]
fn output_always_decodes() {
    // Everything `assemble` returns is a valid program, slot for slot.
    let prog = assemble(
        "r1 = 0x1\nr2 = map[fd:1]\nw0 = (s16)w1\nr0 = atomic_fetch_xor((u32 *)(r1 +0), r0)\nexit",
    )
    .unwrap();
    assert_eq!(decode(&prog.to_raw()).unwrap(), prog.insns());
    assert_eq!(encode(prog.insns()), prog.to_raw());
}
