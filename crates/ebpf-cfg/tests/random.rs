//! Property tests on many random programs (a deterministic xorshift
//! generator, no dependency):
//!
//! * random wire slots, kept when they decode: building never panics, in
//!   every configuration;
//! * random structured programs (jumps inside their subprogram, calls to
//!   subprogram starts, loops, `ld_imm64`, `gotox`), most of which pass the
//!   checks: every successful build satisfies the graph invariants, its
//!   dominators equal a naive dataflow computation, its loop bodies equal
//!   the naive definition, and its retreating edges are `check_cfg`'s
//!   back-edges.

use ebpf_cfg::{BlockId, Cfg, CfgChecks, CfgConfig, CfgError, EdgeKind};
use ebpf_isa::{
    AluOp, CallTarget, Imm64, Insn, JmpCond, Operand, Program, RawInsn, Reg, Size, Width,
};

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

// ---- random slots ----------------------------------------------------------

const CODES: &[u8] = &[
    0x07, 0x0f, 0x04, 0x0c, 0xb7, 0xbf, 0xb4, 0x17, 0x1f, 0x27, 0x37, 0x57, 0x87, // ALU
    0x05, 0x06, 0x0d, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x45, 0x55, 0x5d, 0x65, 0xa5, 0xb5, 0xc5, 0xd5,
    0xe5, 0x16, 0x1e, 0x26, 0x56, 0xa6, 0xd6, // JMP, JMP32
    0x85, 0x85, 0x85, 0x8d, 0x95, 0x95, 0x95, // calls, exit
    0x18, 0x18, 0x20, 0x28, 0x30, 0x40, 0x61, 0x63, 0x62, 0x7b, 0x79, 0xdb, // LD, mem
];

fn random_slot(rng: &mut Rng, len: u64) -> RawInsn {
    let code = rng.pick(CODES);
    let reg = |rng: &mut Rng| {
        if rng.chance(95) {
            rng.below(11) as u8
        } else {
            rng.below(16) as u8
        }
    };
    let off: i16 = match rng.below(10) {
        0 => rng.next() as i16,
        1 => rng.pick(&[i16::MIN, i16::MAX, -1, 0]),
        _ => (rng.below(len * 2 + 2) as i64 - len as i64 - 1) as i16,
    };
    let imm: i32 = match rng.below(10) {
        0 => rng.next() as i32,
        1 => rng.pick(&[i32::MIN, i32::MAX, -1, 0, 12, 164, 170, 181]),
        _ => (rng.below(len * 2 + 2) as i64 - len as i64 - 1) as i32,
    };
    let zero_or = |rng: &mut Rng, v: u8| if rng.chance(60) { 0 } else { v };
    let mut src = reg(rng);
    let mut dst = reg(rng);
    src = zero_or(rng, src);
    dst = zero_or(rng, dst);
    let off = if rng.chance(50) { 0 } else { off };
    let imm = if rng.chance(30) { 0 } else { imm };
    match code {
        0x85 => {
            src = rng.pick(&[0, 1, 1, 2]);
            dst = 0;
        }
        0x18 => src = rng.pick(&[0, 1, 4, 4, 5]),
        0x95 | 0x05 | 0x06 => {
            src = 0;
            dst = 0;
        }
        _ => {}
    }
    RawInsn::new(code, dst, src, off, imm)
}

fn random_raw_program(rng: &mut Rng) -> Vec<RawInsn> {
    let len = 1 + rng.below(24);
    let mut slots = Vec::new();
    while (slots.len() as u64) < len {
        // Draw slots until one decodes on its own.
        for _ in 0..64 {
            let slot = random_slot(rng, len);
            let mut candidate = vec![slot];
            if slot.code == 0x18 {
                let imm = if rng.chance(50) { 0 } else { rng.next() as i32 };
                candidate.push(RawInsn::new(0, 0, 0, 0, imm));
            }
            if ebpf_isa::decode(&candidate).is_ok() {
                slots.extend(candidate);
                break;
            }
        }
    }
    if rng.chance(70) {
        slots.push(RawInsn::new(0x95, 0, 0, 0, 0));
    }
    slots
}

fn configs(rng: &mut Rng, len: usize) -> Vec<CfgConfig> {
    let mut tables = Vec::new();
    for _ in 0..rng.below(3) {
        let n = 1 + rng.below(4);
        tables.push((0..n).map(|_| rng.below(len as u64 + 2) as usize).collect());
    }
    vec![
        CfgConfig::privileged(),
        CfgConfig::unprivileged(),
        CfgConfig::privileged().with_jump_tables(tables.clone()),
        CfgConfig::unprivileged().with_jump_tables(tables),
    ]
}

