//! ALU, byte-order, move and jump semantics (RFC 9669), including every edge
//! case the RFC defines, and a sweep of all operations against a reference.

mod common;

use common::{check, rt};
use ebpf_interp::Interpreter;
use ebpf_isa::{AluOp, Imm64, Insn, JmpCond, Operand, Program, Reg, Width};

#[test]
fn division_and_modulo_edge_cases() {
    // x / 0 = 0, x % 0 = x (64-bit, immediate and register).
    check("mov %r0, 7\ndiv %r0, 0\nexit", 0);
    check("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit", 0);
    check("mov %r0, 7\nmod %r0, 0\nexit", 7);
    check("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit", 7);
    // 32-bit forms work on, and zero-extend, the low half.
    check("lddw %r0, 0x100000007\ndiv32 %r0, 0\nexit", 0);
    check("lddw %r0, 0x100000007\nmod32 %r0, 0\nexit", 7);
    check(
        "lddw %r0, 0x1ffffffff\nmov %r1, 0\nmod32 %r0, %r1\nexit",
        0xffff_ffff,
    );
    check(
        "lddw %r0, 0x100000010\nlddw %r1, 0x100000004\ndiv32 %r0, %r1\nexit",
        4,
    );
    // Signed: INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0.
    check("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit", 1 << 63);
    check(
        "lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1\nexit",
        1 << 63,
    );
    check("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit", 0);
    check(
        "lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1\nexit",
        0,
    );
    check("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit", 0x8000_0000);
    check("mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit", 0);
    // Signed by zero.
    check("mov %r0, -7\nsdiv %r0, 0\nexit", 0);
    check("mov %r0, -7\nsmod %r0, 0\nexit", (-7i64) as u64);
    check(
        "mov %r0, -7\nsmod32 %r0, 0\nexit",
        u64::from((-7i32) as u32),
    );
    // Truncating division; the remainder has the dividend's sign.
    check("mov %r0, -7\nsdiv %r0, 2\nexit", (-3i64) as u64);
    check("mov %r0, -7\nsmod %r0, 2\nexit", (-1i64) as u64);
    check("mov %r0, 7\nsmod %r0, -2\nexit", 1);
    check(
        "mov32 %r0, -7\nsdiv32 %r0, 2\nexit",
        u64::from((-3i32) as u32),
    );
    // Unsigned division treats the sign-extended immediate as unsigned.
    check("mov %r0, -1\ndiv %r0, -1\nexit", 1);
}

#[test]
fn shifts_are_masked() {
    check("mov %r0, 1\nlsh %r0, 65\nexit", 2);
    check("mov %r0, 1\nlsh %r0, -1\nexit", 1 << 63);
    check("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit", 2);
    check("mov32 %r0, 1\nlsh32 %r0, 33\nexit", 2);
    check("mov32 %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit", 2);
    check("lddw %r0, 0x8000000000000000\nrsh %r0, 127\nexit", 1);
    check("mov32 %r0, 0x80000000\nrsh32 %r0, -1\nexit", 1);
    check("mov %r0, -16\narsh %r0, 2\nexit", (-4i64) as u64);
    check("mov %r0, -16\narsh %r0, 66\nexit", (-4i64) as u64);
    check("mov32 %r0, 0x80000000\narsh32 %r0, 4\nexit", 0xf800_0000);
    check(
        "mov %r0, -1\nmov %r1, 36\narsh32 %r0, %r1\nexit",
        0xffff_ffff,
    );
}

#[test]
fn widths_and_immediates() {
    // 32-bit results are zero-extended.
    check("mov %r0, -1\nadd32 %r0, 1\nexit", 0);
    check("mov %r0, -1\nmov32 %r0, %r0\nexit", 0xffff_ffff);
    check("mov32 %r0, -1\nexit", 0xffff_ffff);
    check("mov32 %r0, 0x80000000\nmul32 %r0, -1\nexit", 0x8000_0000);
    // 64-bit immediates are sign-extended.
    check("mov %r0, -1\nexit", u64::MAX);
    check("mov %r0, 0\nadd %r0, -1\nexit", u64::MAX);
    check(
        "mov %r0, 0\nor %r0, 0x80000000\nexit",
        0xffff_ffff_8000_0000,
    );
    check("mov %r0, -1\nand %r0, 0x7fffffff\nexit", 0x7fff_ffff);
    check("mov %r0, 5\nneg %r0\nexit", (-5i64) as u64);
    check("mov %r0, 5\nneg32 %r0\nexit", 0xffff_fffb);
    check("lddw %r0, 0x1122334455667788\nexit", 0x1122_3344_5566_7788);
}

