//! Decoder and encoder: exhaustive round trip over opcodes with sampled
//! operands, kernel-syntax spot checks, and the reserved-field cases of the
//! conformance suite.

use ebpf_isa::{DecodeError, Field, Insn, Program, RawInsn, decode, encode};

mod common;
use common::candidates;

#[test]
fn decode_encode_round_trip_is_lossless() {
    let (mut ok, mut rejected) = (0usize, 0usize);
    let mut codes = std::collections::BTreeSet::new();
    for slots in candidates() {
        match decode(&slots) {
            Ok(insns) => {
                ok += 1;
                codes.insert(slots[0].code);
                assert_eq!(encode(&insns), slots, "{insns:?}");
                // Registers in a decoded instruction are always valid.
                assert!(slots[0].dst <= 10 || slots[0].dst == 0);
            }
            Err(e) => {
                rejected += 1;
                assert_eq!(e.insn_idx(), Some(0), "{e}");
            }
        }
    }
    assert!(
        ok > 10_000 && rejected > 10_000,
        "ok {ok} rejected {rejected}"
    );
    // Every opcode of the ISA decodes for some operands.
    let expected: &[u8] = &[
        0x04, 0x0c, 0x07, 0x0f, 0x84, 0x87, 0xd4, 0xdc, 0xd7, 0xbc, 0xbf, 0x34, 0x3c, 0x37, 0x3f,
        0x94, 0x9c, 0x97, 0x9f, 0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x61, 0x69, 0x71, 0x79,
        0x81, 0x89, 0x91, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0xcb, 0xd3,
        0x05, 0x06, 0x0d, 0x15, 0x1d, 0x16, 0x1e, 0xa5, 0xad, 0xd6, 0xde, 0x85, 0x8d, 0x95, 0xe5,
    ];
    for code in expected {
        assert!(codes.contains(code), "opcode {code:#04x} never decoded");
    }
    for code in [
        0x8c,
        0x8f,
        0xdf,
        0xe4,
        0xf7,
        0x38,
        0x58,
        0x99,
        0x06 | 0x80,
        0x96,
        0xe6,
        0x0e,
    ] {
        assert!(!codes.contains(&code), "opcode {code:#04x} must not decode");
    }
}

