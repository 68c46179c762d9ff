//! The kernel's structural passes, reproduced at instruction (slot) level:
//! `add_subprog_and_kfunc`, `check_subprogs` and `check_cfg` (with its
//! `visit_insn`/`push_insn` depth-first search), in `bpf_check`'s order.
//!
//! Reference: `kernel/bpf/verifier.c` and `kernel/bpf/cfg.c` of bpf-next
//! (2026). The kernel iterates over *slots*, so the second slot of an
//! `ld_imm64` is an instruction of opcode 0 to these passes: not a jump,
//! one slot long. We do the same, which is what makes "jump into the
//! middle of ldimm64" and "last insn is not an exit or jmp" (for an
//! `ld_imm64` at the end of a subprogram) come out exactly as in the kernel.
//!
//! **Checked here, in this order** (the first failure is returned):
//! - [x] `add_subprog_and_kfunc`: `CAP_BPF` for calls and function
//!   references (when not capable), "call to invalid destination",
//!   "too many subprograms", in slot order.
//! - [x] `check_subprogs`: "jump out of range" (any jump leaving its
//!   subprogram, `gotox` counted as a jump to the next slot as the kernel's
//!   `bpf_jmp_offset` does), "last insn is not an exit or jmp", in slot order.
//! - [x] `check_cfg`: the DFS in the kernel's visiting order (fall-through
//!   edge first, then the branch), recording back-edges (or failing on the
//!   first when not capable), `gotox` jump tables, then "unreachable insn"
//!   and "jump into the middle of ldimm64" in slot order.
//!
//! **Not here** (they need BTF, maps or the program type; the verifier
//! runs them): kfunc resolution in `add_kfunc_call` (its errors interleave
//! with the subprogram ones in the kernel's loop), the exception callback
//! found through BTF decl tags (a second DFS root in `check_cfg`),
//! `check_btf_info` and `resolve_pseudo_ldimm64` (which run between
//! `check_subprogs` and `check_cfg`), and the kfunc-dependent marks
//! (iterator `next` kfuncs, callback-calling kfuncs).

use ebpf_isa::{CallTarget, Imm64, Insn};

use crate::error::CfgError;
use crate::ids::InsnMarks;

/// `BPF_MAX_SUBPROGS`: subprograms per program, the main one included.
pub(crate) const BPF_MAX_SUBPROGS: usize = 256;
/// `BPF_COMPLEXITY_LIMIT_INSNS`: the largest program `bpf_prog_load` takes.
pub(crate) const BPF_COMPLEXITY_LIMIT_INSNS: usize = 1_000_000;
/// `BPF_MAXINSNS`: the largest program a loader without `CAP_BPF` may load.
pub(crate) const BPF_MAXINSNS: usize = 4096;

/// Helper ids (`enum bpf_func_id`) whose calls `check_cfg` treats specially.
pub(crate) mod helper {
    /// `bpf_tail_call`: an abnormal return (`visit_abnormal_return_insn`).
    pub(crate) const TAIL_CALL: i32 = 12;
    /// `bpf_for_each_map_elem`: calls its callback synchronously.
    pub(crate) const FOR_EACH_MAP_ELEM: i32 = 164;
    /// `bpf_timer_set_callback`: registers an asynchronous callback.
    pub(crate) const TIMER_SET_CALLBACK: i32 = 170;
    /// `bpf_find_vma`: calls its callback synchronously.
    pub(crate) const FIND_VMA: i32 = 180;
    /// `bpf_loop`: calls its callback synchronously.
    pub(crate) const LOOP: i32 = 181;
    /// `bpf_user_ringbuf_drain`: calls its callback synchronously.
    pub(crate) const USER_RINGBUF_DRAIN: i32 = 209;

    /// `is_sync_callback_calling_function`.
    pub(crate) const fn is_sync_callback_calling(id: i32) -> bool {
        matches!(id, FOR_EACH_MAP_ELEM | FIND_VMA | LOOP | USER_RINGBUF_DRAIN)
    }

    /// `is_async_callback_calling_function` for helpers.
    pub(crate) const fn is_async_callback_calling(id: i32) -> bool {
        id == TIMER_SET_CALLBACK
    }
}

/// `insn + off + 1` as the kernel computes it: in `int`, wrapping.
pub(crate) fn jmp_target(insn: usize, off: i32) -> i32 {
    // `insn` < BPF_COMPLEXITY_LIMIT_INSNS (checked first), so it fits.
    (insn as i32).wrapping_add(off).wrapping_add(1)
}

