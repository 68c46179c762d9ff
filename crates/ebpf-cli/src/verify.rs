//! `ebpf verify`: the verifier's verdict on a program, with its log, as
//! the kernel would give it to a privileged loader.

use std::io::Write as _;
use std::path::PathBuf;

use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::{LOG_LEVEL1, LOG_LEVEL2, LOG_STATS, VerifierConfig, verify_with};
use ebpf_verifier::diag::diagnose_with_log;
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;

use crate::input::{Syntax, read_input};

/// Arguments of `ebpf verify`.
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// Program: raw bytecode, assembly or an ELF object.
    prog: PathBuf,
    /// For an ELF object: the program, by its entry symbol's name; any
    /// function (`.text` ones too) can be verified as an entry point.
    #[arg(long)]
    program: Option<String>,
    /// Program type, as bpftool spells it (`socket_filter`, `xdp`,
    /// `sched_cls`, `kprobe`, `tracepoint`, `raw_tracepoint`, ...): for
    /// bytecode, assembly and functions whose section names none; it
    /// overrides an ELF program's section. Default: `socket_filter`.
    #[arg(long = "type")]
    prog_type: Option<String>,
    /// License for bytecode or assembly (GPL-only helpers need a GPL
    /// compatible one); an ELF object's comes from its `license` section.
    #[arg(long, default_value = "GPL")]
    license: String,
    /// Print the verifier log, as the kernel's at this level: 1, the path
    /// to the verdict; 2, every path with its states.
    #[arg(long = "log-level", value_parser = clap::value_parser!(u32).range(0..=2), default_value_t = 0)]
    log_level: u32,
    /// Same as `--log-level 2`.
    #[arg(long, hide = true)]
    log: bool,
    /// Add `verification time N usec` and `stack depth N` to the log (as
    /// the kernel's `BPF_LOG_STATS`) and print the counts.
    #[arg(long)]
    stats: bool,
    /// Verify as the kernel does for a loader without CAP_BPF (socket
    /// filters and cgroup skb programs only; no loops, calls, pointer
    /// leaks or uninitialised stack reads).
    #[arg(long)]
    unprivileged: bool,
    /// Input syntax.
    #[arg(long, value_enum, default_value = "auto")]
    syntax: Syntax,
    /// Print machine-readable JSON.
    #[arg(long)]
    json: bool,
}

/// The object's maps as the verifier sees them, map-in-map inner
/// templates appended after them.
pub(crate) fn map_metas(obj: &ebpf_loader::Object) -> Vec<MapMeta> {
    let meta = |m: &ebpf_loader::MapDef| MapMeta {
        map_type: m.map_type.0,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        flags: m.flags,
        inner: None,
        spin_lock_off: m.spin_lock_off,
    };
    let mut out: Vec<MapMeta> = obj.maps.iter().map(meta).collect();
    for (i, m) in obj.maps.iter().enumerate() {
        if let Some(inner) = &m.inner {
            let idx = u32::try_from(out.len()).ok();
            out.push(meta(inner));
            if let Some(slot) = out.get_mut(i) {
                slot.inner = idx;
            }
        }
    }
    out
}

/// The initial bytes of the object's read-only maps (`.rodata`, which
/// libbpf freezes), by map index.
pub(crate) fn map_data(obj: &ebpf_loader::Object) -> Vec<(u32, Vec<u8>)> {
    const BPF_F_RDONLY_PROG: u32 = 0x80;
    (0u32..)
        .zip(&obj.maps)
        .filter(|(_, m)| m.flags & BPF_F_RDONLY_PROG != 0)
        .filter_map(|(i, m)| Some((i, m.data.clone()?)))
        .collect()
}

/// The program's global functions as the verifier takes them (from the
/// loader's BTF signatures; the entry function itself is not one).
fn global_funcs(funcs: &[(usize, ebpf_loader::BtfFunc)]) -> Vec<ebpf_verifier::check::GlobalFunc> {
    use ebpf_loader::BtfParam;
    use ebpf_verifier::check::{GlobalArg, GlobalFunc};
    funcs
        .iter()
        .filter(|(slot, f)| *slot != 0 && f.global)
        .map(|(slot, f)| GlobalFunc {
            start: *slot,
            name: f.name.clone(),
            args: f
                .params
                .iter()
                .map(|a| match a {
                    BtfParam::Scalar => GlobalArg::Scalar,
                    BtfParam::Pointer { target, size } => GlobalArg::Pointer {
                        target: target.clone(),
                        size: *size,
                    },
                    _ => GlobalArg::Unsupported,
                })
                .collect(),
            returns_scalar: matches!(f.ret, BtfParam::Scalar),
        })
        .collect()
}

