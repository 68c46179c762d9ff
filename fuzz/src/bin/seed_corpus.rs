//! Derive seeds for the fuzz targets from uBPF-syntax seeds.
//!
//! `seed-corpus ASM_DIR DECODE_DIR`: for every `seed-*` file in `ASM_DIR`
//! (written by `cargo xtask fuzz` from the conformance suite's `-- asm`
//! sections) that `ubpf::assemble` accepts, write
//! * `DECODE_DIR/seed-bytes-<name>`: the program's bytecode, and
//! * `ASM_DIR/seed-kernel-<name>`: its kernel-syntax listing.
//!
//! Prints how many programs it derived seeds from. Not a fuzz target (it is
//! built without sanitizers by `cargo run`); it only exists because the
//! seeds need `ebpf-isa`, which `xtask` does not depend on.

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
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("seed-corpus: {err}");
            ExitCode::FAILURE
        }
    }
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
