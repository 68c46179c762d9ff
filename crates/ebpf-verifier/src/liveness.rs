//! Register liveness (`compute_live_registers`): for each instruction, the
//! registers `r0`-`r9` some path from it may read before writing them.
//! State pruning compares only those: a register no later instruction
//! reads cannot make a stored state unsafe for the current one.
//!
//! A backward data-flow fixpoint over the instructions' successors (within
//! a function: calls continue at the next instruction, their callee is
//! analysed on its own). Soundness needs an over-approximation: where an
//! instruction's reads are not known exactly (a `gotox`), every register
//! is live.

use ebpf_isa::{AtomicOp, CallTarget, Insn, Operand, Program, Reg};

/// `r0`-`r5`: what a call clobbers.
const CALLER_SAVED: u16 = 0x3f;
/// `r1`-`r5`: a call's arguments.
const ARGS: u16 = 0x3e;
/// Every register but `r10`.
const ALL: u16 = 0x3ff;

fn bit(r: Reg) -> u16 {
    1u16 << r.num()
}

fn op_bit(o: &Operand) -> u16 {
    match o {
        Operand::Reg(r) => bit(*r),
        Operand::Imm(_) => 0,
    }
}

/// What `insn` reads and writes; `helper_args(id)` is the mask of the
/// argument registers helper `id` takes (`r1`-`r5` when unknown).
fn use_def(insn: &Insn, helper_args: &dyn Fn(i32) -> u16) -> (u16, u16) {
    match insn {
        Insn::Alu { op, dst, src, .. } => {
            let own = if *op == ebpf_isa::AluOp::Mov {
                0
            } else {
                bit(*dst)
            };
            (own | op_bit(src), bit(*dst))
        }
        Insn::Neg { dst, .. } | Insn::Endian { dst, .. } => (bit(*dst), bit(*dst)),
        Insn::MovSx { dst, src, .. }
        | Insn::AddrSpaceCast { dst, src, .. }
        | Insn::Load { dst, src, .. }
        | Insn::LoadSx { dst, src, .. }
        | Insn::LoadAcquire { dst, src, .. } => (bit(*src), bit(*dst)),
        Insn::Store { dst, src, .. } => (bit(*dst) | op_bit(src), 0),
        Insn::StoreRelease { dst, src, .. } => (bit(*dst) | bit(*src), 0),
        Insn::Atomic { op, dst, src, .. } => {
            let used = bit(*dst) | bit(*src);
            match op {
                AtomicOp::Cmpxchg => (used | 1, 1),
                AtomicOp::FetchAdd
                | AtomicOp::FetchOr
                | AtomicOp::FetchAnd
                | AtomicOp::FetchXor
                | AtomicOp::Xchg => (used, bit(*src)),
                AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => (used, 0),
            }
        }
        // They may end the program (a packet too short): every register is
        // as good as read there.
        Insn::LdAbs { .. } | Insn::LdInd { .. } => (ALL, CALLER_SAVED),
        Insn::LdImm64 { dst, .. } => (0, bit(*dst)),
        Insn::Jump { dst, src, .. } => (bit(*dst) | op_bit(src), 0),
        Insn::Call(CallTarget::Helper(id)) => (helper_args(*id), CALLER_SAVED),
        Insn::Call(CallTarget::Local(_) | CallTarget::Kfunc { .. }) => (ARGS, CALLER_SAVED),
        Insn::Callx { reg } => (bit(*reg) | ARGS, CALLER_SAVED),
        Insn::Exit => (1, 0),
        Insn::Gotox { .. } => (ALL, 0),
        Insn::Ja { .. } | Insn::Gotol { .. } | Insn::MayGoto { .. } | Insn::LdImm64Tail => (0, 0),
    }
}

/// The slot a relative jump from `pc` by `off` lands on, if in the program.
fn rel(pc: usize, off: i64, len: usize) -> Option<usize> {
    let t = i64::try_from(pc).ok()?.checked_add(1)?.checked_add(off)?;
    usize::try_from(t).ok().filter(|t| *t < len)
}

/// Successors of `pc` within its function.
fn successors(prog: &Program, pc: usize, insn: &Insn) -> [Option<usize>; 2] {
    let len = prog.len();
    let next = |n: usize| pc.checked_add(n).filter(|t| *t < len);
    match insn {
        Insn::Exit | Insn::Gotox { .. } => [None, None],
        Insn::Ja { off } => [rel(pc, i64::from(*off), len), None],
        Insn::Gotol { imm } => [rel(pc, i64::from(*imm), len), None],
        Insn::Jump { off, .. } | Insn::MayGoto { off } => [next(1), rel(pc, i64::from(*off), len)],
        Insn::LdImm64 { .. } => [next(2), None],
        _ => [next(1), None],
    }
}

/// The registers live before each slot (bit `i`: `r<i>`; 0 for the second
/// slot of an `ld_imm64`).
pub(crate) fn live_regs_before(prog: &Program, helper_args: &dyn Fn(i32) -> u16) -> Vec<u16> {
    let insns = prog.insns();
    let len = insns.len();
    let ud: Vec<(u16, u16)> = insns.iter().map(|i| use_def(i, helper_args)).collect();
    let mut live = vec![0u16; len];
    // Backward order converges fastest; loops need more rounds.
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..len).rev() {
            let Some(insn) = insns.get(pc) else { continue };
            if matches!(insn, Insn::LdImm64Tail) {
                continue;
            }
            let out = successors(prog, pc, insn)
                .iter()
                .flatten()
                .fold(0u16, |acc, s| acc | live.get(*s).copied().unwrap_or(0));
            let (u, d) = ud.get(pc).copied().unwrap_or((ALL, 0));
            let new = u | (out & !d);
            if let Some(l) = live.get_mut(pc)
                && *l != new
            {
                *l = new;
                changed = true;
            }
        }
    }
    live
}

/// `r0`-`r9` as the kernel's log prints a live set: the register's digit
/// where live, `.` where not.
pub(crate) fn mask_text(live: u16) -> String {
    (0..10u8)
        .map(|i| {
            if live & (1 << i) != 0 {
                char::from(b'0'.saturating_add(i))
            } else {
                '.'
            }
        })
        .collect()
}
