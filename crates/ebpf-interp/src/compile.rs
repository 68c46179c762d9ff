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
/// pairs (or triples) replaced by a superinstruction (see `op.rs`). They
/// never cross a program boundary; the ops they cover stay in place.
pub(crate) fn fuse(ops: &[Op], infos: &[ProgInfo]) -> Vec<Op> {
    fast_ops(ops, infos, true)
}

/// The fast loop's array for `ops`, with superinstructions if `fuse`.
pub(crate) fn fast_ops(ops: &[Op], infos: &[ProgInfo], fuse: bool) -> Vec<Op> {
    let mut fast = ops.to_vec();
    for info in infos.iter().filter(|_| fuse) {
        let start = info.base as usize;
        let end = start + info.len as usize;
        // Backwards, so that `cost[j]` (the dispatches of the straight-line
        // run from slot `j` to the end, superinstructions chosen so far) is
        // known for every `j > i`: a slot keeps its superinstruction only
        // if that is no worse than running its op alone (a pair can hide a
        // better pair or triple starting at its second slot).
        let mut cost = vec![0usize; info.len as usize + 3];
        for i in (start..end).rev() {
            let at = |cost: &[usize], j: usize| cost[(j - start).min(info.len as usize)];
            let alone = 1 + at(&cost, i + plain_span(ops[i].code));
            cost[i - start] = alone;
            if i + 1 >= end {
                continue;
            }
            let third = ops.get(i + 2).filter(|_| i + 2 < end).copied();
            if let Some(op) = fused(ops[i], ops[i + 1], third) {
                let with = 1 + at(&cost, i + fused_span(op.code));
                if with <= alone {
                    fast[i] = op;
                    cost[i - start] = with;
                }
            }
        }
    }
    // The fast loop leaves these to the slow tier; their codes are reused
    // for superinstructions there, so they bail on the sentinel instead.
    // `ld_imm64` tails are never dispatched (their `imm`, the upper half,
    // is all the fast loop reads of them): their code is reused too.
    for (f, o) in fast.iter_mut().zip(ops) {
        if SLOW_ONLY.contains(&o.code) || o.code == TAIL {
            f.code = SENTINEL;
        }
    }
    fast
}

/// Slots an unfused op covers on the straight-line path.
fn plain_span(code: u8) -> usize {
    if code == LDIMM64 { 2 } else { 1 }
}

/// Slots a superinstruction covers on its straight-line path.
fn fused_span(code: u8) -> usize {
    match code {
        MOVX_ADDK_JGT_X | MOVADD_LDX8 | MOVADD_LDX16 | MOVADD_LDX32 | MOVADD_LDX64
        | LDX64_MULX_ADDX | LDIMM64_MULX | MOVX_MOVX_CALL | MOVX_RSHK_XORX => 3,
        _ => 2,
    }
}

