//! [`LinuxEnv`]: the [`ProgramEnv`] the walk asks, answered by the
//! [`platform`](crate::platform) tables of Linux 6.18 for one program type
//! and license.
//!
//! Helper prototypes and context fields are translated into the kinds the
//! walk models ([`check::ArgType`], [`check::RetType`], [`CtxField`]).
//! Whatever it does not model yet (BTF-typed pointers, most callbacks,
//! dynptrs, timers, spin locks, ...) is refused with a message saying so, never accepted: a gap here costs agreement with the kernel,
//! not soundness.

use crate::check::{self, CtxField, HelperLookup, ProgramEnv};
use crate::platform::{
    ArgBase, CtxRegType, LinuxPlatform, Platform, ProgType, RetBase, ReturnCode, TypeFlags,
};

/// Linux 6.18's answers for one program.
#[derive(Clone, Copy, Debug)]
pub struct LinuxEnv<'p> {
    platform: &'p LinuxPlatform,
    prog_type: ProgType,
    expected_attach_type: u32,
    gpl: bool,
    nr_cpu_ids: Option<u32>,
}

impl<'p> LinuxEnv<'p> {
    /// A program of `prog_type` under `license` (GPL-only helpers need a
    /// GPL-compatible one), attached as `expected_attach_type` (0 for most
    /// types).
    #[must_use]
    pub fn new(
        platform: &'p LinuxPlatform,
        prog_type: ProgType,
        expected_attach_type: u32,
        license: &str,
    ) -> LinuxEnv<'p> {
        LinuxEnv {
            platform,
            prog_type,
            expected_attach_type,
            gpl: crate::platform::license_is_gpl_compatible(license),
            nr_cpu_ids: possible_cpus(),
        }
    }

    /// The kernel's `nr_cpu_ids` (the running machine's, from
    /// `/sys/devices/system/cpu/possible`, by default); `None` leaves
    /// `bpf_get_smp_processor_id`'s result unbounded.
    #[must_use]
    pub fn with_nr_cpu_ids(mut self, n: Option<u32>) -> Self {
        self.nr_cpu_ids = n;
        self
    }
}

/// One more than the highest possible CPU (`nr_cpu_ids`), from the
/// kernel's `possible` list (`0-1`, `0-3,5`), if readable.
/// Read once per process: it does not change while the machine runs.
fn possible_cpus() -> Option<u32> {
    static POSSIBLE: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *POSSIBLE.get_or_init(read_possible_cpus)
}

fn read_possible_cpus() -> Option<u32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").ok()?;
    let highest = text
        .trim()
        .split(',')
        .filter_map(|part| part.rsplit('-').next()?.trim().parse::<u32>().ok())
        .max()?;
    highest.checked_add(1)
}

