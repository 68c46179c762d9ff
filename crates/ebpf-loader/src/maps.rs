//! Map definitions: the legacy `maps` section and global data sections.

use core::fmt;

use crate::elf::{ElfFile, Symbol};
use crate::error::LoadError;

/// `enum bpf_map_type`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct MapType(pub u32);

macro_rules! map_types {
    ($($(#[$doc:meta])* $name:ident = $val:expr, $text:literal;)*) => {
        impl MapType {
            $($(#[$doc])* pub const $name: MapType = MapType($val);)*

            /// The kernel's name without `BPF_MAP_TYPE_`, lower case, or
            /// `None` for a number this crate does not name.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

map_types! {
    /// `BPF_MAP_TYPE_UNSPEC`.
    UNSPEC = 0, "unspec";
    /// `BPF_MAP_TYPE_HASH`.
    HASH = 1, "hash";
    /// `BPF_MAP_TYPE_ARRAY`.
    ARRAY = 2, "array";
    /// `BPF_MAP_TYPE_PROG_ARRAY`.
    PROG_ARRAY = 3, "prog_array";
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
    PERF_EVENT_ARRAY = 4, "perf_event_array";
    /// `BPF_MAP_TYPE_PERCPU_HASH`.
    PERCPU_HASH = 5, "percpu_hash";
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
    PERCPU_ARRAY = 6, "percpu_array";
    /// `BPF_MAP_TYPE_STACK_TRACE`.
    STACK_TRACE = 7, "stack_trace";
    /// `BPF_MAP_TYPE_CGROUP_ARRAY`.
    CGROUP_ARRAY = 8, "cgroup_array";
    /// `BPF_MAP_TYPE_LRU_HASH`.
    LRU_HASH = 9, "lru_hash";
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
    LRU_PERCPU_HASH = 10, "lru_percpu_hash";
    /// `BPF_MAP_TYPE_LPM_TRIE`.
    LPM_TRIE = 11, "lpm_trie";
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
    ARRAY_OF_MAPS = 12, "array_of_maps";
    /// `BPF_MAP_TYPE_HASH_OF_MAPS`.
    HASH_OF_MAPS = 13, "hash_of_maps";
    /// `BPF_MAP_TYPE_DEVMAP`.
    DEVMAP = 14, "devmap";
    /// `BPF_MAP_TYPE_SOCKMAP`.
    SOCKMAP = 15, "sockmap";
    /// `BPF_MAP_TYPE_CPUMAP`.
    CPUMAP = 16, "cpumap";
    /// `BPF_MAP_TYPE_XSKMAP`.
    XSKMAP = 17, "xskmap";
    /// `BPF_MAP_TYPE_SOCKHASH`.
    SOCKHASH = 18, "sockhash";
    /// `BPF_MAP_TYPE_QUEUE`.
    QUEUE = 22, "queue";
    /// `BPF_MAP_TYPE_STACK`.
    STACK = 23, "stack";
    /// `BPF_MAP_TYPE_RINGBUF`.
    RINGBUF = 27, "ringbuf";
}

impl fmt::Display for MapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "MapType({})", self.0),
        }
    }
}

/// `BPF_F_RDONLY_PROG`: the program may only read the map.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`: the array may be mapped into user memory.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

/// Where a map definition came from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum MapKind {
    /// A `struct bpf_map_def` record in the legacy `maps` section.
    Legacy,
    /// A BTF-defined map in `.maps` (`__uint`/`__type` members).
    Btf,
    /// `.data*`: initialised writable globals.
    Data,
    /// `.rodata*`: constants (including clang's `.rodata.str1.1` strings).
    Rodata,
    /// `.bss*`: zero-initialised globals.
    Bss,
}

impl fmt::Display for MapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MapKind::Legacy => "legacy",
            MapKind::Btf => "btf",
            MapKind::Data => "data",
            MapKind::Rodata => "rodata",
            MapKind::Bss => "bss",
        })
    }
}

