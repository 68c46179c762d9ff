//! Bad input never panics: mutated generated programs (whatever still
//! decodes), under several program types, go through the verifier, which
//! must answer with a verdict; a wide call graph must cost linear time.

use ebpf_isa::Program;
use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::verify;
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;

/// SplitMix64, fixed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[test]
fn random_programs_get_a_verdict() {
    let platform = LinuxPlatform::new();
    let maps = [MapMeta {
        map_type: 2,
        key_size: 4,
        value_size: 16,
        max_entries: 4,
        flags: 0,
        inner: None,
        spin_lock_off: None,
    }];
    let types = ["socket_filter", "xdp", "sched_cls", "kprobe", "cgroup_skb"];
    let mut rng = Rng(7);
    let (mut decoded, mut accepted) = (0, 0);
    let cfg = ebpf_progen::GenConfig::default();
    for i in 0..1_000u32 {
        // A plausible program with one to three bytes changed: most still
        // decode, and reach every check in odd states.
        let mut bytes = ebpf_progen::generate(u64::from(i), &cfg).program.to_bytes();
        for _ in 0..1 + rng.next() % 3 {
            let at = (rng.next() % bytes.len() as u64) as usize;
            bytes[at] = rng.next() as u8;
        }
        let Ok(prog) = Program::from_bytes(&bytes) else {
            continue;
        };
        decoded += 1;
        let t = ProgType::from_name(types[i as usize % types.len()]).expect("type");
        let env = LinuxEnv::new(&platform, t, 0, "GPL");
        if verify(&prog, &env, &maps).result.is_ok() {
            accepted += 1;
        }
    }
    assert!(decoded > 150, "only {decoded} programs decoded");
    eprintln!("robustness: {decoded} random programs judged, {accepted} accepted");
}

#[test]
fn wide_call_graphs_cost_linear_time() {
    // 60 subprograms, each calling the next eleven: the stack check must
    // not walk every chain.
    let n = 60;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("f{i}:\n"));
        for j in (i + 1)..n.min(i + 12) {
            text.push_str(&format!("if r1 == {j} goto +1\ncall f{j}\n"));
        }
        text.push_str("r0 = 0\nexit\n");
    }
    let prog = ebpf_isa::asm::assemble(&text).expect("assembles");
    let platform = LinuxPlatform::new();
    let env = LinuxEnv::new(&platform, ProgType::SOCKET_FILTER, 0, "GPL");
    let start = std::time::Instant::now();
    let out = verify(&prog, &env, &[]);
    // Whatever the verdict (the walk may hit the instruction limit), it
    // comes in bounded time.
    let _ = out.result;
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}
