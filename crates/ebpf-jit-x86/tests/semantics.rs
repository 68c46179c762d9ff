//! Differential tests per instruction class: the JIT (hardened, blinded or
//! not, and trusted) against the interpreter, comparing r0, the stack (all
//! registers are spilled there), the input, the maps and the trace.

mod common;

use common::{Compare, Rng, check, check_rt, check_with};
use ebpf_isa::{AluOp, ByteOrder, Insn, JmpCond, Operand, Program, Reg, SwapBits, SxBits, Width};
use ebpf_runtime::{Config, MapDef, MapType, Runtime};

/// Distinct starting values for r0..r9.
fn init_regs() -> String {
    (0..10)
        .map(|i| {
            format!(
                "r{i} = {:#x} ll\n",
                0x1111_1111_1111_1111u64.wrapping_mul(i + 1)
            )
        })
        .collect()
}

/// Spill r0..r9 to the stack, return `ret`.
fn spill(ret: u8) -> String {
    let mut s: String = (0..10)
        .map(|i| format!("*(u64 *)(r10 -{}) = r{i}\n", 8 * (i + 1)))
        .collect();
    s.push_str(&format!("r0 = r{ret}\nexit\n"));
    s
}

const EDGE: [u64; 10] = [
    0,
    1,
    u64::MAX,              // -1
    0x8000_0000_0000_0000, // INT64_MIN
    0x8000_0000,           // INT32_MIN as a 32-bit value
    0xffff_ffff_8000_0000, // INT32_MIN sign-extended
    0xffff_ffff,           // -1 in 32 bits
    7,
    0xffff_ffff_ffff_fff9, // -7
    0x1_0000_0000,         // zero in the low half
];

#[test]
fn division_and_modulo_edge_cases() {
    let ops = ["/=", "%=", "s/=", "s%="];
    // dst/src pairs that exercise rax/rdx/rcx in every role.
    let pairs = [
        (1, 2),
        (0, 2),
        (3, 2),
        (1, 0),
        (1, 3),
        (0, 3),
        (3, 0),
        (4, 4),
        (6, 4),
        (0, 0),
    ];
    for op in ops {
        for w in ['r', 'w'] {
            for &(d, s) in &pairs {
                for &a in &EDGE {
                    for &b in &EDGE {
                        let text = format!(
                            "{}r{d} = {a:#x} ll\nr{s} = {b:#x} ll\n{w}{d} {op} {w}{s}\n{}",
                            init_regs(),
                            spill(d)
                        );
                        check(&text, &[]).unwrap();
                    }
                }
            }
            // Immediate divisors, including 0 and -1.
            for k in ["0", "1", "-1", "7", "-7", "0x7fffffff", "-2147483648"] {
                for &a in &EDGE {
                    for d in [0, 3, 4] {
                        let text = format!(
                            "{}r{d} = {a:#x} ll\n{w}{d} {op} {k}\n{}",
                            init_regs(),
                            spill(d)
                        );
                        check(&text, &[]).unwrap();
                    }
                }
            }
        }
    }
}

#[test]
fn rfc_division_results() {
    // Spot checks of the values themselves (not only agreement).
    assert_eq!(check("r0 = 5\nr1 = 0\nr0 /= r1\nexit", &[]), Ok(0));
    assert_eq!(check("r0 = 5\nr1 = 0\nr0 %= r1\nexit", &[]), Ok(5));
    assert_eq!(
        check("r0 = -1 ll\nw1 = 0\nw0 %= w1\nexit", &[]),
        Ok(0xffff_ffff)
    );
    assert_eq!(
        check(
            "r0 = -9223372036854775808 ll\nr1 = -1\nr0 s/= r1\nexit",
            &[]
        ),
        Ok(0x8000_0000_0000_0000)
    );
    assert_eq!(
        check("r0 = -9223372036854775808 ll\nr0 s%= -1\nexit", &[]),
        Ok(0)
    );
    assert_eq!(
        check("w0 = -2147483648\nw1 = -1\nw0 s/= w1\nexit", &[]),
        Ok(0x8000_0000)
    );
    assert_eq!(check("w0 = -2147483648\nw0 s%= -1\nexit", &[]), Ok(0));
    assert_eq!(check("r0 = -7\nr0 s/= 2\nexit", &[]), Ok(-3i64 as u64));
    assert_eq!(check("r0 = -7\nr0 s%= 2\nexit", &[]), Ok(-1i64 as u64));
}

