//! The verifier corpus against the running kernel: every program in
//! `crates/ebpf-verifier/tests/corpus/*.s` is loaded with `BPF_PROG_LOAD`
//! at log level 2, and the kernel's verdict, error line, statistics and
//! full log must equal the committed golden file `NAME.kernel` beside it.
//!
//! The golden files are what `ebpf-verifier` is measured against (its own
//! tests read them without a kernel); this test keeps them honest: a
//! different kernel, or an edited program, shows up here as a failure
//! naming the program. `EBPF_UPDATE_GOLDEN=1` rewrites them instead (then
//! review the diff like code).
//!
//! A corpus program is kernel-syntax assembly with header comments:
//!
//! ```text
//! ; what: one line on the check it exercises
//! ; prog: socket_filter | xdp | sched_cls | kprobe | tracepoint | ...
//! ; license: MIT            (optional; GPL otherwise)
//! ; map: array key=4 value=8 max_entries=4   (map index 0, 1, ... in order)
//! ```
//!
//! `map[idx:N]` references are patched to the fds of maps created from the
//! `map:` lines. In the golden log, map pointers are written as `<kaddr>`
//! and a very long log keeps only its head and tail ([`golden_log`]).
//! Gated on `probe_or_skip` like the other tests here.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ebpf_isa::RawInsn;
use ebpf_kernel::{Kernel, LogLevel, MapCreate, MapFd, MapType, ProgLoad, ProgType, probe_or_skip};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-verifier/tests/corpus")
}

/// One corpus program's header.
#[derive(Debug, Default)]
struct Header {
    prog: Option<ProgType>,
    license: Option<String>,
    maps: Vec<MapCreate<'static>>,
}

