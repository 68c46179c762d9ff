//! Translation of a [`Program`] into [`Op`]s, with every static check the
//! run loop then does not need: jump, call and function targets inside the
//! program and not on an `ld_imm64` tail, no fall-through past the end, no
//! write to `r10`, map references that fit the address space.

use ebpf_isa::{
    AluOp, ByteOrder, CallTarget, Imm64, Insn, JmpCond, Operand, Program, Reg, Size, SwapBits,
    SxBits, Width,
};
use ebpf_runtime::layout;

use crate::error::{InterpError, TargetKind};
use crate::op::*;

/// Most slots one program may have (the kernel's `BPF_COMPLEXITY_LIMIT_INSNS`).
pub const MAX_PROGRAM_SLOTS: usize = 1 << 20;
/// Most programs in one set.
pub const MAX_PROGRAMS: usize = 1 << 12;

#[rustfmt::skip]
fn alu_code(op: AluOp, width: Width, src: Operand) -> u8 {
    match (op, width, src) {
        (AluOp::Add, Width::W64, Operand::Imm(_)) => ADD64_K,
        (AluOp::Add, Width::W64, Operand::Reg(_)) => ADD64_X,
        (AluOp::Add, Width::W32, Operand::Imm(_)) => ADD32_K,
        (AluOp::Add, Width::W32, Operand::Reg(_)) => ADD32_X,
        (AluOp::Sub, Width::W64, Operand::Imm(_)) => SUB64_K,
        (AluOp::Sub, Width::W64, Operand::Reg(_)) => SUB64_X,
        (AluOp::Sub, Width::W32, Operand::Imm(_)) => SUB32_K,
        (AluOp::Sub, Width::W32, Operand::Reg(_)) => SUB32_X,
        (AluOp::Mul, Width::W64, Operand::Imm(_)) => MUL64_K,
        (AluOp::Mul, Width::W64, Operand::Reg(_)) => MUL64_X,
        (AluOp::Mul, Width::W32, Operand::Imm(_)) => MUL32_K,
        (AluOp::Mul, Width::W32, Operand::Reg(_)) => MUL32_X,
        (AluOp::Div, Width::W64, Operand::Imm(_)) => DIV64_K,
        (AluOp::Div, Width::W64, Operand::Reg(_)) => DIV64_X,
        (AluOp::Div, Width::W32, Operand::Imm(_)) => DIV32_K,
        (AluOp::Div, Width::W32, Operand::Reg(_)) => DIV32_X,
        (AluOp::SDiv, Width::W64, Operand::Imm(_)) => SDIV64_K,
        (AluOp::SDiv, Width::W64, Operand::Reg(_)) => SDIV64_X,
        (AluOp::SDiv, Width::W32, Operand::Imm(_)) => SDIV32_K,
        (AluOp::SDiv, Width::W32, Operand::Reg(_)) => SDIV32_X,
        (AluOp::Or, Width::W64, Operand::Imm(_)) => OR64_K,
        (AluOp::Or, Width::W64, Operand::Reg(_)) => OR64_X,
        (AluOp::Or, Width::W32, Operand::Imm(_)) => OR32_K,
        (AluOp::Or, Width::W32, Operand::Reg(_)) => OR32_X,
        (AluOp::And, Width::W64, Operand::Imm(_)) => AND64_K,
        (AluOp::And, Width::W64, Operand::Reg(_)) => AND64_X,
        (AluOp::And, Width::W32, Operand::Imm(_)) => AND32_K,
        (AluOp::And, Width::W32, Operand::Reg(_)) => AND32_X,
        (AluOp::Lsh, Width::W64, Operand::Imm(_)) => LSH64_K,
        (AluOp::Lsh, Width::W64, Operand::Reg(_)) => LSH64_X,
        (AluOp::Lsh, Width::W32, Operand::Imm(_)) => LSH32_K,
        (AluOp::Lsh, Width::W32, Operand::Reg(_)) => LSH32_X,
        (AluOp::Rsh, Width::W64, Operand::Imm(_)) => RSH64_K,
        (AluOp::Rsh, Width::W64, Operand::Reg(_)) => RSH64_X,
        (AluOp::Rsh, Width::W32, Operand::Imm(_)) => RSH32_K,
        (AluOp::Rsh, Width::W32, Operand::Reg(_)) => RSH32_X,
        (AluOp::Mod, Width::W64, Operand::Imm(_)) => MOD64_K,
        (AluOp::Mod, Width::W64, Operand::Reg(_)) => MOD64_X,
        (AluOp::Mod, Width::W32, Operand::Imm(_)) => MOD32_K,
        (AluOp::Mod, Width::W32, Operand::Reg(_)) => MOD32_X,
        (AluOp::SMod, Width::W64, Operand::Imm(_)) => SMOD64_K,
        (AluOp::SMod, Width::W64, Operand::Reg(_)) => SMOD64_X,
        (AluOp::SMod, Width::W32, Operand::Imm(_)) => SMOD32_K,
        (AluOp::SMod, Width::W32, Operand::Reg(_)) => SMOD32_X,
        (AluOp::Xor, Width::W64, Operand::Imm(_)) => XOR64_K,
        (AluOp::Xor, Width::W64, Operand::Reg(_)) => XOR64_X,
        (AluOp::Xor, Width::W32, Operand::Imm(_)) => XOR32_K,
        (AluOp::Xor, Width::W32, Operand::Reg(_)) => XOR32_X,
        (AluOp::Mov, Width::W64, Operand::Imm(_)) => MOV64_K,
        (AluOp::Mov, Width::W64, Operand::Reg(_)) => MOV64_X,
        (AluOp::Mov, Width::W32, Operand::Imm(_)) => MOV32_K,
        (AluOp::Mov, Width::W32, Operand::Reg(_)) => MOV32_X,
        (AluOp::Arsh, Width::W64, Operand::Imm(_)) => ARSH64_K,
        (AluOp::Arsh, Width::W64, Operand::Reg(_)) => ARSH64_X,
        (AluOp::Arsh, Width::W32, Operand::Imm(_)) => ARSH32_K,
        (AluOp::Arsh, Width::W32, Operand::Reg(_)) => ARSH32_X,
    }
}

