//! The generated million-instruction program of `benches/build.rs` builds,
//! with the shape it is meant to have.

mod common;

use ebpf_cfg::{Cfg, MAX_INSNS};

#[test]
fn a_million_instructions() {
    let prog = common::realistic(MAX_INSNS, 42);
    assert_eq!(prog.len(), MAX_INSNS);
    let started = std::time::Instant::now();
    let cfg = Cfg::build(&prog).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "debug build of the CFG of {} slots: {:?}; {cfg:?}",
        prog.len(),
        started.elapsed()
    );
    assert_eq!(cfg.subprogs().len(), common::FUNCS + 2);
    assert!(cfg.blocks().len() > 200_000, "{cfg:?}");
    assert!(cfg.loops().len() > 10_000, "{cfg:?}");
    assert!(cfg.loops().iter().any(|l| l.depth == 3));
    assert!(cfg.irreducible_edges().is_empty());
    // check_cfg finds each loop back-edge once. (A loop whose body starts
    // with another loop shares its header: one loop, two latches.)
    let latches: usize = cfg.loops().iter().map(|l| l.latches.len()).sum();
    assert!(latches >= cfg.loops().len());
    assert_eq!(cfg.back_edges().len(), latches);
    assert!(cfg.blocks().iter().all(|b| cfg.is_reachable(b.id)));
}
