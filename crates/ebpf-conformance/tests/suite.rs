//! Against the real suite in `../shared/bpf_conformance`: every test parses
//! and assembles, and the classification reproduces the counts measured with
//! the upstream runner (FORMAT.md a.1). Those counts depend on the exact
//! bytes our assembler emits, so they double as a check of the assembler.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ebpf_conformance::classify::{Settings, classify};
use ebpf_conformance::{
    DataError, LoadError, Loaded, Parsed, SkipReason, load, parse, parse_byte_raw, program_of,
};
use ebpf_isa::{AsmError, CpuVersion, Group, GroupSet, Program, RawInsn, ubpf};

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

/// `(file name, text)` of the `*.data` files in `dir`, sorted by name.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Every test in `tests/`, loaded.
fn tests() -> Option<Vec<(String, ebpf_conformance::DataFile, Vec<RawInsn>)>> {
    let dir = suite()?.join("tests");
    let mut out = Vec::new();
    for (name, text) in files(&dir) {
        match load(&text) {
            Ok(Loaded::Test { file, program }) => out.push((name, file, program)),
            other => panic!("{name}: {other:?}"),
        }
    }
    Some(out)
}

#[test]
fn all_313_tests_parse_and_assemble() {
    let Some(tests) = tests() else { return };
    assert_eq!(tests.len(), 313);
    let with_mem = tests.iter().filter(|(_, f, _)| !f.mem.is_empty()).count();
    let with_raw = tests.iter().filter(|(_, f, _)| !f.raw.is_empty()).count();
    assert_eq!((with_mem, with_raw), (40, 1));
    for (name, file, program) in &tests {
        assert!(file.result.is_some(), "{name}: no result");
        assert!(file.error.is_none(), "{name}: has an error section");
        assert!(!file.asm.trim().is_empty(), "{name}: no asm");
        assert!(!program.is_empty(), "{name}");
    }
}

#[test]
fn lddw_asm_equals_its_raw() {
    let Some(dir) = suite() else { return };
    let text = std::fs::read_to_string(dir.join("tests/lddw.data")).unwrap();
    let Ok(Parsed::Test(file)) = parse(&text) else {
        panic!("lddw.data does not parse")
    };
    assert_eq!(file.raw, [0x5566778800000018, 0x1122334400000000, 0x95]);
    let from_asm = ubpf::assemble_raw(&file.asm).unwrap();
    let from_raw = program_of(&file).unwrap();
    assert_eq!(from_asm, from_raw);
    assert_eq!(file.expected(), 0x1122334455667788);
}

