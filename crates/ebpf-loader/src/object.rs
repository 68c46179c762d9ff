//! [`Object`]: programs linked with their subprograms, maps, license.

use std::collections::BTreeMap;

use ebpf_isa::{Program, RawInsn};
use goblin::elf::sym::{STB_GLOBAL, STB_WEAK, STT_FUNC};

use crate::btf::BtfFunc;
use crate::btf_ext::{self, BtfExt, LineInfo};
use crate::elf::{ElfFile, Reloc, Section};
use crate::error::LoadError;
use crate::maps::{self, MapDef, MapEntry};
use crate::prog_type::{AttachType, ProgramType, SectionDef, section_def};

/// `R_BPF_NONE`.
pub const R_BPF_NONE: u32 = 0;
/// `R_BPF_64_64`: a 64-bit address in an `ld_imm64` (maps, globals,
/// function pointers).
pub const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_ABS64`: a 64-bit address in data (not applied to code).
pub const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_ABS32`: a 32-bit address in data (not applied to code).
pub const R_BPF_64_ABS32: u32 = 3;
/// `R_BPF_64_NODYLD32`: a 32-bit address in `.BTF.ext`-like data.
pub const R_BPF_64_NODYLD32: u32 = 4;
/// `R_BPF_64_32`: the target of a bpf-to-bpf `call`.
pub const R_BPF_64_32: u32 = 10;

const BPF_LD_IMM64: u8 = 0x18;
const BPF_CALL: u8 = 0x85;
const PSEUDO_CALL: u8 = 1;
const PSEUDO_FUNC: u8 = 4;
const PSEUDO_MAP_IDX: u8 = 5;
const PSEUDO_MAP_IDX_VALUE: u8 = 6;
const SLOT: u64 = RawInsn::SIZE as u64;

/// A program: an entry function from a program section, with every
/// subprogram it reaches appended, relocations applied.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ObjProgram {
    /// The entry symbol's name.
    pub name: String,
    /// The ELF section (libbpf's `SEC()` name).
    pub section: String,
    /// The program type the section name implies (`UNSPEC` when libbpf
    /// does not know the name).
    pub prog_type: ProgramType,
    /// The expected attach type the section name implies.
    pub attach: Option<AttachType>,
    /// Everything the section name implies, `None` for an unknown name.
    pub section_def: Option<SectionDef>,
    /// The linked instructions: the entry function first, then each
    /// reachable subprogram once, calls and function addresses pointing
    /// at their new positions, maps as `Imm64::MapIdx`/`MapIdxValue`.
    pub program: Program,
    /// The object's license string (`license` section), if any.
    pub license: Option<String>,
    /// The kernel's tag for this program once loaded with map fds patched
    /// in, as Linux 6.18 and later compute it (SHA-256;
    /// [`crate::prog_tag`] with [`crate::TagHash::Sha1`] gives older
    /// kernels' tag). `bpftool prog` prints it in hex.
    pub tag: [u8; 8],
    /// `.BTF.ext` function records: `(slot, BTF FUNC type id)` for the
    /// entry function and each appended subprogram, by slot of
    /// [`ObjProgram::program`] (empty without `.BTF.ext`).
    pub func_info: Vec<(usize, u32)>,
    /// `.BTF.ext` source-line records, by slot of
    /// [`ObjProgram::program`], sorted by slot (empty without
    /// `.BTF.ext`).
    pub line_info: Vec<LineInfo>,
    /// The BTF signature of the entry function and of each appended
    /// subprogram, by slot of [`ObjProgram::program`] (from `func_info`;
    /// empty without `.BTF.ext`): which are global, and their parameters.
    pub funcs: Vec<(usize, BtfFunc)>,
    /// Number of CO-RE relocation records (`core_relo`) in this program's
    /// functions. They are **present but not applied**: field offsets are
    /// those clang compiled in, which may not match a running kernel.
    pub core_relos: usize,
}

/// What [`Linker::link`] produces.
struct Linked {
    program: Program,
    func_info: Vec<(usize, u32)>,
    line_info: Vec<LineInfo>,
    core_relos: usize,
}

