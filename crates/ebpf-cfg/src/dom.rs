//! Depth-first orders and dominators over the intra-procedural block graph
//! (every edge except [`EdgeKind::Call`] and [`EdgeKind::PseudoFunc`]),
//! one tree per subprogram.
//!
//! Dominators use Lengauer and Tarjan's algorithm with path compression
//! ("A Fast Algorithm for Finding Dominators in a Flowgraph", TOPLAS 1979,
//! the simple version): `O(E log N)` on any graph, which matters because the
//! input is untrusted. The iterative Cooper-Harvey-Kennedy algorithm is
//! simpler but quadratic on adversarial (irreducible, deep) graphs.
//! All walks are iterative: a program of a million slots does not recurse.
//!
//! The subprogram forest is handled as one graph with a virtual root whose
//! children are the subprogram entries; a dominator of "the virtual root"
//! means "none".

use crate::cfg::{Edge, EdgeKind};
use crate::graph::Rows;
use crate::ids::BlockId;

/// "No such index".
pub(crate) const NONE: u32 = u32::MAX;

/// A depth-first search of each subprogram from its entry, in the order
/// of the kernel's `check_cfg`: the fall-through edge first, then the
/// branch; `gotox` targets last entry first (the kernel pushes them all and
/// pops the last). With the same order, the retreating edges of this search
/// are exactly the intra-procedural back-edges `check_cfg` reports.
pub(crate) struct Order {
    /// Preorder number per block, `NONE` if unreachable from its entry.
    /// Numbers start at 1 (0 is the virtual root) and run on across
    /// subprograms.
    pub(crate) pre: Vec<u32>,
    /// Postorder number per block, `NONE` if unreachable.
    pub(crate) post: Vec<u32>,
    /// Preorder number to block (`vertex[0]` is unused: the virtual root).
    vertex: Vec<u32>,
    /// DFS tree parent as a preorder number (0 for entries).
    parent: Vec<u32>,
    /// Reverse postorder of each subprogram, concatenated.
    pub(crate) rpo: Vec<BlockId>,
    /// `rpo[rpo_off[s]..rpo_off[s + 1]]` is subprogram `s`'s.
    pub(crate) rpo_off: Vec<u32>,
}

pub(crate) fn is_intra(e: &Edge) -> bool {
    e.kind.is_intra()
}

pub(crate) fn order(nblocks: usize, entries: &[BlockId], succs: &Rows) -> Order {
    let mut pre = vec![NONE; nblocks];
    let mut post = vec![NONE; nblocks];
    let mut vertex = vec![NONE];
    let mut parent = vec![0u32];
    let mut rpo = Vec::with_capacity(nblocks);
    let mut rpo_off = vec![0u32];
    let mut postorder: Vec<BlockId> = Vec::new();
    let mut post_count = 0u32;
    // (block, edges of its row not yet looked at)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for &entry in entries {
        postorder.clear();
        let e = entry.index();
        if pre.get(e) == Some(&NONE) {
            if let Some(p) = pre.get_mut(e) {
                *p = vertex.len() as u32;
            }
            vertex.push(e as u32);
            parent.push(0);
            stack.push((e, 0));
        }
        while let Some(top) = stack.last_mut() {
            let (b, k) = *top;
            let row = succs.row(b);
            if k >= row.len() {
                if let Some(p) = post.get_mut(b) {
                    *p = post_count;
                }
                post_count += 1;
                postorder.push(BlockId::new(b));
                stack.pop();
                continue;
            }
            top.1 = k + 1;
            let indirect = row.iter().all(|e| e.kind == EdgeKind::Indirect);
            let at = if indirect { row.len() - 1 - k } else { k };
            let Some(edge) = row.get(at) else {
                continue;
            };
            let s = edge.to.index();
            if !is_intra(edge) || pre.get(s) != Some(&NONE) {
                continue;
            }
            let parent_pre = pre.get(b).copied().unwrap_or(0);
            if let Some(p) = pre.get_mut(s) {
                *p = vertex.len() as u32;
            }
            vertex.push(s as u32);
            parent.push(parent_pre);
            stack.push((s, 0));
        }
        rpo.extend(postorder.iter().rev());
        rpo_off.push(rpo.len() as u32);
    }
    Order {
        pre,
        post,
        vertex,
        parent,
        rpo,
        rpo_off,
    }
}

