//! Smoke test: every `bpf_conformance` test file through the interpreter.
//!
//! This is a quick in-crate check, not the project's conformance runner: it
//! reads the `.data` grammar (FORMAT.md a.2) without version or group
//! skipping, assembles with `ebpf_isa::ubpf::assemble`, and runs with the
//! plugin conventions of a.6 (`r1` = a copy of the memory, `r2` = its
//! length, helper 5 returns its first argument).

use std::path::{Path, PathBuf};

use ebpf_interp::Interpreter;
use ebpf_isa::{Program, RawInsn};
use ebpf_runtime::{HelperContext, Runtime, Trap};

fn shared() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}

#[derive(Default)]
struct Case {
    asm: String,
    raw: String,
    mem: String,
    result: String,
    error: String,
}

/// FORMAT.md a.2, or `None` for a file the upstream runner skips.
fn parse(text: &str) -> Option<Case> {
    let mut c = Case::default();
    let mut section = "";
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.split('#').next().unwrap_or("");
        if line.contains("--") {
            section = [
                "asm",
                "result",
                "mem",
                "raw",
                "no register offset",
                " c",
                "error",
            ]
            .into_iter()
            .find(|s| line.contains(s))?;
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        match section {
            "asm" => {
                c.asm.push_str(line);
                c.asm.push('\n');
            }
            "result" => c.result = line.trim().to_string(),
            "error" => c.error = line.trim().to_string(),
            "mem" => {
                c.mem.push_str(line);
                c.mem.push(' ');
            }
            "raw" => {
                c.raw.push_str(line);
                c.raw.push(' ');
            }
            _ => {}
        }
    }
    if c.result.is_empty() && c.error.is_empty() {
        return None;
    }
    Some(c)
}

/// `strtoull` as the runner uses it: hex with `0x`, else decimal with an
/// optional `-` (wrapping).
fn expected(result: &str) -> u64 {
    if let Some(i) = result.find("0x") {
        let hex: String = result[i + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        return u64::from_str_radix(&hex, 16).unwrap_or(0);
    }
    let (neg, rest) = match result.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, result),
    };
    let dec: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let v: u64 = dec.parse().unwrap_or(0);
    if neg { v.wrapping_neg() } else { v }
}

fn program(c: &Case) -> Result<Program, String> {
    if !c.raw.trim().is_empty() {
        let slots: Vec<RawInsn> = c
            .raw
            .split_whitespace()
            .map(|t| match t.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).unwrap_or(0),
                None => t.parse().unwrap_or(0),
            })
            .map(RawInsn::from_u64)
            .collect();
        return Program::from_raw(&slots).map_err(|e| e.to_string());
    }
    ebpf_isa::ubpf::assemble(&c.asm).map_err(|e| e.to_string())
}

fn memory(c: &Case) -> Vec<u8> {
    let mut out = Vec::new();
    for t in c.mem.split_whitespace() {
        let h = t.strip_prefix("0x").unwrap_or(t);
        match u64::from_str_radix(h, 16) {
            Ok(v) => out.push(v as u8),
            Err(_) => break,
        }
    }
    out
}

fn helper5(_: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    Ok(a[0])
}

/// Run one file: `Ok(true)` pass, `Ok(false)` skip, `Err` failure text.
fn run_file(path: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let Some(case) = parse(&text) else {
        return Ok(false);
    };
    let prog = program(&case)?;
    let vm = Interpreter::new(&prog).map_err(|e| e.to_string())?;
    let mut rt = Runtime::new();
    rt.register_helper(5, "conformance_echo", helper5);
    let mut mem = memory(&case);
    let got = vm.run(&mut rt, &mut mem);
    if !case.error.is_empty() {
        return match got {
            Err(_) => Ok(true),
            Ok(v) => Err(format!("expected an error, got {v:#x}")),
        };
    }
    let want = expected(&case.result);
    match got {
        Ok(v) if v == want => Ok(true),
        Ok(v) => Err(format!("r0 = {v:#x}, expected {want:#x}")),
        Err(t) => Err(format!("trap: {t}")),
    }
}

#[test]
fn all_conformance_files() {
    let dir = shared().join("bpf_conformance/tests");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("SKIP: {} not found", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    files.sort();
    let (mut pass, mut skip) = (0, 0);
    let mut failures = Vec::new();
    for f in &files {
        match run_file(f) {
            Ok(true) => pass += 1,
            Ok(false) => skip += 1,
            Err(e) => failures.push(format!(
                "{}: {e}",
                f.file_name().unwrap_or_default().to_string_lossy()
            )),
        }
    }
    println!(
        "conformance: {pass} passed, {} failed, {skip} skipped of {}",
        failures.len(),
        files.len()
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert_eq!(files.len(), 313, "the suite has 313 files");
    assert_eq!(pass, 313);
}