/// Any function symbol of the object, linked as if it were an entry
/// (useful for `.text` functions and for tests of single subprograms).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ObjFunction {
    /// Symbol name.
    pub name: String,
    /// Its section.
    pub section: String,
    /// Whether the symbol is global (or weak).
    pub global: bool,
    /// The function with every subprogram it reaches.
    pub program: Program,
}

/// A parsed BPF object file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Object {
    /// The object name used for internal map names.
    pub name: String,
    /// The `license` section, up to its first NUL.
    pub license: Option<String>,
    /// The `version` section (`LINUX_VERSION_CODE` for old kprobes).
    pub kernel_version: Option<u32>,
    /// Maps: legacy `maps` records first (symbol order), then BTF `.maps`
    /// (DATASEC order), then global data
    /// sections (section order). The index is what `MapIdx` refers to.
    pub maps: Vec<MapDef>,
    /// Programs, in section order then symbol address order.
    pub programs: Vec<ObjProgram>,
    /// Every function symbol, each linked as its own entry, in section
    /// order then address order.
    pub functions: Vec<ObjFunction>,
    /// The `.BTF` section (header, types, strings): what
    /// [`ObjProgram::func_info`] type ids and [`LineInfo`] string offsets
    /// refer to, ready for the kernel's `BPF_BTF_LOAD`, with `DATASEC`
    /// sizes and variable offsets filled in from the ELF sections and
    /// symbols as libbpf does (clang leaves them 0). `None` without `.BTF`
    /// (objects built without `-g`).
    pub btf: Option<Vec<u8>>,
}

/// A function symbol's slot range in its section.
#[derive(Clone, Debug)]
struct Func {
    name: String,
    sec: usize,
    start: usize,
    len: usize,
    global: bool,
}

/// Everything the linker needs, borrowed from the ELF file.
struct Linker<'e, 'a> {
    elf: &'e ElfFile<'a>,
    /// Slots of each executable section (empty for the others).
    code: Vec<Vec<RawInsn>>,
    /// Functions sorted by (section, start).
    funcs: Vec<Func>,
    /// Relocations of executable sections by (section, slot).
    relocs: BTreeMap<(usize, usize), Reloc>,
    maps: Vec<MapEntry>,
    /// Map index by symbol index (legacy and BTF maps).
    map_by_symbol: BTreeMap<usize, u32>,
    /// Map index by section index (global data).
    map_by_section: BTreeMap<usize, u32>,
    maps_section: Option<usize>,
    btf_maps_section: Option<usize>,
    ext: BtfExt,
}

fn slot_offset(slot: usize) -> u64 {
    (slot as u64).saturating_mul(SLOT)
}

impl Object {
    /// Parse an object; internal map names get no object prefix (see
    /// [`Object::parse_named`]).
    pub fn parse(bytes: &[u8]) -> Result<Object, LoadError> {
        Object::parse_named(bytes, "")
    }

    /// Parse an object whose libbpf object name is `name` (the file name up
    /// to its first `.`), used as the prefix of internal map names
    /// (`globals.data`).
    pub fn parse_named(bytes: &[u8], name: &str) -> Result<Object, LoadError> {
        let elf = ElfFile::parse(bytes)?;
        let license = elf.sections.iter().find(|s| s.name == "license").map(|s| {
            let text = s.data.split(|b| *b == 0).next().unwrap_or_default();
            String::from_utf8_lossy(text).into_owned()
        });
        let kernel_version = match elf.sections.iter().find(|s| s.name == "version") {
            None => None,
            Some(s) => match <[u8; 4]>::try_from(s.data) {
                Ok(b) => Some(u32::from_le_bytes(b)),
                Err(_) => {
                    return Err(LoadError::Section {
                        section: s.name.clone(),
                        offset: s.offset,
                        what: "version section is not 4 bytes",
                    });
                }
            },
        };

        let linker = Linker::new(&elf, name)?;
        let mut programs = Vec::new();
        let mut functions = Vec::new();
        for (fi, f) in linker.funcs.iter().enumerate() {
            let sec = linker.section(f.sec);
            let linked = linker.link(fi)?;
            let program = linked.program;
            if sec.name != ".text" && f.global {
                let def = section_def(&sec.name);
                programs.push(ObjProgram {
                    funcs: crate::btf::funcs(&elf, &linked.func_info),
                    func_info: linked.func_info,
                    line_info: linked.line_info,
                    core_relos: linked.core_relos,
                    name: f.name.clone(),
                    section: sec.name.clone(),
                    prog_type: def.map_or(ProgramType::UNSPEC, |d| d.prog_type),
                    attach: def.and_then(|d| d.attach),
                    section_def: def,
                    tag: crate::tag::prog_tag(&program.to_raw(), crate::tag::TagHash::Sha256),
                    program: program.clone(),
                    license: license.clone(),
                });
            }
            functions.push(ObjFunction {
                name: f.name.clone(),
                section: sec.name.clone(),
                global: f.global,
                program,
            });
        }
        Ok(Object {
            name: name.to_owned(),
            license,
            kernel_version,
            maps: linker.maps.into_iter().map(|m| m.def).collect(),
            programs,
            functions,
            btf: crate::btf::btf_for_kernel(&elf)?,
        })
    }