/// Immediate dominators per block (`NONE` for entries and unreachable
/// blocks), by Lengauer-Tarjan over the DFS of `order`.
pub(crate) fn idoms(order: &Order, preds: &Rows) -> Vec<u32> {
    let n = order.vertex.len(); // preorder numbers 0..n, 0 = virtual root
    let mut semi: Vec<u32> = (0..n as u32).collect();
    let mut label: Vec<u32> = (0..n as u32).collect();
    let mut ancestor = vec![NONE; n];
    let mut idom = vec![0u32; n];
    let mut bucket_head = vec![NONE; n];
    let mut bucket_next = vec![NONE; n];
    let mut path: Vec<u32> = Vec::new();

    let get = |v: &Vec<u32>, i: u32| v.get(i as usize).copied().unwrap_or(NONE);

    for w in (1..n as u32).rev() {
        let block = get(&order.vertex, w) as usize;
        let p = get(&order.parent, w);
        let mut sw = get(&semi, w);
        if p == 0 {
            // An entry: the virtual root is a predecessor.
            sw = 0;
        }
        for e in preds.row(block) {
            if !is_intra(e) {
                continue;
            }
            let v = get(&order.pre, e.from.index() as u32);
            if v == NONE {
                continue;
            }
            let u = eval(v, &mut ancestor, &mut label, &semi, &mut path);
            sw = sw.min(get(&semi, u));
        }
        if let Some(s) = semi.get_mut(w as usize) {
            *s = sw;
        }
        // bucket(vertex(semi(w))) += w
        if let Some(next) = bucket_next.get_mut(w as usize) {
            *next = get(&bucket_head, sw);
        }
        if let Some(head) = bucket_head.get_mut(sw as usize) {
            *head = w;
        }
        // link(parent(w), w)
        if let Some(a) = ancestor.get_mut(w as usize) {
            *a = p;
        }
        let mut v = get(&bucket_head, p);
        while v != NONE {
            let u = eval(v, &mut ancestor, &mut label, &semi, &mut path);
            let d = if get(&semi, u) < get(&semi, v) { u } else { p };
            if let Some(i) = idom.get_mut(v as usize) {
                *i = d;
            }
            v = get(&bucket_next, v);
        }
        if let Some(head) = bucket_head.get_mut(p as usize) {
            *head = NONE;
        }
    }
    for w in 1..n as u32 {
        let iw = get(&idom, w);
        if iw != get(&semi, w) {
            let ii = get(&idom, iw);
            if let Some(i) = idom.get_mut(w as usize) {
                *i = ii;
            }
        }
    }

    let mut out = vec![NONE; order.pre.len()];
    for w in 1..n as u32 {
        let d = get(&idom, w);
        let block = get(&order.vertex, w) as usize;
        if let Some(o) = out.get_mut(block) {
            *o = if d == 0 { NONE } else { get(&order.vertex, d) };
        }
    }
    out
}

