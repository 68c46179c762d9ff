//! [`Cfg`]: the control-flow graph of a checked program, and its parts.

use core::fmt;

use ebpf_isa::{Insn, Program};

use crate::dom::{self, DomTree, NONE, Order};
use crate::error::CfgError;
use crate::graph::{self, Rows};
use crate::ids::{BlockId, InsnMarks, LoopId, SubprogId};
use crate::kernel::{self, BPF_COMPLEXITY_LIMIT_INSNS, BPF_MAXINSNS};
use crate::loops::{self, LoopForest};

/// How to build a [`Cfg`]: the two inputs that change what the kernel's
/// structural checks decide.
///
/// `CfgConfig::default()` is [`CfgConfig::privileged`] without jump tables.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CfgConfig {
    /// The kernel's `env->bpf_capable` (`CAP_BPF`). When false, as for an
    /// unprivileged loader, bpf-to-bpf calls, kfunc calls and function
    /// references are refused ([`CfgError::CallsNotAllowed`]) and the first
    /// back-edge `check_cfg` finds is an error ([`CfgError::BackEdge`]).
    /// When true, back-edges are recorded in [`Cfg::back_edges`] and left to
    /// the verifier, which bounds loops by exploring them.
    pub bpf_capable: bool,
    /// The jump tables (`BPF_MAP_TYPE_INSN_ARRAY` maps) loaded with the
    /// program, each a list of target slots, for `gotox`.
    ///
    /// * `None`: unknown. A `gotox` gets no edges (none are invented), and
    ///   every slot of its subprogram is taken as a possible target for the
    ///   reachability check: `check_cfg`'s search resumes at each slot it
    ///   has not reached, in slot order, so that code is still checked
    ///   (and marked). Blocks only such a target reaches are kept but are
    ///   not [reachable](Cfg::is_reachable) from the entry. The kernel
    ///   itself refuses a `gotox` without tables; this mode is for tools.
    /// * `Some(tables)`: the kernel's rule. Each `gotox` may jump to every
    ///   entry of every table whose smallest entry lies in its subprogram
    ///   (`create_jt`); no such table, or an entry outside the subprogram,
    ///   is an error. Empty tables are ignored.
    pub jump_tables: Option<Vec<Vec<usize>>>,
}

impl Default for CfgConfig {
    fn default() -> CfgConfig {
        CfgConfig::privileged()
    }
}

impl CfgConfig {
    /// A loader with `CAP_BPF`: loops are data, calls are allowed.
    #[must_use]
    pub const fn privileged() -> CfgConfig {
        CfgConfig {
            bpf_capable: true,
            jump_tables: None,
        }
    }

    /// A loader without `CAP_BPF`: no calls, no loops.
    #[must_use]
    pub const fn unprivileged() -> CfgConfig {
        CfgConfig {
            bpf_capable: false,
            jump_tables: None,
        }
    }

    /// The same configuration with known jump tables.
    #[must_use]
    pub fn with_jump_tables(mut self, tables: Vec<Vec<usize>>) -> CfgConfig {
        self.jump_tables = Some(tables);
        self
    }
}

/// A subprogram: the main program (`func#0`) or a bpf-to-bpf function,
/// a contiguous range of slots.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subprog {
    /// Its id, the index in [`Cfg::subprogs`].
    pub id: SubprogId,
    /// First slot.
    pub start: usize,
    /// One past the last slot.
    pub end: usize,
    /// The block starting at `start`.
    pub entry: BlockId,
    /// The kernel's `exit_idx`: the last `exit` of the subprogram, the
    /// target of its abnormal-return edges. `None` if it has no `exit`.
    pub exit_idx: Option<usize>,
    pub(crate) blocks: (u32, u32),
}