/// One map the object defines. Index in [`crate::Object::maps`] is the
/// index `ld_imm64` refers to through `Imm64::MapIdx` / `Imm64::MapIdxValue`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MapDef {
    /// Map name: the symbol name for user maps, libbpf's internal name
    /// ([`internal_map_name`]) for global data.
    pub name: String,
    /// Where it came from.
    pub kind: MapKind,
    /// The ELF section holding the definition or the data.
    pub section: String,
    /// Map type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `map_flags`.
    pub flags: u32,
    /// `pinning` of a BTF map (0 none, 1 `LIBBPF_PIN_BY_NAME`); 0 otherwise.
    pub pinning: u32,
    /// Initial value of the single entry of a `.data`/`.rodata` map (the
    /// section bytes). `None` for user maps and for `.bss`, whose value is
    /// all zeros (`value_size` bytes).
    pub data: Option<Vec<u8>>,
    /// The inner map of a map-in-map (`__array(values, struct inner)`):
    /// the template its values must match. `None` otherwise.
    pub inner: Option<Box<MapDef>>,
    /// Slots filled from the object (`.values = { [i] = &x }` in a BTF map
    /// definition, relocations in `.maps`): `(slot, what goes there)`,
    /// sorted by slot.
    pub init: Vec<(u32, MapInit)>,
    /// BTF maps: the type id of `__type(key, T)`'s T in the object's BTF
    /// (0: none, or declared by size).
    pub btf_key_type_id: u32,
    /// BTF maps: the type id of `__type(value, T)`'s T (0: none).
    pub btf_value_type_id: u32,
    /// Where the value holds its `struct bpf_spin_lock`, if it has one
    /// (found in the value's BTF, as the kernel does).
    pub spin_lock_off: Option<u32>,
}

/// What an initialised slot of a map-in-map or program array holds.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MapInit {
    /// The map at this index of [`crate::Object::maps`].
    Map(usize),
    /// The program whose entry function has this name
    /// ([`crate::Object::program`]).
    Program(String),
}

impl fmt::Display for MapInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapInit::Map(i) => write!(f, "map[{i}]"),
            MapInit::Program(name) => write!(f, "program {name}"),
        }
    }
}

/// A map plus the symbol or section relocations refer to it by.
pub(crate) struct MapEntry {
    pub(crate) def: MapDef,
    /// Symbol index (legacy and BTF maps).
    pub(crate) symbol: Option<usize>,
    /// Section index (global data maps).
    pub(crate) section: Option<usize>,
    /// Byte offset of the `values` member in a BTF map definition
    /// (map-in-map, program array), where `.maps` relocations fill slots.
    pub(crate) values_offset: Option<u64>,
}

fn u32_at(record: &[u8], off: usize) -> u32 {
    let mut b = [0u8; 4];
    for (i, slot) in b.iter_mut().enumerate() {
        *slot = off
            .checked_add(i)
            .and_then(|o| record.get(o))
            .copied()
            .unwrap_or(0);
    }
    u32::from_le_bytes(b)
}

/// Size of `struct bpf_map_def` fields we read.
const MAP_DEF_SIZE: usize = 20;