/// The superinstruction for `a; b` (or `a; b; c`), if there is one.
fn fused(a: Op, b: Op, c: Option<Op>) -> Option<Op> {
    let dst = a.regs & 15;
    let same_dst = b.regs & 15 == dst;
    let b_dst = b.regs & 15;
    let b_src = b.regs >> 4;
    // `if <cond> goto +1; goto off`.
    if (JEQ64_K..=JSET32_X).contains(&a.code) && a.off == 1 && b.code == JA {
        return Some(Op {
            code: a.code + JCC_SKIP_JA_SHIFT,
            off: b.off,
            ..a
        });
    }
    // `dst += a; if dst <cond> k|src goto off` (a loop counter).
    if let Some(op) = addk_jcc(a, b) {
        return Some(op);
    }
    let pair = |code: u8, regs: u8, off: i16, imm: i32| {
        Some(Op {
            code,
            regs,
            off,
            imm,
        })
    };
    match (a.code, b.code) {
        // `x = *(u64 *)(s + off); x *= a; x += b`.
        (LDX64, MUL64_X)
            if same_dst && c.is_some_and(|c| c.code == ADD64_X && c.regs & 15 == dst) =>
        {
            let b2 = c.map_or(0, |c| c.regs >> 4);
            return pair(LDX64_MULX_ADDX, a.regs, a.off, i32::from(b_src | b2 << 4));
        }
        // `*(u64 *)(dst + off) = s; x = *(u64 *)(b + off2)`.
        (STX64, LDX64) => {
            return pair(
                STX64_LDX64,
                a.regs,
                a.off,
                i32::from(b.regs) | i32::from(b.off) << 16,
            );
        }
        // `*(u64 *)(dst + off) = s; *(u64 *)(d2 + off2) = s2`.
        (STX64, STX64) => {
            return pair(
                STX64_STX64,
                a.regs,
                a.off,
                i32::from(b.regs) | i32::from(b.off) << 16,
            );
        }
        (MOV64_X, JA) => return pair(MOVX_JA, a.regs, b.off, 0),
        // `x = *(u64 *)(s + off); y = *(u64 *)(s2 + off2)`.
        (LDX64, LDX64) => {
            return pair(
                LDX64_LDX64,
                a.regs,
                a.off,
                i32::from(b.regs) | i32::from(b.off) << 16,
            );
        }
        // `x = *(u64 *)(s + off); d += x`.
        (LDX64, ADD64_X) if b_src == dst => {
            return pair(LDX64_ADDX, a.regs, a.off, i32::from(b_dst));
        }
        // `if wdst != k goto off; d2 = k2`.
        (JNE32_K, MOV64_K) => {
            if let (Ok(k), Ok(k2)) = (i16::try_from(a.imm), i16::try_from(b.imm)) {
                return pair(
                    JNE32K_MOVK,
                    dst | b_dst << 4,
                    a.off,
                    i32::from(k as u16) | i32::from(k2) << 16,
                );
            }
        }
        // `dst = s; dst >>= k; dst ^= b`.
        (MOV64_X, RSH64_K) if same_dst => {
            if let Some(c) = c.filter(|c| c.code == XOR64_X && c.regs & 15 == dst) {
                return pair(
                    MOVX_RSHK_XORX,
                    a.regs,
                    0,
                    (b.imm & 63) | i32::from(c.regs >> 4) << 8,
                );
            }
        }
        // `dst = s; if a < b goto off`.
        (MOV64_X, JLT64_X) => return pair(MOVX_JLT_X, a.regs, b.off, i32::from(b.regs)),
        // `dst = s; dst += k; if dst > x goto off`.
        (MOV64_X, ADD64_K) if same_dst => {
            let check = c.filter(|c| c.code == JGT64_X && c.regs & 15 == dst);
            if let (Some(c), Ok(k)) = (check, i16::try_from(b.imm)) {
                let x = i32::from(c.regs >> 4);
                return pair(
                    MOVX_ADDK_JGT_X,
                    a.regs,
                    c.off,
                    i32::from(k as u16) | x << 16,
                );
            }
        }
        // `x = *(u64 *)(s + off); if a <= b goto joff` (or `>`).
        (LDX64, JLE64_X | JGT64_X) => {
            let code = if b.code == JLE64_X {
                LDX64_JLE_X
            } else {
                LDX64_JGT_X
            };
            return pair(
                code,
                a.regs,
                a.off,
                i32::from(b.regs) | i32::from(b.off) << 16,
            );
        }
        // `dst += a; if wdst != k goto off`.
        (ADD64_K | ADD32_K, JNE32_K) if same_dst => {
            if let (Ok(a16), Ok(k16)) = (i16::try_from(a.imm), i16::try_from(b.imm)) {
                let code = if a.code == ADD64_K {
                    ADDK_JNE32_K
                } else {
                    ADD32K_JNE32_K
                };
                return pair(
                    code,
                    dst,
                    b.off,
                    i32::from(a16 as u16) | i32::from(k16) << 16,
                );
            }
        }
        // `dst = a; dst += b; x = *(dst + off)`.
        (MOV64_X, ADD64_X) if same_dst => {
            if let Some(c) = c.filter(|c| c.regs >> 4 == dst) {
                let code = match c.code {
                    LDX8 => Some(MOVADD_LDX8),
                    LDX16 => Some(MOVADD_LDX16),
                    LDX32 => Some(MOVADD_LDX32),
                    LDX64 => Some(MOVADD_LDX64),
                    _ => None,
                };
                if let Some(code) = code {
                    let x = c.regs & 15;
                    return pair(code, a.regs, c.off, i32::from(b_src | x << 4));
                }
            }
        }
        // `dst *= a; dst += b`.
        (MUL64_X, ADD64_X) if same_dst && b_src != dst => {
            return pair(MULX_ADDX, a.regs, 0, i32::from(b_src));
        }
        // `dst <<= k; dst |= b`.
        (LSH64_K, OR64_X) if same_dst && b_src != dst => {
            return pair(LSHK_ORX, b.regs, 0, a.imm);
        }
        // `dst = imm64 ll; x *= dst`.
        (LDIMM64, TAIL) => {
            if let Some(c) = c.filter(|c| c.code == MUL64_X && c.regs >> 4 == dst) {
                return pair(LDIMM64_MULX, dst | (c.regs & 15) << 4, 0, a.imm);
            }
        }
        (MOV64_X, MOV64_K) => return pair(MOVX_MOVK, a.regs, i16::from(b_dst), b.imm),
        (RSH64_K, OR64_X) if same_dst => return pair(RSHK_ORX, b.regs, 0, a.imm),
        // `dst <<= k; d2 |= dst`.
        (LSH64_K, OR64_X) if b_src == dst => {
            return pair(LSHK_ORTO, dst | b_dst << 4, 0, a.imm);
        }
        // `dst *= k; d2 += dst`.
        (MUL64_K, ADD64_X) if b_src == dst => {
            return pair(MULK_ADDX, dst | b_dst << 4, 0, a.imm);
        }
        (LDX64, MUL64_X) if same_dst => return pair(LDX64_MULX, a.regs, a.off, i32::from(b_src)),
        (XOR64_X, ADD64_X) if same_dst => return pair(XORX_ADDX, a.regs, 0, i32::from(b_src)),
        (XOR64_X, MUL64_X) if same_dst => return pair(XORX_MULX, a.regs, 0, i32::from(b_src)),
        (AND64_X, OR64_X) if same_dst => return pair(ANDX_ORX, a.regs, 0, i32::from(b_src)),
        (ADD64_K, AND64_X) if same_dst => return pair(ADDK_ANDX, b.regs, 0, a.imm),
        (ADD64_K, MOV64_X) => {
            return pair(ADDK_MOVX, dst | b_dst << 4, i16::from(b_src), a.imm);
        }
        (ADD64_K, ADD64_K) => {
            if let Ok(k2) = i16::try_from(b.imm) {
                return pair(ADDK_ADDK, dst | b_dst << 4, k2, a.imm);
            }
        }
        (MOV64_X, NEG64) if same_dst => return pair(MOVX_NEG, a.regs, 0, 0),
        (MOV64_X, MOV64_X) => {
            // `dst = s; d2 = s2; call off`.
            if let Some(off) = c
                .filter(|c| c.code == CALL_LOCAL)
                .and_then(|c| i16::try_from(c.imm).ok())
            {
                return pair(MOVX_MOVX_CALL, a.regs, off, i32::from(b.regs));
            }
            return pair(MOVX_MOVX, a.regs, 0, i32::from(b.regs));
        }
        (RSH64_X, OR64_X) if same_dst => return pair(RSHX_ORX, a.regs, 0, i32::from(b_src)),
        (MOV32_X, ADD32_K) if same_dst => return pair(MOV32X_ADD32K, a.regs, 0, b.imm),
        (MOV32_X, AND32_K) if same_dst => return pair(MOV32X_AND32K, a.regs, 0, b.imm),
        _ => {}
    }
    // `dst = a; dst <op>= b|k`.
    if a.code == MOV64_X && same_dst {
        let code = movx_fused(b.code)?;
        let imm = if is_alu_x(b.code) {
            if b_src == dst {
                return None;
            }
            i32::from(b_src)
        } else {
            b.imm
        };
        return pair(code, a.regs, 0, imm);
    }
    None
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

    /// Every budget from 0 to past the end gives the same outcome or trap,
    /// and leaves the same stack and input, with and without
    /// superinstructions (each run on a fresh runtime and input). Returns
    /// the number of superinstructions.
    fn same_as_unfused(text: &str, input_len: usize) -> usize {
        let prog = assemble(text).unwrap();
        let vm = Interpreter::new(&prog).unwrap();
        let fused = vm
            .fast
            .iter()
            .zip(vm.ops.iter())
            .filter(|(f, o)| f != o && f.code != SENTINEL)
            .count();
        let plain = Interpreter {
            fast: super::fast_ops(&vm.ops, &vm.progs, false).into_boxed_slice(),
            ..vm.clone()
        };
        let run = |interp: &Interpreter, budget: u64| {
            let mut rt = Runtime::with_config(Config {
                insn_budget: budget,
                ..Config::default()
            });
            let mut input: Vec<u8> = (0..input_len).map(|i| i as u8).collect();
            let result = interp.invoke(&mut rt, Invocation::new(&mut input));
            (result, rt.stack().to_vec(), input)
        };
        // A program that traps gets budgets up to 200.
        let total = run(&vm, u64::MAX).0.map_or(200, |o| o.insns);
        for budget in 0..=total + 2 {
            let (a, stack_a, input_a) = run(&vm, budget);
            let (b, stack_b, input_b) = run(&plain, budget);
            assert_eq!(a, b, "budget {budget}\n{text}");
            assert!(stack_a == stack_b, "stack, budget {budget}\n{text}");
            assert!(input_a == input_b, "input, budget {budget}\n{text}");
        }
        fused
    }

    #[test]
    fn skip_ja_pairs() {
        let text = "r0 = 0\nr2 = 0\nr3 = 0\nr4 = 0\n\
                    l: r5 = r1\nr5 += r4\nr0 = *(u64 *)(r5 +0)\nr0 ^= r2\nr0 += r3\n\
                    r4 += 8\nr3 = r0\nif r4 == 0x40 goto +1\ngoto l\n\
                    r2 += 1\nif w2 s> 2 goto +1\ngoto again\nexit\nagain: r4 = 0\ngoto l";
        // Two skip pairs, the indexed load, `^=; +=` and `+= 8; r3 = r0`.
        assert_eq!(same_as_unfused(text, 64), 5);
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
        // 18 move pairs, and `r3 *= 5; r0 += r3` (a multiply-accumulate).
        assert_eq!(same_as_unfused(&text, 0), 19);
        let prog = assemble(&text).unwrap();
        let vm = Interpreter::new(&prog).unwrap();
        assert!(vm.fast.iter().any(|o| o.code == MOVX_ARSH_K));
        // Multiply-add and rotate halves; the second multiply-add is not
        // fused (its source is the destination), the second rotate half is
        // `LSHK_ORTO` (`dst <<= k; dst |= dst`).
        let rot = "r0 = 0x1234\nr1 = 77\nr2 = 5\n\
                    r0 *= r1\nr0 += r2\nr0 *= r1\nr0 += r0\n\
                    r3 = r0\nr3 >>= 33\nr0 <<= 31\nr0 |= r3\nr0 <<= 3\nr0 |= r0\nexit";
        assert_eq!(same_as_unfused(rot, 0), 4);
        let vm = Interpreter::new(&assemble(rot).unwrap()).unwrap();
        let codes: Vec<u8> = vm.fast.iter().map(|o| o.code).collect();
        assert!(codes.contains(&MULX_ADDX) && codes.contains(&LSHK_ORX));
    }

    #[test]
    fn more_pairs() {
        // Each pair or triple below has a superinstruction; the sources
        // alias the destinations where that is allowed.
        let text = "r0 = 0\nr2 = 3\nr3 = 5\nr4 = 9\n\
                    r5 = r1\nr5 += r2\nr6 = *(u8 *)(r5 +1)\nr0 += r6\n\
                    r5 = r1\nr5 += r2\nr6 = *(u16 *)(r5 +0)\nr0 += r6\n\
                    r5 = r1\nr5 += r2\nr6 = *(u32 *)(r5 +4)\nr0 += r6\n\
                    r5 = r1\nr5 += r5\nr5 = r1\nr5 += r3\nr5 = *(u64 *)(r5 +0)\nr0 += r5\n\
                    r6 = *(u64 *)(r1 +8)\nr6 *= r3\nr0 += r6\n\
                    r6 = *(u64 *)(r1 +8)\nr6 *= r6\nr0 += r6\n\
                    r0 ^= r3\nr0 += r4\nr0 ^= r2\nr0 *= r0\n\
                    r0 &= r4\nr0 |= r3\nr0 += -7\nr0 &= r0\n\
                    r4 += 3\nr2 = r4\nr4 += 3\nr4 = r4\nr2 += 1\nr3 += -2\nr3 += 1\nr3 += 70000\n\
                    r7 = r0\nr8 = r4\nr7 = r2\nr7 = r7\nr8 = r0\nr8 = -r8\n\
                    w9 = w8\nw9 += -1\nw6 = w8\nw6 &= 0xff0\n\
                    r5 = 0x123456789abcdef ll\nr0 *= r5\nr5 = 3 ll\nr5 *= r5\n\
                    r7 = r6\nr6 = -5\nr7 >>= 3\nr7 |= r2\nr7 >>= 60\nr7 |= r7\n\
                    r0 += r2\nr0 += r3\nr0 += r4\nr0 += r6\nr0 += r7\nr0 += r8\nr0 += r9\nexit";
        let fused = same_as_unfused(text, 64);
        let vm = Interpreter::new(&assemble(text).unwrap()).unwrap();
        let codes: Vec<u8> = vm.fast.iter().map(|o| o.code).collect();
        for code in [
            MOVADD_LDX8,
            MOVADD_LDX16,
            MOVADD_LDX32,
            MOVADD_LDX64,
            LDX64_MULX,
            XORX_ADDX,
            XORX_MULX,
            ANDX_ORX,
            ADDK_ANDX,
            ADDK_MOVX,
            ADDK_ADDK,
            MOVX_MOVX,
            MOVX_NEG,
            MOV32X_ADD32K,
            MOV32X_AND32K,
            LDIMM64_MULX,
            MOVX_MOVK,
            RSHK_ORX,
        ] {
            assert!(codes.contains(&code), "{code} not used");
        }
        assert!(fused >= 20, "{fused}");
        // `r3 += 70000` does not fit the second half of `ADDK_ADDK` (it
        // pairs with the move instead).
        let t = "r3 += 1\nr3 += 70000\nr0 = r3\nexit";
        assert_eq!(same_as_unfused(t, 0), 1);
        let vm = Interpreter::new(&assemble(t).unwrap()).unwrap();
        assert_eq!(vm.fast[0], vm.ops[0]);
        assert_eq!(vm.fast[1].code, ADDK_MOVX);
    }

    #[test]
    fn reused_codes() {
        // Loads and stores around unrelated ops, a `goto` after a move, and
        // 32-bit loop counters; next to ops whose codes the fast array
        // reuses (a helper call, an atomic, a packet load).
        let text = "r0 = 0\nr2 = 7\nr6 = 0\nr7 = 3\n\
                    l: *(u64 *)(r10 -8) = r2\nr3 = *(u64 *)(r1 +8)\nr0 += r3\n\
                    r4 = *(u64 *)(r1 +16)\nr4 *= r7\nr4 += r2\nr0 += r4\n\
                    lock *(u64 *)(r10 -8) += r4\nr5 = *(u64 *)(r10 -8)\nr0 ^= r5\n\
                    r0 += 1\nif w0 != 0x7 goto +1\nr0 += 3\n\
                    w6 += 1\nif w6 != 0x5 goto m\nr8 = r0\ngoto out\n\
                    m: r9 = r0\n*(u64 *)(r10 -16) = r9\n*(u64 *)(r10 -24) = r2\n\
                    r3 = *(u64 *)(r10 -16)\nr9 += r3\ngoto l\n\
                    out: r1 = r8\nr2 = r0\ncall f\nexit\n\
                    f: r0 = r1\nr0 >>= r2\nr0 |= r1\nexit";
        same_as_unfused(text, 64);
        let vm = Interpreter::new(&assemble(text).unwrap()).unwrap();
        let codes: Vec<u8> = vm.fast.iter().map(|o| o.code).collect();
        for code in [
            MOVX_MOVX_CALL,
            RSHX_ORX,
            STX64_STX64,
            STX64_LDX64,
            LDX64_MULX_ADDX,
            MOVX_JA,
            ADDK_JNE32_K,
            ADD32K_JNE32_K,
        ] {
            assert!(codes.contains(&code), "{code} not used");
        }
        // The atomic is left to the slow tier.
        assert!(vm.ops.iter().any(|o| o.code == ATOMIC64));
        assert!(
            !vm.fast
                .iter()
                .zip(vm.ops.iter())
                .any(|(f, o)| o.code == ATOMIC64 && f.code != SENTINEL)
        );
        // A store that faults, then a load that faults after a store.
        for text in [
            "r2 = 1\n*(u64 *)(r1 +60) = r2\nr0 = *(u64 *)(r1 +0)\nexit",
            "r2 = 1\n*(u64 *)(r1 +8) = r2\nr0 = *(u64 *)(r1 +60)\nexit",
            "r2 = 1\n*(u64 *)(r10 -8) = r2\nr0 = *(u64 *)(r10 +0)\nexit",
            "r2 = 1\n*(u64 *)(r10 -8) = r2\n*(u64 *)(r10 -4) = r2\nr0 = 0\nexit",
            "r2 = 1\n*(u64 *)(r10 -8) = r2\n*(u64 *)(r10 -8) = r10\nr0 = *(u64 *)(r10 -8)\nexit",
        ] {
            same_as_unfused(text, 64);
        }
        // Helpers and packet loads still run (in the slow tier).
        let text = "r6 = r1\ncall 7\nr0 = *(u8 *)(r6 +0)\nr0 = *(u8 *)skb[1]\nexit";
        same_as_unfused(text, 4);
    }

    #[test]
    fn load_compare_pairs() {
        // A bubble-sort pass over the input's first 8 u64 words, copied to
        // the stack: the load-and-compare step (`<=` and `>`, the loaded
        // register on either side of the comparison).
        let text = "r0 = 0\nr2 = 0\n\
                    c: r3 = r1\nr3 += r2\nr4 = *(u64 *)(r3 +0)\nr3 = r10\nr3 += -64\n\
                    r3 += r2\n*(u64 *)(r3 +0) = r4\nr2 += 8\nif r2 != 64 goto c\n\
                    r6 = r10\nr6 += -64\nr7 = 0\nr8 = *(u64 *)(r6 +0)\n\
                    l: r9 = *(u64 *)(r6 +8)\nif r8 <= r9 goto n\n\
                    *(u64 *)(r6 +0) = r9\n*(u64 *)(r6 +8) = r8\nr9 = r8\n\
                    n: r6 += 8\nr8 = r9\nr7 += 1\nif r7 < 7 goto l\n\
                    r5 = *(u64 *)(r10 -8)\nif r5 > r8 goto +1\nr0 += 1\n\
                    r5 = *(u64 *)(r10 -16)\nif r8 > r5 goto +1\nr0 += 2\n\
                    r5 = *(u64 *)(r10 -64)\nif r5 <= r0 goto +1\nr0 += r5\nexit";
        assert!(same_as_unfused(text, 64) >= 4);
        let vm = Interpreter::new(&assemble(text).unwrap()).unwrap();
        let count = |code| vm.fast.iter().filter(|o| o.code == code).count();
        assert_eq!(count(LDX64_JLE_X), 2);
        assert_eq!(count(LDX64_JGT_X), 2);
        // The load faults (the pair does nothing), or the budget runs out
        // at the jump (the load is done).
        for text in [
            "r0 = 0\nr2 = 1\nr3 = *(u64 *)(r1 +60)\nif r3 > r2 goto +1\nr0 = 1\nexit",
            "r0 = 0\nr2 = 0\nr4 = 5\n*(u64 *)(r10 -8) = r4\n\
             l: r2 += 1\nr0 += r2\nr3 = *(u64 *)(r10 -8)\nif r2 <= r3 goto l\nexit",
        ] {
            same_as_unfused(text, 64);
        }
    }

    #[test]
    fn bounds_check_and_move_compare() {
        // XDP-style bounds checks (`r3 = r1; r3 += k; if r3 > r2`), one of
        // them failing, and a loop closed by `r8 = r9; if r7 < r5`, where
        // the compared registers are and are not the moved one.
        let text = "r0 = 0\nr2 += r1\nr7 = 0\nr5 = 6\nr9 = 3\n\
                    r3 = r1\nr3 += 14\nif r3 > r2 goto out\nr0 += 1\n\
                    r3 = r1\nr3 += 64\nif r3 > r2 goto out\nr0 += 2\n\
                    l: r7 += 1\nr9 += r7\nr8 = r9\nif r7 < r5 goto l\n\
                    r0 += r8\nr4 = 1\nr5 = 3\nm: r4 += 1\nr5 = r4\nif r5 < r9 goto m\n\
                    r0 += r5\nr6 = 2\nr6 = r0\nif r7 < r6 goto +1\nr0 += 100\n\
                    r3 = r1\nr3 += 65\nif r3 > r2 goto out\nr0 += 4\n\
                    out: r3 = r2\nr3 += -8\nif r3 > r3 goto +1\nexit\nexit";
        assert!(same_as_unfused(text, 64) >= 6);
        let vm = Interpreter::new(&assemble(text).unwrap()).unwrap();
        let count = |code| vm.fast.iter().filter(|o| o.code == code).count();
        assert_eq!(count(MOVX_ADDK_JGT_X), 4);
        assert_eq!(count(MOVX_JLT_X), 3);
        // A constant past 16 bits is the plain move-and-add pair.
        let t = "r3 = r1\nr3 += 70000\nif r3 > r2 goto +1\nr0 = 1\nexit";
        same_as_unfused(t, 64);
        let vm = Interpreter::new(&assemble(t).unwrap()).unwrap();
        assert_eq!(vm.fast[0].code, MOVX_ADD_K);
    }

    #[test]
    fn fused_loads_that_fault() {
        // The indexed load and the load-multiply past the input's end: the
        // same trap (on the load's slot) from both tiers, the add done.
        for text in [
            "r3 = r1\nr3 += r2\nr0 = *(u8 *)(r3 +0)\nexit",
            "r3 = r1\nr3 += r2\nr0 = *(u64 *)(r3 -7)\nexit",
            "r3 = r10\nr3 += r2\nr3 = *(u32 *)(r3 -4)\nexit",
            "r0 = *(u64 *)(r1 +60)\nr0 *= r2\nexit",
            "r0 = *(u64 *)(r1 +56)\nr0 *= r2\nexit",
        ] {
            same_as_unfused(text, 64);
        }
        let prog = assemble("r3 = r1\nr3 += r2\nr0 = *(u8 *)(r3 +0)\nexit").unwrap();
        let vm = Interpreter::new(&prog).unwrap();
        let mut rt = Runtime::new();
        let mut input = [0u8; 4];
        let t = vm.run(&mut rt, &mut input).unwrap_err();
        assert_eq!(t.pc(), 2);
    }

    #[test]
    fn random_sequences_agree() {
        // Random straight-line code with forward branches, drawn from the
        // shapes the superinstructions cover (and near misses), must give
        // the same outcome or trap, for every budget, with and without them.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        // r1 (the input) and r10 are never written.
        const REGS: [u8; 9] = [0, 2, 3, 4, 5, 6, 7, 8, 9];
        let mut fused_total = 0;
        for _ in 0..600 {
            let len = 4 + next(24);
            let mut text = String::new();
            for i in 0..len {
                let d = REGS[next(9) as usize];
                let s = REGS[next(9) as usize];
                let k = next(40) as i64 - 8;
                let o = 8 * next(8);
                let left = len - i;
                let s2 = REGS[next(9) as usize];
                let line = match next(36) {
                    0 => format!("r{d} = r{s}"),
                    1 => format!("r{d} += r{s}"),
                    2 => format!("r{d} ^= r{s}"),
                    3 => format!("r{d} *= r{s}"),
                    4 => format!("r{d} &= r{s}"),
                    5 => format!("r{d} |= r{s}"),
                    6 => format!("r{d} += {k}"),
                    7 => format!("r{d} = {k}"),
                    8 => format!("r{d} = -r{d}"),
                    9 => format!("w{d} = w{s}"),
                    10 => format!("w{d} += {k}"),
                    11 => format!("w{d} &= {}", k & 0xff),
                    12 => format!("r{d} >>= {}", k & 63),
                    13 => format!("r{d} <<= {}", k & 63),
                    14 => format!("r{d} = *(u64 *)(r1 +{o})"),
                    15 => format!("*(u64 *)(r10 -{}) = r{s}", o + 8),
                    16 => format!("r{d} = *(u64 *)(r10 -{})", o + 8),
                    17 => format!("r{d} = {:#x} ll", next(u64::MAX)),
                    18 => format!("if w{d} != {k} goto L{}", i + 1 + next(left)),
                    19 => format!("if r{d} > r{s} goto L{}", i + 1 + next(left)),
                    20 => format!(
                        "r{d} = r1\nr{d} += r{s}\nr{s} = *(u8 *)(r{d} +{})",
                        next(70)
                    ),
                    21 => format!("r{d} = r{s}\ngoto L{}", i + 1 + next(left)),
                    22 => format!("if r{d} == {k} goto +1\ngoto L{}", i + 1 + next(left)),
                    23 => format!("r{d} = *(u64 *)(r1 +{o})\nr{d} *= r{s}\nr{d} += r{s2}"),
                    24 => format!("r{d} = {:#x} ll\nr{s} *= r{d}", next(u64::MAX)),
                    25 => format!("r{d} >>= {}\nr{d} |= r{s}", k & 63),
                    26 => format!("r{d} = r{s}\nr{d} = -r{d}\nw{s2} = w{d}\nw{s2} += {k}"),
                    27 => format!("r3 = r{s}\nr2 = r{s2}\ncall F"),
                    28 => format!("r{d} >>= r{s}\nr{d} |= r{s2}"),
                    31 => format!(
                        "r{d} = r{s}\nif r{} < r{s2} goto L{}",
                        if next(2) == 0 { d } else { s },
                        i + 1 + next(left)
                    ),
                    32 => format!(
                        "r{d} = r{s}\nr{d} += {}\nif r{d} > r{s2} goto L{}",
                        k * 3,
                        i + 1 + next(left)
                    ),
                    29 => format!(
                        "r{d} = *(u64 *)(r{} +{o})\nif r{s} <= r{d} goto L{}",
                        if next(2) == 0 { 1 } else { 10 },
                        i + 1 + next(left)
                    ),
                    30 => format!(
                        "r{d} = *(u64 *)(r1 +{})\nif r{d} > r{s} goto L{}",
                        8 * next(9),
                        i + 1 + next(left)
                    ),
                    33 => format!("r{d} *= {k}\nr{s} += r{d}"),
                    34 => format!("r{d} <<= {}\nr{s} |= r{d}", k & 63),
                    _ => format!(
                        "r{d} += 1\nif r{d} != {} goto L{}",
                        k & 7,
                        i + 1 + next(left)
                    ),
                };
                text += &format!("L{i}: {line}\n");
            }
            text += &format!("L{len}: exit\nF: r0 = r3\nr0 >>= r2\nr0 |= r3\nexit");
            fused_total += same_as_unfused(&text, 64);
        }
        assert!(fused_total > 300, "{fused_total}");
    }

    #[test]
    fn spill_reload_and_hash_shapes() {
        // Reloads of spilled values (two loads, a load and an add), a
        // 32-bit `!=` followed by a constant move (the not-taken path sets a
        // return value), and the xor-shift of a hash finaliser.
        let text = "r0 = 0\nr2 = 7\n*(u64 *)(r10 -8) = r2\n*(u64 *)(r10 -16) = r1\n\
                    r3 = *(u64 *)(r10 -8)\nr4 = *(u64 *)(r10 -16)\n\
                    r5 = *(u64 *)(r10 -8)\nr0 += r5\n\
                    r5 = *(u64 *)(r10 -8)\nr5 += r5\nr0 += r5\n\
                    if w2 != 0x7 goto +3\nr0 = 5\n\
                    if w3 != 0x8 goto +1\nr0 = -3\n\
                    r6 = r4\nr6 >>= 29\nr6 ^= r4\nr0 += r6\n\
                    r7 = r0\nr7 >>= 3\nr7 ^= r7\nr0 += r7\n\
                    r8 = 3\nr8 *= 31\nr0 += r8\nr8 *= -7\nr8 += r8\n\
                    r9 = r0\nr9 <<= 32\nr0 |= r9\nr9 <<= 3\nr9 |= r9\nr0 += r9\nexit";
        assert!(same_as_unfused(text, 64) >= 9);
        let vm = Interpreter::new(&assemble(text).unwrap()).unwrap();
        let codes: Vec<u8> = vm.fast.iter().map(|o| o.code).collect();
        for code in [
            LDX64_LDX64,
            LDX64_ADDX,
            JNE32K_MOVK,
            MOVX_RSHK_XORX,
            MULK_ADDX,
            LSHK_ORTO,
        ] {
            assert!(codes.contains(&code), "{code} not used");
        }
        // The first or the second load faults, and a constant past 16 bits
        // is not fused with the jump.
        for text in [
            "r3 = *(u64 *)(r1 +60)\nr4 = *(u64 *)(r1 +0)\nr0 = r3\nexit",
            "r3 = *(u64 *)(r1 +0)\nr4 = *(u64 *)(r1 +60)\nr0 = r4\nexit",
            "r3 = *(u64 *)(r1 +0)\nr3 = *(u64 *)(r3 +0)\nr0 = r3\nexit",
            "r0 = 1\nr3 = *(u64 *)(r1 +60)\nr0 += r3\nexit",
            "r0 = 1\nif w0 != 0x1 goto +1\nr0 = 70000\nexit",
        ] {
            same_as_unfused(text, 64);
        }
        let vm =
            Interpreter::new(&assemble("r0 = 1\nif w0 != 0x1 goto +1\nr0 = 70000\nexit").unwrap())
                .unwrap();
        assert!(!vm.fast.iter().any(|o| o.code == JNE32K_MOVK));
    }

    #[test]
    fn pairs_do_not_hide_triples() {
        // `r3 = *(r1 + 0)` could pair with the next load, but that load
        // starts a load-multiply-add triple whose last two ops have no pair
        // of their own: the first load stays alone.
        let text = "r2 = 3\nr3 = *(u64 *)(r1 +0)\nr4 = *(u64 *)(r1 +8)\nr4 *= r2\nr4 += r4\n\
                    r0 = r4\nexit";
        same_as_unfused(text, 64);
        let vm = Interpreter::new(&assemble(text).unwrap()).unwrap();
        assert_eq!(vm.fast[1], vm.ops[1]);
        assert_eq!(vm.fast[2].code, LDX64_MULX_ADDX);
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
