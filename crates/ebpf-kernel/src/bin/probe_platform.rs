//! `probe_platform`: ask the running kernel which helpers each program type
//! may call (and which of them are GPL-only) and which context accesses it
//! accepts, and write the answers as the text table that `ebpf-verifier`
//! embeds (`crates/ebpf-verifier/src/platform/linux-6.18.txt`).
//!
//! ```text
//! probe_platform            print the table on stdout
//! probe_platform --write    write it to the ebpf-verifier source tree
//! probe_platform --check    probe again and compare with the committed table
//! ```
//!
//! **Helpers.** For each program type and each helper id `1..=211` it
//! loads `call <id>; r0 = 0; exit`. The kernel's `check_helper_call` asks
//! the program type's `get_func_proto` before it looks at any argument, so
//! the first error decides: `program of this type cannot use helper` (no
//! prototype for this type), then, with a non-GPL license,
//! `cannot call GPL-restricted function from non-GPL compatible program`
//! (`gpl_only`), then `helper call is not allowed in probe` (the
//! prototype's `allowed` callback) and `helper call might sleep in a
//! non-sleepable prog`. Any later error (an argument check) means the
//! helper is available.
//!
//! **Context.** For each offset `0..limit` and size 1, 2, 4, 8 it loads
//! `r0 = *(uN *)(r1 + off); r0 = 0; exit` and
//! `r2 = 0; *(uN *)(r1 + off) = r2; r0 = 0; exit`; an access is valid when
//! the program loads (`is_valid_access` and the ctx rewrite both agree).
//!
//! The table format is documented in its header; `ebpf-verifier`'s
//! `platform::table` module parses it. Needs root (`CAP_BPF`,
//! `CAP_PERFMON`, `CAP_NET_ADMIN`): without it every helper looks
//! unavailable, so the probe refuses to run.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use ebpf_isa::RawInsn;
use ebpf_kernel::{Kernel, LoadFailure, ProgLoad, ProgType};

/// Where `--write` and `--check` find the table.
const TABLE_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ebpf-verifier/src/platform/linux-6.18.txt"
);

/// The highest helper id of Linux 6.18 (`__BPF_FUNC_MAX_ID - 1`).
pub(crate) const MAX_HELPER_ID: i32 = 211;

/// The program types probed, with the first context offset that is not
/// probed (beyond the context of every one of them, except tracepoints,
/// whose records may be up to `PERF_MAX_TRACE_SIZE` = 8192 bytes).
pub(crate) const PROBED: &[(ProgType, i16)] = &[
    (ProgType::SOCKET_FILTER, 256),
    (ProgType::KPROBE, 256),
    (ProgType::SCHED_CLS, 256),
    (ProgType::SCHED_ACT, 256),
    (ProgType::TRACEPOINT, 8208),
    (ProgType::XDP, 64),
    (ProgType::PERF_EVENT, 256),
    (ProgType::CGROUP_SKB, 256),
    (ProgType::RAW_TRACEPOINT, 128),
    (ProgType::CGROUP_SOCK, 128),
    (ProgType::LWT_IN, 256),
    (ProgType::LWT_OUT, 256),
    (ProgType::LWT_XMIT, 256),
    (ProgType::SOCK_OPS, 256),
    (ProgType::SK_SKB, 256),
    (ProgType::CGROUP_DEVICE, 32),
    (ProgType::SK_MSG, 128),
    (ProgType::SK_REUSEPORT, 128),
    (ProgType::CGROUP_SYSCTL, 32),
    (ProgType::FLOW_DISSECTOR, 256),
];

/// The license used to learn `gpl_only` (not GPL-compatible).
const NON_GPL: &str = "Proprietary";

/// What `check_helper_call` said about a helper before its arguments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HelperVerdict {
    /// `get_func_proto` returned nothing: `program of this type cannot use
    /// helper` (or `invalid func` for an id the kernel does not know).
    Unavailable,
    /// A prototype exists and passed the checks before the arguments.
    Ok,
    /// The prototype's `allowed` callback refused: `helper call is not
    /// allowed in probe`.
    NotAllowed,
    /// The prototype may sleep and the program is not sleepable.
    MightSleep,
}

