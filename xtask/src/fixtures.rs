//! `cargo xtask fixtures`: compile the shared benchmark programs into the
//! committed fixtures of `benches/fixtures/`, so benchmarks need no clang.
//!
//! For every `X.c` in `../shared/bench-programs` (with the `UBPF` entry:
//! `r1` = input, `r2` = its length):
//!
//! 1. `clang-19 -O2 -g0 -target bpf -mcpu=v3 -DENTRY_UBPF -I<dir> -c X.c`;
//! 2. the `.text` section of the object, checked to carry no relocations
//!    (calls between `static` functions resolve without them), written as
//!    flat bytecode to `X.bin`;
//! 3. the 2048-byte input from `gen_inputs.py`, written to `X.input`;
//!
//! 4. the same program with the XDP entry (`-DENTRY_XDP`: `r1` = `struct
//!    xdp_md`), for the kernel's `BPF_PROG_TEST_RUN`, written to `X.xdp.bin`;
//! 5. the C compiled natively for x86-64 (`-O2 -fPIC -DENTRY_NATIVE`: `u64
//!    bench_X(u8 *mem, u64 len)`), and again without vectorisation
//!    (`-fno-vectorize -fno-slp-vectorize`, symbol `novec_bench_X`), all in
//!    one static archive `native/libbench_native.a` (deterministic
//!    `llvm-ar-19 rcsD`), the reference the benchmark table compares the
//!    engines with;
//!
//! plus `expected.txt` (`name 0x<r0>` per line) from the README's table of
//! expected return values.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;
use crate::process::{describe, repo_root, run_capture};

/// The compiler, and how to get it.
const CLANG: &str = "clang-19";
const INSTALL_HINT: &str = "apt-get install clang-19 llvm-19";
/// The archiver for the native reference objects (from llvm-19).
const AR: &str = "llvm-ar-19";

/// Where the sources are, relative to the workspace root.
fn programs_dir() -> PathBuf {
    repo_root().join("../shared/bench-programs")
}

/// Where the fixtures go.
pub(crate) fn fixtures_dir() -> PathBuf {
    repo_root().join("benches/fixtures")
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(path: &Path, what: String) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, what),
    }
}

/// Run the command.
pub(crate) fn run() -> Result<(), Error> {
    let dir = programs_dir();
    if !dir.join("README.md").is_file() {
        return Err(Error::MissingTool {
            message: format!(
                "{}: benchmark sources not found (expected ../shared/bench-programs next to the workspace)",
                dir.display()
            ),
        });
    }
    check_clang()?;
    let out = fixtures_dir();
    fs::create_dir_all(&out).map_err(io_err(&out))?;

    let expected = expected_results(&dir.join("README.md"))?;
    let tmp = std::env::temp_dir().join(format!("ebpf-fixtures-{}", std::process::id()));
    fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let result = build_all(&dir, &tmp, &out, &expected);
    // Best effort: a leftover temp dir is harmless.
    let _ = fs::remove_dir_all(&tmp);
    result?;

    let text: String = expected
        .iter()
        .map(|(name, v)| format!("{name} {v:#x}\n"))
        .collect();
    let path = out.join("expected.txt");
    fs::write(&path, text).map_err(io_err(&path))?;
    println!(
        "fixtures: {} programs written to {}",
        expected.len(),
        out.display()
    );
    Ok(())
}

/// Compile `src` with `flags` to `obj`.
fn compile(dir: &Path, src: &Path, obj: &Path, flags: &[&str]) -> Result<(), Error> {
    let mut cc = Command::new(CLANG);
    cc.args(flags)
        .arg(format!("-I{}", dir.display()))
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(obj);
    run_capture(&mut cc).map(|_| ())
}

/// Compile `src` for BPF with the entry `entry` and write its `.text` to
/// `bin`; returns the number of instructions.
fn bpf_text(dir: &Path, src: &Path, obj: &Path, entry: &str, bin: &Path) -> Result<usize, Error> {
    compile(
        dir,
        src,
        obj,
        &["-O2", "-g0", "-target", "bpf", "-mcpu=v3", entry],
    )?;
    let elf = fs::read(obj).map_err(io_err(obj))?;
    let text = text_section(&elf).map_err(|what| invalid(obj, what))?;
    fs::write(bin, &text).map_err(io_err(bin))?;
    Ok(text.len() / 8)
}

fn build_all(dir: &Path, tmp: &Path, out: &Path, expected: &[(String, u64)]) -> Result<(), Error> {
    let inputs = tmp.join("inputs");
    let mut gen_cmd = Command::new("python3");
    gen_cmd.arg(dir.join("gen_inputs.py")).arg(&inputs);
    run_capture(&mut gen_cmd)?;
    let mut native_objs = Vec::new();
    for (name, _) in expected {
        let src = dir.join(format!("{name}.c"));
        let insns = bpf_text(
            dir,
            &src,
            &tmp.join(format!("{name}.o")),
            "-DENTRY_UBPF",
            &out.join(format!("{name}.bin")),
        )?;
        bpf_text(
            dir,
            &src,
            &tmp.join(format!("{name}.xdp.o")),
            "-DENTRY_XDP",
            &out.join(format!("{name}.xdp.bin")),
        )?;
        for (suffix, extra) in [
            ("native", &[][..]),
            (
                "novec",
                &[
                    "-fno-vectorize",
                    "-fno-slp-vectorize",
                    "-DNATIVE_PREFIX=novec_",
                ][..],
            ),
        ] {
            let obj = tmp.join(format!("{name}.{suffix}.o"));
            let mut flags = vec!["-O2", "-fPIC", "-DENTRY_NATIVE"];
            flags.extend_from_slice(extra);
            compile(dir, &src, &obj, &flags)?;
            native_objs.push(obj);
        }
        let input_src = inputs.join(format!("{name}.bin"));
        let input = fs::read(&input_src).map_err(io_err(&input_src))?;
        let input_dst = out.join(format!("{name}.input"));
        fs::write(&input_dst, &input).map_err(io_err(&input_dst))?;
        println!(
            "fixtures: {name}: {insns} insns, {}-byte input",
            input.len()
        );
    }
    let native_dir = out.join("native");
    fs::create_dir_all(&native_dir).map_err(io_err(&native_dir))?;
    let archive = native_dir.join("libbench_native.a");
    // `rcs` appends to an existing archive: start from nothing.
    let _ = fs::remove_file(&archive);
    let mut ar = Command::new(AR);
    ar.arg("rcsD").arg(&archive).args(&native_objs);
    run_capture(&mut ar)?;
    println!(
        "fixtures: native reference: {} objects in {}",
        native_objs.len(),
        archive.display()
    );
    Ok(())
}

