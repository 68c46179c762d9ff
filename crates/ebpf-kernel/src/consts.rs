//! The kernel's UAPI constant families as typed newtypes with names.
//!
//! Each family wraps the `u32` the kernel uses on the wire and names every
//! value of `include/uapi/linux/bpf.h` known to this crate (up to Linux
//! 6.18). Values this crate does not name still round-trip: `ProgType(99)`
//! is a valid value, its [`name`](ProgType::name) is `None`, and `Display`
//! prints the number. `Display` prints the kernel's enumerator
//! (`BPF_PROG_TYPE_XDP`), `Debug` the Rust path (`ProgType::XDP`).

use core::fmt;

/// Defines one constant family: a `u32` newtype, its named values, `ALL`,
/// `name()` and the `Display`/`Debug` impls.
macro_rules! kernel_consts {
    (
        $(#[$meta:meta])*
        $ty:ident, prefix $prefix:literal {
            $( $name:ident = $val:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $ty(pub u32);

        impl $ty {
            $(
                #[doc = concat!("`", $prefix, stringify!($name), "` = ", stringify!($val), ".")]
                pub const $name: $ty = $ty($val);
            )*

            /// Every named value, in kernel order.
            pub const ALL: &'static [$ty] = &[$($ty::$name),*];

            /// The name without the kernel prefix (`"XDP"`), or `None` for
            /// a value this crate does not know.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// The kernel's enumerator (`"BPF_PROG_TYPE_XDP"`), or `None`
            /// for a value this crate does not know.
            #[must_use]
            pub const fn kernel_name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some(concat!($prefix, stringify!($name))),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.kernel_name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}({})", stringify!($ty), self.0),
                }
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}::{}", stringify!($ty), n),
                    None => write!(f, "{}({})", stringify!($ty), self.0),
                }
            }
        }

        impl From<$ty> for u32 {
            fn from(v: $ty) -> u32 {
                v.0
            }
        }
    };
}

kernel_consts! {
    /// `enum bpf_cmd`: the first argument of `bpf()`.
    Cmd, prefix "BPF_" {
        MAP_CREATE = 0,
        MAP_LOOKUP_ELEM = 1,
        MAP_UPDATE_ELEM = 2,
        MAP_DELETE_ELEM = 3,
        MAP_GET_NEXT_KEY = 4,
        PROG_LOAD = 5,
        OBJ_PIN = 6,
        OBJ_GET = 7,
        PROG_ATTACH = 8,
        PROG_DETACH = 9,
        PROG_TEST_RUN = 10,
        PROG_GET_NEXT_ID = 11,
        MAP_GET_NEXT_ID = 12,
        PROG_GET_FD_BY_ID = 13,
        MAP_GET_FD_BY_ID = 14,
        OBJ_GET_INFO_BY_FD = 15,
        PROG_QUERY = 16,
        RAW_TRACEPOINT_OPEN = 17,
        BTF_LOAD = 18,
        BTF_GET_FD_BY_ID = 19,
        TASK_FD_QUERY = 20,
        MAP_LOOKUP_AND_DELETE_ELEM = 21,
        MAP_FREEZE = 22,
        BTF_GET_NEXT_ID = 23,
        MAP_LOOKUP_BATCH = 24,
        MAP_LOOKUP_AND_DELETE_BATCH = 25,
        MAP_UPDATE_BATCH = 26,
        MAP_DELETE_BATCH = 27,
        LINK_CREATE = 28,
        LINK_UPDATE = 29,
        LINK_GET_FD_BY_ID = 30,
        LINK_GET_NEXT_ID = 31,
        ENABLE_STATS = 32,
        ITER_CREATE = 33,
        LINK_DETACH = 34,
        PROG_BIND_MAP = 35,
        TOKEN_CREATE = 36,
        PROG_STREAM_READ_BY_FD = 37,
    }
}

kernel_consts! {
    /// `enum bpf_prog_type`: what a program is for; decides its context,
    /// helpers and return-value rules.
    ProgType, prefix "BPF_PROG_TYPE_" {
        UNSPEC = 0,
        SOCKET_FILTER = 1,
        KPROBE = 2,
        SCHED_CLS = 3,
        SCHED_ACT = 4,
        TRACEPOINT = 5,
        XDP = 6,
        PERF_EVENT = 7,
        CGROUP_SKB = 8,
        CGROUP_SOCK = 9,
        LWT_IN = 10,
        LWT_OUT = 11,
        LWT_XMIT = 12,
        SOCK_OPS = 13,
        SK_SKB = 14,
        CGROUP_DEVICE = 15,
        SK_MSG = 16,
        RAW_TRACEPOINT = 17,
        CGROUP_SOCK_ADDR = 18,
        LWT_SEG6LOCAL = 19,
        LIRC_MODE2 = 20,
        SK_REUSEPORT = 21,
        FLOW_DISSECTOR = 22,
        CGROUP_SYSCTL = 23,
        RAW_TRACEPOINT_WRITABLE = 24,
        CGROUP_SOCKOPT = 25,
        TRACING = 26,
        STRUCT_OPS = 27,
        EXT = 28,
        LSM = 29,
        SK_LOOKUP = 30,
        SYSCALL = 31,
        NETFILTER = 32,
    }
}

