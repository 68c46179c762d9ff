//! `ebpf-kernel-load`: load one program with `BPF_PROG_LOAD` at log level 1
//! and print the kernel's verdict. Made to be run under another identity
//! (`setpriv --reuid=65534 ...`), so that tests can ask the kernel what it
//! says to a loader without `CAP_BPF`.
//!
//! ```text
//! ebpf-kernel-load <prog-type> [--map TYPE,KEY,VALUE,MAX[,FLAGS]]... < program
//! ```
//!
//! * `<prog-type>`: a name as [`ProgType::name`] or
//!   [`ProgType::kernel_name`] spells it, in any case (`socket_filter`,
//!   `XDP`, `BPF_PROG_TYPE_XDP`), or the number.
//! * `--map TYPE,KEY,VALUE,MAX[,FLAGS]` (repeated): maps created before the load
//!   (numeric `BPF_MAP_TYPE_*`, key and value size, max entries); the
//!   program's `ld_imm64` map indices (`map[idx:N]`, pseudo sources 5 and
//!   6) name them in order and are patched to their fds.
//! * stdin: the program, either as hex text (whitespace ignored; taken as
//!   hex when every other byte is an ASCII hex digit) or as raw
//!   little-endian bytes, a multiple of 8 bytes.
//!
//! Output on stdout: `ok` (exit status 0), or the errno's name on one line
//! and the kernel's error line ([`VerifierLog::error_line`]; empty when the
//! log has none) on the next (exit status 1). The whole verifier log goes
//! to stderr. Bad arguments or input: a message on stderr, exit status 2.
//!
//! **How it loads.** Through [`Kernel::prog_load`]: with the probed handle
//! when [`Kernel::probe`] passes (a privileged caller), otherwise with
//! [`Kernel::unprobed`], so the kernel alone decides what an unprivileged
//! caller may load.

use std::io::{Read, Write};
use std::process::ExitCode;

use ebpf_isa::RawInsn;
use ebpf_kernel::{Errno, Kernel, LogLevel, MapCreate, MapType, ProgLoad, ProgType, VerifierLog};

/// Exit status for bad arguments or input.
const USAGE: u8 = 2;

/// The kernel's verdict.
enum Verdict {
    /// Loaded (the fd is closed again).
    Loaded,
    /// Refused, with the errno and the verifier log.
    Refused(Errno, VerifierLog),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((type_arg, rest)) = args.split_first() else {
        return usage("expected the program type");
    };
    let Some(prog_type) = parse_prog_type(type_arg) else {
        return usage(&format!("unknown program type {type_arg:?}"));
    };
    let mut specs = Vec::new();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        if flag != "--map" {
            return usage(&format!("unknown argument {flag:?}"));
        }
        let Some(spec) = it.next().and_then(|v| parse_map(v)) else {
            return usage("--map takes TYPE,KEY,VALUE,MAX[,FLAGS] (numbers)");
        };
        specs.push(spec);
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        return usage(&format!("cannot read stdin: {e}"));
    }
    let mut insns = match parse_program(&input) {
        Ok(insns) => insns,
        Err(reason) => return usage(&reason),
    };
    // Root gets the probed handle; `nobody` an unprobed one, so the kernel
    // itself decides what an unprivileged caller may load.
    let kernel = Kernel::probe().unwrap_or_else(|_| Kernel::unprobed());
    let mut maps = Vec::new();
    for (map_type, key_size, value_size, max_entries, flags) in specs {
        match kernel.map_create(MapCreate {
            map_type: MapType(map_type),
            key_size,
            value_size,
            max_entries,
            map_flags: ebpf_kernel::MapFlags(flags),
            ..MapCreate::default()
        }) {
            Ok(fd) => maps.push(fd),
            Err(e) => return usage(&format!("map_create: {e}")),
        }
    }
    for slot in &mut insns {
        if slot.code == 0x18 && (slot.src == 5 || slot.src == 6) {
            let Some(map) = usize::try_from(slot.imm).ok().and_then(|i| maps.get(i)) else {
                return usage(&format!("map index {} has no --map", slot.imm));
            };
            slot.src = if slot.src == 5 { 1 } else { 2 };
            slot.imm = map.imm();
        }
    }
    let verdict = match kernel.prog_load(ProgLoad {
        prog_type,
        insns: &insns,
        log_level: LogLevel::LEVEL1,
        ..ProgLoad::default()
    }) {
        Ok(_) => Verdict::Loaded,
        Err(failure) => match (failure.errno(), failure.log()) {
            (Some(errno), Some(log)) => Verdict::Refused(errno, log.clone()),
            (Some(errno), None) => Verdict::Refused(errno, VerifierLog::default()),
            _ => return usage(&failure.to_string()),
        },
    };
    let mut out = std::io::stdout().lock();
    match verdict {
        Verdict::Loaded => {
            let _ = writeln!(out, "ok");
            ExitCode::SUCCESS
        }
        Verdict::Refused(errno, log) => {
            let name = errno
                .name()
                .map_or_else(|| errno.0.to_string(), str::to_owned);
            let _ = writeln!(out, "{name}\n{}", log.error_line().unwrap_or(""));
            let _ = write!(std::io::stderr(), "{}", log.text());
            ExitCode::FAILURE
        }
    }
}

