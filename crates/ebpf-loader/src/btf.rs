//! The minimal BTF reader needed for BTF-defined maps (`.maps`): the
//! `.BTF` header, the type table, the string table, and type sizes.
//!
//! Guarantees: every read is bounds-checked; type chains are followed at
//! most [`MAX_CHAIN`] steps (cycles are errors); sizes use checked
//! arithmetic. `.BTF.ext` is read by [`crate::btf_ext`]. Not here: BTF
//! validation beyond what map definitions need, dumping types.

use crate::elf::ElfFile;
use crate::error::LoadError;
use crate::maps::{MapDef, MapEntry, MapKind, MapType};

/// `BPF_MAP_TYPE_ARRAY_OF_MAPS` and `BPF_MAP_TYPE_HASH_OF_MAPS`.
const MAP_OF_MAPS: [MapType; 2] = [MapType(12), MapType(13)];
/// `BPF_MAP_TYPE_PROG_ARRAY`.
const PROG_ARRAY: MapType = MapType(3);

/// Longest typedef/modifier/pointer chain followed.
const MAX_CHAIN: usize = 32;

const BTF_MAGIC: u16 = 0xeb9f;
const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// One BTF type: its common header and the offset of its trailing data.
#[derive(Clone, Copy, Debug)]
struct Type {
    name_off: u32,
    kind: u32,
    /// `kind_flag` (bit 31 of `info`): struct member offsets are bitfields.
    kflag: bool,
    vlen: usize,
    /// `size` or `type`, depending on the kind.
    size_or_type: u32,
    /// Offset of the kind-specific data in the type section.
    extra: usize,
}

/// A parsed `.BTF` section.
pub(crate) struct Btf<'a> {
    types: Vec<Type>,
    type_data: &'a [u8],
    strings: &'a [u8],
}