kernel_consts! {
    /// `enum bpf_map_type`.
    MapType, prefix "BPF_MAP_TYPE_" {
        UNSPEC = 0,
        HASH = 1,
        ARRAY = 2,
        PROG_ARRAY = 3,
        PERF_EVENT_ARRAY = 4,
        PERCPU_HASH = 5,
        PERCPU_ARRAY = 6,
        STACK_TRACE = 7,
        CGROUP_ARRAY = 8,
        LRU_HASH = 9,
        LRU_PERCPU_HASH = 10,
        LPM_TRIE = 11,
        ARRAY_OF_MAPS = 12,
        HASH_OF_MAPS = 13,
        DEVMAP = 14,
        SOCKMAP = 15,
        CPUMAP = 16,
        XSKMAP = 17,
        SOCKHASH = 18,
        CGROUP_STORAGE = 19,
        REUSEPORT_SOCKARRAY = 20,
        PERCPU_CGROUP_STORAGE = 21,
        QUEUE = 22,
        STACK = 23,
        SK_STORAGE = 24,
        DEVMAP_HASH = 25,
        STRUCT_OPS = 26,
        RINGBUF = 27,
        INODE_STORAGE = 28,
        TASK_STORAGE = 29,
        BLOOM_FILTER = 30,
        USER_RINGBUF = 31,
        CGRP_STORAGE = 32,
        ARENA = 33,
    }
}

impl MapType {
    /// Whether user space reads and writes one value per possible CPU
    /// (each rounded up to 8 bytes), as the kernel's `bpf_map_value_size()`
    /// decides.
    #[must_use]
    pub const fn is_per_cpu(self) -> bool {
        matches!(
            self,
            MapType::PERCPU_HASH
                | MapType::PERCPU_ARRAY
                | MapType::LRU_PERCPU_HASH
                | MapType::PERCPU_CGROUP_STORAGE
        )
    }
}

kernel_consts! {
    /// `enum bpf_attach_type`: for some program types, the hook the program
    /// is loaded for (`expected_attach_type` in `BPF_PROG_LOAD`).
    AttachType, prefix "BPF_" {
        CGROUP_INET_INGRESS = 0,
        CGROUP_INET_EGRESS = 1,
        CGROUP_INET_SOCK_CREATE = 2,
        CGROUP_SOCK_OPS = 3,
        SK_SKB_STREAM_PARSER = 4,
        SK_SKB_STREAM_VERDICT = 5,
        CGROUP_DEVICE = 6,
        SK_MSG_VERDICT = 7,
        CGROUP_INET4_BIND = 8,
        CGROUP_INET6_BIND = 9,
        CGROUP_INET4_CONNECT = 10,
        CGROUP_INET6_CONNECT = 11,
        CGROUP_INET4_POST_BIND = 12,
        CGROUP_INET6_POST_BIND = 13,
        CGROUP_UDP4_SENDMSG = 14,
        CGROUP_UDP6_SENDMSG = 15,
        LIRC_MODE2 = 16,
        FLOW_DISSECTOR = 17,
        CGROUP_SYSCTL = 18,
        CGROUP_UDP4_RECVMSG = 19,
        CGROUP_UDP6_RECVMSG = 20,
        CGROUP_GETSOCKOPT = 21,
        CGROUP_SETSOCKOPT = 22,
        TRACE_RAW_TP = 23,
        TRACE_FENTRY = 24,
        TRACE_FEXIT = 25,
        MODIFY_RETURN = 26,
        LSM_MAC = 27,
        TRACE_ITER = 28,
        CGROUP_INET4_GETPEERNAME = 29,
        CGROUP_INET6_GETPEERNAME = 30,
        CGROUP_INET4_GETSOCKNAME = 31,
        CGROUP_INET6_GETSOCKNAME = 32,
        XDP_DEVMAP = 33,
        CGROUP_INET_SOCK_RELEASE = 34,
        XDP_CPUMAP = 35,
        SK_LOOKUP = 36,
        XDP = 37,
        SK_SKB_VERDICT = 38,
        SK_REUSEPORT_SELECT = 39,
        SK_REUSEPORT_SELECT_OR_MIGRATE = 40,
        PERF_EVENT = 41,
        TRACE_KPROBE_MULTI = 42,
        LSM_CGROUP = 43,
        STRUCT_OPS = 44,
        NETFILTER = 45,
        TCX_INGRESS = 46,
        TCX_EGRESS = 47,
        TRACE_UPROBE_MULTI = 48,
        CGROUP_UNIX_CONNECT = 49,
        CGROUP_UNIX_SENDMSG = 50,
        CGROUP_UNIX_RECVMSG = 51,
        CGROUP_UNIX_GETPEERNAME = 52,
        CGROUP_UNIX_GETSOCKNAME = 53,
        NETKIT_PRIMARY = 54,
        NETKIT_PEER = 55,
        TRACE_KPROBE_SESSION = 56,
        TRACE_UPROBE_SESSION = 57,
    }
}

