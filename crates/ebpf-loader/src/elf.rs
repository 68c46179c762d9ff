//! The ELF layer: check the header, then let goblin read the tables and
//! re-validate everything we use against the file size, so that later
//! stages index only checked ranges.
//!
//! Guarantees after [`ElfFile::parse`]:
//! * the file is a little-endian ELF64 `ET_REL` object for `EM_BPF` with no
//!   program headers;
//! * every section's `(offset, size)` lies inside the file (`SHT_NOBITS`
//!   excepted), and [`Section::data`] is that slice;
//! * every symbol's section index is either special (`SHN_UNDEF`, `SHN_ABS`,
//!   ...) or a valid section index;
//! * every relocation names a valid symbol and a valid target section.
//!
//! Not checked here: anything about the meaning of sections (done by
//! [`crate::object`]).

use goblin::elf::Elf;
use goblin::elf::header::{EM_BPF, ET_REL};
use goblin::elf::section_header::{SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS};

use crate::error::LoadError;

/// `SHN_LORESERVE`: section indices at or above it are special.
const SHN_LORESERVE: usize = 0xff00;

/// One section header with its checked contents.
#[derive(Clone, Debug)]
pub(crate) struct Section<'a> {
    /// Section name.
    pub(crate) name: String,
    /// `sh_type`.
    pub(crate) kind: u32,
    /// `sh_flags`.
    pub(crate) flags: u64,
    /// `sh_offset`, for messages.
    pub(crate) offset: u64,
    /// `sh_size` (also for `SHT_NOBITS`, which has no bytes in the file).
    pub(crate) size: u64,
    /// The bytes (empty for `SHT_NOBITS`).
    pub(crate) data: &'a [u8],
}

impl Section<'_> {
    /// Whether this is a `SHT_PROGBITS` section with `SHF_EXECINSTR`.
    pub(crate) fn is_exec(&self) -> bool {
        self.kind == SHT_PROGBITS && self.flags & u64::from(SHF_EXECINSTR) != 0
    }

    /// Whether this is `SHT_NOBITS` (`.bss`).
    pub(crate) fn is_nobits(&self) -> bool {
        self.kind == SHT_NOBITS
    }
}

/// One symbol table entry.
#[derive(Clone, Debug)]
pub(crate) struct Symbol {
    /// Name (possibly empty).
    pub(crate) name: String,
    /// `st_value`.
    pub(crate) value: u64,
    /// `st_size`.
    pub(crate) size: u64,
    /// `STT_*`.
    pub(crate) kind: u8,
    /// `STB_*`.
    pub(crate) bind: u8,
    /// The defining section, when it is a regular (checked) section index.
    pub(crate) section: Option<usize>,
}

/// One relocation entry (`SHT_REL`; `SHT_RELA` addends are ignored because
/// clang's BPF backend never emits them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reloc {
    /// Byte offset in the target section.
    pub(crate) offset: u64,
    /// Symbol index (checked: `< symbols.len()`).
    pub(crate) symbol: usize,
    /// `R_BPF_*` type.
    pub(crate) kind: u32,
}

/// A checked view of a BPF relocatable object.
#[derive(Clone, Debug)]
pub(crate) struct ElfFile<'a> {
    /// Section headers, by index.
    pub(crate) sections: Vec<Section<'a>>,
    /// `.symtab`, by index (index 0 is the null symbol).
    pub(crate) symbols: Vec<Symbol>,
    /// Relocations per target section index.
    pub(crate) relocs: Vec<Vec<Reloc>>,
}

fn u16_at(bytes: &[u8], off: usize) -> Option<u16> {
    let b = bytes.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
}