#[test]
fn shifts_with_every_register_role() {
    for op in ["<<=", ">>=", "s>>="] {
        for w in ['r', 'w'] {
            for &(d, s) in &[(1, 2), (4, 2), (1, 4), (4, 4), (0, 4), (4, 0), (3, 3)] {
                for amount in [0u64, 1, 31, 32, 33, 63, 64, 65, 0xffff_ffff_ffff_ffc1] {
                    let text = format!(
                        "{}r{d} = 0x8123456789abcdef ll\nr{s} = {amount:#x} ll\n{w}{d} {op} {w}{s}\n{}",
                        init_regs(),
                        spill(d)
                    );
                    check(&text, &[]).unwrap();
                }
            }
            for k in [0, 1, 7, 31, 32, 63] {
                if w == 'w' && k > 31 {
                    continue;
                }
                let text = format!(
                    "{}r4 = 0x8123456789abcdef ll\n{w}4 {op} {k}\n{}",
                    init_regs(),
                    spill(4)
                );
                check(&text, &[]).unwrap();
            }
        }
    }
}

fn reg(rng: &mut Rng) -> Reg {
    Reg::new(rng.below(10) as u8).unwrap()
}

fn imm(rng: &mut Rng) -> i32 {
    match rng.below(4) {
        0 => rng.below(8) as i32 - 4,
        1 => i32::MIN,
        2 => -1,
        _ => rng.next() as i32,
    }
}

/// Random straight-line ALU programs (every ALU op, both widths, both
/// operand kinds, negation, sign-extending moves, byte swaps).
#[test]
fn random_alu_programs() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..300 {
        let mut insns = Vec::new();
        for i in 0..10u8 {
            insns.push(Insn::LdImm64 {
                dst: Reg::new(i).unwrap(),
                imm: ebpf_isa::Imm64::Imm(rng.next()),
            });
        }
        for _ in 0..25 {
            let width = if rng.below(2) == 0 {
                Width::W32
            } else {
                Width::W64
            };
            let insn = match rng.below(10) {
                0 => Insn::Neg {
                    width,
                    dst: reg(&mut rng),
                },
                1 => {
                    let bits = match rng.below(3) {
                        0 => SxBits::B8,
                        1 => SxBits::B16,
                        _ => SxBits::B32,
                    };
                    let width = if bits == SxBits::B32 {
                        Width::W64
                    } else {
                        width
                    };
                    Insn::MovSx {
                        width,
                        dst: reg(&mut rng),
                        src: reg(&mut rng),
                        bits,
                    }
                }
                2 => Insn::Endian {
                    order: [ByteOrder::Le, ByteOrder::Be, ByteOrder::Swap][rng.below(3) as usize],
                    bits: [SwapBits::B16, SwapBits::B32, SwapBits::B64][rng.below(3) as usize],
                    dst: reg(&mut rng),
                },
                _ => {
                    let op = AluOp::ALL[rng.below(AluOp::ALL.len() as u64) as usize];
                    let src = if rng.below(2) == 0 {
                        Operand::Reg(reg(&mut rng))
                    } else if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) {
                        Operand::Imm(rng.below(if width == Width::W64 { 64 } else { 32 }) as i32)
                    } else {
                        Operand::Imm(imm(&mut rng))
                    };
                    Insn::Alu {
                        op,
                        width,
                        dst: reg(&mut rng),
                        src,
                    }
                }
            };
            insns.push(insn);
        }
        for i in 0..10u8 {
            insns.push(Insn::Store {
                size: ebpf_isa::Size::DW,
                dst: Reg::R10,
                off: -8 * (i16::from(i) + 1),
                src: Operand::Reg(Reg::new(i).unwrap()),
            });
        }
        insns.push(Insn::Exit);
        let prog = Program::from_insns(insns);
        check_with(&[prog], &[], &Runtime::new, Compare::Exact).unwrap();
    }
}

#[test]
fn conditional_jumps_every_condition() {
    let conds = [
        "==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&",
    ];
    let vals: [u64; 6] = [0, 1, u64::MAX, 0x8000_0000, 0xffff_ffff_0000_0001, 5];
    for c in conds {
        for w in ['r', 'w'] {
            for &a in &vals {
                for &b in &vals {
                    let text = format!(
                        "r0 = 0\nr1 = {a:#x} ll\nr2 = {b:#x} ll\nif {w}1 {c} {w}2 goto +1\nr0 = 1\nexit"
                    );
                    check(&text, &[]).unwrap();
                }
                for k in ["0", "1", "-1", "5", "-2147483648"] {
                    let text =
                        format!("r0 = 0\nr1 = {a:#x} ll\nif {w}1 {c} {k} goto +1\nr0 = 1\nexit");
                    check(&text, &[]).unwrap();
                }
            }
        }
    }
    // Every JmpCond is covered by the syntax list above.
    assert_eq!(JmpCond::ALL.len(), conds.len());
}

