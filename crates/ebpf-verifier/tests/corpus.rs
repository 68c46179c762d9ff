//! Our verdicts on the corpus (`tests/corpus/*.s`) against the kernel's
//! (`tests/corpus/*.kernel`, recorded from Linux 6.18 by `ebpf-kernel`'s
//! `verifier_corpus` test): same verdict (accepted, or refused with the
//! same errno) and the same error line.
//!
//! The verifier is young: the test prints every disagreement and fails if
//! the agreement drops below what it reached when this floor was last
//! raised ([`FLOOR`]), so progress is kept and regressions show.
//!
//! The program-type facts (context fields, helpers, return ranges) come
//! from the platform tables of Linux 6.18 ([`LinuxEnv`]).

use std::path::{Path, PathBuf};

use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::verify;
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;

/// Programs whose verdict and error line must agree with the kernel's.
const FLOOR: usize = 312;

/// Programs whose verdict or error line knowingly differ from the kernel's,
/// with the reason. Every other program must agree, and these must still
/// differ (so the list stays true).
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    "ldimm64_btf_id",
    "the kernel looks a BTF id up in its own BTF (vmlinux), which we do not read: both refuse \
     `r1 = btf_id[5]`, the kernel because type 5 is neither a variable nor a function, we \
     because ld_imm64 of kernel BTF objects is not modelled",
)];

/// Programs whose whole level-2 log must equal the kernel's (the lines we
/// do not print yet aside: see [`kernel_log`]). Those left are loops
/// whose golden logs are cut short (too long to keep whole), a callback
/// (the kernel lists a function only an `ld_imm64` names), and the known
/// differences above.
const LOG_FLOOR: usize = 306;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

struct Case {
    prog: String,
    license: String,
    maps: Vec<MapMeta>,
    text: String,
}

fn parse(text: &str) -> Case {
    let mut prog = String::new();
    let mut license = "GPL".to_owned();
    let mut maps = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("; ") else {
            continue;
        };
        if let Some(p) = rest.strip_prefix("prog: ") {
            prog = p.trim().to_owned();
        } else if let Some(l) = rest.strip_prefix("license: ") {
            license = l.trim().to_owned();
        } else if let Some(m) = rest.strip_prefix("map: ") {
            let mut w = m.split_whitespace();
            let map_type = match w.next() {
                Some("hash") => 1,
                Some("array") => 2,
                Some("prog_array") => 3,
                Some("perf_event_array") => 4,
                Some("cgroup_array") => 8,
                Some("percpu_hash") => 5,
                Some("percpu_array") => 6,
                Some("lru_hash") => 9,
                Some("lru_percpu_hash") => 10,
                Some("devmap") => 14,
                Some("sockmap") => 15,
                Some("cpumap") => 16,
                Some("xskmap") => 17,
                Some("sockhash") => 18,
                Some("queue") => 22,
                Some("cgroup_storage") => 19,
                Some("stack") => 23,
                Some("devmap_hash") => 25,
                Some("ringbuf") => 27,
                other => panic!("map type {other:?}"),
            };
            let mut meta = MapMeta {
                map_type,
                key_size: 0,
                value_size: 0,
                max_entries: 0,
                flags: 0,
                inner: None,
                spin_lock_off: None,
            };
            for kv in w {
                let (k, v) = kv.split_once('=').expect("key=value");
                let v: u32 = v.parse().expect("number");
                match k {
                    "key" => meta.key_size = v,
                    "value" => meta.value_size = v,
                    "flags" => meta.flags = v,
                    _ => meta.max_entries = v,
                }
            }
            maps.push(meta);
        }
    }
    Case {
        prog,
        license,
        maps,
        text: text.to_owned(),
    }
}

/// `(verdict, error line)` from a golden file.
fn golden(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("golden file");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    (field("verdict:"), field("error:"))
}

#[test]
fn verdicts_agree_with_the_kernel() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    let platform = LinuxPlatform::new();
    let mut agree = 0;
    let mut report = Vec::new();
    let mut unexpected = Vec::new();
    for path in &paths {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let case = parse(&std::fs::read_to_string(path).expect("program"));
        let program = ebpf_isa::asm::assemble(&case.text).expect("assembles");
        let prog_type = ProgType::from_name(&case.prog)
            .unwrap_or_else(|| panic!("{name}: program type {}", case.prog));
        let env = LinuxEnv::new(&platform, prog_type, 0, &case.license);
        let out = verify(&program, &env, &case.maps);
        let ours = match &out.result {
            Ok(()) => ("ok".to_owned(), String::new()),
            Err(r) => (r.errno.to_owned(), r.message.clone()),
        };
        let kernel = golden(&path.with_extension("kernel"));
        let known = KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == name);
        if ours == kernel {
            agree += 1;
            if known {
                unexpected.push(format!(
                    "  {name}: now agrees: remove it from KNOWN_DIFFERENCES"
                ));
            }
        } else {
            let line = format!(
                "  {name}: kernel {} {:?}, ours {} {:?}",
                kernel.0, kernel.1, ours.0, ours.1
            );
            if !known {
                unexpected.push(line.clone());
            }
            report.push(line);
        }
    }
    eprintln!(
        "verifier corpus: {agree}/{} programs get the kernel's verdict and error line",
        paths.len()
    );
    for r in &report {
        eprintln!("{r}");
    }
    assert!(
        agree >= FLOOR,
        "agreement fell to {agree} (floor {FLOOR}):\n{}",
        report.join("\n")
    );
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

