//! `cargo xtask diff [--seconds N] [--seed S]`: the verifier differential
//! (`crates/ebpf-kernel/tests/verifier_differential.rs`) for a bounded time.
//!
//! It runs `cargo test --release -p ebpf-kernel --test
//! verifier_differential -- --nocapture` with `EBPF_DIFF_SECONDS=N` (default
//! 60) and `EBPF_DIFF_SEED=S` (default 0): the test generates programs seed
//! after seed, asks the running kernel and our verifier for verdicts, runs
//! the programs we accept in the checked interpreter, prints its summary
//! and fails on a soundness gap, a memory trap or agreement below its floor.
//! `EBPF_KERNEL_REQUIRED=1` makes a missing `bpf()` a failure instead of a
//! skip, and `EBPF_DIFF_PROGRAMS` is cleared so the run is bounded by time
//! only. xtask does not link the ebpf crates: the test does the work.

use crate::error::Error;
use crate::process::{cargo_command, describe, run_streaming};

/// Seconds when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;

/// Parsed command line of `cargo xtask diff`.
#[derive(Debug, PartialEq, Eq)]
struct DiffArgs {
    seconds: u64,
    seed: u64,
}

fn usage(message: &str) -> Error {
    Error::Usage {
        message: format!("{message}\nusage: cargo xtask diff [--seconds N] [--seed S]"),
    }
}

fn parse_args(args: &[String]) -> Result<DiffArgs, Error> {
    let mut out = DiffArgs {
        seconds: DEFAULT_SECONDS,
        seed: 0,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--seconds" => &mut out.seconds,
            "--seed" => &mut out.seed,
            other => return Err(usage(&format!("unknown argument `{other}`"))),
        };
        let Some(value) = it.next() else {
            return Err(usage(&format!("`{flag}` needs a value")));
        };
        *slot = value
            .parse()
            .map_err(|_| usage(&format!("`{flag}` takes a number, got `{value}`")))?;
    }
    if out.seconds == 0 {
        return Err(usage("`--seconds` must be positive"));
    }
    Ok(out)
}

/// `cargo xtask diff [--seconds N] [--seed S]`.
pub(crate) fn run(args: &[String]) -> Result<(), Error> {
    let args = parse_args(args)?;
    let mut cmd = cargo_command([
        "test",
        "--release",
        "-p",
        "ebpf-kernel",
        "--test",
        "verifier_differential",
        "--",
        "--nocapture",
    ]);
    cmd.env("EBPF_DIFF_SECONDS", args.seconds.to_string())
        .env("EBPF_DIFF_SEED", args.seed.to_string())
        .env("EBPF_KERNEL_REQUIRED", "1")
        .env_remove("EBPF_DIFF_PROGRAMS");
    println!("xtask diff: {}", describe(&cmd));
    run_streaming(&mut cmd)
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
            parse_args(&[]).ok(),
            Some(DiffArgs {
                seconds: 60,
                seed: 0
            })
        );
        assert_eq!(
            parse_args(&strings(&["--seed", "7", "--seconds", "120"])).ok(),
            Some(DiffArgs {
                seconds: 120,
                seed: 7
            })
        );
        for bad in [
            &["--seconds"][..],
            &["--seconds", "0"],
            &["--seconds", "x"],
            &["--seed", "-1"],
            &["60"],
        ] {
            assert!(
                matches!(parse_args(&strings(bad)), Err(Error::Usage { .. })),
                "{bad:?}"
            );
        }
    }
}