impl HelperVerdict {
    /// The word in the table.
    pub(crate) fn word(self) -> &'static str {
        match self {
            HelperVerdict::Unavailable => "no",
            HelperVerdict::Ok => "ok",
            HelperVerdict::NotAllowed => "not_allowed",
            HelperVerdict::MightSleep => "might_sleep",
        }
    }

    /// Inverse of [`HelperVerdict::word`].
    pub(crate) fn from_word(w: &str) -> Option<HelperVerdict> {
        [
            HelperVerdict::Unavailable,
            HelperVerdict::Ok,
            HelperVerdict::NotAllowed,
            HelperVerdict::MightSleep,
        ]
        .into_iter()
        .find(|v| v.word() == w)
    }
}

/// One helper's answer for one program type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct HelperFact {
    /// Availability.
    pub(crate) verdict: HelperVerdict,
    /// Refused to a non-GPL program.
    pub(crate) gpl_only: bool,
}

/// The probed facts, in table order.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct Table {
    /// `(type name, helper id)` → fact, for every available helper.
    pub(crate) helpers: BTreeMap<(String, i32), HelperFact>,
    /// `(type name, write, size)` → valid offsets, increasing.
    pub(crate) ctx: BTreeMap<(String, bool, u8), Vec<i16>>,
    /// Type name → (type number, first offset not probed).
    pub(crate) limits: BTreeMap<String, (u32, i16)>,
}

/// The lowercase name the table uses (`socket_filter`, `xdp`, ...).
pub(crate) fn type_name(t: ProgType) -> String {
    t.name()
        .map_or_else(|| t.0.to_string(), str::to_ascii_lowercase)
}

fn load(
    kernel: &Kernel,
    prog_type: ProgType,
    insns: &[RawInsn],
    license: &str,
) -> Result<(), LoadFailure> {
    kernel
        .prog_load(ProgLoad {
            prog_type,
            insns,
            license,
            log_size: 4096,
            ..ProgLoad::default()
        })
        .map(drop)
}

/// The kernel's error line, or the failure's text when there is none.
fn message(f: &LoadFailure) -> String {
    f.error_line().map_or_else(|| f.to_string(), str::to_owned)
}

/// Ask the kernel about helper `id` for `prog_type`.
pub(crate) fn probe_helper(kernel: &Kernel, prog_type: ProgType, id: i32) -> HelperFact {
    let insns = [
        RawInsn::new(0x85, 0, 0, 0, id),
        RawInsn::new(0xb7, 0, 0, 0, 0),
        RawInsn::new(0x95, 0, 0, 0, 0),
    ];
    let classify = |r: Result<(), LoadFailure>| -> (HelperVerdict, bool) {
        let Err(f) = r else {
            return (HelperVerdict::Ok, false);
        };
        let m = message(&f);
        if m.starts_with("program of this type cannot use helper") || m.starts_with("invalid func")
        {
            (HelperVerdict::Unavailable, false)
        } else if m.starts_with("cannot call GPL-restricted function") {
            (HelperVerdict::Ok, true)
        } else if m.starts_with("helper call is not allowed in probe") {
            (HelperVerdict::NotAllowed, false)
        } else if m.starts_with("helper call might sleep") {
            (HelperVerdict::MightSleep, false)
        } else {
            (HelperVerdict::Ok, false)
        }
    };
    let (verdict, _) = classify(load(kernel, prog_type, &insns, "GPL"));
    if verdict == HelperVerdict::Unavailable {
        return HelperFact {
            verdict,
            gpl_only: false,
        };
    }
    let (_, gpl_only) = classify(load(kernel, prog_type, &insns, NON_GPL));
    HelperFact { verdict, gpl_only }
}