#[test]
fn loops_and_backward_jumps() {
    // sum 1..=100 with a backward conditional jump, and with goto/gotol.
    assert_eq!(
        check(
            "r0 = 0\nr1 = 100\nl: r0 += r1\nr1 -= 1\nif r1 != 0 goto l\nexit",
            &[]
        ),
        Ok(5050)
    );
    assert_eq!(
        check(
            "r0 = 0\nr1 = 10\nl: if r1 == 0 goto out\nr0 += 3\nr1 -= 1\ngoto l\nout: exit",
            &[]
        ),
        Ok(30)
    );
    assert_eq!(
        check(
            "r0 = 0\nr1 = 3\nl: r0 += 1\nr1 -= 1\nif r1 == 0 goto +1\ngotol l\nexit",
            &[]
        ),
        Ok(3)
    );
}

#[test]
fn loads_and_stores_every_size() {
    let input: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37) ^ 0x80).collect();
    for size in ["u8", "u16", "u32", "u64"] {
        for off in [0, 1, 3, 8, 16] {
            check(&format!("r0 = *({size} *)(r1 +{off})\nexit"), &input).unwrap();
            check(
                &format!("*({size} *)(r1 +{off}) = r1\nr0 = 0\nexit"),
                &input,
            )
            .unwrap();
            check(
                &format!("*({size} *)(r1 +{off}) = -3\nr0 = 0\nexit"),
                &input,
            )
            .unwrap();
            check(
                &format!("r2 = -1 ll\n*({size} *)(r10 -16) = r2\nr0 = *({size} *)(r10 -16)\nexit"),
                &input,
            )
            .unwrap();
        }
    }
    for size in ["s8", "s16", "s32"] {
        for off in [0, 1, 7, 12] {
            check(&format!("r0 = *({size} *)(r1 +{off})\nexit"), &input).unwrap();
        }
    }
    // Negative offsets and every base register.
    for b in [2, 3, 4, 5, 6, 7, 8, 9] {
        check(
            &format!(
                "r{b} = r1\nr{b} += 8\nr0 = *(u32 *)(r{b} -4)\n*(u16 *)(r{b} -2) = 0x1234\nexit"
            ),
            &input,
        )
        .unwrap();
    }
    check(
        "r2 = r1\nr0 = load_acquire((u64 *)(r2 +8))\nstore_release((u32 *)(r2 +0), r0)\nexit",
        &input,
    )
    .unwrap();
}

#[test]
fn atomics_every_op_and_size() {
    let ops = [
        "lock *(u64 *)(r1 +8) += r2",
        "lock *(u64 *)(r1 +8) |= r2",
        "lock *(u64 *)(r1 +8) &= r2",
        "lock *(u64 *)(r1 +8) ^= r2",
        "lock *(u32 *)(r1 +8) += w2",
        "lock *(u32 *)(r1 +8) |= w2",
        "lock *(u32 *)(r1 +8) &= w2",
        "lock *(u32 *)(r1 +8) ^= w2",
        "r2 = atomic64_fetch_add((u64 *)(r1 +8), r2)",
        "r2 = atomic64_fetch_or((u64 *)(r1 +8), r2)",
        "r2 = atomic64_fetch_and((u64 *)(r1 +8), r2)",
        "r2 = atomic64_fetch_xor((u64 *)(r1 +8), r2)",
        "r2 = atomic64_xchg((u64 *)(r1 +8), r2)",
        "w2 = atomic_fetch_add((u32 *)(r1 +8), w2)",
        "w2 = atomic_fetch_or((u32 *)(r1 +8), w2)",
        "w2 = atomic_fetch_and((u32 *)(r1 +8), w2)",
        "w2 = atomic_fetch_xor((u32 *)(r1 +8), w2)",
        "w2 = atomic_xchg((u32 *)(r1 +8), w2)",
        "r0 = atomic_cmpxchg((u64 *)(r1 +8), r0, r2)",
        "w0 = atomic_cmpxchg((u32 *)(r1 +8), w0, w2)",
        // The fetch destination is r0 itself.
        "r0 = atomic64_fetch_or((u64 *)(r1 +8), r0)",
        "w0 = atomic_fetch_xor((u32 *)(r1 +8), w0)",
    ];
    let input: Vec<u8> = (0u8..16).map(|b| b.wrapping_mul(91)).collect();
    for op in ops {
        // cmpxchg both failing (r0 differs) and succeeding (r0 = memory).
        for pre in ["r0 = 0x7777777788888888 ll", "r0 = *(u64 *)(r1 +8)"] {
            let text = format!(
                "r9 = r1\n{}r1 = r9\n{pre}\nr2 = 0xf0f0f0f00f0f0f0f ll\n{op}\n{}",
                init_regs()
                    .replace("r9 = ", "r8 = ")
                    .replace("r1 = ", "r7 = "),
                spill(2)
            );
            check(&text, &input).unwrap_or_else(|t| panic!("{op}: {t}"));
        }
    }
}

