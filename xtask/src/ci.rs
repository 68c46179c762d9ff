//! `cargo xtask ci`: the CI pipeline, one step after another.
//!
//! Each step prints a header (`==> [2/6] clippy: cargo clippy ...`) and a
//! footer with its duration; the child's output streams through unchanged
//! (so `cargo test`'s `test result:` lines reach the CI log). The first
//! failing step stops the run. The last line is always one summary:
//! `xtask ci: 6/6 steps passed in 412.3s` or
//! `xtask ci: FAILED at clippy (step 2/6) after 37.0s`.
//!
//! The conformance step is enabled by the existence of a bin target
//! `conformance` in a workspace package `ebpf-conformance`, as reported by
//! `cargo metadata`; until that lands the pipeline has five steps.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use crate::error::Error;
use crate::process::{cargo_command, describe, run_streaming};

/// The package and bin that enable the conformance step.
const CONFORMANCE_PACKAGE: &str = "ebpf-conformance";
const CONFORMANCE_BIN: &str = "conformance";

/// What a step does.
enum Action {
    /// Run a command, streaming its output.
    Command(Command),
    /// The in-process layering check ([`crate::layers::run`]).
    Layers,
}

struct Step {
    name: &'static str,
    action: Action,
}

impl Step {
    fn cargo(name: &'static str, args: &[&str]) -> Step {
        Step {
            name,
            action: Action::Command(cargo_command(args)),
        }
    }

    fn describe(&self) -> String {
        match &self.action {
            Action::Command(cmd) => describe(cmd),
            Action::Layers => "layering check of `cargo metadata` (xtask/src/layers.rs)".to_owned(),
        }
    }

    fn run(&mut self) -> Result<(), Error> {
        match &mut self.action {
            Action::Command(cmd) => run_streaming(cmd),
            Action::Layers => crate::layers::run(),
        }
    }
}

/// Whether the workspace has the conformance runner yet.
fn conformance_enabled() -> bool {
    match crate::metadata::load() {
        Ok(packages) => packages
            .iter()
            .any(|p| p.name == CONFORMANCE_PACKAGE && p.has_bin(CONFORMANCE_BIN)),
        Err(err) => {
            // The layers step reads the same metadata and will fail loudly.
            println!("xtask ci: note: cannot read cargo metadata ({err}); conformance step off");
            false
        }
    }
}