/// The `BPF_SIZE` bits and byte count of each access size.
const SIZES: [(u8, u8); 4] = [(0x10, 1), (0x08, 2), (0x00, 4), (0x18, 8)];

/// Ask the kernel whether `prog_type` may read (or write) `size` bytes of
/// its context at `off`; `Err` carries the kernel's message.
pub(crate) fn probe_ctx(
    kernel: &Kernel,
    prog_type: ProgType,
    write: bool,
    off: i16,
    size: u8,
) -> Result<(), String> {
    let size_bits = SIZES
        .iter()
        .find(|(_, n)| *n == size)
        .map_or(0, |(bits, _)| *bits);
    // BPF_MEM | size | BPF_LDX (1) or BPF_STX (3).
    let insns: Vec<RawInsn> = if write {
        vec![
            RawInsn::new(0xb7, 2, 0, 0, 0),
            RawInsn::new(0x60 | size_bits | 0x03, 1, 2, off, 0),
            RawInsn::new(0xb7, 0, 0, 0, 0),
            RawInsn::new(0x95, 0, 0, 0, 0),
        ]
    } else {
        vec![
            RawInsn::new(0x60 | size_bits | 0x01, 0, 1, off, 0),
            RawInsn::new(0xb7, 0, 0, 0, 0),
            RawInsn::new(0x95, 0, 0, 0, 0),
        ]
    };
    load(kernel, prog_type, &insns, "GPL").map_err(|f| message(&f))
}

/// Probe everything. `messages` counts the refusals' messages (numbers
/// replaced by `N`), for the report on stderr.
fn probe_all(kernel: &Kernel, messages: &mut BTreeMap<String, usize>) -> Table {
    let mut table = Table::default();
    for &(prog_type, limit) in PROBED {
        let name = type_name(prog_type);
        table.limits.insert(name.clone(), (prog_type.0, limit));
        for id in 1..=MAX_HELPER_ID {
            let fact = probe_helper(kernel, prog_type, id);
            if fact.verdict != HelperVerdict::Unavailable {
                table.helpers.insert((name.clone(), id), fact);
            }
        }
        for write in [false, true] {
            for (_, size) in SIZES {
                let mut ok = Vec::new();
                for off in 0..limit {
                    match probe_ctx(kernel, prog_type, write, off, size) {
                        Ok(()) => ok.push(off),
                        Err(m) => *messages.entry(generalize(&m)).or_default() += 1,
                    }
                }
                table.ctx.insert((name.clone(), write, size), ok);
            }
        }
    }
    table
}