/// `target` as a slot index, if it lies in `0..len`.
pub(crate) fn in_range(target: i32, len: usize) -> Option<usize> {
    usize::try_from(target).ok().filter(|&t| t < len)
}

/// The offset `check_subprogs` checks: `bpf_jmp_offset` for every
/// `BPF_JMP`/`BPF_JMP32` instruction that is neither a call nor an exit.
/// For `gotox` the `off` field (always 0) is used, so its "target" is the
/// next slot.
fn checked_jump_offset(insn: &Insn) -> Option<i32> {
    match insn {
        Insn::Gotox { .. } => Some(0),
        _ => insn.jump_offset(),
    }
}

/// The callee offset of a bpf-to-bpf call or a function reference
/// (`bpf_pseudo_call`, `bpf_pseudo_func`).
pub(crate) fn callee_offset(insn: &Insn) -> Option<i32> {
    match *insn {
        Insn::Call(CallTarget::Local(off))
        | Insn::LdImm64 {
            imm: Imm64::Func(off),
            ..
        } => Some(off),
        _ => None,
    }
}

/// `add_subprog_and_kfunc` without the kfunc half: the sorted start slots
/// of all subprograms (`[0]` is 0).
pub(crate) fn add_subprogs(insns: &[Insn], bpf_capable: bool) -> Result<Vec<usize>, CfgError> {
    let len = insns.len();
    // Kept sorted: at most `BPF_MAX_SUBPROGS` entries.
    let mut starts = vec![0usize];
    for (i, insn) in insns.iter().enumerate() {
        let is_kfunc = matches!(insn, Insn::Call(CallTarget::Kfunc { .. }));
        let callee = callee_offset(insn);
        if callee.is_none() && !is_kfunc {
            continue;
        }
        if !bpf_capable {
            return Err(CfgError::CallsNotAllowed { insn: i });
        }
        let Some(off) = callee else { continue };
        let target = jmp_target(i, off);
        let Some(start) = in_range(target, len) else {
            return Err(CfgError::CallToInvalidDestination { insn: i, target });
        };
        let Err(pos) = starts.binary_search(&start) else {
            continue;
        };
        if starts.len() >= BPF_MAX_SUBPROGS {
            return Err(CfgError::TooManySubprograms {
                insn: i,
                limit: BPF_MAX_SUBPROGS,
            });
        }
        starts.insert(pos, start);
    }
    Ok(starts)
}

/// `check_subprogs`: every jump stays in its subprogram and every
/// subprogram ends with `exit`, `goto` or `gotol`. Returns each
/// subprogram's `exit_idx` (its last `exit`, if any) when `exits`, else
/// nothing.
pub(crate) fn check_subprogs(
    insns: &[Insn],
    starts: &[usize],
    exits: bool,
) -> Result<Vec<Option<usize>>, CfgError> {
    let len = insns.len();
    let bound = |sp: usize| starts.get(sp).copied().unwrap_or(len);
    let mut exit_idx = if exits {
        vec![None; starts.len()]
    } else {
        Vec::new()
    };
    let mut cur = 0usize;
    let mut start = bound(0);
    let mut end = bound(1);
    for (i, insn) in insns.iter().enumerate() {
        if matches!(insn, Insn::Exit) {
            if let Some(e) = exit_idx.get_mut(cur) {
                *e = Some(i);
            }
        } else if let Some(off) = checked_jump_offset(insn) {
            let to = jmp_target(i, off);
            // `start` and `end` are at most `len` <= 1,000,000.
            if to < start as i32 || to >= end as i32 {
                return Err(CfgError::JumpOutOfRange { from: i, to });
            }
        }
        if i.checked_add(1) == Some(end) {
            if !matches!(insn, Insn::Exit | Insn::Ja { .. } | Insn::Gotol { .. }) {
                return Err(CfgError::LastInsnNotExitOrJmp {
                    insn: i,
                    subprog: cur,
                });
            }
            cur = cur.saturating_add(1);
            start = end;
            end = bound(cur.saturating_add(1));
        }
    }
    Ok(exit_idx)
}

/// What `check_cfg` leaves behind for the main pass.
pub(crate) struct Walk {
    /// Marks per slot.
    pub(crate) marks: Vec<InsnMarks>,
    /// Back-edges in discovery order (only when capable).
    pub(crate) back_edges: Vec<(usize, usize)>,
    /// Per subprogram, the combined jump table of its `gotox`
    /// instructions (only with known jump tables).
    pub(crate) jump_tables: Vec<Option<Vec<usize>>>,
}

