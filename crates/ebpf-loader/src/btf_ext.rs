//! `.BTF.ext`: the per-instruction debug records clang emits next to
//! `.BTF` with `-g` (see the kernel's `Documentation/bpf/btf.rst`).
//!
//! Layout: a header (`magic` 0xeb9f, `version`, `flags`, `hdr_len`, then
//! `(off, len)` pairs, relative to the end of the header, for the
//! `func_info`, `line_info` and, when `hdr_len` is at least 32,
//! `core_relo` subsections). Each subsection is a `u32` record size
//! followed by per-ELF-section blocks: `sec_name_off` (in the `.BTF`
//! string table), `num_info`, then `num_info` records. In an object file
//! every record's first word is `insn_off` in *bytes* from the start of
//! its ELF section.
//!
//! Every read is bounds-checked; malformed input is
//! [`LoadError::BtfExt`].

use std::collections::BTreeMap;

use crate::btf::Btf;
use crate::elf::ElfFile;
use crate::error::LoadError;

const BTF_MAGIC: u16 = 0xeb9f;
/// Minimum `bpf_func_info` record: `insn_off`, `type_id`.
const FUNC_INFO_MIN: usize = 8;
/// Minimum `bpf_line_info` record: `insn_off`, `file_name_off`,
/// `line_off`, `line_col`.
const LINE_INFO_MIN: usize = 16;
/// Minimum `bpf_core_relo` record: `insn_off`, `type_id`,
/// `access_str_off`, `kind`.
const CORE_RELO_MIN: usize = 16;

/// One source-line record of a linked program.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LineInfo {
    /// Slot of the linked program the record starts at.
    pub insn_idx: usize,
    /// Source file name as clang recorded it (`./compute.c`).
    pub file: String,
    /// Line number (`line_col >> 10`).
    pub line: u32,
    /// Column (`line_col & 0x3ff`).
    pub col: u32,
    /// The source line's text, as stored in `.BTF` (not trimmed).
    pub source_line_text: String,
    /// Offset of the file name in the `.BTF` string table
    /// (`bpf_line_info.file_name_off`, for handing the record to a kernel).
    pub file_name_off: u32,
    /// Offset of the source line in the `.BTF` string table
    /// (`bpf_line_info.line_off`).
    pub line_off: u32,
}

/// A line record in section coordinates (slot of its ELF section).
#[derive(Clone, Debug)]
pub(crate) struct SecLine {
    pub(crate) slot: usize,
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) col: u32,
    pub(crate) text: String,
    pub(crate) file_name_off: u32,
    pub(crate) line_off: u32,
}

/// Parsed `.BTF.ext` records, by ELF section index, each list in file
/// order.
#[derive(Clone, Debug, Default)]
pub(crate) struct BtfExt {
    /// `(slot, type_id)` per section.
    pub(crate) func_info: BTreeMap<usize, Vec<(usize, u32)>>,
    /// Line records per section.
    pub(crate) line_info: BTreeMap<usize, Vec<SecLine>>,
    /// Slots carrying a CO-RE relocation, per section.
    pub(crate) core_relo: BTreeMap<usize, Vec<usize>>,
}