/// A message with its numbers replaced by `N`.
fn generalize(m: &str) -> String {
    let mut out = String::new();
    let mut in_num = false;
    for c in m.chars() {
        if c.is_ascii_digit() {
            if !in_num {
                out.push('N');
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(c);
        }
    }
    out
}

/// Offsets as runs: `a` or `a-b/step`, comma-separated; `-` for none.
pub(crate) fn format_offsets(offs: &[i16]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(&start) = offs.get(i) {
        let step = match offs.get(i + 1) {
            Some(&next) => next - start,
            None => 0,
        };
        let mut j = i;
        if step > 0 {
            while offs.get(j + 1).is_some_and(|&n| n - offs[j] == step) {
                j += 1;
            }
        }
        // A run of two is written as two singles.
        if j >= i + 2 {
            parts.push(format!("{start}-{}/{step}", offs[j]));
            i = j + 1;
        } else {
            parts.push(start.to_string());
            i += 1;
        }
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(",")
    }
}

/// Inverse of [`format_offsets`].
pub(crate) fn parse_offsets(s: &str) -> Option<Vec<i16>> {
    let mut out = Vec::new();
    if s == "-" {
        return Some(out);
    }
    for part in s.split(',') {
        if let Some((range, step)) = part.split_once('/') {
            let (a, b) = range.split_once('-')?;
            let (a, b, step): (i16, i16, i16) =
                (a.parse().ok()?, b.parse().ok()?, step.parse().ok()?);
            if step <= 0 || b < a {
                return None;
            }
            let mut x = a;
            while x <= b {
                out.push(x);
                x = x.checked_add(step)?;
            }
        } else {
            out.push(part.parse().ok()?);
        }
    }
    Some(out)
}

const HEADER: &str = "\
# eBPF platform facts of the Linux kernel, probed with BPF_PROG_LOAD by
# `cargo run -p ebpf-kernel --bin probe_platform -- --write` (as root).
# Checked by crates/ebpf-kernel/tests/platform_tables.rs; parsed by
# ebpf-verifier's platform::table.
#
# kernel <release>
# type <name> <number> helpers 1-<max> ctx 0-<limit>   (what was probed)
# helper <type> <id> <verdict> gpl=<0|1>
#     verdict: ok, not_allowed (the proto's `allowed` callback refuses),
#     might_sleep (needs a sleepable program); a helper not listed is not
#     available to the type (\"program of this type cannot use helper\").
#     gpl=1: refused to a program whose license is not GPL-compatible.
# ctx <type> <read|write> <size> <offsets>
#     the context offsets at which an access of <size> bytes loads;
#     offsets: `-` (none) or comma-separated `a` or `a-b/step` (a, a+step, ..., b).
";

/// The table as text.
pub(crate) fn render(release: &str, t: &Table) -> String {
    let mut s = String::from(HEADER);
    s.push_str(&format!("kernel {release}\n"));
    for (name, (num, limit)) in &t.limits {
        s.push_str(&format!(
            "type {name} {num} helpers 1-{MAX_HELPER_ID} ctx 0-{}\n",
            limit - 1
        ));
    }
    for ((name, id), f) in &t.helpers {
        s.push_str(&format!(
            "helper {name} {id} {} gpl={}\n",
            f.verdict.word(),
            u8::from(f.gpl_only)
        ));
    }
    for ((name, write, size), offs) in &t.ctx {
        let dir = if *write { "write" } else { "read" };
        s.push_str(&format!(
            "ctx {name} {dir} {size} {}\n",
            format_offsets(offs)
        ));
    }
    s
}

/// Parse a table written by [`render`]; `Err` names the line.
pub(crate) fn parse(text: &str) -> Result<(String, Table), String> {
    let mut t = Table::default();
    let mut release = String::new();
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("line {}: cannot parse {line:?}", n + 1);
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            [] => {}
            [first, ..] if first.starts_with('#') => {}
            ["kernel", r] => release = (*r).to_string(),
            ["type", name, num, "helpers", _, "ctx", range] => {
                let num = num.parse().map_err(|_| bad())?;
                let limit: i16 = range
                    .strip_prefix("0-")
                    .and_then(|l| l.parse::<i16>().ok())
                    .and_then(|l| l.checked_add(1))
                    .ok_or_else(bad)?;
                t.limits.insert((*name).to_string(), (num, limit));
            }
            ["helper", name, id, verdict, gpl] => {
                let id = id.parse().map_err(|_| bad())?;
                let verdict = HelperVerdict::from_word(verdict).ok_or_else(bad)?;
                let gpl_only = match *gpl {
                    "gpl=0" => false,
                    "gpl=1" => true,
                    _ => return Err(bad()),
                };
                t.helpers
                    .insert(((*name).to_string(), id), HelperFact { verdict, gpl_only });
            }
            ["ctx", name, dir, size, offs] => {
                let write = match *dir {
                    "read" => false,
                    "write" => true,
                    _ => return Err(bad()),
                };
                let size = size.parse().map_err(|_| bad())?;
                let offs = parse_offsets(offs).ok_or_else(bad)?;
                t.ctx.insert(((*name).to_string(), write, size), offs);
            }
            _ => return Err(bad()),
        }
    }
    Ok((release, t))
}