/// `EVAL` with path compression, iteratively.
fn eval(v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], path: &mut Vec<u32>) -> u32 {
    let get = |s: &[u32], i: u32| s.get(i as usize).copied().unwrap_or(NONE);
    if get(ancestor, v) == NONE {
        return v;
    }
    // COMPRESS(v): collect the path up to the node just below the root of
    // the linked tree, then fold labels top down.
    path.clear();
    let mut x = v;
    loop {
        let a = get(ancestor, x);
        if a == NONE || get(ancestor, a) == NONE {
            break;
        }
        path.push(x);
        x = a;
    }
    while let Some(x) = path.pop() {
        let a = get(ancestor, x);
        let (la, lx) = (get(label, a), get(label, x));
        if get(semi, la) < get(semi, lx)
            && let Some(l) = label.get_mut(x as usize)
        {
            *l = la;
        }
        let aa = get(ancestor, a);
        if let Some(slot) = ancestor.get_mut(x as usize) {
            *slot = aa;
        }
    }
    get(label, v)
}

/// The dominator tree: children lists and an Euler numbering that answers
/// "does a dominate b" in constant time.
#[derive(Clone)]
pub(crate) struct DomTree {
    pub(crate) idom: Vec<u32>,
    children_off: Vec<u32>,
    children: Vec<BlockId>,
    /// Preorder and postorder numbers on the dominator tree.
    dpre: Vec<u32>,
    dpost: Vec<u32>,
}

impl DomTree {
    pub(crate) fn new(idom: Vec<u32>, entries: &[BlockId]) -> DomTree {
        let n = idom.len();
        let mut children_off = vec![0u32; n + 1];
        for &d in idom.iter().filter(|&&d| d != NONE) {
            if let Some(c) = children_off.get_mut(d as usize + 1) {
                *c += 1;
            }
        }
        for b in 0..n {
            let prev = children_off.get(b).copied().unwrap_or(0);
            if let Some(c) = children_off.get_mut(b + 1) {
                *c += prev;
            }
        }
        let mut fill = children_off.clone();
        let mut children =
            vec![BlockId::new(0); children_off.get(n).copied().unwrap_or(0) as usize];
        for (b, &d) in idom.iter().enumerate().filter(|(_, d)| **d != NONE) {
            if let Some(pos) = fill.get_mut(d as usize) {
                if let Some(slot) = children.get_mut(*pos as usize) {
                    *slot = BlockId::new(b);
                }
                *pos += 1;
            }
        }
        let mut tree = DomTree {
            idom,
            children_off,
            children,
            dpre: vec![NONE; n],
            dpost: vec![NONE; n],
        };
        let mut counter = 0u32;
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for &entry in entries {
            let e = entry.index();
            if tree.dpre.get(e) != Some(&NONE) {
                continue;
            }
            if let Some(p) = tree.dpre.get_mut(e) {
                *p = counter;
            }
            counter += 1;
            stack.push((e, 0));
            while let Some(top) = stack.last_mut() {
                let (b, next) = *top;
                let Some(&child) = tree.children(b).get(next) else {
                    if let Some(p) = tree.dpost.get_mut(b) {
                        *p = counter;
                    }
                    counter += 1;
                    stack.pop();
                    continue;
                };
                top.1 = next + 1;
                let c = child.index();
                if let Some(p) = tree.dpre.get_mut(c) {
                    *p = counter;
                }
                counter += 1;
                stack.push((c, 0));
            }
        }
        tree
    }

    pub(crate) fn children(&self, b: usize) -> &[BlockId] {
        let lo = self.children_off.get(b).copied().unwrap_or(0) as usize;
        let hi = self.children_off.get(b + 1).copied().unwrap_or(0) as usize;
        self.children.get(lo..hi).unwrap_or(&[])
    }

    /// Whether `a` dominates `b` (reflexive); false when either is
    /// unreachable from its entry, unless `a == b`.
    pub(crate) fn dominates(&self, a: usize, b: usize) -> bool {
        if a == b {
            return true;
        }
        let get = |v: &Vec<u32>, i: usize| v.get(i).copied().unwrap_or(NONE);
        let (pa, pb) = (get(&self.dpre, a), get(&self.dpre, b));
        if pa == NONE || pb == NONE {
            return false;
        }
        pa <= pb && get(&self.dpost, b) <= get(&self.dpost, a)
    }
}
