//! The `ebpf` binary end to end: `ebpf cfg`, `run` (both engines, contexts)
//! and `dump jited` on files, their output formats
//! and its errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Write `contents` to a file of the test's own under the target's
/// temporary directory.
fn file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write");
    path
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

/// A loop in the main program and a bpf-to-bpf call.
const LOOP_AND_CALL: &str = "\
        r6 = 0
        r7 = 0
loop:
        r1 = r7
        call square
        r6 += r0
        r7 += 1
        if r7 < 4 goto loop
        r0 = r6
        exit
square:
        r0 = r1
        r0 *= r1
        exit
";

#[test]
fn cfg_text() {
    let path = file("loop_and_call.s", LOOP_AND_CALL.as_bytes());
    let out = ebpf(&["cfg", path.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    insta::assert_snapshot!("cfg_text", stdout(&out));
}

#[test]
fn cfg_dot() {
    let path = file("loop_and_call_dot.s", LOOP_AND_CALL.as_bytes());
    let out = ebpf(&["cfg", path.to_str().expect("utf-8 path"), "--format", "dot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dot = stdout(&out);
    assert!(
        dot.starts_with("digraph cfg {\n") && dot.ends_with("}\n"),
        "{dot}"
    );
    insta::assert_snapshot!("cfg_dot", dot);
}

#[test]
fn cfg_of_raw_bytecode_is_the_same_graph() {
    let asm = file("loop_and_call_raw.s", LOOP_AND_CALL.as_bytes());
    let prog = ebpf_isa_bytes(&asm);
    let raw = file("loop_and_call.bin", &prog);
    let from_text = ebpf(&["cfg", asm.to_str().expect("utf-8")]);
    let from_raw = ebpf(&["cfg", raw.to_str().expect("utf-8")]);
    assert!(from_raw.status.success(), "{}", stderr(&from_raw));
    assert_eq!(stdout(&from_text), stdout(&from_raw));
}

/// Bytecode through `ebpf asm -o`.
fn ebpf_isa_bytes(asm: &std::path::Path) -> Vec<u8> {
    let out_path = asm.with_extension("asm-out.bin");
    let out = ebpf(&[
        "asm",
        asm.to_str().expect("utf-8"),
        "-o",
        out_path.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read(&out_path).expect("bytecode")
}

/// Run `ebpf cfg` on `src`, expecting failure; the error text with the
/// temporary path replaced by `PROG`.
fn cfg_error(name: &str, src: &str, extra: &[&str]) -> String {
    let path = file(name, src.as_bytes());
    let p = path.to_str().expect("utf-8");
    let mut args = vec!["cfg", p];
    args.extend_from_slice(extra);
    let out = ebpf(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(stdout(&out), "", "no graph on error");
    stderr(&out).replace(p, "PROG")
}

#[test]
fn cfg_errors_are_the_kernels_lines() {
    assert_eq!(
        cfg_error("out_of_range.s", "r0 = 0\nif r0 > 1 goto pc+7\nexit\n", &[]),
        "ebpf: error: PROG: jump out of range from insn 1 to 9\n  at insn 1: if r0 > 0x1 goto pc+7\n"
    );
    assert_eq!(
        cfg_error(
            "unreachable.s",
            "r0 = 0\nexit\nr0 = 1\nexit\n",
            &["--format", "dot"]
        ),
        "ebpf: error: PROG: unreachable insn 2\n  at insn 2: r0 = 1\n"
    );
    assert_eq!(
        cfg_error("no_exit.s", "call f\nexit\nf:\nr0 = 1\n", &[]),
        "ebpf: error: PROG: last insn is not an exit or jmp\n  at insn 2: r0 = 1\n"
    );
    assert_eq!(
        cfg_error("calls.s", LOOP_AND_CALL, &["--unprivileged"]),
        "ebpf: error: PROG: loading/calling other bpf or kernel functions are allowed for \
         CAP_BPF and CAP_SYS_ADMIN\n  at insn 3: call pc+5\n"
    );
    assert_eq!(
        cfg_error(
            "loop.s",
            "r0 = 0\nl:\nr0 += 1\nif r0 < 9 goto l\nexit\n",
            &["--unprivileged"]
        ),
        "ebpf: error: PROG: back-edge from insn 2 to 1\n  at insn 2: if r0 < 0x9 goto pc-2\n"
    );
}

#[test]
fn cfg_input_errors() {
    // Not assembly: the assembler's error, with line and column.
    let err = cfg_error("bad.s", "r0 = 0\nr0 +=\nexit\n", &[]);
    assert!(err.starts_with("ebpf: error: PROG:2:"), "{err}");
    // A missing file.
    let out = ebpf(&["cfg", "/nonexistent/prog.s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("ebpf: error: /nonexistent/prog.s: "));
    // An unknown format is a usage error.
    let path = file("ok.s", b"r0 = 0\nexit\n");
    let out = ebpf(&["cfg", path.to_str().expect("utf-8"), "--format", "svg"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `docs/cfg-example.dot` (rendered to `docs/cfg-example.svg`) is what
/// `ebpf cfg --format dot` prints for `examples/cfg-demo.s`: regenerate
/// both when either changes.
#[test]
fn docs_example_is_current() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = ebpf(&[
        "cfg",
        &format!("{root}/examples/cfg-demo.s"),
        "--format",
        "dot",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let committed = std::fs::read_to_string(format!("{root}/docs/cfg-example.dot"))
        .expect("docs/cfg-example.dot");
    assert_eq!(
        stdout(&out),
        committed,
        "regenerate: ebpf cfg examples/cfg-demo.s --format dot > docs/cfg-example.dot \
         && dot -Tsvg docs/cfg-example.dot -o docs/cfg-example.svg"
    );
    let svg = std::fs::read_to_string(format!("{root}/docs/cfg-example.svg"))
        .expect("docs/cfg-example.svg");
    assert!(
        svg.contains("<svg") && svg.contains("header of loop0"),
        "stale svg"
    );
}

#[test]
fn both_engines_give_the_same_result() {
    let fnv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fnv1a.s");
    let fnv = fnv.to_str().expect("utf-8 path");
    let mut outs = Vec::new();
    for engine in ["interp", "jit"] {
        let out = ebpf(&["run", fnv, "--mem", "68656c6c6f", "--engine", engine]);
        assert!(out.status.success(), "{engine}: {}", stderr(&out));
        outs.push(stdout(&out));
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], "Return value: 11831194018420276491\n");
    // A trap is the same trap in both.
    let bad = file("oob.s", b"r0 = *(u64 *)(r1 +64)\nexit\n");
    let bad = bad.to_str().expect("utf-8 path");
    let errs: Vec<String> = ["interp", "jit"]
        .iter()
        .map(|e| stderr(&ebpf(&["run", bad, "--mem", "00", "--engine", e])))
        .collect();
    assert!(errs[0].contains("program trapped"), "{}", errs[0]);
    assert_eq!(errs[0], errs[1]);
}

#[test]
fn xdp_and_socket_programs_get_a_kernel_style_context() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-loader/fixtures/build");
    // Ethernet + IPv4 (protocol TCP), 64 bytes.
    let mut pkt = vec![0u8; 64];
    pkt[12] = 0x08;
    pkt[14] = 0x45;
    pkt[23] = 6;
    let pkt_path = file("ipv4.bin", &pkt);
    let pkt_path = pkt_path.to_str().expect("utf-8 path");
    for engine in ["interp", "jit"] {
        // xdp_count parses the packet through ctx->data/data_end: XDP_PASS.
        let xdp = dir.join("xdp_parser.v3.o");
        let out = ebpf(&[
            "run",
            xdp.to_str().expect("path"),
            "--data-in",
            pkt_path,
            "--engine",
            engine,
        ]);
        assert_eq!(
            stdout(&out),
            "Return value: 2\n",
            "{engine}: {}",
            stderr(&out)
        );
        // keep_long reads skb->len: 50 (the Ethernet header is pulled) <= 64.
        let sock = dir.join("socket_filter.v3.o");
        let out = ebpf(&["run", sock.to_str().expect("path"), "--data-in", pkt_path]);
        assert_eq!(stdout(&out), "Return value: 0\n", "{}", stderr(&out));
    }
    // Too short for an Ethernet header: refused before running.
    let short = file("short.bin", &[0u8; 4]);
    let xdp = dir.join("xdp_parser.v3.o");
    let out = ebpf(&[
        "run",
        xdp.to_str().expect("path"),
        "--data-in",
        short.to_str().expect("path"),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("packet"), "{}", stderr(&out));
}

#[test]
fn dump_jited_interleaves_bpf_and_x86() {
    let fnv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fnv1a.s");
    let out = ebpf(&["dump", "jited", fnv.to_str().expect("path"), "--trusted"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("; 9: r0 *= r3\n"), "{text}");
    assert!(text.contains("imul    rax,rdx"), "{text}");
    // Hardened code checks the region table on loads: more code.
    let hardened = stdout(&ebpf(&["dump", "jited", fnv.to_str().expect("path")]));
    assert!(hardened.lines().count() > text.lines().count());
    assert!(hardened.contains("cmp     r10,[r12+8]"), "{hardened}");
}

#[test]
fn verify_gives_the_kernels_verdict() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-verifier/tests/corpus");
    let ok = corpus.join("xdp_pkt_checked.s");
    let out = ebpf(&["verify", ok.to_str().expect("path"), "--type", "xdp"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("accepted: processed 10 insns"),
        "{}",
        stdout(&out)
    );
    let bad = corpus.join("xdp_pkt_checked_oob.s");
    let out = ebpf(&["verify", bad.to_str().expect("path"), "--type", "xdp"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "rejected: EBPF-V304 EACCES R2 offset is outside of the packet (insn 6)\n  hint: prove \
         the packet is long enough: add `if (data + 15 > data_end) return ...;` before this \
         access (the checks so far prove 14 bytes, this access needs 15)\n"
    );
    assert_eq!(stderr(&out), "");
    // Level 1: the path to the verdict, as the kernel prints it (checked
    // against Linux 6.18's level-1 log of this program).
    let out = ebpf(&[
        "verify",
        bad.to_str().expect("path"),
        "--type",
        "xdp",
        "--log-level",
        "1",
        "--stats",
    ]);
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "0: R1=ctx() R10=fp0\n0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2=pkt(r=0)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14)\n\
             R2 offset is outside of the packet\nverification time "
        ),
        "{text}"
    );
    assert!(text.contains("\nstack depth 0\nprocessed "), "{text}");
    let out = ebpf(&[
        "verify",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ebpf-loader/fixtures/build/compute.v3.o")
            .to_str()
            .expect("path"),
        "--program",
        "tc_compute",
        "--stats",
        "--json",
    ]);
    let text = stdout(&out);
    assert!(
        text.starts_with("{\"verdict\":\"accepted\",\"code\":null,"),
        "{text}"
    );
    // Whole 8-byte slots, as the kernel reports a 4-byte store.
    assert!(text.contains(",\"stack_depth\":\"8+0\"}"), "{text}");
    assert!(text.contains(",\"verification_time_usec\":"), "{text}");
    // Unprivileged: the same packet program is not even loadable as XDP;
    // a socket filter returning a pointer leaks it.
    let out = ebpf(&[
        "verify",
        ok.to_str().expect("path"),
        "--type",
        "xdp",
        "--unprivileged",
    ]);
    assert!(stdout(&out).starts_with("rejected: "), "{}", stdout(&out));
    assert!(stdout(&out).contains("EPERM"), "{}", stdout(&out));
    let leak = corpus.join("ret_ptr.s");
    let out = ebpf(&["verify", leak.to_str().expect("path"), "--unprivileged"]);
    assert!(
        stdout(&out).contains("EACCES R0 leaks addr as return value"),
        "{}",
        stdout(&out)
    );
    let out = ebpf(&["verify", leak.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stdout(&out));
    // Any function is an entry point: `mix` is a static `.text` function.
    let compute =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-loader/fixtures/build/compute.v3.o");
    let out = ebpf(&[
        "verify",
        compute.to_str().expect("path"),
        "--program",
        "mix",
        "--type",
        "socket_filter",
    ]);
    assert!(
        stdout(&out).starts_with("rejected: EBPF-V201 EACCES R3 pointer arithmetic with <<="),
        "{}",
        stdout(&out)
    );
    let out = ebpf(&[
        "verify",
        bad.to_str().expect("path"),
        "--type",
        "xdp",
        "--json",
    ]);
    assert!(
        stdout(&out).starts_with(
            "{\"verdict\":\"rejected\",\"code\":\"EBPF-V304\",\"errno\":\"EACCES\",\"message\":\"R2 offset is outside of the packet\",\"insn\":6,"
        ),
        "{}",
        stdout(&out)
    );
    // An object program: type, license and maps come from the object.
    let obj =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-loader/fixtures/build/map_types.v3.o");
    let out = ebpf(&[
        "verify",
        obj.to_str().expect("path"),
        "--program",
        "socket_inner",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    let out = ebpf(&["verify", ok.to_str().expect("path"), "--type", "nope"]);
    assert!(
        stderr(&out).contains("unknown program type `nope`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_verifies_an_object_program_first() {
    let obj = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ebpf-verifier/tests/objects/build/tc_edit.v3.o");
    let obj = obj.to_str().expect("path");
    let packet = "ffffffffffff 000102030405 0800 4500001c000000004011";
    // No data_end check: the kernel (and we) refuse it.
    let out = ebpf(&["run", obj, "--program", "tc_unchecked", "--mem", packet]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "the verifier refuses it: EBPF-V304 EACCES R1 offset is outside of the packet (insn 1)"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
    // Memory-checked engines run it anyway when asked.
    let out = ebpf(&[
        "run",
        obj,
        "--program",
        "tc_unchecked",
        "--no-verify",
        "--mem",
        packet,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Return value: 0\n");
    // A verified program runs.
    let parser =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-loader/fixtures/build/xdp_parser.v3.o");
    let udp = "ffffffffffff 000102030405 0800 4500001c000000004011 0000 0a000001 0a000002 \
               1234 0035 0008 0000";
    let out = ebpf(&["run", parser.to_str().expect("path"), "--mem", udp]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Return value: 2\n");
}
