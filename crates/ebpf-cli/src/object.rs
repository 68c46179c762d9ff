//! ELF objects: `ebpf object OBJ.o`, and what `disasm` and `run` need to
//! take an object (`--program NAME`) through `ebpf-loader`.
//!
//! The tag `ebpf object` prints is what `bpftool prog` shows once the
//! program is loaded with its maps (SHA-256 based since Linux 6.18; the
//! SHA-1 based tag of older kernels follows in parentheses).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ebpf_isa::{CallTarget, Imm64, Insn, Program};
use ebpf_loader::{ObjProgram, Object, TagHash, prog_tag, tag_hex};
use ebpf_runtime::{BPF_ANY, MapDef, MapType, Runtime};

use crate::input::InputError;

/// Whether `bytes` start like an ELF file.
pub(crate) fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// libbpf's object name: the file name up to its first `.`.
fn object_name(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
    file.split('.').next().unwrap_or("").to_owned()
}

/// Parse the object in `bytes`, read from `path`.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Object, InputError> {
    Object::parse_named(bytes, &object_name(path)).map_err(|source| InputError::Object {
        path: path.into(),
        source,
    })
}

/// Read and parse the object file `path`.
pub(crate) fn read(path: &Path) -> Result<Object, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError::Io {
        path: path.into(),
        source,
    })?;
    parse(path, &bytes)
}

/// The program `name` of `obj`, or its only program when `name` is `None`.
pub(crate) fn select<'o>(
    obj: &'o Object,
    path: &Path,
    name: Option<&str>,
) -> Result<&'o ObjProgram, InputError> {
    let names = || {
        obj.programs
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => obj.program(n).ok_or_else(|| InputError::NoSuchProgram {
            path: path.into(),
            name: n.to_owned(),
            programs: names(),
        }),
        None => match obj.programs.as_slice() {
            [only] => Ok(only),
            _ => Err(InputError::WhichProgram {
                path: path.into(),
                count: obj.programs.len(),
                programs: names(),
            }),
        },
    }
}

/// A runtime with the object's maps, in loader order (so `ld_imm64` map
/// index `i` is runtime map `i`), global data sections initialised.
pub(crate) fn runtime(obj: &Object, path: &Path) -> Result<Runtime, String> {
    let mut rt = Runtime::new();
    for m in &obj.maps {
        let def = MapDef::new(
            m.name.clone(),
            MapType(m.map_type.0),
            m.key_size,
            m.value_size,
            m.max_entries,
        )
        .with_flags(m.flags);
        let id = rt
            .maps_mut()
            .create(def)
            .map_err(|e| format!("{}: map {}: {e}", path.display(), m.name))?;
        if let Some(data) = &m.data {
            rt.maps_mut()
                .update(id, &0u32.to_le_bytes(), data, BPF_ANY)
                .map_err(|e| format!("{}: map {}: initial data: {e}", path.display(), m.name))?;
        }
    }
    Ok(rt)
}

/// The references the loader resolved in a linked program, one line each:
/// map and global-variable `ld_imm64`, function addresses and bpf-to-bpf
/// calls (with the slot they now point at).
fn relocations(obj: &Object, prog: &Program) -> Vec<String> {
    let map_name = |idx: u32| {
        obj.maps
            .get(idx as usize)
            .map_or("?", |m| m.name.as_str())
            .to_owned()
    };
    let target = |pc: usize, off: i32| {
        i64::try_from(pc)
            .ok()
            .and_then(|p| p.checked_add(1)?.checked_add(i64::from(off)))
            .map_or_else(|| "?".to_owned(), |t| t.to_string())
    };
    let mut out = Vec::new();
    for (pc, insn) in prog.iter() {
        let line = match insn {
            Insn::LdImm64 {
                imm: Imm64::MapIdx(idx),
                ..
            } => format!("insn {pc}: map {idx} ({})", map_name(*idx)),
            Insn::LdImm64 {
                imm: Imm64::MapIdxValue { idx, off },
                ..
            } => format!("insn {pc}: map {idx} ({}) value + {off}", map_name(*idx)),
            Insn::LdImm64 {
                imm: Imm64::Func(off),
                ..
            } => format!("insn {pc}: function address -> insn {}", target(pc, *off)),
            Insn::Call(CallTarget::Local(off)) => {
                format!("insn {pc}: call -> insn {}", target(pc, *off))
            }
            _ => continue,
        };
        out.push(line);
    }
    out
}

