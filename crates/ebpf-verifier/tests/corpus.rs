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
//! from [`CorpusEnv`], a small table covering what the corpus uses, until
//! the verifier's platform tables replace it.

use std::path::{Path, PathBuf};

use ebpf_verifier::check::{
    ArgType, CtxField, HelperLookup, HelperProto, ProgramEnv, RetType, verify,
};
use ebpf_verifier::state::MapMeta;

/// Programs whose verdict and error line must agree with the kernel's.
const FLOOR: usize = 77;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// What the corpus needs of each program type.
struct CorpusEnv {
    prog: String,
    gpl: bool,
}

const fn proto(name: &'static str, ret: RetType, args: [ArgType; 5]) -> HelperProto {
    HelperProto { name, ret, args }
}

use ArgType as A;

fn helper_proto(id: i32) -> Option<(HelperProto, bool)> {
    let n = A::None;
    Some(match id {
        1 => (
            proto(
                "map_lookup_elem",
                RetType::MapValueOrNull,
                [A::ConstMapPtr, A::MapKey, n, n, n],
            ),
            false,
        ),
        2 => (
            proto(
                "map_update_elem",
                RetType::Integer,
                [A::ConstMapPtr, A::MapKey, A::MapValue, A::Anything, n],
            ),
            false,
        ),
        3 => (
            proto(
                "map_delete_elem",
                RetType::Integer,
                [A::ConstMapPtr, A::MapKey, n, n, n],
            ),
            false,
        ),
        5 => (proto("ktime_get_ns", RetType::Integer, [n; 5]), false),
        6 => (
            proto(
                "trace_printk",
                RetType::Integer,
                [A::MemRead, A::ConstSize, n, n, n],
            ),
            true,
        ),
        7 => (proto("get_prandom_u32", RetType::Integer, [n; 5]), false),
        8 => (
            proto("get_smp_processor_id", RetType::Integer, [n; 5]),
            false,
        ),
        23 => (
            proto(
                "redirect",
                RetType::Integer,
                [A::Anything, A::Anything, n, n, n],
            ),
            false,
        ),
        131 => (
            proto(
                "ringbuf_reserve",
                RetType::RingbufMemOrNull,
                [A::ConstMapPtr, A::ConstAllocSizeOrZero, A::Anything, n, n],
            ),
            false,
        ),
        132 => (
            proto(
                "ringbuf_submit",
                RetType::Void,
                [A::RingbufMemRelease, A::Anything, n, n, n],
            ),
            false,
        ),
        133 => (
            proto(
                "ringbuf_discard",
                RetType::Void,
                [A::RingbufMemRelease, A::Anything, n, n, n],
            ),
            false,
        ),
        _ => return None,
    })
}

impl ProgramEnv for CorpusEnv {
    fn ctx_load(&self, off: i32, size: u8) -> Option<CtxField> {
        let sz = i32::from(size);
        match self.prog.as_str() {
            "socket_filter" | "sched_cls" | "cgroup_skb" => {
                // __sk_buff: len at 0 (narrow reads allowed), mark at 8;
                // data/data_end (76/80) only with direct packet access.
                if off < 0 || off + sz > 192 || off % sz != 0 {
                    return None;
                }
                let direct = self.prog != "socket_filter";
                match off {
                    76 if direct && size == 4 => Some(CtxField::Packet),
                    80 if direct && size == 4 => Some(CtxField::PacketEnd),
                    76 | 80 => None,
                    _ => Some(CtxField::Scalar),
                }
            }
            "xdp" => match (off, size) {
                (0, 4) => Some(CtxField::Packet),
                (4, 4) => Some(CtxField::PacketEnd),
                (8, 4) => Some(CtxField::PacketMeta),
                (12..=20, 4) if off % 4 == 0 => Some(CtxField::Scalar),
                _ => None,
            },
            "kprobe" | "perf_event" => {
                (off >= 0 && off + sz <= 168 && off % sz == 0).then_some(CtxField::Scalar)
            }
            "tracepoint" | "raw_tracepoint" => {
                (off >= 0 && off + sz <= 4096 && off % sz == 0).then_some(CtxField::Scalar)
            }
            _ => None,
        }
    }

    fn ctx_store(&self, off: i32, size: u8) -> bool {
        // tc may write mark (8).
        self.prog == "sched_cls" && off == 8 && size == 4
    }

    fn helper(&self, id: i32) -> HelperLookup {
        let Some((p, gpl_only)) = helper_proto(id) else {
            return HelperLookup::Unknown;
        };
        if id == 23 && !matches!(self.prog.as_str(), "xdp" | "sched_cls") {
            return HelperLookup::NotAllowed(p.name);
        }
        if gpl_only && !self.gpl {
            return HelperLookup::GplOnly;
        }
        HelperLookup::Proto(p)
    }

    fn return_range(&self) -> Option<(i64, i64)> {
        (self.prog == "cgroup_skb").then_some((0, 1))
    }
}

struct Case {
    env: CorpusEnv,
    maps: Vec<MapMeta>,
    text: String,
}

fn parse(text: &str) -> Case {
    let mut env = CorpusEnv {
        prog: String::new(),
        gpl: true,
    };
    let mut maps = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("; ") else {
            continue;
        };
        if let Some(p) = rest.strip_prefix("prog: ") {
            env.prog = p.trim().to_owned();
        } else if let Some(l) = rest.strip_prefix("license: ") {
            env.gpl = l.trim() == "GPL";
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
        env,
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
    let mut agree = 0;
    let mut report = Vec::new();
    for path in &paths {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let case = parse(&std::fs::read_to_string(path).expect("program"));
        let program = ebpf_isa::asm::assemble(&case.text).expect("assembles");
        let out = verify(&program, &case.env, &case.maps);
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