fn prog_type(name: &str) -> Option<ProgType> {
    ProgType::ALL
        .iter()
        .copied()
        .find(|t| t.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

fn map_type(name: &str) -> Option<MapType> {
    MapType::ALL
        .iter()
        .copied()
        .find(|t| t.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

fn parse_header(file: &str, text: &str) -> Header {
    let mut h = Header::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("; ") else {
            continue;
        };
        if let Some(p) = rest.strip_prefix("prog: ") {
            h.prog = Some(prog_type(p.trim()).unwrap_or_else(|| panic!("{file}: prog {p}")));
        } else if let Some(l) = rest.strip_prefix("license: ") {
            h.license = Some(l.trim().to_owned());
        } else if let Some(m) = rest.strip_prefix("map: ") {
            let mut words = m.split_whitespace();
            let t = words.next().expect("map type");
            let mut create = MapCreate {
                map_type: map_type(t).unwrap_or_else(|| panic!("{file}: map type {t}")),
                ..MapCreate::default()
            };
            for w in words {
                let (k, v) = w.split_once('=').expect("key=value");
                let v: u32 = v.parse().expect("number");
                match k {
                    "key" => create.key_size = v,
                    "value" => create.value_size = v,
                    "max_entries" => create.max_entries = v,
                    "flags" => create.map_flags = ebpf_kernel::MapFlags(v),
                    _ => panic!("{file}: map attribute {k}"),
                }
            }
            h.maps.push(create);
        }
    }
    h
}

/// Lines of a long log kept at its start and at its end.
const HEAD_LINES: usize = 400;
const TAIL_LINES: usize = 100;

/// The log as the golden file keeps it: map pointers in `ld_imm64` lines
/// (`(18) r1 = 0xffff888100257800`, a different kernel address at every
/// load) written as `<kaddr>`, and a log longer than `HEAD_LINES +
/// TAIL_LINES` lines cut to its head and tail around a line saying how many
/// were left out.
fn golden_log(text: &str) -> String {
    let lines: Vec<String> = text.lines().map(hide_kernel_address).collect();
    let mut out = String::new();
    if lines.len() <= HEAD_LINES + TAIL_LINES {
        for l in &lines {
            out.push_str(l);
            out.push('\n');
        }
        return out;
    }
    let tail_start = lines.len() - TAIL_LINES;
    for l in lines.get(..HEAD_LINES).unwrap_or_default() {
        out.push_str(l);
        out.push('\n');
    }
    let _ = writeln!(out, "... {} lines left out ...", tail_start - HEAD_LINES);
    for l in lines.get(tail_start..).unwrap_or_default() {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// In an `ld_imm64` line (`(18)`), a 64-bit value in the kernel's address
/// range (`0xffff...`, but not `0xffffffff...`) becomes `<kaddr>`.
fn hide_kernel_address(line: &str) -> String {
    let Some(at) = line
        .find("(18) r")
        .and_then(|i| line[i..].find(" = 0x").map(|j| i + j + 3))
    else {
        return line.to_owned();
    };
    let hex: String = line[at + 2..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    if hex.len() == 16 && hex.starts_with("ffff") && !hex.starts_with("ffffffff") {
        format!("{}<kaddr>{}", &line[..at], &line[at + 2 + 16..])
    } else {
        line.to_owned()
    }
}

/// What the kernel said, in the golden file's format.
fn kernel_report(k: &Kernel, file: &str, text: &str) -> String {
    let header = parse_header(file, text);
    let program =
        ebpf_isa::asm::assemble(text).unwrap_or_else(|e| panic!("{file}: does not assemble: {e}"));
    let maps: Vec<MapFd> = header
        .maps
        .iter()
        .map(|m| {
            k.map_create(MapCreate { ..*m })
                .unwrap_or_else(|e| panic!("{file}: map_create: {e}"))
        })
        .collect();
    let mut raw: Vec<RawInsn> = program.to_raw();
    for s in &mut raw {
        if s.code == 0x18 && (s.src == 5 || s.src == 6) {
            let idx = usize::try_from(s.imm).expect("map index");
            s.src = if s.src == 5 { 1 } else { 2 };
            s.imm = maps
                .get(idx)
                .unwrap_or_else(|| panic!("{file}: map[idx:{idx}] not declared"))
                .imm();
        }
    }
    let result = k.prog_load(ProgLoad {
        prog_type: header
            .prog
            .unwrap_or_else(|| panic!("{file}: no `; prog:` line")),
        insns: &raw,
        license: header.license.as_deref().unwrap_or("GPL"),
        log_level: LogLevel::LEVEL2,
        prog_name: "corpus",
        ..ProgLoad::default()
    });
    let mut out = String::new();
    let (verdict, log) = match &result {
        Ok(p) => ("ok".to_owned(), p.log().clone()),
        Err(e) => (
            e.errno()
                .and_then(|n| n.name().map(str::to_owned))
                .unwrap_or_else(|| e.to_string()),
            e.log().cloned().unwrap_or_default(),
        ),
    };
    let _ = writeln!(out, "verdict: {verdict}");
    let error = if result.is_ok() {
        ""
    } else {
        log.error_line().unwrap_or("")
    };
    let _ = writeln!(out, "error: {error}");
    if let Some(s) = log.stats() {
        let _ = writeln!(
            out,
            "stats: processed {} insns, total_states {}, peak_states {}, max_states_per_insn {}",
            s.insns_processed,
            s.total_states.unwrap_or(0),
            s.peak_states.unwrap_or(0),
            s.max_states_per_insn.unwrap_or(0)
        );
    }
    let _ = writeln!(out, "--- log level 2 ---");
    out.push_str(&golden_log(log.text()));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[test]
fn kernel_verdicts_and_logs_match_the_golden_files() {
    let Some(k) = probe_or_skip("kernel_verdicts_and_logs_match_the_golden_files") else {
        return;
    };
    let update = std::env::var_os("EBPF_UPDATE_GOLDEN").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 50, "corpus has {} programs", paths.len());
    let (mut accepted, mut rejected, mut differ) = (0, 0, Vec::new());
    for path in &paths {
        let file = path.file_name().and_then(|f| f.to_str()).expect("name");
        let text = std::fs::read_to_string(path).expect("read corpus program");
        let report = kernel_report(&k, file, &text);
        if report.starts_with("verdict: ok") {
            accepted += 1;
        } else {
            rejected += 1;
        }
        let golden = path.with_extension("kernel");
        if update {
            std::fs::write(&golden, &report).expect("write golden file");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if want != report {
            differ.push(format!(
                "{file}:\n--- committed\n{want}\n--- kernel now\n{report}"
            ));
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "verifier_corpus: {} programs ({accepted} accepted, {rejected} rejected) {}",
        paths.len(),
        if update {
            "written to the golden files"
        } else {
            "match the golden files"
        }
    );
    assert!(
        differ.is_empty(),
        "{} corpus programs differ from their golden files (EBPF_UPDATE_GOLDEN=1 rewrites them):\n{}",
        differ.len(),
        differ.join("\n")
    );
}
