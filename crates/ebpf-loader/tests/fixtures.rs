//! Snapshot tests: every committed fixture object, parsed and dumped.
//!
//! Each snapshot was reviewed against `llvm-objdump-19 -d -r` of the same
//! object (see the crate's README notes in `lib.rs`).

use std::path::{Path, PathBuf};

use ebpf_loader::Object;

fn build_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/build")
}

/// Every `*.o` in `fixtures/build`, sorted.
pub fn fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(build_dir())
        .expect("fixtures/build exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    out.sort();
    out
}

/// libbpf's object name: the file name up to its first `.`.
fn object_name(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
    file.split('.').next().unwrap_or("").to_owned()
}

fn dump(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read fixture");
    match Object::parse_named(&bytes, &object_name(path)) {
        Ok(obj) => obj.to_string(),
        Err(e) => format!("error: {e}\n"),
    }
}

#[test]
fn snapshots() {
    let files = fixtures();
    assert!(
        files.len() >= 12,
        "expected 4 sources x 3 cpus, got {files:?}"
    );
    for path in files {
        let name = path
            .file_stem()
            .and_then(|f| f.to_str())
            .unwrap_or("?")
            .to_owned();
        insta::assert_snapshot!(name, dump(&path));
    }
}

/// Self-check against the raw section bytes: each program starts with its
/// entry function copied verbatim, except relocated `ld_imm64` and local
/// `call` slots; every local call and function address lands inside the
/// program; map indices are in range.
#[test]
fn programs_match_section_bytes() {
    use ebpf_isa::{CallTarget, Imm64, Insn, RawInsn};
    for path in fixtures() {
        let bytes = std::fs::read(&path).expect("read fixture");
        let Ok(obj) = Object::parse(&bytes) else {
            panic!("{} does not parse", path.display());
        };
        let elf = goblin::elf::Elf::parse(&bytes).expect("goblin");
        for prog in &obj.programs {
            let sym = elf
                .syms
                .iter()
                .find(|s| elf.strtab.get_at(s.st_name) == Some(prog.name.as_str()))
                .expect("entry symbol");
            let sh = &elf.section_headers[sym.st_shndx];
            let start = (sh.sh_offset + sym.st_value) as usize;
            let raw = &bytes[start..start + sym.st_size as usize];
            let linked = prog.program.to_raw();
            for (i, chunk) in raw.chunks_exact(8).enumerate() {
                let orig = RawInsn::from_bytes(chunk.try_into().unwrap());
                let relocated = orig.code == 0x18
                    || (i > 0 && raw[(i - 1) * 8] == 0x18)
                    || (orig.code == 0x85 && orig.src == 1);
                if !relocated {
                    assert_eq!(
                        linked[i],
                        orig,
                        "{}: {} slot {i}",
                        path.display(),
                        prog.name
                    );
                }
            }
            let len = prog.program.len() as i64;
            for (pc, insn) in prog.program.iter() {
                let target = match insn {
                    Insn::Call(CallTarget::Local(off)) => Some(i64::from(*off)),
                    Insn::LdImm64 {
                        imm: Imm64::Func(off),
                        ..
                    } => Some(i64::from(*off)),
                    Insn::LdImm64 {
                        imm: Imm64::MapIdx(idx),
                        ..
                    }
                    | Insn::LdImm64 {
                        imm: Imm64::MapIdxValue { idx, .. },
                        ..
                    } => {
                        assert!((*idx as usize) < obj.maps.len());
                        None
                    }
                    _ => None,
                };
                if let Some(off) = target {
                    let t = pc as i64 + 1 + off;
                    assert!(
                        (0..len).contains(&t),
                        "{}: {} pc {pc}",
                        path.display(),
                        prog.name
                    );
                }
            }
        }
    }
}