fn arg(a: crate::platform::ArgType, fixed_size: u32) -> Option<check::ArgType> {
    let f = a.flags;
    let null = f.contains(TypeFlags::PTR_MAYBE_NULL);
    let write = f.contains(TypeFlags::MEM_UNINIT) || f.contains(TypeFlags::MEM_WRITE);
    Some(match a.base {
        ArgBase::DontCare => check::ArgType::None,
        ArgBase::Anything => check::ArgType::Anything,
        ArgBase::ConstMapPtr if !null => check::ArgType::ConstMapPtr,
        ArgBase::PtrToMapKey if !null => check::ArgType::MapKey,
        ArgBase::PtrToMapValue if !null && write => check::ArgType::MapValueWrite,
        ArgBase::PtrToMapValue if !null => check::ArgType::MapValue,
        ArgBase::PtrToMem if f.contains(TypeFlags::MEM_FIXED_SIZE) => {
            if null {
                return None;
            }
            check::ArgType::FixedMem {
                size: fixed_size,
                write,
            }
        }
        // Written but not `MEM_UNINIT`: read first, then written.
        ArgBase::PtrToMem if write && !f.contains(TypeFlags::MEM_UNINIT) => {
            if null {
                check::ArgType::MemReadWriteOrNull
            } else {
                check::ArgType::MemReadWrite
            }
        }
        ArgBase::PtrToMem => match (null, write) {
            (false, false) => check::ArgType::MemRead,
            (false, true) => check::ArgType::MemWrite,
            (true, false) => check::ArgType::MemReadOrNull,
            (true, true) => check::ArgType::MemWriteOrNull,
        },
        ArgBase::ConstSize => check::ArgType::ConstSize,
        ArgBase::ConstSizeOrZero => check::ArgType::ConstSizeOrZero,
        ArgBase::ConstAllocSizeOrZero => check::ArgType::ConstAllocSizeOrZero,
        ArgBase::PtrToCtx if !null => check::ArgType::Ctx,
        ArgBase::PtrToFunc if !null => check::ArgType::Func,
        ArgBase::PtrToConstStr if !null => check::ArgType::ConstStr,
        ArgBase::PtrToStack if null => check::ArgType::StackOrNull,
        ArgBase::PtrToStack => check::ArgType::Stack,
        ArgBase::PtrToRingbufMem if f.contains(TypeFlags::OBJ_RELEASE) => {
            check::ArgType::RingbufMemRelease
        }
        ArgBase::PtrToSockCommon if !null => check::ArgType::SockCommon,
        ArgBase::PtrToSocket if !null => check::ArgType::Socket,
        ArgBase::PtrToSpinLock if !null => check::ArgType::SpinLock,
        ArgBase::PtrToBtfIdSockCommon if !null => check::ArgType::BtfIdSockCommon {
            release: f.contains(TypeFlags::OBJ_RELEASE),
        },
        _ => return None,
    })
}

fn ret(r: crate::platform::RetType) -> Option<check::RetType> {
    let null = r.flags.contains(TypeFlags::PTR_MAYBE_NULL);
    Some(match r.base {
        RetBase::Integer => check::RetType::Integer,
        RetBase::Void => check::RetType::Void,
        RetBase::PtrToMapValue if null => check::RetType::MapValueOrNull,
        RetBase::PtrToMapValue => check::RetType::MapValue,
        RetBase::PtrToMem if null && r.flags.contains(TypeFlags::MEM_RINGBUF) => {
            check::RetType::RingbufMemOrNull
        }
        RetBase::PtrToSocket if null => check::RetType::SocketOrNull,
        RetBase::PtrToTcpSock if null => check::RetType::TcpSockOrNull,
        RetBase::PtrToSockCommon if null => check::RetType::SockCommonOrNull,
        _ => return None,
    })
}