/// How a basic block ends, from its last instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Terminator {
    /// An ordinary instruction; the next slot starts another block (a jump
    /// target or a subprogram's return point). One fall-through edge.
    FallThrough,
    /// `goto`/`gotol`: one [`EdgeKind::Jump`] edge.
    Jump,
    /// A conditional jump or `may_goto`: a fall-through edge and an
    /// [`EdgeKind::Branch`] edge.
    Branch,
    /// `call pc+N`: a fall-through edge to the return point and an
    /// [`EdgeKind::Call`] edge to the callee's entry.
    Call,
    /// `ld_imm64` of a function (`r1 = func pc+N`, for callbacks): a
    /// fall-through edge and an [`EdgeKind::PseudoFunc`] edge to the
    /// function's entry. The kernel's DFS treats it like a call.
    PseudoFunc,
    /// `bpf_tail_call` (leaves the subprogram when it succeeds), or a legacy
    /// `ld_abs`/`ld_ind` (leaves the program when the packet is too short):
    /// a fall-through edge and an [`EdgeKind::AbnormalReturn`] edge.
    AbnormalReturn,
    /// `gotox`: one [`EdgeKind::Indirect`] edge per known jump table entry.
    IndirectJump,
    /// `exit`: no successor.
    Exit,
}

/// The kind of an edge between blocks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum EdgeKind {
    /// To the next slot: after an ordinary instruction, the not-taken side
    /// of a conditional jump, the return point of a call.
    FallThrough,
    /// The taken side of a conditional jump or `may_goto`.
    Branch,
    /// An unconditional `goto`/`gotol`.
    Jump,
    /// From a bpf-to-bpf call to the callee's entry (inter-procedural).
    Call,
    /// From an `ld_imm64` of a function to the function's entry
    /// (inter-procedural).
    PseudoFunc,
    /// From a `gotox` to an entry of its jump table.
    Indirect,
    /// From a tail call or `ld_abs`/`ld_ind` to the subprogram's
    /// `exit_idx`: the hidden exit the kernel's `bpf_insn_successors`
    /// reports for liveness.
    AbnormalReturn,
}

impl EdgeKind {
    /// Whether the edge stays in its subprogram (all but `Call` and
    /// `PseudoFunc`). Orders, dominators and loops use only these.
    #[must_use]
    pub const fn is_intra(self) -> bool {
        !matches!(self, EdgeKind::Call | EdgeKind::PseudoFunc)
    }

    /// A short name: `fallthrough`, `branch`, `jump`, `call`, `func`,
    /// `indirect`, `abnormal`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EdgeKind::FallThrough => "fallthrough",
            EdgeKind::Branch => "branch",
            EdgeKind::Jump => "jump",
            EdgeKind::Call => "call",
            EdgeKind::PseudoFunc => "func",
            EdgeKind::Indirect => "indirect",
            EdgeKind::AbnormalReturn => "abnormal",
        }
    }
}

/// An edge between two blocks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Edge {
    /// Source block.
    pub from: BlockId,
    /// Target block.
    pub to: BlockId,
    /// What kind of transfer.
    pub kind: EdgeKind,
}

/// A basic block: a maximal run of slots entered only at its first and
/// left only after its last.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Block {
    /// Its id, the index in [`Cfg::blocks`].
    pub id: BlockId,
    /// The subprogram it belongs to.
    pub subprog: SubprogId,
    /// First slot.
    pub start: usize,
    /// One past the last slot (an `ld_imm64` counts its second slot).
    pub end: usize,
    /// Slot of the last instruction (the first slot of a final `ld_imm64`).
    pub last: usize,
    /// How it ends.
    pub terminator: Terminator,
}

/// A back-edge found by the kernel's `check_cfg` depth-first search, at
/// instruction level: an edge to an instruction still on the DFS path.
/// Prints as the kernel's message, `back-edge from insn 5 to 1`.
///
/// A recursive call appears as a back-edge from the call to the callee's
/// first slot (the kernel's DFS follows calls).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BackEdge {
    /// Source slot.
    pub from: usize,
    /// Target slot.
    pub to: usize,
}

