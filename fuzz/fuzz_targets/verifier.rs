//! Fuzz target `verifier`: arbitrary bytes through `Program::from_bytes`
//! and `ebpf_verifier::check::verify_with`, under a configuration chosen by
//! the input's first two bytes.
//!
//! Input: byte 0 picks the program type (socket filter, XDP, tc, kprobe,
//! cgroup_skb, sk_skb, sk_msg, sock_ops, tracepoint, raw tracepoint), byte
//! 1 the flags (unprivileged, BTF `func_info`, log level 0/1/2 and stats,
//! whether the slot after the entry is a global function taking a scalar
//! and a pointer); the rest, whole 8-byte slots, is the program. Two maps
//! (an array and a hash) back `map[idx:0]` and `map[idx:1]`.
//!
//! Checks: never a panic (the instruction limit bounds the work); a
//! verdict's refusal names an instruction inside the program when it names
//! one; the same input gives the same verdict and counts twice
//! (determinism).
#![no_main]

use ebpf_isa::Program;
use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::{GlobalArg, GlobalFunc, VerifierConfig, verify_with};
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;
use libfuzzer_sys::fuzz_target;

const TYPES: [u32; 10] = [1, 6, 3, 2, 8, 14, 16, 13, 5, 17];

fuzz_target!(|data: &[u8]| {
    let [ty, flags, rest @ ..] = data else {
        return;
    };
    let usable = rest.len() - rest.len() % 8;
    let Ok(prog) = Program::from_bytes(&rest[..usable]) else {
        return;
    };
    let platform = LinuxPlatform::new();
    let prog_type = ProgType(TYPES[usize::from(*ty) % TYPES.len()]);
    let env = LinuxEnv::new(&platform, prog_type, 0, "GPL");
    let maps = [
        MapMeta {
            map_type: 2,
            key_size: 4,
            value_size: 16,
            max_entries: 4,
            flags: 0,
            inner: None,
            // The array's value holds a spin lock in some runs.
            spin_lock_off: (flags & 0x40 != 0).then_some(8),
        },
        MapMeta {
            map_type: 1,
            key_size: 8,
            value_size: 8,
            max_entries: 16,
            flags: 0,
            inner: None,
            spin_lock_off: None,
        },
    ];
    let global_funcs = if flags & 0x20 != 0 && prog.len() > 2 {
        vec![GlobalFunc {
            start: 1,
            name: "g".to_owned(),
            args: vec![
                GlobalArg::Scalar,
                GlobalArg::Pointer {
                    target: String::new(),
                    size: Some(8),
                },
            ],
            returns_scalar: true,
        }]
    } else {
        Vec::new()
    };
    let config = VerifierConfig {
        log_level: u32::from((flags >> 2) & 7),
        func_info: flags & 2 != 0,
        unprivileged: flags & 1 != 0,
        global_funcs,
        ..VerifierConfig::default()
    };
    let a = verify_with(&prog, &env, &maps, &config);
    if let Err(r) = &a.result
        && let Some(i) = r.insn
    {
        assert!(i < prog.len().max(1), "refusal at {i} outside {} slots", prog.len());
    }
    let b = verify_with(&prog, &env, &maps, &config);
    assert_eq!(a.result, b.result, "not deterministic");
    assert_eq!(a.stats, b.stats, "not deterministic");
});
