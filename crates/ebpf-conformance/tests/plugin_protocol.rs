//! The `bpf_conformance_plugin` binary driven exactly as the upstream C++
//! runner drives it (bpf_conformance FORMAT.md a.5 and a.6): one process per
//! test, the memory as one argv element, the program as hex text on stdin,
//! and the answer judged from the exit code, stdout and stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ebpf_conformance::run::{EngineResult, Verdict, judge};
use ebpf_conformance::{Loaded, load};
use ebpf_isa::RawInsn;

const PLUGIN: &str = env!("CARGO_BIN_EXE_bpf_conformance_plugin");

fn suite() -> Option<PathBuf> {
    let dir =
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")).join("bpf_conformance");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("SKIP: {} not present", dir.display());
        None
    }
}

/// The runner's hex text: each byte as two lowercase hex digits followed by
/// two spaces.
fn runner_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}  ")).collect()
}

fn program_bytes(program: &[RawInsn]) -> Vec<u8> {
    program.iter().flat_map(|s| s.to_bytes()).collect()
}

/// What the plugin process did.
#[derive(Debug)]
struct Reply {
    /// Exit code; `None` when it died from a signal.
    code: Option<i32>,
    /// Stdout with one trailing `\n` stripped.
    stdout: String,
    /// Stderr with one trailing `\n` stripped.
    stderr: String,
}

/// Run the plugin as the runner does: `PLUGIN [<memory-hex>] [options...]`,
/// the program's hex text, one `\n` and EOF on stdin.
fn invoke(mem: &[u8], options: &[&str], program: &[u8]) -> Reply {
    let mut cmd = Command::new(PLUGIN);
    if !mem.is_empty() {
        cmd.arg(runner_hex(mem));
    }
    cmd.args(options)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning the plugin");
    {
        let mut stdin = child.stdin.take().expect("plugin stdin");
        let text = format!("{}\n", runner_hex(program));
        // A plugin that refuses its options may exit before reading stdin
        // (a broken pipe here); its reply is what the test judges.
        let _ = stdin.write_all(text.as_bytes());
        // Dropping stdin closes it: EOF.
    }
    let out = child.wait_with_output().expect("waiting for the plugin");
    let strip = |bytes: Vec<u8>| {
        let mut s = String::from_utf8_lossy(&bytes).into_owned();
        if s.ends_with('\n') {
            s.pop();
        }
        s
    };
    Reply {
        code: out.status.code(),
        stdout: strip(out.stdout),
        stderr: strip(out.stderr),
    }
}

/// `strtoull(text, NULL, 16)` as the runner uses it: leading whitespace,
/// an optional sign, an optional `0x`, hex digits, the rest ignored. `None`
/// when there are no digits or the value needs more than 64 bits.
fn strtoull_hex(text: &str) -> Option<u64> {
    let s = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    // `0x` is a prefix only when a hex digit follows; otherwise the `0` is
    // the number.
    let s = match s.get(..2) {
        Some("0x" | "0X") if s[2..].starts_with(|c: char| c.is_ascii_hexdigit()) => &s[2..],
        _ => s,
    };
    let digits = s.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(s.len());
    if digits == 0 {
        return None;
    }
    let value = u64::from_str_radix(&s[..digits], 16).ok()?;
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// Judge a reply as the runner does (FORMAT.md a.5, step 2).
fn judge_reply(expected: u64, expected_error: Option<&str>, reply: &Reply) -> Verdict {
    if reply.code == Some(0) {
        match strtoull_hex(&reply.stdout) {
            Some(v) => judge(expected, expected_error, &Ok(v)),
            None => Verdict::Error {
                message: format!("Plugin output `{}` could not be parsed", reply.stdout),
            },
        }
    } else {
        let message = if reply.stdout.is_empty() {
            &reply.stderr
        } else {
            &reply.stdout
        };
        let answer: EngineResult = Err(message.clone());
        match judge(expected, expected_error, &answer) {
            Verdict::Error { message } => Verdict::Error {
                message: format!(
                    "Plugin returned error code {:?} and output {message}",
                    reply.code
                ),
            },
            other => other,
        }
    }
}

#[test]
fn strtoull_reads_like_c() {
    assert_eq!(strtoull_hex("0x1f"), Some(0x1f));
    assert_eq!(strtoull_hex("  1F trailing"), Some(0x1f));
    assert_eq!(strtoull_hex("0xzz"), Some(0));
    assert_eq!(strtoull_hex("-1"), Some(u64::MAX));
    assert_eq!(strtoull_hex("ffffffffffffffff"), Some(u64::MAX));
    assert_eq!(strtoull_hex("10000000000000000"), None);
    assert_eq!(strtoull_hex(""), None);
    assert_eq!(strtoull_hex("x1"), None);
}

/// Every suite file through the plugin binary with `options`.
fn suite_through_plugin(options: &[&str]) {
    let Some(dir) = suite() else { return };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("tests"))
        .expect("reading tests/")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    paths.sort();
    let mut passed = 0;
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("reading a test");
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let (file, program) = match load(&text) {
            Ok(Loaded::Test { file, program }) => (file, program),
            other => panic!("{name:?}: {other:?}"),
        };
        let reply = invoke(&file.mem, options, &program_bytes(&program));
        match judge_reply(file.expected(), file.error.as_deref(), &reply) {
            Verdict::Pass => passed += 1,
            verdict => failures.push(format!("{name:?}: {verdict:?} ({reply:?})")),
        }
    }
    println!(
        "plugin {options:?}: passed {passed} out of {} tests",
        paths.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!((passed, paths.len()), (313, 313));
}

