//! Our verifier against the kernel's on `ebpf-progen`'s programs (issue 8's
//! differential): both are asked for a verdict on the same programs.
//!
//! Two numbers: **soundness gaps** (we accept, the kernel refuses) must be
//! zero; **agreement** (same verdict, and when both refuse, the same error
//! line) is reported, with a floor that only goes up. Each disagreement is
//! printed with its seed, so `ebpf_progen::generate(seed, ..)` reproduces
//! it.
//!
//! Whatever we accept is also run once in the checked interpreter, on the
//! context `BPF_PROG_TEST_RUN` builds for a 64-byte packet
//! (`ebpf_runtime::ctx`, context loads converted as the kernel converts
//! them), with the program's maps in a runtime (map `i` created `i`-th, so
//! `map[idx:i]` resolves to it; every key below `max_entries` present,
//! hash maps included, with all-ones values so masked indices reach their
//! largest value). A memory trap ([`Trap::OutOfBounds`], [`Trap::ReadOnly`])
//! fails the test; other traps (budget, helper, ...) and programs the
//! interpreter cannot take are counted and reported. The runtime's regions
//! are coarser than the kernel's objects (a map's values are one region, the
//! stack's frames are one region), so an overrun into a neighbouring value
//! or frame is not seen.
//!
//! The run covers `EBPF_DIFF_PROGRAMS` seeds (default 800) from
//! `EBPF_DIFF_SEED` (default 0); with `EBPF_DIFF_SECONDS=N` it goes on
//! seed after seed until N seconds have passed (`EBPF_DIFF_PROGRAMS`, when
//! set, still caps the count). `cargo xtask diff` runs it that way.
//! Gated on `probe_or_skip`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

mod common;

use common::{kernel_type, kernel_verdict};
use ebpf_kernel::probe_or_skip;
use ebpf_progen::{GenConfig, Generated, generate};
use ebpf_runtime::ctx::{CtxKind, CtxSpec, convert_ctx_access};
use ebpf_runtime::{Config, Runtime, Trap};
use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::verify;
use ebpf_verifier::platform::{LinuxPlatform, ProgType as VProgType};
use ebpf_verifier::state::MapMeta;

/// Programs per run when neither `EBPF_DIFF_PROGRAMS` nor
/// `EBPF_DIFF_SECONDS` is set (a fixed seed range, so the run is
/// reproducible).
const PROGRAMS: u64 = 800;

/// Same verdict and error line on at least this many per thousand.
const AGREEMENT_FLOOR_PER_MILLE: u64 = 999;
/// Processed-instruction counts within 10% of the kernel's on at least
/// this many per hundred programs both accept (issue 8's scale goal).
const WITHIN_10_PERCENT_FLOOR: u64 = 97;

/// Bytes of the packet the interpreter runs accepted programs on.
const PACKET_LEN: usize = 64;

/// Disagreements and traps printed, at most, per list.
const SHOWN: usize = 40;

/// The numeric environment variable `name`, if set; a value that is not a
/// number is a mistake worth stopping for.
fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(e) => panic!("{name}={v:?}: not a number: {e}"),
    }
}

/// Which seeds to run: from `first`, at most `count` of them, and with a
/// `deadline`, only until it passes.
struct Plan {
    first: u64,
    count: Option<u64>,
    deadline: Option<Duration>,
}

impl Plan {
    fn from_env() -> Plan {
        let first = env_u64("EBPF_DIFF_SEED").unwrap_or(0);
        let deadline = env_u64("EBPF_DIFF_SECONDS").map(Duration::from_secs);
        let count = match (env_u64("EBPF_DIFF_PROGRAMS"), deadline) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => Some(PROGRAMS),
        };
        Plan {
            first,
            count,
            deadline,
        }
    }

    /// Whether seed number `done` (counted from `first`) still runs.
    fn go_on(&self, done: u64, started: Instant) -> bool {
        self.count.is_none_or(|c| done < c) && self.deadline.is_none_or(|d| started.elapsed() < d)
    }
}

/// Our verdict and, when we accept, our `processed N insns`.
fn our_verdict(platform: &LinuxPlatform, g: &Generated) -> Result<u64, String> {
    let prog_type = VProgType(kernel_type(g).0);
    let env = LinuxEnv::new(platform, prog_type, 0, "GPL");
    let maps: Vec<MapMeta> = g
        .maps
        .iter()
        .map(|m| MapMeta {
            map_type: m.map_type,
            key_size: m.key_size,
            value_size: m.value_size,
            max_entries: m.max_entries,
            flags: 0,
            inner: None,
            spin_lock_off: None,
        })
        .collect();
    let out = verify(&g.program, &env, &maps);
    out.result
        .map(|()| out.stats.insns_processed)
        .map_err(|r| r.message)
}

