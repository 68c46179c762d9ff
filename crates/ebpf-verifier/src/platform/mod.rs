//! The platform: what the verifier asks about the world it verifies for.
//!
//! The kernel's verifier learns about a program type through its
//! `struct bpf_verifier_ops` (`get_func_proto`, `is_valid_access`) and a
//! few switches in `kernel/bpf/verifier.c` (`may_access_direct_pkt_data`,
//! `check_return_code`); about helpers through `struct bpf_func_proto`;
//! about maps through the loaded object. [`Platform`] is that interface,
//! and [`LinuxPlatform`] answers as Linux 6.18 does:
//!
//! * **Which helpers a program type may call, and which are GPL-only**,
//!   and **which context accesses are valid**: not guessed, but asked of
//!   the kernel by `crates/ebpf-kernel/src/bin/probe_platform.rs`, which
//!   loads one tiny program per (type, helper) and per (type, offset,
//!   size, direction) and writes `linux-6.18.txt` (embedded here, see
//!   [`PlatformTable`]). `crates/ebpf-kernel/tests/platform_tables.rs`
//!   re-runs a sample, so a different kernel shows up as a test failure.
//! * **Helper prototypes** ([`HelperProto`]): read from the kernel sources
//!   (`kernel/bpf/helpers.c`, `kernel/trace/bpf_trace.c`,
//!   `net/core/filter.c`, `kernel/bpf/ringbuf.c`, ...); the unit tests
//!   check every `gpl_only` against the probed table.
//! * **What a context load yields** (`xdp_md.data` is a packet pointer,
//!   `__sk_buff.sk` a socket pointer or NULL, everything else a scalar),
//!   **direct packet access**, **allowed return values** and **context
//!   sizes**: read from `net/core/filter.c` and `kernel/bpf/verifier.c`.
//!
//! ```
//! use ebpf_verifier::platform::{
//!     CtxRegType, HelperError, LinuxPlatform, Platform, ProgType, ReturnCode,
//! };
//!
//! let linux = LinuxPlatform::new();
//! // bpf_redirect (23) is an XDP helper, not a socket filter's.
//! assert!(linux.helper_available(ProgType::XDP, 23));
//! let err = linux.check_helper_call(ProgType::SOCKET_FILTER, 23, true).unwrap_err();
//! assert_eq!(err.to_string(), "program of this type cannot use helper bpf_redirect#23");
//! // bpf_trace_printk is GPL-only.
//! let err = linux.check_helper_call(ProgType::KPROBE, 6, false).unwrap_err();
//! assert_eq!(err, HelperError::GplOnly { id: 6 });
//! // r2 = *(u32 *)(r1 + 0) in XDP: the packet pointer.
//! let load = linux.ctx_access(ProgType::XDP, 0, 4, false).unwrap();
//! assert_eq!(load.reg_type, CtxRegType::PtrToPacket);
//! assert_eq!(
//!     linux.ctx_access(ProgType::XDP, 80, 4, false).unwrap_err().to_string(),
//!     "invalid bpf_context access off=80 size=4"
//! );
//! assert_eq!(linux.return_code(ProgType::XDP, 0), ReturnCode::Unchecked);
//! ```

mod ctx;
mod proto;
mod table;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

pub use ctx::{AttachType, CtxRegType, PacketAccess, ReturnCode, RetvalRange, ctx_field, ctx_size};
pub use proto::{
    ArgBase, ArgType, HelperProto, RetBase, RetType, TypeFlags, helper_changes_pkt_data,
    helper_proto,
};
pub use table::{
    HelperAvailability, HelperFact, LINUX_6_18, PlatformTable, ProbedType, TableError,
};

/// `enum bpf_prog_type`: what a program is for. A `u32` newtype so any
/// number round-trips; the named values are the kernel's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct ProgType(pub u32);

