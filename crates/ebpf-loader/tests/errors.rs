//! Typed errors for malformed relocations and map definitions, produced by
//! patching one field of a committed fixture.

use std::path::Path;

use ebpf_loader::{LoadError, Object};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/build")
        .join(name);
    std::fs::read(path).expect("fixture")
}

/// File offset of the first `Elf64_Rel` entry of section `rel_name`.
fn rel_entry(bytes: &[u8], rel_name: &str) -> usize {
    let elf = goblin::elf::Elf::parse(bytes).expect("valid fixture");
    let sh = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(rel_name))
        .expect("relocation section");
    sh.sh_offset as usize
}

/// Patch the first relocation of `rel_name`: offset, symbol, type.
fn patch(
    file: &str,
    rel_name: &str,
    off: Option<u64>,
    sym: Option<u32>,
    kind: Option<u32>,
) -> Vec<u8> {
    patch_nth(file, rel_name, 0, off, sym, kind)
}

/// Patch relocation number `n` of `rel_name`.
fn patch_nth(
    file: &str,
    rel_name: &str,
    n: usize,
    off: Option<u64>,
    sym: Option<u32>,
    kind: Option<u32>,
) -> Vec<u8> {
    let mut bytes = fixture(file);
    let at = rel_entry(&bytes, rel_name) + 16 * n;
    if let Some(off) = off {
        bytes[at..at + 8].copy_from_slice(&off.to_le_bytes());
    }
    if let Some(kind) = kind {
        bytes[at + 8..at + 12].copy_from_slice(&kind.to_le_bytes());
    }
    if let Some(sym) = sym {
        bytes[at + 12..at + 16].copy_from_slice(&sym.to_le_bytes());
    }
    bytes
}

fn reloc_error(bytes: &[u8]) -> (String, u64, u32, String, &'static str) {
    match Object::parse(bytes) {
        Err(LoadError::Relocation {
            section,
            offset,
            kind,
            symbol,
            what,
        }) => (section, offset, kind, symbol, what),
        other => panic!("expected a relocation error, got {other:?}"),
    }
}

const KPROBE: &str = "kprobe/do_sys_open";
const KPROBE_REL: &str = ".relkprobe/do_sys_open";

#[test]
fn unsupported_relocation_kind() {
    let bytes = patch("legacy_maps.v3.o", KPROBE_REL, None, None, Some(3));
    assert_eq!(
        reloc_error(&bytes),
        (
            KPROBE.into(),
            0x20,
            3,
            "counters".into(),
            "relocation type not supported in code"
        )
    );
}

#[test]
fn relocation_on_wrong_instruction() {
    let bytes = patch("legacy_maps.v3.o", KPROBE_REL, Some(0x18), None, None);
    assert_eq!(
        reloc_error(&bytes),
        (
            KPROBE.into(),
            0x18,
            1,
            "counters".into(),
            "R_BPF_64_64 on an instruction that is not ld_imm64"
        )
    );
    // The call relocation of tc_sum, turned into R_BPF_64_64.
    let bytes = patch_nth("globals.v3.o", ".reltc", 1, None, None, Some(1));
    let (section, offset, kind, _, what) = reloc_error(&bytes);
    assert_eq!((section.as_str(), offset, kind), ("tc", 0x38, 1));
    assert_eq!(what, "R_BPF_64_64 on an instruction that is not ld_imm64");
}

#[test]
fn relocation_outside_section() {
    let bytes = patch("legacy_maps.v3.o", KPROBE_REL, Some(0x1000), None, None);
    assert_eq!(reloc_error(&bytes).4, "offset is outside the section");
    let bytes = patch("legacy_maps.v3.o", KPROBE_REL, Some(0x21), None, None);
    assert_eq!(
        reloc_error(&bytes).4,
        "offset is not at an instruction boundary"
    );
}

#[test]
fn relocation_symbol_out_of_range() {
    let bytes = patch("legacy_maps.v3.o", KPROBE_REL, None, Some(10_000), None);
    assert!(
        matches!(
            Object::parse(&bytes),
            Err(LoadError::Section { ref section, what, .. })
                if section == KPROBE_REL && what == "relocation names a symbol index out of range"
        ),
        "{:?}",
        Object::parse(&bytes)
    );
}

#[test]
fn relocation_against_non_map_symbol() {
    // Symbol 1 is the FILE symbol (section index SHN_ABS): not a map.
    let bytes = patch("legacy_maps.v3.o", KPROBE_REL, None, Some(1), None);
    let (_, _, _, symbol, what) = reloc_error(&bytes);
    assert_eq!(symbol, "legacy_maps.c");
    assert_eq!(
        what,
        "symbol has no section (undefined or absolute; externs are not supported)"
    );
}

#[test]
fn btf_maps_without_btf_section() {
    // Rename .BTF to .XTF in the section name string table.
    let mut bytes = fixture("xdp_parser.v3.o");
    let pos = bytes
        .windows(5)
        .position(|w| w == b".BTF\0")
        .expect(".BTF name");
    bytes[pos + 1] = b'X';
    assert_eq!(
        Object::parse(&bytes),
        Err(LoadError::Unsupported {
            section: ".maps".into(),
            what: "BTF-defined maps without a .BTF section",
        })
    );
}

/// `.text` functions are entries too, linked with what they call.
#[test]
fn text_functions_are_entries() {
    let obj = Object::parse(&fixture("globals.v3.o")).expect("parses");
    let sum = obj.function("sum_table").expect("sum_table");
    assert_eq!((sum.section.as_str(), sum.global), (".text", true));
    // sum_table (15 slots) then add_clamped (8 slots), which it calls.
    assert_eq!(sum.program.len(), 23);
    let add = obj.function("add_clamped").expect("add_clamped");
    assert!(!add.global);
    assert_eq!(add.program.len(), 8);
    assert!(
        obj.program("sum_table").is_none(),
        ".text functions are not programs"
    );
    assert_eq!(obj.programs.len(), 2);
}