/// [`CfgChecks`] fails exactly where [`Cfg`] does, with the same error,
/// and otherwise has its subprogram starts and marks.
fn same_checks(prog: &Program, config: &CfgConfig) {
    match (CfgChecks::new(prog, config), Cfg::build_with(prog, config)) {
        (Ok(c), Ok(cfg)) => {
            let starts: Vec<usize> = cfg.subprogs().iter().map(|s| s.start).collect();
            assert_eq!(c.subprog_starts(), &starts[..]);
            for slot in 0..=prog.len() {
                assert_eq!(c.marks(slot), cfg.marks(slot), "slot {slot}");
            }
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("CfgChecks {a:?}, Cfg {:?}", b.map(|_| ())),
    }
}

#[test]
fn random_slots_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut decoded, mut built) = (0, 0);
    for _ in 0..60_000 {
        let slots = random_raw_program(&mut rng);
        let Ok(prog) = Program::from_raw(&slots) else {
            continue;
        };
        decoded += 1;
        for config in configs(&mut rng, prog.len()) {
            same_checks(&prog, &config);
            if let Ok(cfg) = Cfg::build_with(&prog, &config) {
                built += 1;
                check(&cfg);
            }
        }
    }
    eprintln!("random slots: {decoded} programs decoded, {built} builds succeeded");
    assert!(decoded > 5_000, "only {decoded} decoded");
    assert!(built > 500, "only {built} built");
}

// ---- random structured programs ----------------------------------------------

fn mov(dst: Reg, imm: i32) -> Insn {
    Insn::Alu {
        op: AluOp::Mov,
        width: Width::W64,
        dst,
        src: Operand::Imm(imm),
    }
}

/// A program of 1 to 4 subprograms whose jumps mostly stay inside their
/// subprogram, calls mostly go to subprogram starts, with some defects.
fn random_structured(rng: &mut Rng) -> (Program, Vec<Vec<usize>>) {
    let nsub = 1 + rng.below(4) as usize;
    // Lay out sizes first (in instructions; an ld_imm64 is placed as two).
    let sizes: Vec<usize> = (0..nsub).map(|_| 2 + rng.below(14) as usize).collect();
    let mut starts = Vec::new();
    let mut at = 0;
    for &s in &sizes {
        starts.push(at);
        at += s;
    }
    let total = at;
    let mut slots: Vec<Insn> = Vec::with_capacity(total);
    let mut tables: Vec<Vec<usize>> = Vec::new();
    for (sp, &size) in sizes.iter().enumerate() {
        let start = starts[sp];
        let end = start + size;
        let mut i = start;
        while i < end {
            let last = i + 1 == end;
            let target = |rng: &mut Rng| {
                if rng.chance(97) {
                    start + rng.below(size as u64) as usize
                } else {
                    rng.below(total as u64 + 2) as usize
                }
            };
            let off = |t: usize, i: usize| (t as i64 - i as i64 - 1) as i32;
            if last {
                let insn = match rng.below(20) {
                    0 => Insn::Ja {
                        off: off(target(rng), i) as i16,
                    },
                    1 => mov(Reg::R0, 1), // defect: falls off the end
                    _ => Insn::Exit,
                };
                slots.push(insn);
                i += 1;
                continue;
            }
            let insn = match rng.below(22) {
                0..=5 => mov(Reg::new(rng.below(10) as u8).unwrap(), rng.below(9) as i32),
                6..=10 => Insn::Jump {
                    cond: rng.pick(&JmpCond::ALL),
                    width: Width::W64,
                    dst: Reg::R0,
                    src: Operand::Imm(rng.below(5) as i32),
                    off: off(target(rng), i) as i16,
                },
                11 => Insn::Ja {
                    off: off(target(rng), i) as i16,
                },
                12 => Insn::MayGoto {
                    off: off(target(rng), i) as i16,
                },
                13 if sp + 1 < nsub || rng.chance(20) => {
                    let callee = if rng.chance(95) {
                        starts[rng.below(nsub as u64) as usize]
                    } else {
                        rng.below(total as u64 + 2) as usize
                    };
                    Insn::Call(CallTarget::Local(off(callee, i)))
                }
                14 => Insn::Call(CallTarget::Helper(rng.pick(&[1, 5, 12, 164, 170, 181]))),
                15 if i + 2 < end => {
                    let imm = if rng.chance(30) {
                        Imm64::Func(off(starts[rng.below(nsub as u64) as usize], i))
                    } else {
                        Imm64::Imm(rng.next())
                    };
                    slots.push(Insn::LdImm64 { dst: Reg::R1, imm });
                    slots.push(Insn::LdImm64Tail);
                    i += 2;
                    continue;
                }
                16 => Insn::LdAbs {
                    size: Size::B,
                    imm: 3,
                },
                17 if rng.chance(30) => {
                    let n = 1 + rng.below(3);
                    tables.push((0..n).map(|_| target(rng)).collect());
                    Insn::Gotox { reg: Reg::R1 }
                }
                18 => Insn::Exit,
                _ => mov(Reg::R2, 7),
            };
            slots.push(insn);
            i += 1;
        }
    }
    let prog = Program::from_insns(slots);
    (prog, tables)
}