#[test]
fn sign_extending_moves() {
    check(
        "mov %r1, 0x80\nmovsx864 %r0, %r1\nexit",
        0xffff_ffff_ffff_ff80,
    );
    check("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit", 0xffff_ff80);
    check("mov %r1, 0x7f\nmovsx864 %r0, %r1\nexit", 0x7f);
    check(
        "mov %r1, 0x8000\nmovsx1664 %r0, %r1\nexit",
        0xffff_ffff_ffff_8000,
    );
    check(
        "lddw %r1, 0x123458000\nmovsx1632 %r0, %r1\nexit",
        0xffff_8000,
    );
    check(
        "mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit",
        0xffff_ffff_8000_0000,
    );
}

#[test]
fn byte_order() {
    let v = "lddw %r0, 0x1122334455667788\n";
    check(&format!("{v}le16 %r0\nexit"), 0x7788);
    check(&format!("{v}le32 %r0\nexit"), 0x5566_7788);
    check(&format!("{v}le64 %r0\nexit"), 0x1122_3344_5566_7788);
    check(&format!("{v}be16 %r0\nexit"), 0x8877);
    check(&format!("{v}be32 %r0\nexit"), 0x8877_6655);
    check(&format!("{v}be64 %r0\nexit"), 0x8877_6655_4433_2211);
    check(&format!("{v}bswap16 %r0\nexit"), 0x8877);
    check(&format!("{v}bswap32 %r0\nexit"), 0x8877_6655);
    check(&format!("{v}bswap64 %r0\nexit"), 0x8877_6655_4433_2211);
}

#[test]
fn jumps() {
    // Signed vs unsigned, sign-extended immediates.
    check(
        "mov %r0, 0\nmov %r1, -1\njgt %r1, 5, +1\nexit\nmov %r0, 1\nexit",
        1,
    );
    check(
        "mov %r0, 0\nmov %r1, -1\njsgt %r1, 5, +1\nexit\nmov %r0, 1\nexit",
        0,
    );
    check(
        "mov %r0, 0\nmov %r1, -1\njeq %r1, -1, +1\nexit\nmov %r0, 1\nexit",
        1,
    );
    check(
        "mov %r0, 0\nmov %r1, -2\njslt %r1, -1, +1\nexit\nmov %r0, 1\nexit",
        1,
    );
    check(
        "mov %r0, 0\nmov %r1, 6\njset %r1, 4, +1\nexit\nmov %r0, 1\nexit",
        1,
    );
    check(
        "mov %r0, 0\nmov %r1, 6\njset %r1, 1, +1\nexit\nmov %r0, 1\nexit",
        0,
    );
    // 32-bit compares look at the low halves only.
    check(
        "mov %r0, 0\nlddw %r1, 0x100000005\njeq32 %r1, 5, +1\nexit\nmov %r0, 1\nexit",
        1,
    );
    check(
        "mov %r0, 0\nlddw %r1, 0x100000005\njeq %r1, 5, +1\nexit\nmov %r0, 1\nexit",
        0,
    );
    check(
        "mov %r0, 0\nmov32 %r1, -1\njslt32 %r1, 0, +1\nexit\nmov %r0, 1\nexit",
        1,
    );
    check(
        "mov %r0, 0\nmov32 %r1, -1\njslt %r1, 0, +1\nexit\nmov %r0, 1\nexit",
        0,
    );
    // Backward jumps, ja32 (gotol).
    check(
        "mov %r0, 0\nmov %r1, 10\nl:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, l\nexit",
        55,
    );
    check("mov %r0, 1\nja32 +1\nmov %r0, 2\nexit", 1);
}

// ---------------------------------------------------------------------------
// Sweep against a reference written independently from RFC 9669's tables.
// ---------------------------------------------------------------------------

const VALUES: [u64; 12] = [
    0,
    1,
    2,
    7,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0003,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_ffff_fffe,
    u64::MAX,
];

fn reference64(op: AluOp, a: u64, b: u64) -> u64 {
    let (sa, sb) = (a as i64, b as i64);
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::Div => a.checked_div(b).unwrap_or(0),
        AluOp::SDiv => match (sa, sb) {
            (_, 0) => 0,
            (i64::MIN, -1) => a,
            _ => (sa / sb) as u64,
        },
        AluOp::Or => a | b,
        AluOp::And => a & b,
        AluOp::Lsh => a << (b % 64),
        AluOp::Rsh => a >> (b % 64),
        AluOp::Mod => {
            if b == 0 {
                a
            } else {
                a % b
            }
        }
        AluOp::SMod => match (sa, sb) {
            (_, 0) => a,
            (i64::MIN, -1) => 0,
            _ => (sa % sb) as u64,
        },
        AluOp::Xor => a ^ b,
        AluOp::Mov => b,
        AluOp::Arsh => (sa >> (b % 64)) as u64,
    }
}