fn u32_at(bytes: &[u8], off: usize) -> Option<u32> {
    let b = bytes.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn err(what: &'static str) -> LoadError {
    LoadError::Section {
        section: ".BTF".into(),
        offset: 0,
        what,
    }
}

impl<'a> Btf<'a> {
    pub(crate) fn parse(data: &'a [u8]) -> Result<Btf<'a>, LoadError> {
        let magic = data.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        if magic != Some(BTF_MAGIC) {
            return Err(err("bad BTF magic (expected 0xeb9f little-endian)"));
        }
        let field = |off| u32_at(data, off).ok_or_else(|| err("BTF header truncated"));
        let hdr_len = field(4)? as usize;
        let (type_off, type_len) = (field(8)? as usize, field(12)? as usize);
        let (str_off, str_len) = (field(16)? as usize, field(20)? as usize);
        let slice = |off: usize, len: usize| {
            let start = hdr_len.checked_add(off)?;
            data.get(start..start.checked_add(len)?)
        };
        let type_data =
            slice(type_off, type_len).ok_or_else(|| err("BTF type section out of bounds"))?;
        let strings =
            slice(str_off, str_len).ok_or_else(|| err("BTF string section out of bounds"))?;
        let mut types = Vec::new();
        let mut off = 0usize;
        while off < type_data.len() {
            let rd = |o: usize| {
                off.checked_add(o)
                    .and_then(|p| u32_at(type_data, p))
                    .ok_or_else(|| err("BTF type truncated"))
            };
            let (name_off, info, size_or_type) = (rd(0)?, rd(4)?, rd(8)?);
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let extra = off
                .checked_add(12)
                .ok_or_else(|| err("BTF type truncated"))?;
            let trailing = match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => Some(4),
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => Some(0),
                KIND_ARRAY => Some(12),
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => vlen.checked_mul(12),
                KIND_ENUM | KIND_FUNC_PROTO => vlen.checked_mul(8),
                _ => return Err(err("unknown BTF kind")),
            };
            let next = trailing.and_then(|t| extra.checked_add(t));
            match next {
                Some(n) if n <= type_data.len() => off = n,
                _ => return Err(err("BTF type truncated")),
            }
            types.push(Type {
                name_off,
                kind,
                kflag: info >> 31 != 0,
                vlen,
                size_or_type,
                extra,
            });
        }
        Ok(Btf {
            types,
            type_data,
            strings,
        })
    }

    fn ty(&self, id: u32) -> Option<&Type> {
        // Type ids start at 1; 0 is void.
        self.types.get((id as usize).checked_sub(1)?)
    }

    fn name(&self, off: u32) -> &'a str {
        let rest = self.strings.get(off as usize..).unwrap_or_default();
        let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
        core::str::from_utf8(rest.get(..end).unwrap_or_default()).unwrap_or("")
    }

    /// The NUL-terminated string at `off` of the string table (lossy
    /// UTF-8), `None` when `off` is outside it or unterminated.
    pub(crate) fn string(&self, off: u32) -> Option<String> {
        let rest = self.strings.get(off as usize..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
    }

    /// Whether `id` is a `BTF_KIND_FUNC` type.
    pub(crate) fn is_func(&self, id: u32) -> bool {
        self.ty(id).is_some_and(|t| t.kind == KIND_FUNC)
    }

    fn word(&self, t: &Type, idx: usize) -> Option<u32> {
        u32_at(self.type_data, t.extra.checked_add(idx.checked_mul(4)?)?)
    }

    /// Skip typedefs and modifiers.
    fn skip_mods(&self, mut id: u32) -> Option<(u32, &Type)> {
        for _ in 0..MAX_CHAIN {
            let t = self.ty(id)?;
            match t.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type;
                }
                _ => return Some((id, t)),
            }
        }
        None
    }

    /// Size in bytes of type `id`.
    fn size_of(&self, id: u32, depth: usize) -> Option<u64> {
        if depth > MAX_CHAIN {
            return None;
        }
        let (_, t) = self.skip_mods(id)?;
        match t.kind {
            KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT
            | KIND_DATASEC => Some(u64::from(t.size_or_type)),
            KIND_PTR => Some(8),
            KIND_ARRAY => {
                let elem = self.word(t, 0)?;
                let n = self.word(t, 2)?;
                self.size_of(elem, depth.checked_add(1)?)?
                    .checked_mul(u64::from(n))
            }
            _ => None,
        }
    }

    /// `__uint(name, N)` is `int (*name)[N]`: pointer to an array of N.
    fn uint_member(&self, id: u32) -> Option<u32> {
        let (_, ptr) = self.skip_mods(id)?;
        if ptr.kind != KIND_PTR {
            return None;
        }
        let (_, arr) = self.skip_mods(ptr.size_or_type)?;
        if arr.kind != KIND_ARRAY {
            return None;
        }
        self.word(arr, 2)
    }

    /// `__type(name, T)` is `T *name`: the type id of T.
    fn type_member_id(&self, id: u32) -> Option<u32> {
        let (_, ptr) = self.skip_mods(id)?;
        (ptr.kind == KIND_PTR).then_some(ptr.size_or_type)
    }

    /// The byte offset of the `struct bpf_spin_lock` member of struct (or
    /// union) `id`, as the kernel finds it in a map value
    /// (`btf_parse_fields`, top-level members only).
    fn spin_lock_offset(&self, id: u32) -> Option<u32> {
        let (_, t) = self.skip_mods(id)?;
        if t.kind != KIND_STRUCT && t.kind != KIND_UNION {
            return None;
        }
        (0..t.vlen).find_map(|j| {
            let w = j.checked_mul(3)?;
            let mtype = self.word(t, w.checked_add(1)?)?;
            let moff = self.word(t, w.checked_add(2)?)?;
            let (_, mt) = self.skip_mods(mtype)?;
            let bits = if t.kflag { moff & 0x00ff_ffff } else { moff };
            (mt.kind == KIND_STRUCT && self.name(mt.name_off) == "bpf_spin_lock" && bits % 8 == 0)
                .then_some(bits / 8)
        })
    }

    /// `__type(name, T)` is `T *name`: the size of T.
    fn type_member(&self, id: u32) -> Option<u32> {
        let (_, ptr) = self.skip_mods(id)?;
        if ptr.kind != KIND_PTR {
            return None;
        }
        u32::try_from(self.size_of(ptr.size_or_type, 0)?).ok()
    }
}

/// A parameter or return type of a BTF function, as the kernel's checks
/// of global functions classify it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum BtfParam {
    /// An integer or enum.
    Scalar,
    /// A pointer: the pointee's name when it is a struct or union (as the
    /// program type's context is recognised), `""` otherwise, and its size
    /// when it has one (`None` for `void *` and other unsized pointees).
    Pointer {
        /// Struct or union name, or typedef name of one.
        target: String,
        /// Size of the pointee in bytes.
        size: Option<u32>,
    },
    /// `void` (return types only).
    Void,
    /// Anything else (structs by value, floats, ...), with the kind.
    Other(&'static str),
}

/// A function's signature from its BTF `FUNC` and `FUNC_PROTO`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BtfFunc {
    /// Name.
    pub name: String,
    /// `BTF_FUNC_GLOBAL` linkage: the kernel verifies such a function on
    /// its own, from this signature, and calls to it do not descend.
    pub global: bool,
    /// Parameters, in order.
    pub params: Vec<BtfParam>,
    /// Return type.
    pub ret: BtfParam,
}