/// Legacy maps: the symbols of the `maps` section, in symbol-table order,
/// each a `struct bpf_map_def` record of `section size / symbol count`
/// bytes (libbpf's rule, which lets older and newer layouts coexist).
pub(crate) fn legacy_maps(elf: &ElfFile<'_>, sec_idx: usize) -> Result<Vec<MapEntry>, LoadError> {
    let Some(sec) = elf.sections.get(sec_idx) else {
        return Ok(Vec::new());
    };
    let syms: Vec<(usize, &Symbol)> = elf
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| s.section == Some(sec_idx) && s.kind != goblin::elf::sym::STT_SECTION)
        .collect();
    if syms.is_empty() {
        return Ok(Vec::new());
    }
    let section_err = |name: &str, offset: u64, what| LoadError::Map {
        section: sec.name.clone(),
        name: name.to_owned(),
        offset,
        what,
    };
    if sec.is_nobits() {
        return Err(section_err(
            "",
            0,
            "maps section has no contents (SHT_NOBITS)",
        ));
    }
    let size = sec.data.len();
    let record = size.checked_div(syms.len()).unwrap_or(0);
    if record == 0 || size.checked_rem(syms.len()) != Some(0) {
        return Err(section_err(
            "",
            0,
            "section size is not a multiple of the number of map symbols",
        ));
    }
    let mut out = Vec::with_capacity(syms.len());
    for (index, sym) in syms {
        let offset = sym.value;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start.checked_rem(record) != Some(0) {
            return Err(section_err(
                &sym.name,
                offset,
                "symbol is not at a record boundary",
            ));
        }
        let Some(bytes) = start
            .checked_add(record)
            .and_then(|end| sec.data.get(start..end))
        else {
            return Err(section_err(
                &sym.name,
                offset,
                "record extends past the end of the section",
            ));
        };
        if bytes.iter().skip(MAP_DEF_SIZE).any(|b| *b != 0) {
            return Err(section_err(
                &sym.name,
                offset,
                "non-zero bytes after the known fields of struct bpf_map_def",
            ));
        }
        out.push(MapEntry {
            def: MapDef {
                name: sym.name.clone(),
                kind: MapKind::Legacy,
                section: sec.name.clone(),
                map_type: MapType(u32_at(bytes, 0)),
                key_size: u32_at(bytes, 4),
                value_size: u32_at(bytes, 8),
                max_entries: u32_at(bytes, 12),
                flags: u32_at(bytes, 16),
                pinning: 0,
                data: None,
                inner: None,
                init: Vec::new(),
                btf_key_type_id: 0,
                btf_value_type_id: 0,
                spin_lock_off: None,
            },
            symbol: Some(index),
            section: None,
            values_offset: None,
        });
    }
    Ok(out)
}

