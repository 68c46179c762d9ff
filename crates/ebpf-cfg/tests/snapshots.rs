//! Data-driven snapshots: each `tests/cfg/NAME.s` (kernel-syntax assembly)
//! is built and its text rendering and DOT are compared with
//! `tests/snapshots/snapshots__NAME.snap`. A new case is a new `.s` file
//! and a reviewed snapshot.
//!
//! Directives in comments: `;! jump_table N N ...` adds a jump table (so
//! jump tables are known); `;! unprivileged` builds without `CAP_BPF`.

use std::path::PathBuf;

use ebpf_cfg::{Cfg, CfgConfig};
use ebpf_isa::asm::assemble;

fn config(text: &str) -> CfgConfig {
    let mut config = CfgConfig::privileged();
    for line in text.lines() {
        let Some(directive) = line.trim().strip_prefix(";!") else {
            continue;
        };
        let mut words = directive.split_whitespace();
        match words.next() {
            Some("jump_table") => {
                let table = words.map(|w| w.parse().expect("slot")).collect();
                let mut tables = config.jump_tables.take().unwrap_or_default();
                tables.push(table);
                config = config.with_jump_tables(tables);
            }
            Some("unprivileged") => config.bpf_capable = false,
            other => panic!("unknown directive {other:?}"),
        }
    }
    config
}

fn render(text: &str) -> String {
    let prog = assemble(text).unwrap_or_else(|e| panic!("{e}"));
    match Cfg::build_with(&prog, &config(text)) {
        Ok(cfg) => format!("{cfg}\n---- dot ----\n{}", cfg.to_dot()),
        Err(e) => format!("error: {e}\n{e:?}\n"),
    }
}

#[test]
fn cfg_snapshots() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cfg"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/cfg")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "s"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        insta::with_settings!({ description => text.clone(), omit_expression => true }, {
            insta::assert_snapshot!(name.to_owned(), render(&text));
        });
    }
}