impl ProgType {
    /// `BPF_PROG_TYPE_UNSPEC`.
    pub const UNSPEC: ProgType = ProgType(0);
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    pub const SOCKET_FILTER: ProgType = ProgType(1);
    /// `BPF_PROG_TYPE_KPROBE`.
    pub const KPROBE: ProgType = ProgType(2);
    /// `BPF_PROG_TYPE_SCHED_CLS`.
    pub const SCHED_CLS: ProgType = ProgType(3);
    /// `BPF_PROG_TYPE_SCHED_ACT`.
    pub const SCHED_ACT: ProgType = ProgType(4);
    /// `BPF_PROG_TYPE_TRACEPOINT`.
    pub const TRACEPOINT: ProgType = ProgType(5);
    /// `BPF_PROG_TYPE_XDP`.
    pub const XDP: ProgType = ProgType(6);
    /// `BPF_PROG_TYPE_PERF_EVENT`.
    pub const PERF_EVENT: ProgType = ProgType(7);
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    pub const CGROUP_SKB: ProgType = ProgType(8);
    /// `BPF_PROG_TYPE_CGROUP_SOCK`.
    pub const CGROUP_SOCK: ProgType = ProgType(9);
    /// `BPF_PROG_TYPE_LWT_IN`.
    pub const LWT_IN: ProgType = ProgType(10);
    /// `BPF_PROG_TYPE_LWT_OUT`.
    pub const LWT_OUT: ProgType = ProgType(11);
    /// `BPF_PROG_TYPE_LWT_XMIT`.
    pub const LWT_XMIT: ProgType = ProgType(12);
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    pub const SOCK_OPS: ProgType = ProgType(13);
    /// `BPF_PROG_TYPE_SK_SKB`.
    pub const SK_SKB: ProgType = ProgType(14);
    /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
    pub const CGROUP_DEVICE: ProgType = ProgType(15);
    /// `BPF_PROG_TYPE_SK_MSG`.
    pub const SK_MSG: ProgType = ProgType(16);
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    pub const RAW_TRACEPOINT: ProgType = ProgType(17);
    /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
    pub const CGROUP_SOCK_ADDR: ProgType = ProgType(18);
    /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`.
    pub const LWT_SEG6LOCAL: ProgType = ProgType(19);
    /// `BPF_PROG_TYPE_SK_REUSEPORT`.
    pub const SK_REUSEPORT: ProgType = ProgType(21);
    /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
    pub const FLOW_DISSECTOR: ProgType = ProgType(22);
    /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
    pub const CGROUP_SYSCTL: ProgType = ProgType(23);
    /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
    pub const CGROUP_SOCKOPT: ProgType = ProgType(25);
    /// `BPF_PROG_TYPE_TRACING`.
    pub const TRACING: ProgType = ProgType(26);
    /// `BPF_PROG_TYPE_SK_LOOKUP`.
    pub const SK_LOOKUP: ProgType = ProgType(30);
    /// `BPF_PROG_TYPE_NETFILTER`.
    pub const NETFILTER: ProgType = ProgType(32);

    /// The types [`LinuxPlatform`] covers: probed from the kernel, with the
    /// context fields and return rules of each.
    pub const COVERED: [ProgType; 19] = [
        ProgType::SOCKET_FILTER,
        ProgType::KPROBE,
        ProgType::SCHED_CLS,
        ProgType::SCHED_ACT,
        ProgType::TRACEPOINT,
        ProgType::XDP,
        ProgType::PERF_EVENT,
        ProgType::CGROUP_SKB,
        ProgType::RAW_TRACEPOINT,
        ProgType::CGROUP_SOCK,
        ProgType::LWT_IN,
        ProgType::LWT_OUT,
        ProgType::LWT_XMIT,
        ProgType::SOCK_OPS,
        ProgType::SK_SKB,
        ProgType::CGROUP_DEVICE,
        ProgType::SK_MSG,
        ProgType::SK_REUSEPORT,
        ProgType::CGROUP_SYSCTL,
    ];

    /// The lowercase name without `BPF_PROG_TYPE_` (`socket_filter`,
    /// `xdp`), as the platform table and the loader's section names use
    /// it; `None` for types not named here.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "unspec",
            1 => "socket_filter",
            2 => "kprobe",
            3 => "sched_cls",
            4 => "sched_act",
            5 => "tracepoint",
            6 => "xdp",
            7 => "perf_event",
            8 => "cgroup_skb",
            9 => "cgroup_sock",
            10 => "lwt_in",
            11 => "lwt_out",
            12 => "lwt_xmit",
            13 => "sock_ops",
            14 => "sk_skb",
            15 => "cgroup_device",
            16 => "sk_msg",
            17 => "raw_tracepoint",
            18 => "cgroup_sock_addr",
            19 => "lwt_seg6local",
            20 => "lirc_mode2",
            21 => "sk_reuseport",
            22 => "flow_dissector",
            23 => "cgroup_sysctl",
            24 => "raw_tracepoint_writable",
            25 => "cgroup_sockopt",
            26 => "tracing",
            27 => "struct_ops",
            28 => "ext",
            29 => "lsm",
            30 => "sk_lookup",
            31 => "syscall",
            32 => "netfilter",
            _ => return None,
        })
    }

    /// Inverse of [`ProgType::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<ProgType> {
        (0..=32).map(ProgType).find(|t| t.name() == Some(name))
    }
}

