//! Program and attach types, and libbpf's mapping from `SEC()` names to them
//! (the table in the kernel's `Documentation/bpf/libbpf/program_types.rst`).
//!
//! Section-name patterns follow libbpf's notation: `name` matches exactly,
//! `name+` matches `name` or `name/anything`, and `name/` matches any name
//! starting with `name/`. The first matching row wins, so specific rows
//! come before general ones.

use core::fmt;

macro_rules! consts {
    ($ty:ident { $($(#[$doc:meta])* $name:ident = $val:expr, $text:literal;)* }) => {
        impl $ty {
            $($(#[$doc])* pub const $name: $ty = $ty($val);)*

            /// The kernel's name without its prefix, lower case
            /// (`sched_cls`), or `None` for a number this crate does not name.
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

/// `enum bpf_prog_type`: what kind of program, hence which context,
/// helpers and verifier rules apply.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ProgramType(pub u32);

consts!(ProgramType {
    /// `BPF_PROG_TYPE_UNSPEC`: no type (unknown section name).
    UNSPEC = 0, "unspec";
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    SOCKET_FILTER = 1, "socket_filter";
    /// `BPF_PROG_TYPE_KPROBE`.
    KPROBE = 2, "kprobe";
    /// `BPF_PROG_TYPE_SCHED_CLS`.
    SCHED_CLS = 3, "sched_cls";
    /// `BPF_PROG_TYPE_SCHED_ACT`.
    SCHED_ACT = 4, "sched_act";
    /// `BPF_PROG_TYPE_TRACEPOINT`.
    TRACEPOINT = 5, "tracepoint";
    /// `BPF_PROG_TYPE_XDP`.
    XDP = 6, "xdp";
    /// `BPF_PROG_TYPE_PERF_EVENT`.
    PERF_EVENT = 7, "perf_event";
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    CGROUP_SKB = 8, "cgroup_skb";
    /// `BPF_PROG_TYPE_CGROUP_SOCK`.
    CGROUP_SOCK = 9, "cgroup_sock";
    /// `BPF_PROG_TYPE_LWT_IN`.
    LWT_IN = 10, "lwt_in";
    /// `BPF_PROG_TYPE_LWT_OUT`.
    LWT_OUT = 11, "lwt_out";
    /// `BPF_PROG_TYPE_LWT_XMIT`.
    LWT_XMIT = 12, "lwt_xmit";
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    SOCK_OPS = 13, "sock_ops";
    /// `BPF_PROG_TYPE_SK_SKB`.
    SK_SKB = 14, "sk_skb";
    /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
    CGROUP_DEVICE = 15, "cgroup_device";
    /// `BPF_PROG_TYPE_SK_MSG`.
    SK_MSG = 16, "sk_msg";
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    RAW_TRACEPOINT = 17, "raw_tracepoint";
    /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
    CGROUP_SOCK_ADDR = 18, "cgroup_sock_addr";
    /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`.
    LWT_SEG6LOCAL = 19, "lwt_seg6local";
    /// `BPF_PROG_TYPE_LIRC_MODE2`.
    LIRC_MODE2 = 20, "lirc_mode2";
    /// `BPF_PROG_TYPE_SK_REUSEPORT`.
    SK_REUSEPORT = 21, "sk_reuseport";
    /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
    FLOW_DISSECTOR = 22, "flow_dissector";
    /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
    CGROUP_SYSCTL = 23, "cgroup_sysctl";
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`.
    RAW_TRACEPOINT_WRITABLE = 24, "raw_tracepoint_writable";
    /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
    CGROUP_SOCKOPT = 25, "cgroup_sockopt";
    /// `BPF_PROG_TYPE_TRACING`.
    TRACING = 26, "tracing";
    /// `BPF_PROG_TYPE_STRUCT_OPS`.
    STRUCT_OPS = 27, "struct_ops";
    /// `BPF_PROG_TYPE_EXT`.
    EXT = 28, "ext";
    /// `BPF_PROG_TYPE_LSM`.
    LSM = 29, "lsm";
    /// `BPF_PROG_TYPE_SK_LOOKUP`.
    SK_LOOKUP = 30, "sk_lookup";
    /// `BPF_PROG_TYPE_SYSCALL`.
    SYSCALL = 31, "syscall";
    /// `BPF_PROG_TYPE_NETFILTER`.
    NETFILTER = 32, "netfilter";
});

/// `enum bpf_attach_type`: the program's expected attach type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct AttachType(pub u32);

consts!(AttachType {
    /// `BPF_CGROUP_INET_INGRESS`.
    CGROUP_INET_INGRESS = 0, "cgroup_inet_ingress";
    /// `BPF_CGROUP_INET_EGRESS`.
    CGROUP_INET_EGRESS = 1, "cgroup_inet_egress";
    /// `BPF_CGROUP_INET_SOCK_CREATE`.
    CGROUP_INET_SOCK_CREATE = 2, "cgroup_inet_sock_create";
    /// `BPF_CGROUP_SOCK_OPS`.
    CGROUP_SOCK_OPS = 3, "cgroup_sock_ops";
    /// `BPF_SK_SKB_STREAM_PARSER`.
    SK_SKB_STREAM_PARSER = 4, "sk_skb_stream_parser";
    /// `BPF_SK_SKB_STREAM_VERDICT`.
    SK_SKB_STREAM_VERDICT = 5, "sk_skb_stream_verdict";
    /// `BPF_CGROUP_DEVICE`.
    CGROUP_DEVICE = 6, "cgroup_device";
    /// `BPF_SK_MSG_VERDICT`.
    SK_MSG_VERDICT = 7, "sk_msg_verdict";
    /// `BPF_CGROUP_INET4_BIND`.
    CGROUP_INET4_BIND = 8, "cgroup_inet4_bind";
    /// `BPF_CGROUP_INET6_BIND`.
    CGROUP_INET6_BIND = 9, "cgroup_inet6_bind";
    /// `BPF_CGROUP_INET4_CONNECT`.
    CGROUP_INET4_CONNECT = 10, "cgroup_inet4_connect";
    /// `BPF_CGROUP_INET6_CONNECT`.
    CGROUP_INET6_CONNECT = 11, "cgroup_inet6_connect";
    /// `BPF_CGROUP_INET4_POST_BIND`.
    CGROUP_INET4_POST_BIND = 12, "cgroup_inet4_post_bind";
    /// `BPF_CGROUP_INET6_POST_BIND`.
    CGROUP_INET6_POST_BIND = 13, "cgroup_inet6_post_bind";
    /// `BPF_CGROUP_UDP4_SENDMSG`.
    CGROUP_UDP4_SENDMSG = 14, "cgroup_udp4_sendmsg";
    /// `BPF_CGROUP_UDP6_SENDMSG`.
    CGROUP_UDP6_SENDMSG = 15, "cgroup_udp6_sendmsg";
    /// `BPF_LIRC_MODE2`.
    LIRC_MODE2 = 16, "lirc_mode2";
    /// `BPF_FLOW_DISSECTOR`.
    FLOW_DISSECTOR = 17, "flow_dissector";
    /// `BPF_CGROUP_SYSCTL`.
    CGROUP_SYSCTL = 18, "cgroup_sysctl";
    /// `BPF_CGROUP_UDP4_RECVMSG`.
    CGROUP_UDP4_RECVMSG = 19, "cgroup_udp4_recvmsg";
    /// `BPF_CGROUP_UDP6_RECVMSG`.
    CGROUP_UDP6_RECVMSG = 20, "cgroup_udp6_recvmsg";
    /// `BPF_CGROUP_GETSOCKOPT`.
    CGROUP_GETSOCKOPT = 21, "cgroup_getsockopt";
    /// `BPF_CGROUP_SETSOCKOPT`.
    CGROUP_SETSOCKOPT = 22, "cgroup_setsockopt";
    /// `BPF_TRACE_RAW_TP`.
    TRACE_RAW_TP = 23, "trace_raw_tp";
    /// `BPF_TRACE_FENTRY`.
    TRACE_FENTRY = 24, "trace_fentry";
    /// `BPF_TRACE_FEXIT`.
    TRACE_FEXIT = 25, "trace_fexit";
    /// `BPF_MODIFY_RETURN`.
    MODIFY_RETURN = 26, "modify_return";
    /// `BPF_LSM_MAC`.
    LSM_MAC = 27, "lsm_mac";
    /// `BPF_TRACE_ITER`.
    TRACE_ITER = 28, "trace_iter";
    /// `BPF_CGROUP_INET4_GETPEERNAME`.
    CGROUP_INET4_GETPEERNAME = 29, "cgroup_inet4_getpeername";
    /// `BPF_CGROUP_INET6_GETPEERNAME`.
    CGROUP_INET6_GETPEERNAME = 30, "cgroup_inet6_getpeername";
    /// `BPF_CGROUP_INET4_GETSOCKNAME`.
    CGROUP_INET4_GETSOCKNAME = 31, "cgroup_inet4_getsockname";
    /// `BPF_CGROUP_INET6_GETSOCKNAME`.
    CGROUP_INET6_GETSOCKNAME = 32, "cgroup_inet6_getsockname";
    /// `BPF_XDP_DEVMAP`.
    XDP_DEVMAP = 33, "xdp_devmap";
    /// `BPF_CGROUP_INET_SOCK_RELEASE`.
    CGROUP_INET_SOCK_RELEASE = 34, "cgroup_inet_sock_release";
    /// `BPF_XDP_CPUMAP`.
    XDP_CPUMAP = 35, "xdp_cpumap";
    /// `BPF_SK_LOOKUP`.
    SK_LOOKUP = 36, "sk_lookup";
    /// `BPF_XDP`.
    XDP = 37, "xdp";
    /// `BPF_SK_SKB_VERDICT`.
    SK_SKB_VERDICT = 38, "sk_skb_verdict";
    /// `BPF_SK_REUSEPORT_SELECT`.
    SK_REUSEPORT_SELECT = 39, "sk_reuseport_select";
    /// `BPF_SK_REUSEPORT_SELECT_OR_MIGRATE`.
    SK_REUSEPORT_SELECT_OR_MIGRATE = 40, "sk_reuseport_select_or_migrate";
    /// `BPF_PERF_EVENT`.
    PERF_EVENT = 41, "perf_event";
    /// `BPF_TRACE_KPROBE_MULTI`.
    TRACE_KPROBE_MULTI = 42, "trace_kprobe_multi";
    /// `BPF_LSM_CGROUP`.
    LSM_CGROUP = 43, "lsm_cgroup";
    /// `BPF_STRUCT_OPS`.
    STRUCT_OPS = 44, "struct_ops";
    /// `BPF_NETFILTER`.
    NETFILTER = 45, "netfilter";
    /// `BPF_TCX_INGRESS`.
    TCX_INGRESS = 46, "tcx_ingress";
    /// `BPF_TCX_EGRESS`.
    TCX_EGRESS = 47, "tcx_egress";
    /// `BPF_TRACE_UPROBE_MULTI`.
    TRACE_UPROBE_MULTI = 48, "trace_uprobe_multi";
    /// `BPF_CGROUP_UNIX_CONNECT`.
    CGROUP_UNIX_CONNECT = 49, "cgroup_unix_connect";
    /// `BPF_CGROUP_UNIX_SENDMSG`.
    CGROUP_UNIX_SENDMSG = 50, "cgroup_unix_sendmsg";
    /// `BPF_CGROUP_UNIX_RECVMSG`.
    CGROUP_UNIX_RECVMSG = 51, "cgroup_unix_recvmsg";
    /// `BPF_CGROUP_UNIX_GETPEERNAME`.
    CGROUP_UNIX_GETPEERNAME = 52, "cgroup_unix_getpeername";
    /// `BPF_CGROUP_UNIX_GETSOCKNAME`.
    CGROUP_UNIX_GETSOCKNAME = 53, "cgroup_unix_getsockname";
    /// `BPF_NETKIT_PRIMARY`.
    NETKIT_PRIMARY = 54, "netkit_primary";
    /// `BPF_NETKIT_PEER`.
    NETKIT_PEER = 55, "netkit_peer";
    /// `BPF_TRACE_KPROBE_SESSION`.
    TRACE_KPROBE_SESSION = 56, "trace_kprobe_session";
});

macro_rules! display_named {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}({})", stringify!($ty), self.0),
                }
            }
        }
    };
}
display_named!(ProgramType);
display_named!(AttachType);

/// What a `SEC()` name says about a program.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SectionDef {
    /// The program type.
    pub prog_type: ProgramType,
    /// The expected attach type, when libbpf sets one.
    pub attach: Option<AttachType>,
    /// Whether the program is sleepable (the `.s` variants).
    pub sleepable: bool,
    /// Whether the program supports XDP fragments (`xdp.frags`).
    pub frags: bool,
}

type P = ProgramType;
type A = AttachType;

/// One row: libbpf pattern, type, attach type.
const TABLE: &[(&str, ProgramType, Option<AttachType>)] = &[
    ("socket", P::SOCKET_FILTER, None),
    (
        "sk_reuseport/migrate",
        P::SK_REUSEPORT,
        Some(A::SK_REUSEPORT_SELECT_OR_MIGRATE),
    ),
    (
        "sk_reuseport",
        P::SK_REUSEPORT,
        Some(A::SK_REUSEPORT_SELECT),
    ),
    ("kprobe+", P::KPROBE, None),
    ("uprobe+", P::KPROBE, None),
    ("uprobe.s+", P::KPROBE, None),
    ("kretprobe+", P::KPROBE, None),
    ("uretprobe+", P::KPROBE, None),
    ("uretprobe.s+", P::KPROBE, None),
    ("kprobe.multi+", P::KPROBE, Some(A::TRACE_KPROBE_MULTI)),
    ("kretprobe.multi+", P::KPROBE, Some(A::TRACE_KPROBE_MULTI)),
    ("kprobe.session+", P::KPROBE, Some(A::TRACE_KPROBE_SESSION)),
    ("uprobe.multi+", P::KPROBE, Some(A::TRACE_UPROBE_MULTI)),
    ("uretprobe.multi+", P::KPROBE, Some(A::TRACE_UPROBE_MULTI)),
    ("uprobe.multi.s+", P::KPROBE, Some(A::TRACE_UPROBE_MULTI)),
    ("uretprobe.multi.s+", P::KPROBE, Some(A::TRACE_UPROBE_MULTI)),
    ("ksyscall+", P::KPROBE, None),
    ("kretsyscall+", P::KPROBE, None),
    ("usdt+", P::KPROBE, None),
    ("usdt.s+", P::KPROBE, None),
    ("tc/ingress", P::SCHED_CLS, Some(A::TCX_INGRESS)),
    ("tc/egress", P::SCHED_CLS, Some(A::TCX_EGRESS)),
    ("tcx/ingress", P::SCHED_CLS, Some(A::TCX_INGRESS)),
    ("tcx/egress", P::SCHED_CLS, Some(A::TCX_EGRESS)),
    ("tc", P::SCHED_CLS, None),
    ("classifier", P::SCHED_CLS, None),
    ("action", P::SCHED_ACT, None),
    ("netkit/primary", P::SCHED_CLS, Some(A::NETKIT_PRIMARY)),
    ("netkit/peer", P::SCHED_CLS, Some(A::NETKIT_PEER)),
    ("tracepoint+", P::TRACEPOINT, None),
    ("tp+", P::TRACEPOINT, None),
    ("raw_tracepoint+", P::RAW_TRACEPOINT, None),
    ("raw_tp+", P::RAW_TRACEPOINT, None),
    ("raw_tracepoint.w+", P::RAW_TRACEPOINT_WRITABLE, None),
    ("raw_tp.w+", P::RAW_TRACEPOINT_WRITABLE, None),
    ("tp_btf+", P::TRACING, Some(A::TRACE_RAW_TP)),
    ("fentry+", P::TRACING, Some(A::TRACE_FENTRY)),
    ("fmod_ret+", P::TRACING, Some(A::MODIFY_RETURN)),
    ("fexit+", P::TRACING, Some(A::TRACE_FEXIT)),
    ("fentry.s+", P::TRACING, Some(A::TRACE_FENTRY)),
    ("fmod_ret.s+", P::TRACING, Some(A::MODIFY_RETURN)),
    ("fexit.s+", P::TRACING, Some(A::TRACE_FEXIT)),
    ("freplace+", P::EXT, None),
    ("lsm+", P::LSM, Some(A::LSM_MAC)),
    ("lsm.s+", P::LSM, Some(A::LSM_MAC)),
    ("lsm_cgroup+", P::LSM, Some(A::LSM_CGROUP)),
    ("iter+", P::TRACING, Some(A::TRACE_ITER)),
    ("iter.s+", P::TRACING, Some(A::TRACE_ITER)),
    ("syscall", P::SYSCALL, None),
    ("xdp.frags/devmap", P::XDP, Some(A::XDP_DEVMAP)),
    ("xdp/devmap", P::XDP, Some(A::XDP_DEVMAP)),
    ("xdp.frags/cpumap", P::XDP, Some(A::XDP_CPUMAP)),
    ("xdp/cpumap", P::XDP, Some(A::XDP_CPUMAP)),
    ("xdp.frags", P::XDP, Some(A::XDP)),
    ("xdp", P::XDP, Some(A::XDP)),
    ("perf_event", P::PERF_EVENT, None),
    ("lwt_in", P::LWT_IN, None),
    ("lwt_out", P::LWT_OUT, None),
    ("lwt_xmit", P::LWT_XMIT, None),
    ("lwt_seg6local", P::LWT_SEG6LOCAL, None),
    ("sockops", P::SOCK_OPS, Some(A::CGROUP_SOCK_OPS)),
    (
        "sk_skb/stream_parser",
        P::SK_SKB,
        Some(A::SK_SKB_STREAM_PARSER),
    ),
    (
        "sk_skb/stream_verdict",
        P::SK_SKB,
        Some(A::SK_SKB_STREAM_VERDICT),
    ),
    ("sk_skb/verdict", P::SK_SKB, Some(A::SK_SKB_VERDICT)),
    ("sk_skb", P::SK_SKB, None),
    ("sk_msg", P::SK_MSG, Some(A::SK_MSG_VERDICT)),
    ("lirc_mode2", P::LIRC_MODE2, Some(A::LIRC_MODE2)),
    ("flow_dissector", P::FLOW_DISSECTOR, Some(A::FLOW_DISSECTOR)),
    (
        "cgroup_skb/ingress",
        P::CGROUP_SKB,
        Some(A::CGROUP_INET_INGRESS),
    ),
    (
        "cgroup_skb/egress",
        P::CGROUP_SKB,
        Some(A::CGROUP_INET_EGRESS),
    ),
    ("cgroup/skb", P::CGROUP_SKB, None),
    (
        "cgroup/sock_create",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET_SOCK_CREATE),
    ),
    (
        "cgroup/sock_release",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET_SOCK_RELEASE),
    ),
    (
        "cgroup/sock",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET_SOCK_CREATE),
    ),
    (
        "cgroup/post_bind4",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET4_POST_BIND),
    ),
    (
        "cgroup/post_bind6",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET6_POST_BIND),
    ),
    (
        "cgroup/bind4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_BIND),
    ),
    (
        "cgroup/bind6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_BIND),
    ),
    (
        "cgroup/connect4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_CONNECT),
    ),
    (
        "cgroup/connect6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_CONNECT),
    ),
    (
        "cgroup/connect_unix",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UNIX_CONNECT),
    ),
    (
        "cgroup/sendmsg4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP4_SENDMSG),
    ),
    (
        "cgroup/sendmsg6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP6_SENDMSG),
    ),
    (
        "cgroup/sendmsg_unix",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UNIX_SENDMSG),
    ),
    (
        "cgroup/recvmsg4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP4_RECVMSG),
    ),
    (
        "cgroup/recvmsg6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP6_RECVMSG),
    ),
    (
        "cgroup/recvmsg_unix",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UNIX_RECVMSG),
    ),
    (
        "cgroup/getpeername4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_GETPEERNAME),
    ),
    (
        "cgroup/getpeername6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_GETPEERNAME),
    ),
    (
        "cgroup/getpeername_unix",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UNIX_GETPEERNAME),
    ),
    (
        "cgroup/getsockname4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_GETSOCKNAME),
    ),
    (
        "cgroup/getsockname6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_GETSOCKNAME),
    ),
    (
        "cgroup/getsockname_unix",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UNIX_GETSOCKNAME),
    ),
    ("cgroup/sysctl", P::CGROUP_SYSCTL, Some(A::CGROUP_SYSCTL)),
    (
        "cgroup/getsockopt",
        P::CGROUP_SOCKOPT,
        Some(A::CGROUP_GETSOCKOPT),
    ),
    (
        "cgroup/setsockopt",
        P::CGROUP_SOCKOPT,
        Some(A::CGROUP_SETSOCKOPT),
    ),
    ("cgroup/dev", P::CGROUP_DEVICE, Some(A::CGROUP_DEVICE)),
    ("struct_ops+", P::STRUCT_OPS, None),
    ("struct_ops.s+", P::STRUCT_OPS, None),
    ("sk_lookup", P::SK_LOOKUP, Some(A::SK_LOOKUP)),
    ("netfilter", P::NETFILTER, Some(A::NETFILTER)),
];

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('+') {
        Some(base) => {
            name == base
                || name
                    .strip_prefix(base)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        None => name == pattern,
    }
}

