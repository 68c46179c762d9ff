//! `conformance`: run the eBPF conformance suite in-process.
//!
//! `conformance --all` runs every `.data` file of `../shared/bpf_conformance/tests`
//! at cpu v4 with every group, the project's own files in `tests/conformance`,
//! and checks that every `negative/unused-*` program is rejected at decode.
//! It prints one `Passed X out of Y tests.` line per directory (as the upstream
//! runner does) and exits non-zero unless everything passed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use ebpf_conformance::classify::Settings;
use ebpf_conformance::engine::{Engine, suite_runtime};
use ebpf_conformance::run::{Totals, Verdict, run_dir};
use ebpf_isa::{CpuVersion, Group, Program};

#[derive(Parser)]
#[command(
    name = "conformance",
    about = "Run eBPF conformance .data files in-process"
)]
struct Args {
    /// Run the shared suite, the repository's own tests and the negative
    /// `unused-*` decode check.
    #[arg(long)]
    all: bool,
    /// A directory of `.data` files to run (repeatable).
    #[arg(long = "dir")]
    dirs: Vec<PathBuf>,
    /// A directory of `unused-*` files (one instruction per line as 8 hex
    /// bytes) that must all be rejected at decode (repeatable).
    #[arg(long = "negative")]
    negative: Vec<PathBuf>,
    /// The ISA version the engine claims.
    #[arg(long = "cpu_version", default_value = "v4")]
    cpu: CpuVersion,
    /// Groups to enable in addition to the upstream defaults (default: all).
    #[arg(long = "include_groups", value_delimiter = ',', value_parser = parse_group)]
    include: Option<Vec<Group>>,
    /// Groups to disable.
    #[arg(long = "exclude_groups", value_delimiter = ',', value_parser = parse_group)]
    exclude: Vec<Group>,
    /// Engine.
    #[arg(long, value_enum, default_value = "interp")]
    engine: Engine,
    /// Print every verdict, not only failures.
    #[arg(long, short)]
    verbose: bool,
}

fn parse_group(s: &str) -> Result<Group, String> {
    Group::from_name(s).ok_or_else(|| format!("unknown group `{s}`"))
}

fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let include = args.include.clone().unwrap_or_else(|| Group::ALL.to_vec());
    let settings = Settings::new(args.cpu, &include, &args.exclude);
    let mut dirs = args.dirs.clone();
    let mut negative = args.negative.clone();
    let shared = repo_root().join("../shared/bpf_conformance");
    let shared = shared.canonicalize().unwrap_or(shared);
    if args.all {
        if shared.is_dir() {
            dirs.push(shared.join("tests"));
            negative.push(shared.join("negative"));
        } else {
            println!(
                "SKIP: {} not present; running the repository's own tests only",
                shared.display()
            );
        }
        dirs.push(repo_root().join("tests/conformance"));
    }
    if dirs.is_empty() && negative.is_empty() {
        eprintln!("conformance: nothing to run (give --all, --dir or --negative)");
        return ExitCode::from(2);
    }

    let mut ok = true;
    let mut rt = suite_runtime();
    let mut engine =
        |slots: &[ebpf_isa::RawInsn], mem: &mut [u8]| args.engine.execute(&mut rt, slots, mem);
    for dir in &dirs {
        let verdicts = match run_dir(dir, &settings, &mut engine) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("conformance: {}: {e}", dir.display());
                ok = false;
                continue;
            }
        };
        for (path, v) in &verdicts {
            let show = args.verbose || matches!(v, Verdict::Fail { .. } | Verdict::Error { .. });
            if show {
                let msg = match v {
                    Verdict::Pass => String::new(),
                    Verdict::Fail { message }
                    | Verdict::Error { message }
                    | Verdict::Skip { message } => {
                        format!(" {message}")
                    }
                };
                println!("{}: {:?}{msg}", v.label(), path.display().to_string());
            }
        }
        let totals = Totals::of(verdicts.iter().map(|(_, v)| v));
        println!(
            "{} ({}, engine {:?}, cpu {}, {} skipped) {totals}",
            dir.display(),
            verdicts.len(),
            args.engine,
            args.cpu,
            totals.skipped
        );
        ok &= totals.all_passed() && totals.run > 0;
    }
    for dir in &negative {
        match check_unused(dir) {
            Ok((rejected, total)) => {
                println!(
                    "{}: {rejected} of {total} unused-* programs rejected at decode",
                    dir.display()
                );
                ok &= rejected == total && total > 0;
            }
            Err(e) => {
                eprintln!("conformance: {}: {e}", dir.display());
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Every `unused-*` file must fail to decode; prints the ones that decode.
fn check_unused(dir: &Path) -> Result<(usize, usize), String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("unused-"))
        })
        .collect();
    paths.sort();
    let mut rejected = 0;
    for path in &paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes = ebpf_conformance::parse_byte_raw(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        match Program::from_bytes(&bytes) {
            Err(_) if !bytes.is_empty() => rejected += 1,
            Err(_) => println!(
                "FAIL: {:?} has no instruction bytes",
                path.display().to_string()
            ),
            Ok(p) => println!(
                "FAIL: {:?} decoded as {:?}",
                path.display().to_string(),
                p.insns()
            ),
        }
    }
    Ok((rejected, paths.len()))
}
