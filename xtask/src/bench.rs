//! `cargo xtask bench [ARGS]`: the interpreter's speed on every fixture, as
//! one table from one process (`ebpf-benches`' `bench_table` binary, built
//! with `--release`). ARGS go to that binary (`--help` lists them).

use crate::error::Error;
use crate::process::{cargo_command, run_streaming};

/// Run the command.
pub(crate) fn run(args: &[String]) -> Result<(), Error> {
    let mut cmd = cargo_command([
        "run",
        "--quiet",
        "--release",
        "--package",
        "ebpf-benches",
        "--bin",
        "bench_table",
        "--",
    ]);
    cmd.args(args);
    run_streaming(&mut cmd)
}
