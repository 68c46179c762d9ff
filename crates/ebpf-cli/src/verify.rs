//! `ebpf verify`: the verifier's verdict on a program, with its log, as
//! the kernel would give it to a privileged loader.

use std::io::Write as _;
use std::path::PathBuf;

use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::verify as check_program;
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;

use crate::input::{Syntax, read_input};

/// Arguments of `ebpf verify`.
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// Program: raw bytecode, assembly or an ELF object.
    prog: PathBuf,
    /// For an ELF object: the program (entry symbol name).
    #[arg(long)]
    program: Option<String>,
    /// Program type for bytecode or assembly (`socket_filter`, `xdp`,
    /// `sched_cls`, `kprobe`, ...); an ELF program's comes from its section.
    #[arg(long = "type", default_value = "socket_filter")]
    prog_type: String,
    /// License for bytecode or assembly (GPL-only helpers need a GPL
    /// compatible one); an ELF object's comes from its `license` section.
    #[arg(long, default_value = "GPL")]
    license: String,
    /// Print the whole log, not just the verdict and error.
    #[arg(long)]
    log: bool,
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

/// `ebpf verify PROG`.
pub(crate) fn verify(args: &VerifyArgs) -> Result<(), Box<dyn std::error::Error>> {
    let loaded = read_input(&args.prog, args.syntax, args.program.as_deref())?;
    let (prog_type, license, maps) = match &loaded.object {
        Some(obj) => {
            let t = ProgType(loaded.prog_type.unwrap_or(0));
            (t, obj.license.clone().unwrap_or_default(), map_metas(obj))
        }
        None => {
            let t = ProgType::from_name(&args.prog_type)
                .ok_or_else(|| format!("--type: unknown program type `{}`", args.prog_type))?;
            (t, args.license.clone(), Vec::new())
        }
    };
    let platform = LinuxPlatform::new();
    let env = LinuxEnv::new(&platform, prog_type, 0, &license);
    let out = check_program(&loaded.program, &env, &maps);
    let s = out.stats;
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
        writeln!(
            stdout,
            "{{\"verdict\":\"{verdict}\",\"errno\":{},\"message\":{},\"insn\":{insn},\
             \"processed_insns\":{},\"total_states\":{},\"peak_states\":{}}}",
            crate::run::json_str(&errno),
            crate::run::json_str(&message),
            s.insns_processed,
            s.total_states,
            s.peak_states
        )?;
    } else {
        if args.log {
            write!(stdout, "{}", out.log)?;
        }
        match &out.result {
            Ok(()) => writeln!(
                stdout,
                "accepted: processed {} insns, total_states {}, peak_states {}",
                s.insns_processed, s.total_states, s.peak_states
            )?,
            Err(r) => {
                let at = r.insn.map_or_else(String::new, |i| format!(" (insn {i})"));
                writeln!(stdout, "rejected: {} {}{at}", r.errno, r.message)?;
            }
        }
    }
    if out.result.is_err() {
        return Err(super::Silent.into());
    }
    Ok(())
}
