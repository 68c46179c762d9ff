//! The suite in-process in every engine at `--cpu_version v4` with every
//! group (the `conformance` binary's defaults): `Passed 313 out of 313` for
//! the interpreter and the (hardened) JIT.

use std::path::Path;

use ebpf_conformance::classify::Settings;
use ebpf_conformance::engine::{Engine, suite_runtime};
use ebpf_conformance::run::{Verdict, run_dir};
use ebpf_isa::{CpuVersion, Group};

#[test]
fn every_engine_passes_the_suite() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
        .join("bpf_conformance/tests");
    if !dir.is_dir() {
        println!("SKIP: {} not present", dir.display());
        return;
    }
    for engine in [Engine::Interp, Engine::Jit] {
        let mut rt = suite_runtime();
        let mut run =
            |slots: &[ebpf_isa::RawInsn], mem: &mut [u8]| engine.execute(&mut rt, slots, mem);
        let settings = Settings::new(CpuVersion::V4, &Group::ALL, &[]);
        let verdicts = run_dir(&dir, &settings, &mut run).unwrap();
        let failed: Vec<_> = verdicts
            .iter()
            .filter(|(_, v)| *v != Verdict::Pass)
            .collect();
        assert!(failed.is_empty(), "{engine:?}: {failed:?}");
        assert_eq!(verdicts.len(), 313, "{engine:?}");
    }
}

#[test]
fn jit_traps_read_like_the_interpreter() {
    // An out-of-bounds load: both engines fail with the same message.
    let slots = ebpf_isa::ubpf::assemble_raw("ldxdw %r0, [%r1+4]\nexit").unwrap();
    let mut rt = suite_runtime();
    let a = Engine::Interp.execute(&mut rt, &slots, &mut [0; 8]);
    let b = Engine::Jit.execute(&mut rt, &slots, &mut [0; 8]);
    assert!(a.is_err());
    assert_eq!(a, b);
}
