//! The uBPF dialect: exhaustive render/assemble round trip over opcodes with
//! sampled operands, exact error values, and each quirk of the upstream
//! assembler (bpf_conformance FORMAT.md a.3).

use ebpf_isa::ubpf::{Ubpf, assemble, assemble_raw, disassemble};
use ebpf_isa::{
    AsmError, CallTarget, DecodeError, Field, Imm64, Insn, Program, RawInsn, Reg, decode,
};

mod common;
use common::candidates;

#[test]
fn every_decodable_instruction_round_trips_through_the_dialect() {
    let mut ok = 0usize;
    let mut codes = std::collections::BTreeSet::new();
    for slots in candidates() {
        let Ok(insns) = decode(&slots) else {
            continue;
        };
        ok += 1;
        codes.insert(slots[0].code);
        let text = Ubpf(&insns[0]).to_string();
        let raw = assemble_raw(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(raw, slots, "{text:?} from {:?}", insns[0]);
        let prog = assemble(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(prog.insns(), insns.as_slice(), "{text:?}");
    }
    println!("{ok} decodable candidates round-tripped");
    assert!(ok > 10_000, "only {ok} candidates decoded");
    // Every opcode the decoder knows was exercised (same list as decode.rs).
    for code in [
        0x04, 0x0c, 0x07, 0x0f, 0x84, 0x87, 0xd4, 0xdc, 0xd7, 0xbc, 0xbf, 0x34, 0x3c, 0x37, 0x3f,
        0x94, 0x9c, 0x97, 0x9f, 0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x61, 0x69, 0x71, 0x79,
        0x81, 0x89, 0x91, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0xcb, 0xd3,
        0x05, 0x06, 0x0d, 0x15, 0x1d, 0x16, 0x1e, 0xa5, 0xad, 0xd6, 0xde, 0x85, 0x8d, 0x95, 0xe5,
    ] {
        assert!(
            codes.contains(&code),
            "opcode {code:#04x} never round-tripped"
        );
    }
}

#[test]
fn ld_imm64_pseudo_forms_round_trip() {
    let forms = [
        Imm64::Imm(u64::MAX),
        Imm64::Imm(0),
        Imm64::MapFd(-3),
        Imm64::MapValue {
            fd: 7,
            off: u32::MAX,
        },
        Imm64::BtfId {
            id: 1234,
            btf_fd: -1,
        },
        Imm64::Func(-100_000),
        Imm64::MapIdx(0x8000_0000),
        Imm64::MapIdxValue { idx: 2, off: 16 },
    ];
    for imm in forms {
        let insn = Insn::LdImm64 { dst: Reg::R3, imm };
        let text = Ubpf(&insn).to_string();
        let prog = assemble(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(prog, Program::from_insns([insn]), "{text}");
    }
    let show = |imm| Ubpf(&Insn::LdImm64 { dst: Reg::R1, imm }).to_string();
    assert_eq!(show(Imm64::Imm(0x1122)), "lddw %r1, 0x1122");
    assert_eq!(show(Imm64::MapFd(3)), "lddw %r1, map_fd 3");
    assert_eq!(
        show(Imm64::MapValue { fd: 3, off: 8 }),
        "lddw %r1, map_value 3, 8"
    );
    assert_eq!(
        show(Imm64::MapIdx(0xffff_ffff)),
        "lddw %r1, map_idx 0xffffffff"
    );
    assert_eq!(show(Imm64::Func(4)), "lddw %r1, func +4");
    assert_eq!(Ubpf(&Insn::LdImm64Tail).to_string(), "# lddw second slot");
}

#[test]
fn dialect_spellings() {
    let one = |t: &str| {
        let p = assemble(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        Ubpf(&p.insns()[0]).to_string()
    };
    for text in [
        "mov32 %r0, 1",
        "add %r1, %r2",
        "sdiv32 %r1, -3",
        "smod %r1, %r2",
        "neg %r4",
        "neg32 %r4",
        "movsx832 %r1, %r2",
        "movsx3264 %r1, %r2",
        "le16 %r1",
        "be64 %r1",
        "bswap32 %r1",
        "ldxdw %r0, [%r1+8]",
        "ldxsh %r0, [%r1-2]",
        "stw [%r10-4], -1",
        "stxb [%r10+0], %r1",
        "lock add32 [%r10-8], %r1",
        "lock fetch xor [%r10-8], %r1",
        "lock xchg [%r10-8], %r1",
        "lock cmpxchg32 [%r10-8], %r1",
        "ja -1",
        "ja32 +70000",
        "jsle32 %r1, %r2, +3",
        "jset %r1, -1, -32768",
        "call 5",
        "call %r2",
        "call local -4",
        "call runtime 77",
        "call runtime 77, -2",
        "exit",
        "ldabsh 12",
        "ldindw %r3, -1",
        "ldacqdw %r1, [%r2+8]",
        "strelb [%r1-1], %r2",
        "may_goto +2",
        "gotox %r5",
        "addr_space_cast %r1, %r2, 1, 0",
    ] {
        assert_eq!(one(text), text);
    }
    // Accepted alternative spellings, rendered canonically.
    assert_eq!(one("swap16 %r1"), "bswap16 %r1");
    assert_eq!(one("call helper 5"), "call 5");
    assert_eq!(one("call helper %r3"), "call %r3");
    assert_eq!(
        one("lock fetch xchg32 [%r1], %r2"),
        "lock xchg32 [%r1+0], %r2"
    );
    assert_eq!(one("ldxb %r0, [%r1+0x10]"), "ldxb %r0, [%r1+16]");
    assert_eq!(one("jeq %r1, 0x80000000, +1"), "jeq %r1, -2147483648, +1");
}

#[test]
fn disassemble_is_one_line_per_instruction() {
    let text = "lddw %r0, 0x1122334455667788\nexit\n";
    let prog = assemble(text).unwrap();
    assert_eq!(prog.len(), 3);
    assert_eq!(disassemble(&prog), text);
    assert_eq!(disassemble(&Program::default()), "");
}

fn syntax(line: usize, column: usize, message: &str) -> AsmError {
    AsmError::Syntax {
        line,
        column,
        message: message.to_owned(),
    }
}

fn range(line: usize, column: usize, message: &str) -> AsmError {
    AsmError::OutOfRange {
        line,
        column,
        message: message.to_owned(),
    }
}

#[test]
fn errors_name_line_column_and_cause() {
    let err = |t: &str| assemble_raw(t).unwrap_err();
    assert_eq!(
        err("exit\n  add64 %r0, 1"),
        syntax(2, 3, "unknown mnemonic `add64`")
    );
    assert_eq!(
        err("ldxq %r0, %r1"),
        syntax(1, 1, "unknown mnemonic `ldxq`")
    );
    assert_eq!(
        err("lddw %r0"),
        syntax(1, 1, "`lddw` takes 2 operands, found 1 operand")
    );
    assert_eq!(
        err("exit %r0"),
        syntax(1, 1, "`exit` takes 0 operands, found 1 operand")
    );
    assert_eq!(err("or %r0, %r50"), syntax(1, 9, "invalid register `%r50`"));
    assert_eq!(err("mov r0, 1"), syntax(1, 5, "invalid register `r0`"));
    assert_eq!(err("mov %R0, 1"), syntax(1, 5, "invalid register `%R0`"));
    assert_eq!(err("mov %r01, 1"), syntax(1, 5, "invalid register `%r01`"));
    assert_eq!(
        err("mov32 %r0, 2147483648"),
        range(1, 12, "immediate out of 32-bit range: `2147483648`")
    );
    assert_eq!(
        err("mov32 %r0, 0x100000000"),
        range(1, 12, "immediate out of 32-bit range: `0x100000000`")
    );
    assert_eq!(
        err("mov %r0, 12abc"),
        syntax(1, 10, "invalid number `12abc`")
    );
    assert_eq!(
        err("ldxb %r0, [%r1+0x10000]"),
        range(1, 15, "offset out of 16-bit range: `+0x10000`")
    );
    assert_eq!(
        err("ldxb %r0, [%r1+32768]"),
        range(1, 15, "offset out of 16-bit range: `+32768`")
    );
    assert_eq!(
        err("ldxb %r0, [%r10-0x2]"),
        range(1, 16, "offset out of 16-bit range: `-0x2`")
    );
    assert_eq!(
        err("ldxb %r0, %r1"),
        syntax(1, 11, "expected a memory operand `[%rN+off]`, found `%r1`")
    );
    assert_eq!(
        err("ldxb %r0, [%r1+8"),
        syntax(
            1,
            11,
            "expected a memory operand `[%rN+off]`, found `[%r1+8`"
        )
    );
    assert_eq!(
        err("ldxb %r0, [%q1+8]"),
        syntax(1, 12, "invalid register `%q1`")
    );
    assert_eq!(
        err("ja +32768"),
        range(1, 4, "offset out of 16-bit range: `+32768`")
    );
    assert_eq!(
        err("ja NOT_A_LABEL\nexit"),
        AsmError::UnknownLabel {
            line: 1,
            column: 4,
            label: "NOT_A_LABEL".to_owned()
        }
    );
    // A plain number is a label name, not an offset.
    assert_eq!(
        err("ja 5"),
        AsmError::UnknownLabel {
            line: 1,
            column: 4,
            label: "5".to_owned()
        }
    );
    assert_eq!(
        err("a:\nexit\na: # again"),
        AsmError::DuplicateLabel {
            line: 3,
            column: 1,
            label: "a".to_owned()
        }
    );
    assert_eq!(
        err("call far 5"),
        syntax(1, 6, "invalid call mode `far` (helper, local or runtime)")
    );
    assert_eq!(
        err("call local 1, 2"),
        syntax(1, 1, "`call` takes 1 or 2 operands, found 3 operands")
    );
    assert_eq!(
        err("lock"),
        syntax(
            1,
            1,
            "`lock` takes `[fetch] OP [dst+off], src`, found 0 operands"
        )
    );
    assert_eq!(
        err("lock or [%r10-8]"),
        syntax(
            1,
            1,
            "`lock` takes `[fetch] OP [dst+off], src`, found 2 operands"
        )
    );
    assert_eq!(
        err("lock nand [%r10-8], %r1"),
        syntax(1, 6, "unknown atomic operation `nand`")
    );
    assert_eq!(
        err("addr_space_cast %r1, %r2, 65536, 0"),
        range(1, 27, "value out of range 0..=65535: `65536`")
    );
    // A later syntax error wins over an earlier unknown label: labels are
    // resolved at the end, like upstream.
    assert_eq!(
        err("ja nowhere\nbogus"),
        syntax(2, 1, "unknown mnemonic `bogus`")
    );
    assert_eq!(err("x").line(), 1);
}

#[test]
fn decode_errors_carry_the_line_of_the_instruction() {
    // %r11 assembles (upstream keeps it for negative tests) but never decodes.
    let raw = assemble_raw("mov %r0, 0\nmov %r11, 1").unwrap();
    assert_eq!(raw[1], RawInsn::new(0xb7, 11, 0, 0, 1));
    assert_eq!(
        assemble("lddw %r0, 1\n\nmov %r11, 1\nexit"),
        Err(AsmError::Decode {
            line: 3,
            source: DecodeError::InvalidRegister {
                idx: 2,
                field: Field::Dst,
                reg: 11
            }
        })
    );
    // A movsx with an immediate is `BPF_K` with a non-zero offset.
    assert_eq!(
        assemble_raw("movsx864 %r0, 3").unwrap(),
        [RawInsn::new(0xb7, 0, 0, 8, 3)]
    );
    assert!(matches!(
        assemble("movsx864 %r0, 3"),
        Err(AsmError::Decode { line: 1, .. })
    ));
}

fn raw(t: &str) -> Vec<RawInsn> {
    assemble_raw(t).unwrap_or_else(|e| panic!("{t}: {e}"))
}

#[test]
fn quirk_label_line_ignores_the_rest() {
    // The instruction after `L:` on the same line is dropped.
    assert_eq!(raw("L: mov %r0, 1\nexit"), raw("exit"));
    assert_eq!(
        raw("start: this is not even parsed\nja start"),
        raw("ja -1")
    );
}

#[test]
fn quirk_first_exit_defines_label_exit() {
    // Forward and backward references to the first exit.
    assert_eq!(
        raw("jne %r0, %r1, exit\nmov %r0, 1\nexit\nja exit\nexit"),
        raw("jne %r0, %r1, +1\nmov %r0, 1\nexit\nja -2\nexit")
    );
    // The first `exit` replaces an earlier `exit:` label.
    assert_eq!(
        raw("ja exit\nexit:\nmov %r0, 0\nexit"),
        raw("ja +1\nmov %r0, 0\nexit")
    );
    // An `exit:` after the first exit is a duplicate.
    assert_eq!(
        assemble_raw("exit\nexit:"),
        Err(AsmError::DuplicateLabel {
            line: 2,
            column: 1,
            label: "exit".to_owned()
        })
    );
}

#[test]
fn quirk_registers_above_r10_encode() {
    for n in 11u8..=15 {
        assert_eq!(
            raw(&format!("mov %r{n}, %r{n}")),
            [RawInsn::new(0xbf, n, n, 0, 0)]
        );
    }
    assert!(assemble_raw("mov %r16, 0").is_err());
}

#[test]
fn quirk_hex_offsets_and_immediates() {
    assert_eq!(raw("ldxb %r0, [%r1+0xffff]")[0].off, -1);
    assert_eq!(raw("ja +0x8000")[0].off, i16::MIN);
    assert_eq!(raw("ldxb %r0, [%r1-32768]")[0].off, i16::MIN);
    assert_eq!(raw("ldxb %r0, [%r1-0x0]")[0].off, 0);
    assert_eq!(raw("ldxb %r0, [%r1]")[0].off, 0);
    assert!(assemble_raw("ja -0x2").is_err());
    assert_eq!(raw("mov %r0, 0xffffffff")[0].imm, -1);
    assert_eq!(raw("mov %r0, 0x80000000")[0].imm, i32::MIN);
    assert_eq!(raw("mov %r0, -2147483648")[0].imm, i32::MIN);
    assert_eq!(raw("mov %r0, +7")[0].imm, 7);
    assert!(assemble_raw("mov %r0, -2147483649").is_err());
    assert!(assemble_raw("mov %r0, -0x1").is_err());
}

#[test]
fn quirk_lddw_imm64() {
    let imm = |t: &str| {
        let r = raw(t);
        assert_eq!(r.len(), 2);
        assert_eq!((r[1].code, r[1].dst, r[1].src, r[1].off), (0, 0, 0, 0));
        (u64::from(r[1].imm as u32) << 32) | u64::from(r[0].imm as u32)
    };
    assert_eq!(imm("lddw %r0, 0x1122334455667788"), 0x1122_3344_5566_7788);
    assert_eq!(imm("lddw %r0, 0xFFFFFFFF80000000"), 0xffff_ffff_8000_0000);
    assert_eq!(imm("lddw %r0, -1"), u64::MAX);
    assert_eq!(imm("lddw %r0, -0x1"), u64::MAX);
    assert_eq!(imm("lddw %r0, 18446744073709551615"), u64::MAX);
    assert_eq!(imm("lddw %r0, -9223372036854775808"), 1 << 63);
    assert!(assemble_raw("lddw %r0, 18446744073709551616").is_err());
    assert!(assemble_raw("lddw %r0, -9223372036854775809").is_err());
    assert!(assemble_raw("lddw %r0, 0x10000000000000000").is_err());
    // lddw is two slots for label arithmetic.
    assert_eq!(raw("ja done\nlddw %r0, 1\ndone:\nexit")[0].off, 2);
    let r = raw("lddw %r0, 0x1122334455667788\nexit");
    assert_eq!(
        r.iter().map(|s| s.to_u64()).collect::<Vec<_>>(),
        [0x5566_7788_0000_0018, 0x1122_3344_0000_0000, 0x95]
    );
}

#[test]
fn quirk_calls() {
    assert_eq!(raw("call 5"), [RawInsn::new(0x85, 0, 0, 0, 5)]);
    assert_eq!(raw("call helper 5"), [RawInsn::new(0x85, 0, 0, 0, 5)]);
    assert_eq!(raw("call %r2"), [RawInsn::new(0x8d, 2, 0, 0, 0)]);
    assert_eq!(raw("call helper %r9"), [RawInsn::new(0x8d, 9, 0, 0, 0)]);
    assert_eq!(raw("call runtime 9"), [RawInsn::new(0x85, 0, 2, 0, 9)]);
    assert_eq!(raw("call runtime 9, 3"), [RawInsn::new(0x85, 0, 2, 3, 9)]);
    // `call local` puts the target in imm.
    assert_eq!(
        raw("call local f\nexit\nf:\nexit"),
        [
            RawInsn::new(0x85, 0, 1, 0, 1),
            RawInsn::new(0x95, 0, 0, 0, 0),
            RawInsn::new(0x95, 0, 0, 0, 0)
        ]
    );
    let p = assemble("call local +1\nexit\nexit").unwrap();
    assert_eq!(p.insns()[0], Insn::Call(CallTarget::Local(1)));
}

#[test]
fn quirk_lock_forms() {
    let one = |t: &str| raw(t)[0];
    assert_eq!(
        one("lock add [%r10-8], %r1"),
        RawInsn::new(0xdb, 10, 1, -8, 0)
    );
    assert_eq!(
        one("lock fetch add32 [%r10-4], %r3"),
        RawInsn::new(0xc3, 10, 3, -4, 1)
    );
    assert_eq!(one("lock or [%r1], %r2").imm, 0x40);
    assert_eq!(one("lock fetch or [%r1], %r2").imm, 0x41);
    assert_eq!(one("lock and [%r1], %r2").imm, 0x50);
    assert_eq!(one("lock fetch and [%r1], %r2").imm, 0x51);
    assert_eq!(one("lock xor [%r1], %r2").imm, 0xa0);
    assert_eq!(one("lock fetch xor [%r1], %r2").imm, 0xa1);
    assert_eq!(one("lock xchg [%r1], %r2").imm, 0xe1);
    assert_eq!(one("lock fetch xchg [%r1], %r2").imm, 0xe1);
    assert_eq!(
        one("lock cmpxchg32 [%r1], %r2"),
        RawInsn::new(0xc3, 1, 2, 0, 0xf1)
    );
}

#[test]
fn quirk_ja32_target_in_imm() {
    assert_eq!(
        raw("ja32 end\nmov %r0, 1\nend:\nexit"),
        [
            RawInsn::new(0x06, 0, 0, 0, 1),
            RawInsn::new(0xb7, 0, 0, 0, 1),
            RawInsn::new(0x95, 0, 0, 0, 0)
        ]
    );
    assert_eq!(raw("ja32 -1")[0].imm, -1);
    assert_eq!(raw("ja32 +0xffffffff")[0].imm, -1);
}

#[test]
fn quirk_movsx_signed_division_and_swaps() {
    assert_eq!(raw("movsx864 %r1, %r2")[0], RawInsn::new(0xbf, 1, 2, 8, 0));
    assert_eq!(
        raw("movsx1664 %r1, %r2")[0],
        RawInsn::new(0xbf, 1, 2, 16, 0)
    );
    assert_eq!(
        raw("movsx3264 %r1, %r2")[0],
        RawInsn::new(0xbf, 1, 2, 32, 0)
    );
    assert_eq!(raw("movsx832 %r1, %r2")[0], RawInsn::new(0xbc, 1, 2, 8, 0));
    assert_eq!(
        raw("movsx1632 %r1, %r2")[0],
        RawInsn::new(0xbc, 1, 2, 16, 0)
    );
    assert!(assemble_raw("movsx3232 %r1, %r2").is_err());
    assert_eq!(raw("sdiv %r1, 3")[0], RawInsn::new(0x37, 1, 0, 1, 3));
    assert_eq!(raw("sdiv32 %r1, %r2")[0], RawInsn::new(0x3c, 1, 2, 1, 0));
    assert_eq!(raw("smod %r1, %r2")[0], RawInsn::new(0x9f, 1, 2, 1, 0));
    assert_eq!(raw("smod32 %r1, 3")[0], RawInsn::new(0x94, 1, 0, 1, 3));
    for (m, code, imm) in [
        ("swap16", 0xd7, 16),
        ("swap32", 0xd7, 32),
        ("swap64", 0xd7, 64),
        ("bswap16", 0xd7, 16),
        ("bswap64", 0xd7, 64),
        ("le32", 0xd4, 32),
        ("be16", 0xdc, 16),
    ] {
        assert_eq!(
            raw(&format!("{m} %r3"))[0],
            RawInsn::new(code, 3, 0, 0, imm)
        );
    }
    assert!(assemble_raw("le8 %r3").is_err());
    assert_eq!(raw("neg %r1")[0], RawInsn::new(0x87, 1, 0, 0, 0));
    assert_eq!(raw("neg32 %r1")[0], RawInsn::new(0x84, 1, 0, 0, 0));
}

#[test]
fn quirk_comments_blank_lines_and_whitespace() {
    assert_eq!(
        raw("# only a comment\n\n\tmov\t%r0,\t1   # trailing\r\n   exit\r\n"),
        raw("mov %r0, 1\nexit")
    );
    // A missing space after the comma makes one operand out of two.
    assert!(assemble_raw("mov %r0,1").is_err());
    assert_eq!(raw(""), []);
    assert_eq!(raw("only_a_label:"), []);
}

/// Mangled text never panics: every prefix of every sample line, and every
/// single-character substitution with characters the grammar cares about.
#[test]
fn mangled_input_is_an_error_not_a_panic() {
    let samples = [
        "lock fetch add32 [%r10-0x8], %r1",
        "jne32 %r0, 0xffffffff, label",
        "lddw %r1, map_idx_value 2, 16",
        "call runtime 5, -1",
        "addr_space_cast %r1, %r2, 1, 0",
        "movsx1632 %r1, %r2",
        "ldxdw %r0, [%r1+32767]",
        "label: ja32 -0x1",
        "stdw [%r10-8], -2147483648",
        "lddw %r0, -9223372036854775808",
    ];
    let subst = [
        ' ', ',', '[', ']', '+', '-', '%', 'x', '0', '9', 'f', ':', '#', 'é', '\t',
    ];
    let mut tried = 0usize;
    for s in samples {
        let cuts: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
        for &cut in &cuts {
            let _ = assemble(&s[..cut]);
            let _ = assemble(&format!("{}\nexit\nlabel:", &s[..cut]));
            tried += 2;
        }
        for (i, ch) in s.char_indices() {
            for c in subst {
                let mut t = String::with_capacity(s.len() + 2);
                t.push_str(&s[..i]);
                t.push(c);
                t.push_str(&s[i + ch.len_utf8()..]);
                let _ = assemble(&t);
                tried += 1;
            }
        }
    }
    assert!(tried > 4_000, "{tried}");
}
