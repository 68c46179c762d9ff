//! `bpf_conformance_plugin`: a plugin for the upstream conformance runner
//! (FORMAT.md a.6).
//!
//! Invoked as `bpf_conformance_plugin [<memory-hex>] [--interp|--jit] [--elf]`; reads
//! the program as hex text (`"b7  00  00  ..."`) on stdin, runs it with
//! `r1` = a writable copy of the memory and `r2` = its length, and prints `r0`
//! in hex (exit 0) or the failure message (exit 1). Options all have the form
//! `--x`, so the memory argument is the one that does not start with `--`.

use std::io::{Read, Write};
use std::process::ExitCode;

use ebpf_conformance::engine::{Engine, suite_runtime};
use ebpf_isa::RawInsn;

/// Bytes from the runner's hex text: two hex digits per byte, separated by
/// any whitespace.
fn parse_hex(text: &str, what: &str) -> Result<Vec<u8>, String> {
    text.split_whitespace()
        .flat_map(|tok| {
            let bytes = tok.as_bytes();
            (0..bytes.len().div_ceil(2)).map(move |i| {
                let pair = bytes
                    .get(i * 2..(i * 2 + 2).min(bytes.len()))
                    .unwrap_or_default();
                let s = std::str::from_utf8(pair).unwrap_or("");
                u8::from_str_radix(s, 16).map_err(|_| format!("{what}: invalid hex `{tok}`"))
            })
        })
        .collect()
}

fn run() -> Result<u64, String> {
    let mut mem = Vec::new();
    let mut engine = Engine::Interp;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--interp" | "--interpret" => engine = Engine::Interp,
            "--elf" => return Err("ELF input is not supported yet (it needs ebpf-loader)".into()),
            "--jit" => engine = Engine::Jit,
            opt if opt.starts_with("--") => return Err(format!("unknown option `{opt}`")),
            hex => mem = parse_hex(hex, "memory")?,
        }
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("reading stdin: {e}"))?;
    let bytes = parse_hex(&input, "program")?;
    if bytes.len() % RawInsn::SIZE != 0 {
        return Err(format!(
            "program length {} is not a multiple of 8",
            bytes.len()
        ));
    }
    let slots: Vec<RawInsn> = bytes
        .chunks_exact(RawInsn::SIZE)
        .map(|c| RawInsn::from_bytes(c.try_into().unwrap_or_default()))
        .collect();
    let mut rt = suite_runtime();
    engine.execute(&mut rt, &slots, &mut mem)
}

fn main() -> ExitCode {
    match run() {
        Ok(r0) => {
            let _ = writeln!(std::io::stdout(), "{r0:#x}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            let _ = writeln!(std::io::stderr(), "{msg}");
            ExitCode::FAILURE
        }
    }
}
