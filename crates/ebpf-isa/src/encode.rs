//! Encoder: [`Insn`] back to wire slots. Lossless for everything the decoder
//! accepts: `encode(decode(x)) == x`.

use crate::insn::*;
use crate::opcode::*;

fn w(width: Width, c32: u8, c64: u8) -> u8 {
    match width {
        Width::W32 => c32,
        Width::W64 => c64,
    }
}

const fn raw(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> RawInsn {
    RawInsn::new(code, dst.num(), src.num(), off, imm)
}

const R0: Reg = Reg::R0;

/// Encode one instruction: its first slot and, for `ld_imm64`, the second.
/// Returns `None` for [`Insn::LdImm64Tail`], which has no encoding of its own.
#[must_use]
pub fn encode_one(insn: &Insn) -> Option<(RawInsn, Option<RawInsn>)> {
    let one = |r| Some((r, None));
    match *insn {
        Insn::Alu {
            op,
            width,
            dst,
            src,
        } => {
            let (bits, off) = op.encoding();
            let class = w(width, BPF_ALU, BPF_ALU64);
            match src {
                Operand::Reg(s) => one(raw(class | bits | BPF_X, dst, s, off, 0)),
                Operand::Imm(imm) => one(raw(class | bits | BPF_K, dst, R0, off, imm)),
            }
        }
        Insn::Neg { width, dst } => one(raw(w(width, BPF_ALU, BPF_ALU64) | BPF_NEG, dst, R0, 0, 0)),
        Insn::MovSx {
            width,
            dst,
            src,
            bits,
        } => one(raw(
            w(width, BPF_ALU, BPF_ALU64) | BPF_MOV | BPF_X,
            dst,
            src,
            i16::from(bits.bits()),
            0,
        )),
        Insn::AddrSpaceCast {
            dst,
            src,
            dst_as,
            src_as,
        } => one(raw(
            BPF_ALU64 | BPF_MOV | BPF_X,
            dst,
            src,
            BPF_ADDR_SPACE_CAST,
            ((u32::from(dst_as) << 16) | u32::from(src_as)) as i32,
        )),
        Insn::Endian { order, bits, dst } => {
            let code = match order {
                ByteOrder::Le => BPF_ALU | BPF_END | BPF_TO_LE,
                ByteOrder::Be => BPF_ALU | BPF_END | BPF_TO_BE,
                ByteOrder::Swap => BPF_ALU64 | BPF_END | BPF_TO_LE,
            };
            one(raw(code, dst, R0, 0, i32::from(bits.bits())))
        }
        Insn::Load {
            size,
            dst,
            src,
            off,
        } => one(raw(BPF_LDX | BPF_MEM | size.bits(), dst, src, off, 0)),
        Insn::LoadSx {
            size,
            dst,
            src,
            off,
        } => one(raw(BPF_LDX | BPF_MEMSX | size.bits(), dst, src, off, 0)),
        Insn::Store {
            size,
            dst,
            off,
            src,
        } => match src {
            Operand::Reg(s) => one(raw(BPF_STX | BPF_MEM | size.bits(), dst, s, off, 0)),
            Operand::Imm(imm) => one(raw(BPF_ST | BPF_MEM | size.bits(), dst, R0, off, imm)),
        },
        Insn::Atomic {
            op,
            size,
            dst,
            src,
            off,
        } => one(raw(
            BPF_STX | BPF_ATOMIC | size.bits(),
            dst,
            src,
            off,
            op.imm(),
        )),
        Insn::LoadAcquire {
            size,
            dst,
            src,
            off,
        } => one(raw(
            BPF_STX | BPF_ATOMIC | size.bits(),
            dst,
            src,
            off,
            BPF_LOAD_ACQ,
        )),
        Insn::StoreRelease {
            size,
            dst,
            src,
            off,
        } => one(raw(
            BPF_STX | BPF_ATOMIC | size.bits(),
            dst,
            src,
            off,
            BPF_STORE_REL,
        )),
        Insn::LdAbs { size, imm } => one(raw(BPF_LD | BPF_ABS | size.bits(), R0, R0, 0, imm)),
        Insn::LdInd { size, src, imm } => one(raw(BPF_LD | BPF_IND | size.bits(), R0, src, 0, imm)),
        Insn::LdImm64 { dst, imm } => {
            let (lo, hi) = imm.imms();
            let first = RawInsn::new(BPF_LD | BPF_IMM | BPF_DW, dst.num(), imm.pseudo(), 0, lo);
            Some((first, Some(RawInsn::new(0, 0, 0, 0, hi))))
        }
        Insn::LdImm64Tail => None,
        Insn::Ja { off } => one(raw(BPF_JMP | BPF_JA, R0, R0, off, 0)),
        Insn::Gotol { imm } => one(raw(BPF_JMP32 | BPF_JA, R0, R0, 0, imm)),
        Insn::Jump {
            cond,
            width,
            dst,
            src,
            off,
        } => {
            let class = w(width, BPF_JMP32, BPF_JMP);
            match src {
                Operand::Reg(s) => one(raw(class | cond.op_bits() | BPF_X, dst, s, off, 0)),
                Operand::Imm(imm) => one(raw(class | cond.op_bits() | BPF_K, dst, R0, off, imm)),
            }
        }
        Insn::Call(target) => {
            let code = BPF_JMP | BPF_CALL;
            one(match target {
                CallTarget::Helper(id) => RawInsn::new(code, 0, 0, 0, id),
                CallTarget::Local(off) => RawInsn::new(code, 0, BPF_PSEUDO_CALL, 0, off),
                CallTarget::Kfunc { btf_id, module } => {
                    RawInsn::new(code, 0, BPF_PSEUDO_KFUNC_CALL, module, btf_id)
                }
            })
        }
        Insn::Callx { reg } => one(raw(BPF_JMP | BPF_CALL | BPF_X, reg, R0, 0, 0)),
        Insn::Exit => one(raw(BPF_JMP | BPF_EXIT, R0, R0, 0, 0)),
        Insn::MayGoto { off } => one(raw(BPF_JMP | BPF_JCOND, R0, R0, off, 0)),
        Insn::Gotox { reg } => one(raw(BPF_JMP | BPF_JA | BPF_X, reg, R0, 0, 0)),
    }
}

/// Append the slots of `insn` to `out` (nothing for [`Insn::LdImm64Tail`]).
pub fn encode_into(insn: &Insn, out: &mut Vec<RawInsn>) {
    if let Some((first, second)) = encode_one(insn) {
        out.push(first);
        out.extend(second);
    }
}

/// Encode a slot-indexed instruction vector back to slots.
#[must_use]
pub fn encode(insns: &[Insn]) -> Vec<RawInsn> {
    let mut out = Vec::with_capacity(insns.len());
    for insn in insns {
        encode_into(insn, &mut out);
    }
    out
}

/// Encode to the little-endian byte form.
#[must_use]
pub fn encode_bytes(insns: &[Insn]) -> Vec<u8> {
    encode(insns).iter().flat_map(|r| r.to_bytes()).collect()
}