impl fmt::Display for BackEdge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "back-edge from insn {} to {}", self.from, self.to)
    }
}

/// A natural loop.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loop {
    /// Its id, the index in [`Cfg::loops`]. Loops are numbered outermost
    /// first, in reverse postorder of their headers.
    pub id: LoopId,
    /// The header: the one block of the loop entered from outside, which
    /// dominates the whole body.
    pub header: BlockId,
    /// The innermost loop containing this one.
    pub parent: Option<LoopId>,
    /// Nesting depth, 1 for an outermost loop.
    pub depth: u32,
    /// Sources of the back-edges to the header, in block order (the header
    /// itself for a self loop).
    pub latches: Vec<BlockId>,
}

/// The control-flow graph of a program that passed the kernel's structural
/// checks: subprograms, basic blocks, edges, orders, dominators, loops and
/// `check_cfg`'s marks. See the [crate documentation](crate).
///
/// `Debug` prints a summary; `Display` prints the whole graph.
#[derive(Clone)]
pub struct Cfg {
    program: Program,
    jump_tables_known: bool,
    subprogs: Vec<Subprog>,
    blocks: Vec<Block>,
    block_of_slot: Vec<u32>,
    succs: Rows,
    preds: Rows,
    pre: Vec<u32>,
    rpo: Vec<BlockId>,
    rpo_off: Vec<u32>,
    dom: DomTree,
    loops: LoopForest,
    back_edges: Vec<BackEdge>,
    irreducible: Vec<Edge>,
    marks: Vec<InsnMarks>,
    indirect_jumps: Vec<usize>,
}

impl fmt::Debug for Cfg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cfg")
            .field("insns", &self.program.len())
            .field("subprogs", &self.subprogs.len())
            .field("blocks", &self.blocks.len())
            .field("edges", &self.edges().len())
            .field("loops", &self.loops().len())
            .field("back_edges", &self.back_edges.len())
            .finish_non_exhaustive()
    }
}

/// What the kernel's structural passes leave behind.
struct Checked {
    starts: Vec<usize>,
    exit_idx: Vec<Option<usize>>,
    walk: kernel::Walk,
}

/// The kernel's structural passes (`add_subprog_and_kfunc`,
/// `check_subprogs`, `check_cfg`), in its order.
fn checked(prog: &Program, config: &CfgConfig, exits: bool) -> Result<Checked, CfgError> {
    let insns = prog.insns();
    let len = insns.len();
    if len == 0 {
        return Err(CfgError::Empty);
    }
    // bpf_prog_load: BPF_MAXINSNS for a loader without CAP_BPF, the
    // complexity limit otherwise.
    let limit = if config.bpf_capable {
        BPF_COMPLEXITY_LIMIT_INSNS
    } else {
        BPF_MAXINSNS
    };
    if len > limit {
        return Err(CfgError::TooLarge { len, limit });
    }
    let starts = kernel::add_subprogs(insns, config.bpf_capable)?;
    let exit_idx = kernel::check_subprogs(insns, &starts, exits)?;
    let walk = kernel::check_cfg(
        insns,
        &starts,
        &kernel::WalkConfig {
            bpf_capable: config.bpf_capable,
            jump_tables: config.jump_tables.as_deref(),
        },
    )?;
    Ok(Checked {
        starts,
        exit_idx,
        walk,
    })
}

/// What a verifier needs of the control flow, and no more: the result of
/// the kernel's structural checks without the block graph, dominators and
/// loops of a [`Cfg`] (see [`CfgChecks::new`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfgChecks {
    subprog_starts: Vec<usize>,
    marks: Vec<InsnMarks>,
}