#[test]
fn every_decodable_test_program_round_trips_through_the_disassembler() {
    let Some(tests) = tests() else { return };
    let mut decoded = 0;
    for (name, _, program) in &tests {
        let Ok(prog) = Program::from_raw(program) else {
            continue;
        };
        decoded += 1;
        let text = ubpf::disassemble(&prog);
        let again = ubpf::assemble_raw(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(&again, program, "{name}\n{text}");
    }
    println!("{decoded} of {} test programs decode", tests.len());
    assert_eq!(decoded, 313);
}

/// Minimum version and groups per test, by the upstream table.
fn classified() -> Option<Vec<(String, CpuVersion, GroupSet)>> {
    Some(
        tests()?
            .into_iter()
            .map(|(name, _, program)| {
                let (cpu, groups) = classify(&program);
                (name, cpu, groups)
            })
            .collect(),
    )
}

#[test]
fn minimum_versions_match_format_a1() {
    let Some(c) = classified() else { return };
    let mut per_version = BTreeMap::new();
    for (_, cpu, _) in &c {
        *per_version.entry(*cpu).or_insert(0) += 1;
    }
    println!("minimum versions: {per_version:?}");
    assert_eq!(
        per_version.into_iter().collect::<Vec<_>>(),
        [
            (CpuVersion::V1, 163),
            (CpuVersion::V2, 9),
            (CpuVersion::V3, 82),
            (CpuVersion::V4, 59)
        ]
    );
    let v2: Vec<&str> = c
        .iter()
        .filter(|(_, cpu, _)| *cpu == CpuVersion::V2)
        .map(|(n, _, _)| n.trim_end_matches(".data"))
        .collect();
    assert_eq!(
        v2,
        [
            "j-signed-imm",
            "jle-imm",
            "jle-reg",
            "jlt-imm",
            "jlt-reg",
            "jsle-imm",
            "jsle-reg",
            "jslt-imm",
            "jslt-reg"
        ]
    );
    // v3: the 22 j*32, the 20 lock_*, call_local and 39 rfc9669_*.
    let v3 = |pred: &dyn Fn(&str) -> bool| {
        c.iter()
            .filter(|(n, cpu, _)| *cpu == CpuVersion::V3 && pred(n))
            .count()
    };
    assert_eq!(v3(&|n| n.starts_with('j') && n.contains("32-")), 22);
    assert_eq!(v3(&|n| n.starts_with("lock_")), 20);
    assert_eq!(v3(&|n| n == "call_local.data"), 1);
    assert_eq!(v3(&|n| n.starts_with("rfc9669_")), 39);
    let v4_rfc = c
        .iter()
        .filter(|(n, cpu, _)| *cpu == CpuVersion::V4 && n.starts_with("rfc9669_"))
        .count();
    assert_eq!(v4_rfc, 15);
}

#[test]
fn group_usage_matches_format_a1() {
    let Some(c) = classified() else { return };
    let count = |g: Group| c.iter().filter(|(_, _, gs)| gs.contains(g)).count();
    let usage: Vec<(Group, usize)> = Group::ALL.iter().map(|&g| (g, count(g))).collect();
    println!("group usage: {usage:?}");
    assert_eq!(count(Group::Base32), 313);
    assert_eq!(count(Group::Base64), 260);
    assert_eq!(count(Group::Divmul32), 35);
    assert_eq!(count(Group::Divmul64), 34);
    assert_eq!(count(Group::Atomic32), 17);
    assert_eq!(count(Group::Atomic64), 17);
    assert_eq!(count(Group::Callx), 1);
    assert_eq!(count(Group::Packet), 0);
    let callx: Vec<&str> = c
        .iter()
        .filter(|(_, _, gs)| gs.contains(Group::Callx))
        .map(|(n, _, _)| n.as_str())
        .collect();
    assert_eq!(callx, ["callx.data"]);
}

#[test]
fn tests_run_per_setting_match_format_a1() {
    let Some(c) = classified() else { return };
    let runs = |s: Settings| c.iter().filter(|(_, v, g)| s.should_run(*v, *g)).count();
    let mut measured = Vec::new();
    for cpu in [
        CpuVersion::V1,
        CpuVersion::V2,
        CpuVersion::V3,
        CpuVersion::V4,
    ] {
        let without = runs(Settings::new(cpu, &[], &[]));
        let with = runs(Settings::new(cpu, &[Group::Callx], &[]));
        measured.push((cpu, without, with));
    }
    println!("runs per setting (default groups / + callx): {measured:?}");
    assert_eq!(
        measured,
        [
            (CpuVersion::V1, 162, 163),
            (CpuVersion::V2, 171, 172),
            (CpuVersion::V3, 253, 254),
            (CpuVersion::V4, 312, 313)
        ]
    );
    assert_eq!(runs(Settings::default()), 253);
    assert_eq!(
        runs(Settings::new(
            CpuVersion::V4,
            &[Group::Callx, Group::Packet],
            &[]
        )),
        313
    );
}

/// The 15 files of `negative/` about the assembler and parser.
#[test]
fn negative_parser_and_assembler_cases() {
    let Some(dir) = suite() else { return };
    let dir = dir.join("negative");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let asm_err = |name: &str| match load(&read(name)) {
        Err(LoadError::Asm { source }) => source,
        other => panic!("{name}: expected an assembler error, got {other:?}"),
    };
    let skip = |name: &str| match load(&read(name)) {
        Ok(Loaded::Skip { reason }) => reason,
        other => panic!("{name}: expected a skip, got {other:?}"),
    };
    let syntax = |line, column, message: &str| AsmError::Syntax {
        line,
        column,
        message: message.to_owned(),
    };
    let range = |line, column, message: &str| AsmError::OutOfRange {
        line,
        column,
        message: message.to_owned(),
    };
    let mut checked = 0;
    let mut check = |name: &str, ok: bool| {
        assert!(ok, "{name}");
        checked += 1;
    };

    // Skipped files.
    check(
        "empty.data",
        skip("empty.data") == SkipReason::NoExpectation,
    );
    check(
        "empty_instructions.data",
        skip("empty_instructions.data") == SkipReason::NoInstructions,
    );
    check(
        "invalid_unknown_directive.data",
        skip("invalid_unknown_directive.data")
            == SkipReason::UnknownDirective {
                line: 4,
                text: "-- Unknown directive".to_owned(),
            },
    );

    // Files that parse and assemble fine.
    let Ok(Loaded::Test { file, program }) = load(&read("error.data")) else {
        panic!("error.data")
    };
    check(
        "error.data",
        file.error.as_deref() == Some("Invalid")
            && file.result.is_none()
            && file.expected() == 0
            && program
                == [
                    RawInsn::new(0x4f, 0, 10, 0, 0),
                    RawInsn::new(0x95, 0, 0, 0, 0),
                ],
    );
    let Ok(Loaded::Test { file, program }) = load(&read("incorrect_return_value_high_bits.data"))
    else {
        panic!("incorrect_return_value_high_bits.data")
    };
    check(
        "incorrect_return_value_high_bits.data",
        file.result == Some(0x8977665544332211)
            && file.mem
                == [
                    0xaa, 0xbb, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xcc, 0xdd,
                ]
            && program
                == [
                    RawInsn::new(0x79, 0, 1, 2, 0),
                    RawInsn::new(0x95, 0, 0, 0, 0),
                ],
    );

    // Assembler errors (upstream aborts the run on each of these).
    check(
        "invalid_imm32_dec_range.data",
        asm_err("invalid_imm32_dec_range.data")
            == range(5, 12, "immediate out of 32-bit range: `2147483648`"),
    );
    check(
        "invalid_imm32_hex_range.data",
        asm_err("invalid_imm32_hex_range.data")
            == range(5, 12, "immediate out of 32-bit range: `0x100000000`"),
    );
    check(
        "invalid_label.data",
        asm_err("invalid_label.data")
            == AsmError::UnknownLabel {
                line: 4,
                column: 4,
                label: "NOT_A_LABEL".to_owned(),
            },
    );
    check(
        "invalid_lock.data",
        asm_err("invalid_lock.data")
            == syntax(
                4,
                1,
                "`lock` takes `[fetch] OP [dst+off], src`, found 2 operands",
            ),
    );
    check(
        "invalid_lock2.data",
        asm_err("invalid_lock2.data")
            == syntax(
                4,
                1,
                "`lock` takes `[fetch] OP [dst+off], src`, found 0 operands",
            ),
    );
    check(
        "invalid_mnemonic.data",
        asm_err("invalid_mnemonic.data") == syntax(5, 1, "unknown mnemonic `ldxq`"),
    );
    check(
        "invalid_offset.data",
        asm_err("invalid_offset.data")
            == syntax(4, 11, "expected a memory operand `[%rN+off]`, found `%r1`"),
    );
    check(
        "invalid_offset_range.data",
        asm_err("invalid_offset_range.data")
            == range(5, 15, "offset out of 16-bit range: `+0x10000`"),
    );
    check(
        "invalid_operand_count.data",
        asm_err("invalid_operand_count.data")
            == syntax(4, 1, "`lddw` takes 2 operands, found 1 operand"),
    );
    check(
        "invalid_register.data",
        asm_err("invalid_register.data") == syntax(4, 9, "invalid register `%r50`"),
    );
    assert_eq!(checked, 15);

    // And these are all the non-`unused-*` files there are.
    let others: Vec<String> = files(&dir)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| !n.starts_with("unused-"))
        .collect();
    assert_eq!(others.len(), 15, "{others:?}");
}