/// The kernel's level-2 log of a golden file, without what we do not
/// produce yet: the stack liveness lines Linux 6.18 prints (`(0) frame 0
/// insn 3 +live -8`, `live stack update done`).
fn kernel_log(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("golden file");
    let Some((_, log)) = text.split_once("--- log level 2 ---\n") else {
        return Vec::new();
    };
    log.lines()
        .filter(|l| {
            !(l.starts_with('(') && l.contains(") frame ") || l.contains("live stack update done"))
        })
        .map(normalize)
        .collect()
}

/// An `ld_imm64` of a map prints a kernel address; both sides compare as
/// `<kaddr>`, padding collapsed.
fn normalize(line: &str) -> String {
    let is_live_row = line.len() > 8
        && line.starts_with(|c: char| c == ' ' || c.is_ascii_digit())
        && line.get(4..).is_some_and(|r| {
            let r = r.trim_start();
            r.split_once(": ").is_some_and(|(n, rest)| {
                n.chars().all(|c| c.is_ascii_digit())
                    && rest
                        .get(..10)
                        .is_some_and(|m| m.chars().all(|c| c == '.' || c.is_ascii_digit()))
                    && rest.get(10..11) == Some(" ")
            })
        });
    if is_live_row && let (Some(scc), Some(rest)) = (line.get(..4), line.get(4..)) {
        // `SCC   N: MASK (18) rX = <value>`: the value as below.
        return match rest.split_once(" (18) ") {
            Some((head, tail)) if tail.contains(" = ") => {
                let lhs = tail.split_once(" = ").map_or(tail, |(l, _)| l);
                format!("{scc}{head} (18) {lhs} = <kaddr>")
            }
            _ => line.to_owned(),
        };
    }
    match line.split_once(": (18) ") {
        Some((pc, rest)) if rest.contains(" = ") => {
            let (lhs, rhs) = rest.split_once(" = ").unwrap_or((rest, ""));
            let delta = rhs.split_once(';').map_or("", |(_, d)| d);
            let value = rhs.split_once(';').map_or(rhs, |(v, _)| v).trim();
            let value = if value.starts_with("0x") && value.len() > 12 || value.contains("map") {
                "<kaddr>"
            } else {
                value
            };
            format!("{pc}: (18) {lhs} = {value} ;{delta}")
        }
        _ => line.to_owned(),
    }
}

#[test]
fn logs_match_the_kernel_line_for_line() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    let platform = LinuxPlatform::new();
    let (mut same, mut lines_same, mut lines_all) = (0usize, 0usize, 0usize);
    let show = std::env::var_os("EBPF_SHOW_LOG_DIFF").is_some();
    for path in &paths {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let case = parse(&std::fs::read_to_string(path).expect("program"));
        let program = ebpf_isa::asm::assemble(&case.text).expect("assembles");
        let prog_type = ProgType::from_name(&case.prog).expect("program type");
        let env = LinuxEnv::new(&platform, prog_type, 0, &case.license);
        let out = verify(&program, &env, &case.maps);
        let ours: Vec<String> = out.log.lines().map(normalize).collect();
        let kernel = kernel_log(&path.with_extension("kernel"));
        lines_all += kernel.len();
        lines_same += kernel.iter().filter(|l| ours.contains(l)).count();
        if ours == kernel {
            same += 1;
        } else if show {
            eprintln!("--- {name}");
            for l in &kernel {
                if !ours.contains(l) {
                    eprintln!("  kernel: {l}");
                }
            }
            for l in &ours {
                if !kernel.contains(l) {
                    eprintln!("  ours:   {l}");
                }
            }
        }
    }
    eprintln!(
        "verifier corpus: {same}/{} level-2 logs equal the kernel's (stack liveness lines \
         aside); {lines_same}/{lines_all} of the kernel's lines are in ours",
        paths.len()
    );
    assert!(
        same >= LOG_FLOOR,
        "{same} logs equal the kernel's, the floor is {LOG_FLOOR} \
         (EBPF_SHOW_LOG_DIFF=1 shows the differences)"
    );
}

/// Lines of a log kept in its snapshot; longer logs (a loop walked to the
/// instruction limit) keep their start and end.
const SNAPSHOT_LINES: usize = 400;

/// Our level-2 log of every corpus program, as an insta snapshot
/// (`tests/snapshots/corpus__<name>.snap`): every change to what the log
/// says is reviewed like code. `logs_match_the_kernel_line_for_line`
/// compares the same logs with the kernel's.
#[test]
fn level2_logs_are_snapshots() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    let platform = LinuxPlatform::new();
    for path in &paths {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let case = parse(&std::fs::read_to_string(path).expect("program"));
        let program = ebpf_isa::asm::assemble(&case.text).expect("assembles");
        let prog_type = ProgType::from_name(&case.prog).expect("program type");
        let env = LinuxEnv::new(&platform, prog_type, 0, &case.license);
        let out = verify(&program, &env, &case.maps);
        let lines: Vec<&str> = out.log.lines().collect();
        let log = if lines.len() > SNAPSHOT_LINES {
            let head = lines[..SNAPSHOT_LINES / 2].join("\n");
            let tail = lines[lines.len() - SNAPSHOT_LINES / 2..].join("\n");
            format!(
                "{head}\n... {} lines left out ...\n{tail}",
                lines.len() - SNAPSHOT_LINES
            )
        } else {
            out.log.clone()
        };
        insta::assert_snapshot!(name, log);
    }
}