fn steps(conformance: bool) -> Vec<Step> {
    let mut doc = cargo_command(["doc", "--workspace", "--no-deps", "--locked"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    let mut steps = vec![
        Step::cargo("fmt", &["fmt", "--all", "--check"]),
        Step::cargo(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::cargo("test", &["test", "--workspace", "--locked"]),
        Step {
            name: "doc",
            action: Action::Command(doc),
        },
        Step {
            name: "layers",
            action: Action::Layers,
        },
        // The fuzz crate is outside the workspace (cargo-fuzz wants nightly to
        // run), so check on stable that its targets still build against the
        // current APIs.
        Step::cargo(
            "fuzz-check",
            &[
                "check",
                "--manifest-path",
                "fuzz/Cargo.toml",
                "--bins",
                "--locked",
            ],
        ),
    ];
    if conformance {
        steps.push(Step::cargo(
            "conformance",
            &[
                "run",
                "--release",
                "--locked",
                "-p",
                CONFORMANCE_PACKAGE,
                "--bin",
                CONFORMANCE_BIN,
                "--",
                "--all",
            ],
        ));
        steps.push(Step::cargo(
            "conformance-jit",
            &[
                "run",
                "--release",
                "--locked",
                "-p",
                CONFORMANCE_PACKAGE,
                "--bin",
                CONFORMANCE_BIN,
                "--",
                "--all",
                "--engine",
                "jit",
            ],
        ));
    }
    steps
}

/// `cargo xtask ci`.
pub(crate) fn run() -> Result<(), Error> {
    let start = Instant::now();
    let conformance = conformance_enabled();
    if !conformance {
        println!(
            "xtask ci: conformance step off (no bin `{CONFORMANCE_BIN}` in package \
             `{CONFORMANCE_PACKAGE}` yet)"
        );
    }
    run_steps(&mut steps(conformance), start, &mut std::io::stdout())
}

/// Run `steps` in order, writing headers, footers and the final summary
/// line to `out` (the children's own output is not captured), and stop at
/// the first failure. `start` is when the run began, for the summary.
fn run_steps(steps: &mut [Step], start: Instant, out: &mut impl Write) -> Result<(), Error> {
    // Progress lines are best effort: a closed stdout must not hide the verdict.
    let total = steps.len();
    for (i, step) in steps.iter_mut().enumerate() {
        let n = i + 1;
        let _ = writeln!(out, "==> [{n}/{total}] {}: {}", step.name, step.describe());
        let _ = out.flush();
        let step_start = Instant::now();
        let result = step.run();
        let secs = step_start.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                let _ = writeln!(out, "<== [{n}/{total}] {} passed in {secs:.1}s", step.name);
            }
            Err(err) => {
                let _ = writeln!(
                    out,
                    "<== [{n}/{total}] {} FAILED in {secs:.1}s: {err}",
                    step.name
                );
                let _ = writeln!(
                    out,
                    "xtask ci: FAILED at {} (step {n}/{total}) after {:.1}s",
                    step.name,
                    start.elapsed().as_secs_f64()
                );
                let _ = out.flush();
                return Err(Error::Ci {
                    step: step.name.to_owned(),
                });
            }
        }
    }
    let _ = writeln!(
        out,
        "xtask ci: {total}/{total} steps passed in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let _ = out.flush();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_order_and_commands() {
        let five = steps(false);
        let names: Vec<&str> = five.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["fmt", "clippy", "test", "doc", "layers", "fuzz-check"]
        );
        assert_eq!(
            five[5].describe(),
            "cargo check --manifest-path fuzz/Cargo.toml --bins --locked"
        );
        assert_eq!(five[0].describe(), "cargo fmt --all --check");
        assert_eq!(
            five[1].describe(),
            "cargo clippy --workspace --all-targets --locked -- -D warnings"
        );
        assert_eq!(five[2].describe(), "cargo test --workspace --locked");
        assert_eq!(
            five[3].describe(),
            "RUSTDOCFLAGS=-D warnings cargo doc --workspace --no-deps --locked"
        );

        let all = steps(true);
        assert_eq!(all.len(), 8);
        assert_eq!(
            all[6].describe(),
            "cargo run --release --locked -p ebpf-conformance --bin conformance -- --all"
        );
        assert_eq!(
            all[7].describe(),
            "cargo run --release --locked -p ebpf-conformance --bin conformance -- --all --engine jit"
        );
    }

    fn shell(name: &'static str, script: &str) -> Step {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        Step {
            name,
            action: Action::Command(cmd),
        }
    }

    fn output_lines(steps: &mut [Step]) -> (Result<(), Error>, Vec<String>) {
        let mut out = Vec::new();
        let result = run_steps(steps, Instant::now(), &mut out);
        let text = String::from_utf8(out).unwrap();
        (result, text.lines().map(str::to_owned).collect())
    }

    #[test]
    fn all_steps_pass() {
        let (result, lines) = output_lines(&mut [shell("one", "exit 0"), shell("two", "true")]);
        assert!(result.is_ok());
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[0], "==> [1/2] one: sh -c exit 0");
        assert!(
            lines[1].starts_with("<== [1/2] one passed in "),
            "{}",
            lines[1]
        );
        assert!(lines[4].starts_with("xtask ci: 2/2 steps passed in "));
        assert!(lines[4].ends_with('s'));
    }

    #[test]
    fn stops_at_first_failure_with_one_summary_line() {
        let (result, lines) = output_lines(&mut [
            shell("fmt", "true"),
            shell("clippy", "exit 3"),
            shell("never", "true"),
        ]);
        assert!(matches!(result, Err(Error::Ci { step }) if step == "clippy"));
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(
            lines[3].starts_with("<== [2/3] clippy FAILED in "),
            "{}",
            lines[3]
        );
        assert!(lines[3].ends_with("`sh -c exit 3` failed (exit status: 3)"));
        let summary = &lines[4];
        assert!(
            summary.starts_with("xtask ci: FAILED at clippy (step 2/3) after "),
            "{summary}"
        );
        assert!(lines.iter().all(|l| !l.contains("never")));
    }
}
