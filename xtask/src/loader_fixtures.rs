//! `cargo xtask fixtures` (loader part): compile the ELF fixtures of
//! `ebpf-loader`, and `ebpf-verifier`'s real-world-style objects
//! (`crates/ebpf-verifier/tests/objects/*.c`, `-mcpu=v3` only, against the
//! system's `<linux/bpf.h>`), from their C sources.
//!
//! Every `crates/ebpf-loader/fixtures/*.c` is compiled with
//! `clang-19 -O2 -g -target bpf -mcpu=<cpu> -c` for `v2`, `v3` and `v4`
//! into `crates/ebpf-loader/fixtures/build/<name>.<cpu>.o`. The build
//! directory is passed to `-fdebug-prefix-map` so the objects do not depend
//! on where the repository is checked out. The outputs are committed; the
//! loader's snapshot tests read them, so rebuilding with another clang shows
//! up as a snapshot diff to review.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;

/// The compiler, pinned so fixtures are reproducible.
const CLANG: &str = "clang-19";
/// The ISA versions each source is built for.
const CPUS: [&str; 3] = ["v2", "v3", "v4"];

/// The C sources in `dir`, sorted.
fn sources(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "c") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Compile every fixture of `ebpf-loader` under the workspace `root`, then
/// `ebpf-verifier`'s real-world-style objects.
pub(crate) fn build(root: &Path) -> Result<(), Error> {
    build_dir(
        &root.join("crates/ebpf-loader/fixtures"),
        &CPUS,
        &[],
        "ebpf-loader",
    )?;
    // These include the system's <linux/bpf.h> (linux-libc-dev), whose
    // <asm/types.h> lives in the multiarch directory.
    build_dir(
        &root.join("crates/ebpf-verifier/tests/objects"),
        &["v3"],
        &["-I/usr/include/x86_64-linux-gnu"],
        "ebpf-verifier",
    )
}

/// Compile every `*.c` of `dir` into `dir/build/<name>.<cpu>.o` for each
/// of `cpus`, with `extra` flags.
fn build_dir(dir: &Path, cpus: &[&str], extra: &[&str], what: &str) -> Result<(), Error> {
    let dir = dir.to_path_buf();
    let build = dir.join("build");
    std::fs::create_dir_all(&build).map_err(|source| Error::Io {
        path: build.clone(),
        source,
    })?;
    let prefix_map = format!("-fdebug-prefix-map={}=.", dir.display());
    let mut count = 0usize;
    for src in sources(&dir)? {
        let Some(stem) = src.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Some(file) = src.file_name() else {
            continue;
        };
        for cpu in cpus {
            let out = PathBuf::from("build").join(format!("{stem}.{cpu}.o"));
            let mut cmd = Command::new(CLANG);
            cmd.current_dir(&dir)
                .args(["-O2", "-g", "-target", "bpf"])
                .arg(format!("-mcpu={cpu}"))
                .args(extra)
                .arg(&prefix_map)
                .arg("-c")
                .arg(file)
                .arg("-o")
                .arg(&out);
            match crate::process::run_streaming(&mut cmd) {
                Err(Error::Spawn { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    return Err(Error::MissingTool {
                        message: format!(
                            "{CLANG} not found: install it (apt-get install clang-19) \
                             to rebuild the {what} fixtures"
                        ),
                    });
                }
                other => other?,
            }
            count = count.saturating_add(1);
        }
    }
    println!(
        "fixtures: built {count} {what} object(s) in {}",
        build.display()
    );
    Ok(())
}
