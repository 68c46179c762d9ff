//! Our verdicts on the corpus (`tests/corpus/*.s`) against the kernel's
//! (`tests/corpus/*.kernel`, recorded from Linux 6.18 by `ebpf-kernel`'s
//! `verifier_corpus` test): same verdict (accepted, or refused with the
//! same errno) and the same error line.
//!
//! The verifier is young: the test prints every disagreement and fails if
//! the agreement drops below what it reached when this floor was last
//! raised ([`FLOOR`]), so progress is kept and regressions show.
//!
//! The program-type facts (context fields, helpers, return ranges) come
//! from the platform tables of Linux 6.18 ([`LinuxEnv`]).

use std::path::{Path, PathBuf};

use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::verify;
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;

/// Programs whose verdict and error line must agree with the kernel's.
const FLOOR: usize = 77;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

struct Case {
    prog: String,
    license: String,
    maps: Vec<MapMeta>,
    text: String,
}

fn parse(text: &str) -> Case {
    let mut prog = String::new();
    let mut license = "GPL".to_owned();
    let mut maps = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("; ") else {
            continue;
        };
        if let Some(p) = rest.strip_prefix("prog: ") {
            prog = p.trim().to_owned();
        } else if let Some(l) = rest.strip_prefix("license: ") {
            license = l.trim().to_owned();
        } else if let Some(m) = rest.strip_prefix("map: ") {
            let mut w = m.split_whitespace();
            let map_type = match w.next() {
                Some("hash") => 1,
                Some("array") => 2,
                Some("ringbuf") => 27,
                other => panic!("map type {other:?}"),
            };
            let mut meta = MapMeta {
                map_type,
                key_size: 0,
                value_size: 0,
                max_entries: 0,
                flags: 0,
                inner: None,
            };
            for kv in w {
                let (k, v) = kv.split_once('=').expect("key=value");
                let v: u32 = v.parse().expect("number");
                match k {
                    "key" => meta.key_size = v,
                    "value" => meta.value_size = v,
                    _ => meta.max_entries = v,
                }
            }
            maps.push(meta);
        }
    }
    Case {
        prog,
        license,
        maps,
        text: text.to_owned(),
    }
}

/// `(verdict, error line)` from a golden file.
fn golden(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("golden file");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    (field("verdict:"), field("error:"))
}

#[test]
fn verdicts_agree_with_the_kernel() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    let platform = LinuxPlatform::new();
    let mut agree = 0;
    let mut report = Vec::new();
    for path in &paths {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let case = parse(&std::fs::read_to_string(path).expect("program"));
        let program = ebpf_isa::asm::assemble(&case.text).expect("assembles");
        let prog_type = ProgType::from_name(&case.prog)
            .unwrap_or_else(|| panic!("{name}: program type {}", case.prog));
        let env = LinuxEnv::new(&platform, prog_type, 0, &case.license);
        let out = verify(&program, &env, &case.maps);
        let ours = match &out.result {
            Ok(()) => ("ok".to_owned(), String::new()),
            Err(r) => (r.errno.to_owned(), r.message.clone()),
        };
        let kernel = golden(&path.with_extension("kernel"));
        if ours == kernel {
            agree += 1;
        } else {
            report.push(format!(
                "  {name}: kernel {} {:?}, ours {} {:?}",
                kernel.0, kernel.1, ours.0, ours.1
            ));
        }
    }
    eprintln!(
        "verifier corpus: {agree}/{} programs get the kernel's verdict and error line",
        paths.len()
    );
    for r in &report {
        eprintln!("{r}");
    }
    assert!(
        agree >= FLOOR,
        "agreement fell to {agree} (floor {FLOOR}):\n{}",
        report.join("\n")
    );
}