/// The 45 `unused-*` files: upstream skips them (empty `-- error`); read as
/// 8 hex bytes per line, every program must fail to decode.
#[test]
fn negative_unused_fields_fail_to_decode() {
    let Some(dir) = suite() else { return };
    let mut n = 0;
    for (name, text) in files(&dir.join("negative")) {
        if !name.starts_with("unused-") {
            continue;
        }
        assert_eq!(
            parse(&text),
            Ok(Parsed::Skip {
                reason: SkipReason::NoExpectation
            }),
            "{name}"
        );
        let bytes = parse_byte_raw(&text).unwrap_or_else(|e: DataError| panic!("{name}: {e}"));
        assert!(!bytes.is_empty() && bytes.len().is_multiple_of(8), "{name}");
        let res = Program::from_bytes(&bytes);
        assert!(res.is_err(), "{name} decoded: {res:?}");
        n += 1;
    }
    assert_eq!(n, 45);
}

/// Truncating or mangling the suite's files never panics the loader.
#[test]
fn mangled_files_are_errors_or_skips_not_panics() {
    let Some(dir) = suite() else { return };
    let mut tried = 0usize;
    for (_, text) in files(&dir.join("tests"))
        .into_iter()
        .chain(files(&dir.join("negative")))
    {
        let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
        for &end in &ends {
            let _ = load(&text[..end]);
            let _ = parse_byte_raw(&text[..end]);
            // Drop one line.
            let next = text[end + 1..]
                .find('\n')
                .map_or(text.len(), |n| end + 1 + n);
            let _ = load(&format!("{}{}", &text[..end], &text[next..]));
            tried += 3;
        }
        for (from, to) in [("0x", "-"), (" ", "\t"), (",", ""), ("--", "-- raw\n")] {
            let _ = load(&text.replacen(from, to, 1));
            tried += 1;
        }
    }
    assert!(tried > 10_000, "{tried}");
}