kernel_consts! {
    /// `enum xdp_action`: what an XDP program returns.
    XdpAction, prefix "XDP_" {
        ABORTED = 0,
        DROP = 1,
        PASS = 2,
        TX = 3,
        REDIRECT = 4,
    }
}

/// Defines a flag set: a `u32` newtype with named bits and `|`.
macro_rules! kernel_flags {
    (
        $(#[$meta:meta])*
        $ty:ident {
            $( $(#[$cmeta:meta])* $name:ident = $val:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
        pub struct $ty(pub u32);

        impl $ty {
            /// No flag.
            pub const NONE: $ty = $ty(0);
            $( $(#[$cmeta])* pub const $name: $ty = $ty($val); )*

            /// The raw bits.
            #[must_use]
            pub const fn bits(self) -> u32 {
                self.0
            }

            /// Whether every bit of `other` is set in `self`.
            #[must_use]
            pub const fn contains(self, other: $ty) -> bool {
                self.0 & other.0 == other.0
            }
        }

        impl core::ops::BitOr for $ty {
            type Output = $ty;
            fn bitor(self, rhs: $ty) -> $ty {
                $ty(self.0 | rhs.0)
            }
        }

        impl core::ops::BitOrAssign for $ty {
            fn bitor_assign(&mut self, rhs: $ty) {
                self.0 |= rhs.0;
            }
        }
    };
}

kernel_flags! {
    /// `log_level` of `BPF_PROG_LOAD`. Levels 1 and 2 are exclusive in
    /// meaning (2 includes everything 1 prints); [`LogLevel::STATS`] and
    /// [`LogLevel::FIXED`] combine with either.
    LogLevel {
        /// `BPF_LOG_LEVEL1`: the failing path and its register states on
        /// rejection; the stats line always.
        LEVEL1 = 1,
        /// `BPF_LOG_LEVEL2`: every instruction the verifier walks, with
        /// register states, branch and pruning decisions.
        LEVEL2 = 2,
        /// `BPF_LOG_STATS`: `verification time N usec` and `stack depth N`
        /// before the `processed ...` line.
        STATS = 4,
        /// `BPF_LOG_FIXED`: when the buffer overflows keep the head of the
        /// log rather than rotating to keep its tail (the default since
        /// Linux 6.4).
        FIXED = 8,
    }
}

kernel_flags! {
    /// `prog_flags` of `BPF_PROG_LOAD` (`BPF_F_*`).
    ProgFlags {
        /// `BPF_F_STRICT_ALIGNMENT`: check alignment as if the machine
        /// required it.
        STRICT_ALIGNMENT = 1 << 0,
        /// `BPF_F_ANY_ALIGNMENT`: skip alignment checks (testing only).
        ANY_ALIGNMENT = 1 << 1,
        /// `BPF_F_TEST_RND_HI32`: poison the upper halves of 32-bit results.
        TEST_RND_HI32 = 1 << 2,
        /// `BPF_F_TEST_STATE_FREQ`: checkpoint verifier states at every
        /// instruction.
        TEST_STATE_FREQ = 1 << 3,
        /// `BPF_F_SLEEPABLE`: the program may sleep.
        SLEEPABLE = 1 << 4,
        /// `BPF_F_XDP_HAS_FRAGS`: the XDP program handles multi-buffer
        /// packets.
        XDP_HAS_FRAGS = 1 << 5,
        /// `BPF_F_XDP_DEV_BOUND_ONLY`: bound to a device, no offload.
        XDP_DEV_BOUND_ONLY = 1 << 6,
        /// `BPF_F_TEST_REG_INVARIANTS`: fail verification when register
        /// bounds become inconsistent (selftests).
        TEST_REG_INVARIANTS = 1 << 7,
        /// `BPF_F_TOKEN_FD`: `prog_token_fd` holds a BPF token.
        TOKEN_FD = 1 << 16,
    }
}

kernel_flags! {
    /// `map_flags` of `BPF_MAP_CREATE` (`BPF_F_*`).
    MapFlags {
        /// `BPF_F_NO_PREALLOC`: allocate hash elements on demand.
        NO_PREALLOC = 1 << 0,
        /// `BPF_F_NO_COMMON_LRU`: one LRU list per CPU.
        NO_COMMON_LRU = 1 << 1,
        /// `BPF_F_NUMA_NODE`: `numa_node` is valid.
        NUMA_NODE = 1 << 2,
        /// `BPF_F_RDONLY`: read-only for the syscall side.
        RDONLY = 1 << 3,
        /// `BPF_F_WRONLY`: write-only for the syscall side.
        WRONLY = 1 << 4,
        /// `BPF_F_STACK_BUILD_ID`: stack trace map stores build ids.
        STACK_BUILD_ID = 1 << 5,
        /// `BPF_F_ZERO_SEED`: zero the hash seed (testing).
        ZERO_SEED = 1 << 6,
        /// `BPF_F_RDONLY_PROG`: read-only for programs.
        RDONLY_PROG = 1 << 7,
        /// `BPF_F_WRONLY_PROG`: write-only for programs.
        WRONLY_PROG = 1 << 8,
        /// `BPF_F_CLONE`: clone storage on socket clone.
        CLONE = 1 << 9,
        /// `BPF_F_MMAPABLE`: the array can be `mmap`ed.
        MMAPABLE = 1 << 10,
        /// `BPF_F_PRESERVE_ELEMS`: keep perf event array entries.
        PRESERVE_ELEMS = 1 << 11,
        /// `BPF_F_INNER_MAP`: inner map template for map-in-map.
        INNER_MAP = 1 << 12,
        /// `BPF_F_LINK`: struct_ops map is a link.
        LINK = 1 << 13,
        /// `BPF_F_PATH_FD`: path given relative to a directory fd.
        PATH_FD = 1 << 14,
        /// `BPF_F_VTYPE_BTF_OBJ_FD`: `value_type_btf_obj_fd` is valid.
        VTYPE_BTF_OBJ_FD = 1 << 15,
        /// `BPF_F_TOKEN_FD`: `map_token_fd` holds a BPF token.
        TOKEN_FD = 1 << 16,
        /// `BPF_F_SEGV_ON_FAULT`: arena faults raise SIGSEGV in user space.
        SEGV_ON_FAULT = 1 << 17,
        /// `BPF_F_NO_USER_CONV`: arena pointers are not converted.
        NO_USER_CONV = 1 << 18,
    }
}

kernel_flags! {
    /// `flags` of `BPF_MAP_UPDATE_ELEM`.
    UpdateFlags {
        /// `BPF_NOEXIST`: create only; fail with `EEXIST` if present.
        NOEXIST = 1,
        /// `BPF_EXIST`: update only; fail with `ENOENT` if absent.
        EXIST = 2,
        /// `BPF_F_LOCK`: take the value's `bpf_spin_lock`.
        LOCK = 4,
    }
}

impl UpdateFlags {
    /// `BPF_ANY`: create or update.
    pub const ANY: UpdateFlags = UpdateFlags(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(ProgType::XDP.0, 6);
        assert_eq!(ProgType::XDP.to_string(), "BPF_PROG_TYPE_XDP");
        assert_eq!(format!("{:?}", ProgType::XDP), "ProgType::XDP");
        assert_eq!(ProgType(99).name(), None);
        assert_eq!(ProgType(99).to_string(), "ProgType(99)");
        assert_eq!(MapType::ARENA.0, 33);
        assert_eq!(MapType::RINGBUF.kernel_name(), Some("BPF_MAP_TYPE_RINGBUF"));
        assert_eq!(AttachType::TRACE_UPROBE_SESSION.0, 57);
        assert_eq!(Cmd::PROG_TEST_RUN.0, 10);
        assert_eq!(Cmd::OBJ_GET_INFO_BY_FD.0, 15);
        assert_eq!(XdpAction::PASS.0, 2);
    }

    #[test]
    fn all_is_dense_and_ordered() {
        // The kernel enums are dense from 0: the i-th name has value i.
        for (i, t) in ProgType::ALL.iter().enumerate() {
            assert_eq!(t.0 as usize, i, "{t}");
        }
        for (i, t) in MapType::ALL.iter().enumerate() {
            assert_eq!(t.0 as usize, i, "{t}");
        }
        for (i, t) in AttachType::ALL.iter().enumerate() {
            assert_eq!(t.0 as usize, i, "{t}");
        }
        for (i, t) in Cmd::ALL.iter().enumerate() {
            assert_eq!(t.0 as usize, i, "{t}");
        }
    }

    #[test]
    fn flags_combine() {
        let l = LogLevel::LEVEL2 | LogLevel::STATS;
        assert_eq!(l.bits(), 6);
        assert!(l.contains(LogLevel::STATS));
        assert!(!l.contains(LogLevel::LEVEL1));
        assert!(MapType::PERCPU_ARRAY.is_per_cpu());
        assert!(!MapType::ARRAY.is_per_cpu());
    }
}