    /// The program whose entry symbol is `name`.
    #[must_use]
    pub fn program(&self, name: &str) -> Option<&ObjProgram> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The function (any `STT_FUNC` symbol) named `name`, linked as an entry.
    #[must_use]
    pub fn function(&self, name: &str) -> Option<&ObjFunction> {
        self.functions.iter().find(|p| p.name == name)
    }
}

/// Fill [`MapDef::init`] from the relocations in `.maps` (section index
/// `maps_sec`): each names the map or program that goes into one slot of a
/// map-in-map or program array's `values`.
fn map_slot_inits(
    elf: &ElfFile<'_>,
    maps_sec: usize,
    entries: &mut [MapEntry],
) -> Result<(), LoadError> {
    let Some(list) = elf.relocs.get(maps_sec) else {
        return Ok(());
    };
    for r in list {
        let target = elf.symbols.get(r.symbol);
        let err = |what| LoadError::Relocation {
            section: ".maps".into(),
            offset: r.offset,
            kind: r.kind,
            symbol: target.map_or_else(String::new, |s| s.name.clone()),
            what,
        };
        if r.kind == R_BPF_NONE {
            continue;
        }
        if r.kind != R_BPF_64_ABS64 {
            return Err(err("relocation type not supported in .maps"));
        }
        let Some(target) = target else {
            return Err(err("relocation names no symbol"));
        };
        // The map whose definition holds the relocated bytes.
        let holder = entries.iter().position(|e| {
            e.symbol.and_then(|i| elf.symbols.get(i)).is_some_and(|s| {
                s.value <= r.offset
                    && s.value
                        .checked_add(s.size)
                        .is_some_and(|end| r.offset < end)
            })
        });
        let Some(holder) = holder else {
            return Err(err("relocation outside every map definition"));
        };
        let sym_value = entries
            .get(holder)
            .and_then(|e| e.symbol)
            .and_then(|i| elf.symbols.get(i))
            .map_or(0, |s| s.value);
        let Some(values_off) = entries.get(holder).and_then(|e| e.values_offset) else {
            return Err(err("relocation in a map definition without `values`"));
        };
        let rel = r
            .offset
            .checked_sub(sym_value)
            .and_then(|o| o.checked_sub(values_off))
            .ok_or_else(|| err("relocation before the map's `values`"))?;
        if rel % 8 != 0 {
            return Err(err("relocation not at a `values` slot"));
        }
        let slot = u32::try_from(rel / 8).map_err(|_| err("`values` slot out of range"))?;
        let init = if let Some(idx) = entries.iter().position(|e| e.symbol == Some(r.symbol)) {
            maps::MapInit::Map(idx)
        } else if target.kind == STT_FUNC
            && target
                .section
                .and_then(|s| elf.sections.get(s))
                .is_some_and(Section::is_exec)
        {
            maps::MapInit::Program(target.name.clone())
        } else {
            return Err(err("a `values` slot names neither a map nor a program"));
        };
        let Some(def) = entries.get_mut(holder).map(|e| &mut e.def) else {
            return Err(err("relocation outside every map definition"));
        };
        if slot >= def.max_entries {
            return Err(err("`values` slot at or past max_entries"));
        }
        match (&init, def.inner.is_some()) {
            (maps::MapInit::Map(_), true) | (maps::MapInit::Program(_), false) => {}
            _ => return Err(err("a `values` slot of the wrong kind for its map")),
        }
        if def.init.iter().any(|(s, _)| *s == slot) {
            return Err(err("second relocation for one `values` slot"));
        }
        def.init.push((slot, init));
        def.init.sort_by_key(|(s, _)| *s);
    }
    Ok(())
}