impl ProgramEnv for LinuxEnv<'_> {
    fn ctx_load(&self, off: i32, size: u8) -> Option<CtxField> {
        let load = self
            .platform
            .ctx_access(self.prog_type, off, u32::from(size), false)
            .ok()?;
        match load.reg_type {
            CtxRegType::Scalar => Some(CtxField::Scalar),
            CtxRegType::PtrToPacket => Some(CtxField::Packet),
            CtxRegType::PtrToPacketEnd => Some(CtxField::PacketEnd),
            CtxRegType::PtrToPacketMeta => Some(CtxField::PacketMeta),
            CtxRegType::PtrToSockCommonOrNull => Some(CtxField::SockCommonOrNull),
            CtxRegType::PtrToFlowKeys => Some(CtxField::FlowKeys),
        }
    }

    fn ctx_store(&self, off: i32, size: u8) -> bool {
        self.platform
            .ctx_access(self.prog_type, off, u32::from(size), true)
            .is_ok()
    }

    fn helper(&self, id: i32) -> HelperLookup {
        let p = match self
            .platform
            .check_helper_call(self.prog_type, id, self.gpl)
        {
            Ok(p) => p,
            Err(e) => {
                return HelperLookup::Refused {
                    errno: "EINVAL",
                    message: e.to_string(),
                };
            }
        };
        let name = p.name.strip_prefix("bpf_").unwrap_or(p.name);
        let mut args = [check::ArgType::None; 5];
        let mut modelled = true;
        for ((slot, a), size) in args.iter_mut().zip(&p.args).zip(p.arg_size) {
            match arg(*a, size) {
                Some(t) => *slot = t,
                None => modelled = false,
            }
        }
        match (modelled, ret(p.ret)) {
            (true, Some(r)) => HelperLookup::Proto(check::HelperProto {
                name,
                ret: r,
                args,
                changes_pkt_data: p.changes_pkt_data,
                acquires: p.acquires,
                pkt_access: p.pkt_access,
            }),
            _ => HelperLookup::Refused {
                errno: "EINVAL",
                message: format!("{}#{id}: argument or return types not modelled yet", p.name),
            },
        }
    }

    fn helper_arg_mask(&self, id: i32) -> u16 {
        // The prototype as if the license allowed every helper.
        match self.platform.check_helper_call(self.prog_type, id, true) {
            Ok(p) => (1u16..)
                .zip(p.args.iter())
                .filter(|(_, a)| a.base != ArgBase::DontCare)
                .fold(0u16, |m, (r, _)| m | (1 << r)),
            Err(_) => 0x3e,
        }
    }

    fn packet_writable(&self) -> bool {
        crate::platform::PacketAccess::of(self.prog_type).may_write()
    }

    fn may_access_skb(&self) -> bool {
        // SOCKET_FILTER, SCHED_CLS, SCHED_ACT.
        matches!(self.prog_type.0, 1 | 3 | 4)
    }

    fn unprivileged_allowed(&self) -> bool {
        // BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_CGROUP_SKB.
        matches!(self.prog_type.0, 1 | 8)
    }

    fn nr_cpu_ids(&self) -> Option<u32> {
        self.nr_cpu_ids
    }

    fn spin_lock_refusal(&self) -> Option<&'static str> {
        match self.prog_type {
            ProgType::SOCKET_FILTER => Some("socket filter progs cannot use bpf_spin_lock yet"),
            // `is_tracing_prog_type` (BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE
            // is 24).
            ProgType::KPROBE
            | ProgType::TRACEPOINT
            | ProgType::PERF_EVENT
            | ProgType::RAW_TRACEPOINT
            | ProgType(24) => Some("tracing progs cannot use bpf_spin_lock yet"),
            _ => None,
        }
    }

    fn may_update_sockmap(&self, delete: bool) -> bool {
        match self.prog_type {
            // An iterator (BPF_TRACE_ITER = 28) may; sock_ops only deletes.
            ProgType::TRACING => self.expected_attach_type == 28,
            ProgType::SOCK_OPS => delete,
            ProgType::SOCKET_FILTER
            | ProgType::SCHED_CLS
            | ProgType::SCHED_ACT
            | ProgType::XDP
            | ProgType::SK_REUSEPORT
            | ProgType::FLOW_DISSECTOR
            | ProgType::SK_LOOKUP => true,
            _ => false,
        }
    }

    fn is_ctx_type(&self, name: &str) -> bool {
        // The context struct each program type's global functions may take
        // (`bpf_ctx_convert`), plus `pt_regs` for probes.
        let ctx: &[&str] = match self.prog_type.0 {
            1 | 3 | 4 | 8 | 10 | 11 | 12 | 14 | 22 => &["__sk_buff"],
            2 | 7 => &["bpf_user_pt_regs_t", "pt_regs", "bpf_perf_event_data"],
            6 => &["xdp_md"],
            9 => &["bpf_sock"],
            13 => &["bpf_sock_ops"],
            15 => &["bpf_cgroup_dev_ctx"],
            16 => &["sk_msg_md"],
            17 | 24 => &["bpf_raw_tracepoint_args"],
            18 => &["bpf_sock_addr"],
            21 => &["sk_reuseport_md"],
            23 => &["bpf_sysctl"],
            25 => &["bpf_sockopt"],
            30 => &["bpf_sk_lookup"],
            _ => &[],
        };
        ctx.contains(&name)
    }

    fn return_range(&self) -> Option<(i64, i64)> {
        match self
            .platform
            .return_code(self.prog_type, self.expected_attach_type)
        {
            ReturnCode::Range(r) => Some((i64::from(r.minval), i64::from(r.maxval))),
            ReturnCode::Unchecked | ReturnCode::NotModeled => None,
        }
    }
}