/// The lines `bpftool prog dump xlated ... linum` prints before
/// instructions, by slot: for each slot where a `.BTF.ext` line record
/// starts (the last record when several start there),
/// `; <source line, leading blanks trimmed> [file:F line_num:N line_col:C]`.
/// An empty source line still prints (`;  [file:...]`), as bpftool's
/// `btf_dump_linfo_plain` only skips a missing string.
pub(crate) fn linum_lines(p: &ObjProgram) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    for l in &p.line_info {
        let text = l.source_line_text.trim_start();
        out.insert(
            l.insn_idx,
            format!(
                "; {text} [file:{} line_num:{} line_col:{}]",
                l.file, l.line, l.col
            ),
        );
    }
    out
}

/// `ebpf disasm --linum` of one program: kernel syntax, each instruction
/// preceded by the source line its line record starts (see
/// [`linum_lines`]).
pub(crate) fn disasm_linum(p: &ObjProgram) -> String {
    let lines = linum_lines(p);
    let width = p.program.len().saturating_sub(1).to_string().len().max(1);
    let mut s = String::new();
    for (idx, insn) in p.program.iter() {
        if let Some(l) = lines.get(&idx) {
            let _ = writeln!(s, "{l}");
        }
        let _ = writeln!(s, "{idx:>width$}: {}", insn.kernel_log());
    }
    s
}

/// ` (file:lowest-highest)`: the line range of the records from the
/// first record's file, or nothing without line info.
fn line_span(p: &ObjProgram) -> String {
    let Some(first) = p.line_info.first() else {
        return String::new();
    };
    let same = p.line_info.iter().filter(|l| l.file == first.file);
    let (lo, hi) = same.fold((u32::MAX, 0), |(lo, hi), l| {
        (lo.min(l.line), hi.max(l.line))
    });
    format!(" ({}:{lo}-{hi})", first.file)
}

/// The text `ebpf object` prints.
pub(crate) fn describe(obj: &Object) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "object {}", obj.name);
    let _ = writeln!(s, "license: {}", obj.license.as_deref().unwrap_or("none"));
    if let Some(v) = obj.kernel_version {
        let _ = writeln!(s, "kernel version: {v:#x}");
    }
    let _ = writeln!(s, "programs: {}", obj.programs.len());
    for p in &obj.programs {
        let _ = writeln!(
            s,
            "  {}: section {:?}, type {}{}, {} insns, tag {} (before Linux 6.18: {})",
            p.name,
            p.section,
            p.prog_type,
            p.attach
                .map_or_else(String::new, |a| format!(", attach {a}")),
            p.program.len(),
            tag_hex(&p.tag),
            tag_hex(&prog_tag(&p.program.to_raw(), TagHash::Sha1))
        );
        if !p.func_info.is_empty() || !p.line_info.is_empty() {
            let _ = writeln!(
                s,
                "    .BTF.ext: {} func_info, {} line_info{}",
                p.func_info.len(),
                p.line_info.len(),
                line_span(p)
            );
        }
        if p.core_relos > 0 {
            let _ = writeln!(
                s,
                "    CO-RE relocations: {} present but not applied",
                p.core_relos
            );
        }
        for r in relocations(obj, &p.program) {
            let _ = writeln!(s, "    {r}");
        }
    }
    let _ = writeln!(s, "maps: {}", obj.maps.len());
    for (i, m) in obj.maps.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {i}: {} ({} in {}): type {}, key {}, value {}, max_entries {}, flags {:#x}{}",
            m.name,
            m.kind,
            m.section,
            m.map_type,
            m.key_size,
            m.value_size,
            m.max_entries,
            m.flags,
            m.data
                .as_ref()
                .map_or_else(String::new, |d| format!(", {} bytes initialised", d.len()))
        );
        if let Some(inner) = &m.inner {
            let _ = writeln!(
                s,
                "    inner map: type {}, key {}, value {}, max_entries {}, flags {:#x}",
                inner.map_type, inner.key_size, inner.value_size, inner.max_entries, inner.flags
            );
        }
        for (slot, init) in &m.init {
            let _ = writeln!(s, "    values[{slot}] = {init}");
        }
    }
    s
}

/// Arguments of `ebpf object`.
#[derive(clap::Args)]
pub(crate) struct ObjectArgs {
    /// ELF object (`clang -target bpf -c`).
    obj: PathBuf,
}

/// `ebpf object OBJ.o`.
pub(crate) fn object(args: &ObjectArgs) -> Result<(), Box<dyn std::error::Error>> {
    let obj = read(&args.obj)?;
    print!("{}", describe(&obj));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names() {
        assert_eq!(object_name(Path::new("dir/globals.v3.o")), "globals");
        assert_eq!(object_name(Path::new("x.o")), "x");
    }

    #[test]
    fn not_an_object() {
        let err = parse(Path::new("bad.o"), b"\x7fELF\x02").unwrap_err();
        assert!(err.to_string().starts_with("bad.o: "), "{err}");
        assert!(is_elf(b"\x7fELF\x02"));
        assert!(!is_elf(b"r0 = 0"));
    }
}
