//! Maps: definitions, validation, storage, and the embedder's API.
//!
//! A [`Maps`] store owns every map of a [`crate::Runtime`]. Maps are created
//! from a [`MapDef`] (validated as the kernel's `map_alloc_check` does) and
//! named by a [`MapId`], their index in creation order. That index is also
//! the map's address in guest memory ([`MapId::addr`]) and what `ld_imm64`
//! map references resolve through: `src = 5` (`BPF_PSEUDO_MAP_IDX`) directly,
//! and `src = 1` (`BPF_PSEUDO_MAP_FD`) by treating the "fd" as the index, so
//! an embedder that loads an object maps its map *i* to fd *i*.
//!
//! | type | storage | program-visible region |
//! |---|---|---|
//! | `array`, `percpu_array` | `max_entries * value_size` bytes | the whole array |
//! | `hash`, `percpu_hash`, `lru_hash`, `lru_percpu_hash` | preallocated slab of value slots | the slab |
//! | `queue`, `stack` | ring of value slots | none (values are copied) |
//! | `ringbuf` | `max_entries` bytes of ring | the ring |
//! | `prog_array` | program indices | none |
//!
//! Per-CPU maps behave as if the machine had one CPU: the host sees one value
//! per key, not one per CPU.

mod hash;
mod queue;
mod ringbuf;

use hash::HashStore;
use queue::QueueStore;
use ringbuf::RingBuf;

use crate::layout;

/// `BPF_ANY`: create or update.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create only.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: update only.
pub const BPF_EXIST: u64 = 2;

/// Map creation flags (`map_flags`), with the kernel's names and values.
pub mod flags {
    /// Hash maps: allocate elements on demand (accepted, storage is still preallocated).
    pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
    /// LRU maps: per-CPU LRU lists (accepted, one list here).
    pub const BPF_F_NO_COMMON_LRU: u32 = 1 << 1;
    /// Allocate on a NUMA node (accepted, ignored).
    pub const BPF_F_NUMA_NODE: u32 = 1 << 2;
    /// The host may only read (accepted, not enforced).
    pub const BPF_F_RDONLY: u32 = 1 << 3;
    /// The host may only write (accepted, not enforced).
    pub const BPF_F_WRONLY: u32 = 1 << 4;
    /// Hash maps: zero hash seed (accepted, ignored).
    pub const BPF_F_ZERO_SEED: u32 = 1 << 6;
    /// Programs may only read: the map's region is read-only.
    pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
    /// Programs may only write (accepted, not enforced).
    pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;
    /// Array maps: mmap-able (accepted).
    pub const BPF_F_MMAPABLE: u32 = 1 << 10;
    /// May be used as an inner map (accepted).
    pub const BPF_F_INNER_MAP: u32 = 1 << 12;
}
use flags::*;

/// Errno values the kernel returns (as negative numbers) from map helpers.
pub mod errno {
    /// No such element.
    pub const ENOENT: i32 = 2;
    /// Map full / index out of range.
    pub const E2BIG: i32 = 7;
    /// No space in a ring buffer.
    pub const EAGAIN: i32 = 11;
    /// Element exists.
    pub const EEXIST: i32 = 17;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
}

/// The largest value the kernel allocates in one piece (`KMALLOC_MAX_SIZE`
/// on x86-64), used as the value-size limit.
pub const MAX_VALUE_SIZE: u32 = 4 << 20;

/// Largest hash key (`MAX_BPF_STACK`): a program must be able to hold it.
pub const MAX_KEY_SIZE: u32 = 512;

/// Default limit on the bytes all maps of one [`Maps`] may use: 1 GiB.
pub const DEFAULT_MEMORY_LIMIT: u64 = 1 << 30;

/// A map type (`enum bpf_map_type`), as a newtype so that any number from an
/// object file can be represented; [`Maps::create`] rejects the unsupported.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MapType(pub u32);