#[test]
fn ld_imm64_and_byte_order() {
    assert_eq!(
        check("r0 = 0x1122334455667788 ll\nexit", &[]),
        Ok(0x1122_3344_5566_7788)
    );
    assert_eq!(
        check("r0 = 0x1122334455667788 ll\nr0 = be16 r0\nexit", &[]),
        Ok(0x8877)
    );
    assert_eq!(
        check("r0 = 0x1122334455667788 ll\nr0 = le32 r0\nexit", &[]),
        Ok(0x5566_7788)
    );
    assert_eq!(
        check("r0 = 0x1122334455667788 ll\nr0 = bswap64 r0\nexit", &[]),
        Ok(0x8877_6655_4433_2211)
    );
    check("r0 = func l\nexit\nl: exit", &[]).unwrap();
}

#[test]
fn legacy_packet_loads() {
    let pkt: Vec<u8> = (1u8..=16).collect();
    for t in [
        "r0 = *(u8 *)skb[3]\nexit",
        "r0 = *(u16 *)skb[3]\nexit",
        "r0 = *(u32 *)skb[12]\nexit",
        "r0 = *(u32 *)skb[13]\nexit",
        "r0 = 5\nr0 = *(u32 *)skb[-1]\nexit",
        "r3 = 2\nr0 = *(u16 *)skb[r3 + 4]\nexit",
        "r3 = -8\nr0 = *(u8 *)skb[r3 + 10]\nexit",
        "r3 = 14\nr0 = *(u32 *)skb[r3 + 0]\nr0 = 9\nexit",
    ] {
        check(t, &pkt).unwrap();
    }
    assert_eq!(check("r0 = *(u16 *)skb[0]\nexit", &pkt), Ok(0x0102));
    assert_eq!(
        check("r0 = 7\nr0 = *(u32 *)skb[13]\nr0 = 9\nexit", &pkt),
        Ok(0)
    );
}

#[test]
fn bpf_to_bpf_calls_keep_callee_saved_registers_and_frames() {
    let text = "
        r6 = 1
        r7 = 2
        r8 = 3
        r9 = 4
        *(u64 *)(r10 -8) = r6
        r1 = 10
        call f
        r0 += r6
        r0 += r7
        r0 += r8
        r0 += r9
        r1 = *(u64 *)(r10 -8)
        r0 += r1
        exit
    f:
        r6 = 100
        r7 = 200
        r8 = 300
        r9 = 400
        *(u64 *)(r10 -8) = r1
        r2 = r10
        call g
        r0 += *(u64 *)(r10 -8)
        exit
    g:
        r0 = *(u64 *)(r2 -8)
        r0 *= 2
        exit
    ";
    let text = text.replace("r0 += *(u64 *)(r10 -8)", "r3 = *(u64 *)(r10 -8)\nr0 += r3");
    assert_eq!(check(&text, &[]), Ok(20 + 10 + 1 + 2 + 3 + 4 + 1));
    // Recursion to the maximum depth and back.
    let rec =
        "r1 = 6\ncall f\nexit\nf: r0 = 0\nif r1 == 0 goto out\nr1 -= 1\ncall f\nr0 += 1\nout: exit";
    assert_eq!(check(rec, &[]), Ok(6));
    // One level deeper needs a ninth frame.
    let deep = rec.replace("r1 = 6", "r1 = 7");
    assert!(matches!(
        check(&deep, &[]),
        Err(ebpf_runtime::Trap::CallDepthExceeded { .. })
    ));
}

fn echo(_: &mut ebpf_runtime::HelperContext<'_>, a: [u64; 5]) -> Result<u64, ebpf_runtime::Trap> {
    Ok(a[0]
        ^ a[1].rotate_left(8)
        ^ a[2].rotate_left(16)
        ^ a[3].rotate_left(24)
        ^ a[4].rotate_left(32))
}

fn rt_with_maps() -> Runtime {
    let mut rt = Runtime::with_config(Config::deterministic());
    rt.register_helper(5000, "mix", echo);
    rt.maps_mut()
        .create(MapDef::new("arr", MapType::ARRAY, 4, 8, 4))
        .unwrap();
    rt.maps_mut()
        .create(MapDef::new("hash", MapType::HASH, 4, 8, 64))
        .unwrap();
    rt.set_rodata(vec![9, 8, 7, 6, 5, 4, 3, 2]);
    rt
}