/// A deterministic runtime holding `g`'s maps in order (map `i` is
/// runtime map `i`, what `map[idx:i]` resolves to), every key below
/// `max_entries` present with an all-ones value.
fn runtime_for(g: &Generated) -> Runtime {
    let mut rt = Runtime::with_config(Config::deterministic());
    for (i, m) in g.maps.iter().enumerate() {
        let def = ebpf_runtime::MapDef::new(
            format!("map{i}"),
            ebpf_runtime::MapType(m.map_type),
            m.key_size,
            m.value_size,
            m.max_entries,
        );
        let id = rt
            .maps_mut()
            .create(def)
            .unwrap_or_else(|e| panic!("seed {}: runtime map {i}: {e}", g.seed));
        assert_eq!(id.index(), i, "seed {}: runtime map index", g.seed);
        let value = vec![0xff; m.value_size as usize];
        for key in 0..m.max_entries {
            rt.maps_mut()
                .update(id, &key.to_le_bytes(), &value, ebpf_runtime::BPF_ANY)
                .unwrap_or_else(|e| panic!("seed {}: runtime map {i}[{key}]: {e}", g.seed));
        }
    }
    rt
}

/// How one interpreter run of an accepted program ended.
enum RunEnd {
    /// It returned this `r0`.
    Returned(u64),
    /// It trapped.
    Trapped(Trap),
    /// It could not be run: the context rewrite or the interpreter refused
    /// it (the reason).
    NotRun(String),
}

/// Run `g` once in the checked interpreter on the context
/// `BPF_PROG_TEST_RUN` builds for a [`PACKET_LEN`]-byte packet.
fn interpret(g: &Generated) -> RunEnd {
    let Some(kind) = CtxKind::from_prog_type(kernel_type(g).0) else {
        return RunEnd::NotRun(format!("no context model for {:?}", g.prog_type));
    };
    let program = match convert_ctx_access(&g.program, kind.layout()) {
        Ok(p) => p,
        Err(e) => return RunEnd::NotRun(format!("convert_ctx_access: {e}")),
    };
    let vm = match ebpf_interp::Interpreter::new(&program) {
        Ok(vm) => vm,
        Err(e) => return RunEnd::NotRun(format!("interpreter: {e}")),
    };
    let packet: Vec<u8> = (0..PACKET_LEN).map(|i| (i as u8).wrapping_mul(7)).collect();
    let mut ctx = match CtxSpec::new(kind).build(packet) {
        Ok(c) => c,
        Err(e) => return RunEnd::NotRun(format!("context: {e}")),
    };
    let mut rt = runtime_for(g);
    match vm.invoke(&mut rt, ctx.invocation()) {
        Ok(out) => RunEnd::Returned(out.r0),
        Err(t) => RunEnd::Trapped(t),
    }
}

/// A trap's kind, for the counts.
fn trap_kind(t: &Trap) -> &'static str {
    match t {
        Trap::OutOfBounds { .. } => "out-of-bounds",
        Trap::ReadOnly { .. } => "read-only",
        Trap::UnknownHelper { .. } => "unknown-helper",
        Trap::CallxNotHelper { .. } => "callx-not-helper",
        Trap::HelperError { .. } => "helper-error",
        Trap::BudgetExhausted { .. } => "budget",
        Trap::CallDepthExceeded { .. } => "call-depth",
        Trap::TailCallLimit { .. } => "tail-call-limit",
        Trap::InvalidJumpTarget { .. } => "jump-target",
        Trap::Unsupported { .. } => "unsupported",
        _ => "other",
    }
}

/// A memory trap: what a sound verifier's acceptance rules out.
fn is_memory_trap(t: &Trap) -> bool {
    matches!(t, Trap::OutOfBounds { .. } | Trap::ReadOnly { .. })
}

/// What the interpreter did with the programs we accept.
#[derive(Default)]
struct Interp {
    runs: u64,
    returned: u64,
    /// Memory traps, one line each (seed and trap).
    memory: Vec<String>,
    /// Other traps by kind, and one line each.
    other: BTreeMap<&'static str, u64>,
    other_lines: Vec<String>,
    /// Programs not run, by reason.
    not_run: BTreeMap<String, u64>,
}