fn one(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> String {
    let insns = decode(&[RawInsn::new(code, dst, src, off, imm)]).unwrap();
    insns[0].to_string()
}

#[test]
fn kernel_syntax() {
    assert_eq!(one(0x61, 0, 1, 4, 0), "r0 = *(u32 *)(r1 +4)");
    assert_eq!(one(0x25, 1, 0, 3, 5), "if r1 > 0x5 goto pc+3");
    assert_eq!(one(0x15, 1, 0, -2, -1), "if r1 == 0xffffffff goto pc-2");
    assert_eq!(one(0x04, 0, 0, 0, 1), "w0 += 1");
    assert_eq!(one(0xb7, 0, 0, 0, -1), "r0 = -1");
    assert_eq!(one(0x85, 0, 0, 0, 1), "call bpf_map_lookup_elem#1");
    assert_eq!(one(0x85, 0, 0, 0, 9999), "call unknown#9999");
    assert_eq!(one(0x85, 0, 1, 0, 5), "call pc+5");
    assert_eq!(one(0xdb, 10, 1, -8, 0), "lock *(u64 *)(r10 -8) += r1");
    assert_eq!(
        one(0xc3, 10, 1, -8, 0x51),
        "r1 = atomic_fetch_and((u32 *)(r10 -8), r1)"
    );
    assert_eq!(
        one(0xdb, 10, 1, -8, 0xf1),
        "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)"
    );
    assert_eq!(
        one(0xdb, 10, 1, -8, 0xe1),
        "r1 = atomic64_xchg((u64 *)(r10 -8), r1)"
    );
    assert_eq!(one(0xd7, 3, 0, 0, 32), "r3 = bswap32 r3");
    assert_eq!(one(0xdc, 3, 0, 0, 16), "r3 = be16 r3");
    assert_eq!(one(0xbc, 7, 3, 8, 0), "w7 = (s8)w3");
    assert_eq!(one(0x3f, 1, 2, 1, 0), "r1 s/= r2");
    assert_eq!(one(0x06, 0, 0, 0, 70000), "gotol pc+70000");
    assert_eq!(one(0xe5, 0, 0, 2, 0), "may_goto pc+2");
    assert_eq!(one(0x0d, 3, 0, 0, 0), "gotox r3");
    assert_eq!(one(0xbf, 1, 2, 1, 1), "r1 = addr_space_cast(r2, 0, 1)");
    assert_eq!(
        one(0xd3, 1, 2, 0, 0x100),
        "r1 = load_acquire((u8 *)(r2 +0))"
    );
    assert_eq!(
        one(0xdb, 1, 2, 8, 0x110),
        "store_release((u64 *)(r1 +8), r2)"
    );
    assert_eq!(one(0x30, 0, 0, 0, 14), "r0 = *(u8 *)skb[14]");
    assert_eq!(one(0x40, 0, 3, 0, 2), "r0 = *(u32 *)skb[r3 + 2]");
    assert_eq!(one(0x8d, 2, 0, 0, 0), "callx r2");
    assert_eq!(one(0x84, 2, 0, 0, 0), "w2 = -w2");
    assert_eq!(one(0x7a, 10, 0, -8, 7), "*(u64 *)(r10 -8) = 7");
    let lddw = decode(&[
        RawInsn::new(0x18, 1, 0, 0, 0x1234),
        RawInsn::new(0, 0, 0, 0, 0),
    ])
    .unwrap();
    assert_eq!(lddw[0].to_string(), "r1 = 0x1234");
    assert_eq!(lddw[1], Insn::LdImm64Tail);
    assert_eq!(lddw[0].kernel_log(), "(18) r1 = 0x1234");
}

#[test]
fn typed_errors_name_the_slot() {
    let exit = RawInsn::new(0x95, 0, 0, 0, 0);
    let prog = [
        exit,
        RawInsn::new(0x07, 1, 0, 0, 1),
        RawInsn::new(0xbf, 11, 1, 0, 0),
    ];
    assert_eq!(
        decode(&prog),
        Err(DecodeError::InvalidRegister {
            idx: 2,
            field: Field::Dst,
            reg: 11
        })
    );
    assert_eq!(
        decode(&[exit, RawInsn::new(0x0f, 1, 2, 0, 5)]),
        Err(DecodeError::ReservedField {
            idx: 1,
            code: 0x0f,
            field: Field::Imm,
            value: 5
        })
    );
    assert_eq!(
        decode(&[RawInsn::new(0x18, 1, 0, 0, 0)]),
        Err(DecodeError::LdImm64Truncated { idx: 0 })
    );
    assert_eq!(
        decode(&[RawInsn::new(0x18, 1, 0, 0, 0), exit]),
        Err(DecodeError::LdImm64Malformed { idx: 0 })
    );
    assert_eq!(
        decode(&[RawInsn::new(0x18, 1, 9, 0, 0), RawInsn::default()]),
        Err(DecodeError::LdImm64UnknownPseudo { idx: 0, src: 9 })
    );
    assert_eq!(
        decode(&[RawInsn::new(0xff, 0, 0, 0, 0)]),
        Err(DecodeError::UnknownOpcode { idx: 0, code: 0xff })
    );
    assert_eq!(
        Program::from_bytes(&[0; 12]),
        Err(DecodeError::Truncated { len: 12 })
    );
    let msg = decode(&[exit, RawInsn::new(0x0f, 1, 2, 0, 5)])
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "insn 1: opcode 0x0f uses reserved field imm (must be 0, is 5)"
    );
}

/// `negative/unused-*.data` of the conformance suite: one instruction per
/// line as 8 hex bytes; every one has a non-zero unused field and must be
/// rejected at decode (README caveat there).
#[test]
fn conformance_unused_fields_are_rejected() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/bpf_conformance/negative");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("SKIP: {} not present", dir.display());
        return;
    };
    let mut n = 0;
    for e in entries {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("unused-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut in_raw = false;
        let mut bytes = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap().trim();
            if line.contains("--") {
                in_raw = line.contains("raw");
                continue;
            }
            if in_raw {
                bytes.extend(
                    line.split_whitespace()
                        .map(|t| u8::from_str_radix(t, 16).unwrap()),
                );
            }
        }
        assert!(!bytes.is_empty(), "{name}: no raw bytes");
        let res = Program::from_bytes(&bytes);
        assert!(res.is_err(), "{name} decoded: {res:?}");
        n += 1;
    }
    assert_eq!(n, 45, "expected 45 unused-* files");
}
