//! Fuzz target `cfg`: arbitrary bytes through `Program::from_bytes` and
//! `Cfg::build_with`, privileged and not, with and without jump tables.
//!
//! Input: the program is the first `len - len % 8` bytes; the 0 to 7
//! trailing bytes, if any, are one jump table (each byte a target slot).
//!
//! Checks, for every input that decodes:
//! * building never panics, in any configuration;
//! * a successful build is consistent: blocks tile the program in slot
//!   order, every edge appears in its target's predecessors, each subprogram's
//!   reverse postorder starts at its entry, every immediate dominator
//!   dominates its block, loop headers dominate their bodies;
//! * `Display` and `to_dot` do not panic;
//! * privileged vs unprivileged agree the way the kernel's `bpf_capable`
//!   makes them: when the privileged build succeeds, the unprivileged one
//!   fails on size above 4096 slots (`BPF_MAXINSNS`), else on the first
//!   call/function reference/kfunc call if there is
//!   one, else on the first back-edge if there is one, else succeeds with
//!   the same graph.
#![no_main]

use ebpf_cfg::{Cfg, CfgConfig, CfgError};
use ebpf_isa::{CallTarget, Imm64, Insn, Program};
use libfuzzer_sys::fuzz_target;

fn check(cfg: &Cfg) {
    let mut next = 0;
    for b in cfg.blocks() {
        assert_eq!(b.start, next, "blocks tile the program");
        assert!(b.start <= b.last && b.last < b.end);
        next = b.end;
        for e in cfg.succs(b.id) {
            assert!(cfg.preds(e.to).contains(e), "{e:?} missing from preds");
        }
        if let Some(d) = cfg.idom(b.id) {
            assert!(cfg.dominates(d, b.id) && !cfg.dominates(b.id, d));
        }
    }
    assert_eq!(next, cfg.program().len());
    for sp in cfg.subprogs() {
        assert_eq!(cfg.rpo(sp.id).first(), Some(&sp.entry));
    }
    for l in cfg.loops() {
        for b in cfg.loop_blocks(l.id) {
            assert!(cfg.dominates(l.header, b));
        }
    }
    let _ = (cfg.to_string(), cfg.to_dot());
}

fn first_call(prog: &Program) -> Option<usize> {
    prog.iter().find_map(|(i, insn)| {
        matches!(
            insn,
            Insn::Call(CallTarget::Local(_) | CallTarget::Kfunc { .. })
                | Insn::LdImm64 {
                    imm: Imm64::Func(_),
                    ..
                }
        )
        .then_some(i)
    })
}

fuzz_target!(|data: &[u8]| {
    let (code, tail) = data.split_at(data.len() - data.len() % 8);
    let Ok(prog) = Program::from_bytes(code) else {
        return;
    };
    let tables = (!tail.is_empty()).then(|| vec![tail.iter().map(|&b| usize::from(b)).collect()]);
    let mut privileged = CfgConfig::privileged();
    let mut unprivileged = CfgConfig::unprivileged();
    if let Some(tables) = tables {
        privileged = privileged.with_jump_tables(tables.clone());
        unprivileged = unprivileged.with_jump_tables(tables);
    }
    let priv_result = Cfg::build_with(&prog, &privileged);
    let unpriv_result = Cfg::build_with(&prog, &unprivileged);
    if let Ok(cfg) = &priv_result {
        check(cfg);
        if prog.len() > 4096 {
            // BPF_MAXINSNS: the kernel's size limit without CAP_BPF.
            assert_eq!(
                unpriv_result.err(),
                Some(CfgError::TooLarge {
                    len: prog.len(),
                    limit: 4096
                })
            );
        } else if let Some(insn) = first_call(&prog) {
            assert_eq!(
                unpriv_result.err(),
                Some(CfgError::CallsNotAllowed { insn })
            );
        } else if let Some(first) = cfg.back_edges().first() {
            let expected = CfgError::BackEdge {
                from: first.from,
                to: first.to,
            };
            assert_eq!(unpriv_result.err(), Some(expected));
        } else {
            let unpriv = unpriv_result.expect("no call, no back-edge: accepted unprivileged too");
            assert_eq!(unpriv.to_string(), cfg.to_string());
        }
    } else if let Ok(cfg) = &unpriv_result {
        check(cfg);
    }
});
