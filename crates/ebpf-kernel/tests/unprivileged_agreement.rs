//! `ebpf-cfg` against the running kernel for a loader without `CAP_BPF`:
//! the rejections only such a loader gets (`back-edge from insn N to M`,
//! and "loading/calling other bpf or kernel functions are allowed for
//! CAP_BPF and CAP_SYS_ADMIN" for bpf-to-bpf calls, function references and
//! kfunc calls) must be the kernel's error line, word for word, and a
//! loop-free, call-free program must load.
//!
//! How: the `ebpf-kernel-load` binary of this crate is run as user
//! `nobody` (`setpriv --reuid=65534 --regid=65534 --clear-groups`, which
//! leaves it no capabilities) with the program on stdin, as a socket filter
//! (the only program type an unprivileged user may load). The kernel
//! allows that only while `kernel.unprivileged_bpf_disabled` is 0, so the
//! test sets it to 0 and a guard puts the old value back when the test
//! ends, also when it panics. Value 1 cannot be changed until reboot: the
//! test then prints a SKIP line. Everything that touches the sysctl is in
//! the one test function `unprivileged_rejections_match_the_kernel`, so no
//! two tests race on it.
//!
//! Also checked: the kernel's size limit for such a loader (4096 slots,
//! `E2BIG` with no log line). `ebpf-cfg` does not apply it (its
//! `CfgConfig::unprivileged()` keeps the 1,000,000 limit): the test prints
//! that verdict rather than asserting it.
//!
//! SKIP lines (`SKIP: <test>: <reason>`) when `bpf()` is unavailable
//! (`probe_or_skip`), when `setpriv` is missing or cannot switch user,
//! when the sysctl is 1 or cannot be written.

use std::io::Write;
use std::process::{Command, Stdio};

use ebpf_cfg::{Cfg, CfgConfig, CfgError};
use ebpf_isa::asm::assemble;
use ebpf_isa::{Insn, Program};
use ebpf_kernel::probe_or_skip;

const SYSCTL: &str = "/proc/sys/kernel/unprivileged_bpf_disabled";
/// `BPF_MAXINSNS`: the most slots a loader without `CAP_BPF` may load.
const BPF_MAXINSNS: usize = 4096;
const LOADER: &str = env!("CARGO_BIN_EXE_ebpf-kernel-load");

fn prog(src: &str) -> Program {
    assemble(src).unwrap_or_else(|e| panic!("test program does not assemble: {e}\n{src}"))
}

/// Writes past libtest's capture, like `probe_or_skip`'s SKIP line.
fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn hex(p: &Program) -> String {
    p.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// What `ebpf-kernel-load` printed.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// `ok`.
    Loaded,
    /// The errno's name and the kernel's error line.
    Refused { errno: String, line: String },
}

/// Run `ebpf-kernel-load <prog_type>` with `p` on stdin, as user nobody
/// when `unprivileged`; `Err` with a description when the loader did not
/// answer (setpriv failed, bad input).
fn run_loader(p: &Program, prog_type: &str, unprivileged: bool) -> Result<Outcome, String> {
    run_loader_with_maps(p, prog_type, &[], unprivileged)
}