fn u32_at(bytes: &[u8], off: usize) -> Option<u32> {
    let b = bytes.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn err(subsection: &'static str, offset: usize, what: &'static str) -> LoadError {
    LoadError::BtfExt {
        subsection,
        offset: offset as u64,
        what,
    }
}

/// Parse the `.BTF.ext` section of `elf`, if any. Needs `.BTF` for the
/// strings.
pub(crate) fn parse(elf: &ElfFile<'_>) -> Result<BtfExt, LoadError> {
    let Some(ext) = elf.sections.iter().find(|s| s.name == ".BTF.ext") else {
        return Ok(BtfExt::default());
    };
    let Some(btf_sec) = elf.sections.iter().find(|s| s.name == ".BTF") else {
        return Err(err("header", 0, ".BTF.ext without a .BTF section"));
    };
    let btf = Btf::parse(btf_sec.data)?;
    let data = ext.data;
    let magic = data.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    if magic != Some(BTF_MAGIC) {
        return Err(err(
            "header",
            0,
            "bad magic (expected 0xeb9f little-endian)",
        ));
    }
    if data.get(2).copied() != Some(1) {
        return Err(err("header", 2, "version is not 1"));
    }
    let field = |off| u32_at(data, off).ok_or_else(|| err("header", off, "header truncated"));
    let hdr_len = field(4)? as usize;
    if hdr_len < 24 || hdr_len > data.len() {
        return Err(err("header", 4, "hdr_len below 24 or past the section"));
    }
    let body = data.get(hdr_len..).unwrap_or_default();
    let mut out = BtfExt::default();
    let mut subsections = vec![
        ("func_info", 8, 12, FUNC_INFO_MIN),
        ("line_info", 16, 20, LINE_INFO_MIN),
    ];
    if hdr_len >= 32 {
        subsections.push(("core_relo", 24, 28, CORE_RELO_MIN));
    }
    for (name, hdr_off, len_off, min_rec) in subsections {
        let (off, len) = (field(hdr_off)? as usize, field(len_off)? as usize);
        if len == 0 {
            continue;
        }
        let Some(sub) = off.checked_add(len).and_then(|end| body.get(off..end)) else {
            return Err(err(name, hdr_off, "subsection extends past the section"));
        };
        // Offsets in messages are from the start of .BTF.ext.
        let base = hdr_len.saturating_add(off);
        let at = |o: usize| base.saturating_add(o);
        let rd = |o: usize| u32_at(sub, o).ok_or_else(|| err(name, at(o), "record truncated"));
        let rec_size = rd(0)? as usize;
        if rec_size < min_rec || !rec_size.is_multiple_of(4) {
            return Err(err(
                name,
                at(0),
                "record size too small or not a multiple of 4",
            ));
        }
        let mut pos = 4usize;
        while pos < sub.len() {
            let (name_off, num) = (rd(pos)?, rd(pos.saturating_add(4))? as usize);
            let Some(sec_name) = btf.string(name_off) else {
                return Err(err(
                    name,
                    at(pos),
                    "section name offset outside the .BTF strings",
                ));
            };
            let Some(sec) = elf
                .sections
                .iter()
                .position(|s| s.is_exec() && s.name == sec_name)
            else {
                return Err(err(
                    name,
                    at(pos),
                    "section name is not a code section of the object",
                ));
            };
            let sec_size = elf.sections.get(sec).map_or(0, |s| s.data.len());
            pos = pos.saturating_add(8);
            let Some(end) = num
                .checked_mul(rec_size)
                .and_then(|n| n.checked_add(pos))
                .filter(|e| *e <= sub.len())
            else {
                return Err(err(name, at(pos), "records extend past the subsection"));
            };
            while pos < end {
                let w = |i: usize| rd(pos.saturating_add(i.saturating_mul(4)));
                let insn_off = w(0)? as usize;
                if !insn_off.is_multiple_of(8) || insn_off >= sec_size {
                    return Err(err(
                        name,
                        at(pos),
                        "insn_off is not an instruction of its section",
                    ));
                }
                let slot = insn_off / 8;
                match name {
                    "func_info" => {
                        let type_id = w(1)?;
                        if !btf.is_func(type_id) {
                            return Err(err(name, at(pos), "type_id is not a BTF FUNC"));
                        }
                        out.func_info.entry(sec).or_default().push((slot, type_id));
                    }
                    "line_info" => {
                        let (file_name_off, line_off) = (w(1)?, w(2)?);
                        let (file, text) = (btf.string(file_name_off), btf.string(line_off));
                        let (Some(file), Some(text)) = (file, text) else {
                            return Err(err(
                                name,
                                at(pos),
                                "file or line offset outside the .BTF strings",
                            ));
                        };
                        let line_col = w(3)?;
                        out.line_info.entry(sec).or_default().push(SecLine {
                            slot,
                            file,
                            line: line_col >> 10,
                            col: line_col & 0x3ff,
                            text,
                            file_name_off,
                            line_off,
                        });
                    }
                    _ => out.core_relo.entry(sec).or_default().push(slot),
                }
                pos = pos.saturating_add(rec_size);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::Object;

    fn fixture(name: &str) -> Object {
        let path = format!("{}/fixtures/build/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(path).expect("fixture");
        Object::parse(&bytes).expect("parses")
    }

    /// Checked against `llvm-objdump-19 -d -l`: `tc_compute` starts at
    /// `./compute.c:29`, and `mix` (appended at slot 40) at line 20.
    #[test]
    fn compute_line_and_func_info() {
        let obj = fixture("compute.v3.o");
        let p = obj.program("tc_compute").expect("tc_compute");
        let first = p.line_info.first().expect("line info");
        assert_eq!(
            (first.insn_idx, first.file.as_str(), first.line, first.col),
            (0, "./compute.c", 29, 12)
        );
        assert_eq!(first.source_line_text, "\t__u64 x = seed;");
        // The appended subprogram's records are shifted to its new slots.
        let mix = p.line_info.iter().find(|l| l.insn_idx == 40).expect("mix");
        assert_eq!(
            (mix.line, mix.source_line_text.trim()),
            (20, "x ^= x << 13;")
        );
        assert_eq!(
            p.line_info.last().map(|l| (l.insn_idx, l.line)),
            Some((51, 23))
        );
        assert!(
            p.line_info
                .windows(2)
                .all(|w| w[0].insn_idx <= w[1].insn_idx)
        );
        // One FUNC record per function: the entry and `mix` at 40.
        let ids: Vec<usize> = p.func_info.iter().map(|f| f.0).collect();
        assert_eq!(ids, [0, 40]);
        assert_eq!(p.core_relos, 0);
    }

    #[test]
    fn every_fixture_program_has_line_info_at_slot_0() {
        for cpu in ["v2", "v3", "v4"] {
            for name in [
                "compute",
                "globals",
                "legacy_maps",
                "socket_filter",
                "types",
                "xdp_parser",
            ] {
                let obj = fixture(&format!("{name}.{cpu}.o"));
                for p in &obj.programs {
                    assert_eq!(
                        p.line_info.first().map(|l| l.insn_idx),
                        Some(0),
                        "{name} {}",
                        p.name
                    );
                    assert_eq!(
                        p.func_info.first().map(|f| f.0),
                        Some(0),
                        "{name} {}",
                        p.name
                    );
                    assert!(p.line_info.iter().all(|l| l.insn_idx < p.program.len()));
                }
            }
        }
    }

    /// No fixture has CO-RE relocations: point `core_relo` at the
    /// `line_info` subsection (its 16-byte records fit `bpf_core_relo`) and
    /// count them per program.
    #[test]
    fn core_relo_records_are_counted() {
        let path = format!("{}/fixtures/build/compute.v3.o", env!("CARGO_MANIFEST_DIR"));
        let mut bytes = std::fs::read(path).expect("fixture");
        let elf = goblin::elf::Elf::parse(&bytes).expect("valid");
        let ext = elf
            .section_headers
            .iter()
            .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".BTF.ext"))
            .expect(".BTF.ext")
            .sh_offset as usize;
        let line_info: Vec<u8> = bytes[ext + 16..ext + 24].to_vec();
        bytes[ext + 24..ext + 32].copy_from_slice(&line_info);
        let obj = crate::Object::parse(&bytes).expect("parses");
        let p = obj.program("tc_compute").expect("tc_compute");
        assert_eq!(p.core_relos, p.line_info.len());
        assert_eq!(p.core_relos, 29);
    }
}
