//! Derive seeds for the fuzz targets from uBPF-syntax seeds.
//!
//! `seed-corpus ASM_DIR DECODE_DIR`: for every `seed-*` file in `ASM_DIR`
//! (written by `cargo xtask fuzz` from the conformance suite's `-- asm`
//! sections) that `ubpf::assemble` accepts, write
//! * `DECODE_DIR/seed-bytes-<name>`: the program's bytecode, and
//! * `ASM_DIR/seed-kernel-<name>`: its kernel-syntax listing.
//!
//! Then, from the conformance suite itself (`../shared/bpf_conformance`,
//! read with `ebpf_conformance::load` exactly as the upstream runner reads
//! it), for every test in `tests/` and `negative/` that loads, it writes into
//! the sibling directories of `DECODE_DIR`:
//! * `interp/seed-<dir>-<name>`: the `interp` target's input: its 4-byte
//!   header (budget 2^16, the suite's helper 5, the memory length, 8 call
//!   frames), the program's bytes, then the test's memory;
//! * `cfg/seed-<dir>-<name>`: the program's bytes.
//!
//! Prints how many programs it derived seeds from. Not a fuzz target (it is
//! built without sanitizers by `cargo run`); it only exists because the
//! seeds need `ebpf-isa` and `ebpf-conformance`, which `xtask` does not
//! depend on.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [asm_dir, decode_dir] = args.as_slice() else {
        eprintln!("usage: seed-corpus ASM_DIR DECODE_DIR");
        return ExitCode::FAILURE;
    };
    match run(asm_dir, decode_dir) {
        Ok((derived, total)) => {
            println!("seed-corpus: derived seeds from {derived} of {total} uBPF sources");
        }
        Err(err) => {
            eprintln!("seed-corpus: {err}");
            return ExitCode::FAILURE;
        }
    }
    let corpus = decode_dir.parent().unwrap_or(Path::new("."));
    let suite = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/bpf_conformance"
    ));
    if !suite.is_dir() {
        println!(
            "SKIP: no conformance suite at {}: no interp/cfg seeds",
            suite.display()
        );
        return ExitCode::SUCCESS;
    }
    match run_suite(suite, &corpus.join("interp"), &corpus.join("cfg")) {
        Ok(n) => {
            println!(
                "seed-corpus: {n} interp and cfg seeds from {}",
                suite.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("seed-corpus: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Header of an `interp` seed (see `fuzz_targets/interp.rs`): budget
/// 2^16 slots, the suite's helper 5 registered, `mem_len` bytes of memory at
/// the end, `may_goto` budget 255 and 8 call frames.
fn interp_header(mem_len: u8) -> [u8; 4] {
    [16, 1, mem_len, 0xff]
}

/// Write `interp` and `cfg` seeds for every test of `suite/{tests,negative}`
/// that loads; returns how many programs.
fn run_suite(suite: &Path, interp_dir: &Path, cfg_dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(interp_dir)?;
    std::fs::create_dir_all(cfg_dir)?;
    let mut count = 0;
    for sub in ["tests", "negative"] {
        let Ok(entries) = std::fs::read_dir(suite.join(sub)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "data"))
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Ok(ebpf_conformance::Loaded::Test {
                file: data,
                program,
            }) = ebpf_conformance::load(&text)
            else {
                continue;
            };
            let Ok(mem_len) = u8::try_from(data.mem.len()) else {
                continue;
            };
            let code: Vec<u8> = program.iter().flat_map(|s| s.to_bytes()).collect();
            let stem = file
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            let name = format!("seed-{sub}-{stem}");
            let mut seed = interp_header(mem_len).to_vec();
            seed.extend_from_slice(&code);
            seed.extend_from_slice(&data.mem);
            std::fs::write(interp_dir.join(&name), seed)?;
            std::fs::write(cfg_dir.join(&name), &code)?;
            count += 1;
        }
    }
    Ok(count)
}

fn run(asm_dir: &Path, decode_dir: &Path) -> std::io::Result<(usize, usize)> {
    std::fs::create_dir_all(decode_dir)?;
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(asm_dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with("seed-") && !name.starts_with("seed-kernel-") {
            sources.push((name.to_owned(), path));
        }
    }
    sources.sort();
    let mut derived = 0;
    for (name, path) in &sources {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(prog) = ebpf_isa::ubpf::assemble(&text) else {
            continue;
        };
        let stem = name.trim_start_matches("seed-");
        std::fs::write(
            decode_dir.join(format!("seed-bytes-{stem}")),
            prog.to_bytes(),
        )?;
        std::fs::write(
            asm_dir.join(format!("seed-kernel-{stem}")),
            prog.to_string(),
        )?;
        derived += 1;
    }
    Ok((derived, sources.len()))
}