/// `BPF_MAP_TYPE_*` numbers of the map types the helper rules name.
pub mod map_type {
    /// `BPF_MAP_TYPE_HASH`.
    pub const HASH: u32 = 1;
    /// `BPF_MAP_TYPE_ARRAY`.
    pub const ARRAY: u32 = 2;
    /// `BPF_MAP_TYPE_PROG_ARRAY`.
    pub const PROG_ARRAY: u32 = 3;
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
    pub const PERF_EVENT_ARRAY: u32 = 4;
    /// `BPF_MAP_TYPE_PERCPU_HASH`.
    pub const PERCPU_HASH: u32 = 5;
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
    pub const PERCPU_ARRAY: u32 = 6;
    /// `BPF_MAP_TYPE_STACK_TRACE`.
    pub const STACK_TRACE: u32 = 7;
    /// `BPF_MAP_TYPE_LRU_HASH`.
    pub const LRU_HASH: u32 = 9;
    /// `BPF_MAP_TYPE_LPM_TRIE`.
    pub const LPM_TRIE: u32 = 11;
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
    pub const ARRAY_OF_MAPS: u32 = 12;
    /// `BPF_MAP_TYPE_HASH_OF_MAPS`.
    pub const HASH_OF_MAPS: u32 = 13;
    /// `BPF_MAP_TYPE_SOCKMAP`.
    pub const SOCKMAP: u32 = 15;
    /// `BPF_MAP_TYPE_SOCKHASH`.
    pub const SOCKHASH: u32 = 18;
    /// `BPF_MAP_TYPE_QUEUE`.
    pub const QUEUE: u32 = 22;
    /// `BPF_MAP_TYPE_STACK`.
    pub const STACK: u32 = 23;
    /// `BPF_MAP_TYPE_RINGBUF`.
    pub const RINGBUF: u32 = 27;
}

/// One map of the loaded object, as the verifier needs it
/// (`struct bpf_map`'s `map_type`, `key_size`, `value_size`,
/// `max_entries`, `map_flags`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct MapInfo {
    /// The map's name in the object (for messages).
    pub name: String,
    /// `BPF_MAP_TYPE_*` (see [`map_type`]).
    pub map_type: u32,
    /// `key_size` in bytes.
    pub key_size: u32,
    /// `value_size` in bytes.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags` (`BPF_F_RDONLY_PROG` = 0x80 makes values read-only to
    /// the program).
    pub map_flags: u32,
    /// The fd a `BPF_PSEUDO_MAP_FD` `ld_imm64` names, when the map has one.
    pub fd: Option<i32>,
}

/// How an `ld_imm64` names a map.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MapRef {
    /// `BPF_PSEUDO_MAP_FD` / `BPF_PSEUDO_MAP_VALUE`: by fd.
    Fd(i32),
    /// `BPF_PSEUDO_MAP_IDX` / `BPF_PSEUDO_MAP_IDX_VALUE`: by index into
    /// `fd_array` (the object's map order).
    Index(u32),
}

/// Why a helper call is refused before its arguments are looked at
/// (`check_helper_call`'s first checks), or cannot be modeled.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HelperError {
    /// The id is outside `enum bpf_func_id` (`-EINVAL`).
    #[error("invalid func unknown#{id}")]
    InvalidFunc {
        /// The call's `imm`.
        id: i32,
    },
    /// The program type's `get_func_proto` has no prototype for it
    /// (`-EINVAL`).
    #[error("program of this type cannot use helper {name}#{id}")]
    Unavailable {
        /// The program type.
        prog_type: ProgType,
        /// The helper id.
        id: i32,
        /// The helper's name.
        name: &'static str,
    },
    /// A GPL-only helper called by a program whose license is not
    /// GPL-compatible (`-EINVAL`).
    #[error("cannot call GPL-restricted function from non-GPL compatible program")]
    GplOnly {
        /// The helper id.
        id: i32,
    },
    /// The prototype's `allowed` callback refuses this program
    /// (`-EINVAL`).
    #[error("helper call is not allowed in probe")]
    NotAllowed {
        /// The helper id.
        id: i32,
    },
    /// A helper that may sleep, called by a program that may not
    /// (`-EINVAL`).
    #[error("helper call might sleep in a non-sleepable prog")]
    MightSleep {
        /// The helper id.
        id: i32,
    },
    /// The kernel offers the helper to this program type but this crate
    /// has no prototype for it (a gap of ours, not a kernel verdict).
    #[error("helper {name}#{id} is available to {prog_type:?} but its prototype is not modeled")]
    NotModeled {
        /// The program type.
        prog_type: ProgType,
        /// The helper id.
        id: i32,
        /// The helper's name.
        name: &'static str,
    },
    /// The platform does not know this program type at all.
    #[error("program type {prog_type:?} is not covered by the platform")]
    UnsupportedProgType {
        /// The program type.
        prog_type: ProgType,
    },
}

