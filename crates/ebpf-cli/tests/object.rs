//! `ebpf object`, `ebpf disasm` and `ebpf run` on the loader's committed
//! ELF fixtures (`crates/ebpf-loader/fixtures/build/*.o`): one snapshot of
//! `object` and one of `disasm` per fixture, and runs of a context-free
//! program with its maps and globals.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-loader/fixtures/build")
}

/// Every fixture object, sorted.
fn fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("loader fixtures exist")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no loader fixtures");
    out
}

fn ebpf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf"))
        .args(args)
        .output()
        .expect("runs ebpf")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|f| f.to_str()).expect("file name")
}

#[test]
fn object_snapshots() {
    for path in fixtures() {
        let out = ebpf(&["object", path_str(&path)]);
        assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
        insta::assert_snapshot!(format!("object_{}", file_name(&path)), stdout(&out));
    }
}

#[test]
fn disasm_snapshots() {
    for path in fixtures() {
        let out = ebpf(&["disasm", path_str(&path)]);
        assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
        insta::assert_snapshot!(format!("disasm_{}", file_name(&path)), stdout(&out));
    }
}

#[test]
fn disasm_one_program_is_its_section_of_the_full_listing() {
    let path = fixture_dir().join("globals.v3.o");
    let all = stdout(&ebpf(&["disasm", path_str(&path)]));
    let one = ebpf(&["disasm", path_str(&path), "--program", "tc_loop"]);
    assert!(one.status.success(), "{}", stderr(&one));
    let section = all
        .split("\n\n")
        .find(|s| s.starts_with("tc_loop "))
        .expect("tc_loop listed");
    let body = section.split_once('\n').expect("header line").1;
    assert_eq!(stdout(&one).trim_end(), body.trim_end());
}

#[test]
fn run_uses_the_objects_maps_and_globals() {
    // tc_compute mixes the .data `seed` for .rodata `rounds` steps: the
    // result is only right if both were initialised from the object.
    // A tc program gets a packet (and its __sk_buff context): at least an
    // Ethernet header, as for the kernel's test run.
    let path = fixture_dir().join("compute.v3.o");
    let packet = "00".repeat(14);
    let out = ebpf(&[
        "run",
        path_str(&path),
        "--program",
        "tc_compute",
        "--mem",
        &packet,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = compute_once();
    assert_eq!(stdout(&out), format!("Return value: {expected}\n"));
    // The only program is the default.
    let out = ebpf(&["run", path_str(&path), "--mem", &packet]);
    assert_eq!(stdout(&out), format!("Return value: {expected}\n"));
}

/// `tc_compute` of `fixtures/compute.c` on fresh state, in Rust.
fn compute_once() -> u64 {
    let mut x: u64 = 0x0123_4567_89ab_cdef;
    for i in 0..11u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(i);
    }
    // acc[x & 3] starts at 0: *v = x, then x ^= *v >> 3.
    x ^= x >> 3;
    (x ^ (x >> 32)) & 0x7fff_ffff
}

#[test]
fn object_errors() {
    let path = fixture_dir().join("globals.v3.o");
    let out = ebpf(&["run", path_str(&path)]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "ebpf: error: {}: the object has 2 programs (tc_sum, tc_loop): choose one with --program",
            path.display()
        )
    );
    let out = ebpf(&["disasm", path_str(&path), "--program", "nope"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "ebpf: error: {}: no program named `nope` (programs: tc_sum, tc_loop)",
            path.display()
        )
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("object");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let bad = dir.join("truncated.o");
    let bytes = std::fs::read(&path).expect("read fixture");
    std::fs::write(&bad, &bytes[..100]).expect("write");
    let out = ebpf(&["object", path_str(&bad)]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with(&format!("ebpf: error: {}: ", bad.display())),
        "{}",
        stderr(&out)
    );
}

/// `disasm --linum` on two fixtures built with `-g`. Reviewed against
/// `llvm-objdump-19 -S` of the same objects: each `;` line is the source
/// line of the record starting at that slot, and the subprogram appended
/// after the entry keeps its own lines (compute's `mix` at slot 40).
#[test]
fn disasm_linum_snapshots() {
    for name in ["compute.v3.o", "xdp_parser.v3.o"] {
        let path = fixture_dir().join(name);
        let out = ebpf(&["disasm", path_str(&path), "--linum"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(format!("disasm_linum_{name}"), stdout(&out));
    }
    // One program: the same lines, without the header.
    let path = fixture_dir().join("compute.v3.o");
    let all = stdout(&ebpf(&["disasm", path_str(&path), "--linum"]));
    let one = ebpf(&[
        "disasm",
        path_str(&path),
        "--program",
        "tc_compute",
        "--linum",
    ]);
    assert!(one.status.success(), "{}", stderr(&one));
    assert_eq!(all.split_once('\n').expect("header").1, stdout(&one));
    assert!(stdout(&one).starts_with(
        "; __u64 x = seed; [file:./compute.c line_num:29 line_col:12]\n 0: (18) r1 = "
    ));
}

#[test]
fn disasm_linum_errors() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("linum");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let asm = dir.join("p.s");
    std::fs::write(&asm, "r0 = 0\nexit\n").expect("write");
    let out = ebpf(&["disasm", path_str(&asm), "--linum"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "ebpf: error: {}: --linum needs an ELF object (line info comes from .BTF.ext)",
            asm.display()
        )
    );
    let obj = fixture_dir().join("compute.v3.o");
    let out = ebpf(&["disasm", path_str(&obj), "--linum", "--syntax", "ubpf"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim_end(),
        "ebpf: error: --linum needs --syntax kernel"
    );
}

#[test]
fn run_refuses_unapplied_core_relocations() {
    let path = fixture_dir().join("core.v3.o");
    let out = ebpf(&["run", path_str(&path), "--mem", "00000000"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "program `core_len` has 2 CO-RE relocation(s), which the loader does not apply yet"
        ),
        "{}",
        stderr(&out)
    );
    // Listing and disassembling still work, and say what is missing.
    let out = ebpf(&["object", path_str(&path)]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("CO-RE relocations: 2 present but not applied"));
    assert!(ebpf(&["disasm", path_str(&path)]).status.success());
}