/// The configuration `check_cfg` needs.
pub(crate) struct WalkConfig<'a> {
    pub(crate) bpf_capable: bool,
    pub(crate) jump_tables: Option<&'a [Vec<usize>]>,
}

// `insn_state` values.
const DISCOVERED: u8 = 0x10;
const EXPLORED: u8 = 0x20;
const FALLTHROUGH: u8 = 1;
const BRANCH: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Explore {
    Done,
    Keep,
}

struct Dfs<'a> {
    insns: &'a [Insn],
    starts: &'a [usize],
    bpf_capable: bool,
    /// Sorted, deduplicated, non-empty tables; `None` when unknown.
    tables: Option<Vec<Vec<usize>>>,
    state: Vec<u8>,
    stack: Vec<u32>,
    marks: Vec<InsnMarks>,
    back_edges: Vec<(usize, usize)>,
    jump_tables: Vec<Option<Vec<usize>>>,
    /// Subprograms with a reached `gotox` whose targets are unknown.
    unknown_gotox: Vec<bool>,
    unknown_queue: Vec<usize>,
}

/// `check_cfg`. `starts` are the subprograms' first slots.
pub(crate) fn check_cfg(
    insns: &[Insn],
    starts: &[usize],
    config: &WalkConfig<'_>,
) -> Result<Walk, CfgError> {
    let len = insns.len();
    let tables = config.jump_tables.map(|tables| {
        tables
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| {
                let mut t = t.clone();
                t.sort_unstable();
                t.dedup();
                t
            })
            .collect()
    });
    let mut dfs = Dfs {
        insns,
        starts,
        bpf_capable: config.bpf_capable,
        tables,
        state: vec![0; len],
        // The depth of the search: room for most programs' at once.
        stack: Vec::with_capacity(len.min(256)),
        marks: vec![InsnMarks::NONE; len],
        back_edges: Vec::new(),
        jump_tables: Vec::new(),
        unknown_gotox: Vec::new(),
        unknown_queue: Vec::new(),
    };
    dfs.root(0);
    dfs.run()?;

    // Unknown jump tables: any slot of a subprogram with a reachable
    // `gotox` may be one of its targets. Walk the rest of that
    // subprogram from each slot not reached yet, in slot order.
    let mut next = 0;
    while let Some(&sp) = dfs.unknown_queue.get(next) {
        next += 1;
        let start = starts.get(sp).copied().unwrap_or(len);
        let end = starts.get(sp + 1).copied().unwrap_or(len);
        for i in start..end {
            let fresh = dfs.state.get(i) == Some(&0);
            if fresh && insns.get(i) != Some(&Insn::LdImm64Tail) {
                dfs.root(i);
                dfs.run()?;
            }
        }
    }

    let mut i = 0;
    while let Some(insn) = insns.get(i) {
        if dfs.state.get(i) != Some(&EXPLORED) {
            return Err(CfgError::UnreachableInsn { insn: i });
        }
        if matches!(insn, Insn::LdImm64 { .. }) {
            if dfs.state.get(i + 1).is_some_and(|&s| s != 0) {
                return Err(CfgError::JumpIntoLdImm64 { insn: i });
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    Ok(Walk {
        marks: dfs.marks,
        back_edges: dfs.back_edges,
        jump_tables: dfs.jump_tables,
    })
}

impl Dfs<'_> {
    fn root(&mut self, slot: usize) {
        if let Some(s) = self.state.get_mut(slot) {
            *s = DISCOVERED;
            self.stack.push(slot as u32);
        }
    }

    fn run(&mut self) -> Result<(), CfgError> {
        while let Some(&t) = self.stack.last() {
            let t = t as usize;
            if self.visit(t)? == Explore::Done {
                if let Some(s) = self.state.get_mut(t) {
                    *s = EXPLORED;
                }
                self.stack.pop();
            }
        }
        Ok(())
    }

    fn mark(&mut self, slot: usize, marks: InsnMarks) {
        if let Some(m) = self.marks.get_mut(slot) {
            *m = m.union(marks);
        }
    }

    fn mark_target(&mut self, target: i32, marks: InsnMarks) {
        if let Some(slot) = in_range(target, self.insns.len()) {
            self.mark(slot, marks);
        }
    }

    fn state(&self, slot: usize) -> u8 {
        self.state.get(slot).copied().unwrap_or(EXPLORED)
    }

    fn set_state(&mut self, slot: usize, value: u8) {
        if let Some(s) = self.state.get_mut(slot) {
            *s = value;
        }
    }

    /// `push_insn`: label the edge `t -> w` of kind `e`.
    fn push(&mut self, t: usize, w: i32, e: u8) -> Result<Explore, CfgError> {
        let st = self.state(t);
        if st >= DISCOVERED | e {
            // FALLTHROUGH: labelled already (0x11 or 0x12);
            // BRANCH: both edges labelled (0x12).
            return Ok(Explore::Done);
        }
        let Some(w_slot) = in_range(w, self.insns.len()) else {
            return Err(CfgError::JumpOutOfRange { from: t, to: w });
        };
        if e == BRANCH {
            // mark branch target for state pruning
            self.mark(w_slot, InsnMarks::PRUNE_POINT | InsnMarks::JMP_POINT);
        }
        let sw = self.state(w_slot);
        if sw == 0 {
            // tree edge
            self.set_state(t, DISCOVERED | e);
            self.set_state(w_slot, DISCOVERED);
            self.stack.push(w_slot as u32);
            Ok(Explore::Keep)
        } else if sw & 0xf0 == DISCOVERED {
            if !self.bpf_capable {
                return Err(CfgError::BackEdge {
                    from: t,
                    to: w_slot,
                });
            }
            self.back_edges.push((t, w_slot));
            Ok(Explore::Done)
        } else {
            // forward or cross edge
            self.set_state(t, DISCOVERED | e);
            Ok(Explore::Done)
        }
    }

    /// `visit_insn`.
    fn visit(&mut self, t: usize) -> Result<Explore, CfgError> {
        let Some(&insn) = self.insns.get(t) else {
            return Ok(Explore::Done);
        };
        match insn {
            Insn::LdImm64 {
                imm: Imm64::Func(off),
                ..
            } => self.visit_call(t, 2, Some(off)),
            Insn::LdImm64 { .. } => self.push(t, jmp_target(t, 1), FALLTHROUGH),
            Insn::Exit => Ok(Explore::Done),
            Insn::Call(target) => {
                if let CallTarget::Helper(id) = target {
                    if helper::is_async_callback_calling(id) {
                        self.mark(t, InsnMarks::PRUNE_POINT);
                    }
                    if helper::is_sync_callback_calling(id) {
                        self.mark(
                            t,
                            InsnMarks::CALLS_CALLBACK
                                | InsnMarks::FORCE_CHECKPOINT
                                | InsnMarks::PRUNE_POINT
                                | InsnMarks::JMP_POINT,
                        );
                    }
                }
                let callee = match target {
                    CallTarget::Local(off) => Some(off),
                    _ => None,
                };
                self.visit_call(t, 1, callee)
            }
            Insn::Callx { .. } => self.visit_call(t, 1, None),
            Insn::Ja { off } => self.visit_goto(t, off.into()),
            Insn::Gotol { imm } => self.visit_goto(t, imm),
            Insn::Gotox { .. } => self.visit_gotox(t),
            Insn::Jump { off, .. } | Insn::MayGoto { off } => {
                // conditional jump with two edges
                self.mark(t, InsnMarks::PRUNE_POINT);
                if matches!(insn, Insn::MayGoto { .. }) {
                    self.mark(t, InsnMarks::FORCE_CHECKPOINT);
                }
                if self.push(t, jmp_target(t, 0), FALLTHROUGH)? == Explore::Keep {
                    return Ok(Explore::Keep);
                }
                self.push(t, jmp_target(t, off.into()), BRANCH)
            }
            // Everything else, the second slot of an `ld_imm64` included
            // (opcode 0 to the kernel), has a single fall-through edge.
            _ => self.push(t, jmp_target(t, 0), FALLTHROUGH),
        }
    }

    /// Unconditional jump with a single edge, labelled fall-through.
    fn visit_goto(&mut self, t: usize, off: i32) -> Result<Explore, CfgError> {
        let w = jmp_target(t, off);
        if self.push(t, w, FALLTHROUGH)? == Explore::Keep {
            return Ok(Explore::Keep);
        }
        self.mark_target(w, InsnMarks::PRUNE_POINT | InsnMarks::JMP_POINT);
        Ok(Explore::Done)
    }

    /// `visit_func_call_insn`: calls (of any kind) and function references.
    fn visit_call(
        &mut self,
        t: usize,
        size: i32,
        callee: Option<i32>,
    ) -> Result<Explore, CfgError> {
        let next = jmp_target(t, size - 1);
        if self.push(t, next, FALLTHROUGH)? == Explore::Keep {
            return Ok(Explore::Keep);
        }
        // when we exit from subprog, we need to record non-linear history
        self.mark_target(next, InsnMarks::PRUNE_POINT | InsnMarks::JMP_POINT);
        match callee {
            Some(off) => {
                self.mark(t, InsnMarks::PRUNE_POINT);
                self.push(t, jmp_target(t, off), BRANCH)
            }
            None => Ok(Explore::Done),
        }
    }

    /// `visit_gotox_insn`: one edge per jump table entry.
    fn visit_gotox(&mut self, t: usize) -> Result<Explore, CfgError> {
        let sp = self.starts.partition_point(|&s| s <= t).saturating_sub(1);
        // Sized on the first `gotox`: most programs have none.
        if self.jump_tables.len() < self.starts.len() {
            self.jump_tables.resize(self.starts.len(), None);
            self.unknown_gotox.resize(self.starts.len(), false);
        }
        if self.tables.is_none() {
            self.mark(t, InsnMarks::PRUNE_POINT);
            if let Some(seen) = self.unknown_gotox.get_mut(sp)
                && !*seen
            {
                *seen = true;
                self.unknown_queue.push(sp);
            }
            return Ok(Explore::Done);
        }
        let targets = match self.jump_tables.get_mut(sp).and_then(Option::take) {
            Some(jt) => jt,
            None => self.create_jt(t, sp)?,
        };
        self.mark(t, InsnMarks::PRUNE_POINT);
        let mut keep = false;
        for &w in &targets {
            self.mark(w, InsnMarks::JMP_POINT);
            if self.state(w) != 0 {
                continue;
            }
            self.stack.push(w as u32);
            self.set_state(w, DISCOVERED);
            keep = true;
        }
        if let Some(slot) = self.jump_tables.get_mut(sp) {
            *slot = Some(targets);
        }
        Ok(if keep { Explore::Keep } else { Explore::Done })
    }

    /// `create_jt`: the union of the tables whose first (smallest) entry
    /// lies in the subprogram of `t`, all of which must lie in it.
    fn create_jt(&self, t: usize, sp: usize) -> Result<Vec<usize>, CfgError> {
        let len = self.insns.len();
        let start = self.starts.get(sp).copied().unwrap_or(len);
        let end = self.starts.get(sp + 1).copied().unwrap_or(len);
        let mut jt = Vec::new();
        for table in self.tables.iter().flatten() {
            if table
                .first()
                .is_some_and(|&first| first >= start && first < end)
            {
                jt.extend_from_slice(table);
            }
        }
        if jt.is_empty() {
            return Err(CfgError::NoJumpTables {
                insn: t,
                subprog_start: start,
            });
        }
        jt.sort_unstable();
        jt.dedup();
        if jt.iter().any(|&w| w < start || w >= end) {
            return Err(CfgError::JumpTableOutsideSubprog {
                insn: t,
                subprog_start: start,
                subprog_end: end,
            });
        }
        Ok(jt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_ids_match_the_isa_table() {
        for (id, name) in [
            (helper::TAIL_CALL, "tail_call"),
            (helper::FOR_EACH_MAP_ELEM, "for_each_map_elem"),
            (helper::TIMER_SET_CALLBACK, "timer_set_callback"),
            (helper::FIND_VMA, "find_vma"),
            (helper::LOOP, "loop"),
            (helper::USER_RINGBUF_DRAIN, "user_ringbuf_drain"),
        ] {
            assert_eq!(ebpf_isa::helper_id(name), Some(id), "{name}");
        }
    }

    #[test]
    fn targets_wrap_like_c_int() {
        assert_eq!(jmp_target(3, 4), 8);
        assert_eq!(jmp_target(0, -1), 0);
        assert_eq!(jmp_target(0, -2), -1);
        assert_eq!(jmp_target(5, i32::MAX), i32::MIN + 5);
        assert_eq!(in_range(-1, 10), None);
        assert_eq!(in_range(10, 10), None);
        assert_eq!(in_range(9, 10), Some(9));
    }
}