/// Why a context access is refused.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CtxAccessError {
    /// `is_valid_access` says no (`-EACCES`).
    #[error("invalid bpf_context access off={off} size={size}")]
    Invalid {
        /// The offset into the context (`insn->off` plus the register's
        /// fixed offset).
        off: i32,
        /// The access size in bytes.
        size: u32,
    },
}

/// A valid context access: what the destination register becomes for a
/// load (`check_ctx_access`'s `bpf_insn_access_aux`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct CtxLoad {
    /// The register type a load yields ([`CtxRegType::Scalar`] for stores
    /// and plain fields).
    pub reg_type: CtxRegType,
}

/// `license_is_gpl_compatible` (`include/linux/license.h`): the licenses
/// under which GPL-only helpers may be called.
#[must_use]
pub fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

/// What the verifier asks about the world. Each method names the kernel
/// function it stands for.
pub trait Platform {
    /// `get_helper_proto` (`env->ops->get_func_proto(func_id, prog)`): the
    /// prototype of helper `id` for `prog_type`, with `gpl_only` as this
    /// program type's variant has it.
    fn helper(&self, prog_type: ProgType, id: i32) -> Result<&HelperProto, HelperError>;

    /// Whether `get_func_proto` returns a prototype for `id` (whether or
    /// not this crate models it).
    fn helper_available(&self, prog_type: ProgType, id: i32) -> bool;

    /// The first checks of `check_helper_call`, in the kernel's order:
    /// the id is known, the program type has a prototype, the license
    /// allows it (`gpl_compatible`: see [`license_is_gpl_compatible`]),
    /// `allowed`, `might_sleep`. The error's `Display` is the kernel's log
    /// line.
    fn check_helper_call(
        &self,
        prog_type: ProgType,
        id: i32,
        gpl_compatible: bool,
    ) -> Result<&HelperProto, HelperError>;

    /// `check_ctx_access` (the type's `is_valid_access`): whether `size`
    /// bytes at context offset `off` may be read (or written, `write`),
    /// and what a load yields.
    fn ctx_access(
        &self,
        prog_type: ProgType,
        off: i32,
        size: u32,
        write: bool,
    ) -> Result<CtxLoad, CtxAccessError>;

    /// The size of the context structure (`sizeof(struct xdp_md)`, ...),
    /// if known.
    fn ctx_size(&self, prog_type: ProgType) -> Option<u32>;

    /// `may_access_direct_pkt_data`: whether packet pointers may be
    /// dereferenced, and written through.
    fn packet_access(&self, prog_type: ProgType) -> PacketAccess;

    /// `check_return_code`: the values `R0` may hold at the main program's
    /// exit.
    fn return_code(&self, prog_type: ProgType, expected_attach_type: u32) -> ReturnCode;

    /// The map an `ld_imm64` names (`resolve_pseudo_ldimm64`).
    fn map(&self, r: MapRef) -> Option<&MapInfo>;
}

/// The parsed table with the per-type prototypes built from it.
#[derive(Debug, Default)]
struct Inner {
    table: PlatformTable,
    /// `(prog type, id)` → the prototype with that type's `gpl_only`.
    protos: BTreeMap<(u32, i32), HelperProto>,
}

impl Inner {
    fn new(table: PlatformTable) -> Inner {
        let mut protos = BTreeMap::new();
        for probed in table.probed_types() {
            for (id, fact) in table.helpers_of(probed.prog_type) {
                if let Some(p) = helper_proto(id) {
                    let mut p = p.clone();
                    p.gpl_only = fact.gpl_only;
                    protos.insert((probed.prog_type.0, id), p);
                }
            }
        }
        Inner { table, protos }
    }
}

