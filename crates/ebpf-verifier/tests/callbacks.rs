//! Callbacks (`bpf_loop`, `bpf_for_each_map_elem`): the callback is
//! verified in a frame of its own with the arguments the helper passes,
//! each return comes back to the helper call, which calls again until the
//! states converge (or, for `bpf_loop`, until its count's maximum), and the
//! callback's `r0` must be 0 or 1.
//!
//! The kernel only takes a callback with BTF `func_info`, which hand
//! assembly cannot carry, so these are checked here; the loader fixture
//! `tc_loop` (with BTF) is checked against the kernel by `ebpf-kernel`'s
//! `loader_agreement`, and `tests/corpus/ldimm64_func_no_btf.s` checks the
//! refusal without BTF.

use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::{Outcome, VerifierConfig, verify_with};
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;

fn run(asm: &str, maps: &[MapMeta], func_info: bool) -> Outcome {
    let prog = ebpf_isa::asm::assemble(asm).expect("assembles");
    let platform = LinuxPlatform::new();
    let env = LinuxEnv::new(
        &platform,
        ProgType::from_name("socket_filter").expect("type"),
        0,
        "GPL",
    );
    let config = VerifierConfig {
        func_info,
        ..VerifierConfig::default()
    };
    verify_with(&prog, &env, maps, &config)
}

fn error(out: &Outcome) -> String {
    match &out.result {
        Ok(()) => "accepted".to_owned(),
        Err(r) => r.message.clone(),
    }
}

/// `bpf_loop(4, cb, &ctx, 0)` where the callback adds its index to a
/// counter on the caller's stack and returns `ret`.
fn loop_prog(ret: &str) -> String {
    format!(
        "*(u64 *)(r10 -8) = 0
r1 = 4
r2 = func cb
r3 = r10
r3 += -8
r4 = 0
call 181
r0 = *(u64 *)(r10 -8)
r0 = 0
exit
cb:
r3 = *(u64 *)(r2 +0)
r3 += r1
*(u64 *)(r2 +0) = r3
r0 = {ret}
exit"
    )
}

#[test]
fn bpf_loop_callbacks_are_verified_and_converge() {
    let out = run(&loop_prog("0"), &[], true);
    assert_eq!(error(&out), "accepted", "{}", out.log);
    // The callback ran in a frame of its own, marked as a callback, and
    // came back to the call.
    assert!(
        out.log
            .contains("frame1: R1=scalar() R2=fp[0]-8 R10=fp0 cb"),
        "{}",
        out.log
    );
    assert!(out.log.contains("to caller at 7:"), "{}", out.log);
}

#[test]
fn a_callback_returns_0_or_1() {
    let out = run(&loop_prog("2"), &[], true);
    assert_eq!(
        error(&out),
        "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]"
    );
    let out = run(&loop_prog("r1"), &[], true);
    assert_eq!(
        error(&out),
        "At callback return the register R0 has unknown scalar value should have been in [0, 1]"
    );
}

#[test]
fn the_callback_is_checked_like_any_function() {
    // The context pointer may be NULL: dereferencing it unchecked is
    // refused in the callback.
    let prog = "r1 = 4
r2 = func cb
r3 = 0
r4 = 0
call 181
r0 = 0
exit
cb:
r0 = *(u64 *)(r2 +0)
r0 = 0
exit";
    assert_eq!(
        error(&run(prog, &[], true)),
        "R2 invalid mem access 'scalar'"
    );
}

#[test]
fn bpf_loop_stops_calling_back_at_its_count() {
    // Each iteration stores a different value, so the states never
    // converge: the count (3) bounds the iterations.
    let prog = "*(u64 *)(r10 -8) = 0
r1 = 3
r2 = func cb
r3 = r10
r3 += -8
r4 = 0
call 181
r0 = 0
exit
cb:
r3 = *(u64 *)(r2 +0)
r3 += 1
*(u64 *)(r2 +0) = r3
r0 = 0
exit";
    let out = run(prog, &[], true);
    assert_eq!(error(&out), "accepted", "{}", out.log);
    assert!(
        out.log.contains("frame0 bpf_loop iteration limit reached"),
        "{}",
        out.log
    );
}

#[test]
fn for_each_map_elem_passes_map_key_value_and_ctx() {
    let maps = [MapMeta {
        map_type: 2,
        key_size: 4,
        value_size: 16,
        max_entries: 8,
        flags: 0,
        inner: None,
        spin_lock_off: None,
    }];
    let ok = "r1 = map[idx:0]
r2 = func cb
r3 = 0
r4 = 0
call 164
r0 = 0
exit
cb:
r0 = *(u32 *)(r2 +0)
r0 = *(u64 *)(r3 +8)
*(u64 *)(r3 +0) = r0
r0 = 0
exit";
    let out = run(ok, &maps, true);
    assert_eq!(error(&out), "accepted", "{}", out.log);
    let bad_key = ok.replace("r0 = *(u32 *)(r2 +0)", "*(u32 *)(r2 +0) = 1");
    assert_eq!(
        error(&run(&bad_key, &maps, true)),
        "write to change key R2 not allowed"
    );
    let bad_value = ok.replace("r0 = *(u64 *)(r3 +8)", "r0 = *(u64 *)(r3 +16)");
    assert_eq!(
        error(&run(&bad_value, &maps, true)),
        "R3 min value is outside of the allowed memory range"
    );
}

#[test]
fn a_callback_needs_btf_func_info() {
    assert_eq!(
        error(&run(&loop_prog("0"), &[], false)),
        "missing btf func_info"
    );
}