/// The header checks that run before goblin sees the file.
fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    const EHDR_SIZE: usize = 64;
    if bytes.len() < EHDR_SIZE {
        return Err(LoadError::Header {
            what: "file shorter than an ELF64 header",
            found: bytes.len() as u64,
        });
    }
    let ident = bytes.get(..16).unwrap_or_default();
    if ident.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(LoadError::Header {
            what: "bad magic (not an ELF file)",
            found: u64::from(u32::from_le_bytes([
                bytes.first().copied().unwrap_or(0),
                bytes.get(1).copied().unwrap_or(0),
                bytes.get(2).copied().unwrap_or(0),
                bytes.get(3).copied().unwrap_or(0),
            ])),
        });
    }
    let class = ident.get(4).copied().unwrap_or(0);
    if class != 2 {
        return Err(LoadError::Header {
            what: "class is not ELFCLASS64",
            found: u64::from(class),
        });
    }
    let data = ident.get(5).copied().unwrap_or(0);
    if data != 1 {
        return Err(LoadError::Header {
            what: "byte order is not little-endian (ELFDATA2LSB)",
            found: u64::from(data),
        });
    }
    let e_type = u16_at(bytes, 16).unwrap_or(0);
    if e_type != ET_REL {
        return Err(LoadError::Header {
            what: "type is not ET_REL (relocatable object)",
            found: u64::from(e_type),
        });
    }
    let machine = u16_at(bytes, 18).unwrap_or(0);
    if machine != EM_BPF {
        return Err(LoadError::Header {
            what: "machine is not EM_BPF (247)",
            found: u64::from(machine),
        });
    }
    let phnum = u16_at(bytes, 56).unwrap_or(0);
    if phnum != 0 {
        return Err(LoadError::Header {
            what: "relocatable object has program headers",
            found: u64::from(phnum),
        });
    }
    Ok(())
}

impl<'a> ElfFile<'a> {
    /// Check and read `bytes`.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<ElfFile<'a>, LoadError> {
        check_header(bytes)?;
        let elf = Elf::parse(bytes).map_err(|e| LoadError::Malformed {
            what: e.to_string(),
        })?;

        let mut sections = Vec::with_capacity(elf.section_headers.len());
        for (idx, sh) in elf.section_headers.iter().enumerate() {
            let name = elf
                .shdr_strtab
                .get_at(sh.sh_name)
                .map_or_else(|| format!("#{idx}"), str::to_owned);
            let data = if sh.sh_type == SHT_NOBITS || idx == 0 {
                &[][..]
            } else {
                let range = usize::try_from(sh.sh_offset)
                    .ok()
                    .zip(usize::try_from(sh.sh_size).ok())
                    .and_then(|(start, len)| Some(start..start.checked_add(len)?));
                match range.and_then(|r| bytes.get(r)) {
                    Some(d) => d,
                    None => {
                        return Err(LoadError::Section {
                            section: name,
                            offset: sh.sh_offset,
                            what: "contents extend past the end of the file",
                        });
                    }
                }
            };
            sections.push(Section {
                name,
                kind: sh.sh_type,
                flags: sh.sh_flags,
                offset: sh.sh_offset,
                size: sh.sh_size,
                data,
            });
        }

        let mut symbols = Vec::with_capacity(elf.syms.len());
        for (index, sym) in elf.syms.iter().enumerate() {
            let name = elf
                .strtab
                .get_at(sym.st_name)
                .unwrap_or_default()
                .to_owned();
            let shndx = sym.st_shndx;
            let section = if shndx == 0 || shndx >= SHN_LORESERVE {
                None
            } else if shndx < sections.len() {
                Some(shndx)
            } else {
                return Err(LoadError::Symbol {
                    index,
                    name,
                    what: "section index out of range",
                });
            };
            symbols.push(Symbol {
                name,
                value: sym.st_value,
                size: sym.st_size,
                kind: sym.st_type(),
                bind: sym.st_bind(),
                section,
            });
        }

        let mut relocs = vec![Vec::new(); sections.len()];
        for (rel_idx, rel_section) in &elf.shdr_relocs {
            let Some(sh) = elf.section_headers.get(*rel_idx) else {
                continue;
            };
            let rel_name = sections
                .get(*rel_idx)
                .map_or_else(String::new, |s| s.name.clone());
            let target = usize::try_from(sh.sh_info).unwrap_or(usize::MAX);
            let Some(list) = relocs.get_mut(target) else {
                return Err(LoadError::Section {
                    section: rel_name,
                    offset: sh.sh_offset,
                    what: "relocation section targets a section index out of range",
                });
            };
            for r in rel_section.iter() {
                if r.r_sym >= symbols.len() {
                    return Err(LoadError::Section {
                        section: rel_name,
                        offset: sh.sh_offset,
                        what: "relocation names a symbol index out of range",
                    });
                }
                list.push(Reloc {
                    offset: r.r_offset,
                    symbol: r.r_sym,
                    kind: r.r_type,
                });
            }
        }
        Ok(ElfFile {
            sections,
            symbols,
            relocs,
        })
    }
}