/// [`Platform`] as Linux 6.18 answers, for the program types of
/// [`ProgType::COVERED`], with the maps of one loaded object.
#[derive(Clone, Debug)]
pub struct LinuxPlatform {
    inner: Arc<Inner>,
    maps: Vec<MapInfo>,
}

impl Default for LinuxPlatform {
    fn default() -> Self {
        LinuxPlatform::new()
    }
}

impl LinuxPlatform {
    /// The platform of the embedded [`LINUX_6_18`] table, without maps.
    /// (The table is parsed once per process; a unit test guarantees it
    /// parses; were it not to, every helper and context access would be
    /// refused.)
    #[must_use]
    pub fn new() -> LinuxPlatform {
        static EMBEDDED: OnceLock<Arc<Inner>> = OnceLock::new();
        let inner = EMBEDDED.get_or_init(|| {
            Arc::new(Inner::new(
                PlatformTable::parse(LINUX_6_18).unwrap_or_default(),
            ))
        });
        LinuxPlatform {
            inner: Arc::clone(inner),
            maps: Vec::new(),
        }
    }

    /// The platform of another probed table (another kernel).
    pub fn from_table(text: &str) -> Result<LinuxPlatform, TableError> {
        Ok(LinuxPlatform {
            inner: Arc::new(Inner::new(PlatformTable::parse(text)?)),
            maps: Vec::new(),
        })
    }

    /// The same platform with the loaded object's maps, in the object's
    /// order ([`MapRef::Index`] is the position).
    #[must_use]
    pub fn with_maps(mut self, maps: Vec<MapInfo>) -> LinuxPlatform {
        self.maps = maps;
        self
    }

    /// The probed table.
    #[must_use]
    pub fn table(&self) -> &PlatformTable {
        &self.inner.table
    }

    fn name(id: i32) -> &'static str {
        ebpf_isa::helper_name(id).unwrap_or("unknown")
    }

    fn fact(&self, prog_type: ProgType, id: i32) -> Result<HelperFact, HelperError> {
        let Some(probed) = self.inner.table.probed(prog_type) else {
            return Err(HelperError::UnsupportedProgType { prog_type });
        };
        if id < 0 || id > probed.max_helper {
            return Err(HelperError::InvalidFunc { id });
        }
        self.inner
            .table
            .helper(prog_type, id)
            .ok_or(HelperError::Unavailable {
                prog_type,
                id,
                name: Self::name(id),
            })
    }

    fn modeled(&self, prog_type: ProgType, id: i32) -> Result<&HelperProto, HelperError> {
        self.inner
            .protos
            .get(&(prog_type.0, id))
            .ok_or(HelperError::NotModeled {
                prog_type,
                id,
                name: Self::name(id),
            })
    }
}

impl Platform for LinuxPlatform {
    fn helper(&self, prog_type: ProgType, id: i32) -> Result<&HelperProto, HelperError> {
        self.fact(prog_type, id)?;
        self.modeled(prog_type, id)
    }

    fn helper_available(&self, prog_type: ProgType, id: i32) -> bool {
        self.fact(prog_type, id).is_ok()
    }

    fn check_helper_call(
        &self,
        prog_type: ProgType,
        id: i32,
        gpl_compatible: bool,
    ) -> Result<&HelperProto, HelperError> {
        let fact = self.fact(prog_type, id)?;
        if fact.gpl_only && !gpl_compatible {
            return Err(HelperError::GplOnly { id });
        }
        match fact.availability {
            HelperAvailability::NotAllowed => return Err(HelperError::NotAllowed { id }),
            HelperAvailability::MightSleep => return Err(HelperError::MightSleep { id }),
            HelperAvailability::Available => {}
        }
        self.modeled(prog_type, id)
    }

    fn ctx_access(
        &self,
        prog_type: ProgType,
        off: i32,
        size: u32,
        write: bool,
    ) -> Result<CtxLoad, CtxAccessError> {
        if !self.inner.table.ctx_ok(prog_type, write, off, size) {
            return Err(CtxAccessError::Invalid { off, size });
        }
        let reg_type = if write {
            CtxRegType::Scalar
        } else {
            ctx_field(prog_type, off)
        };
        Ok(CtxLoad { reg_type })
    }