#[test]
fn random_structured_programs() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut built = 0usize;
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    let (mut loops, mut irreducible, mut nested, mut multi) = (0, 0, 0, 0);
    for _ in 0..40_000 {
        let (prog, tables) = random_structured(&mut rng);
        let mut configs = vec![CfgConfig::privileged(), CfgConfig::unprivileged()];
        if !tables.is_empty() {
            configs.push(CfgConfig::privileged().with_jump_tables(tables));
        }
        for config in configs {
            same_checks(&prog, &config);
            match Cfg::build_with(&prog, &config) {
                Ok(cfg) => {
                    built += 1;
                    check(&cfg);
                    check_against_naive(&cfg);
                    loops += cfg.loops().len();
                    irreducible += cfg.irreducible_edges().len();
                    nested += cfg.loops().iter().filter(|l| l.depth > 1).count();
                    multi += usize::from(cfg.subprogs().len() > 1);
                    if !config.bpf_capable {
                        assert!(cfg.back_edges().is_empty());
                    }
                }
                Err(e) => *errors.entry(kind(&e)).or_default() += 1,
            }
        }
        check_privilege(&prog);
    }
    eprintln!(
        "structured: {built} built; loops {loops}, nested {nested}, irreducible {irreducible}, \
         multi-subprogram {multi}; errors {errors:?}"
    );
    // The generator reaches every corner.
    assert!(built > 8_000, "built {built}, errors {errors:?}");
    assert!(
        loops > 2_000 && nested > 100 && irreducible > 100 && multi > 400,
        "loops {loops} nested {nested} irreducible {irreducible} multi {multi}"
    );
    for k in [
        "UnreachableInsn",
        "JumpOutOfRange",
        "LastInsnNotExitOrJmp",
        "CallToInvalidDestination",
        "CallsNotAllowed",
        "BackEdge",
        "JumpIntoLdImm64",
        "NoJumpTables",
        "JumpTableOutsideSubprog",
    ] {
        assert!(
            errors.get(k).copied().unwrap_or(0) > 0,
            "never saw {k}: {errors:?}"
        );
    }
}

fn kind(e: &CfgError) -> String {
    let dbg = format!("{e:?}");
    dbg.split([' ', '{']).next().unwrap_or("").to_owned()
}

// ---- invariants ----------------------------------------------------------------