/// Map a `SEC()` name to its program and attach type, as libbpf does;
/// `None` for a name libbpf does not know.
///
/// ```
/// use ebpf_loader::{AttachType, ProgramType, section_def};
///
/// let def = section_def("xdp.frags").unwrap();
/// assert_eq!(def.prog_type, ProgramType::XDP);
/// assert_eq!(def.attach, Some(AttachType::XDP));
/// assert!(def.frags);
/// assert_eq!(section_def("kprobe/do_sys_open").unwrap().prog_type, ProgramType::KPROBE);
/// assert_eq!(section_def("kprobex"), None);
/// ```
#[must_use]
pub fn section_def(name: &str) -> Option<SectionDef> {
    let (pattern, prog_type, attach) = TABLE.iter().find(|(p, _, _)| matches(p, name))?;
    let base = pattern.trim_end_matches('+');
    let kind = base.split('/').next().unwrap_or(base);
    Some(SectionDef {
        prog_type: *prog_type,
        attach: *attach,
        sleepable: kind.ends_with(".s") || kind == "syscall",
        frags: kind == "xdp.frags",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_names() {
        let cases: &[(&str, ProgramType, Option<AttachType>)] = &[
            ("socket", P::SOCKET_FILTER, None),
            ("xdp", P::XDP, Some(A::XDP)),
            ("xdp.frags", P::XDP, Some(A::XDP)),
            ("xdp/devmap", P::XDP, Some(A::XDP_DEVMAP)),
            ("tc", P::SCHED_CLS, None),
            ("classifier", P::SCHED_CLS, None),
            ("tcx/ingress", P::SCHED_CLS, Some(A::TCX_INGRESS)),
            ("tc/egress", P::SCHED_CLS, Some(A::TCX_EGRESS)),
            ("action", P::SCHED_ACT, None),
            ("kprobe/do_sys_open", P::KPROBE, None),
            ("kretprobe/do_sys_open", P::KPROBE, None),
            ("uprobe/bin:func", P::KPROBE, None),
            ("tracepoint/sched/sched_switch", P::TRACEPOINT, None),
            ("tp/sched/sched_switch", P::TRACEPOINT, None),
            ("raw_tp/sched_switch", P::RAW_TRACEPOINT, None),
            ("raw_tracepoint/sched_switch", P::RAW_TRACEPOINT, None),
            ("tp_btf/sched_switch", P::TRACING, Some(A::TRACE_RAW_TP)),
            ("fentry/do_unlinkat", P::TRACING, Some(A::TRACE_FENTRY)),
            ("fexit/do_unlinkat", P::TRACING, Some(A::TRACE_FEXIT)),
            ("lsm/file_open", P::LSM, Some(A::LSM_MAC)),
            ("perf_event", P::PERF_EVENT, None),
            (
                "cgroup_skb/ingress",
                P::CGROUP_SKB,
                Some(A::CGROUP_INET_INGRESS),
            ),
            ("cgroup/skb", P::CGROUP_SKB, None),
            (
                "cgroup/connect4",
                P::CGROUP_SOCK_ADDR,
                Some(A::CGROUP_INET4_CONNECT),
            ),
            (
                "cgroup/sock",
                P::CGROUP_SOCK,
                Some(A::CGROUP_INET_SOCK_CREATE),
            ),
            (
                "sk_skb/stream_parser",
                P::SK_SKB,
                Some(A::SK_SKB_STREAM_PARSER),
            ),
            ("sk_msg", P::SK_MSG, Some(A::SK_MSG_VERDICT)),
            ("sockops", P::SOCK_OPS, Some(A::CGROUP_SOCK_OPS)),
            ("flow_dissector", P::FLOW_DISSECTOR, Some(A::FLOW_DISSECTOR)),
            ("lwt_xmit", P::LWT_XMIT, None),
            ("syscall", P::SYSCALL, None),
        ];
        for (name, ty, attach) in cases {
            let def = section_def(name).unwrap_or_else(|| panic!("{name} unknown"));
            assert_eq!((def.prog_type, def.attach), (*ty, *attach), "{name}");
        }
        for bad in [
            "",
            "kprobex",
            "xdp/",
            "socket/x",
            "tc/ingress/x",
            ".text",
            "maps",
        ] {
            assert_eq!(section_def(bad), None, "{bad}");
        }
        assert!(section_def("fentry.s/f").is_some_and(|d| d.sleepable));
        assert!(section_def("fentry/f").is_some_and(|d| !d.sleepable));
    }

    #[test]
    fn names_and_display() {
        assert_eq!(ProgramType::XDP.to_string(), "xdp");
        assert_eq!(ProgramType(999).to_string(), "ProgramType(999)");
        assert_eq!(
            AttachType::TRACE_KPROBE_SESSION.to_string(),
            "trace_kprobe_session"
        );
    }
}
