//! `cargo xtask fuzz TARGET SECONDS [-- ARGS]`: run one cargo-fuzz target of
//! `fuzz/` for a bounded time.
//!
//! Before each run the corpus directories (`fuzz/corpus/TARGET`,
//! git-ignored) are seeded from the conformance suite in
//! `../shared/bpf_conformance`: `asm` gets the `-- asm` sections (uBPF
//! dialect) and their kernel-syntax listings, `decode` the `-- raw` sections
//! and the assembled bytecode of every `-- asm` section. Seeds are
//! regenerated every time and never committed. Without the suite the run
//! goes on unseeded after a `SKIP:` line.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;
use crate::process::{describe, repo_root, run_streaming};

const INSTALL_HINT: &str = "install it with `cargo install cargo-fuzz` \
                            (it also needs a nightly toolchain: `rustup toolchain install nightly`)";

/// What input a fuzz target takes, which decides its seeds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Input {
    /// Arbitrary bytes, seeded with programs' bytecode.
    Bytecode,
    /// Arbitrary text, seeded with assembly sources.
    Assembly,
}

fn fuzz_dir() -> PathBuf {
    repo_root().join("fuzz")
}

fn conformance_dir() -> PathBuf {
    let dir = repo_root().join("../shared/bpf_conformance");
    fs::canonicalize(&dir).unwrap_or(dir)
}

