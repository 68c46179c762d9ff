//! Blocks, edges, orders, dominators, loops and marks on hand-made programs.

use ebpf_cfg::{BlockId, Cfg, EdgeKind, InsnMarks, Terminator};
use ebpf_isa::asm::assemble;

fn cfg(src: &str) -> Cfg {
    let prog = assemble(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    Cfg::build(&prog).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

/// The block starting at `slot`.
fn at(cfg: &Cfg, slot: usize) -> BlockId {
    let b = cfg.block_of(slot).unwrap();
    assert_eq!(
        cfg.block(b).start,
        slot,
        "slot {slot} does not start a block"
    );
    b
}

fn succ_starts(cfg: &Cfg, b: BlockId) -> Vec<(usize, EdgeKind)> {
    cfg.succs(b)
        .iter()
        .map(|e| (cfg.block(e.to).start, e.kind))
        .collect()
}

fn idom_start(cfg: &Cfg, slot: usize) -> Option<usize> {
    cfg.idom(at(cfg, slot)).map(|d| cfg.block(d).start)
}

const DIAMOND: &str = "
        r0 = 0
        if r1 > 5 goto else
        r0 = 1
        goto end
    else:
        r0 = 2
    end:
        exit
";

#[test]
fn diamond_blocks_edges_and_dominators() {
    let cfg = cfg(DIAMOND);
    let starts: Vec<usize> = cfg.blocks().iter().map(|b| b.start).collect();
    assert_eq!(starts, [0, 2, 4, 5]);
    let terms: Vec<Terminator> = cfg.blocks().iter().map(|b| b.terminator).collect();
    assert_eq!(
        terms,
        [
            Terminator::Branch,
            Terminator::Jump,
            Terminator::FallThrough,
            Terminator::Exit
        ]
    );
    assert_eq!(
        succ_starts(&cfg, at(&cfg, 0)),
        [(2, EdgeKind::FallThrough), (4, EdgeKind::Branch)]
    );
    assert_eq!(succ_starts(&cfg, at(&cfg, 2)), [(5, EdgeKind::Jump)]);
    let preds: Vec<usize> = cfg
        .preds(at(&cfg, 5))
        .iter()
        .map(|e| cfg.block(e.from).start)
        .collect();
    assert_eq!(preds, [2, 4]);
    assert_eq!(idom_start(&cfg, 0), None);
    assert_eq!(idom_start(&cfg, 2), Some(0));
    assert_eq!(idom_start(&cfg, 4), Some(0));
    assert_eq!(idom_start(&cfg, 5), Some(0));
    let (b0, b1, b3) = (at(&cfg, 0), at(&cfg, 2), at(&cfg, 5));
    assert!(cfg.dominates(b0, b3) && cfg.dominates(b3, b3));
    assert!(!cfg.dominates(b1, b3) && !cfg.dominates(b3, b0));
    assert_eq!(cfg.dom_children(b0).len(), 3);
    // check_cfg's order: the fall-through side is explored first, so it
    // comes last in reverse postorder.
    let rpo: Vec<usize> = cfg
        .rpo(cfg.subprogs()[0].id)
        .iter()
        .map(|&b| cfg.block(b).start)
        .collect();
    assert_eq!(rpo, [0, 4, 2, 5]);
    assert!(cfg.loops().is_empty() && cfg.back_edges().is_empty());
    assert!(cfg.irreducible_edges().is_empty());
    assert_eq!(cfg.block_of(6), None);
    assert_eq!(cfg.subprog_of(3), Some(cfg.subprogs()[0].id));
}

#[test]
fn nested_loops() {
    let cfg = cfg("
        r0 = 0
        r6 = 0
    outer:
        r7 = 0
    inner:
        r0 += r7
        r7 += 1
        if r7 < 4 goto inner
        r6 += 1
        if r6 < 3 goto outer
    third:
        r8 = 0
    deep:
        r8 += 1
        if r8 > 7 goto deep
        if r8 > 6 goto third
        r9 += 1
        if r9 < 5 goto third
        exit
    ");
    // outer = b[2], inner = b[3..6), third = b[8], deep = b[9..11)
    let loops = cfg.loops();
    assert_eq!(loops.len(), 4);
    let header_starts: Vec<usize> = loops.iter().map(|l| cfg.block(l.header).start).collect();
    assert_eq!(header_starts, [2, 3, 8, 9]);
    let depths: Vec<u32> = loops.iter().map(|l| l.depth).collect();
    assert_eq!(depths, [1, 2, 1, 2]);
    assert_eq!(loops[1].parent, Some(loops[0].id));
    assert_eq!(loops[3].parent, Some(loops[2].id));
    assert_eq!(cfg.loop_children(loops[0].id), &[loops[1].id]);
    let body: Vec<usize> = cfg
        .loop_blocks(loops[0].id)
        .iter()
        .map(|&b| cfg.block(b).start)
        .collect();
    assert_eq!(body, [2, 3, 6]);
    // `third` has two latches: the blocks ending at slots 11 and 13.
    let latches: Vec<usize> = loops[2]
        .latches
        .iter()
        .map(|&b| cfg.block(b).start)
        .collect();
    assert_eq!(latches, [11, 12]);
    let body: Vec<usize> = cfg
        .loop_blocks(loops[2].id)
        .iter()
        .map(|&b| cfg.block(b).start)
        .collect();
    assert_eq!(body, [8, 9, 11, 12]);
    assert_eq!(cfg.loop_depth(at(&cfg, 3)), 2);
    assert_eq!(cfg.loop_depth(at(&cfg, 6)), 1);
    assert_eq!(cfg.loop_depth(at(&cfg, 0)), 0);
    assert_eq!(cfg.loop_depth(at(&cfg, 14)), 0);
    assert!(cfg.is_loop_header(at(&cfg, 9)) && !cfg.is_loop_header(at(&cfg, 11)));
    // Every loop back-edge was also found by check_cfg.
    assert_eq!(cfg.back_edges().len(), 5);
    assert!(cfg.irreducible_edges().is_empty());
}

#[test]
fn self_loop_and_jump_to_itself() {
    let cfg = cfg("
        r0 = 0
    spin:
        if r1 > 0 goto spin
        r0 = 1
        goto pc-1
    ");
    let spin = at(&cfg, 1);
    let forever = at(&cfg, 3);
    assert_eq!(cfg.loops().len(), 2);
    for (l, h) in cfg.loops().iter().zip([spin, forever]) {
        assert_eq!(l.header, h);
        assert_eq!(l.latches, [h]);
        assert_eq!(cfg.loop_blocks(l.id), [h]);
        assert_eq!(l.depth, 1);
    }
    assert_eq!(succ_starts(&cfg, forever), [(3, EdgeKind::Jump)]);
    assert!(cfg.is_loop_back_edge(&cfg.succs(forever)[0]));
    assert_eq!(cfg.subprogs()[0].exit_idx, None);
}

#[test]
fn irreducible_cycle_has_no_natural_loop() {
    let cfg = cfg("
        if r1 > 0 goto b
    a:
        r0 += 1
        if r0 > 10 goto out
    b:
        r0 += 2
        if r0 < 100 goto a
    out:
        exit
    ");
    assert!(cfg.loops().is_empty());
    let irr: Vec<(usize, usize)> = cfg
        .irreducible_edges()
        .iter()
        .map(|e| (cfg.block(e.from).start, cfg.block(e.to).start))
        .collect();
    assert_eq!(irr, [(3, 1)]);
    // The same edge the kernel's DFS calls a back-edge.
    assert_eq!(cfg.back_edges().len(), 1);
    assert_eq!((cfg.back_edges()[0].from, cfg.back_edges()[0].to), (4, 1));
    // Neither a nor b dominates the other.
    assert_eq!(idom_start(&cfg, 1), Some(0));
    assert_eq!(idom_start(&cfg, 3), Some(0));
}

#[test]
fn irreducible_cycle_inside_a_natural_loop() {
    let cfg = cfg("
        r0 = 0
    top:
        if r1 > 0 goto b
    a:
        r0 += 1
        if r0 > 10 goto latch
    b:
        r0 += 2
        if r0 < 100 goto a
    latch:
        if r0 < 1000 goto top
        exit
    ");
    assert_eq!(cfg.loops().len(), 1);
    let l = &cfg.loops()[0];
    assert_eq!(cfg.block(l.header).start, 1);
    let body: Vec<usize> = cfg
        .loop_blocks(l.id)
        .iter()
        .map(|&b| cfg.block(b).start)
        .collect();
    assert_eq!(body, [1, 2, 4, 6]);
    assert_eq!(cfg.irreducible_edges().len(), 1);
}

#[test]
fn loop_at_a_subprogram_entry_and_dominators_per_subprogram() {
    let cfg = cfg("
        call f
        exit
    f:
        r0 += 1
        if r0 < 5 goto f
        exit
    ");
    let f = &cfg.subprogs()[1];
    assert_eq!((f.start, f.end), (2, 5));
    assert_eq!(cfg.idom(f.entry), None);
    assert!(cfg.is_loop_header(f.entry));
    // The call edge is not a dominance edge.
    assert!(!cfg.dominates(at(&cfg, 0), f.entry));
    let call = cfg.succs(at(&cfg, 0));
    assert_eq!(call.len(), 2);
    assert_eq!(call[1].kind, EdgeKind::Call);
    assert!(!call[1].kind.is_intra());
    assert_eq!(cfg.subprog_blocks(f.id).len(), 2);
    assert_eq!(cfg.rpo(f.id).len(), 2);
    assert_eq!(cfg.rpo(f.id)[0], f.entry);
    assert_eq!(cfg.preds(f.entry).len(), 2);
}

#[test]
fn ld_imm64_belongs_to_one_block() {
    let cfg = cfg("
        r1 = 0x100000000
        if r1 > 0 goto out
        r2 = 0x200000000
    out:
        exit
    ");
    let b = at(&cfg, 0);
    assert_eq!(
        (cfg.block(b).start, cfg.block(b).end, cfg.block(b).last),
        (0, 3, 2)
    );
    assert_eq!(cfg.block_of(1), Some(b));
    let slots: Vec<usize> = cfg.block_insns(b).map(|(s, _)| s).collect();
    assert_eq!(slots, [0, 2]);
    let mid = at(&cfg, 3);
    assert_eq!((cfg.block(mid).end, cfg.block(mid).last), (5, 3));
}

#[test]
fn marks_follow_the_kernel() {
    let cfg = cfg("
        r0 = 0
        if r1 > 0 goto a
        r0 = 1
    a:
        call bpf_ktime_get_ns
        goto b
    b:
        may_goto c
        r0 += 1
    c:
        call f
        r1 = 4
        r2 = func cb
        r3 = 0
        r4 = 0
        call bpf_loop
        r1 = 0
        call bpf_timer_set_callback
        r0 = 0
        exit
    f:
        r0 = 0
        exit
    cb:
        r0 = 0
        exit
    ");
    let marked: Vec<(usize, String)> = (0..cfg.program().len())
        .filter(|&s| !cfg.marks(s).is_empty())
        .map(|s| (s, cfg.marks(s).to_string()))
        .collect();
    let pj = "prune_point jmp_point";
    let expect: Vec<(usize, String)> = [
        (1, "prune_point"),
        (3, pj),
        (4, pj),
        (5, "prune_point jmp_point force_checkpoint"),
        (7, pj),
        (8, pj),
        (9, "prune_point"),
        (11, pj),
        (13, "prune_point jmp_point force_checkpoint calls_callback"),
        (14, pj),
        (15, "prune_point"),
        (16, pj),
        (18, pj),
        (20, pj),
    ]
    .into_iter()
    .map(|(s, m)| (s, m.to_owned()))
    .collect();
    assert_eq!(marked, expect);
    assert_eq!(cfg.prune_points().count(), expect.len());
    assert_eq!(cfg.marks(1000), InsnMarks::NONE);
}

#[test]
fn abnormal_returns_go_to_the_last_exit() {
    let cfg = cfg("
        r6 = r1
        r0 = *(u16 *)skb[12]
        if r0 != 0x800 goto drop
        r0 = *(u8 *)skb[23]
        exit
    drop:
        r0 = 0
        exit
    ");
    assert_eq!(cfg.subprogs()[0].exit_idx, Some(6));
    let b = at(&cfg, 0);
    assert_eq!(cfg.block(b).terminator, Terminator::AbnormalReturn);
    assert_eq!(
        succ_starts(&cfg, b),
        [(2, EdgeKind::FallThrough), (6, EdgeKind::AbnormalReturn)]
    );
    // The exit is its own block: r0 = 0 falls into it.
    assert_eq!(succ_starts(&cfg, at(&cfg, 5)), [(6, EdgeKind::FallThrough)]);
    assert_eq!(idom_start(&cfg, 6), Some(0));
}

#[test]
fn tail_call_without_exit_has_no_abnormal_edge() {
    let cfg = cfg("
        call bpf_tail_call
        goto pc-2
    ");
    assert_eq!(cfg.subprogs()[0].exit_idx, None);
    assert_eq!(succ_starts(&cfg, at(&cfg, 0)), [(1, EdgeKind::FallThrough)]);
}

#[test]
fn edges_are_consistent() {
    let cfg = cfg(DIAMOND);
    let mut from_preds: Vec<_> = cfg
        .blocks()
        .iter()
        .flat_map(|b| cfg.preds(b.id).iter().copied())
        .collect();
    let mut from_succs: Vec<_> = cfg.edges().to_vec();
    let key = |e: &ebpf_cfg::Edge| (e.from, e.to, format!("{:?}", e.kind));
    from_preds.sort_by_key(key);
    from_succs.sort_by_key(key);
    assert_eq!(from_preds, from_succs);
    assert!(format!("{cfg:?}").starts_with("Cfg { insns: 6, subprogs: 1, blocks: 4"));
}