/// Line info as the verifier's log prints it: `source line @ file:N`, the
/// line without leading blanks, the file without its directories.
pub(crate) fn line_records(lines: &[ebpf_loader::LineInfo]) -> Vec<(usize, String)> {
    lines
        .iter()
        .map(|l| {
            let file = l.file.rsplit('/').next().unwrap_or(&l.file);
            (
                l.insn_idx,
                format!("{} @ {file}:{}", l.source_line_text.trim_start(), l.line),
            )
        })
        .collect()
}

/// The source line of slot `insn` (the last record at or before it), as
/// `file:line: text`.
fn source_line(lines: &[ebpf_loader::LineInfo], insn: usize) -> Option<String> {
    let l = lines.iter().take_while(|l| l.insn_idx <= insn).last()?;
    Some(format!(
        "{}:{}: {}",
        l.file,
        l.line,
        l.source_line_text.trim()
    ))
}

/// What `ebpf run` asks before running an object's program: the verifier's
/// verdict, as a privileged loader would get it; `Err` with the code, the
/// kernel's message, the instruction and the hint when it refuses.
pub(crate) fn verify_before_run(loaded: &crate::input::Input) -> Result<(), String> {
    let Some(obj) = &loaded.object else {
        return Ok(());
    };
    let prog_type = loaded
        .prog_type
        .map(ProgType)
        .filter(|t| t.0 != 0)
        .unwrap_or(ProgType(1));
    let platform = LinuxPlatform::new();
    let license = obj.license.clone().unwrap_or_default();
    let env = LinuxEnv::new(&platform, prog_type, 0, &license);
    let config = VerifierConfig {
        log_level: LOG_LEVEL1,
        func_info: loaded.func_info,
        map_data: map_data(obj),
        global_funcs: global_funcs(&loaded.funcs),
        unprivileged: false,
        line_info: Vec::new(),
    };
    let out = verify_with(&loaded.program, &env, &map_metas(obj), &config);
    match out.result {
        Ok(()) => Ok(()),
        Err(r) => {
            let d = diagnose_with_log(&r.message, &out.log);
            let at = r.insn.map_or_else(String::new, |i| format!(" (insn {i})"));
            Err(format!(
                "the verifier refuses it: {} {} {}{at}\n  hint: {}\n  (--no-verify runs it anyway, \
                 memory-checked)",
                d.code.as_str(),
                r.errno,
                r.message,
                d.hint
            ))
        }
    }
}