impl Btf<'_> {
    /// The signature of `BTF_KIND_FUNC` type `id`.
    pub(crate) fn func(&self, id: u32) -> Option<BtfFunc> {
        let f = self.ty(id)?;
        if f.kind != KIND_FUNC {
            return None;
        }
        let proto = self.ty(f.size_or_type)?;
        if proto.kind != KIND_FUNC_PROTO {
            return None;
        }
        let mut params = Vec::with_capacity(proto.vlen);
        for i in 0..proto.vlen {
            // (name_off, type) pairs.
            let ty = self.word(proto, i.checked_mul(2)?.checked_add(1)?)?;
            params.push(self.param(ty));
        }
        Some(BtfFunc {
            name: self.name(f.name_off).to_owned(),
            // `vlen` of a FUNC is its linkage: 0 static, 1 global, 2 extern.
            global: f.vlen == 1,
            params,
            ret: self.param(proto.size_or_type),
        })
    }

    fn param(&self, id: u32) -> BtfParam {
        if id == 0 {
            return BtfParam::Void;
        }
        let Some((_, t)) = self.skip_mods(id) else {
            return BtfParam::Other("unresolved");
        };
        match t.kind {
            KIND_INT | KIND_ENUM | KIND_ENUM64 => BtfParam::Scalar,
            KIND_PTR => {
                let pointee = t.size_or_type;
                // The name the kernel matches contexts by: the struct's,
                // or the first typedef's on the way to it.
                let mut target = String::new();
                let mut cur = pointee;
                for _ in 0..MAX_CHAIN {
                    let Some(pt) = self.ty(cur) else { break };
                    match pt.kind {
                        KIND_TYPEDEF if target.is_empty() => {
                            target = self.name(pt.name_off).to_owned();
                            cur = pt.size_or_type;
                        }
                        KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                        | KIND_TYPE_TAG => cur = pt.size_or_type,
                        KIND_STRUCT | KIND_UNION | KIND_FWD => {
                            target = self.name(pt.name_off).to_owned();
                            break;
                        }
                        _ => break,
                    }
                }
                let size = if pointee == 0 {
                    None
                } else {
                    self.size_of(pointee, 0).and_then(|s| u32::try_from(s).ok())
                };
                BtfParam::Pointer { target, size }
            }
            KIND_STRUCT => BtfParam::Other("struct"),
            KIND_UNION => BtfParam::Other("union"),
            KIND_FLOAT => BtfParam::Other("float"),
            _ => BtfParam::Other("unknown"),
        }
    }
}

/// The signature of every `.BTF` function type id in `ids`, parsed from
/// the ELF's `.BTF` (empty without one, or for ids that are not functions).
pub(crate) fn funcs(elf: &ElfFile<'_>, ids: &[(usize, u32)]) -> Vec<(usize, BtfFunc)> {
    let Some(sec) = elf.sections.iter().find(|s| s.name == ".BTF") else {
        return Vec::new();
    };
    let Ok(btf) = Btf::parse(sec.data) else {
        return Vec::new();
    };
    ids.iter()
        .filter_map(|&(slot, id)| Some((slot, btf.func(id)?)))
        .collect()
}

/// Whether the `.BTF` DATASEC named `section` has a non-static variable:
/// libbpf's rule for making a global data map `BPF_F_MMAPABLE`. False
/// when there is no (readable) BTF or no such DATASEC.
pub(crate) fn has_global_var(elf: &ElfFile<'_>, section: &str) -> bool {
    const BTF_VAR_STATIC: u32 = 0;
    let Some(btf) = elf
        .sections
        .iter()
        .find(|s| s.name == ".BTF")
        .and_then(|s| Btf::parse(s.data).ok())
    else {
        return false;
    };
    btf.types
        .iter()
        .filter(|t| t.kind == KIND_DATASEC && btf.name(t.name_off) == section)
        .any(|sec| {
            (0..sec.vlen).any(|i| {
                i.checked_mul(3)
                    .and_then(|w| btf.word(sec, w))
                    .and_then(|id| btf.ty(id))
                    .filter(|v| v.kind == KIND_VAR)
                    .and_then(|v| btf.word(v, 0))
                    .is_some_and(|linkage| linkage != BTF_VAR_STATIC)
            })
        })
}

