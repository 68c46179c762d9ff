//! What the probed table cannot tell, read from the kernel sources: the
//! register type a context load yields (`is_valid_access` setting
//! `info->reg_type` in `net/core/filter.c`), the context sizes, direct
//! packet access (`may_access_direct_pkt_data`) and the allowed return
//! values (`check_return_code`, `kernel/bpf/verifier.c`).

use super::ProgType;

/// The `enum bpf_reg_type` a context load can yield.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum CtxRegType {
    /// `SCALAR_VALUE`: a number (for a narrow load, bounded by its size).
    Scalar,
    /// `PTR_TO_PACKET`: the first packet byte (`xdp_md.data`,
    /// `__sk_buff.data`).
    PtrToPacket,
    /// `PTR_TO_PACKET_END`: one past the last packet byte (`data_end`).
    PtrToPacketEnd,
    /// `PTR_TO_PACKET_META`: the start of the metadata before the packet
    /// (`data_meta`).
    PtrToPacketMeta,
    /// `PTR_TO_SOCK_COMMON_OR_NULL`: the socket of an skb (`__sk_buff.sk`).
    PtrToSockCommonOrNull,
    /// `PTR_TO_FLOW_KEYS`: a flow dissector's `struct bpf_flow_keys`
    /// (`__sk_buff.flow_keys`).
    PtrToFlowKeys,
}

/// `offsetof(struct __sk_buff, data)`.
const SKB_DATA: i32 = 76;
/// `offsetof(struct __sk_buff, data_end)`.
const SKB_DATA_END: i32 = 80;
/// `offsetof(struct __sk_buff, data_meta)`.
const SKB_DATA_META: i32 = 140;
/// `offsetof(struct __sk_buff, sk)`.
const SKB_SK: i32 = 168;

/// The register type a load from context offset `off` yields for
/// `prog_type`, given that the access is valid (the `info->reg_type` the
/// type's `is_valid_access` sets; `SCALAR_VALUE` when it sets none).
#[must_use]
pub fn ctx_field(prog_type: ProgType, off: i32) -> CtxRegType {
    match prog_type {
        // xdp_is_valid_access.
        ProgType::XDP => match off {
            0 => CtxRegType::PtrToPacket,
            4 => CtxRegType::PtrToPacketEnd,
            8 => CtxRegType::PtrToPacketMeta,
            _ => CtxRegType::Scalar,
        },
        // tc_cls_act_is_valid_access, then bpf_skb_is_valid_access.
        ProgType::SCHED_CLS | ProgType::SCHED_ACT => match off {
            SKB_DATA => CtxRegType::PtrToPacket,
            SKB_DATA_END => CtxRegType::PtrToPacketEnd,
            SKB_DATA_META => CtxRegType::PtrToPacketMeta,
            SKB_SK => CtxRegType::PtrToSockCommonOrNull,
            _ => CtxRegType::Scalar,
        },
        // cg_skb_is_valid_access (and the LWT types): no data_meta.
        ProgType::CGROUP_SKB | ProgType::LWT_IN | ProgType::LWT_OUT | ProgType::LWT_XMIT => {
            match off {
                SKB_DATA => CtxRegType::PtrToPacket,
                SKB_DATA_END => CtxRegType::PtrToPacketEnd,
                SKB_SK => CtxRegType::PtrToSockCommonOrNull,
                _ => CtxRegType::Scalar,
            }
        }
        // sk_skb_is_valid_access: packet, no data_meta.
        ProgType::SK_SKB => match off {
            SKB_DATA => CtxRegType::PtrToPacket,
            SKB_DATA_END => CtxRegType::PtrToPacketEnd,
            SKB_SK => CtxRegType::PtrToSockCommonOrNull,
            _ => CtxRegType::Scalar,
        },
        // sk_msg_is_valid_access: `struct sk_msg_md` data, data_end, sk.
        ProgType::SK_MSG => match off {
            0 => CtxRegType::PtrToPacket,
            8 => CtxRegType::PtrToPacketEnd,
            72 => CtxRegType::PtrToSockCommonOrNull,
            _ => CtxRegType::Scalar,
        },
        // sk_reuseport_is_valid_access: `struct sk_reuseport_md` data,
        // data_end, sk, migrating_sk.
        ProgType::SK_REUSEPORT => match off {
            0 => CtxRegType::PtrToPacket,
            8 => CtxRegType::PtrToPacketEnd,
            40 | 48 => CtxRegType::PtrToSockCommonOrNull,
            _ => CtxRegType::Scalar,
        },
        // sock_ops_is_valid_access: `struct bpf_sock_ops` sk, skb_data,
        // skb_data_end.
        ProgType::SOCK_OPS => match off {
            184 => CtxRegType::PtrToSockCommonOrNull,
            192 => CtxRegType::PtrToPacket,
            200 => CtxRegType::PtrToPacketEnd,
            _ => CtxRegType::Scalar,
        },
        // flow_dissector_is_valid_access: data, data_end, flow_keys.
        ProgType::FLOW_DISSECTOR => match off {
            SKB_DATA => CtxRegType::PtrToPacket,
            SKB_DATA_END => CtxRegType::PtrToPacketEnd,
            144 => CtxRegType::PtrToFlowKeys,
            _ => CtxRegType::Scalar,
        },
        // sk_filter_is_valid_access: no packet pointers.
        ProgType::SOCKET_FILTER => match off {
            SKB_SK => CtxRegType::PtrToSockCommonOrNull,
            _ => CtxRegType::Scalar,
        },
        _ => CtxRegType::Scalar,
    }
}