    fn ctx_size(&self, prog_type: ProgType) -> Option<u32> {
        ctx_size(prog_type)
    }

    fn packet_access(&self, prog_type: ProgType) -> PacketAccess {
        PacketAccess::of(prog_type)
    }

    fn return_code(&self, prog_type: ProgType, expected_attach_type: u32) -> ReturnCode {
        ReturnCode::of(prog_type, expected_attach_type)
    }

    fn map(&self, r: MapRef) -> Option<&MapInfo> {
        match r {
            MapRef::Fd(fd) => self.maps.iter().find(|m| m.fd == Some(fd)),
            MapRef::Index(i) => self.maps.get(usize::try_from(i).ok()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> LinuxPlatform {
        LinuxPlatform::new()
    }

    #[test]
    fn prog_type_names_round_trip() {
        for t in ProgType::COVERED {
            let n = t.name().unwrap();
            assert_eq!(ProgType::from_name(n), Some(t));
        }
        assert_eq!(ProgType(99).name(), None);
        assert_eq!(ProgType::from_name("nonsense"), None);
    }

    #[test]
    fn redirect_is_for_xdp_and_tc_not_socket_filters() {
        let l = linux();
        assert!(l.helper_available(ProgType::XDP, 23));
        assert!(l.helper_available(ProgType::SCHED_CLS, 23));
        assert!(!l.helper_available(ProgType::SOCKET_FILTER, 23));
        assert_eq!(
            l.helper(ProgType::SOCKET_FILTER, 23),
            Err(HelperError::Unavailable {
                prog_type: ProgType::SOCKET_FILTER,
                id: 23,
                name: "bpf_redirect"
            })
        );
        let p = l.helper(ProgType::XDP, 23).unwrap();
        assert_eq!(p.args[..2], [ArgType::ANYTHING, ArgType::ANYTHING]);
    }

    #[test]
    fn trace_printk_is_gpl_only() {
        let l = linux();
        for t in ProgType::COVERED {
            assert!(l.helper(t, 6).unwrap().gpl_only, "{t:?}");
            assert_eq!(
                l.check_helper_call(t, 6, false),
                Err(HelperError::GplOnly { id: 6 })
            );
            assert!(l.check_helper_call(t, 6, true).is_ok());
        }
        assert_eq!(
            HelperError::GplOnly { id: 6 }.to_string(),
            "cannot call GPL-restricted function from non-GPL compatible program"
        );
        assert!(license_is_gpl_compatible("Dual MIT/GPL"));
        assert!(!license_is_gpl_compatible("MIT"));
        assert!(!license_is_gpl_compatible("gpl"));
    }

    #[test]
    fn check_helper_call_follows_the_kernel_order() {
        let l = linux();
        assert_eq!(
            l.check_helper_call(ProgType::XDP, 212, true),
            Err(HelperError::InvalidFunc { id: 212 })
        );
        assert_eq!(
            HelperError::InvalidFunc { id: 212 }.to_string(),
            "invalid func unknown#212"
        );
        assert_eq!(
            l.check_helper_call(ProgType::XDP, -1, true),
            Err(HelperError::InvalidFunc { id: -1 })
        );
        // bpf_copy_from_user_task: GPL first, then sleepability.
        assert_eq!(
            l.check_helper_call(ProgType::KPROBE, 191, false),
            Err(HelperError::GplOnly { id: 191 })
        );
        assert_eq!(
            l.check_helper_call(ProgType::KPROBE, 191, true),
            Err(HelperError::MightSleep { id: 191 })
        );
        assert_eq!(
            l.check_helper_call(ProgType(31), 1, true),
            Err(HelperError::UnsupportedProgType {
                prog_type: ProgType(31)
            })
        );
        assert_eq!(
            l.check_helper_call(ProgType::XDP, 0, true)
                .unwrap_err()
                .to_string(),
            "program of this type cannot use helper bpf_unspec#0"
        );
    }

    /// Every prototype's `gpl_only` agrees with what the kernel said for
    /// every program type that may call it, except the program types that
    /// get a variant of the prototype.
    #[test]
    fn prototypes_agree_with_the_probed_gpl_flags() {
        // bpf_get_stackid for perf events is bpf_get_stackid_proto_pe,
        // which is not GPL-only.
        let variants = [(ProgType::PERF_EVENT, 27)];
        let l = linux();
        let mut disagreements = Vec::new();
        for t in ProgType::COVERED {
            for (id, fact) in l.table().helpers_of(t) {
                if let Some(p) = helper_proto(id)
                    && p.gpl_only != fact.gpl_only
                    && !variants.contains(&(t, id))
                {
                    disagreements.push(format!("{t:?} {} kernel gpl={}", p.name, fact.gpl_only));
                }
            }
        }
        assert!(disagreements.is_empty(), "{disagreements:#?}");
        assert!(!l.helper(ProgType::PERF_EVENT, 27).unwrap().gpl_only);
        assert!(l.helper(ProgType::KPROBE, 27).unwrap().gpl_only);
    }

    /// Our prototypes cover the helpers the fixtures use and most of what
    /// each program type offers.
    #[test]
    fn coverage() {
        let l = linux();
        for t in ProgType::COVERED {
            for id in [1, 2, 3, 5, 6, 7, 12, 14, 130, 131, 132, 133, 181] {
                assert!(l.helper(t, id).is_ok(), "{t:?} {id}");
            }
            let available = l.table().helpers_of(t).count();
            let modeled = l
                .table()
                .helpers_of(t)
                .filter(|(id, _)| helper_proto(*id).is_some())
                .count();
            assert!(
                modeled.saturating_mul(10) >= available.saturating_mul(8),
                "{t:?}: {modeled} of {available} modeled"
            );
        }
        assert_eq!(
            l.helper(ProgType::SOCK_OPS, 122),
            Err(HelperError::NotModeled {
                prog_type: ProgType::SOCK_OPS,
                id: 122,
                name: "bpf_get_netns_cookie"
            })
        );
    }

    #[test]
    fn xdp_context() {
        let l = linux();
        let ty = |off| {
            l.ctx_access(ProgType::XDP, off, 4, false)
                .map(|c| c.reg_type)
        };
        assert_eq!(ty(0), Ok(CtxRegType::PtrToPacket));
        assert_eq!(ty(4), Ok(CtxRegType::PtrToPacketEnd));
        assert_eq!(ty(8), Ok(CtxRegType::PtrToPacketMeta));
        assert_eq!(ty(12), Ok(CtxRegType::Scalar));
        assert_eq!(ty(16), Ok(CtxRegType::Scalar));
        // egress_ifindex needs BPF_XDP_DEVMAP.
        assert_eq!(ty(20), Err(CtxAccessError::Invalid { off: 20, size: 4 }));
        assert!(l.ctx_access(ProgType::XDP, 0, 8, false).is_err());
        assert!(l.ctx_access(ProgType::XDP, 0, 2, false).is_err());
        assert!(l.ctx_access(ProgType::XDP, 12, 4, true).is_err());
        assert_eq!(l.ctx_size(ProgType::XDP), Some(24));
        assert_eq!(l.packet_access(ProgType::XDP), PacketAccess::ReadWrite);
    }

    #[test]
    fn skb_contexts() {
        let l = linux();
        let read = |t, off, size| l.ctx_access(t, off, size, false).map(|c| c.reg_type);
        // data, data_end, data_meta.
        assert_eq!(
            read(ProgType::SCHED_CLS, 76, 4),
            Ok(CtxRegType::PtrToPacket)
        );
        assert_eq!(
            read(ProgType::SCHED_CLS, 80, 4),
            Ok(CtxRegType::PtrToPacketEnd)
        );
        assert_eq!(
            read(ProgType::SCHED_ACT, 140, 4),
            Ok(CtxRegType::PtrToPacketMeta)
        );
        assert_eq!(
            read(ProgType::CGROUP_SKB, 76, 4),
            Ok(CtxRegType::PtrToPacket)
        );
        assert!(read(ProgType::CGROUP_SKB, 140, 4).is_err());
        assert!(read(ProgType::SOCKET_FILTER, 76, 4).is_err());
        // sk.
        for t in [
            ProgType::SOCKET_FILTER,
            ProgType::SCHED_CLS,
            ProgType::CGROUP_SKB,
        ] {
            assert_eq!(
                read(t, 168, 8),
                Ok(CtxRegType::PtrToSockCommonOrNull),
                "{t:?}"
            );
            assert!(read(t, 168, 4).is_err());
        }
        // len: narrow loads are fine and scalar.
        for size in [1, 2, 4] {
            assert_eq!(
                read(ProgType::SOCKET_FILTER, 0, size),
                Ok(CtxRegType::Scalar)
            );
        }
        // mark: tc may write it, a socket filter may not; both may write cb[].
        assert!(l.ctx_access(ProgType::SCHED_CLS, 8, 4, true).is_ok());
        assert!(l.ctx_access(ProgType::SOCKET_FILTER, 8, 4, true).is_err());
        assert!(l.ctx_access(ProgType::SOCKET_FILTER, 48, 4, true).is_ok());
        assert_eq!(
            l.packet_access(ProgType::CGROUP_SKB),
            PacketAccess::ReadOnly
        );
        assert_eq!(l.packet_access(ProgType::SOCKET_FILTER), PacketAccess::None);
        assert_eq!(l.ctx_size(ProgType::SCHED_CLS), Some(192));
    }

    #[test]
    fn tracing_contexts_are_read_only_scalars() {
        let l = linux();
        // kprobe: struct pt_regs, 168 bytes, any aligned read.
        assert_eq!(l.ctx_size(ProgType::KPROBE), Some(168));
        for off in (0..168).step_by(8) {
            assert_eq!(
                l.ctx_access(ProgType::KPROBE, off, 8, false)
                    .map(|c| c.reg_type),
                Ok(CtxRegType::Scalar)
            );
            assert!(l.ctx_access(ProgType::KPROBE, off, 8, true).is_err());
        }
        assert!(l.ctx_access(ProgType::KPROBE, 168, 8, false).is_err());
        assert!(l.ctx_access(ProgType::KPROBE, 4, 8, false).is_err());
        assert!(l.ctx_access(ProgType::KPROBE, 3, 1, false).is_ok());
        // perf_event: the registers only as whole u64s.
        assert!(l.ctx_access(ProgType::PERF_EVENT, 0, 4, false).is_err());
        assert!(l.ctx_access(ProgType::PERF_EVENT, 168, 4, false).is_ok());
        // tracepoint: the first 8 bytes are hidden.
        assert!(l.ctx_access(ProgType::TRACEPOINT, 0, 8, false).is_err());
        assert!(l.ctx_access(ProgType::TRACEPOINT, 8, 8, false).is_ok());
        // raw tracepoint: 12 u64 arguments.
        assert!(l.ctx_access(ProgType::RAW_TRACEPOINT, 88, 8, false).is_ok());
        assert!(
            l.ctx_access(ProgType::RAW_TRACEPOINT, 96, 8, false)
                .is_err()
        );
    }

    #[test]
    fn return_codes() {
        let l = linux();
        assert_eq!(
            l.return_code(ProgType::CGROUP_SKB, 0),
            ReturnCode::Range(RetvalRange {
                minval: 0,
                maxval: 1
            })
        );
        assert_eq!(
            l.return_code(ProgType::CGROUP_SKB, AttachType::CGROUP_INET_EGRESS),
            ReturnCode::Range(RetvalRange {
                minval: 0,
                maxval: 3
            })
        );
        for t in [
            ProgType::SOCKET_FILTER,
            ProgType::XDP,
            ProgType::SCHED_CLS,
            ProgType::KPROBE,
            ProgType::TRACEPOINT,
            ProgType::RAW_TRACEPOINT,
            ProgType::PERF_EVENT,
        ] {
            assert_eq!(l.return_code(t, 0), ReturnCode::Unchecked, "{t:?}");
        }
    }

    #[test]
    fn maps_by_fd_and_index() {
        let ringbuf = MapInfo {
            name: "events".into(),
            map_type: map_type::RINGBUF,
            max_entries: 4096,
            fd: Some(7),
            ..MapInfo::default()
        };
        let l = linux().with_maps(vec![MapInfo::default(), ringbuf.clone()]);
        assert_eq!(l.map(MapRef::Index(1)), Some(&ringbuf));
        assert_eq!(l.map(MapRef::Fd(7)), Some(&ringbuf));
        assert_eq!(l.map(MapRef::Fd(8)), None);
        assert_eq!(l.map(MapRef::Index(2)), None);
    }

    #[test]
    fn another_table() {
        let l = LinuxPlatform::from_table(
            "kernel 9.9\ntype xdp 6 helpers 1-300 ctx 0-63\nhelper xdp 250 ok gpl=0\n",
        )
        .unwrap();
        assert!(l.helper_available(ProgType::XDP, 250));
        assert!(matches!(
            l.helper(ProgType::XDP, 250),
            Err(HelperError::NotModeled { .. })
        ));
        assert!(LinuxPlatform::from_table("garbage").is_err());
    }
}
