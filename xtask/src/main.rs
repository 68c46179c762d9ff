//! Project automation, run as `cargo xtask <command>` (the alias lives in
//! `.cargo/config.toml`).
//!
//! * `ci`: the whole CI pipeline (fmt, clippy, test, doc, layering check and,
//!   once it exists, the conformance suite), stopping at the first failure
//!   and ending with one summary line. `.ci/run` calls exactly this.
//! * `layers`: only the crate layering check (see [`layers`]).
//! * `fuzz TARGET SECONDS [-- ARGS]`: one cargo-fuzz target for a bounded time,
//!   with a seed corpus generated from the conformance suite.
//! * `conformance [ARGS]`: the conformance runner (default `--all`).
//! * `fixtures`: compile the shared benchmark programs into `benches/fixtures/`
//!   and the loader's C fixtures into `crates/ebpf-loader/fixtures/build/`.
//! * `bench [ARGS]`: the interpreter's ns/run and ns/insn on every fixture,
//!   then every engine side by side (native, JIT, kernel JIT, interpreter),
//!   then the verifier against the kernel's verifier on the bench programs
//!   and on every loader-fixture program.
//! * `diff [--seconds N] [--seed S]`: the verifier differential against the
//!   running kernel on generated programs for N seconds (see [`diff`]).
//!
//! xtask is a developer tool: it is exempt from the layering rules and is the
//! only crate allowed to use `serde_json`.
#![forbid(unsafe_code)]

mod bench;
mod ci;
mod diff;
mod error;
mod fixtures;
mod fuzz;
mod layers;
mod loader_fixtures;
mod metadata;
mod process;

use std::process::ExitCode;

use crate::error::Error;

const HELP: &str = "\
cargo xtask: project automation

USAGE:
    cargo xtask <COMMAND> [ARGS]

COMMANDS:
    ci                            run the CI pipeline: fmt, clippy, test, doc,
                                  layering check, and conformance (once the
                                  ebpf-conformance crate has its `conformance` bin);
                                  stops at the first failing step
    layers                        check crate dependencies against the layer table
                                  (xtask/src/layers.rs)
    conformance [ARGS]            run the eBPF conformance suite in-process (default
                                  `--all`: ../shared suite at cpu v4 with every group,
                                  tests/conformance, negative unused-* decode check)
    fuzz TARGET SECONDS [-- ARGS] run one fuzz target (decode, asm, interp, cfg,
                                  loader) for SECONDS with
                                  `cargo +nightly fuzz run`; ARGS go to libFuzzer.
                                  Needs `cargo install cargo-fuzz` and a nightly toolchain
    fixtures                      compile ../shared/bench-programs (clang-19) into
                                  benches/fixtures/: bytecode, inputs, expected r0
    bench [ARGS]                  run the interpreter on every fixture (ns/run,
                                  insns/run, ns/insn), then every engine (native,
                                  our JIT, the kernel's JIT, interpreter), then the
                                  verifier's time against the kernel's on the bench
                                  programs and loader fixtures (ARGS: --help)
    diff [--seconds N] [--seed S] verifier differential: generated programs from seed S
                                  (default 0) for N seconds (default 60), judged by
                                  the running kernel and our verifier, the ones we
                                  accept run in the interpreter; fails on a soundness
                                  gap or memory trap (release build, needs bpf())
    help, --help, -h              print this help
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{HELP}");
        return ExitCode::FAILURE;
    };
    let result = match command.as_str() {
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        "ci" => no_args("ci", rest).and_then(|()| ci::run()),
        "layers" => no_args("layers", rest).and_then(|()| layers::run()),
        "fuzz" => fuzz::run(rest),
        "fixtures" => no_args("fixtures", rest)
            .and_then(|()| fixtures::run())
            .and_then(|()| loader_fixtures::build(&process::repo_root())),
        "conformance" => conformance(rest),
        "bench" => bench::run(rest),
        "diff" => diff::run(rest),
        other => Err(Error::Usage {
            message: format!("unknown command `{other}` (try `cargo xtask --help`)"),
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The summary line already said which step failed; it stays last.
        Err(Error::Ci { .. }) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask conformance [ARGS]`: the in-process conformance runner.
fn conformance(rest: &[String]) -> Result<(), Error> {
    let mut args = vec![
        "run",
        "--release",
        "-p",
        "ebpf-conformance",
        "--bin",
        "conformance",
        "--",
    ];
    if rest.is_empty() {
        args.push("--all");
    }
    args.extend(rest.iter().map(String::as_str));
    process::run_streaming(&mut process::cargo_command(args))
}

/// Reject arguments for commands that take none.
fn no_args(command: &str, rest: &[String]) -> Result<(), Error> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(Error::Usage {
            message: format!("`cargo xtask {command}` takes no arguments, got `{arg}`"),
        }),
    }
}