#[test]
fn every_suite_test_passes_through_the_plugin() {
    suite_through_plugin(&[]);
}

#[test]
fn every_suite_test_passes_through_the_plugin_jit() {
    suite_through_plugin(&["--jit"]);
}

#[test]
fn an_unknown_opcode_exits_non_zero_with_a_message() {
    // 0xff is no opcode; then `exit`.
    let program = [
        0xff, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0, //
    ];
    let reply = invoke(&[], &[], &program);
    assert_ne!(reply.code, Some(0), "{reply:?}");
    assert!(reply.code.is_some(), "killed by a signal: {reply:?}");
    let message = if reply.stdout.is_empty() {
        &reply.stderr
    } else {
        &reply.stdout
    };
    assert!(!message.trim().is_empty(), "{reply:?}");
    assert!(message.contains("0xff"), "{reply:?}");
    // The runner judges it FAIL against an expected error it does not
    // match, and ERROR when the test expects a value.
    assert!(matches!(
        judge_reply(0, Some("something else"), &reply),
        Verdict::Fail { .. }
    ));
    assert!(matches!(
        judge_reply(0, None, &reply),
        Verdict::Error { .. }
    ));
}

#[test]
fn memory_reaches_r1_and_r2() {
    // r0 = *(u8 *)(r1 + 2) + r2; exit — with memory 10 20 30 40.
    let program = [
        0x71, 0x10, 2, 0, 0, 0, 0, 0, // ldxb r0, [r1+2]
        0x0f, 0x20, 0, 0, 0, 0, 0, 0, // add r0, r2
        0x95, 0, 0, 0, 0, 0, 0, 0, // exit
    ];
    for engine in ["--interp", "--jit"] {
        let reply = invoke(&[0x10, 0x20, 0x30, 0x40], &[engine], &program);
        assert_eq!(reply.code, Some(0), "{reply:?}");
        assert_eq!(strtoull_hex(&reply.stdout), Some(0x34), "{reply:?}");
    }
    // Without memory there is no argument, and r1 = 0, r2 = 0.
    let r2 = [
        0xbf, 0x20, 0, 0, 0, 0, 0, 0, // mov r0, r2
        0x4f, 0x10, 0, 0, 0, 0, 0, 0, // or r0, r1
        0x95, 0, 0, 0, 0, 0, 0, 0, // exit
    ];
    let reply = invoke(&[], &[], &r2);
    assert_eq!(reply.code, Some(0), "{reply:?}");
    assert_eq!(strtoull_hex(&reply.stdout), Some(0), "{reply:?}");
}

#[test]
fn elf_mode_is_refused_clearly() {
    let exit = [0x95, 0, 0, 0, 0, 0, 0, 0];
    for mem in [&[][..], &[1, 2, 3]] {
        let reply = invoke(mem, &["--elf"], &exit);
        assert_ne!(reply.code, Some(0), "{reply:?}");
        assert!(reply.code.is_some(), "killed by a signal: {reply:?}");
        let message = if reply.stdout.is_empty() {
            &reply.stderr
        } else {
            &reply.stdout
        };
        assert!(message.contains("not supported"), "{reply:?}");
    }
}