/// The size of `prog_type`'s context structure on x86-64: `struct xdp_md`
/// (24), `struct __sk_buff` (192), `struct pt_regs` (168),
/// `struct bpf_perf_event_data` (184), `struct bpf_raw_tracepoint_args`
/// (12 arguments, 96) and, for tracepoints, `PERF_MAX_TRACE_SIZE` (8192,
/// the bound `tp_prog_is_valid_access` checks; the record itself is the
/// event's).
#[must_use]
pub fn ctx_size(prog_type: ProgType) -> Option<u32> {
    Some(match prog_type {
        ProgType::XDP => 24,
        ProgType::SOCKET_FILTER
        | ProgType::SCHED_CLS
        | ProgType::SCHED_ACT
        | ProgType::CGROUP_SKB
        | ProgType::LWT_IN
        | ProgType::LWT_OUT
        | ProgType::LWT_XMIT
        | ProgType::LWT_SEG6LOCAL
        | ProgType::FLOW_DISSECTOR
        | ProgType::SK_SKB => 192,
        ProgType::KPROBE => 168,
        ProgType::PERF_EVENT => 184,
        // struct bpf_sock, bpf_sock_ops, sk_msg_md, sk_reuseport_md,
        // bpf_cgroup_dev_ctx, bpf_sysctl.
        ProgType::CGROUP_SOCK => 80,
        ProgType::SOCK_OPS => 224,
        ProgType::SK_MSG => 80,
        ProgType::SK_REUSEPORT => 56,
        ProgType::CGROUP_DEVICE => 12,
        ProgType::CGROUP_SYSCTL => 8,
        ProgType::TRACEPOINT => 8192,
        ProgType::RAW_TRACEPOINT => 96,
        _ => return None,
    })
}

/// `may_access_direct_pkt_data`: what a program may do with packet
/// pointers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum PacketAccess {
    /// No direct packet access (the context has no packet pointers, or
    /// they may not be dereferenced).
    None,
    /// Loads only (`cgroup_skb`, the LWT input/output types,
    /// `sk_reuseport`, `flow_dissector`).
    ReadOnly,
    /// Loads and stores (`sched_cls`, `sched_act`, `xdp`, `lwt_xmit`,
    /// `sk_skb`, `sk_msg`).
    ReadWrite,
}

impl PacketAccess {
    /// The rule for `prog_type`.
    #[must_use]
    pub fn of(prog_type: ProgType) -> PacketAccess {
        match prog_type {
            ProgType::LWT_IN
            | ProgType::LWT_OUT
            | ProgType::LWT_SEG6LOCAL
            | ProgType::SK_REUSEPORT
            | ProgType::FLOW_DISSECTOR
            | ProgType::CGROUP_SKB => PacketAccess::ReadOnly,
            ProgType::SCHED_CLS
            | ProgType::SCHED_ACT
            | ProgType::XDP
            | ProgType::LWT_XMIT
            | ProgType::SK_SKB
            | ProgType::SK_MSG => PacketAccess::ReadWrite,
            _ => PacketAccess::None,
        }
    }

    /// Whether packet pointers may be dereferenced at all.
    #[must_use]
    pub fn may_read(self) -> bool {
        self != PacketAccess::None
    }

    /// Whether stores through packet pointers are allowed.
    #[must_use]
    pub fn may_write(self) -> bool {
        self == PacketAccess::ReadWrite
    }
}

/// `enum bpf_attach_type` values the platform's rules name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AttachType;

impl AttachType {
    /// `BPF_CGROUP_INET_INGRESS` (also what 0 means for most types).
    pub const CGROUP_INET_INGRESS: u32 = 0;
    /// `BPF_CGROUP_INET_EGRESS`: `cgroup_skb` programs may return 0..=3.
    pub const CGROUP_INET_EGRESS: u32 = 1;
}

/// `struct bpf_retval_range`: inclusive bounds `R0` must lie in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RetvalRange {
    /// Smallest allowed value.
    pub minval: i32,
    /// Largest allowed value.
    pub maxval: i32,
}

