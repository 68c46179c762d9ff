//! `cargo xtask bench [ARGS]`: the engines' speed on every fixture, as one
//! table from one process (`ebpf-benches`' `bench_table` binary, built with
//! `--release`; ARGS go to it, `--help` lists them), then the verifier's
//! time on every loader-fixture program next to the kernel's own
//! `verification time` for it (`loader_agreement`'s timing, release build;
//! a SKIP line when the kernel cannot be asked).

use crate::error::Error;
use crate::process::{cargo_command, describe, run_streaming};

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
    run_streaming(&mut cmd)?;
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(());
    }
    verifier_fixture_table()
}

/// The verifier against the kernel on each loader-fixture program.
fn verifier_fixture_table() -> Result<(), Error> {
    let mut cmd = cargo_command([
        "test",
        "--quiet",
        "--release",
        "--package",
        "ebpf-kernel",
        "--test",
        "loader_agreement",
        "our_verifier_accepts_what_the_kernel_accepts",
        "--",
        "--nocapture",
        "--test-threads=1",
    ]);
    // The test notes on stderr.
    let command = describe(&cmd);
    let output = cmd.output().map_err(|source| Error::Spawn {
        command: command.clone(),
        source,
    })?;
    if !output.status.success() {
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        return Err(Error::Command {
            command,
            status: output.status,
        });
    }
    let out = String::from_utf8_lossy(&output.stderr);
    println!();
    println!(
        "Verifier on the loader fixtures (no log, median of 7) against the kernel's `verification \
         time` (BPF_LOG_STATS)"
    );
    println!();
    println!(
        "| program | processed | kernel (us) | ours (us) | ours/kernel | ours per insn (us) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut rows = 0;
    for line in out.lines() {
        if let Some(summary) = line.strip_prefix("verifier timing: ours within") {
            println!();
            println!("Ours within{summary}");
            continue;
        }
        let Some(row) = line.strip_prefix("verifier timing: ") else {
            if line.starts_with("SKIP") {
                println!("{line}");
            }
            continue;
        };
        if let Some(cells) = timing_cells(row) {
            println!("| {} |", cells.join(" | "));
            rows += 1;
        }
    }
    if rows == 0 {
        println!("(no timing: the kernel could not be asked; see the SKIP line above)");
    }
    Ok(())
}

/// `file prog N insns: kernel K us, ours O us (R x, P us/insn)` as cells.
fn timing_cells(row: &str) -> Option<Vec<String>> {
    let (head, rest) = row.split_once(" insns: kernel ")?;
    let mut head = head.split_whitespace();
    let (file, prog, insns) = (head.next()?, head.next()?, head.next()?);
    let (kernel, rest) = rest.split_once(" us, ours ")?;
    let (ours, rest) = rest.split_once(" us (")?;
    let (ratio, rest) = rest.split_once("x, ")?;
    let per = rest.split_once(" us/insn")?.0;
    Some(vec![
        format!("{file} {prog}"),
        insns.to_owned(),
        kernel.trim().to_owned(),
        ours.trim().to_owned(),
        ratio.trim().to_owned(),
        per.trim().to_owned(),
    ])
}

#[cfg(test)]
mod tests {
    use super::timing_cells;

    #[test]
    fn timing_lines_become_rows() {
        let row = "compute.v3.o tc_compute          698 insns: kernel   462 us, ours     77.8 us \
                   (0.17x, 0.111 us/insn)";
        assert_eq!(
            timing_cells(row).expect("parses"),
            [
                "compute.v3.o tc_compute",
                "698",
                "462",
                "77.8",
                "0.17",
                "0.111"
            ]
        );
        assert_eq!(timing_cells("something else"), None);
    }
}