#[rustfmt::skip]
fn jmp_code(cond: JmpCond, width: Width, src: Operand) -> u8 {
    match (cond, width, src) {
        (JmpCond::Eq, Width::W64, Operand::Imm(_)) => JEQ64_K,
        (JmpCond::Eq, Width::W64, Operand::Reg(_)) => JEQ64_X,
        (JmpCond::Eq, Width::W32, Operand::Imm(_)) => JEQ32_K,
        (JmpCond::Eq, Width::W32, Operand::Reg(_)) => JEQ32_X,
        (JmpCond::Ne, Width::W64, Operand::Imm(_)) => JNE64_K,
        (JmpCond::Ne, Width::W64, Operand::Reg(_)) => JNE64_X,
        (JmpCond::Ne, Width::W32, Operand::Imm(_)) => JNE32_K,
        (JmpCond::Ne, Width::W32, Operand::Reg(_)) => JNE32_X,
        (JmpCond::Gt, Width::W64, Operand::Imm(_)) => JGT64_K,
        (JmpCond::Gt, Width::W64, Operand::Reg(_)) => JGT64_X,
        (JmpCond::Gt, Width::W32, Operand::Imm(_)) => JGT32_K,
        (JmpCond::Gt, Width::W32, Operand::Reg(_)) => JGT32_X,
        (JmpCond::Ge, Width::W64, Operand::Imm(_)) => JGE64_K,
        (JmpCond::Ge, Width::W64, Operand::Reg(_)) => JGE64_X,
        (JmpCond::Ge, Width::W32, Operand::Imm(_)) => JGE32_K,
        (JmpCond::Ge, Width::W32, Operand::Reg(_)) => JGE32_X,
        (JmpCond::Lt, Width::W64, Operand::Imm(_)) => JLT64_K,
        (JmpCond::Lt, Width::W64, Operand::Reg(_)) => JLT64_X,
        (JmpCond::Lt, Width::W32, Operand::Imm(_)) => JLT32_K,
        (JmpCond::Lt, Width::W32, Operand::Reg(_)) => JLT32_X,
        (JmpCond::Le, Width::W64, Operand::Imm(_)) => JLE64_K,
        (JmpCond::Le, Width::W64, Operand::Reg(_)) => JLE64_X,
        (JmpCond::Le, Width::W32, Operand::Imm(_)) => JLE32_K,
        (JmpCond::Le, Width::W32, Operand::Reg(_)) => JLE32_X,
        (JmpCond::Sgt, Width::W64, Operand::Imm(_)) => JSGT64_K,
        (JmpCond::Sgt, Width::W64, Operand::Reg(_)) => JSGT64_X,
        (JmpCond::Sgt, Width::W32, Operand::Imm(_)) => JSGT32_K,
        (JmpCond::Sgt, Width::W32, Operand::Reg(_)) => JSGT32_X,
        (JmpCond::Sge, Width::W64, Operand::Imm(_)) => JSGE64_K,
        (JmpCond::Sge, Width::W64, Operand::Reg(_)) => JSGE64_X,
        (JmpCond::Sge, Width::W32, Operand::Imm(_)) => JSGE32_K,
        (JmpCond::Sge, Width::W32, Operand::Reg(_)) => JSGE32_X,
        (JmpCond::Slt, Width::W64, Operand::Imm(_)) => JSLT64_K,
        (JmpCond::Slt, Width::W64, Operand::Reg(_)) => JSLT64_X,
        (JmpCond::Slt, Width::W32, Operand::Imm(_)) => JSLT32_K,
        (JmpCond::Slt, Width::W32, Operand::Reg(_)) => JSLT32_X,
        (JmpCond::Sle, Width::W64, Operand::Imm(_)) => JSLE64_K,
        (JmpCond::Sle, Width::W64, Operand::Reg(_)) => JSLE64_X,
        (JmpCond::Sle, Width::W32, Operand::Imm(_)) => JSLE32_K,
        (JmpCond::Sle, Width::W32, Operand::Reg(_)) => JSLE32_X,
        (JmpCond::Set, Width::W64, Operand::Imm(_)) => JSET64_K,
        (JmpCond::Set, Width::W64, Operand::Reg(_)) => JSET64_X,
        (JmpCond::Set, Width::W32, Operand::Imm(_)) => JSET32_K,
        (JmpCond::Set, Width::W32, Operand::Reg(_)) => JSET32_X,
    }
}