#[test]
fn helpers_maps_and_callx() {
    // Arguments reach the helper, r1..r5 survive the call.
    let t = "r1 = 1\nr2 = 2\nr3 = 3\nr4 = 4\nr5 = 5\ncall 5000\nr0 += r1\nr0 += r2\nr0 += r3\nr0 += r4\nr0 += r5\nexit";
    check_rt(t, &[], &rt_with_maps).unwrap();
    let t = "r1 = 1\nr2 = 2\nr3 = 3\nr6 = 5000\ncallx r6\nexit";
    check_rt(t, &[], &rt_with_maps).unwrap();
    // Fill a hash map (its storage grows: the region table is rebuilt),
    // then read values back through pointers from lookups.
    let t = "
        r6 = 0
    l:
        *(u32 *)(r10 -4) = r6
        r7 = r6
        r7 *= 3
        *(u64 *)(r10 -16) = r7
        r1 = map[idx:1]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_map_update_elem
        r6 += 1
        if r6 < 40 goto l
        *(u32 *)(r10 -4) = 17
        r1 = map[idx:1]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto miss
        r0 = *(u64 *)(r0 +0)
        exit
    miss:
        r0 = -1
        exit
    ";
    assert_eq!(check_rt(t, &[], &rt_with_maps), Ok(51));
    // Direct map value access and rodata reads.
    let t = "r1 = map[idx:0][0]+8\nr2 = 0x55\n*(u64 *)(r1 +0) = r2\nr3 = 0x40000000 ll\nr3 <<= 2\nr0 = *(u32 *)(r3 +2)\nexit";
    check_rt(t, &[], &rt_with_maps).unwrap();
    // trace_printk and the PRNG/clock helpers.
    let t = "
        r1 = 0x000a6425 ll
        *(u64 *)(r10 -8) = r1
        r1 = r10
        r1 += -8
        r2 = 4
        r3 = 42
        call bpf_trace_printk
        call bpf_get_prandom_u32
        r6 = r0
        call bpf_ktime_get_ns
        r0 += r6
        exit
    ";
    check_rt(t, &[], &rt_with_maps).unwrap();
}

fn tail_rt(chain: bool) -> impl Fn() -> Runtime {
    move || {
        let mut rt = Runtime::with_config(Config::deterministic());
        let id = rt
            .maps_mut()
            .create(MapDef::new("progs", MapType::PROG_ARRAY, 4, 4, 4))
            .unwrap();
        rt.maps_mut().prog_array_set(id, 0, Some(1)).unwrap();
        rt.maps_mut()
            .prog_array_set(id, 1, Some(if chain { 1 } else { 2 }))
            .unwrap();
        rt.maps_mut().prog_array_set(id, 2, Some(2)).unwrap();
        rt
    }
}

#[test]
fn tail_calls() {
    let asm = |t: &str| ebpf_isa::asm::assemble(t).unwrap();
    // prog 0 -> prog 1 (r1 passes through, r6 survives) -> falls back on a
    // missing index.
    let p0 = asm("r6 = 7\nr2 = map[idx:0]\nr3 = 0\ncall bpf_tail_call\nr0 = 99\nexit");
    let p1 =
        asm("r0 = r6\nr0 += r1\nr2 = map[idx:0]\nr3 = 3\ncall bpf_tail_call\nr0 += 1000\nexit");
    let p2 = asm("r0 = 2\nexit");
    let r = check_with(
        &[p0.clone(), p1, p2.clone()],
        &[1, 2],
        &tail_rt(false),
        Compare::Exact,
    );
    assert!(r.is_ok(), "{r:?}");
    // A chain: prog 1 tail-calls itself until the limit (33), then falls
    // through with -E2BIG; count the iterations in r7.
    let p1 = asm("r7 += 1\nr2 = map[idx:0]\nr3 = 1\ncall bpf_tail_call\nr0 = r7\nexit");
    let r = check_with(&[p0, p1, p2], &[], &tail_rt(true), Compare::Exact);
    assert_eq!(r, Ok(33));
}

#[test]
fn may_goto_and_gotox() {
    let mk = || {
        let mut c = Config::deterministic();
        c.may_goto_budget = 5;
        Runtime::with_config(c)
    };
    check_rt(
        "r0 = 0\nl: may_goto out\nr0 += 1\ngoto l\nout: exit",
        &[],
        &mk,
    )
    .unwrap();
    assert_eq!(
        check("r1 = 4\ngotox r1\nr0 = 1\nexit\nr0 = 2\nexit", &[]),
        Ok(2)
    );
    assert_eq!(
        check("r1 = 2\ngotox r1\nr0 = 1\nexit\nr0 = 2\nexit", &[]),
        Ok(1)
    );
}

#[test]
fn entry_registers_and_empty_input() {
    assert_eq!(check("r0 = r1\nexit", &[]), Ok(0));
    check("r0 = r1\nr0 += r2\nexit", &[1, 2, 3]).unwrap();
    check("r0 = r10\nexit", &[]).unwrap();
    check("r0 = r3\nr0 |= r4\nr0 |= r5\nr0 |= r6\nr0 |= r9\nexit", &[]).unwrap();
}

