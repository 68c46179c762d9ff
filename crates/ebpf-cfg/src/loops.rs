//! Natural loops and their nesting, from the dominator tree.
//!
//! A natural back-edge is an intra-procedural edge `u -> h` whose target
//! dominates its source; `h` is a loop header and the loop body is every
//! block that reaches `u` without passing through `h`. Loops with the same
//! header are one loop.
//!
//! Headers are processed innermost first (postorder: a header comes after
//! every header it dominates), and each finished loop is collapsed into its
//! header with a union-find, so an outer loop walks over an inner loop in
//! one step. Every block is absorbed once and every edge looked at once per
//! absorption: `O(E α(N))` however deep the nesting, where listing each
//! loop's full body would be quadratic.
//!
//! Cycles without a dominating header (irreducible control flow) are not
//! natural loops; `Cfg::irreducible_edges` lists the edges that close them.

use crate::cfg::Loop;
use crate::dom::{DomTree, NONE, Order, is_intra};
use crate::graph::Rows;
use crate::ids::{BlockId, LoopId};

#[derive(Clone)]
pub(crate) struct LoopForest {
    pub(crate) loops: Vec<Loop>,
    /// Innermost loop of each block, `NONE` outside loops.
    pub(crate) loop_of: Vec<u32>,
    /// Blocks whose innermost loop is this one, in block order.
    pub(crate) own: Vec<Vec<BlockId>>,
    /// Directly nested loops, in id order.
    pub(crate) children: Vec<Vec<LoopId>>,
}

fn find(uf: &mut [u32], mut x: u32) -> u32 {
    loop {
        let p = uf.get(x as usize).copied().unwrap_or(x);
        if p == x {
            return x;
        }
        let gp = uf.get(p as usize).copied().unwrap_or(p);
        if let Some(slot) = uf.get_mut(x as usize) {
            *slot = gp;
        }
        x = gp;
    }
}

struct Raw {
    header: u32,
    parent: u32,
    latches: Vec<BlockId>,
}

pub(crate) fn find_loops(order: &Order, preds: &Rows, dom: &DomTree) -> LoopForest {
    let nb = order.pre.len();
    let reached = |b: usize| order.pre.get(b).is_some_and(|&p| p != NONE);
    let mut uf: Vec<u32> = (0..nb as u32).collect();
    let mut loop_of = vec![NONE; nb];
    let mut raw: Vec<Raw> = Vec::new();
    let mut work: Vec<u32> = Vec::new();

    for &header in order.rpo.iter().rev() {
        let h = header.index();
        let mut latches: Vec<BlockId> = preds
            .row(h)
            .iter()
            .filter(|e| is_intra(e) && reached(e.from.index()) && dom.dominates(h, e.from.index()))
            .map(|e| e.from)
            .collect();
        if latches.is_empty() {
            continue;
        }
        latches.sort_unstable();
        latches.dedup();
        let id = raw.len() as u32;
        let h32 = h as u32;
        if let Some(l) = loop_of.get_mut(h) {
            *l = id;
        }
        work.clear();
        for latch in &latches {
            let r = find(&mut uf, latch.index() as u32);
            if r != h32 {
                work.push(r);
            }
        }
        raw.push(Raw {
            header: h32,
            parent: NONE,
            latches,
        });
        while let Some(x) = work.pop() {
            if find(&mut uf, x) == h32 {
                continue;
            }
            if let Some(slot) = uf.get_mut(x as usize) {
                *slot = h32;
            }
            match loop_of.get_mut(x as usize) {
                Some(l) if *l == NONE => *l = id,
                // `x` heads an inner loop that has no parent yet.
                Some(l) => {
                    if let Some(inner) = raw.get_mut(*l as usize) {
                        inner.parent = id;
                    }
                }
                None => {}
            }
            for e in preds.row(x as usize) {
                if !is_intra(e) || !reached(e.from.index()) {
                    continue;
                }
                let y = find(&mut uf, e.from.index() as u32);
                if y != h32 {
                    work.push(y);
                }
            }
        }
    }

    // Loops were found innermost first, i.e. in reverse order of their
    // headers in reverse postorder. Number them outermost first instead,
    // so that a parent's id is smaller than its children's.
    let count = raw.len();
    let renumber = |old: u32| {
        if old == NONE {
            NONE
        } else {
            (count as u32).wrapping_sub(1).wrapping_sub(old)
        }
    };
    let mut loops: Vec<Loop> = Vec::with_capacity(count);
    for (new, r) in raw.into_iter().rev().enumerate() {
        let parent = renumber(r.parent);
        let depth = if parent == NONE {
            1
        } else {
            loops
                .get(parent as usize)
                .map_or(1, |p: &Loop| p.depth.saturating_add(1))
        };
        loops.push(Loop {
            id: LoopId::new(new),
            header: BlockId::new(r.header as usize),
            parent: (parent != NONE).then(|| LoopId::new(parent as usize)),
            depth,
            latches: r.latches,
        });
    }
    for l in &mut loop_of {
        *l = renumber(*l);
    }
    let mut own = vec![Vec::new(); count];
    for (b, &l) in loop_of.iter().enumerate() {
        if let Some(list) = own.get_mut(l as usize) {
            list.push(BlockId::new(b));
        }
    }
    let mut children = vec![Vec::new(); count];
    for l in &loops {
        if let Some(p) = l.parent
            && let Some(list) = children.get_mut(p.index())
        {
            list.push(l.id);
        }
    }
    LoopForest {
        loops,
        loop_of,
        own,
        children,
    }
}