/// The register an instruction writes, other than `r0` from calls.
fn written_reg(insn: &Insn) -> Option<Reg> {
    match *insn {
        Insn::Alu { dst, .. }
        | Insn::Neg { dst, .. }
        | Insn::MovSx { dst, .. }
        | Insn::AddrSpaceCast { dst, .. }
        | Insn::Endian { dst, .. }
        | Insn::Load { dst, .. }
        | Insn::LoadSx { dst, .. }
        | Insn::LoadAcquire { dst, .. }
        | Insn::LdImm64 { dst, .. } => Some(dst),
        Insn::Atomic { op, src, .. } if op.fetches() && op != ebpf_isa::AtomicOp::Cmpxchg => {
            Some(src)
        }
        _ => None,
    }
}

fn operand(src: Operand) -> (u8, i32) {
    match src {
        Operand::Reg(r) => (r.num(), 0),
        Operand::Imm(i) => (0, i),
    }
}

/// One program being translated.
struct Unit<'a> {
    prog: usize,
    insns: &'a [Insn],
}

impl Unit<'_> {
    /// Check that `pc + 1 + off` is an instruction start of the program.
    fn target(&self, pc: usize, off: i64, kind: TargetKind) -> Result<usize, InterpError> {
        let t = pc as i64 + 1 + off;
        let len = self.insns.len();
        if t < 0 || t >= len as i64 {
            return Err(InterpError::TargetOutOfRange {
                prog: self.prog,
                pc,
                target: t,
                kind,
                len,
            });
        }
        if self.insns[t as usize] == Insn::LdImm64Tail {
            return Err(InterpError::TargetInLdImm64 {
                prog: self.prog,
                pc,
                target: t as usize,
                kind,
            });
        }
        Ok(t as usize)
    }

    fn map_addr(&self, pc: usize, idx: i64, off: u32) -> Result<u64, InterpError> {
        u32::try_from(idx)
            .ok()
            .and_then(layout::map_addr)
            .map(|a| a + u64::from(off))
            .ok_or(InterpError::InvalidMapReference {
                prog: self.prog,
                pc,
                value: idx,
            })
    }

    /// The op for slot `pc`; `hi` receives the upper half of an `ld_imm64`
    /// value, for the tail slot.
    fn op(&self, pc: usize, insn: &Insn, hi: &mut i32) -> Result<Op, InterpError> {
        if written_reg(insn) == Some(Reg::R10) {
            return Err(InterpError::FramePointerWrite {
                prog: self.prog,
                pc,
            });
        }
        let n = |r: Reg| r.num();
        Ok(match *insn {
            Insn::Alu {
                op,
                width,
                dst,
                src,
            } => {
                let (s, mut k) = operand(src);
                if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) {
                    k &= if width == Width::W64 { 63 } else { 31 };
                }
                Op::new(alu_code(op, width, src), n(dst), s, 0, k)
            }
            Insn::Neg { width, dst } => {
                let code = if width == Width::W64 { NEG64 } else { NEG32 };
                Op::new(code, n(dst), 0, 0, 0)
            }
            Insn::MovSx {
                width,
                dst,
                src,
                bits,
            } => {
                let code = match (width, bits) {
                    (Width::W64, SxBits::B8) => MOVSX8_64,
                    (Width::W64, SxBits::B16) => MOVSX16_64,
                    (Width::W64, SxBits::B32) => MOVSX32_64,
                    (Width::W32, SxBits::B8) => MOVSX8_32,
                    (Width::W32, SxBits::B16) => MOVSX16_32,
                    // Not produced by the decoder; sign-extending 32 bits to 32 is a move.
                    (Width::W32, SxBits::B32) => MOV32_X,
                };
                Op::new(code, n(dst), n(src), 0, 0)
            }
            Insn::AddrSpaceCast { .. } => Op::new(UNSUPPORTED, 0, 0, 0, 2),
            Insn::Endian { order, bits, dst } => {
                let code = match (order, bits) {
                    (ByteOrder::Le, SwapBits::B16) => ZEXT16,
                    (ByteOrder::Le, SwapBits::B32) => ZEXT32,
                    (ByteOrder::Le, SwapBits::B64) => NOP,
                    (_, SwapBits::B16) => BSWAP16,
                    (_, SwapBits::B32) => BSWAP32,
                    (_, SwapBits::B64) => BSWAP64,
                };
                Op::new(code, n(dst), 0, 0, 0)
            }
            Insn::Load {
                size,
                dst,
                src,
                off,
            }
            | Insn::LoadAcquire {
                size,
                dst,
                src,
                off,
            } => {
                let code = by_size(size, [LDX8, LDX16, LDX32, LDX64]);
                Op::new(code, n(dst), n(src), off, 0)
            }
            Insn::LoadSx {
                size,
                dst,
                src,
                off,
            } => {
                // The decoder never produces a 64-bit LoadSx; it needs no extension.
                let code = by_size(size, [LDXS8, LDXS16, LDXS32, LDX64]);
                Op::new(code, n(dst), n(src), off, 0)
            }
            Insn::Store {
                size,
                dst,
                off,
                src: Operand::Imm(k),
            } => {
                let code = by_size(size, [ST8, ST16, ST32, ST64]);
                Op::new(code, n(dst), 0, off, k)
            }
            Insn::Store {
                size,
                dst,
                off,
                src: Operand::Reg(src),
            }
            | Insn::StoreRelease {
                size,
                dst,
                src,
                off,
            } => {
                let code = by_size(size, [STX8, STX16, STX32, STX64]);
                Op::new(code, n(dst), n(src), off, 0)
            }
            Insn::Atomic {
                op,
                size,
                dst,
                src,
                off,
            } => {
                let code = if size == Size::DW { ATOMIC64 } else { ATOMIC32 };
                let idx = ATOMIC_OPS.iter().position(|&o| o == op).unwrap_or(0);
                Op::new(code, n(dst), n(src), off, idx as i32)
            }
            Insn::LdAbs { size, imm } => {
                let code = match size {
                    Size::B => LDABS8,
                    Size::H => LDABS16,
                    _ => LDABS32,
                };
                Op::new(code, 0, 0, 0, imm)
            }
            Insn::LdInd { size, src, imm } => {
                let code = match size {
                    Size::B => LDIND8,
                    Size::H => LDIND16,
                    _ => LDIND32,
                };
                Op::new(code, 0, n(src), 0, imm)
            }
            Insn::LdImm64 { dst, imm } => {
                let v = match imm {
                    Imm64::Imm(v) => v,
                    Imm64::MapFd(fd) => self.map_addr(pc, i64::from(fd), 0)?,
                    Imm64::MapIdx(i) => self.map_addr(pc, i64::from(i), 0)?,
                    Imm64::MapValue { fd, off } => self.map_addr(pc, i64::from(fd), off)?,
                    Imm64::MapIdxValue { idx, off } => self.map_addr(pc, i64::from(idx), off)?,
                    Imm64::Func(off) => {
                        let t = self.target(pc, i64::from(off), TargetKind::Func)?;
                        layout::CODE_BASE + t as u64
                    }
                    Imm64::BtfId { .. } => return Ok(Op::new(UNSUPPORTED, 0, 0, 0, 1)),
                };
                *hi = (v >> 32) as u32 as i32;
                Op::new(LDIMM64, n(dst), 0, 0, v as u32 as i32)
            }
            Insn::LdImm64Tail => Op::new(TAIL, 0, 0, 0, core::mem::take(hi)),
            Insn::Ja { off } => {
                self.target(pc, i64::from(off), TargetKind::Jump)?;
                Op::new(JA, 0, 0, off, 0)
            }
            Insn::Gotol { imm } => {
                self.target(pc, i64::from(imm), TargetKind::Jump)?;
                Op::new(GOTOL, 0, 0, 0, imm)
            }
            Insn::Jump {
                cond,
                width,
                dst,
                src,
                off,
            } => {
                self.target(pc, i64::from(off), TargetKind::Jump)?;
                let (s, k) = operand(src);
                Op::new(jmp_code(cond, width, src), n(dst), s, off, k)
            }
            Insn::Call(CallTarget::Helper(id)) => {
                Op::new(if id < 0 { CALL_BAD } else { CALL }, 0, 0, 0, id)
            }
            Insn::Call(CallTarget::Local(off)) => {
                self.target(pc, i64::from(off), TargetKind::Call)?;
                Op::new(CALL_LOCAL, 0, 0, 0, off)
            }
            Insn::Call(CallTarget::Kfunc { .. }) => Op::new(UNSUPPORTED, 0, 0, 0, 0),
            Insn::Callx { reg } => Op::new(CALLX, n(reg), 0, 0, 0),
            Insn::Exit => Op::new(EXIT, 0, 0, 0, 0),
            Insn::MayGoto { off } => {
                self.target(pc, i64::from(off), TargetKind::Jump)?;
                Op::new(MAY_GOTO, 0, 0, off, 0)
            }
            Insn::Gotox { reg } => Op::new(GOTOX, n(reg), 0, 0, 0),
        })
    }
}