/// File offset of the section header of `name`, and of the symbol table.
fn headers(bytes: &[u8], name: &str) -> (usize, usize) {
    let elf = goblin::elf::Elf::parse(bytes).expect("valid fixture");
    let idx = elf
        .section_headers
        .iter()
        .position(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(name))
        .expect("section");
    let symtab = elf
        .section_headers
        .iter()
        .find(|sh| sh.sh_type == goblin::elf::section_header::SHT_SYMTAB)
        .expect("symtab");
    (
        elf.header.e_shoff as usize + 64 * idx,
        symtab.sh_offset as usize,
    )
}

#[test]
fn section_past_end_of_file() {
    let mut bytes = fixture("socket_filter.v3.o");
    let (shdr, _) = headers(&bytes, "license");
    let len = bytes.len() as u64;
    bytes[shdr + 24..shdr + 32].copy_from_slice(&(len - 2).to_le_bytes());
    assert_eq!(
        Object::parse(&bytes),
        Err(LoadError::Section {
            section: "license".into(),
            offset: len - 2,
            what: "contents extend past the end of the file",
        })
    );
    // A size that overflows offset + size.
    let mut bytes = fixture("socket_filter.v3.o");
    bytes[shdr + 32..shdr + 40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Object::parse(&bytes),
        Err(LoadError::Section { ref section, .. }) if section == "license"
    ));
}

#[test]
fn symbol_section_index_out_of_range() {
    let mut bytes = fixture("socket_filter.v3.o");
    let (_, symtab) = headers(&bytes, "license");
    // Symbol 1 (the FILE symbol): st_shndx at +6 of the 24-byte entry.
    let at = symtab + 24 + 6;
    bytes[at..at + 2].copy_from_slice(&0x1234u16.to_le_bytes());
    assert_eq!(
        Object::parse(&bytes),
        Err(LoadError::Symbol {
            index: 1,
            name: "socket_filter.c".into(),
            what: "section index out of range",
        })
    );
}

/// Index of the symbol named `name` in a fixture.
fn symbol_index(file: &str, name: &str) -> u32 {
    let bytes = fixture(file);
    let elf = goblin::elf::Elf::parse(&bytes).expect("valid fixture");
    let i = elf
        .syms
        .iter()
        .position(|s| elf.strtab.get_at(s.st_name) == Some(name))
        .expect("symbol exists");
    u32::try_from(i).expect("few symbols")
}

#[test]
fn map_values_from_relocations() {
    let tail = Object::parse(&fixture("tail_calls.v3.o")).expect("loads");
    let jt = &tail.maps[0];
    assert_eq!(jt.name, "jump_table");
    assert_eq!(
        jt.init,
        [
            (1, ebpf_loader::MapInit::Program("tc_stage1".into())),
            (2, ebpf_loader::MapInit::Program("tc_stage2".into())),
        ]
    );
    assert!(jt.inner.is_none());
    let mim = Object::parse(&fixture("map_types.v3.o")).expect("loads");
    let outer = mim.maps.iter().find(|m| m.name == "outer").expect("outer");
    assert_eq!(outer.init, [(0, ebpf_loader::MapInit::Map(0))]);
    let inner = outer.inner.as_deref().expect("inner template");
    assert_eq!(
        (
            inner.map_type.0,
            inner.key_size,
            inner.value_size,
            inner.max_entries
        ),
        (2, 4, 4, 4)
    );
    // The value of a map-in-map is a map fd: 4 bytes, implicitly.
    assert_eq!(outer.value_size, 4);
}

#[test]
fn bad_map_values_relocations() {
    const F: &str = "tail_calls.v3.o";
    const REL: &str = ".rel.maps";
    let err = |bytes: Vec<u8>| reloc_error(&bytes);
    // jump_table's `values` starts at byte 24 of its definition; slot 1 is
    // the first relocation, at 0x20.
    let (section, offset, kind, symbol, what) = err(patch(F, REL, None, None, Some(1)));
    assert_eq!(
        (section.as_str(), offset, kind, symbol.as_str(), what),
        (
            ".maps",
            0x20,
            1,
            "tc_stage1",
            "relocation type not supported in .maps"
        )
    );
    assert_eq!(
        err(patch(F, REL, Some(0), None, None)).4,
        "relocation before the map's `values`"
    );
    assert_eq!(
        err(patch(F, REL, Some(0x21), None, None)).4,
        "relocation not at a `values` slot"
    );
    assert_eq!(
        err(patch(F, REL, Some(0x1000), None, None)).4,
        "relocation outside every map definition"
    );
    // Slot 1 twice.
    assert_eq!(
        err(patch_nth(F, REL, 1, Some(0x20), None, None)).4,
        "second relocation for one `values` slot"
    );
    // A global variable in a slot.
    let hops = symbol_index(F, "hops");
    assert_eq!(
        err(patch(F, REL, None, Some(hops), None)).4,
        "a `values` slot names neither a map nor a program"
    );
    // A map in a program array's slot.
    let jt = symbol_index(F, "jump_table");
    assert_eq!(
        err(patch(F, REL, None, Some(jt), None)).4,
        "a `values` slot of the wrong kind for its map"
    );
    // A program in a map-in-map's slot.
    let prog = symbol_index("map_types.v3.o", "xdp_lru");
    assert_eq!(
        err(patch("map_types.v3.o", REL, None, Some(prog), None)).4,
        "a `values` slot of the wrong kind for its map"
    );
}