impl CfgChecks {
    /// The checks [`Cfg::build_with`] makes, with the same errors in the
    /// same order, keeping only each subprogram's first slot and each
    /// slot's marks. Cheaper than a whole [`Cfg`].
    ///
    /// ```
    /// use ebpf_cfg::{CfgChecks, CfgConfig};
    /// use ebpf_isa::asm::assemble;
    ///
    /// let prog = assemble("r0 = 0\nif r1 > 2 goto +1\nr0 = 1\nexit\n")?;
    /// let checks = CfgChecks::new(&prog, &CfgConfig::privileged())?;
    /// assert_eq!(checks.subprog_starts(), &[0]);
    /// // The branch target is a prune point.
    /// assert!(checks.marks(3).is_prune_point());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Cfg::build_with`].
    pub fn new(prog: &Program, config: &CfgConfig) -> Result<CfgChecks, CfgError> {
        let c = checked(prog, config, false)?;
        Ok(CfgChecks {
            subprog_starts: c.starts,
            marks: c.walk.marks,
        })
    }

    /// The first slot of each subprogram, in slot order (`[0]` is 0).
    #[must_use]
    pub fn subprog_starts(&self) -> &[usize] {
        &self.subprog_starts
    }

    /// The subprograms' first slots and every slot's marks, by value.
    #[must_use]
    pub fn into_parts(self) -> (Vec<usize>, Vec<InsnMarks>) {
        (self.subprog_starts, self.marks)
    }

    /// The marks `check_cfg` left on `slot` (none outside the program).
    #[must_use]
    pub fn marks(&self, slot: usize) -> InsnMarks {
        self.marks.get(slot).copied().unwrap_or_default()
    }
}

impl Cfg {
    /// Build the CFG with the default configuration
    /// ([`CfgConfig::privileged`], jump tables unknown).
    ///
    /// ```
    /// use ebpf_cfg::Cfg;
    /// use ebpf_isa::asm::assemble;
    ///
    /// let prog = assemble("r0 = 0\nexit\nr0 = 1\nexit")?;
    /// let err = Cfg::build(&prog).unwrap_err();
    /// assert_eq!(err.to_string(), "unreachable insn 2");
    /// # Ok::<(), ebpf_isa::AsmError>(())
    /// ```
    pub fn build(prog: &Program) -> Result<Cfg, CfgError> {
        Cfg::build_with(prog, &CfgConfig::default())
    }

    /// Build the CFG: run the kernel's structural checks, then compute
    /// blocks, edges, orders, dominators and loops. Linear in the program
    /// size (up to a log factor in the dominator computation).
    pub fn build_with(prog: &Program, config: &CfgConfig) -> Result<Cfg, CfgError> {
        let insns = prog.insns();
        let len = insns.len();
        let Checked {
            starts,
            exit_idx,
            walk,
        } = checked(prog, config, true)?;
        let mut subprog_of = vec![0u32; len];
        for (sp, &start) in starts.iter().enumerate() {
            let end = starts.get(sp + 1).copied().unwrap_or(len);
            if let Some(range) = subprog_of.get_mut(start..end) {
                range.fill(sp as u32);
            }
        }
        let g = graph::build(&graph::Inputs {
            insns,
            starts: &starts,
            subprog_of: &subprog_of,
            exit_idx: &exit_idx,
            jump_tables: &walk.jump_tables,
        });
        let nblocks = g.blocks.len();
        let block_at = |slot: usize| g.block_of_slot.get(slot).copied().unwrap_or(0);
        let entries: Vec<BlockId> = starts
            .iter()
            .map(|&s| BlockId::new(block_at(s) as usize))
            .collect();
        let subprogs: Vec<Subprog> = starts
            .iter()
            .enumerate()
            .map(|(sp, &start)| {
                let end = starts.get(sp + 1).copied().unwrap_or(len);
                let first = block_at(start);
                let last = starts.get(sp + 1).map_or(nblocks as u32, |&s| block_at(s));
                Subprog {
                    id: SubprogId::new(sp),
                    start,
                    end,
                    entry: BlockId::new(first as usize),
                    exit_idx: exit_idx.get(sp).copied().flatten(),
                    blocks: (first, last),
                }
            })
            .collect();

        let order: Order = dom::order(nblocks, &entries, &g.succs);
        let dom = DomTree::new(dom::idoms(&order, &g.preds), &entries);
        let loops = loops::find_loops(&order, &g.preds, &dom);
        let is_ancestor = |a: usize, b: usize| {
            let get = |v: &Vec<u32>, i: usize| v.get(i).copied().unwrap_or(NONE);
            let (pa, pb) = (get(&order.pre, a), get(&order.pre, b));
            pa != NONE && pb != NONE && pa <= pb && get(&order.post, b) <= get(&order.post, a)
        };
        let irreducible = g
            .succs
            .all()
            .iter()
            .filter(|e| {
                let (from, to) = (e.from.index(), e.to.index());
                e.kind.is_intra() && is_ancestor(to, from) && !dom.dominates(to, from)
            })
            .copied()
            .collect();
        let indirect_jumps = insns
            .iter()
            .enumerate()
            .filter_map(|(i, insn)| matches!(insn, Insn::Gotox { .. }).then_some(i))
            .collect();
        Ok(Cfg {
            program: prog.clone(),
            jump_tables_known: config.jump_tables.is_some(),
            subprogs,
            blocks: g.blocks,
            block_of_slot: g.block_of_slot,
            succs: g.succs,
            preds: g.preds,
            pre: order.pre,
            rpo: order.rpo,
            rpo_off: order.rpo_off,
            dom,
            loops,
            back_edges: walk
                .back_edges
                .into_iter()
                .map(|(from, to)| BackEdge { from, to })
                .collect(),
            irreducible,
            marks: walk.marks,
            indirect_jumps,
        })
    }