/// Per-program placement in the op array.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ProgInfo {
    pub(crate) base: u32,
    pub(crate) len: u32,
}

/// The fast loop's copy of `ops`: the same ops, with the first op of some
/// pairs replaced by a superinstruction (see `op.rs`). Pairs never cross a
/// program boundary; the second op of a pair stays in place.
pub(crate) fn fuse(ops: &[Op], infos: &[ProgInfo]) -> Vec<Op> {
    let mut fast = ops.to_vec();
    for info in infos {
        let start = info.base as usize;
        let end = start + info.len as usize;
        for i in start..end.saturating_sub(1) {
            let (a, b) = (ops[i], ops[i + 1]);
            // `if <cond> goto +1; goto off`.
            if (JEQ64_K..=JSET32_X).contains(&a.code) && a.off == 1 && b.code == JA {
                fast[i] = Op {
                    code: a.code + JCC_SKIP_JA_SHIFT,
                    off: b.off,
                    ..a
                };
                continue;
            }
            let dst = a.regs & 15;
            let same_dst = b.regs & 15 == dst;
            let b_src = b.regs >> 4;
            // `dst += a; if dst <cond> k|src goto off` (a loop counter).
            if let Some(op) = addk_jcc(a, b) {
                fast[i] = op;
                continue;
            }
            // `dst *= a; dst += b`.
            if a.code == MUL64_X && b.code == ADD64_X && same_dst && b_src != dst {
                fast[i] = Op {
                    code: MULX_ADDX,
                    regs: a.regs,
                    off: 0,
                    imm: i32::from(b_src),
                };
                continue;
            }
            // `dst <<= k; dst |= b`.
            if a.code == LSH64_K && b.code == OR64_X && same_dst && b_src != dst {
                fast[i] = Op {
                    code: LSHK_ORX,
                    regs: b.regs,
                    off: 0,
                    imm: a.imm,
                };
                continue;
            }
            // `dst = a; dst <op>= b|k`.
            if a.code == MOV64_X && b.regs & 15 == dst {
                let Some(code) = movx_fused(b.code) else {
                    continue;
                };
                let imm = if is_alu_x(b.code) {
                    let src2 = b.regs >> 4;
                    if src2 == dst {
                        continue;
                    }
                    i32::from(src2)
                } else {
                    b.imm
                };
                fast[i] = Op {
                    code,
                    regs: a.regs,
                    off: 0,
                    imm,
                };
            }
        }
    }
    fast
}