impl RetvalRange {
    /// `retval_range_within`: whether a scalar with signed 64-bit bounds
    /// `smin..=smax` always lies in the range.
    #[must_use]
    pub fn contains(self, smin: i64, smax: i64) -> bool {
        smin >= i64::from(self.minval) && smax <= i64::from(self.maxval)
    }

    /// The kernel's message when it does not (`verbose_invalid_scalar`
    /// with `At program exit` and `R0`): bounds at the extremes of `i64`
    /// are left out, and with neither known the value is an `unknown
    /// scalar value`:
    ///
    /// ```
    /// use ebpf_verifier::platform::RetvalRange;
    /// let r = RetvalRange { minval: 0, maxval: 1 };
    /// assert_eq!(
    ///     r.message(2, 2),
    ///     "At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]"
    /// );
    /// assert_eq!(
    ///     r.message(i64::MIN, i64::MAX),
    ///     "At program exit the register R0 has unknown scalar value should have been in [0, 1]"
    /// );
    /// ```
    #[must_use]
    pub fn message(self, smin: i64, smax: i64) -> String {
        let mut s = String::from("At program exit the register R0 has");
        if smin > i64::MIN {
            s.push_str(&format!(" smin={smin}"));
        }
        if smax < i64::MAX {
            s.push_str(&format!(" smax={smax}"));
        }
        if smin == i64::MIN && smax == i64::MAX {
            s.push_str(" unknown scalar value");
        }
        s.push_str(&format!(
            " should have been in [{}, {}]",
            self.minval, self.maxval
        ));
        s
    }
}

/// What `check_return_code` demands of `R0` at the main program's exit
/// (beyond being readable, and not a pointer for unprivileged programs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ReturnCode {
    /// Any scalar: the kernel does not check this program type's return
    /// value (`socket_filter`, `kprobe`, `sched_cls`, `sched_act`,
    /// `tracepoint`, `xdp`, `perf_event`, and `raw_tracepoint` without a
    /// BTF attach target).
    Unchecked,
    /// A scalar within the range (`-EINVAL` and
    /// [`RetvalRange::message`] otherwise).
    Range(RetvalRange),
    /// A program type whose rule this crate does not model (it depends on
    /// the attach type or BTF in ways not read yet).
    NotModeled,
}

impl ReturnCode {
    /// The rule for `prog_type` attached as `expected_attach_type`.
    ///
    /// `cgroup_skb` egress programs may return 0..=3 (2 and 3 ask for
    /// congestion notification; the kernel then also enforces the attach
    /// type at attach time).
    #[must_use]
    pub fn of(prog_type: ProgType, expected_attach_type: u32) -> ReturnCode {
        let range = |minval, maxval| ReturnCode::Range(RetvalRange { minval, maxval });
        match prog_type {
            ProgType::SOCKET_FILTER
            | ProgType::KPROBE
            | ProgType::SCHED_CLS
            | ProgType::SCHED_ACT
            | ProgType::TRACEPOINT
            | ProgType::XDP
            | ProgType::PERF_EVENT
            | ProgType::RAW_TRACEPOINT
            | ProgType::LWT_IN
            | ProgType::LWT_OUT
            | ProgType::LWT_XMIT
            | ProgType::SK_SKB
            | ProgType::SK_MSG
            | ProgType::SK_REUSEPORT => ReturnCode::Unchecked,
            ProgType::CGROUP_SKB if expected_attach_type == AttachType::CGROUP_INET_EGRESS => {
                range(0, 3)
            }
            ProgType::CGROUP_SKB
            | ProgType::CGROUP_SOCK
            | ProgType::SOCK_OPS
            | ProgType::CGROUP_DEVICE
            | ProgType::CGROUP_SYSCTL
            | ProgType::CGROUP_SOCKOPT
            | ProgType::SK_LOOKUP
            | ProgType::NETFILTER => range(0, 1),
            _ => ReturnCode::NotModeled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retval_ranges() {
        let r = RetvalRange {
            minval: 0,
            maxval: 3,
        };
        assert!(r.contains(0, 3));
        assert!(!r.contains(-1, 3));
        assert!(!r.contains(0, 4));
        assert_eq!(
            r.message(5, i64::MAX),
            "At program exit the register R0 has smin=5 should have been in [0, 3]"
        );
    }

    #[test]
    fn sizes_and_fields() {
        assert_eq!(ctx_size(ProgType::RAW_TRACEPOINT), Some(96));
        assert_eq!(ctx_size(ProgType(99)), None);
        assert_eq!(ctx_field(ProgType::KPROBE, 0), CtxRegType::Scalar);
        assert_eq!(ctx_field(ProgType::CGROUP_SKB, 140), CtxRegType::Scalar);
        assert!(PacketAccess::ReadOnly.may_read());
        assert!(!PacketAccess::ReadOnly.may_write());
        assert!(!PacketAccess::None.may_read());
        assert_eq!(ReturnCode::of(ProgType(99), 0), ReturnCode::NotModeled);
    }
}