    /// The program, as given.
    #[must_use]
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Whether jump tables were given ([`CfgConfig::jump_tables`]).
    #[must_use]
    pub fn jump_tables_known(&self) -> bool {
        self.jump_tables_known
    }

    /// The subprograms in slot order; `[0]` is the main program.
    #[must_use]
    pub fn subprogs(&self) -> &[Subprog] {
        &self.subprogs
    }

    /// One subprogram.
    ///
    /// # Panics
    /// If `id` does not come from this `Cfg`.
    #[must_use]
    pub fn subprog(&self, id: SubprogId) -> &Subprog {
        &self.subprogs[id.index()]
    }

    /// The subprogram containing `slot`, `None` past the end.
    #[must_use]
    pub fn subprog_of(&self, slot: usize) -> Option<SubprogId> {
        self.block_of(slot).map(|b| self.block(b).subprog)
    }

    /// All blocks, in slot order.
    #[must_use]
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// One block.
    ///
    /// # Panics
    /// If `id` does not come from this `Cfg`.
    #[must_use]
    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.index()]
    }

    /// The blocks of a subprogram (consecutive, in slot order).
    #[must_use]
    pub fn subprog_blocks(&self, id: SubprogId) -> &[Block] {
        let (lo, hi) = self.subprog(id).blocks;
        self.blocks.get(lo as usize..hi as usize).unwrap_or(&[])
    }

    /// The block containing `slot` (an `ld_imm64`'s second slot belongs to
    /// its block), `None` past the end.
    #[must_use]
    pub fn block_of(&self, slot: usize) -> Option<BlockId> {
        self.block_of_slot
            .get(slot)
            .map(|&b| BlockId::new(b as usize))
    }

    /// The instructions of a block with their slots, second slots of
    /// `ld_imm64` skipped.
    pub fn block_insns(&self, id: BlockId) -> impl Iterator<Item = (usize, &Insn)> {
        let b = self.block(id);
        self.program
            .insns()
            .get(b.start..b.end)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(move |(k, insn)| (b.start + k, insn))
            .filter(|(_, insn)| **insn != Insn::LdImm64Tail)
    }

    /// Outgoing edges of a block: the fall-through edge first, then the
    /// others (jump tables in target order).
    #[must_use]
    pub fn succs(&self, id: BlockId) -> &[Edge] {
        self.succs.row(id.index())
    }

    /// Incoming edges of a block, by source block.
    #[must_use]
    pub fn preds(&self, id: BlockId) -> &[Edge] {
        self.preds.row(id.index())
    }

    /// Every edge, grouped by source block.
    #[must_use]
    pub fn edges(&self) -> &[Edge] {
        self.succs.all()
    }

    /// Reverse postorder of a subprogram's reachable blocks: depth-first
    /// from its entry over intra-procedural edges, in the order of the
    /// kernel's `check_cfg` (fall-through edge explored first). Every block
    /// comes after its dominators, and after all its predecessors except
    /// those reaching it through a retreating edge (a natural loop
    /// back-edge or an irreducible edge).
    #[must_use]
    pub fn rpo(&self, id: SubprogId) -> &[BlockId] {
        let lo = self.rpo_off.get(id.index()).copied().unwrap_or(0) as usize;
        let hi = self.rpo_off.get(id.index() + 1).copied().unwrap_or(0) as usize;
        self.rpo.get(lo..hi).unwrap_or(&[])
    }

    /// Whether a path of intra-procedural edges leads from the subprogram's
    /// entry to the block. Always true except for code reachable only
    /// through a `gotox` with unknown jump tables.
    #[must_use]
    pub fn is_reachable(&self, id: BlockId) -> bool {
        self.pre.get(id.index()).is_some_and(|&p| p != NONE)
    }

    /// The immediate dominator; `None` for an entry or an unreachable block.
    #[must_use]
    pub fn idom(&self, id: BlockId) -> Option<BlockId> {
        match self.dom.idom.get(id.index()) {
            Some(&d) if d != NONE => Some(BlockId::new(d as usize)),
            _ => None,
        }
    }

    /// The blocks a block immediately dominates, in block order.
    #[must_use]
    pub fn dom_children(&self, id: BlockId) -> &[BlockId] {
        self.dom.children(id.index())
    }

    /// Whether every path from the entry to `b` passes through `a`
    /// (reflexive). Constant time.
    #[must_use]
    pub fn dominates(&self, a: BlockId, b: BlockId) -> bool {
        self.dom.dominates(a.index(), b.index())
    }

    /// The natural loops, outermost first.
    #[must_use]
    pub fn loops(&self) -> &[Loop] {
        &self.loops.loops
    }

    /// One loop.
    ///
    /// # Panics
    /// If `id` does not come from this `Cfg`.
    #[must_use]
    pub fn get_loop(&self, id: LoopId) -> &Loop {
        &self.loops.loops[id.index()]
    }

    /// The innermost loop containing a block.
    #[must_use]
    pub fn loop_of(&self, id: BlockId) -> Option<LoopId> {
        match self.loops.loop_of.get(id.index()) {
            Some(&l) if l != NONE => Some(LoopId::new(l as usize)),
            _ => None,
        }
    }

    /// How many loops contain a block (0 outside loops).
    #[must_use]
    pub fn loop_depth(&self, id: BlockId) -> u32 {
        self.loop_of(id).map_or(0, |l| self.get_loop(l).depth)
    }

    /// Whether the block is a loop header.
    #[must_use]
    pub fn is_loop_header(&self, id: BlockId) -> bool {
        self.loop_of(id)
            .is_some_and(|l| self.get_loop(l).header == id)
    }

    /// The loops directly nested in a loop.
    #[must_use]
    pub fn loop_children(&self, id: LoopId) -> &[LoopId] {
        self.loops
            .children
            .get(id.index())
            .map_or(&[], Vec::as_slice)
    }

    /// Every block of a loop, nested loops included, in block order. Costs
    /// the size of the body.
    #[must_use]
    pub fn loop_blocks(&self, id: LoopId) -> Vec<BlockId> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(l) = stack.pop() {
            if let Some(own) = self.loops.own.get(l.index()) {
                out.extend_from_slice(own);
            }
            stack.extend_from_slice(self.loop_children(l));
        }
        out.sort_unstable();
        out
    }

    /// Whether an edge closes a natural loop: intra-procedural, and its
    /// target dominates its source.
    #[must_use]
    pub fn is_loop_back_edge(&self, edge: &Edge) -> bool {
        edge.kind.is_intra() && self.is_reachable(edge.from) && self.dominates(edge.to, edge.from)
    }

    /// The back-edges `check_cfg`'s depth-first search found, in discovery
    /// order, at instruction level (empty when the program has no loop).
    /// The kernel without `CAP_BPF` rejects the program at the first one
    /// ([`CfgError::BackEdge`], see [`CfgConfig::bpf_capable`]).
    ///
    /// Two kernel quirks are reproduced, not corrected: a recursive call is
    /// a back-edge (from the call to the callee's first slot), and since
    /// `visit_gotox_insn` marks all jump-table entries discovered at once,
    /// an edge to an entry not explored yet is a back-edge even when it
    /// closes no cycle (edges *from* a `gotox` are never back-edges).
    #[must_use]
    pub fn back_edges(&self) -> &[BackEdge] {
        &self.back_edges
    }

    /// Edges that close a cycle without a dominating header (irreducible
    /// control flow, e.g. a loop entered in two places): retreating edges of
    /// the block DFS whose target does not dominate their source. Such
    /// cycles are not in [`Cfg::loops`].
    ///
    /// Because the block DFS follows `check_cfg`'s order, in a program
    /// without `gotox` the loop back-edges ([`Cfg::is_loop_back_edge`]) and
    /// these edges are, block for block, the [`Cfg::back_edges`] other than
    /// recursive calls.
    #[must_use]
    pub fn irreducible_edges(&self) -> &[Edge] {
        &self.irreducible
    }

    /// What `check_cfg` marked on a slot for the main pass (empty past the
    /// end). The kernel's rules (bpf-next, `visit_insn`):
    ///
    /// | instruction | marks |
    /// |---|---|
    /// | conditional jump | `prune_point` on itself and on the taken target (`jmp_point` there too); the fall-through slot is *not* marked |
    /// | `may_goto` | as a conditional jump, plus `force_checkpoint` on itself |
    /// | `goto`/`gotol` | `prune_point` and `jmp_point` on the target |
    /// | any call (helper, kfunc, bpf-to-bpf, `callx`) | `prune_point` and `jmp_point` on the next slot |
    /// | bpf-to-bpf call | also `prune_point` on itself; `prune_point` and `jmp_point` on the callee's entry |
    /// | `ld_imm64` of a function | as a bpf-to-bpf call (next slot is 2 further) |
    /// | `bpf_loop`, `bpf_for_each_map_elem`, `bpf_find_vma`, `bpf_user_ringbuf_drain` | `calls_callback`, `force_checkpoint`, `prune_point`, `jmp_point` on itself |
    /// | `bpf_timer_set_callback` | `prune_point` on itself |
    /// | `gotox` | `prune_point` on itself, `jmp_point` on each jump table entry |
    ///
    /// Not reproduced: marks that depend on kfunc identity (open-coded
    /// iterator `next` kfuncs get `prune_point` and `force_checkpoint`;
    /// callback-calling kfuncs like `bpf_rbtree_add` get the `bpf_loop`
    /// marks). The verifier adds those once it has resolved kfuncs.
    #[must_use]
    pub fn marks(&self, slot: usize) -> InsnMarks {
        self.marks.get(slot).copied().unwrap_or_default()
    }

    /// The slots marked `prune_point`, in order.
    pub fn prune_points(&self) -> impl Iterator<Item = usize> + '_ {
        self.marks
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.is_prune_point().then_some(i))
    }

    /// The slots of all `gotox` instructions.
    #[must_use]
    pub fn indirect_jumps(&self) -> &[usize] {
        &self.indirect_jumps
    }
}