/// The `ADDK_JCC_*` superinstruction for `a; b`, if the pair is a 64-bit
/// add (or subtract) of a constant and a 64-bit conditional jump on the
/// same register whose operands fit.
fn addk_jcc(a: Op, b: Op) -> Option<Op> {
    let addend = match a.code {
        ADD64_K => a.imm,
        SUB64_K => a.imm.checked_neg()?,
        _ => return None,
    };
    let dst = a.regs & 15;
    if !(JEQ64_K..=JSET64_X).contains(&b.code) || b.regs & 15 != dst {
        return None;
    }
    let cond = (b.code - JEQ64_K) / 2;
    if (b.code - JEQ64_K).is_multiple_of(2) {
        let a16 = i16::try_from(addend).ok()?;
        let k16 = i16::try_from(b.imm).ok()?;
        Some(Op {
            code: ADDK_JCC_K + cond,
            regs: dst,
            off: b.off,
            imm: i32::from(a16 as u16) | i32::from(k16) << 16,
        })
    } else {
        Some(Op {
            code: ADDK_JCC_X + cond,
            regs: b.regs,
            off: b.off,
            imm: addend,
        })
    }
}

/// Translate a program set into one op array.
pub(crate) fn compile(programs: &[Program]) -> Result<(Vec<Op>, Vec<ProgInfo>), InterpError> {
    if programs.len() > MAX_PROGRAMS {
        return Err(InterpError::TooManyPrograms {
            count: programs.len(),
            limit: MAX_PROGRAMS,
        });
    }
    let mut ops = Vec::with_capacity(programs.iter().map(Program::len).sum());
    let mut infos = Vec::with_capacity(programs.len());
    for (prog, p) in programs.iter().enumerate() {
        let insns = p.insns();
        if insns.is_empty() {
            return Err(InterpError::Empty { prog });
        }
        if insns.len() > MAX_PROGRAM_SLOTS {
            return Err(InterpError::TooLarge {
                prog,
                len: insns.len(),
                limit: MAX_PROGRAM_SLOTS,
            });
        }
        let last = insns.len() - 1;
        if insns[last].falls_through() {
            return Err(InterpError::FallsOffEnd { prog, pc: last });
        }
        // At most 2^12 programs of 2^20 slots: fits in u32.
        let base = ops.len() as u32;
        let unit = Unit { prog, insns };
        let mut hi = 0;
        for (pc, insn) in insns.iter().enumerate() {
            ops.push(unit.op(pc, insn, &mut hi)?);
        }
        infos.push(ProgInfo {
            base,
            len: insns.len() as u32,
        });
    }
    // Sentinel: ends the array (the fast loop bails on it).
    ops.push(Op::new(SENTINEL, 0, 0, 0, 0));
    Ok((ops, infos))
}