impl Interp {
    fn record(&mut self, seed: u64, end: RunEnd) {
        match end {
            RunEnd::Returned(_) => {
                self.runs += 1;
                self.returned += 1;
            }
            RunEnd::Trapped(t) if is_memory_trap(&t) => {
                self.runs += 1;
                self.memory.push(format!("seed {seed}: memory trap: {t}"));
            }
            RunEnd::Trapped(t) => {
                self.runs += 1;
                *self.other.entry(trap_kind(&t)).or_default() += 1;
                self.other_lines.push(format!("seed {seed}: trap: {t}"));
            }
            RunEnd::NotRun(why) => *self.not_run.entry(why).or_default() += 1,
        }
    }

    fn summary(&self) -> String {
        let other: u64 = self.other.values().sum();
        let kinds: Vec<String> = self.other.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let not_run: u64 = self.not_run.values().sum();
        format!(
            "interpreter {} runs of the programs we accept ({PACKET_LEN}-byte packet): \
             {} returned, {} memory traps, {other} other traps [{}], {not_run} not run",
            self.runs,
            self.returned,
            self.memory.len(),
            kinds.join(", ")
        )
    }
}

/// Disagreements `(seed, what)` grouped by `what` with its numbers
/// blanked (instruction indices, offsets), most frequent first, one line per
/// group with its count and first seed.
fn grouped(disagreements: &[(u64, String)]) -> Vec<String> {
    let mut groups: BTreeMap<String, (u64, u64, &str)> = BTreeMap::new();
    for (seed, what) in disagreements {
        let mut key = String::with_capacity(what.len());
        for c in what.chars() {
            if !c.is_ascii_digit() {
                key.push(c);
            } else if !key.ends_with('N') {
                key.push('N');
            }
        }
        groups.entry(key).or_insert((0, *seed, what)).0 += 1;
    }
    let mut out: Vec<(u64, u64, String, &str)> = groups
        .into_iter()
        .map(|(key, (count, seed, first))| (count, seed, key, first))
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    out.into_iter()
        .map(|(count, seed, key, first)| format!("{count} x {key} (first: seed {seed}: {first})"))
        .collect()
}

/// Percent with one decimal, `0.0` of nothing.
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[test]
fn no_soundness_gaps_and_high_agreement() {
    let Some(k) = probe_or_skip("no_soundness_gaps_and_high_agreement") else {
        return;
    };
    let platform = LinuxPlatform::new();
    let cfg = GenConfig::default();
    let plan = Plan::from_env();
    let (mut agree, mut gaps, mut stricter, mut other) = (0u64, Vec::new(), Vec::new(), Vec::new());
    let (mut ours_ns, mut accepted) = (0u128, 0u64);
    // Accepted by both: how many processed-instruction counts are within
    // 10% of the kernel's (issue 8's scale goal), with a floor.
    let (mut both, mut within) = (0u64, 0u64);
    let mut interp = Interp::default();
    let mut first_gap_text = None;
    let started = Instant::now();
    let mut n = 0u64;
    while plan.go_on(n, started) {
        let seed = plan.first.wrapping_add(n);
        n += 1;
        let g = generate(seed, &cfg);
        let kernel = kernel_verdict(&k, &g);
        let start = Instant::now();
        let ours = our_verdict(&platform, &g);
        ours_ns += start.elapsed().as_nanos();
        if kernel.is_ok() {
            accepted += 1;
        }
        if ours.is_ok() {
            interp.record(seed, interpret(&g));
        }
        match (&kernel, &ours) {
            (Ok(kn), Ok(on)) => {
                agree += 1;
                both += 1;
                if on.abs_diff(*kn) * 10 <= *kn {
                    within += 1;
                }
            }
            (Err(a), Err(b)) if a == b => agree += 1,
            (Err(a), Ok(_)) => {
                gaps.push(format!("seed {seed}: kernel refuses ({a}), we accept"));
                first_gap_text.get_or_insert_with(|| g.text.clone());
            }
            (Ok(_), Err(b)) => stricter.push((seed, format!("kernel accepts, we refuse: {b}"))),
            (Err(a), Err(b)) => other.push((seed, format!("kernel {a:?}, ours {b:?}"))),
        }
    }
    let last = plan.first.wrapping_add(n.saturating_sub(1));
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "verifier_differential: seeds {}..={last}, {n} programs in {:.1} s ({accepted} accepted \
         by the kernel): agreement {agree}/{n} ({:.2}%), soundness gaps {}, we refuse what it \
         accepts {}, both refuse with different messages {}; processed insns within 10% of the \
         kernel's on {within}/{both} accepted by both; our verifier {:.1} us per program ({} \
         build)",
        plan.first,
        started.elapsed().as_secs_f64(),
        percent(agree, n),
        gaps.len(),
        stricter.len(),
        other.len(),
        ours_ns as f64 / n.max(1) as f64 / 1000.0,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    let _ = writeln!(err, "verifier_differential: {}", interp.summary());
    for (why, count) in &interp.not_run {
        let _ = writeln!(err, "verifier_differential:   not run ({count}): {why}");
    }
    let groups = [&stricter, &other].map(|d| grouped(d));
    let lines = gaps
        .iter()
        .chain(&interp.memory)
        .chain(interp.other_lines.iter().take(SHOWN))
        .chain(groups.iter().flat_map(|g| g.iter().take(SHOWN / 2)));
    for line in lines {
        let _ = writeln!(err, "verifier_differential:   {line}");
    }
    if let Some(text) = &first_gap_text {
        let _ = writeln!(
            err,
            "verifier_differential: first soundness gap's program:\n{text}"
        );
    }
    drop(err);
    assert!(n > 0, "no programs ran");
    assert!(gaps.is_empty(), "soundness gaps:\n{}", gaps.join("\n"));
    assert!(
        interp.memory.is_empty(),
        "memory traps in programs we accept:\n{}",
        interp.memory.join("\n")
    );
    assert!(
        agree * 1000 >= n * AGREEMENT_FLOOR_PER_MILLE,
        "agreement {agree}/{n} is below the floor"
    );
    assert!(
        within * 100 >= both * WITHIN_10_PERCENT_FLOOR,
        "processed counts within 10% of the kernel's on {within}/{both}: below the floor"
    );
}

