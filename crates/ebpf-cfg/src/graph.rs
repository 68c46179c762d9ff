//! Basic blocks and their edges, from the checked program.
//!
//! A block starts at every subprogram entry, every edge target, and after
//! every instruction that ends a block (see [`Terminator`]). Edges are
//! stored twice in compressed rows: outgoing per block (in a fixed order:
//! fall-through first, then the other edges in target order) and incoming
//! per block (in source order).

use ebpf_isa::{CallTarget, Imm64, Insn};
use smallvec::SmallVec;

use crate::cfg::{Block, Edge, EdgeKind, Terminator};
use crate::ids::{BlockId, SubprogId};
use crate::kernel::{helper, in_range, jmp_target};

/// Compressed rows of edges: row `b` is `edges[off[b]..off[b + 1]]`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rows {
    off: Vec<u32>,
    edges: Vec<Edge>,
}

impl Rows {
    pub(crate) fn row(&self, b: usize) -> &[Edge] {
        let lo = self.off.get(b).copied().unwrap_or(0) as usize;
        let hi = self.off.get(b + 1).copied().unwrap_or(0) as usize;
        self.edges.get(lo..hi).unwrap_or(&[])
    }

    pub(crate) fn all(&self) -> &[Edge] {
        &self.edges
    }
}

pub(crate) struct Graph {
    pub(crate) blocks: Vec<Block>,
    pub(crate) block_of_slot: Vec<u32>,
    pub(crate) succs: Rows,
    pub(crate) preds: Rows,
}

pub(crate) struct Inputs<'a> {
    pub(crate) insns: &'a [Insn],
    pub(crate) starts: &'a [usize],
    pub(crate) subprog_of: &'a [u32],
    pub(crate) exit_idx: &'a [Option<usize>],
    pub(crate) jump_tables: &'a [Option<Vec<usize>>],
}

type Targets = SmallVec<[(usize, EdgeKind); 2]>;

impl Inputs<'_> {
    /// How instruction `i` ends a block, if it does, with its edges other
    /// than the fall-through one.
    fn terminator(&self, i: usize, out: &mut Targets) -> Option<Terminator> {
        out.clear();
        let len = self.insns.len();
        let insn = self.insns.get(i)?;
        let sp = self.subprog_of.get(i).map_or(0, |&s| s as usize);
        let mut add = |target: i32, kind: EdgeKind| {
            if let Some(t) = in_range(target, len) {
                out.push((t, kind));
            }
        };
        let term = match *insn {
            Insn::Exit => Terminator::Exit,
            Insn::Ja { off } => {
                add(jmp_target(i, off.into()), EdgeKind::Jump);
                Terminator::Jump
            }
            Insn::Gotol { imm } => {
                add(jmp_target(i, imm), EdgeKind::Jump);
                Terminator::Jump
            }
            Insn::Jump { off, .. } | Insn::MayGoto { off } => {
                add(jmp_target(i, off.into()), EdgeKind::Branch);
                Terminator::Branch
            }
            Insn::Call(CallTarget::Local(off)) => {
                add(jmp_target(i, off), EdgeKind::Call);
                Terminator::Call
            }
            Insn::LdImm64 {
                imm: Imm64::Func(off),
                ..
            } => {
                add(jmp_target(i, off), EdgeKind::PseudoFunc);
                Terminator::PseudoFunc
            }
            Insn::Call(CallTarget::Helper(helper::TAIL_CALL))
            | Insn::LdAbs { .. }
            | Insn::LdInd { .. } => {
                if let Some(exit) = self.exit_idx.get(sp).copied().flatten() {
                    out.push((exit, EdgeKind::AbnormalReturn));
                }
                Terminator::AbnormalReturn
            }
            Insn::Gotox { .. } => {
                if let Some(jt) = self.jump_tables.get(sp).and_then(Option::as_ref) {
                    out.extend(
                        jt.iter()
                            .filter(|&&t| t < len)
                            .map(|&t| (t, EdgeKind::Indirect)),
                    );
                }
                Terminator::IndirectJump
            }
            _ => return None,
        };
        Some(term)
    }
}