impl MapType {
    /// `BPF_MAP_TYPE_HASH`
    pub const HASH: MapType = MapType(1);
    /// `BPF_MAP_TYPE_ARRAY`
    pub const ARRAY: MapType = MapType(2);
    /// `BPF_MAP_TYPE_PROG_ARRAY`
    pub const PROG_ARRAY: MapType = MapType(3);
    /// `BPF_MAP_TYPE_PERCPU_HASH`
    pub const PERCPU_HASH: MapType = MapType(5);
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`
    pub const PERCPU_ARRAY: MapType = MapType(6);
    /// `BPF_MAP_TYPE_LRU_HASH`
    pub const LRU_HASH: MapType = MapType(9);
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`
    pub const ARRAY_OF_MAPS: MapType = MapType(12);
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`
    pub const LRU_PERCPU_HASH: MapType = MapType(10);
    /// `BPF_MAP_TYPE_QUEUE`
    pub const QUEUE: MapType = MapType(22);
    /// `BPF_MAP_TYPE_STACK`
    pub const STACK: MapType = MapType(23);
    /// `BPF_MAP_TYPE_RINGBUF`
    pub const RINGBUF: MapType = MapType(27);

    /// The name `bpftool` prints (`hash`, `array`, ...), for supported types.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            MapType::HASH => "hash",
            MapType::ARRAY => "array",
            MapType::PROG_ARRAY => "prog_array",
            MapType::PERCPU_HASH => "percpu_hash",
            MapType::PERCPU_ARRAY => "percpu_array",
            MapType::LRU_HASH => "lru_hash",
            MapType::LRU_PERCPU_HASH => "lru_percpu_hash",
            MapType::ARRAY_OF_MAPS => "array_of_maps",
            MapType::QUEUE => "queue",
            MapType::STACK => "stack",
            MapType::RINGBUF => "ringbuf",
            _ => return None,
        })
    }
}

impl core::fmt::Display for MapType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type {}", self.0),
        }
    }
}

/// What a map is: the fields of `BPF_MAP_CREATE` that matter here.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct MapDef {
    /// Type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity (bytes for a ring buffer).
    pub max_entries: u32,
    /// `map_flags` ([`flags`]).
    pub flags: u32,
    /// Name, for messages and [`Maps::find`].
    pub name: String,
}

impl MapDef {
    /// A definition with no flags.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        map_type: MapType,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> MapDef {
        MapDef {
            map_type,
            key_size,
            value_size,
            max_entries,
            flags: 0,
            name: name.into(),
        }
    }

    /// The same definition with `flags`.
    #[must_use]
    pub fn with_flags(mut self, flags: u32) -> MapDef {
        self.flags = flags;
        self
    }
}

/// A map's index in its [`Maps`] store.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct MapId(pub u32);

impl MapId {
    /// The index.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The map's handle / value-region address in guest memory.
    #[must_use]
    pub const fn addr(self) -> u64 {
        layout::region_base(layout::MAP_TAG_BASE.saturating_add(self.0))
    }
}

impl core::fmt::Display for MapId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "map #{}", self.0)
    }
}

/// Why a map could not be created or an operation on it failed.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// An array of maps was given a value that is not the id of a map it
    /// can hold.
    #[error("map {map}: the value is not the id of a map an array of maps can hold")]
    InvalidInner {
        /// The array of maps.
        map: MapId,
    },
    /// The map type is not implemented.
    #[error("map '{name}': unsupported map type {map_type}")]
    UnsupportedType {
        /// Map name.
        name: String,
        /// The type.
        map_type: MapType,
    },
    /// The key size does not suit the type.
    #[error("map '{name}' ({map_type}): key size {key_size} invalid, expected {expected}")]
    InvalidKeySize {
        /// Map name.
        name: String,
        /// The type.
        map_type: MapType,
        /// Given key size.
        key_size: u32,
        /// What the type allows.
        expected: &'static str,
    },
    /// The value size does not suit the type.
    #[error("map '{name}' ({map_type}): value size {value_size} invalid, expected {expected}")]
    InvalidValueSize {
        /// Map name.
        name: String,
        /// The type.
        map_type: MapType,
        /// Given value size.
        value_size: u32,
        /// What the type allows.
        expected: &'static str,
    },
    /// `max_entries` does not suit the type.
    #[error("map '{name}' ({map_type}): max_entries {max_entries} invalid, expected {expected}")]
    InvalidMaxEntries {
        /// Map name.
        name: String,
        /// The type.
        map_type: MapType,
        /// Given capacity.
        max_entries: u32,
        /// What the type allows.
        expected: &'static str,
    },
    /// Creation flags the type does not accept.
    #[error("map '{name}' ({map_type}): invalid map flags {flags:#x}")]
    InvalidMapFlags {
        /// Map name.
        name: String,
        /// The type.
        map_type: MapType,
        /// The offending bits.
        flags: u32,
    },
    /// The map would exceed the store's memory limit or the 4 GiB a region
    /// can address.
    #[error("map '{name}': needs {bytes} bytes, over the limit of {limit}")]
    TooLarge {
        /// Map name.
        name: String,
        /// Bytes needed.
        bytes: u64,
        /// Bytes allowed.
        limit: u64,
    },
    /// Too many maps for the tag space.
    #[error("too many maps ({count})")]
    TooManyMaps {
        /// Maps already created.
        count: usize,
    },
    /// No map has this id.
    #[error("{map}: no such map")]
    NoSuchMap {
        /// The id.
        map: MapId,
    },
    /// A key of the wrong length (host API).
    #[error("{map}: key is {got} bytes, expected {expected}")]
    KeySize {
        /// The map.
        map: MapId,
        /// Key size of the map.
        expected: u32,
        /// Given length.
        got: usize,
    },
    /// A value of the wrong length (host API).
    #[error("{map}: value is {got} bytes, expected {expected}")]
    ValueSize {
        /// The map.
        map: MapId,
        /// Value size of the map.
        expected: u32,
        /// Given length.
        got: usize,
    },
    /// No element with this key, or an empty queue/stack (`-ENOENT`).
    #[error("{map}: no such element")]
    NotFound {
        /// The map.
        map: MapId,
    },
    /// `BPF_NOEXIST` on an existing key (`-EEXIST`).
    #[error("{map}: element exists")]
    Exists {
        /// The map.
        map: MapId,
    },
    /// The map is full or the index is past `max_entries` (`-E2BIG`).
    #[error("{map}: map is full or index out of range")]
    Full {
        /// The map.
        map: MapId,
    },
    /// Update flags other than `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST` (`-EINVAL`).
    #[error("{map}: invalid update flags {flags:#x}")]
    InvalidFlags {
        /// The map.
        map: MapId,
        /// The flags.
        flags: u64,
    },
    /// The operation does not exist for this map type (`-EINVAL`).
    #[error("{map} ({map_type}): {op} is not supported")]
    Unsupported {
        /// The map.
        map: MapId,
        /// Its type.
        map_type: MapType,
        /// The operation.
        op: &'static str,
    },
    /// A ring buffer has no room for the record (`-EAGAIN`).
    #[error("{map}: ring buffer full")]
    NoSpace {
        /// The map.
        map: MapId,
    },
    /// Submit/discard of a pointer that is not an outstanding reservation.
    #[error("{map}: {offset:#x} is not a reserved ring buffer sample")]
    NotReserved {
        /// The map.
        map: MapId,
        /// Offset in the ring.
        offset: u32,
    },
}

impl MapError {
    /// The positive errno the kernel would return for this failure.
    #[must_use]
    pub fn errno(&self) -> i32 {
        match self {
            MapError::NotFound { .. } | MapError::NoSuchMap { .. } => errno::ENOENT,
            MapError::Exists { .. } => errno::EEXIST,
            MapError::Full { .. } | MapError::TooLarge { .. } | MapError::TooManyMaps { .. } => {
                errno::E2BIG
            }
            MapError::NoSpace { .. } => errno::EAGAIN,
            _ => errno::EINVAL,
        }
    }

    /// `-errno` as a helper's 64-bit return value.
    #[must_use]
    pub fn helper_ret(&self) -> u64 {
        (-i64::from(self.errno())) as u64
    }
}

/// Store-level failure, given a map id by [`MapErrorKind::at`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MapErrorKind {
    NotFound,
    Exists,
    Full,
    InvalidFlags,
    NoSpace,
    NotReserved,
}

impl MapErrorKind {
    fn at(self, map: MapId, flags: u64, offset: u32) -> MapError {
        match self {
            MapErrorKind::NotFound => MapError::NotFound { map },
            MapErrorKind::Exists => MapError::Exists { map },
            MapErrorKind::Full => MapError::Full { map },
            MapErrorKind::InvalidFlags => MapError::InvalidFlags { map, flags },
            MapErrorKind::NoSpace => MapError::NoSpace { map },
            MapErrorKind::NotReserved => MapError::NotReserved { map, offset },
        }
    }
}

#[derive(Clone, Debug)]
enum Store {
    Array(Vec<u8>),
    Hash(HashStore),
    Queue(QueueStore),
    RingBuf(RingBuf),
    /// Program index per slot (`u32::MAX` = empty), as little-endian bytes so
    /// that host lookups can return a slice. `ARRAY_OF_MAPS` uses the same
    /// store with map ids.
    ProgArray(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Map {
    def: MapDef,
    store: Store,
    prog_writable: bool,
}

const PROG_NONE: u32 = u32::MAX;

/// Every map of a runtime.
#[derive(Clone, Debug)]
pub struct Maps {
    maps: Vec<Map>,
    bytes: u64,
    limit: u64,
}

impl Default for Maps {
    fn default() -> Maps {
        Maps::new()
    }
}

fn check_flags(def: &MapDef, allowed: u32) -> Result<(), MapError> {
    let bad = def.flags & !allowed;
    if bad != 0 {
        return Err(MapError::InvalidMapFlags {
            name: def.name.clone(),
            map_type: def.map_type,
            flags: bad,
        });
    }
    Ok(())
}

fn want(
    def: &MapDef,
    field: &'static str,
    ok: bool,
    expected: &'static str,
) -> Result<(), MapError> {
    if ok {
        return Ok(());
    }
    let (name, map_type) = (def.name.clone(), def.map_type);
    Err(match field {
        "key" => MapError::InvalidKeySize {
            name,
            map_type,
            key_size: def.key_size,
            expected,
        },
        "value" => MapError::InvalidValueSize {
            name,
            map_type,
            value_size: def.value_size,
            expected,
        },
        _ => MapError::InvalidMaxEntries {
            name,
            map_type,
            max_entries: def.max_entries,
            expected,
        },
    })
}

const ACCESS_FLAGS: u32 =
    BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;

impl Maps {
    /// An empty store with the default memory limit.
    #[must_use]
    pub fn new() -> Maps {
        Maps::with_memory_limit(DEFAULT_MEMORY_LIMIT)
    }

    /// An empty store whose maps may use at most `limit` bytes in total.
    #[must_use]
    pub fn with_memory_limit(limit: u64) -> Maps {
        Maps {
            maps: Vec::new(),
            bytes: 0,
            limit,
        }
    }

    /// Validate `def` and create the map, zero-filled and empty.
    pub fn create(&mut self, def: MapDef) -> Result<MapId, MapError> {
        let idx = u32::try_from(self.maps.len())
            .ok()
            .filter(|&i| layout::map_addr(i).is_some())
            .ok_or(MapError::TooManyMaps {
                count: self.maps.len(),
            })?;
        let (ks, vs, n) = (def.key_size, def.value_size, def.max_entries);
        let value_ok = vs > 0 && vs <= MAX_VALUE_SIZE;
        const VALUE: &str = "1..=4194304";
        let (bytes, region) = match def.map_type {
            MapType::ARRAY | MapType::PERCPU_ARRAY => {
                let mmap = if def.map_type == MapType::ARRAY {
                    BPF_F_MMAPABLE
                } else {
                    0
                };
                check_flags(&def, ACCESS_FLAGS | mmap | BPF_F_INNER_MAP)?;
                want(&def, "key", ks == 4, "4")?;
                want(&def, "value", value_ok, VALUE)?;
                want(&def, "max", n > 0, "> 0")?;
                let b = u64::from(vs) * u64::from(n);
                (b, b)
            }
            MapType::HASH | MapType::PERCPU_HASH | MapType::LRU_HASH | MapType::LRU_PERCPU_HASH => {
                let lru = matches!(def.map_type, MapType::LRU_HASH | MapType::LRU_PERCPU_HASH);
                let extra = if lru {
                    BPF_F_NO_COMMON_LRU
                } else {
                    BPF_F_NO_PREALLOC
                };
                check_flags(
                    &def,
                    ACCESS_FLAGS | extra | BPF_F_ZERO_SEED | BPF_F_INNER_MAP,
                )?;
                want(&def, "key", ks > 0 && ks <= MAX_KEY_SIZE, "1..=512")?;
                want(&def, "value", value_ok, VALUE)?;
                want(&def, "max", n > 0, "> 0")?;
                let b = HashStore::footprint(ks, vs, n, lru).unwrap_or(u64::MAX);
                (b, u64::from(vs) * u64::from(n))
            }
            MapType::QUEUE | MapType::STACK => {
                check_flags(&def, ACCESS_FLAGS)?;
                want(&def, "key", ks == 0, "0")?;
                want(&def, "value", value_ok, VALUE)?;
                want(&def, "max", n > 0, "> 0")?;
                (u64::from(vs) * u64::from(n), 0)
            }
            MapType::RINGBUF => {
                check_flags(&def, BPF_F_NUMA_NODE)?;
                want(&def, "key", ks == 0, "0")?;
                want(&def, "value", vs == 0, "0")?;
                want(
                    &def,
                    "max",
                    n.is_power_of_two() && n % 4096 == 0,
                    "a power of two multiple of 4096",
                )?;
                (u64::from(n), u64::from(n))
            }
            MapType::PROG_ARRAY | MapType::ARRAY_OF_MAPS => {
                check_flags(&def, ACCESS_FLAGS)?;
                want(&def, "key", ks == 4, "4")?;
                want(&def, "value", vs == 4, "4")?;
                want(&def, "max", n > 0, "> 0")?;
                (4 * u64::from(n), 0)
            }
            other => {
                return Err(MapError::UnsupportedType {
                    name: def.name.clone(),
                    map_type: other,
                });
            }
        };
        let total = self.bytes.saturating_add(bytes);
        if total > self.limit || region > u64::from(u32::MAX) {
            return Err(MapError::TooLarge {
                name: def.name.clone(),
                bytes,
                limit: self.limit.min(u64::from(u32::MAX)),
            });
        }
        let store = match def.map_type {
            MapType::ARRAY | MapType::PERCPU_ARRAY => Store::Array(vec![0; region as usize]),
            MapType::QUEUE | MapType::STACK => {
                Store::Queue(QueueStore::new(vs, n, def.map_type == MapType::STACK))
            }
            MapType::RINGBUF => Store::RingBuf(RingBuf::new(n)),
            MapType::PROG_ARRAY | MapType::ARRAY_OF_MAPS => {
                Store::ProgArray(PROG_NONE.to_le_bytes().repeat(n as usize))
            }
            _ => Store::Hash(HashStore::new(
                ks,
                vs,
                n,
                matches!(def.map_type, MapType::LRU_HASH | MapType::LRU_PERCPU_HASH),
            )),
        };
        self.bytes = total;
        let prog_writable = def.flags & BPF_F_RDONLY_PROG == 0;
        self.maps.push(Map {
            def,
            store,
            prog_writable,
        });
        Ok(MapId(idx))
    }

    /// Number of maps.
    #[must_use]
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether there are no maps.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// The definition of a map.
    #[must_use]
    pub fn def(&self, id: MapId) -> Option<&MapDef> {
        self.maps.get(id.index()).map(|m| &m.def)
    }

    /// The first map named `name`.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<MapId> {
        self.maps
            .iter()
            .position(|m| m.def.name == name)
            .map(|i| MapId(i as u32))
    }

    /// The map a guest map handle (a [`MapId::addr`]) names.
    #[must_use]
    pub fn from_handle(&self, addr: u64) -> Option<MapId> {
        if layout::offset(addr) != 0 {
            return None;
        }
        match layout::RegionKind::from_tag(layout::tag(addr)) {
            layout::RegionKind::Map(i) if (i as usize) < self.maps.len() => Some(MapId(i)),
            _ => None,
        }
    }

    fn get(&self, id: MapId) -> Result<&Map, MapError> {
        self.maps
            .get(id.index())
            .ok_or(MapError::NoSuchMap { map: id })
    }

    fn get_mut(&mut self, id: MapId) -> Result<&mut Map, MapError> {
        self.maps
            .get_mut(id.index())
            .ok_or(MapError::NoSuchMap { map: id })
    }

    /// The program-visible bytes of map `index` and whether programs may
    /// write them (empty for maps without a region).
    #[must_use]
    #[inline]
    pub fn region(&self, index: u32) -> Option<(&[u8], bool)> {
        let m = self.maps.get(index as usize)?;
        Some((m.store.region(), m.prog_writable))
    }

    /// Mutable form of [`Maps::region`]; the caller checks the flag.
    #[must_use]
    #[inline]
    pub fn region_mut(&mut self, index: u32) -> Option<(&mut [u8], bool)> {
        let m = self.maps.get_mut(index as usize)?;
        Some((m.store.region_mut(), m.prog_writable))
    }

    fn check_key(m: &Map, id: MapId, key: &[u8]) -> Result<(), MapError> {
        if key.len() != m.def.key_size as usize {
            return Err(MapError::KeySize {
                map: id,
                expected: m.def.key_size,
                got: key.len(),
            });
        }
        Ok(())
    }

    fn check_value(m: &Map, id: MapId, value: &[u8]) -> Result<(), MapError> {
        if value.len() != m.def.value_size as usize {
            return Err(MapError::ValueSize {
                map: id,
                expected: m.def.value_size,
                got: value.len(),
            });
        }
        Ok(())
    }

    fn unsupported(m: &Map, id: MapId, op: &'static str) -> MapError {
        MapError::Unsupported {
            map: id,
            map_type: m.def.map_type,
            op,
        }
    }

    /// Host-side lookup: the value of `key`, or `None`. Does not count as a
    /// use for LRU maps. For a prog array the value is the program index.
    pub fn lookup(&self, id: MapId, key: &[u8]) -> Result<Option<&[u8]>, MapError> {
        let m = self.get(id)?;
        Self::check_key(m, id, key)?;
        let vs = m.def.value_size as usize;
        Ok(match &m.store {
            Store::Array(data) => array_index(key)
                .filter(|&i| i < m.def.max_entries)
                .map(|i| &data[i as usize * vs..(i as usize + 1) * vs]),
            Store::Hash(h) => h.get(key),
            Store::ProgArray(slots) => array_index(key)
                .filter(|&i| i < m.def.max_entries)
                .map(|i| &slots[i as usize * 4..i as usize * 4 + 4])
                .filter(|v| *v != PROG_NONE.to_le_bytes()),
            Store::Queue(_) | Store::RingBuf(_) => return Err(Self::unsupported(m, id, "lookup")),
        })
    }

    /// Program-side lookup (`bpf_map_lookup_elem`): the offset of the value
    /// in the map's region. Marks LRU elements used. Map types without a
    /// value region give `Ok(None)`.
    pub fn lookup_offset(&mut self, id: MapId, key: &[u8]) -> Result<Option<u32>, MapError> {
        let m = self.get_mut(id)?;
        Self::check_key(m, id, key)?;
        let vs = m.def.value_size;
        Ok(match &mut m.store {
            Store::Array(_) => array_index(key)
                .filter(|&i| i < m.def.max_entries)
                .map(|i| i * vs),
            Store::Hash(h) => h.lookup(key, true),
            _ => None,
        })
    }

    /// `bpf_map_update_elem` for the host and programs alike. Queue and stack
    /// maps push (as the kernel's syscall does); for a prog array the value
    /// is a little-endian `u32` program index, for an array of maps the
    /// [`MapId`] of an existing map that is not itself an array of maps or
    /// a prog array ([`MapError::InvalidInner`] otherwise).
    pub fn update(
        &mut self,
        id: MapId,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapError> {
        if self.get(id)?.def.map_type == MapType::ARRAY_OF_MAPS {
            let inner = array_index(value).map(MapId);
            let ok = inner.and_then(|i| self.get(i).ok()).is_some_and(|m| {
                !matches!(m.def.map_type, MapType::ARRAY_OF_MAPS | MapType::PROG_ARRAY)
            });
            if !ok {
                return Err(MapError::InvalidInner { map: id });
            }
        }
        let m = self.get_mut(id)?;
        Self::check_key(m, id, key)?;
        Self::check_value(m, id, value)?;
        if let Store::Queue(q) = &mut m.store {
            return q.push(value, flags).map_err(|k| k.at(id, flags, 0));
        }
        if flags > BPF_EXIST {
            return Err(MapError::InvalidFlags { map: id, flags });
        }
        let max = m.def.max_entries;
        let vs = value.len();
        match &mut m.store {
            Store::Array(data) | Store::ProgArray(data) => {
                let i = array_index(key)
                    .filter(|&i| i < max)
                    .ok_or(MapError::Full { map: id })? as usize;
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exists { map: id });
                }
                data[i * vs..(i + 1) * vs].copy_from_slice(value);
                Ok(())
            }
            Store::Hash(h) => h.update(key, value, flags).map_err(|k| k.at(id, flags, 0)),
            Store::Queue(_) | Store::RingBuf(_) => Err(Self::unsupported(m, id, "update")),
        }
    }

    /// `bpf_map_delete_elem`. Arrays cannot delete (`-EINVAL`); a prog array
    /// slot is emptied.
    pub fn delete(&mut self, id: MapId, key: &[u8]) -> Result<(), MapError> {
        let m = self.get_mut(id)?;
        Self::check_key(m, id, key)?;
        let max = m.def.max_entries;
        match &mut m.store {
            Store::Hash(h) => h.delete(key).map_err(|k| k.at(id, 0, 0)),
            Store::ProgArray(slots) => {
                let i = array_index(key)
                    .filter(|&i| i < max)
                    .ok_or(MapError::NotFound { map: id })? as usize;
                let slot = &mut slots[i * 4..i * 4 + 4];
                if *slot == PROG_NONE.to_le_bytes() {
                    return Err(MapError::NotFound { map: id });
                }
                slot.copy_from_slice(&PROG_NONE.to_le_bytes());
                Ok(())
            }
            _ => Err(Self::unsupported(m, id, "delete")),
        }
    }

    /// All keys, in a deterministic order: index order for arrays, slot
    /// order for hash maps, filled slots for prog arrays.
    pub fn keys(&self, id: MapId) -> Result<Vec<Vec<u8>>, MapError> {
        let m = self.get(id)?;
        Ok(match &m.store {
            Store::Array(_) => (0..m.def.max_entries)
                .map(|i| i.to_le_bytes().to_vec())
                .collect(),
            Store::Hash(h) => h.keys(),
            Store::ProgArray(slots) => slots
                .chunks_exact(4)
                .enumerate()
                .filter(|(_, v)| *v != PROG_NONE.to_le_bytes())
                .map(|(i, _)| (i as u32).to_le_bytes().to_vec())
                .collect(),
            Store::Queue(_) | Store::RingBuf(_) => return Err(Self::unsupported(m, id, "keys")),
        })
    }

    /// Number of elements (arrays: `max_entries`; ring buffers: bytes in use).
    pub fn count(&self, id: MapId) -> Result<u32, MapError> {
        let m = self.get(id)?;
        Ok(match &m.store {
            Store::Array(_) => m.def.max_entries,
            Store::Hash(h) => h.len(),
            Store::Queue(q) => q.len(),
            Store::RingBuf(r) => r.used(),
            Store::ProgArray(s) => s
                .chunks_exact(4)
                .filter(|v| *v != PROG_NONE.to_le_bytes())
                .count() as u32,
        })
    }

    fn queue(&mut self, id: MapId, op: &'static str) -> Result<&mut QueueStore, MapError> {
        let m = self.get_mut(id)?;
        match &mut m.store {
            Store::Queue(q) => Ok(q),
            _ => Err(MapError::Unsupported {
                map: id,
                map_type: m.def.map_type,
                op,
            }),
        }
    }

    /// `bpf_map_push_elem` on a queue or stack map (`flags`: 0 or `BPF_EXIST`).
    pub fn push(&mut self, id: MapId, value: &[u8], flags: u64) -> Result<(), MapError> {
        Self::check_value(self.get(id)?, id, value)?;
        self.queue(id, "push")?
            .push(value, flags)
            .map_err(|k| k.at(id, flags, 0))
    }

    /// `bpf_map_pop_elem`: the next value, removed.
    pub fn pop(&mut self, id: MapId) -> Result<&[u8], MapError> {
        self.queue(id, "pop")?
            .pop()
            .ok_or(MapError::NotFound { map: id })
    }

    /// `bpf_map_peek_elem`: the next value, kept.
    pub fn peek(&mut self, id: MapId) -> Result<&[u8], MapError> {
        self.queue(id, "peek")?
            .peek()
            .ok_or(MapError::NotFound { map: id })
    }

    fn ringbuf(&mut self, id: MapId, op: &'static str) -> Result<&mut RingBuf, MapError> {
        let m = self.get_mut(id)?;
        match &mut m.store {
            Store::RingBuf(r) => Ok(r),
            _ => Err(MapError::Unsupported {
                map: id,
                map_type: m.def.map_type,
                op,
            }),
        }
    }

    /// `bpf_ringbuf_reserve`: the offset of a fresh sample in the ring, or
    /// `None` when it does not fit.
    pub fn ringbuf_reserve(&mut self, id: MapId, size: u64) -> Result<Option<u32>, MapError> {
        Ok(self.ringbuf(id, "ringbuf_reserve")?.reserve(size))
    }

    /// `bpf_ringbuf_submit` (`discard == false`) or `bpf_ringbuf_discard` of
    /// the sample at `offset`.
    pub fn ringbuf_finish(
        &mut self,
        id: MapId,
        offset: u32,
        discard: bool,
    ) -> Result<(), MapError> {
        self.ringbuf(id, "ringbuf_submit")?
            .finish(offset, discard)
            .map_err(|k| k.at(id, 0, offset))
    }

    /// `bpf_ringbuf_output`: copy `data` into a committed record.
    pub fn ringbuf_output(&mut self, id: MapId, data: &[u8]) -> Result<(), MapError> {
        self.ringbuf(id, "ringbuf_output")?
            .output(data)
            .map_err(|k| k.at(id, 0, 0))
    }

    /// Consume the committed records at the front of a ring buffer, in order
    /// (discarded ones are skipped; a record still reserved stops the drain).
    pub fn ringbuf_drain(&mut self, id: MapId) -> Result<Vec<Vec<u8>>, MapError> {
        Ok(self.ringbuf(id, "ringbuf_drain")?.drain())
    }

    /// The program index in slot `index` of a prog array.
    pub fn prog_array_get(&self, id: MapId, index: u32) -> Result<Option<u32>, MapError> {
        let m = self.get(id)?;
        let Store::ProgArray(slots) = &m.store else {
            return Err(Self::unsupported(m, id, "tail call"));
        };
        if m.def.map_type != MapType::PROG_ARRAY {
            return Err(Self::unsupported(m, id, "tail call"));
        }
        let i = index as usize;
        Ok(slots
            .get(i * 4..i * 4 + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .filter(|&p| p != PROG_NONE))
    }

    /// Put program `prog` in slot `index` of a prog array (`None` empties it).
    pub fn prog_array_set(
        &mut self,
        id: MapId,
        index: u32,
        prog: Option<u32>,
    ) -> Result<(), MapError> {
        let key = index.to_le_bytes();
        match prog {
            Some(p) => self.update(id, &key, &p.to_le_bytes(), BPF_ANY),
            None => match self.delete(id, &key) {
                Err(MapError::NotFound { .. }) => Ok(()),
                r => r,
            },
        }
    }

    /// Iterate over every map's id, program-visible region and
    /// program-writability (for engines that build a region table).
    pub fn regions_mut(&mut self) -> impl Iterator<Item = (MapId, &mut [u8], bool)> {
        self.maps
            .iter_mut()
            .enumerate()
            .map(|(i, m)| (MapId(i as u32), m.store.region_mut(), m.prog_writable))
    }
}

impl Store {
    #[inline]
    fn region(&self) -> &[u8] {
        match self {
            Store::Array(d) => d,
            Store::Hash(h) => &h.values,
            Store::RingBuf(r) => &r.data,
            Store::Queue(_) | Store::ProgArray(_) => &[],
        }
    }

    #[inline]
    fn region_mut(&mut self) -> &mut [u8] {
        match self {
            Store::Array(d) => d,
            Store::Hash(h) => &mut h.values,
            Store::RingBuf(r) => &mut r.data,
            Store::Queue(_) | Store::ProgArray(_) => &mut [],
        }
    }
}

fn array_index(key: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(key.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(n: u32) -> MapDef {
        MapDef::new("a", MapType::ARRAY, 4, 8, n)
    }

    #[test]
    fn validation() {
        let mut m = Maps::new();
        let e = m
            .create(MapDef::new("a", MapType::ARRAY, 8, 8, 1))
            .unwrap_err();
        assert!(
            matches!(e, MapError::InvalidKeySize { key_size: 8, .. }),
            "{e}"
        );
        let e = m
            .create(MapDef::new("a", MapType::ARRAY, 4, 0, 1))
            .unwrap_err();
        assert!(matches!(
            e,
            MapError::InvalidValueSize { value_size: 0, .. }
        ));
        let e = m
            .create(MapDef::new("a", MapType::HASH, 4, 4, 0))
            .unwrap_err();
        assert!(matches!(
            e,
            MapError::InvalidMaxEntries { max_entries: 0, .. }
        ));
        let e = m
            .create(MapDef::new("r", MapType::RINGBUF, 0, 0, 4096 * 3))
            .unwrap_err();
        assert!(matches!(e, MapError::InvalidMaxEntries { .. }));
        let e = m
            .create(MapDef::new("r", MapType::RINGBUF, 0, 0, 2048))
            .unwrap_err();
        assert!(matches!(e, MapError::InvalidMaxEntries { .. }));
        assert!(
            m.create(MapDef::new("r", MapType::RINGBUF, 0, 0, 8192))
                .is_ok()
        );
        let e = m
            .create(MapDef::new("q", MapType::QUEUE, 4, 4, 1))
            .unwrap_err();
        assert!(matches!(e, MapError::InvalidKeySize { .. }));
        let e = m
            .create(MapDef::new("p", MapType::PROG_ARRAY, 4, 8, 1))
            .unwrap_err();
        assert!(matches!(e, MapError::InvalidValueSize { .. }));
        let e = m
            .create(MapDef::new("x", MapType(99), 4, 4, 1))
            .unwrap_err();
        assert_eq!(
            e,
            MapError::UnsupportedType {
                name: "x".into(),
                map_type: MapType(99)
            }
        );
        let e = m.create(arr(1).with_flags(1 << 30)).unwrap_err();
        assert!(matches!(
            e,
            MapError::InvalidMapFlags {
                flags: 0x4000_0000,
                ..
            }
        ));
        let e = m
            .create(MapDef::new("h", MapType::HASH, 513, 4, 1))
            .unwrap_err();
        assert!(matches!(e, MapError::InvalidKeySize { .. }));
        let e = m
            .create(MapDef::new("big", MapType::ARRAY, 4, 4 << 20, u32::MAX))
            .unwrap_err();
        assert!(matches!(e, MapError::TooLarge { .. }));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn array_ops() {
        let mut m = Maps::new();
        let a = m.create(arr(4)).unwrap();
        assert_eq!(a, MapId(0));
        let k = 2u32.to_le_bytes();
        m.update(a, &k, &7u64.to_le_bytes(), BPF_ANY).unwrap();
        assert_eq!(m.lookup(a, &k).unwrap(), Some(&7u64.to_le_bytes()[..]));
        assert_eq!(m.lookup_offset(a, &k).unwrap(), Some(16));
        assert_eq!(m.lookup(a, &9u32.to_le_bytes()).unwrap(), None);
        let e = m
            .update(a, &9u32.to_le_bytes(), &[0; 8], BPF_ANY)
            .unwrap_err();
        assert_eq!(e, MapError::Full { map: a });
        assert_eq!(e.errno(), errno::E2BIG);
        assert_eq!(
            m.update(a, &k, &[0; 8], BPF_NOEXIST),
            Err(MapError::Exists { map: a })
        );
        assert_eq!(
            m.update(a, &k, &[0; 8], 3),
            Err(MapError::InvalidFlags { map: a, flags: 3 })
        );
        assert!(m.update(a, &k, &[0; 8], BPF_EXIST).is_ok());
        assert_eq!(m.delete(a, &k).unwrap_err().errno(), errno::EINVAL);
        assert!(matches!(
            m.update(a, &[0; 3], &[0; 8], 0),
            Err(MapError::KeySize { got: 3, .. })
        ));
        assert!(matches!(
            m.update(a, &k, &[0; 3], 0),
            Err(MapError::ValueSize { got: 3, .. })
        ));
        assert_eq!(m.keys(a).unwrap().len(), 4);
        assert_eq!(m.region(0).unwrap().0.len(), 32);
        assert_eq!(m.find("a"), Some(a));
        assert_eq!(m.from_handle(a.addr()), Some(a));
        assert_eq!(m.from_handle(a.addr() + 8), None);
        assert_eq!(m.from_handle(MapId(5).addr()), None);
    }

    #[test]
    fn readonly_prog_flag() {
        let mut m = Maps::new();
        m.create(arr(1).with_flags(flags::BPF_F_RDONLY_PROG))
            .unwrap();
        assert!(!m.region(0).unwrap().1);
    }

    #[test]
    fn prog_array() {
        let mut m = Maps::new();
        let p = m
            .create(MapDef::new("p", MapType::PROG_ARRAY, 4, 4, 4))
            .unwrap();
        assert_eq!(m.prog_array_get(p, 1).unwrap(), None);
        m.prog_array_set(p, 1, Some(3)).unwrap();
        assert_eq!(m.prog_array_get(p, 1).unwrap(), Some(3));
        assert_eq!(m.prog_array_get(p, 100).unwrap(), None);
        assert_eq!(m.keys(p).unwrap(), vec![1u32.to_le_bytes().to_vec()]);
        m.prog_array_set(p, 1, None).unwrap();
        assert_eq!(m.prog_array_get(p, 1).unwrap(), None);
        assert!(m.region(0).unwrap().0.is_empty());
    }

    #[test]
    fn queue_host_ops() {
        let mut m = Maps::new();
        let q = m.create(MapDef::new("q", MapType::QUEUE, 0, 2, 2)).unwrap();
        m.push(q, &[1, 1], 0).unwrap();
        m.update(q, &[], &[2, 2], 0).unwrap();
        assert_eq!(m.push(q, &[3, 3], 0), Err(MapError::Full { map: q }));
        assert_eq!(m.peek(q).unwrap(), &[1, 1]);
        assert_eq!(m.pop(q).unwrap(), &[1, 1]);
        assert_eq!(m.pop(q).unwrap(), &[2, 2]);
        assert_eq!(m.pop(q), Err(MapError::NotFound { map: q }));
        assert!(matches!(
            m.lookup(q, &[]),
            Err(MapError::Unsupported { .. })
        ));
    }

    #[test]
    fn array_of_maps_holds_map_ids() {
        let mut m = Maps::new();
        let inner = m
            .create(MapDef::new("inner", MapType::ARRAY, 4, 4, 2))
            .unwrap();
        let outer = m
            .create(MapDef::new("outer", MapType::ARRAY_OF_MAPS, 4, 4, 2))
            .unwrap();
        let progs = m
            .create(MapDef::new("p", MapType::PROG_ARRAY, 4, 4, 1))
            .unwrap();
        m.update(outer, &0u32.to_le_bytes(), &inner.0.to_le_bytes(), BPF_ANY)
            .unwrap();
        assert_eq!(
            m.lookup(outer, &0u32.to_le_bytes()).unwrap(),
            Some(&inner.0.to_le_bytes()[..])
        );
        assert_eq!(m.lookup(outer, &1u32.to_le_bytes()).unwrap(), None);
        // Not a map, a map-in-map or a prog array: refused.
        for bad in [99u32, outer.0, progs.0] {
            assert_eq!(
                m.update(outer, &1u32.to_le_bytes(), &bad.to_le_bytes(), BPF_ANY),
                Err(MapError::InvalidInner { map: outer })
            );
        }
        // Not a tail-call target.
        assert!(m.prog_array_get(outer, 0).is_err());
    }
}