impl<'e, 'a> Linker<'e, 'a> {
    fn new(elf: &'e ElfFile<'a>, object: &str) -> Result<Linker<'e, 'a>, LoadError> {
        let mut code = vec![Vec::new(); elf.sections.len()];
        let mut funcs = Vec::new();
        for (idx, sec) in elf.sections.iter().enumerate() {
            if !sec.is_exec() {
                continue;
            }
            if sec.data.len() % RawInsn::SIZE != 0 {
                return Err(LoadError::Section {
                    section: sec.name.clone(),
                    offset: sec.offset,
                    what: "code size is not a multiple of 8",
                });
            }
            let slots: Vec<RawInsn> = sec
                .data
                .chunks_exact(RawInsn::SIZE)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    RawInsn::from_bytes(b)
                })
                .collect();
            let before = funcs.len();
            for (index, sym) in elf.symbols.iter().enumerate() {
                if sym.section != Some(idx) || sym.kind != STT_FUNC {
                    continue;
                }
                let bad = |what| LoadError::Symbol {
                    index,
                    name: sym.name.clone(),
                    what,
                };
                if sym.value % SLOT != 0 || sym.size % SLOT != 0 {
                    return Err(bad("function offset or size is not a multiple of 8"));
                }
                let start = usize::try_from(sym.value / SLOT).unwrap_or(usize::MAX);
                let len = usize::try_from(sym.size / SLOT).unwrap_or(usize::MAX);
                if len == 0 {
                    return Err(bad("function has size 0"));
                }
                if start.checked_add(len).is_none_or(|end| end > slots.len()) {
                    return Err(bad("function extends past the end of its section"));
                }
                funcs.push(Func {
                    name: sym.name.clone(),
                    sec: idx,
                    start,
                    len,
                    global: sym.bind == STB_GLOBAL || sym.bind == STB_WEAK,
                });
            }
            if funcs.len() == before && !slots.is_empty() && sec.name != ".text" {
                // No symbols (hand-written assembly): the section is one program.
                funcs.push(Func {
                    name: sec.name.clone(),
                    sec: idx,
                    start: 0,
                    len: slots.len(),
                    global: true,
                });
            }
            if let Some(added) = funcs.get_mut(before..) {
                added.sort_by_key(|f| f.start);
            }
            if let Some(slot) = code.get_mut(idx) {
                *slot = slots;
            }
        }

        let mut relocs = BTreeMap::new();
        for (idx, list) in elf.relocs.iter().enumerate() {
            let Some(sec) = elf.sections.get(idx).filter(|s| s.is_exec()) else {
                continue;
            };
            let nslots = code.get(idx).map_or(0, Vec::len);
            for r in list {
                let err = |what| LoadError::Relocation {
                    section: sec.name.clone(),
                    offset: r.offset,
                    kind: r.kind,
                    symbol: elf
                        .symbols
                        .get(r.symbol)
                        .map_or_else(String::new, |s| s.name.clone()),
                    what,
                };
                if r.kind == R_BPF_NONE {
                    continue;
                }
                if r.offset % SLOT != 0 {
                    return Err(err("offset is not at an instruction boundary"));
                }
                let slot = usize::try_from(r.offset / SLOT).unwrap_or(usize::MAX);
                if slot >= nslots {
                    return Err(err("offset is outside the section"));
                }
                if relocs.insert((idx, slot), *r).is_some() {
                    return Err(err("second relocation for one instruction"));
                }
            }
        }

        let mut map_entries = Vec::new();
        let maps_section = elf.sections.iter().position(|s| s.name == "maps");
        if let Some(ms) = maps_section {
            map_entries.extend(maps::legacy_maps(elf, ms)?);
        }
        let btf_maps_section = elf.sections.iter().position(|s| s.name == ".maps");
        if let Some(ms) = btf_maps_section {
            map_entries.extend(crate::btf::btf_maps(elf, ms)?);
        }
        for (idx, sec) in elf.sections.iter().enumerate() {
            if sec.is_exec() {
                continue;
            }
            if let Some(kind) = maps::data_kind(&sec.name) {
                map_entries.extend(maps::data_map(elf, idx, kind, object)?);
            }
        }
        if let Some(ms) = btf_maps_section {
            map_slot_inits(elf, ms, &mut map_entries)?;
        }
        Ok(Linker {
            elf,
            code,
            funcs,
            relocs,
            map_by_symbol: index_by(&map_entries, |m| m.symbol),
            map_by_section: index_by(&map_entries, |m| m.section),
            maps: map_entries,
            maps_section,
            btf_maps_section,
            ext: btf_ext::parse(elf)?,
        })
    }

    fn section(&self, idx: usize) -> &'e Section<'a> {
        // Indices come from checked symbol and section tables.
        self.elf.sections.get(idx).unwrap_or(&EMPTY_SECTION)
    }

    fn func(&self, idx: usize) -> Option<&Func> {
        self.funcs.get(idx)
    }

    /// The function containing slot `slot` of section `sec`.
    ///
    /// `funcs` is sorted by (section, start): binary search for the last
    /// function starting at or before the slot, then check it contains it
    /// (overlapping symbols fall back to a scan).
    fn func_at(&self, sec: usize, slot: usize) -> Option<usize> {
        let contains =
            |f: &Func| f.sec == sec && slot.checked_sub(f.start).is_some_and(|d| d < f.len);
        let after = self
            .funcs
            .partition_point(|f| (f.sec, f.start) <= (sec, slot));
        let candidate = after.checked_sub(1)?;
        if self.funcs.get(candidate).is_some_and(contains) {
            return Some(candidate);
        }
        self.funcs.iter().position(contains)
    }

    /// Link the function `entry` with everything it reaches.
    fn link(&self, entry: usize) -> Result<Linked, LoadError> {
        let mut out: Vec<RawInsn> = Vec::new();
        // (function index, base slot in `out`)
        let mut placed: Vec<(usize, usize)> = Vec::new();
        // Base slot of each function already placed, by function index.
        let mut base_of: Vec<Option<usize>> = vec![None; self.funcs.len()];
        if let Some(b) = base_of.get_mut(entry) {
            *b = Some(self.place(entry, &mut out, &mut placed));
        }
        let mut next = 0;
        while let Some(&(fi, base)) = placed.get(next) {
            next = next.saturating_add(1);
            let Some(f) = self.func(fi) else { continue };
            let (sec, start, len) = (f.sec, f.start, f.len);
            // In-memory sizes: `start + len` was checked against the section.
            let func_end = start.saturating_add(len);
            for k in 0..len {
                let slot = start.saturating_add(k);
                let pc = base.saturating_add(k);
                let Some(target) = self.resolve(sec, slot, func_end, pc, &mut out)? else {
                    continue;
                };
                let insn_err = |what| LoadError::Call {
                    section: self.section(sec).name.clone(),
                    offset: slot_offset(slot),
                    what,
                };
                let (tsec, tslot) = target;
                let Some(tf) = self.func_at(tsec, tslot) else {
                    return Err(insn_err("call or function address targets no function"));
                };
                let tbase = match base_of.get(tf).copied().flatten() {
                    Some(b) => b,
                    None => {
                        let b = self.place(tf, &mut out, &mut placed);
                        if let Some(slot) = base_of.get_mut(tf) {
                            *slot = Some(b);
                        }
                        b
                    }
                };
                let tstart = self.func(tf).map_or(0, |f| f.start);
                let new_target = tbase.saturating_add(tslot.saturating_sub(tstart));
                let rel = i64::try_from(new_target)
                    .ok()
                    .zip(i64::try_from(pc).ok())
                    .and_then(|(t, p)| t.checked_sub(p)?.checked_sub(1));
                let Some(imm) = rel.and_then(|r| i32::try_from(r).ok()) else {
                    return Err(insn_err("linked call offset does not fit in 32 bits"));
                };
                if let Some(raw) = out.get_mut(pc) {
                    raw.imm = imm;
                }
            }
        }
        let f = self.func(entry);
        let program = Program::from_raw(&out).map_err(|source| LoadError::Decode {
            section: f.map_or_else(String::new, |f| self.section(f.sec).name.clone()),
            function: f.map_or_else(String::new, |f| f.name.clone()),
            source,
        })?;
        let mut linked = Linked {
            program,
            func_info: Vec::new(),
            line_info: Vec::new(),
            core_relos: 0,
        };
        for &(fi, base) in &placed {
            let Some(f) = self.func(fi) else { continue };
            // Section slot -> linked slot, for slots inside the function.
            let map = |slot: usize| {
                let k = slot.checked_sub(f.start).filter(|k| *k < f.len)?;
                base.checked_add(k)
            };
            for &(slot, type_id) in self.ext.func_info.get(&f.sec).into_iter().flatten() {
                if let Some(idx) = map(slot) {
                    linked.func_info.push((idx, type_id));
                }
            }
            for l in self.ext.line_info.get(&f.sec).into_iter().flatten() {
                if let Some(insn_idx) = map(l.slot) {
                    linked.line_info.push(LineInfo {
                        insn_idx,
                        file: l.file.clone(),
                        line: l.line,
                        col: l.col,
                        source_line_text: l.text.clone(),
                        file_name_off: l.file_name_off,
                        line_off: l.line_off,
                    });
                }
            }
            let relos = self.ext.core_relo.get(&f.sec).into_iter().flatten();
            let n = relos.filter(|s| map(**s).is_some()).count();
            linked.core_relos = linked.core_relos.saturating_add(n);
        }
        linked.func_info.sort_by_key(|r| r.0);
        linked.line_info.sort_by_key(|r| r.insn_idx);
        Ok(linked)
    }

    /// Append function `fi` to `out`; returns its base slot.
    fn place(&self, fi: usize, out: &mut Vec<RawInsn>, placed: &mut Vec<(usize, usize)>) -> usize {
        let base = out.len();
        if let Some(f) = self.func(fi)
            && let Some(slots) = self
                .code
                .get(f.sec)
                .and_then(|c| c.get(f.start..f.start.saturating_add(f.len)))
        {
            out.extend_from_slice(slots);
        }
        placed.push((fi, base));
        base
    }

    /// Apply the relocation of slot `slot` (copied to `out[pc]`), if any,
    /// and return the (section, slot) a call or function address targets.
    fn resolve(
        &self,
        sec: usize,
        slot: usize,
        func_end: usize,
        pc: usize,
        out: &mut [RawInsn],
    ) -> Result<Option<(usize, usize)>, LoadError> {
        let Some(raw) = out.get(pc).copied() else {
            return Ok(None);
        };
        let section = self.section(sec);
        let Some(r) = self.relocs.get(&(sec, slot)) else {
            // Calls clang resolved inside the section, without relocation.
            let local = (raw.code == BPF_CALL && raw.src == PSEUDO_CALL)
                || (raw.code == BPF_LD_IMM64 && raw.src == PSEUDO_FUNC);
            if !local {
                return Ok(None);
            }
            let target = i64::try_from(slot)
                .ok()
                .and_then(|s| s.checked_add(1)?.checked_add(i64::from(raw.imm)));
            let nslots = self.code.get(sec).map_or(0, Vec::len);
            return match target.and_then(|t| usize::try_from(t).ok()) {
                Some(t) if t < nslots => Ok(Some((sec, t))),
                _ => Err(LoadError::Call {
                    section: section.name.clone(),
                    offset: slot_offset(slot),
                    what: "call target outside the section",
                }),
            };
        };
        let sym = self.elf.symbols.get(r.symbol);
        let err = |what| LoadError::Relocation {
            section: section.name.clone(),
            offset: r.offset,
            kind: r.kind,
            symbol: sym.map_or_else(String::new, |s| s.name.clone()),
            what,
        };
        let Some(sym) = sym else {
            return Err(err("symbol index out of range"));
        };
        let Some(sym_sec) = sym.section else {
            return Err(err(
                "symbol has no section (undefined or absolute; externs are not supported)",
            ));
        };
        match r.kind {
            R_BPF_64_64 => {
                if raw.code != BPF_LD_IMM64 {
                    return Err(err("R_BPF_64_64 on an instruction that is not ld_imm64"));
                }
                if slot.saturating_add(1) >= func_end {
                    return Err(err("ld_imm64 has no second slot in its function"));
                }
                let target_sec = self.section(sym_sec);
                let (src, imm, imm2, target) = if target_sec.is_exec() {
                    let byte = i64::try_from(sym.value)
                        .ok()
                        .and_then(|v| v.checked_add(i64::from(raw.imm)));
                    let Some(t) = byte
                        .filter(|b| b.checked_rem(SLOT as i64) == Some(0))
                        .and_then(|b| usize::try_from(b.checked_div(SLOT as i64)?).ok())
                    else {
                        return Err(err("function address is not a valid instruction offset"));
                    };
                    (PSEUDO_FUNC, 0, 0, Some((sym_sec, t)))
                } else if Some(sym_sec) == self.maps_section {
                    let Some(idx) = self.map_by_symbol.get(&r.symbol).copied() else {
                        return Err(err("symbol in the maps section is not a map"));
                    };
                    (PSEUDO_MAP_IDX, idx as i32, 0, None)
                } else if let Some(idx) = self.map_by_section.get(&sym_sec).copied() {
                    let off = i64::try_from(sym.value)
                        .ok()
                        .and_then(|v| v.checked_add(i64::from(raw.imm)))
                        .and_then(|o| u32::try_from(o).ok())
                        .filter(|o| u64::from(*o) <= target_sec.size);
                    let Some(off) = off else {
                        return Err(err("offset is outside the global data section"));
                    };
                    (PSEUDO_MAP_IDX_VALUE, idx as i32, off as i32, None)
                } else if Some(sym_sec) == self.btf_maps_section {
                    let Some(idx) = self.map_by_symbol.get(&r.symbol).copied() else {
                        return Err(err("symbol in .maps is not a BTF map variable"));
                    };
                    (PSEUDO_MAP_IDX, idx as i32, 0, None)
                } else {
                    return Err(err("symbol is not a map, global variable or function"));
                };
                if let Some(first) = out.get_mut(pc) {
                    first.src = src;
                    first.imm = imm;
                }
                if let Some(second) = out.get_mut(pc.saturating_add(1)) {
                    second.imm = imm2;
                }
                Ok(target)
            }
            R_BPF_64_32 => {
                if raw.code != BPF_CALL || raw.src != PSEUDO_CALL {
                    return Err(err(
                        "R_BPF_64_32 on an instruction that is not a bpf-to-bpf call",
                    ));
                }
                if !self.section(sym_sec).is_exec() {
                    return Err(err("call target symbol is not in a code section"));
                }
                if sym.value % SLOT != 0 {
                    return Err(err("call target symbol is not at an instruction boundary"));
                }
                let t = i64::try_from(sym.value / SLOT)
                    .ok()
                    .and_then(|v| v.checked_add(i64::from(raw.imm)))
                    .and_then(|v| v.checked_add(1))
                    .and_then(|v| usize::try_from(v).ok());
                match t {
                    Some(t) => Ok(Some((sym_sec, t))),
                    None => Err(err("call target before the start of the section")),
                }
            }
            _ => Err(err("relocation type not supported in code")),
        }
    }
}

/// Map index by the key `key` gives (first map wins).
fn index_by(maps: &[MapEntry], key: impl Fn(&MapEntry) -> Option<usize>) -> BTreeMap<usize, u32> {
    let mut out = BTreeMap::new();
    for (i, m) in maps.iter().enumerate() {
        if let (Some(k), Ok(i)) = (key(m), u32::try_from(i)) {
            out.entry(k).or_insert(i);
        }
    }
    out
}

static EMPTY_SECTION: Section<'static> = Section {
    name: String::new(),
    kind: 0,
    flags: 0,
    offset: 0,
    size: 0,
    data: &[],
};