fn reference32(op: AluOp, a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    let (sa, sb) = (a as i32, b as i32);
    let r: u32 = match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::Div => a.checked_div(b).unwrap_or(0),
        AluOp::SDiv => match (sa, sb) {
            (_, 0) => 0,
            (i32::MIN, -1) => a,
            _ => (sa / sb) as u32,
        },
        AluOp::Or => a | b,
        AluOp::And => a & b,
        AluOp::Lsh => a << (b % 32),
        AluOp::Rsh => a >> (b % 32),
        AluOp::Mod => {
            if b == 0 {
                a
            } else {
                a % b
            }
        }
        AluOp::SMod => match (sa, sb) {
            (_, 0) => a,
            (i32::MIN, -1) => 0,
            _ => (sa % sb) as u32,
        },
        AluOp::Xor => a ^ b,
        AluOp::Mov => b,
        AluOp::Arsh => (sa >> (b % 32)) as u32,
    };
    u64::from(r)
}

fn ld(dst: Reg, v: u64) -> Insn {
    Insn::LdImm64 {
        dst,
        imm: Imm64::Imm(v),
    }
}

fn exec(prog: &Program) -> u64 {
    let vm = Interpreter::new(prog).unwrap_or_else(|e| panic!("{e}"));
    vm.run(&mut rt(), &mut []).unwrap_or_else(|t| panic!("{t}"))
}

#[test]
fn alu_sweep_matches_reference() {
    let mut n = 0;
    for op in AluOp::ALL {
        for width in [Width::W64, Width::W32] {
            for &a in &VALUES {
                for &b in &VALUES {
                    // Register operand.
                    let prog = Program::from_insns([
                        ld(Reg::R0, a),
                        ld(Reg::R1, b),
                        Insn::Alu {
                            op,
                            width,
                            dst: Reg::R0,
                            src: Operand::Reg(Reg::R1),
                        },
                        Insn::Exit,
                    ]);
                    let want = match width {
                        Width::W64 => reference64(op, a, b),
                        Width::W32 => reference32(op, a, b),
                    };
                    assert_eq!(exec(&prog), want, "{op:?} {width:?} {a:#x}, {b:#x} (reg)");
                    // Immediate operand: the 32-bit value, sign-extended for 64-bit ops.
                    let imm = b as u32 as i32;
                    let prog = Program::from_insns([
                        ld(Reg::R0, a),
                        Insn::Alu {
                            op,
                            width,
                            dst: Reg::R0,
                            src: Operand::Imm(imm),
                        },
                        Insn::Exit,
                    ]);
                    let want = match width {
                        Width::W64 => reference64(op, a, i64::from(imm) as u64),
                        Width::W32 => reference32(op, a, u64::from(imm as u32)),
                    };
                    assert_eq!(exec(&prog), want, "{op:?} {width:?} {a:#x}, {imm} (imm)");
                    n += 2;
                }
            }
        }
    }
    assert_eq!(n, 14 * 2 * 12 * 12 * 2);
}

fn cond_ref(cond: JmpCond, width: Width, a: u64, b: u64) -> bool {
    let (a, b, sa, sb) = match width {
        Width::W64 => (a, b, a as i64, b as i64),
        Width::W32 => (
            u64::from(a as u32),
            u64::from(b as u32),
            i64::from(a as u32 as i32),
            i64::from(b as u32 as i32),
        ),
    };
    match cond {
        JmpCond::Eq => a == b,
        JmpCond::Ne => a != b,
        JmpCond::Gt => a > b,
        JmpCond::Ge => a >= b,
        JmpCond::Lt => a < b,
        JmpCond::Le => a <= b,
        JmpCond::Sgt => sa > sb,
        JmpCond::Sge => sa >= sb,
        JmpCond::Slt => sa < sb,
        JmpCond::Sle => sa <= sb,
        JmpCond::Set => a & b != 0,
    }
}

#[test]
fn jump_sweep_matches_reference() {
    for cond in JmpCond::ALL {
        for width in [Width::W64, Width::W32] {
            for &a in &VALUES {
                for &b in &VALUES {
                    let imm = b as u32 as i32;
                    let imm_value = match width {
                        Width::W64 => i64::from(imm) as u64,
                        Width::W32 => u64::from(imm as u32),
                    };
                    for (src, bv) in [(Operand::Reg(Reg::R2), b), (Operand::Imm(imm), imm_value)] {
                        let prog = Program::from_insns([
                            ld(Reg::R1, a),
                            ld(Reg::R2, b),
                            Insn::Alu {
                                op: AluOp::Mov,
                                width: Width::W64,
                                dst: Reg::R0,
                                src: Operand::Imm(1),
                            },
                            Insn::Jump {
                                cond,
                                width,
                                dst: Reg::R1,
                                src,
                                off: 1,
                            },
                            Insn::Alu {
                                op: AluOp::Mov,
                                width: Width::W64,
                                dst: Reg::R0,
                                src: Operand::Imm(0),
                            },
                            Insn::Exit,
                        ]);
                        let want = u64::from(cond_ref(cond, width, a, bv));
                        assert_eq!(exec(&prog), want, "{cond:?} {width:?} {a:#x} {src:?}");
                    }
                }
            }
        }
    }
}