/// Structural invariants of any successfully built CFG.
fn check(cfg: &Cfg) {
    let len = cfg.program().len();
    let insns = cfg.program().insns();
    // Blocks partition the slots, in order, each inside one subprogram.
    let mut next = 0;
    for (i, b) in cfg.blocks().iter().enumerate() {
        assert_eq!(b.id.index(), i);
        assert_eq!(b.start, next);
        assert!(b.start <= b.last && b.last < b.end && b.end <= len);
        assert_ne!(insns[b.start], Insn::LdImm64Tail);
        next = b.end;
        let sp = cfg.subprog(b.subprog);
        assert!(sp.start <= b.start && b.end <= sp.end);
        for s in b.start..b.end {
            assert_eq!(cfg.block_of(s), Some(b.id));
        }
    }
    assert_eq!(next, len);
    // Subprograms tile the program; their blocks are consecutive.
    let mut next = 0;
    for (i, sp) in cfg.subprogs().iter().enumerate() {
        assert_eq!(sp.id.index(), i);
        assert_eq!(sp.start, next);
        next = sp.end;
        let blocks = cfg.subprog_blocks(sp.id);
        assert_eq!(blocks.first().map(|b| b.id), Some(sp.entry));
        assert_eq!(blocks.first().map(|b| b.start), Some(sp.start));
        assert_eq!(blocks.last().map(|b| b.end), Some(sp.end));
        if let Some(e) = sp.exit_idx {
            assert_eq!(insns[e], Insn::Exit);
            assert!(sp.start <= e && e < sp.end);
        }
        // Reverse postorder: the reachable blocks, entry first, each after
        // its immediate dominator.
        let rpo = cfg.rpo(sp.id);
        assert_eq!(rpo.first(), Some(&sp.entry));
        let reachable: Vec<BlockId> = blocks
            .iter()
            .map(|b| b.id)
            .filter(|&b| cfg.is_reachable(b))
            .collect();
        let mut sorted = rpo.to_vec();
        sorted.sort();
        assert_eq!(sorted, reachable);
        let pos = |b: BlockId| rpo.iter().position(|&x| x == b);
        for &b in rpo {
            match cfg.idom(b) {
                None => assert_eq!(b, sp.entry),
                Some(d) => {
                    assert!(pos(d) < pos(b));
                    assert!(cfg.dominates(d, b) && !cfg.dominates(b, d));
                    assert!(cfg.dom_children(d).contains(&b));
                }
            }
        }
    }
    assert_eq!(next, len);
    // Edges: targets start blocks, stay in the subprogram unless calls;
    // preds mirror succs.
    let mut count = 0;
    for b in cfg.blocks() {
        for e in cfg.succs(b.id) {
            count += 1;
            assert_eq!(e.from, b.id);
            assert!(cfg.preds(e.to).contains(e));
            let to = cfg.block(e.to);
            if e.kind.is_intra() {
                assert_eq!(to.subprog, b.subprog);
            } else {
                assert_eq!(cfg.subprog(to.subprog).entry, e.to);
            }
            if e.kind == EdgeKind::FallThrough {
                assert_eq!(to.start, b.end);
            }
        }
        for e in cfg.preds(b.id) {
            assert_eq!(e.to, b.id);
            assert!(cfg.succs(e.from).contains(e));
        }
    }
    assert_eq!(count, cfg.edges().len());
    // Loops: headers dominate their bodies, latches jump to the header.
    for l in cfg.loops() {
        let body = cfg.loop_blocks(l.id);
        assert!(body.contains(&l.header));
        for &b in &body {
            assert!(cfg.dominates(l.header, b));
            let mut inner = cfg.loop_of(b);
            while inner != Some(l.id) {
                inner = inner.and_then(|i| cfg.get_loop(i).parent);
                assert!(inner.is_some(), "{b} not nested in {}", l.id);
            }
        }
        for &latch in &l.latches {
            assert!(body.contains(&latch));
            assert!(
                cfg.succs(latch)
                    .iter()
                    .any(|e| e.to == l.header && cfg.is_loop_back_edge(e))
            );
        }
        let depth = l.parent.map_or(1, |p| cfg.get_loop(p).depth + 1);
        assert_eq!(l.depth, depth);
    }
    for e in cfg.irreducible_edges() {
        assert!(!cfg.dominates(e.to, e.from));
    }
    // Renderings never fail.
    let text = cfg.to_string();
    let dot = cfg.to_dot();
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    for b in cfg.blocks() {
        assert!(text.contains(&format!("  {} [", b.id)));
        assert!(dot.contains(&format!("\t\t{} [label=", b.id)));
    }
}

