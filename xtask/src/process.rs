//! Running child processes with inherited stdio, and the paths xtask works on.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use crate::error::Error;

/// The workspace root (the parent of `xtask/`).
pub(crate) fn repo_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), PathBuf::from)
}

/// The cargo that runs us (`$CARGO`, set by `cargo run`), so every step uses
/// the toolchain pinned in `rust-toolchain.toml`; plain `cargo` otherwise.
pub(crate) fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// A `cargo` command in the workspace root.
pub(crate) fn cargo_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(cargo());
    cmd.args(args).current_dir(repo_root());
    cmd
}

/// The command line of `cmd` for messages: program and arguments, with any
/// environment variables set on it first (`RUSTDOCFLAGS=-D warnings cargo doc`).
pub(crate) fn describe(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter_map(|(key, value)| {
            value.map(|v| format!("{}={}", key.to_string_lossy(), v.to_string_lossy()))
        })
        .collect();
    let program = PathBuf::from(cmd.get_program());
    // `$CARGO` is an absolute toolchain path; the file name reads better.
    parts.push(program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    ));
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Run `cmd` with inherited stdio (its output streams straight to ours) and
/// fail unless it exits with status 0.
pub(crate) fn run_streaming(cmd: &mut Command) -> Result<(), Error> {
    let command = describe(cmd);
    let status = cmd.status().map_err(|source| Error::Spawn {
        command: command.clone(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Command { command, status })
    }
}

/// Run `cmd` and capture its stdout (stderr streams through); fail unless it
/// exits with status 0.
pub(crate) fn run_capture(cmd: &mut Command) -> Result<String, Error> {
    let command = describe(cmd);
    let output = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Error::Command {
            command,
            status: output.status,
        })
    }
}