/// Random programs with memory accesses (some out of bounds, some into the
/// read-only region), forward branches, atomics and helper calls: the
/// engines must agree on r0 or the trap, and on all memory.
#[test]
fn random_programs_with_memory_and_branches() {
    let mut rng = Rng(0x0bad_cafe_f00d_1234);
    let sizes = [
        ebpf_isa::Size::B,
        ebpf_isa::Size::H,
        ebpf_isa::Size::W,
        ebpf_isa::Size::DW,
    ];
    let mut traps = 0;
    for _ in 0..400 {
        let len = 30;
        let mut insns = vec![
            // r6 = input, r7 = rodata, r8 = map value.
            Insn::Alu {
                op: AluOp::Mov,
                width: Width::W64,
                dst: Reg::R6,
                src: Operand::Reg(Reg::R1),
            },
            Insn::LdImm64 {
                dst: Reg::R7,
                imm: ebpf_isa::Imm64::Imm(0x4_0000_0000),
            },
            Insn::LdImm64 {
                dst: Reg::R8,
                imm: ebpf_isa::Imm64::MapIdxValue { idx: 0, off: 0 },
            },
        ];
        for i in 0..len {
            let wild = rng.below(25) == 0;
            let kind = rng.below(9);
            // Loads may use rodata (r7); stores mostly not.
            let bases: &[Reg] = if kind < 2 || wild {
                &[Reg::R10, Reg::R6, Reg::R7, Reg::R8]
            } else {
                &[Reg::R10, Reg::R6, Reg::R8]
            };
            let base = bases[rng.below(bases.len() as u64) as usize];
            let off = match (base, wild) {
                (_, true) => rng.below(1200) as i16 - 600,
                (Reg::R10, _) => -8 - rng.below(504) as i16,
                _ => rng.below(8) as i16,
            };
            let size = sizes[rng.below(4) as usize];
            let insn = match kind {
                0 | 1 => Insn::Load {
                    size,
                    dst: Reg::new(rng.below(6) as u8).unwrap(),
                    src: base,
                    off,
                },
                2 => Insn::Store {
                    size,
                    dst: base,
                    off,
                    src: Operand::Reg(reg(&mut rng)),
                },
                3 => Insn::Store {
                    size,
                    dst: base,
                    off,
                    src: Operand::Imm(imm(&mut rng)),
                },
                4 => Insn::Atomic {
                    op: ebpf_isa::AtomicOp::ALL[rng.below(10) as usize],
                    size: if rng.below(2) == 0 {
                        ebpf_isa::Size::W
                    } else {
                        ebpf_isa::Size::DW
                    },
                    dst: base,
                    src: Reg::new(rng.below(6) as u8).unwrap(),
                    off: off & !7,
                },
                5 => {
                    // A forward jump within the body.
                    let left = (len - i) as u64;
                    Insn::Jump {
                        cond: JmpCond::ALL[rng.below(11) as usize],
                        width: if rng.below(2) == 0 {
                            Width::W32
                        } else {
                            Width::W64
                        },
                        dst: Reg::new(rng.below(6) as u8).unwrap(),
                        src: Operand::Imm(imm(&mut rng)),
                        off: rng.below(left) as i16,
                    }
                }
                6 => Insn::Call(ebpf_isa::CallTarget::Helper(7)), // prandom
                _ => Insn::Alu {
                    op: AluOp::ALL[rng.below(14) as usize],
                    width: Width::W64,
                    dst: Reg::new(rng.below(6) as u8).unwrap(),
                    src: Operand::Imm(imm(&mut rng) & 0x3f),
                },
            };
            insns.push(insn);
        }
        insns.push(Insn::Exit);
        let prog = Program::from_insns(insns);
        let input: Vec<u8> = (0..24).map(|_| rng.next() as u8).collect();
        if check_with(&[prog], &input, &rt_with_maps, Compare::Exact).is_err() {
            traps += 1;
        }
    }
    // Both outcomes are exercised.
    assert!(traps > 50 && traps < 350, "{traps} traps");
}

#[test]
fn prepared_runs_match_the_interpreters_vm() {
    // Count calls per input byte in a hash map, over several runs.
    let text = "
        r2 = *(u8 *)(r1 +0)
        *(u32 *)(r10 -4) = r2
        r1 = map[idx:1]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto new
        r1 = *(u64 *)(r0 +0)
        r1 += 1
        *(u64 *)(r0 +0) = r1
        r0 = r1
        exit
    new:
        *(u64 *)(r10 -16) = 1
        r1 = map[idx:1]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_map_update_elem
        r0 = 1
        exit
    ";
    let prog = ebpf_isa::asm::assemble(text).unwrap();
    let interp = ebpf_interp::Interpreter::new(&prog).unwrap();
    let jit = ebpf_jit_x86::Jit::new(&prog, ebpf_jit_x86::JitConfig::hardened()).unwrap();
    let mut rt_i = rt_with_maps();
    let mut rt_j = rt_with_maps();
    let mut vm_i = interp.prepare(&mut rt_i);
    let mut vm_j = jit.prepare(&mut rt_j);
    for b in [1u8, 2, 1, 3, 1, 2, 200, 1] {
        let a = vm_i.run(&mut [b]).map(|o| o.r0);
        let c = vm_j.run(&mut [b]).map(|o| o.r0);
        assert_eq!(a, c, "input {b}");
    }
    assert_eq!(vm_i.run(&mut [1]).map(|o| o.r0), Ok(5));
    assert_eq!(vm_j.run(&mut [1]).map(|o| o.r0), Ok(5));
    // An empty input traps the same way in both.
    assert_eq!(vm_i.run(&mut []), vm_j.run(&mut []));
}