/// Whether a block ending this way continues at the next slot.
pub(crate) const fn falls_through(term: Terminator) -> bool {
    matches!(
        term,
        Terminator::FallThrough
            | Terminator::Branch
            | Terminator::Call
            | Terminator::PseudoFunc
            | Terminator::AbnormalReturn
    )
}

pub(crate) fn build(inp: &Inputs<'_>) -> Graph {
    let len = inp.insns.len();
    let mut out = Targets::new();

    // Leaders.
    let mut leader = vec![false; len];
    for &s in inp.starts {
        if let Some(l) = leader.get_mut(s) {
            *l = true;
        }
    }
    for (i, insn) in inp.insns.iter().enumerate() {
        if inp.terminator(i, &mut out).is_some() {
            if let Some(l) = leader.get_mut(i + insn.slots().max(1)) {
                *l = true;
            }
            for &(t, _) in &out {
                if let Some(l) = leader.get_mut(t) {
                    *l = true;
                }
            }
        }
    }

    // Blocks.
    let mut blocks: Vec<Block> = Vec::new();
    let mut block_of_slot = vec![0u32; len];
    for (i, (&is_leader, insn)) in leader.iter().zip(inp.insns).enumerate() {
        if is_leader || blocks.is_empty() {
            let sp = inp.subprog_of.get(i).copied().unwrap_or(0);
            blocks.push(Block {
                id: BlockId::new(blocks.len()),
                subprog: SubprogId::new(sp as usize),
                start: i,
                end: i + 1,
                last: i,
                terminator: Terminator::FallThrough,
            });
        }
        let id = blocks.len() - 1;
        if let Some(b) = blocks.last_mut() {
            b.end = i + 1;
            if *insn != Insn::LdImm64Tail {
                b.last = i;
            }
        }
        if let Some(s) = block_of_slot.get_mut(i) {
            *s = id as u32;
        }
    }

    // Outgoing edges.
    let mut succ_off = Vec::with_capacity(blocks.len() + 1);
    let mut succ = Vec::with_capacity(blocks.len() * 2);
    succ_off.push(0u32);
    let block_at = |slot: usize| block_of_slot.get(slot).map(|&b| BlockId::new(b as usize));
    for block in &mut blocks {
        let term = inp
            .terminator(block.last, &mut out)
            .unwrap_or(Terminator::FallThrough);
        block.terminator = term;
        if falls_through(term) {
            let same_subprog =
                inp.subprog_of.get(block.end).map(|&s| s as usize) == Some(block.subprog.index());
            if let (true, Some(to)) = (same_subprog, block_at(block.end)) {
                succ.push(Edge {
                    from: block.id,
                    to,
                    kind: EdgeKind::FallThrough,
                });
            }
        }
        for &(t, kind) in &out {
            if let Some(to) = block_at(t) {
                succ.push(Edge {
                    from: block.id,
                    to,
                    kind,
                });
            }
        }
        succ_off.push(succ.len() as u32);
    }

    // Incoming edges (counting sort by target, stable in source order).
    let mut pred_off = vec![0u32; blocks.len() + 1];
    for e in &succ {
        if let Some(c) = pred_off.get_mut(e.to.index() + 1) {
            *c += 1;
        }
    }
    for b in 0..blocks.len() {
        let prev = pred_off.get(b).copied().unwrap_or(0);
        if let Some(c) = pred_off.get_mut(b + 1) {
            *c += prev;
        }
    }
    let mut fill: Vec<u32> = pred_off.clone();
    let mut pred = vec![
        Edge {
            from: BlockId::new(0),
            to: BlockId::new(0),
            kind: EdgeKind::FallThrough,
        };
        succ.len()
    ];
    for e in &succ {
        if let Some(pos) = fill.get_mut(e.to.index()) {
            if let Some(slot) = pred.get_mut(*pos as usize) {
                *slot = *e;
            }
            *pos += 1;
        }
    }

    Graph {
        blocks,
        block_of_slot,
        succs: Rows {
            off: succ_off,
            edges: succ,
        },
        preds: Rows {
            off: pred_off,
            edges: pred,
        },
    }
}
