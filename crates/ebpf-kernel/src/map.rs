//! `BPF_MAP_CREATE` and the element commands.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use crate::consts::{MapFlags, MapType};
use crate::error::Error;
use crate::prog::object_name;
use crate::sys;

/// The arguments of `BPF_MAP_CREATE` this crate passes. Build with struct
/// update syntax from [`MapCreate::default`]:
///
/// ```
/// use ebpf_kernel::{MapCreate, MapType};
///
/// let create = MapCreate {
///     map_type: MapType::HASH,
///     key_size: 4,
///     value_size: 8,
///     max_entries: 16,
///     ..MapCreate::default()
/// };
/// # let _ = create;
/// ```
#[derive(Clone, Debug, Default)]
pub struct MapCreate<'a> {
    /// `map_type`.
    pub map_type: MapType,
    /// `key_size` in bytes.
    pub key_size: u32,
    /// `value_size` in bytes (per CPU for per-CPU maps).
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: MapFlags,
    /// `map_name`: at most 15 bytes of `[A-Za-z0-9_.]`.
    pub name: &'a str,
    /// `inner_map_fd`: the template of `ARRAY_OF_MAPS`/`HASH_OF_MAPS`.
    pub inner_map_fd: Option<BorrowedFd<'a>>,
    /// `map_extra` (bloom filter: number of hashes; arena: address hint).
    pub map_extra: u64,
    /// `btf_fd`: the BTF that describes the key and value (needed for
    /// values with special fields such as `struct bpf_spin_lock`).
    pub btf_fd: Option<BorrowedFd<'a>>,
    /// `btf_key_type_id` in `btf_fd` (0: none).
    pub btf_key_type_id: u32,
    /// `btf_value_type_id` in `btf_fd` (0: none).
    pub btf_value_type_id: u32,
}

/// A map: its fd (closed on drop) and its shape as the kernel reports it.
#[derive(Debug)]
pub struct MapFd {
    handle: sys::MapHandle,
}

impl MapFd {
    /// The map type.
    #[must_use]
    pub fn map_type(&self) -> MapType {
        self.handle.map_type
    }

    /// The kernel-wide map id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.handle.id
    }

    /// `key_size`.
    #[must_use]
    pub fn key_size(&self) -> u32 {
        self.handle.key_size
    }

    /// `value_size` (per CPU for per-CPU maps).
    #[must_use]
    pub fn value_size(&self) -> u32 {
        self.handle.value_size
    }

    /// `max_entries`.
    #[must_use]
    pub fn max_entries(&self) -> u32 {
        self.handle.max_entries
    }

    /// `map_flags`.
    #[must_use]
    pub fn map_flags(&self) -> MapFlags {
        MapFlags(self.handle.map_flags)
    }

    /// The bytes [`Kernel::map_lookup`](crate::Kernel::map_lookup) returns
    /// and [`Kernel::map_update`](crate::Kernel::map_update) takes:
    /// `value_size`, or for per-CPU maps one value rounded up to 8 bytes per
    /// possible CPU, CPU 0 first.
    #[must_use]
    pub fn value_len(&self) -> usize {
        self.handle.value_len
    }

    /// The fd as the `imm` of `ld_imm64 rX, map[fd:N]` (`BPF_PSEUDO_MAP_FD`).
    #[must_use]
    pub fn imm(&self) -> i32 {
        self.as_raw_fd()
    }

    pub(crate) fn handle(&self) -> &sys::MapHandle {
        &self.handle
    }
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.handle.fd()
    }
}

impl AsRawFd for MapFd {
    fn as_raw_fd(&self) -> RawFd {
        self.handle.fd().as_raw_fd()
    }
}

pub(crate) fn create(req: &MapCreate<'_>) -> Result<MapFd, Error> {
    let name = object_name(req.name).map_err(|reason| Error::BadName {
        name: req.name.to_string(),
        reason,
    })?;
    let handle = sys::MapHandle::create(&sys::MapCreateArgs {
        map_type: req.map_type.0,
        key_size: req.key_size,
        value_size: req.value_size,
        max_entries: req.max_entries,
        map_flags: req.map_flags.bits(),
        inner_map_fd: req.inner_map_fd.map(|fd| fd.as_raw_fd()),
        map_extra: req.map_extra,
        name,
        btf_fd: req.btf_fd.map(|fd| fd.as_raw_fd()),
        btf_key_type_id: req.btf_key_type_id,
        btf_value_type_id: req.btf_value_type_id,
    })?;
    Ok(MapFd { handle })
}