fn usage(reason: &str) -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "ebpf-kernel-load: {reason}\nusage: ebpf-kernel-load <prog-type> [--map TYPE,KEY,VALUE,MAX[,FLAGS]]... < program (hex or raw bytes)"
    );
    ExitCode::from(USAGE)
}

/// `TYPE,KEY,VALUE,MAX` with optional `,FLAGS` (`map_flags`).
fn parse_map(v: &str) -> Option<(u32, u32, u32, u32, u32)> {
    let n: Vec<u32> = v
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<Vec<u32>>>()?;
    match n.as_slice() {
        [t, k, val, m] => Some((*t, *k, *val, *m, 0)),
        [t, k, val, m, f] => Some((*t, *k, *val, *m, *f)),
        _ => None,
    }
}

/// `socket_filter`, `BPF_PROG_TYPE_SOCKET_FILTER` (any case) or `1`.
fn parse_prog_type(arg: &str) -> Option<ProgType> {
    if let Ok(n) = arg.parse::<u32>() {
        return Some(ProgType(n));
    }
    ProgType::ALL.iter().copied().find(|t| {
        t.name().is_some_and(|n| n.eq_ignore_ascii_case(arg))
            || t.kernel_name().is_some_and(|n| n.eq_ignore_ascii_case(arg))
    })
}

/// Hex text or raw bytes to slots.
fn parse_program(input: &[u8]) -> Result<Vec<RawInsn>, String> {
    let is_hex = !input.is_empty()
        && input
            .iter()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace());
    let bytes = if is_hex {
        let digits: Vec<u8> = input
            .iter()
            .copied()
            .filter(u8::is_ascii_hexdigit)
            .collect();
        if !digits.len().is_multiple_of(2) {
            return Err(format!("odd number of hex digits ({})", digits.len()));
        }
        digits
            .chunks_exact(2)
            .map(|pair| {
                let text = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
                u8::from_str_radix(text, 16).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<u8>, String>>()?
    } else {
        input.to_vec()
    };
    if !bytes.len().is_multiple_of(RawInsn::SIZE) {
        return Err(format!(
            "program is {} bytes, not a multiple of {}",
            bytes.len(),
            RawInsn::SIZE
        ));
    }
    Ok(bytes
        .chunks_exact(RawInsn::SIZE)
        .map(|c| {
            let mut slot = [0u8; RawInsn::SIZE];
            slot.copy_from_slice(c);
            RawInsn::from_bytes(slot)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prog_types() {
        assert_eq!(
            parse_prog_type("socket_filter"),
            Some(ProgType::SOCKET_FILTER)
        );
        assert_eq!(parse_prog_type("BPF_PROG_TYPE_XDP"), Some(ProgType::XDP));
        assert_eq!(parse_prog_type("6"), Some(ProgType(6)));
        assert_eq!(parse_prog_type("nonsense"), None);
    }

    #[test]
    fn programs() {
        let exit = RawInsn::new(0x95, 0, 0, 0, 0);
        let mov = RawInsn::new(0xb7, 0, 0, 0, 2);
        let raw: Vec<u8> = [mov, exit].iter().flat_map(|i| i.to_bytes()).collect();
        assert_eq!(parse_program(&raw), Ok(vec![mov, exit]));
        assert_eq!(
            parse_program(b"b7 00 00 00 02 00 00 00\n9500000000000000\n"),
            Ok(vec![mov, exit])
        );
        assert!(parse_program(b"b7000000020000009").is_err());
        assert!(parse_program(&raw[..7]).is_err());
        assert_eq!(parse_program(b""), Ok(vec![]));
    }
}