/// The kind of a global data section, by libbpf's naming rules.
pub(crate) fn data_kind(name: &str) -> Option<MapKind> {
    let is = |base: &str| {
        name.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    if is(".data") {
        Some(MapKind::Data)
    } else if is(".rodata") {
        Some(MapKind::Rodata)
    } else if is(".bss") {
        Some(MapKind::Bss)
    } else {
        None
    }
}

/// libbpf's internal map name for a global data section: up to 15
/// characters, the object name as prefix (as much as fits beside the
/// section name, which gets at least 7) for `.data`, `.rodata`, `.bss`;
/// no prefix for custom sections with a second dot (`.rodata.str1.1`,
/// `.data.custom`); characters other than alphanumerics, `_` and `.`
/// replaced by `_`.
#[must_use]
pub fn internal_map_name(object: &str, section: &str) -> String {
    const MAX: usize = 15; // BPF_OBJ_NAME_LEN - 1
    let sfx_len = section.chars().count().clamp(7, MAX);
    let custom = section.chars().skip(1).any(|c| c == '.');
    let pfx_len = if custom {
        0
    } else {
        MAX.saturating_sub(sfx_len)
    };
    object
        .chars()
        .take(pfx_len)
        .chain(section.chars().take(sfx_len))
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A global data section as a one-entry array map.
pub(crate) fn data_map(
    elf: &ElfFile<'_>,
    sec_idx: usize,
    kind: MapKind,
    object: &str,
) -> Result<Option<MapEntry>, LoadError> {
    let Some(sec) = elf.sections.get(sec_idx) else {
        return Ok(None);
    };
    if sec.size == 0 {
        return Ok(None);
    }
    let Ok(value_size) = u32::try_from(sec.size) else {
        return Err(LoadError::Map {
            section: sec.name.clone(),
            name: sec.name.clone(),
            offset: 0,
            what: "global data section larger than 4 GiB",
        });
    };
    let mut flags = 0;
    if crate::btf::has_global_var(elf, &sec.name) {
        flags |= BPF_F_MMAPABLE;
    }
    if kind == MapKind::Rodata {
        flags |= BPF_F_RDONLY_PROG;
    }
    Ok(Some(MapEntry {
        def: MapDef {
            name: internal_map_name(object, &sec.name),
            kind,
            section: sec.name.clone(),
            map_type: MapType::ARRAY,
            key_size: 4,
            value_size,
            max_entries: 1,
            flags,
            pinning: 0,
            data: (!sec.is_nobits()).then(|| sec.data.to_vec()),
            inner: None,
            init: Vec::new(),
            btf_key_type_id: 0,
            btf_value_type_id: 0,
            spin_lock_off: None,
        },
        symbol: None,
        section: Some(sec_idx),
        values_offset: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_names() {
        assert_eq!(internal_map_name("globals", ".data"), "globals.data");
        assert_eq!(internal_map_name("test_prog", ".rodata"), "test_pro.rodata");
        assert_eq!(
            internal_map_name("globals", ".rodata.str1.1"),
            ".rodata.str1.1"
        );
        assert_eq!(internal_map_name("a-b", ".bss"), "a_b.bss");
        assert_eq!(
            internal_map_name("x", ".data.very_long_name"),
            ".data.very_long"
        );
        assert_eq!(internal_map_name("", ".bss"), ".bss");
        assert_eq!(
            internal_map_name("averyverylongname", ".bss"),
            "averyver.bss"
        );
    }

    fn maps_elf<'a>(data: &'a [u8], values: &[u64]) -> ElfFile<'a> {
        use crate::elf::Section;
        let section = |name: &str, data| Section {
            name: name.into(),
            kind: goblin::elf::section_header::SHT_PROGBITS,
            flags: 3,
            offset: 0x40,
            size: 0,
            data,
        };
        ElfFile {
            sections: vec![section("", &[]), section("maps", data)],
            symbols: values
                .iter()
                .enumerate()
                .map(|(i, v)| Symbol {
                    name: format!("m{i}"),
                    value: *v,
                    size: 0,
                    kind: goblin::elf::sym::STT_OBJECT,
                    bind: goblin::elf::sym::STB_GLOBAL,
                    section: Some(1),
                })
                .collect(),
            relocs: vec![Vec::new(); 2],
        }
    }

    fn words(w: &[u32]) -> Vec<u8> {
        w.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn legacy_record_sizes() {
        // 16-byte records (no map_flags): flags read as 0.
        let data = words(&[1, 4, 8, 16, 2, 4, 4, 1]);
        let elf = maps_elf(&data, &[16, 0]);
        let maps = legacy_maps(&elf, 1).unwrap();
        let defs: Vec<_> = maps
            .iter()
            .map(|m| {
                (
                    m.def.name.as_str(),
                    m.def.map_type,
                    m.def.value_size,
                    m.def.flags,
                )
            })
            .collect();
        assert_eq!(
            defs,
            [("m0", MapType::ARRAY, 4, 0), ("m1", MapType::HASH, 8, 0)]
        );
        // 28-byte records with zero padding are accepted; non-zero is not.
        let mut data = words(&[2, 4, 8, 1, 5, 0, 0]);
        assert_eq!(
            legacy_maps(&maps_elf(&data, &[0]), 1).unwrap()[0].def.flags,
            5
        );
        data[24] = 1;
        assert!(matches!(
            legacy_maps(&maps_elf(&data, &[0]), 1),
            Err(LoadError::Map { offset: 0, what, .. }) if what.contains("non-zero bytes")
        ));
        // Size not divisible by the symbol count; symbol off a boundary.
        let data = words(&[1, 4, 8, 16, 0]);
        assert!(legacy_maps(&maps_elf(&data[..19], &[0, 9]), 1).is_err());
        assert!(legacy_maps(&maps_elf(&data, &[4]), 1).is_err());
    }

    #[test]
    fn data_kinds() {
        assert_eq!(data_kind(".data"), Some(MapKind::Data));
        assert_eq!(data_kind(".data.foo"), Some(MapKind::Data));
        assert_eq!(data_kind(".rodata.str1.1"), Some(MapKind::Rodata));
        assert_eq!(data_kind(".bss"), Some(MapKind::Bss));
        assert_eq!(data_kind(".database"), None);
        assert_eq!(data_kind(".BTF"), None);
    }
}