/// Dominators and loops against their definitions, and the back-edges
/// against `check_cfg`'s.
fn check_against_naive(cfg: &Cfg) {
    let nb = cfg.blocks().len();
    for sp in cfg.subprogs() {
        let blocks: Vec<BlockId> = cfg.rpo(sp.id).to_vec();
        // dom[b] = set of dominators, by iteration to a fixed point.
        let mut dom: Vec<Vec<bool>> = vec![vec![true; nb]; nb];
        dom[sp.entry.index()] = (0..nb).map(|i| i == sp.entry.index()).collect();
        let mut changed = true;
        while changed {
            changed = false;
            for &b in &blocks {
                if b == sp.entry {
                    continue;
                }
                let mut new = vec![true; nb];
                for e in cfg.preds(b) {
                    if e.kind.is_intra() && cfg.is_reachable(e.from) {
                        for (n, d) in new.iter_mut().zip(&dom[e.from.index()]) {
                            *n &= *d;
                        }
                    }
                }
                new[b.index()] = true;
                if new != dom[b.index()] {
                    dom[b.index()] = new;
                    changed = true;
                }
            }
        }
        for &a in &blocks {
            for &b in &blocks {
                assert_eq!(
                    cfg.dominates(a, b),
                    dom[b.index()][a.index()],
                    "{a} dom {b}\n{cfg}"
                );
            }
            // idom: the strict dominator dominated by all others.
            let strict: Vec<BlockId> = blocks
                .iter()
                .copied()
                .filter(|&d| d != a && dom[a.index()][d.index()])
                .collect();
            let idom = strict
                .iter()
                .copied()
                .find(|&d| strict.iter().all(|&o| dom[d.index()][o.index()]));
            assert_eq!(cfg.idom(a), idom, "idom of {a}\n{cfg}");
        }
    }
    // Natural loop bodies: header plus whatever reaches a latch without
    // passing through the header.
    for l in cfg.loops() {
        let mut body = vec![false; nb];
        body[l.header.index()] = true;
        let mut work: Vec<BlockId> = l.latches.clone();
        while let Some(b) = work.pop() {
            if std::mem::replace(&mut body[b.index()], true) {
                continue;
            }
            for e in cfg.preds(b) {
                if e.kind.is_intra() && cfg.is_reachable(e.from) {
                    work.push(e.from);
                }
            }
        }
        let naive: Vec<BlockId> = (0..nb)
            .filter(|&i| body[i])
            .map(|i| cfg.blocks()[i].id)
            .collect();
        assert_eq!(cfg.loop_blocks(l.id), naive, "{}\n{cfg}", l.id);
    }
    // Every header with a natural back-edge has a loop.
    for e in cfg.edges() {
        if cfg.is_loop_back_edge(e) {
            assert!(cfg.is_loop_header(e.to));
        }
    }
    // Block-level retreating edges == check_cfg's intra-procedural
    // back-edges, when the kernel's DFS and ours see the same graph (all
    // blocks reachable from their entry; gotox edges are never reported
    // by check_cfg).
    let all_reachable = cfg.blocks().iter().all(|b| cfg.is_reachable(b.id));
    if all_reachable && cfg.indirect_jumps().is_empty() {
        let insns = cfg.program().insns();
        let mut kernel: Vec<(BlockId, BlockId)> = cfg
            .back_edges()
            .iter()
            .filter(|be| {
                // Not the call edge of a (recursive) call.
                let callee = match insns[be.from] {
                    Insn::Call(CallTarget::Local(off))
                    | Insn::LdImm64 {
                        imm: Imm64::Func(off),
                        ..
                    } => Some((be.from as i64 + off as i64 + 1) as usize),
                    _ => None,
                };
                callee != Some(be.to)
            })
            .map(|be| (cfg.block_of(be.from).unwrap(), cfg.block_of(be.to).unwrap()))
            .collect();
        let mut ours: Vec<(BlockId, BlockId)> = cfg
            .edges()
            .iter()
            .filter(|e| cfg.is_loop_back_edge(e) || cfg.irreducible_edges().contains(e))
            .map(|e| (e.from, e.to))
            .collect();
        kernel.sort();
        kernel.dedup();
        ours.sort();
        ours.dedup();
        assert_eq!(kernel, ours, "\n{cfg}");
    }
}

/// What `bpf_capable` changes: when the privileged build succeeds, the
/// unprivileged one fails on the first call, function reference or kfunc
/// call if there is one, else on the first back-edge if there is one, else
/// succeeds with the same graph.
fn check_privilege(prog: &Program) {
    let Ok(cfg) = Cfg::build_with(prog, &CfgConfig::privileged()) else {
        return;
    };
    let unpriv = Cfg::build_with(prog, &CfgConfig::unprivileged());
    let first_call = prog.iter().find_map(|(i, insn)| {
        matches!(
            insn,
            Insn::Call(CallTarget::Local(_) | CallTarget::Kfunc { .. })
                | Insn::LdImm64 {
                    imm: Imm64::Func(_),
                    ..
                }
        )
        .then_some(i)
    });
    if let Some(insn) = first_call {
        assert_eq!(unpriv.err(), Some(CfgError::CallsNotAllowed { insn }));
    } else if let Some(first) = cfg.back_edges().first() {
        let expected = CfgError::BackEdge {
            from: first.from,
            to: first.to,
        };
        assert_eq!(unpriv.err(), Some(expected));
    } else {
        let unpriv = unpriv.expect("no call, no back-edge");
        assert_eq!(unpriv.to_string(), cfg.to_string());
    }
}