/// Fail with an install hint when clang-19 cannot run.
fn check_clang() -> Result<(), Error> {
    let mut cmd = Command::new(CLANG);
    cmd.arg("--version");
    match cmd.output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(Error::MissingTool {
            message: format!(
                "`{}` failed ({}); reinstall it: {INSTALL_HINT}",
                describe(&cmd),
                o.status
            ),
        }),
        Err(e) => Err(Error::MissingTool {
            message: format!(
                "{CLANG} is needed to build the fixtures ({e}); install it: {INSTALL_HINT}"
            ),
        }),
    }
}

/// The README's "Expected return values" table: `| name | 0x... |` rows.
fn expected_results(readme: &Path) -> Result<Vec<(String, u64)>, Error> {
    let text = fs::read_to_string(readme).map_err(io_err(readme))?;
    let rows = parse_expected(&text);
    if rows.is_empty() {
        return Err(invalid(
            readme,
            "no `| name | 0x... |` rows of expected results found".to_owned(),
        ));
    }
    Ok(rows)
}

/// Table rows whose second cell is a hex number.
fn parse_expected(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().strip_prefix('|')?.split('|').collect();
            let name = cells.first()?.trim();
            let hex = cells.get(1)?.trim().strip_prefix("0x")?;
            let v = u64::from_str_radix(hex, 16).ok()?;
            let plain =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            plain.then(|| (name.to_owned(), v))
        })
        .collect()
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

/// One section header (the fields we need).
struct Shdr {
    name: u32,
    kind: u32,
    off: usize,
    size: usize,
    info: u32,
}

/// The bytes of `.text` of a little-endian ELF64 object, after checking that
/// no relocation section applies to it.
fn text_section(elf: &[u8]) -> Result<Vec<u8>, String> {
    const SHT_RELA: u32 = 4;
    const SHT_REL: u32 = 9;
    if elf.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        return Err("not a little-endian ELF64 object".to_owned());
    }
    let bad = || "truncated ELF header or section table".to_owned();
    let shoff = usize::try_from(u64_at(elf, 0x28).ok_or_else(bad)?).map_err(|_| bad())?;
    let shentsize = usize::from(u16_at(elf, 0x3a).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(elf, 0x3c).ok_or_else(bad)?);
    let shstrndx = usize::from(u16_at(elf, 0x3e).ok_or_else(bad)?);
    let mut secs = Vec::with_capacity(shnum);
    for i in 0..shnum {
        let h = shoff
            .checked_add(i.checked_mul(shentsize).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        let size = |o| {
            u64_at(elf, h + o)
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(bad)
        };
        secs.push(Shdr {
            name: u32_at(elf, h).ok_or_else(bad)?,
            kind: u32_at(elf, h + 4).ok_or_else(bad)?,
            off: size(0x18)?,
            size: size(0x20)?,
            info: u32_at(elf, h + 0x2c).ok_or_else(bad)?,
        });
    }
    let strtab = secs.get(shstrndx).ok_or_else(bad)?;
    let name_of = |s: &Shdr| -> Option<&[u8]> {
        let start = strtab.off.checked_add(s.name as usize)?;
        let rest = elf.get(start..)?;
        rest.split(|&c| c == 0).next()
    };
    let (text_idx, text) = secs
        .iter()
        .enumerate()
        .find(|(_, s)| name_of(s) == Some(b".text"))
        .ok_or_else(|| "no .text section".to_owned())?;
    if let Some(rel) = secs
        .iter()
        .find(|s| matches!(s.kind, SHT_RELA | SHT_REL) && s.info as usize == text_idx && s.size > 0)
    {
        return Err(format!(
            ".text has relocations ({}); every callee must be static in .text",
            String::from_utf8_lossy(name_of(rel).unwrap_or(b"?"))
        ));
    }
    let bytes = elf
        .get(text.off..text.off.checked_add(text.size).ok_or_else(bad)?)
        .ok_or_else(bad)?;
    if bytes.is_empty() || bytes.len() % 8 != 0 {
        return Err(format!(
            ".text is {} bytes, not a whole number of instructions",
            bytes.len()
        ));
    }
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_table_rows() {
        let text = "| program | 64-bit result |\n|---|---|\n| empty | 0x0 |\n\
                    | sum | 0x23fb6a48b3c06c00 |\n| file | what |\n";
        assert_eq!(
            parse_expected(text),
            vec![
                ("empty".to_owned(), 0),
                ("sum".to_owned(), 0x23fb_6a48_b3c0_6c00)
            ]
        );
    }

    #[test]
    fn rejects_non_elf() {
        assert!(text_section(b"nope").is_err());
        assert!(text_section(&[0x7f, b'E', b'L', b'F', 2, 1, 0, 0]).is_err());
    }
}
