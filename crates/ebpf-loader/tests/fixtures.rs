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