/// [`run_loader`] with maps (`TYPE,KEY,VALUE,MAX` each) for the program's
/// `map[idx:N]`.
fn run_loader_with_maps(
    p: &Program,
    prog_type: &str,
    maps: &[String],
    unprivileged: bool,
) -> Result<Outcome, String> {
    let mut cmd = if unprivileged {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            LOADER,
            prog_type,
        ]);
        c
    } else {
        let mut c = Command::new(LOADER);
        c.arg(prog_type);
        c
    };
    for m in maps {
        cmd.args(["--map", m]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(hex(p).as_bytes())
            .map_err(|e| format!("cannot write the program: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    match (out.status.code(), lines.next()) {
        (Some(0), Some("ok")) => Ok(Outcome::Loaded),
        (Some(1), Some(errno)) if !errno.is_empty() => Ok(Outcome::Refused {
            errno: errno.to_owned(),
            line: lines.next().unwrap_or("").to_owned(),
        }),
        _ => Err(format!(
            "{cmd:?} exited with {}: stdout {stdout:?}, stderr {:?}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// Puts `kernel.unprivileged_bpf_disabled` back to its old value when
/// dropped (at the end of the test, or while a panic unwinds).
struct SysctlGuard {
    old: String,
}

impl SysctlGuard {
    /// Set the sysctl to 0, remembering `old`; `Err` when it cannot be
    /// written (not root).
    fn set_zero(old: &str) -> Result<SysctlGuard, String> {
        std::fs::write(SYSCTL, "0").map_err(|e| format!("cannot write 0 to {SYSCTL}: {e}"))?;
        Ok(SysctlGuard {
            old: old.to_owned(),
        })
    }
}

impl Drop for SysctlGuard {
    fn drop(&mut self) {
        match std::fs::write(SYSCTL, &self.old) {
            Ok(()) => note(&format!(
                "unprivileged agreement: {SYSCTL} restored to {}",
                self.old
            )),
            Err(e) => note(&format!(
                "ERROR: unprivileged agreement: cannot restore {SYSCTL} to {}: {e}",
                self.old
            )),
        }
    }
}

/// Programs an unprivileged loader gets a structural rejection for, named.
/// The expected message is what `Cfg::build_with(.., unprivileged)` says
/// (checked against the kernel); listed here for the reader and checked
/// too.
fn rejected_cases() -> Vec<(&'static str, Program, &'static str)> {
    let a = |name, src: &str, msg| (name, prog(src), msg);
    vec![
        // check_cfg: the first back-edge of the depth-first search.
        a(
            "bounded loop",
            "r0 = 0\nl:\nr0 += 1\nif r0 < 10 goto l\nexit",
            "back-edge from insn 2 to 1",
        ),
        a(
            "jump to itself",
            "r0 = 0\nl:\ngoto l",
            "back-edge from insn 1 to 1",
        ),
        a(
            // Fall-through first: the search leaves the inner loop at 5,
            // reaches the outer latch at 7 and meets 7 -> 2 before 5 -> 3.
            "nested loops: the outer back-edge is met first",
            "r0 = 0\nr1 = 0\nouter:\nr2 = 0\ninner:\nr0 += 1\nr2 += 1\n\
             if r2 < 4 goto inner\nr1 += 1\nif r1 < 3 goto outer\nexit",
            "back-edge from insn 7 to 2",
        ),
        a(
            "loop on the taken branch, after a loop-free fall-through",
            "r0 = 0\nif r1 == 0 goto b\nr0 = 1\nexit\nb:\nr0 += 1\nif r0 < 3 goto b\nexit",
            "back-edge from insn 5 to 4",
        ),
        a(
            "two loops: the fall-through path's loop first",
            "r0 = 0\nif r1 == 0 goto b\na:\nr0 += 1\nif r0 < 5 goto a\nexit\n\
             b:\nr0 += 2\nif r0 < 9 goto b\nexit",
            "back-edge from insn 3 to 2",
        ),
        a(
            "may_goto loop",
            "r0 = 0\nl:\nmay_goto out\nr0 += 1\ngoto l\nout:\nr0 = 0\nexit",
            "back-edge from insn 3 to 1",
        ),
        a(
            "loop over an ld_imm64",
            "r0 = 0\nl:\nr1 = 0x100000000 ll\nr0 += 1\nif r0 < 3 goto l\nexit",
            "back-edge from insn 4 to 1",
        ),
        a(
            "back-edge before unreachable code",
            "r0 = 0\nl:\nr0 += 1\nif r0 < 3 goto l\nexit\nr0 = 1\nexit",
            "back-edge from insn 2 to 1",
        ),
        a(
            "jump out of range before back-edge (check_subprogs first)",
            "r0 = 0\nl:\nr0 += 1\nif r0 < 3 goto l\ngoto pc+9\nexit",
            "jump out of range from insn 3 to 13",
        ),
        // add_subprog_and_kfunc: calls of any kind, before everything else.
        a(
            "bpf-to-bpf call",
            "call f\nexit\nf:\nr0 = 0\nexit",
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
        ),
        a(
            "ld_imm64 function reference",
            "r1 = func f\nr0 = 0\nexit\nf:\nr0 = 0\nexit",
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
        ),
        a(
            "kfunc call",
            "call kernel-function#1\nr0 = 0\nexit",
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
        ),
        a(
            "call to an invalid destination",
            "call pc+5\nexit",
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
        ),
        a(
            "loop after a call",
            "r0 = 0\nl:\nr0 += 1\nif r0 < 3 goto l\ncall f\nexit\nf:\nr0 = 0\nexit",
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
        ),
    ]
}

/// Loop-free, call-free programs an unprivileged user may load as a
/// socket filter.
fn accepted_cases() -> Vec<(&'static str, Program)> {
    vec![
        ("straight line", prog("r0 = 0\nexit")),
        (
            "diamond on a random number",
            prog(
                "call bpf_get_prandom_u32\nif r0 > 5 goto a\nr0 = 1\ngoto b\n\
                 a:\nr0 = 2\nb:\nexit",
            ),
        ),
        (
            "forward jumps over an ld_imm64",
            prog(
                "call bpf_get_prandom_u32\nif r0 == 0 goto pc+2\nr0 = 0x100000000 ll\n\
                 r0 = 0\nexit",
            ),
        ),
    ]
}

#[test]
fn unprivileged_rejections_match_the_kernel() {
    const TEST: &str = "unprivileged_rejections_match_the_kernel";
    let Some(_kernel) = probe_or_skip(TEST) else {
        return;
    };
    let old = match std::fs::read_to_string(SYSCTL) {
        Ok(s) => s.trim().to_owned(),
        Err(e) => {
            note(&format!("SKIP: {TEST}: cannot read {SYSCTL}: {e}"));
            return;
        }
    };
    if old == "1" {
        note(&format!(
            "SKIP: {TEST}: kernel.unprivileged_bpf_disabled=1 forbids unprivileged bpf() \
             and cannot be changed until reboot"
        ));
        return;
    }
    match Command::new("setpriv").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            note(&format!(
                "SKIP: {TEST}: `setpriv --version` failed ({}), needed to load as user nobody",
                out.status
            ));
            return;
        }
        Err(e) => {
            note(&format!(
                "SKIP: {TEST}: setpriv (util-linux) not found ({e}), needed to load as user nobody"
            ));
            return;
        }
    }
    let _guard = if old == "0" {
        None
    } else {
        match SysctlGuard::set_zero(&old) {
            Ok(g) => Some(g),
            Err(reason) => {
                note(&format!("SKIP: {TEST}: {reason}"));
                return;
            }
        }
    };

    // The loader really runs without CAP_BPF: an XDP program needs it.
    let trivial = prog("r0 = 0\nexit");
    match run_loader(&trivial, "xdp", true) {
        Ok(outcome) => assert_eq!(
            outcome,
            Outcome::Refused {
                errno: "EPERM".to_owned(),
                line: String::new()
            },
            "an XDP program loaded as nobody: setpriv left capabilities"
        ),
        Err(reason) => {
            note(&format!(
                "SKIP: {TEST}: cannot load as user nobody: {reason}"
            ));
            return;
        }
    }

    let cases = rejected_cases();
    let mut differ = Vec::new();
    for (name, p, expected) in &cases {
        let err = match Cfg::build_with(p, &CfgConfig::unprivileged()) {
            Ok(cfg) => panic!("{name}: ebpf-cfg accepts it unprivileged:\n{cfg}"),
            Err(e) => e,
        };
        let ours = err.to_string();
        assert_eq!(ours, *expected, "{name}: our message");
        // The kernel returns -EPERM for calls, -EINVAL for the rest.
        let want_errno = match err {
            CfgError::CallsNotAllowed { .. } => "EPERM",
            _ => "EINVAL",
        };
        let outcome = run_loader(p, "socket_filter", true)
            .unwrap_or_else(|reason| panic!("{name}: {reason}"));
        match outcome {
            Outcome::Refused { errno, line } => {
                assert_eq!(errno, want_errno, "{name}: errno (kernel line {line:?})");
                if line != ours {
                    differ.push(format!("{name}: ours {ours:?}, kernel {line:?}"));
                }
            }
            Outcome::Loaded => differ.push(format!("{name}: ours {ours:?}, kernel loaded it")),
        }
    }
    note(&format!(
        "unprivileged agreement: {} of {} kernel messages equal (socket filter, user nobody)",
        cases.len() - differ.len(),
        cases.len()
    ));

    let accepted = accepted_cases();
    let mut refused = Vec::new();
    for (name, p) in &accepted {
        if let Err(e) = Cfg::build_with(p, &CfgConfig::unprivileged()) {
            panic!("{name}: ebpf-cfg rejects it unprivileged: {e}");
        }
        let outcome = run_loader(p, "socket_filter", true)
            .unwrap_or_else(|reason| panic!("{name}: {reason}"));
        if outcome != Outcome::Loaded {
            refused.push(format!("{name}: {outcome:?}"));
        }
    }
    note(&format!(
        "unprivileged agreement: {} of {} loop-free programs loaded (socket filter, user nobody)",
        accepted.len() - refused.len(),
        accepted.len()
    ));

    // Size: without CAP_BPF the kernel's limit is BPF_MAXINSNS (4096
    // slots), refused in bpf_prog_load with E2BIG and no log line, before
    // the verifier; ebpf-cfg's unprivileged configuration applies the same
    // limit.
    let straight = |slots: usize| {
        let mov_r0_0 = prog("r0 = 0").insns().to_vec();
        let mut insns: Vec<Insn> = std::iter::repeat_n(mov_r0_0, slots - 1).flatten().collect();
        insns.push(Insn::Exit);
        Program::from_insns(insns)
    };
    let at_limit = run_loader(&straight(BPF_MAXINSNS), "socket_filter", true)
        .unwrap_or_else(|reason| panic!("4096 slots: {reason}"));
    assert_eq!(at_limit, Outcome::Loaded, "4096 slots, unprivileged");
    let over = straight(BPF_MAXINSNS + 1);
    let over_limit = run_loader(&over, "socket_filter", true)
        .unwrap_or_else(|reason| panic!("4097 slots: {reason}"));
    assert_eq!(
        over_limit,
        Outcome::Refused {
            errno: "E2BIG".to_owned(),
            line: String::new()
        },
        "4097 slots, unprivileged"
    );
    assert!(Cfg::build_with(&straight(BPF_MAXINSNS), &CfgConfig::unprivileged()).is_ok());
    assert_eq!(
        Cfg::build_with(&over, &CfgConfig::unprivileged()).err(),
        Some(CfgError::TooLarge {
            len: BPF_MAXINSNS + 1,
            limit: BPF_MAXINSNS
        }),
        "4097 slots, unprivileged: the kernel says E2BIG"
    );

    let (corpus_agree, corpus_total, corpus_gaps, corpus_differ) = corpus_unprivileged();
    let (gen_agree, gen_total, gen_gaps, gen_differ) = generated_unprivileged();

    assert!(differ.is_empty(), "messages differ:\n{}", differ.join("\n"));
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
    assert!(
        corpus_gaps.is_empty(),
        "unprivileged soundness gaps:\n{}",
        corpus_gaps.join("\n")
    );
    assert!(
        gen_gaps.is_empty(),
        "unprivileged soundness gaps on generated programs:\n{}",
        gen_gaps.join("\n")
    );
    assert!(
        gen_agree * 100 >= gen_total * GENERATED_UNPRIV_FLOOR_PERCENT,
        "unprivileged agreement on generated programs {gen_agree}/{gen_total}:\n{}",
        gen_differ.join("\n")
    );
    assert!(
        corpus_agree >= CORPUS_UNPRIV_FLOOR,
        "unprivileged corpus agreement {corpus_agree}/{corpus_total} below {CORPUS_UNPRIV_FLOOR}:\n{}",
        corpus_differ.join("\n")
    );
}

/// Corpus programs whose unprivileged verdict and error line must equal
/// the kernel's (`ebpf verify --unprivileged` against user nobody).
const CORPUS_UNPRIV_FLOOR: usize = 306;

/// Generated socket filters (`ebpf-progen`, fixed seeds) loaded as user
/// nobody against our unprivileged verdicts: `(agree, total, soundness
/// gaps, differences)`. Most have loops or calls, which the CFG check
/// refuses; the rest exercise the pointer-leak and stack rules.
fn generated_unprivileged() -> (u64, u64, Vec<String>, Vec<String>) {
    let platform = ebpf_verifier::platform::LinuxPlatform::new();
    let cfg = ebpf_progen::GenConfig::default();
    let (mut agree, mut total, mut gaps, mut differ) = (0u64, 0u64, Vec::new(), Vec::new());
    let mut loaded = 0u64;
    for seed in 0..GENERATED_UNPRIV_PROGRAMS {
        let g = ebpf_progen::generate(seed, &cfg);
        if g.prog_type != ebpf_progen::GenProgType::SocketFilter {
            continue;
        }
        total += 1;
        let maps: Vec<String> = g
            .maps
            .iter()
            .map(|m| {
                format!(
                    "{},{},{},{}",
                    m.map_type, m.key_size, m.value_size, m.max_entries
                )
            })
            .collect();
        let metas: Vec<ebpf_verifier::state::MapMeta> = g
            .maps
            .iter()
            .map(|m| ebpf_verifier::state::MapMeta {
                map_type: m.map_type,
                key_size: m.key_size,
                value_size: m.value_size,
                max_entries: m.max_entries,
                flags: 0,
                inner: None,
                spin_lock_off: None,
            })
            .collect();
        let env =
            ebpf_verifier::LinuxEnv::new(&platform, ebpf_verifier::platform::ProgType(1), 0, "GPL");
        let config = ebpf_verifier::check::VerifierConfig {
            unprivileged: true,
            log_level: 0,
            ..ebpf_verifier::check::VerifierConfig::default()
        };
        let out = ebpf_verifier::check::verify_with(&g.program, &env, &metas, &config);
        let ours = match &out.result {
            Ok(()) => Outcome::Loaded,
            Err(r) => Outcome::Refused {
                errno: r.errno.to_owned(),
                line: r.message.clone(),
            },
        };
        let kernel = match run_loader_with_maps(&g.program, "socket_filter", &maps, true) {
            Ok(k) => k,
            Err(reason) => {
                differ.push(format!("seed {seed}: the loader failed: {reason}"));
                continue;
            }
        };
        if kernel == Outcome::Loaded {
            loaded += 1;
        }
        match (&kernel, &ours) {
            (a, b) if a == b => agree += 1,
            (Outcome::Refused { .. }, Outcome::Loaded) => {
                gaps.push(format!("seed {seed}: kernel {kernel:?}, we accept"));
            }
            _ => differ.push(format!("seed {seed}: kernel {kernel:?}, ours {ours:?}")),
        }
    }
    note(&format!(
        "unprivileged agreement: {agree} of {total} generated socket filters get the kernel's \
         verdict and error line (user nobody; {loaded} loaded)"
    ));
    for d in differ.iter().chain(&gaps).take(20) {
        note(&format!("unprivileged agreement:   {d}"));
    }
    (agree, total, gaps, differ)
}

/// Seeds of [`generated_unprivileged`] (about half are socket filters).
const GENERATED_UNPRIV_PROGRAMS: u64 = 400;
/// Same verdict and error line on at least this many per hundred.
const GENERATED_UNPRIV_FLOOR_PERCENT: u64 = 95;

/// Every program of `ebpf-verifier`'s corpus (`tests/corpus/*.s`, its maps
/// created by the loader) loaded as user nobody, against our verifier's
/// unprivileged verdict: `(agree, total, soundness gaps, differences)`.
/// Runs inside the sysctl guard of the test above.
fn corpus_unprivileged() -> (usize, usize, Vec<String>, Vec<String>) {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-verifier/tests/corpus");
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    let platform = ebpf_verifier::platform::LinuxPlatform::new();
    let (mut agree, mut total, mut gaps, mut differ) = (0, 0, Vec::new(), Vec::new());
    for path in &paths {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        let text = std::fs::read_to_string(path).expect("program");
        let mut prog_type = "socket_filter".to_owned();
        let mut license = "GPL".to_owned();
        let mut maps = Vec::new();
        let mut metas = Vec::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("; ") else {
                continue;
            };
            if let Some(t) = rest.strip_prefix("prog: ") {
                prog_type = t.trim().to_owned();
            } else if let Some(l) = rest.strip_prefix("license: ") {
                license = l.trim().to_owned();
            } else if let Some(m) = rest.strip_prefix("map: ") {
                let mut w = m.split_whitespace();
                // The kernel's map type names, as the corpus headers spell
                // them (`hash`, `sockmap`, `prog_array`).
                let Some(map_type) = w.next().and_then(|name| {
                    ebpf_kernel::MapType::ALL
                        .iter()
                        .find(|t| t.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
                        .map(|t| t.0)
                }) else {
                    continue;
                };
                let (mut k, mut v, mut n, mut flags) = (0u32, 0u32, 0u32, 0u32);
                for kv in w {
                    let Some((key, val)) = kv.split_once('=') else {
                        continue;
                    };
                    let val: u32 = val.parse().unwrap_or(0);
                    match key {
                        "key" => k = val,
                        "value" => v = val,
                        "flags" => flags = val,
                        _ => n = val,
                    }
                }
                maps.push(format!("{map_type},{k},{v},{n},{flags}"));
                metas.push(ebpf_verifier::state::MapMeta {
                    map_type,
                    key_size: k,
                    value_size: v,
                    max_entries: n,
                    flags,
                    inner: None,
                    spin_lock_off: None,
                });
            }
        }
        // The loader loads with a GPL license.
        if license != "GPL" {
            continue;
        }
        let Ok(p) = ebpf_isa::asm::assemble(&text) else {
            continue;
        };
        let Some(vt) = ebpf_verifier::platform::ProgType::from_name(&prog_type) else {
            continue;
        };
        total += 1;
        let env = ebpf_verifier::LinuxEnv::new(&platform, vt, 0, &license);
        let config = ebpf_verifier::check::VerifierConfig {
            unprivileged: true,
            log_level: 0,
            ..ebpf_verifier::check::VerifierConfig::default()
        };
        let out = ebpf_verifier::check::verify_with(&p, &env, &metas, &config);
        let ours = match &out.result {
            Ok(()) => Outcome::Loaded,
            Err(r) => Outcome::Refused {
                errno: r.errno.to_owned(),
                line: r.message.clone(),
            },
        };
        let kernel = match run_loader_with_maps(&p, &prog_type, &maps, true) {
            Ok(k) => k,
            // Maps only a privileged user may create (sockmap, ...): no
            // unprivileged load to compare with.
            Err(reason) if reason.contains("BPF_MAP_CREATE failed: EPERM") => {
                note(&format!(
                    "unprivileged corpus: {name:<32} skipped: user nobody may not create its maps"
                ));
                total -= 1;
                continue;
            }
            Err(reason) => {
                differ.push(format!("{name}: the loader failed: {reason}"));
                continue;
            }
        };
        note(&format!(
            "unprivileged corpus: {name:<32} kernel {kernel:?} ours {ours:?}"
        ));
        match (&kernel, &ours) {
            (a, b) if a == b => agree += 1,
            (Outcome::Refused { .. }, Outcome::Loaded) => {
                gaps.push(format!("{name}: kernel {kernel:?}, we accept"));
            }
            _ => differ.push(format!("{name}: kernel {kernel:?}, ours {ours:?}")),
        }
    }
    note(&format!(
        "unprivileged agreement: {agree} of {total} corpus programs get the kernel's verdict and \
         error line (user nobody, with their maps)"
    ));
    (agree, total, gaps, differ)
}

/// The loops and calls are refused only for want of `CAP_BPF`: the same
/// loader, run as this (privileged) process, gets no back-edge or
/// `CAP_BPF` message for the rejected programs that `Cfg::build`
/// (privileged) accepts. Does not touch the sysctl.
#[test]
fn privileged_loader_gets_no_unprivileged_rejection() {
    let Some(_kernel) = probe_or_skip("privileged_loader_gets_no_unprivileged_rejection") else {
        return;
    };
    let mut checked = 0usize;
    for (name, p, _) in rejected_cases() {
        // Only programs every loader may have structurally (not the
        // unreachable code, the bad jump or call); not the kfunc (BTF id 1
        // is no kernel function).
        if Cfg::build(&p).is_err() || p.insns().iter().any(is_kfunc_call) {
            continue;
        }
        let outcome = run_loader(&p, "socket_filter", false)
            .unwrap_or_else(|reason| panic!("{name}: {reason}"));
        if let Outcome::Refused { line, .. } = &outcome {
            assert!(
                !line.starts_with("back-edge") && !line.starts_with("loading/calling"),
                "{name}: privileged load got {outcome:?}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 10, "programs checked");
}

fn is_kfunc_call(insn: &Insn) -> bool {
    matches!(insn, Insn::Call(ebpf_isa::CallTarget::Kfunc { .. }))
}