/// BTF-defined maps: each variable of the `.maps` DATASEC whose type is a
/// struct of `__uint`/`__type`/`__array` members, tied to its symbol by
/// name.
pub(crate) fn btf_maps(elf: &ElfFile<'_>, maps_sec: usize) -> Result<Vec<MapEntry>, LoadError> {
    let Some(btf_sec) = elf.sections.iter().find(|s| s.name == ".BTF") else {
        return Err(LoadError::Unsupported {
            section: ".maps".into(),
            what: "BTF-defined maps without a .BTF section",
        });
    };
    let btf = Btf::parse(btf_sec.data)?;
    let Some(datasec) = btf
        .types
        .iter()
        .find(|t| t.kind == KIND_DATASEC && btf.name(t.name_off) == ".maps")
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for i in 0..datasec.vlen {
        let Some(var_id) = i.checked_mul(3).and_then(|w| btf.word(datasec, w)) else {
            return Err(err("BTF .maps DATASEC truncated"));
        };
        let Some(var) = btf.ty(var_id).filter(|t| t.kind == KIND_VAR) else {
            return Err(err("BTF .maps entry is not a variable"));
        };
        let name = btf.name(var.name_off).to_owned();
        let (def, values_offset) = map_def(&btf, var.size_or_type, &name, false)?;
        let symbol = elf
            .symbols
            .iter()
            .position(|s| s.section == Some(maps_sec) && s.name == name);
        out.push(MapEntry {
            def,
            symbol,
            section: None,
            values_offset,
        });
    }
    Ok(out)
}

/// The map definition struct `type_id` (of the map named `name`), and the
/// byte offset of its `values` member if it has one. `inner`: this is the
/// `values` type of a map-in-map (which cannot have `values` itself).
fn map_def(
    btf: &Btf<'_>,
    type_id: u32,
    name: &str,
    inner: bool,
) -> Result<(MapDef, Option<u64>), LoadError> {
    let map_err = |what| LoadError::Map {
        section: ".maps".into(),
        name: name.to_owned(),
        offset: 0,
        what,
    };
    let Some((_, def)) = btf
        .skip_mods(type_id)
        .filter(|(_, t)| t.kind == KIND_STRUCT)
    else {
        return Err(map_err("BTF map definition is not a struct"));
    };
    let mut m = MapDef {
        name: name.to_owned(),
        kind: MapKind::Btf,
        section: ".maps".into(),
        map_type: MapType::UNSPEC,
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        flags: 0,
        pinning: 0,
        data: None,
        inner: None,
        init: Vec::new(),
        btf_key_type_id: 0,
        btf_value_type_id: 0,
        spin_lock_off: None,
    };
    let mut values = None;
    for j in 0..def.vlen {
        let w = j.checked_mul(3);
        let member_name = w.and_then(|w| btf.word(def, w));
        let member_type = w.and_then(|w| btf.word(def, w.checked_add(1)?));
        let member_off = w.and_then(|w| btf.word(def, w.checked_add(2)?));
        let (Some(mname), Some(mtype), Some(moff)) = (member_name, member_type, member_off) else {
            return Err(map_err("BTF map struct truncated"));
        };
        let field = btf.name(mname);
        let uint = || {
            btf.uint_member(mtype)
                .ok_or_else(|| map_err("member is not __uint(name, N)"))
        };
        let size = || {
            btf.type_member(mtype)
                .ok_or_else(|| map_err("member is not __type(name, T) with a sized T"))
        };
        match field {
            "type" => m.map_type = MapType(uint()?),
            "max_entries" => m.max_entries = uint()?,
            "map_flags" => m.flags = uint()?,
            "pinning" => m.pinning = uint()?,
            "key_size" => m.key_size = uint()?,
            "value_size" => m.value_size = uint()?,
            "key" => {
                m.key_size = size()?;
                m.btf_key_type_id = btf.type_member_id(mtype).unwrap_or(0);
            }
            "value" => {
                m.value_size = size()?;
                m.btf_value_type_id = btf.type_member_id(mtype).unwrap_or(0);
                m.spin_lock_off = btf.spin_lock_offset(m.btf_value_type_id);
            }
            "numa_node" | "map_extra" => {
                uint()?;
            }
            "values" if inner => {
                return Err(map_err("the inner map of a map-in-map has `values` itself"));
            }
            "values" => {
                // With kind_flag the offset's low 24 bits are the bit offset.
                let bits = if def.kflag { moff & 0x00ff_ffff } else { moff };
                if bits % 8 != 0 {
                    return Err(map_err("`values` member is not byte-aligned"));
                }
                values = Some((u64::from(bits / 8), mtype));
            }
            _ => {
                return Err(LoadError::Unsupported {
                    section: ".maps".into(),
                    what: "BTF map member other than type, key, value, key_size, value_size, \
                           max_entries, map_flags, pinning, numa_node, map_extra, values",
                });
            }
        }
    }
    let Some((offset, vtype)) = values else {
        return Ok((m, None));
    };
    // `__array(values, T)` is `typeof(T) *values[]`: an array of pointers.
    let target = btf
        .skip_mods(vtype)
        .filter(|(_, t)| t.kind == KIND_ARRAY)
        .and_then(|(_, arr)| btf.word(arr, 0))
        .and_then(|elem| btf.skip_mods(elem))
        .filter(|(_, t)| t.kind == KIND_PTR)
        .and_then(|(_, ptr)| btf.skip_mods(ptr.size_or_type));
    match target {
        Some((id, t)) if t.kind == KIND_STRUCT && MAP_OF_MAPS.contains(&m.map_type) => {
            let (inner_def, _) = map_def(btf, id, &format!("{name}.inner"), true)?;
            m.inner = Some(Box::new(inner_def));
            // The value of a map-in-map is a map fd: libbpf's implicit size.
            if m.value_size == 0 {
                m.value_size = 4;
            }
        }
        Some((_, t)) if t.kind == KIND_FUNC_PROTO && m.map_type == PROG_ARRAY => {
            if m.value_size == 0 {
                m.value_size = 4;
            }
        }
        _ => {
            return Err(map_err(
                "`values` must be __array(values, struct map) in a map-in-map or \
                 __array(values, function type) in a program array",
            ));
        }
    }
    Ok((m, Some(offset)))
}