/// The op code for an access of `size`, from `[byte, half, word, double]`.
fn by_size(size: Size, codes: [u8; 4]) -> u8 {
    match size {
        Size::B => codes[0],
        Size::H => codes[1],
        Size::W => codes[2],
        Size::DW => codes[3],
    }
}

#[cfg(test)]
mod tests {
    use ebpf_isa::asm::assemble;
    use ebpf_runtime::{Config, Invocation, Runtime};

    use crate::Interpreter;
    use crate::op::*;

    /// Every budget from 0 to past the end gives the same outcome or trap
    /// with and without superinstructions.
    fn same_as_unfused(text: &str, input_len: usize) -> usize {
        let prog = assemble(text).unwrap();
        let vm = Interpreter::new(&prog).unwrap();
        let fused = vm
            .fast
            .iter()
            .zip(vm.ops.iter())
            .filter(|(f, o)| f != o)
            .count();
        let plain = Interpreter {
            fast: vm.ops.clone(),
            ..vm.clone()
        };
        let mut input: Vec<u8> = (0..input_len).map(|i| i as u8).collect();
        let mut rt = Runtime::new();
        // A program that traps gets budgets up to 200.
        let total = vm
            .invoke(&mut rt, Invocation::new(&mut input))
            .map_or(200, |o| o.insns);
        for budget in 0..=total + 2 {
            rt.set_config(Config {
                insn_budget: budget,
                ..Config::default()
            });
            let a = vm.invoke(&mut rt, Invocation::new(&mut input));
            let b = plain.invoke(&mut rt, Invocation::new(&mut input));
            assert_eq!(a, b, "budget {budget}");
        }
        fused
    }

