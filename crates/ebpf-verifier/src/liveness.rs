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

/// Successors of `pc` within its function (a call continues at the next
/// slot).
pub(crate) fn successors_of(prog: &Program, pc: usize, insn: &Insn) -> [Option<usize>; 2] {
    successors(prog, pc, insn)
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

/// The loops of the program (`compute_scc`): for each slot, the number
/// (from 1) of the strongly connected component of the control flow it is
/// a loop of, or 0 when it is on no cycle. Edges stay within a function
/// (a call continues at the next slot), as in the kernel.
pub(crate) fn loop_sccs(prog: &Program) -> Vec<u32> {
    let len = prog.len();
    let insns = prog.insns();
    // No backward jump and no helper that calls back: no loop.
    let may_loop = insns.iter().any(|i| match i {
        Insn::Ja { off } => *off < 0,
        Insn::Gotol { imm } => *imm < 0,
        Insn::Jump { off, .. } | Insn::MayGoto { off } => *off < 0,
        Insn::Gotox { .. } => true,
        Insn::Call(CallTarget::Helper(id)) => matches!(id, 164 | 180 | 181 | 209),
        _ => false,
    });
    if !may_loop {
        return vec![0; len];
    }
    let succ = |v: usize| {
        insns
            .get(v)
            .map_or([None, None], |i| successors(prog, v, i))
    };
    // Tarjan's algorithm, iterative: `index[v]` 0 = unvisited.
    let mut index = vec![0u32; len];
    let mut low = vec![0u32; len];
    let mut on_stack = vec![false; len];
    let mut stack: Vec<usize> = Vec::new();
    let mut scc = vec![0u32; len];
    let (mut next_index, mut next_scc) = (1u32, 1u32);
    // (node, which successor to look at next)
    let mut work: Vec<(usize, usize)> = Vec::new();
    for root in 0..len {
        if index[root] != 0 {
            continue;
        }
        work.push((root, 0));
        while let Some(&(v, k)) = work.last() {
            if k == 0 && index[v] == 0 {
                index[v] = next_index;
                low[v] = next_index;
                next_index = next_index.saturating_add(1);
                stack.push(v);
                on_stack[v] = true;
            }
            if k < 2 {
                if let Some(top) = work.last_mut() {
                    top.1 = k.saturating_add(1);
                }
                if let Some(w) = succ(v)[k] {
                    if index[w] == 0 {
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                // The component is the stack from `v` up.
                let from = stack.iter().rposition(|&w| w == v).unwrap_or(0);
                let members = stack.get(from..).unwrap_or_default();
                for &w in members {
                    on_stack[w] = false;
                }
                // A helper that calls back is a loop of its own.
                let self_loop = succ(v).contains(&Some(v))
                    || matches!(
                        insns.get(v),
                        Some(Insn::Call(CallTarget::Helper(id))) if matches!(id, 164 | 180 | 181 | 209)
                    );
                if members.len() > 1 || self_loop {
                    for &w in members {
                        scc[w] = next_scc;
                    }
                    next_scc = next_scc.saturating_add(1);
                }
                stack.truncate(from);
            }
        }
    }
    scc
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

#[cfg(test)]
mod tests {
    use super::loop_sccs;
    use ebpf_isa::asm::assemble;

    #[test]
    fn loops_are_numbered_and_straight_code_is_not() {
        // Nested loops are one component; a callback-calling helper is a
        // loop of its own. Numbers follow the order components close in
        // (depth-first, fall-through first): the call's before the loop's.
        let prog = assemble(
            "r0 = 0
             r1 = 0
             r1 += 1
             r0 += 1
             if r0 < 3 goto pc-2
             if r1 < 3 goto pc-4
             r1 = 1
             r2 = 0
             r3 = 0
             r4 = 0
             call 181
             exit",
        )
        .expect("assembles");
        assert_eq!(loop_sccs(&prog), [0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 1, 0]);
        let straight = assemble("r0 = 0\nif r1 > 2 goto pc+1\nr0 = 1\nexit").expect("assembles");
        assert_eq!(loop_sccs(&straight), [0, 0, 0, 0]);
    }
}