/// The `.BTF` section with what clang leaves for the loader filled in, as
/// libbpf does before `BPF_BTF_LOAD`: each `DATASEC`'s size is its ELF
/// section's size, and each of its variables' offsets is the value of the
/// symbol of that name in that section. `DATASEC`s of sections the object
/// does not have (and variables without a symbol) are left as they are;
/// the kernel then says what it dislikes. `None` without `.BTF`.
pub(crate) fn btf_for_kernel(elf: &ElfFile<'_>) -> Result<Option<Vec<u8>>, LoadError> {
    let Some(sec) = elf.sections.iter().find(|s| s.name == ".BTF") else {
        return Ok(None);
    };
    let btf = Btf::parse(sec.data)?;
    let mut out = sec.data.to_vec();
    // `Btf::parse` checked the header; the type section starts here.
    let types_start = u32_at(sec.data, 4)
        .zip(u32_at(sec.data, 8))
        .and_then(|(hdr, off)| (hdr as usize).checked_add(off as usize))
        .ok_or_else(|| err("BTF header truncated"))?;
    let mut put = |at: usize, value: u32| -> Result<(), LoadError> {
        let pos = types_start
            .checked_add(at)
            .ok_or_else(|| err("BTF type out of bounds"))?;
        let slot = pos
            .checked_add(4)
            .and_then(|end| out.get_mut(pos..end))
            .ok_or_else(|| err("BTF type out of bounds"))?;
        slot.copy_from_slice(&value.to_le_bytes());
        Ok(())
    };
    for t in btf.types.iter().filter(|t| t.kind == KIND_DATASEC) {
        let name = btf.name(t.name_off);
        let Some((sec_idx, elf_sec)) = elf
            .sections
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
        else {
            continue;
        };
        let size = u32::try_from(elf_sec.size).map_err(|_| err("DATASEC section over 4 GiB"))?;
        // `size` is the third word of the common header, just before `extra`.
        put(t.extra.checked_sub(4).ok_or_else(|| err("BTF type"))?, size)?;
        for i in 0..t.vlen {
            let Some(var_id) = i.checked_mul(3).and_then(|w| btf.word(t, w)) else {
                return Err(err("BTF DATASEC truncated"));
            };
            let Some(var) = btf.ty(var_id).filter(|v| v.kind == KIND_VAR) else {
                continue;
            };
            let var_name = btf.name(var.name_off);
            let Some(sym) = elf
                .symbols
                .iter()
                .find(|s| s.section == Some(sec_idx) && s.name == var_name)
            else {
                continue;
            };
            let offset = u32::try_from(sym.value).map_err(|_| err("variable offset over 4 GiB"))?;
            // var_secinfo: type, offset, size; offset is word 1 of entry i.
            let at = i
                .checked_mul(12)
                .and_then(|o| o.checked_add(4))
                .and_then(|o| t.extra.checked_add(o))
                .ok_or_else(|| err("BTF DATASEC truncated"))?;
            put(at, offset)?;
        }
    }
    Ok(Some(out))
}