/// `ebpf verify PROG`.
pub(crate) fn verify(args: &VerifyArgs) -> Result<(), Box<dyn std::error::Error>> {
    let loaded = read_input(&args.prog, args.syntax, args.program.as_deref())?;
    let named = match &args.prog_type {
        Some(name) => Some(
            ProgType::from_name(name)
                .ok_or_else(|| format!("--type: unknown program type `{name}`"))?,
        ),
        None => None,
    };
    let fallback = ProgType::from_name("socket_filter").unwrap_or(ProgType(1));
    let (prog_type, license, maps) = match &loaded.object {
        Some(obj) => {
            let section = loaded.prog_type.map(ProgType).filter(|t| t.0 != 0);
            let t = named.or(section).unwrap_or(fallback);
            (t, obj.license.clone().unwrap_or_default(), map_metas(obj))
        }
        None => (named.unwrap_or(fallback), args.license.clone(), Vec::new()),
    };
    let platform = LinuxPlatform::new();
    let env = LinuxEnv::new(&platform, prog_type, 0, &license);
    let level = if args.log { 2 } else { args.log_level };
    let mut log_level = match level {
        1 => LOG_LEVEL1,
        2 => LOG_LEVEL2,
        _ => 0,
    };
    if args.stats {
        log_level |= LOG_STATS;
    }
    // The hints read the log's detail lines: always keep one.
    let config = VerifierConfig {
        log_level: log_level | LOG_LEVEL1,
        func_info: loaded.func_info,
        map_data: loaded.object.as_ref().map(map_data).unwrap_or_default(),
        global_funcs: global_funcs(&loaded.funcs),
        unprivileged: args.unprivileged,
        line_info: line_records(&loaded.line_info),
    };
    let out = verify_with(&loaded.program, &env, &maps, &config);
    let s = out.stats;
    let diagnosis = out
        .result
        .as_ref()
        .err()
        .map(|r| diagnose_with_log(&r.message, &out.log));
    let source = out
        .result
        .as_ref()
        .err()
        .and_then(|r| r.insn)
        .and_then(|i| source_line(&loaded.line_info, i));
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let (verdict, errno, message, insn) = match &out.result {
            Ok(()) => (
                "accepted",
                String::new(),
                String::new(),
                String::from("null"),
            ),
            Err(r) => (
                "rejected",
                r.errno.to_owned(),
                r.message.clone(),
                r.insn.map_or_else(|| "null".to_owned(), |i| i.to_string()),
            ),
        };
        let opt = |v: Option<&str>| v.map_or_else(|| "null".to_owned(), crate::run::json_str);
        let mut log = if log_level & (LOG_LEVEL1 | LOG_LEVEL2) != 0 {
            format!(",\"log\":{}", crate::run::json_str(&out.log))
        } else {
            String::new()
        };
        if args.stats {
            // The stats lines' values: `verification time N usec`,
            // `stack depth A+B`.
            for l in out.log.lines() {
                if let Some(t) = l
                    .strip_prefix("verification time ")
                    .and_then(|r| r.strip_suffix(" usec"))
                {
                    log.push_str(&format!(",\"verification_time_usec\":{t}"));
                } else if let Some(d) = l.strip_prefix("stack depth ") {
                    log.push_str(&format!(",\"stack_depth\":{}", crate::run::json_str(d)));
                }
            }
        }
        writeln!(
            stdout,
            "{{\"verdict\":\"{verdict}\",\"code\":{},\"errno\":{},\"message\":{},\"insn\":{insn},\
             \"source\":{},\"hint\":{},\"processed_insns\":{},\"total_states\":{},\
             \"peak_states\":{},\"max_states_per_insn\":{}{log}}}",
            opt(diagnosis.as_ref().map(|d| d.code.as_str())),
            crate::run::json_str(&errno),
            crate::run::json_str(&message),
            opt(source.as_deref()),
            opt(diagnosis.as_ref().map(|d| d.hint.as_str())),
            s.insns_processed,
            s.total_states,
            s.peak_states,
            s.max_states_per_insn
        )?;
    } else {
        if log_level & (LOG_LEVEL1 | LOG_LEVEL2) != 0 {
            write!(stdout, "{}", out.log)?;
        } else if args.stats {
            // The stats lines alone, as the kernel prints them.
            for line in out.log.lines().filter(|l| {
                l.starts_with("verification time ")
                    || l.starts_with("stack depth ")
                    || l.starts_with("processed ")
            }) {
                writeln!(stdout, "{line}")?;
            }
        }
        match (&out.result, &diagnosis) {
            (Ok(()), _) => writeln!(
                stdout,
                "accepted: processed {} insns, total_states {}, peak_states {}",
                s.insns_processed, s.total_states, s.peak_states
            )?,
            (Err(r), d) => {
                let at = r.insn.map_or_else(String::new, |i| format!(" (insn {i})"));
                let code = d.as_ref().map_or("", |d| d.code.as_str());
                writeln!(stdout, "rejected: {code} {} {}{at}", r.errno, r.message)?;
                if let Some(src) = &source {
                    writeln!(stdout, "  at {src}")?;
                }
                if let Some(d) = d {
                    writeln!(stdout, "  hint: {}", d.hint)?;
                }
            }
        }
    }
    if out.result.is_err() {
        return Err(super::Silent.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::source_line;

    #[test]
    fn the_source_line_is_the_last_record_at_or_before_the_insn() {
        let rec = |insn_idx, line, text: &str| ebpf_loader::LineInfo {
            insn_idx,
            file: "./x.c".to_owned(),
            line,
            col: 0,
            source_line_text: text.to_owned(),
            file_name_off: 0,
            line_off: 0,
        };
        let lines = [rec(0, 10, "int x = 1;"), rec(4, 12, "  return *p; ")];
        assert_eq!(
            source_line(&lines, 3).as_deref(),
            Some("./x.c:10: int x = 1;")
        );
        assert_eq!(
            source_line(&lines, 4).as_deref(),
            Some("./x.c:12: return *p;")
        );
        assert_eq!(source_line(&[], 4), None);
    }
}
