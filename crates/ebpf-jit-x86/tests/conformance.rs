//! The whole conformance suite (`../shared/bpf_conformance/tests`) in both
//! engines: every file's program runs in the interpreter, the hardened JIT
//! (with and without blinding) and, when it does not trap, the trusted JIT;
//! r0, memory and traps must match, and r0 must be the file's `-- result`.
//!
//! The `.data` format is read here with a few lines (ebpf-conformance is a
//! layer above this crate): `-- asm` (uBPF dialect), `-- raw`, `-- mem`,
//! `-- result`.

mod common;

use std::path::Path;

use ebpf_isa::{Program, RawInsn};
use ebpf_runtime::{Config, HelperContext, Runtime, Trap};

struct Test {
    asm: String,
    raw: Vec<u64>,
    mem: Vec<u8>,
    result: Option<u64>,
}

fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else if let Some(d) = s.strip_prefix('-') {
        d.parse::<u64>().ok().map(u64::wrapping_neg)
    } else {
        s.parse().ok()
    }
}

fn parse(text: &str) -> Test {
    let mut t = Test {
        asm: String::new(),
        raw: Vec::new(),
        mem: Vec::new(),
        result: None,
    };
    let mut section = "";
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("-- ") {
            section = name.trim();
            continue;
        }
        let body = line.split('#').next().unwrap_or("").trim();
        match section {
            "asm" => {
                t.asm.push_str(line);
                t.asm.push('\n');
            }
            "raw" if !body.is_empty() => t.raw.push(parse_num(body).unwrap()),
            "mem" => t.mem.extend(
                body.split_whitespace()
                    .map(|b| u8::from_str_radix(b, 16).unwrap()),
            ),
            "result" if !body.is_empty() => t.result = parse_num(body),
            _ => {}
        }
    }
    t
}

fn echo(_: &mut HelperContext<'_>, args: [u64; 5]) -> Result<u64, Trap> {
    Ok(args[0])
}

fn runtime() -> Runtime {
    let mut rt = Runtime::with_config(Config::deterministic());
    rt.register_helper(5, "echo", echo);
    rt
}

#[test]
fn conformance_suite_in_both_engines() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bpf_conformance/tests"
    ));
    if !dir.is_dir() {
        println!("SKIP: {} not present", dir.display());
        return;
    }
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 313);
    let mut passed = 0;
    for path in &paths {
        let t = parse(&std::fs::read_to_string(path).unwrap());
        let slots: Vec<RawInsn> = if t.raw.is_empty() {
            ebpf_isa::ubpf::assemble_raw(&t.asm)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        } else {
            t.raw.iter().map(|&v| RawInsn::from_u64(v)).collect()
        };
        let prog = Program::from_raw(&slots).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let r = common::check_with(&[prog], &t.mem, &runtime, common::Compare::Exact);
        assert_eq!(r.as_ref().ok(), t.result.as_ref(), "{}", path.display());
        passed += 1;
    }
    assert_eq!(passed, 313);
}