/// A hand-written XDP program over `maps`, shaped like a generated one.
fn xdp(text: &str, maps: Vec<ebpf_progen::MapSpec>) -> Generated {
    let program = ebpf_isa::asm::assemble(text)
        .unwrap_or_else(|e| panic!("test program does not assemble: {e}\n{text}"));
    Generated {
        seed: 0,
        prog_type: ebpf_progen::GenProgType::Xdp,
        maps,
        text: text.to_owned(),
        program,
        bugs: Vec::new(),
    }
}

/// The interpreter check can fail: an unchecked read one byte past the
/// packet and a read past the last value of an array map are memory traps,
/// while `map[idx:1]` reads map 1's all-ones value and `data_end - data` is
/// the packet length.
#[test]
fn the_interpreter_check_sees_memory_traps() {
    let array = |value_size, max_entries| ebpf_progen::MapSpec {
        map_type: 2,
        key_size: 4,
        value_size,
        max_entries,
    };
    let past_packet = xdp(
        "r6 = r1\nr7 = *(u32 *)(r6 +0)\nr0 = *(u8 *)(r7 +64)\nexit\n",
        Vec::new(),
    );
    let len = xdp(
        "r2 = *(u32 *)(r1 +0)\nr0 = *(u32 *)(r1 +4)\nr0 -= r2\nexit\n",
        Vec::new(),
    );
    let lookup = |off: u32| {
        format!(
            "*(u32 *)(r10 -8) = 0\nr2 = r10\nr2 += -8\nr1 = map[idx:1]\n\
             call bpf_map_lookup_elem#1\nif r0 == 0 goto out\nr0 = *(u64 *)(r0 +{off})\n\
             out:\nexit\n"
        )
    };
    let maps = vec![array(64, 4), array(8, 1)];
    let in_value = xdp(&lookup(0), maps.clone());
    let past_value = xdp(&lookup(8), maps);
    assert!(
        matches!(interpret(&past_packet), RunEnd::Trapped(t) if is_memory_trap(&t)),
        "read past the packet"
    );
    assert!(
        matches!(interpret(&past_value), RunEnd::Trapped(t) if is_memory_trap(&t)),
        "read past map 1's only value"
    );
    assert!(matches!(interpret(&in_value), RunEnd::Returned(u64::MAX)));
    assert!(matches!(interpret(&len), RunEnd::Returned(r0) if r0 == PACKET_LEN as u64));
}