#[test]
fn frame_pointer_as_a_value_in_every_role() {
    // Trusted code keeps a host frame pointer in rbp and gives programs
    // the guest `r10` wherever they read it as a value.
    let body = "
        r0 = r10
        r1 = r10
        r1 += -8
        *(u64 *)(r1 +0) = r10
        *(u64 *)(r10 -16) = r10
        *(u32 *)(r10 -20) = w10
        r2 = r10
        r2 -= r10
        r0 += r2
        r3 = 5
        r3 += r10
        r3 ^= r10
        r0 += r3
        r4 = 1
        r4 <<= r10
        r0 += r4
        r4 = 0x7fff ll
        r4 /= r10
        r0 += r4
        w5 = w10
        r0 += r5
        r5 = (s8)r10
        r0 += r5
        r5 = (s32)r10
        r0 += r5
        r6 = r10
        if r10 == r6 goto eq
        r0 = 1
        exit
    eq:
        if r10 > r1 goto gt
        r0 = 2
        exit
    gt:
        if w10 != 0 goto nz
        r0 = 3
        exit
    nz:
        lock *(u64 *)(r10 -8) += r10
        r7 = *(u64 *)(r10 -8)
        r0 += r7
        r8 = *(u64 *)(r10 -16)
        r0 += r8
        exit
    ";
    // In the entry frame and in a callee's.
    let direct = body.to_owned();
    let called = format!("r6 = 1\ncall f\nr0 += r6\nexit\nf:\n{body}");
    for text in [direct, called] {
        let r = check(&text, &[1, 2, 3, 4]);
        assert!(r.is_ok(), "{r:?}");
    }
    // A pointer to the stack read back and compared as an address.
    assert_eq!(
        check(
            "r1 = r10\n*(u64 *)(r10 -8) = r1\nr2 = *(u64 *)(r10 -8)\nr0 = 0\nif r2 != r10 goto out\nr0 = r2\nout: exit",
            &[]
        ),
        Ok(ebpf_runtime::layout::frame_pointer(0))
    );
}

#[test]
#[allow(unsafe_code)]
fn prepared_trusted_runs_and_runtime_access_between_runs() {
    let text = "
        r2 = *(u8 *)(r1 +0)
        *(u32 *)(r10 -4) = r2
        r1 = map[idx:1]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto none
        r0 = *(u64 *)(r0 +0)
        exit
    none:
        r0 = 99
        exit
    ";
    let prog = ebpf_isa::asm::assemble(text).unwrap();
    let interp = ebpf_interp::Interpreter::new(&prog).unwrap();
    let jit = ebpf_jit_x86::Jit::new(&prog, ebpf_jit_x86::JitConfig::trusted()).unwrap();
    let hardened = ebpf_jit_x86::Jit::new(&prog, ebpf_jit_x86::JitConfig::hardened()).unwrap();
    let mut rt_i = rt_with_maps();
    let mut rt_j = rt_with_maps();
    let mut rt_h = rt_with_maps();
    let mut vm_i = interp.prepare(&mut rt_i);
    let mut vm_j = jit.prepare(&mut rt_j);
    let mut vm_h = hardened.prepare(&mut rt_h);
    for (round, b) in [1u8, 2, 1, 3, 7, 2].into_iter().enumerate() {
        // The host adds keys between runs (the maps may move).
        for vm_rt in [vm_i.runtime(), vm_j.runtime(), vm_h.runtime()] {
            let id = ebpf_runtime::MapId(1);
            let key = u32::from(b).to_le_bytes();
            let value = (round as u64 * 10 + 5).to_le_bytes();
            vm_rt.maps_mut().update(id, &key, &value, 0).unwrap();
        }
        let want = vm_i.run(&mut [b]).map(|o| o.r0);
        // SAFETY: the program reads one input byte (the inputs are one
        // byte long), its own stack and a map value the lookup returned.
        let got = unsafe { vm_j.run_trusted(&mut [b]) }.map(|o| o.r0);
        assert_eq!(want, got, "input {b}");
        assert_eq!(want, vm_h.run(&mut [b]).map(|o| o.r0), "input {b}");
        // Runs without host access in between reuse the tables.
        // SAFETY: as above.
        let again = unsafe { vm_j.run_trusted(&mut [b]) }.map(|o| o.r0);
        assert_eq!(want, again, "input {b}, again");
        assert_eq!(want, Ok(round as u64 * 10 + 5));
    }
    // SAFETY: as above.
    assert_eq!(unsafe { vm_j.run_trusted(&mut [42]) }.map(|o| o.r0), Ok(99));
}