/// The fuzz targets: file stems in `fuzz/fuzz_targets/`.
fn targets() -> Result<Vec<String>, Error> {
    let dir = fuzz_dir().join("fuzz_targets");
    let entries = fs::read_dir(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?
            .path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Parsed command line of `cargo xtask fuzz`.
#[derive(Debug, PartialEq, Eq)]
struct FuzzArgs {
    target: String,
    seconds: u64,
    extra: Vec<String>,
}

fn usage(message: &str) -> Error {
    Error::Usage {
        message: format!("{message}\nusage: cargo xtask fuzz TARGET SECONDS [-- LIBFUZZER-ARGS]"),
    }
}

fn parse_args(args: &[String]) -> Result<FuzzArgs, Error> {
    let (positional, extra) = match args.iter().position(|a| a == "--") {
        Some(at) => (&args[..at], args[at + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let [target, seconds] = positional else {
        return Err(usage("expected a target and a number of seconds"));
    };
    let seconds = match seconds.parse::<u64>() {
        Ok(s) if s > 0 => s,
        _ => {
            return Err(usage(&format!(
                "SECONDS must be a positive integer, got `{seconds}`"
            )));
        }
    };
    Ok(FuzzArgs {
        target: target.clone(),
        seconds,
        extra,
    })
}

/// A rustup-proxied `cargo +nightly` with the variables that `cargo run`
/// set for us removed, so the nightly toolchain is really used.
fn nightly_cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly")
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .current_dir(repo_root());
    cmd
}

fn check_tools() -> Result<(), Error> {
    let quiet = |mut cmd: Command| {
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut nightly = nightly_cargo();
    nightly.arg("--version");
    if !quiet(nightly) {
        return Err(Error::MissingTool {
            message: "no nightly toolchain (cargo-fuzz needs one): install it with \
                      `rustup toolchain install nightly`"
                .to_owned(),
        });
    }
    let mut fuzz = nightly_cargo();
    fuzz.args(["fuzz", "--version"]);
    if !quiet(fuzz) {
        return Err(Error::MissingTool {
            message: format!("cargo-fuzz is not installed: {INSTALL_HINT}"),
        });
    }
    Ok(())
}

/// `cargo xtask fuzz TARGET SECONDS [-- ARGS]`.
pub(crate) fn run(args: &[String]) -> Result<(), Error> {
    let args = parse_args(args)?;
    let known = targets()?;
    if !known.contains(&args.target) {
        return Err(usage(&format!(
            "unknown fuzz target `{}` (targets: {})",
            args.target,
            known.join(", ")
        )));
    }
    check_tools()?;

    seed_corpora();
    let corpus = corpus_dir(&args.target);
    fs::create_dir_all(&corpus).map_err(|source| Error::Io {
        path: corpus.clone(),
        source,
    })?;

    let mut cmd = nightly_cargo();
    cmd.args(["fuzz", "run", "--fuzz-dir"])
        .arg(fuzz_dir())
        .arg(&args.target)
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={}", args.seconds))
        .arg("-print_final_stats=1")
        .args(&args.extra);
    println!("xtask fuzz: {}", describe(&cmd));
    run_streaming(&mut cmd)
}

fn corpus_dir(target: &str) -> PathBuf {
    fuzz_dir().join("corpus").join(target)
}

/// Seed `fuzz/corpus/asm` with the suite's uBPF sources and
/// `fuzz/corpus/decode` with its raw bytecode, then let the fuzz crate's
/// `seed-corpus` bin (which, unlike xtask, links `ebpf-isa`) add the
/// assembled bytecode and kernel-syntax listings of those sources. Failures
/// only cost seeds: they are reported and fuzzing goes on.
fn seed_corpora() {
    let suite = conformance_dir();
    if !suite.is_dir() {
        println!(
            "SKIP: no conformance suite at {}: fuzzing without seeds",
            suite.display()
        );
        return;
    }
    for (target, input) in [("asm", Input::Assembly), ("decode", Input::Bytecode)] {
        let corpus = corpus_dir(target);
        let written = fs::create_dir_all(&corpus)
            .map_err(|source| Error::Io {
                path: corpus.clone(),
                source,
            })
            .and_then(|()| write_seeds(&suite, input, &corpus));
        match written {
            Ok(n) => println!(
                "xtask fuzz: {n} seeds from {} in {}",
                suite.display(),
                corpus.display()
            ),
            Err(err) => println!("xtask fuzz: warning: no seeds for {target}: {err}"),
        }
    }
    match seed_loader_fixtures() {
        Ok(n) => println!("xtask fuzz: {n} loader seeds from the committed ELF fixtures"),
        Err(err) => println!("xtask fuzz: warning: no loader seeds: {err}"),
    }
    let mut cmd = nightly_cargo();
    cmd.args(["run", "--quiet", "--manifest-path"])
        .arg(fuzz_dir().join("Cargo.toml"))
        .args(["--bin", "seed-corpus", "--"])
        .arg(corpus_dir("asm"))
        .arg(corpus_dir("decode"));
    if let Err(err) = run_streaming(&mut cmd) {
        println!("xtask fuzz: warning: no derived seeds: {err}");
    }
    match seed_jit_diff() {
        Ok(n) => println!("xtask fuzz: {n} jit_diff seeds from the decode seeds"),
        Err(err) => println!("xtask fuzz: warning: no jit_diff seeds: {err}"),
    }
}

/// `jit_diff` takes a 3-byte header (budget, flags, input length) before
/// the program: its seeds are the decode seeds behind a header asking for
/// a budget of 1024, the echo helper and the maps, and no input memory.
fn seed_jit_diff() -> Result<usize, Error> {
    const HEADER: [u8; 3] = [10, 0b011, 0];
    let from = corpus_dir("decode");
    let to = corpus_dir("jit_diff");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    fs::create_dir_all(&to).map_err(io(&to))?;
    let mut count = 0;
    for entry in fs::read_dir(&from).map_err(io(&from))? {
        let path = entry.map_err(io(&from))?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        let program = fs::read(&path).map_err(io(&path))?;
        let mut seed = HEADER.to_vec();
        seed.extend_from_slice(&program);
        let dst = to.join(name);
        fs::write(&dst, seed).map_err(io(&dst))?;
        count += 1;
    }
    Ok(count)
}

/// Copy the loader's committed ELF fixtures into `fuzz/corpus/loader`;
/// returns how many.
fn seed_loader_fixtures() -> Result<usize, Error> {
    let fixtures = crate::process::repo_root().join("crates/ebpf-loader/fixtures/build");
    let corpus = corpus_dir("loader");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    fs::create_dir_all(&corpus).map_err(io(&corpus))?;
    let mut count = 0;
    for entry in fs::read_dir(&fixtures).map_err(io(&fixtures))? {
        let path = entry.map_err(io(&fixtures))?.path();
        if path.extension().is_some_and(|e| e == "o") {
            let name = path.file_name().unwrap_or_default();
            fs::copy(&path, corpus.join(name)).map_err(io(&path))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Write the seeds of kind `input` found in `suite/{tests,negative}/*.data`
/// into `corpus` as `seed-<dir>-<stem>`; returns how many.
fn write_seeds(suite: &Path, input: Input, corpus: &Path) -> Result<usize, Error> {
    let mut count = 0;
    for sub in ["tests", "negative"] {
        let dir = suite.join(sub);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "data"))
            .collect();
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?;
            let sections = Sections::parse(&text);
            let seed = match input {
                Input::Assembly if !sections.asm.is_empty() => sections.asm.into_bytes(),
                Input::Bytecode => match raw_bytes(&sections.raw) {
                    Some(bytes) if !bytes.is_empty() => bytes,
                    _ => continue,
                },
                Input::Assembly => continue,
            };
            let stem = file
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            let path = corpus.join(format!("seed-{sub}-{stem}"));
            fs::write(&path, seed).map_err(|source| Error::Io { path, source })?;
            count += 1;
        }
    }
    Ok(count)
}

/// The sections of a conformance `.data` file that seeds need, read the way
/// the upstream runner reads them (FORMAT.md a.2): `#` starts a comment, a
/// line containing `--` is a header named by the first of `asm`, `result`,
/// `mem`, `raw`, ... it contains.
#[derive(Default, Debug, PartialEq, Eq)]
struct Sections {
    /// `-- asm` lines, newline-terminated.
    asm: String,
    /// `-- raw` lines.
    raw: Vec<String>,
}

impl Sections {
    fn parse(text: &str) -> Sections {
        #[derive(PartialEq)]
        enum Current {
            None,
            Asm,
            Raw,
            Other,
        }
        let mut out = Sections::default();
        let mut current = Current::None;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            if line.contains("--") {
                current = if line.contains("asm") {
                    Current::Asm
                } else if ["result", "mem"].iter().any(|s| line.contains(s)) {
                    Current::Other
                } else if line.contains("raw") {
                    Current::Raw
                } else {
                    Current::Other
                };
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            match current {
                Current::Asm => {
                    out.asm.push_str(line.trim_end());
                    out.asm.push('\n');
                }
                Current::Raw => out.raw.push(line.trim().to_owned()),
                Current::None | Current::Other => {}
            }
        }
        out
    }
}

/// Bytecode of a `-- raw` section. Each line is either eight hex bytes
/// (`07 00 01 00 01 00 00 00`, the `negative/unused-*` files) or whitespace-
/// separated u64 slots, hex with `0x` or decimal (`0x5566778800000018`),
/// stored little-endian. `None` if a token is not a number.
fn raw_bytes(lines: &[String]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for line in lines {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let byte_line = tokens.len() == 8
            && tokens
                .iter()
                .all(|t| t.len() <= 2 && t.chars().all(|c| c.is_ascii_hexdigit()));
        if byte_line {
            for t in tokens {
                out.push(u8::from_str_radix(t, 16).ok()?);
            }
        } else {
            for t in tokens {
                let slot = match t.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16).ok()?,
                    None => t.parse::<u64>().ok()?,
                };
                out.extend_from_slice(&slot.to_le_bytes());
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn args() {
        assert_eq!(
            parse_args(&strings(&["decode", "60", "--", "-jobs=1", "-seed=3"])).unwrap(),
            FuzzArgs {
                target: "decode".into(),
                seconds: 60,
                extra: strings(&["-jobs=1", "-seed=3"]),
            }
        );
        assert_eq!(
            parse_args(&strings(&["asm", "5"])).unwrap().extra,
            Vec::<String>::new()
        );
        for bad in [
            &["decode"][..],
            &["decode", "0"],
            &["decode", "x"],
            &["a", "1", "2"],
        ] {
            assert!(matches!(
                parse_args(&strings(bad)),
                Err(Error::Usage { .. })
            ));
        }
    }

    #[test]
    fn sections_of_a_data_file() {
        let text = "# c\n-- asm\nlddw %r0, 0x1122334455667788 # load\n\nexit\n\
                    -- raw\n0x5566778800000018\n0x1122334400000000\n-- result\n0x1\n";
        let s = Sections::parse(text);
        assert_eq!(s.asm, "lddw %r0, 0x1122334455667788\nexit\n");
        assert_eq!(s.raw, ["0x5566778800000018", "0x1122334400000000"]);
        assert_eq!(
            raw_bytes(&s.raw).unwrap(),
            [
                0x18, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11
            ]
        );
    }

    #[test]
    fn raw_byte_lines() {
        let lines = strings(&["07 00 01 00 01 00 00 00", "95 00 00 00 00 00 00 00"]);
        let bytes = raw_bytes(&lines).unwrap();
        assert_eq!(bytes.len(), 16);
        assert_eq!(bytes[..4], [0x07, 0, 1, 0]);
        assert_eq!(bytes[8], 0x95);
        assert_eq!(raw_bytes(&strings(&["zz"])), None);
        assert_eq!(
            raw_bytes(&strings(&["149"])).unwrap(),
            [0x95, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn seeds_from_the_conformance_suite() {
        let suite = conformance_dir();
        if !suite.is_dir() {
            println!("SKIP: no conformance suite at {}", suite.display());
            return;
        }
        let out = std::env::temp_dir().join(format!("xtask-seeds-{}", std::process::id()));
        fs::create_dir_all(&out).unwrap();
        let asm = write_seeds(&suite, Input::Assembly, &out).unwrap();
        assert!(asm >= 313, "only {asm} asm seeds");
        let add = fs::read_to_string(out.join("seed-tests-add")).unwrap();
        assert!(add.starts_with("mov32 %r0, 0\n"), "{add}");
        fs::remove_dir_all(&out).unwrap();

        fs::create_dir_all(&out).unwrap();
        let raw = write_seeds(&suite, Input::Bytecode, &out).unwrap();
        assert!(raw >= 2, "only {raw} raw seeds");
        assert_eq!(fs::read(out.join("seed-tests-lddw")).unwrap().len(), 24);
        fs::remove_dir_all(&out).unwrap();
    }
}