/// Lines of `a` not in `b` and of `b` not in `a`.
fn diff(a: &str, b: &str) -> Vec<String> {
    let relevant = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("kernel "))
            .map(str::to_owned)
            .collect()
    };
    let (la, lb) = (relevant(a), relevant(b));
    let mut out: Vec<String> = la
        .iter()
        .filter(|l| !lb.contains(l))
        .map(|l| format!("- {l}"))
        .collect();
    out.extend(
        lb.iter()
            .filter(|l| !la.contains(l))
            .map(|l| format!("+ {l}")),
    );
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.as_slice() {
        [] => "print",
        [a] if a == "--write" => "write",
        [a] if a == "--check" => "check",
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "usage: probe_platform [--write | --check]"
            );
            return ExitCode::from(2);
        }
    };
    let kernel = match Kernel::probe() {
        Ok(k) => k,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "probe_platform: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let mut messages = BTreeMap::new();
    let table = probe_all(&kernel, &mut messages);
    let text = render(kernel.release(), &table);
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "probe_platform: {} types, {} helper facts, {} ctx lines in {:.1} s",
        table.limits.len(),
        table.helpers.len(),
        table.ctx.len(),
        start.elapsed().as_secs_f64()
    );
    for (m, n) in &messages {
        let _ = writeln!(err, "  ctx refusal x{n}: {m}");
    }
    match mode {
        "write" => {
            if let Err(e) = std::fs::write(TABLE_PATH, &text) {
                let _ = writeln!(err, "probe_platform: cannot write {TABLE_PATH}: {e}");
                return ExitCode::FAILURE;
            }
            let _ = writeln!(err, "wrote {TABLE_PATH}");
        }
        "check" => {
            let committed = match std::fs::read_to_string(TABLE_PATH) {
                Ok(t) => t,
                Err(e) => {
                    let _ = writeln!(err, "probe_platform: cannot read {TABLE_PATH}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Err(e) = parse(&committed) {
                let _ = writeln!(err, "probe_platform: {TABLE_PATH}: {e}");
                return ExitCode::FAILURE;
            }
            let d = diff(&committed, &text);
            if !d.is_empty() {
                let _ = writeln!(err, "the kernel disagrees with {TABLE_PATH}:");
                for l in d {
                    let _ = writeln!(err, "{l}");
                }
                return ExitCode::FAILURE;
            }
            let _ = writeln!(err, "{TABLE_PATH} agrees with the kernel");
        }
        _ => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip() {
        for offs in [
            vec![],
            vec![5],
            vec![0, 4],
            vec![0, 4, 8, 12, 16],
            vec![0, 1, 2, 3, 48, 56, 152, 168, 184],
        ] {
            let text = format_offsets(&offs);
            assert_eq!(parse_offsets(&text), Some(offs), "{text}");
        }
        assert_eq!(format_offsets(&[0, 4, 8, 12, 16]), "0-16/4");
        assert_eq!(format_offsets(&[]), "-");
        assert_eq!(parse_offsets("8-0/4"), None);
        assert_eq!(parse_offsets("0-8/0"), None);
        assert_eq!(parse_offsets("x"), None);
    }

    #[test]
    fn tables_round_trip() {
        let mut t = Table::default();
        t.limits.insert("xdp".into(), (6, 64));
        t.helpers.insert(
            ("xdp".into(), 6),
            HelperFact {
                verdict: HelperVerdict::Ok,
                gpl_only: true,
            },
        );
        t.helpers.insert(
            ("xdp".into(), 148),
            HelperFact {
                verdict: HelperVerdict::MightSleep,
                gpl_only: false,
            },
        );
        t.ctx
            .insert(("xdp".into(), false, 4), vec![0, 4, 8, 12, 16]);
        t.ctx.insert(("xdp".into(), true, 4), vec![]);
        let text = render("6.18.0", &t);
        assert_eq!(parse(&text), Ok(("6.18.0".to_string(), t)));
        assert!(parse("helper xdp 1 maybe gpl=0").is_err());
        assert_eq!(generalize("off=80 size=4"), "off=N size=N");
        assert_eq!(type_name(ProgType::SCHED_CLS), "sched_cls");
    }
}