#[test]
fn branch_over_goto_and_calls_saving_what_the_callee_writes() {
    // `if cond goto +1; goto L` as clang emits loop ends, every condition,
    // backward and forward, and with the `goto` also a jump target.
    for c in [
        "==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&",
    ] {
        let back = format!(
            "r0 = 0\nr1 = 0\nl: r0 += r1\nr1 += 1\nif r1 {c} 5 goto +1\ngoto l\nr0 <<= 8\nr0 += r1\nexit"
        );
        check(&back, &[]).ok();
        let fwd = format!(
            "r1 = *(u8 *)(r1 +0)\nr0 = 1\nif r1 {c} 3 goto +1\ngoto out\nr0 = 2\nout: exit"
        );
        for b in [0u8, 2, 3, 4, 200] {
            check(&fwd, &[b]).ok();
        }
        let shared = format!(
            "r1 = *(u8 *)(r1 +0)\nr0 = 1\nif r1 == 9 goto g\nif r1 {c} 3 goto +1\ng: goto out\nr0 = 2\nout: exit"
        );
        for b in [0u8, 2, 3, 9, 200] {
            check(&shared, &[b]).ok();
        }
    }
    // Callees writing some, all or none of r6..r9, directly, behind a
    // branch, or by calling a helper.
    for body in [
        "r0 = 1\nexit",
        "r7 = 5\nr0 = r7\nexit",
        "if r1 == 0 goto +1\nr9 = 3\nr0 = r9\nexit",
        "r6 = 1\nr7 = 2\nr8 = 3\nr9 = 4\nr0 = r6\nexit",
        "r8 = 7\ncall bpf_get_prandom_u32\nr0 = r8\nexit",
        "r6 = 2\ncall g\nr0 += r6\nexit\ng: r9 = 11\nr0 = r9\nexit",
    ] {
        let text = format!(
            "r6 = 10\nr7 = 20\nr8 = 30\nr9 = 40\nr1 = 0\ncall f\nr0 += r6\nr0 += r7\nr0 += r8\nr0 += r9\nexit\nf:\n{body}"
        );
        assert!(check(&text, &[]).is_ok(), "{body}");
    }
}

#[test]
fn many_maps_in_every_mode() {
    // More tags than the smallest context has bias entries for (and a
    // helper call, after which the tables are rebuilt).
    for maps in [1u32, 9, 40, 300] {
        let mk = move || {
            let mut rt = Runtime::with_config(Config::deterministic());
            for i in 0..maps {
                rt.maps_mut()
                    .create(MapDef::new(format!("m{i}"), MapType::ARRAY, 4, 8, 2))
                    .unwrap();
            }
            rt
        };
        let last = maps - 1;
        let text = format!(
            "r1 = map[idx:{last}][0]+8\nr2 = 0x55\n*(u64 *)(r1 +0) = r2\n\
             *(u32 *)(r10 -4) = 1\nr1 = map[idx:{last}]\nr2 = r10\nr2 += -4\n\
             call bpf_map_lookup_elem\nif r0 == 0 goto out\nr3 = *(u64 *)(r0 +0)\n\
             r1 = map[idx:0][0]+0\nr4 = 7\n*(u64 *)(r1 +0) = r4\nr0 = r3\nr0 += r4\nout: exit"
        );
        assert_eq!(check_rt(&text, &[], &mk), Ok(0x55 + 7), "{maps} maps");
    }
}

#[test]
fn reused_bias_and_strength_reduced_code() {
    // Trusted code reuses a tag's bias across accesses through one base
    // register (loads, stores, ALU and jumps in between), and not across a
    // write of the base, a jump target, or from the input to the stack.
    let input: Vec<u8> = (0u8..64).collect();
    let text = "r6 = r10
                r6 += -64
                r0 = *(u32 *)(r1 +16)
                r2 = *(u8 *)(r1 +9)
                *(u64 *)(r6 +8) = r2
                r3 = *(u16 *)(r1 +6)
                if r3 == 0 goto out
                r2 = *(u64 *)(r6 +8)
                r0 += r2
                r1 += 32
                r4 = *(u32 *)(r1 +0)
                r0 ^= r4
                r5 = *(u8 *)(r1 +1)
              l: r5 *= 3
                r4 *= 5
                w3 *= 9
                r2 *= 8
                w5 *= 1
                r4 += r5
                r0 += r4
                r0 += r3
                r0 += r2
                r7 = *(u32 *)(r1 +4)
                r0 += r7
                r1 += 4
                if w7 != 0 goto m
                r0 += 1
              m: r8 = *(u8 *)(r1 +0)
                r0 += r8
                if r8 s< 52 goto l
              out: exit";
    check(text, &input).unwrap();
}