    #[test]
    fn skip_ja_pairs() {
        let text = "r0 = 0\nr2 = 0\nr3 = 0\nr4 = 0\n\
                    l: r5 = r1\nr5 += r4\nr0 = *(u64 *)(r5 +0)\nr0 ^= r2\nr0 += r3\n\
                    r4 += 8\nr3 = r0\nif r4 == 0x40 goto +1\ngoto l\n\
                    r2 += 1\nif w2 s> 2 goto +1\ngoto again\nexit\nagain: r4 = 0\ngoto l";
        assert_eq!(same_as_unfused(text, 64), 3);
    }

    #[test]
    fn movx_pairs() {
        let ops = ["+=", "-=", "*=", "&=", "|=", "^=", "<<=", ">>=", "s>>="];
        let mut text = String::from("r0 = 0\nr1 = 0x1234\nr2 = 3\n");
        for op in ops {
            text += &format!("r3 = r1\nr3 {op} r2\nr0 += r3\n");
            text += &format!("r3 = r1\nr3 {op} 5\nr0 += r3\n");
            // Not fused: the second source is the destination.
            text += &format!("r3 = r1\nr3 {op} r3\nr0 += r3\n");
        }
        text += "exit";
        assert_eq!(same_as_unfused(&text, 0), 18);
        let prog = assemble(&text).unwrap();
        let vm = Interpreter::new(&prog).unwrap();
        assert!(vm.fast.iter().any(|o| o.code == MOVX_ARSH_K));
        // Multiply-add and rotate halves; the second pair of each is not
        // fused (its source is the destination).
        let rot = "r0 = 0x1234\nr1 = 77\nr2 = 5\n\
                    r0 *= r1\nr0 += r2\nr0 *= r1\nr0 += r0\n\
                    r3 = r0\nr3 >>= 33\nr0 <<= 31\nr0 |= r3\nr0 <<= 3\nr0 |= r0\nexit";
        assert_eq!(same_as_unfused(rot, 0), 3);
        let vm = Interpreter::new(&assemble(rot).unwrap()).unwrap();
        let codes: Vec<u8> = vm.fast.iter().map(|o| o.code).collect();
        assert!(codes.contains(&MULX_ADDX) && codes.contains(&LSHK_ORX));
    }

    #[test]
    fn jump_onto_second_op_of_pair() {
        // `goto m` lands on the `r3 += r2` of a fused pair: it runs alone.
        let text = "r1 = 7\nr2 = 5\nr3 = 1\ngoto m\nr3 = r1\nm: r3 += r2\nr0 = r3\nexit";
        same_as_unfused(text, 0);
        let prog = assemble(text).unwrap();
        let vm = Interpreter::new(&prog).unwrap();
        let mut rt = Runtime::new();
        assert_eq!(vm.run(&mut rt, &mut []), Ok(6));
    }

    #[test]
    fn calls_in_the_fast_loop() {
        let text = "r6 = 50\nr7 = 0\nl: r1 = r6\ncall f\nr7 += r0\nr6 -= 1\n\
                    if r6 != 0 goto l\nr0 = r7\nexit\n\
                    f: r0 = r1\n*(u64 *)(r10 -8) = r1\nr0 += 1\nexit";
        same_as_unfused(text, 0);
        // Unbounded recursion: the depth trap, the same from both tiers.
        let deep = "r0 = 1\ncall f\nexit\nf: r6 = 3\ncall f\nexit";
        same_as_unfused(deep, 0);
    }
}
