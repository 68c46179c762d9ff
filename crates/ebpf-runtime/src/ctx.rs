//! Program contexts: `struct xdp_md` and `struct __sk_buff` as
//! `BPF_PROG_TEST_RUN` gives them, and the rewrite of context loads that the
//! kernel's verifier does (`convert_ctx_access`).
//!
//! # The problem
//!
//! An XDP program reads `ctx->data` with a **32-bit** load (`r2 = *(u32
//! *)(r1 +0)`) and then dereferences the result as a pointer. In the kernel
//! that works because the verifier rewrites every context access: the load
//! of `xdp_md->data` becomes a 64-bit load of `xdp_buff->data`, the real
//! packet pointer. Our guest addresses are tagged 64-bit values
//! ([`crate::layout`]: the packet starts at [`PACKET_BASE`]), which do not fit
//! in a 32-bit field. So we do what the kernel does, in our own terms:
//!
//! * **A context buffer** ([`CtxLayout`]): the UAPI struct's bytes (so scalar
//!   fields such as `len`, `mark` or `ingress_ifindex` are plain bytes at
//!   their UAPI offsets), followed by a **shadow area** holding one 64-bit
//!   guest address per packet pointer field (`data`, `data_end`,
//!   `data_meta`). The UAPI slots of the pointer fields hold 0.
//! * **A rewrite** ([`convert_ctx_access`]): every `ldxw dst, [ctx + off]`
//!   whose `off` is a pointer field becomes `ldxdw dst, [ctx + shadow_off]`.
//!   One slot is replaced by one slot, so no jump needs fixing.
//! * **A builder** ([`CtxSpec`], [`CtxRun`]): the context values
//!   `BPF_PROG_TEST_RUN` gives a program for a packet, and the
//!   [`Invocation`] that runs it (input region = the context buffer, `r1` =
//!   [`INPUT_BASE`], packet region = the packet).
//!
//! ```
//! use ebpf_isa::asm::assemble;
//! use ebpf_runtime::ctx::{CtxKind, CtxSpec, convert_ctx_access};
//!
//! // return data_end - data
//! let prog = assemble(
//!     "r2 = *(u32 *)(r1 +0)
//!      r3 = *(u32 *)(r1 +4)
//!      r0 = r3
//!      r0 -= r2
//!      exit",
//! )?;
//! let rewritten = convert_ctx_access(&prog, CtxKind::Xdp.layout())?;
//! assert_eq!(rewritten.insns()[0].to_string(), "r2 = *(u64 *)(r1 +24)");
//! assert_eq!(rewritten.insns()[1].to_string(), "r3 = *(u64 *)(r1 +32)");
//!
//! let mut run = CtxSpec::new(CtxKind::Xdp).build(vec![0u8; 64])?;
//! let _inv = run.invocation(); // engine.invoke(&mut rt, run.invocation())
//! assert_eq!(run.pointer(ebpf_runtime::ctx::PacketPtr::DataEnd), ebpf_runtime::PACKET_BASE + 64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Which registers hold the context
//!
//! [`convert_ctx_access`] runs a forward dataflow analysis over the slots
//! (successors computed from jumps, calls and `exit`; `ld_imm64` takes two
//! slots). Each register and each 8-byte stack slot at a constant `r10`
//! offset has a set of possible kinds: *scalar* (numbers and every pointer
//! that is not the context or the stack), *ctx*, *ctx plus an offset*,
//! *pointer into this frame* (with its offset when all paths agree) and
//! *pointer into a caller's frame*. At the join of two paths the sets are
//! united, so "certainly the context" is the set {ctx} and "the context on
//! some paths only" is a set holding ctx and something else.
//!
//! * Entry: `r1` is the context, `r10` the frame pointer.
//! * Spills and fills: an 8-byte store through `r10` (or a copy of it with a
//!   constant offset) to an 8-byte aligned slot records the stored kind; an
//!   8-byte load gives it back. Narrower stores make the slots they touch
//!   scalar; a store through a stack pointer with an unknown offset may hit
//!   any slot (each slot gains the stored kinds).
//! * Helper and kfunc calls, `LD_ABS`/`LD_IND`: `r0..=r5` become scalar; the
//!   stack keeps its kinds (helpers never write pointers into memory).
//! * **bpf-to-bpf calls are followed**: a callee's `r1..=r5` at entry are the
//!   union over its call sites of the callers' `r1..=r5` (so a subprogram
//!   given `ctx` rewrites its own `ctx->data` loads), `r6..=r9` and its stack
//!   are scalar. After the call, `r0` is the union of the callee's `r0` at
//!   its `exit`s, `r1..=r5` are scalar. A callee reaches its caller's stack
//!   only through pointers it was given: if one was passed, every slot of
//!   the caller may have been overwritten (gains *scalar*); a callee storing
//!   a possible context pointer through such a pointer is refused
//!   ([`CtxError::UntrackedCtxStore`]), and an 8-byte load through one may
//!   give the context when a caller's frame may hold it.
//! * Callbacks (`ld_imm64 rX, func`): entered with `r1..=r5` unknown (scalar
//!   or a pointer into a caller's frame).
//! * The analysis is context-insensitive (one state per slot for all call
//!   sites) and unreachable slots are left as they are.
//!
//! # What is refused
//!
//! Every access through a register that may be the context is checked
//! against the layout. Each refusal is a [`CtxError`] naming the slot; the
//! kernel's verifier rejects all of them too:
//!
//! * a packet pointer field accessed other than by a 4-byte load of exactly
//!   the field (a store, an 8-byte or narrow load, a sign-extending load, an
//!   atomic): [`CtxError::PointerField`];
//! * a pointer field through a register that is the context on some paths
//!   only: [`CtxError::MaybeCtx`];
//! * any access through the context plus an offset: [`CtxError::ModifiedCtx`];
//! * an access past the UAPI struct: [`CtxError::OutOfRange`];
//! * fields we do not model ([`FieldKind::Unsupported`]: `__sk_buff`'s
//!   `flow_keys` and `sk` pointers, its socket fields `family` to
//!   `local_port`, `xdp_md->egress_ifindex`): [`CtxError::UnsupportedField`].
//!
//! Scalar field accesses (loads and stores of any size) are left alone:
//! they read and write the buffer's bytes.
//!
//! # What is not modelled
//!
//! * Program types other than XDP, socket filters and tc (`SCHED_CLS`,
//!   `SCHED_ACT`), and XDP devmap/cpumap programs.
//! * Which fields a program type may read or write: the kernel refuses, for
//!   example, a socket filter reading `skb->data` or writing `skb->len`; we
//!   only refuse what we cannot represent. Writes to scalar fields change
//!   the buffer and nothing else (no `skb->mark` side effects).
//! * Fields `BPF_PROG_TEST_RUN` fills that we do not: `hash` (0 here, as the
//!   kernel does not compute it either), `napi_id`, `tc_classid`,
//!   `queue_mapping`, `vlan_*` and `tstamp_type` are 0; the socket fields
//!   are refused. `pkt_type` assumes the loopback device's all-zero MAC and
//!   broadcast addresses (so `ff:ff:ff:ff:ff:ff` is `PACKET_MULTICAST`), even
//!   when `ifindex` names another device.
//! * Helpers that move the packet (`bpf_xdp_adjust_head`, `bpf_skb_pull_data`,
//!   ...): the shadow pointers are fixed for the run; there is no headroom
//!   or tailroom, and no metadata area (`data_meta == data`).
//! * Packets longer than the kernel's linear area: refused
//!   ([`CtxError::PacketTooLong`]; the limits are x86-64's).
//! * Storing the context into a map or the packet and loading it back.

use ebpf_isa::{AluOp, AtomicOp, CallTarget, Imm64, Insn, Operand, Program, Reg, Size, Width};

use crate::helpers::Invocation;
use crate::layout::{INPUT_BASE, PACKET_BASE, STACK_FRAME_SIZE};

/// `ETH_HLEN`: the Ethernet header `BPF_PROG_TEST_RUN` requires and pulls.
pub const ETH_HLEN: usize = 14;

/// Longest packet `BPF_PROG_TEST_RUN` keeps linear for XDP on x86-64
/// (`4096 - XDP_PACKET_HEADROOM - sizeof(skb_shared_info)` = 4096 - 256 -
/// 320); the kernel puts the rest in fragments.
pub const XDP_MAX_LINEAR: usize = 3520;

/// Longest packet `BPF_PROG_TEST_RUN` accepts for skb programs on x86-64
/// (`4096 - NET_SKB_PAD - sizeof(skb_shared_info)` = 4096 - 64 - 320).
pub const SKB_MAX_LEN: usize = 3712;

/// Which packet pointer a field holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PacketPtr {
    /// `data`: the first byte of the packet.
    Data,
    /// `data_end`: one past the last byte.
    DataEnd,
    /// `data_meta`: the start of the metadata area (= `data` here).
    DataMeta,
}

impl PacketPtr {
    /// Index in the shadow area (0, 1, 2).
    const fn index(self) -> u16 {
        match self {
            PacketPtr::Data => 0,
            PacketPtr::DataEnd => 1,
            PacketPtr::DataMeta => 2,
        }
    }
}

/// What a context field holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FieldKind {
    /// A plain value: the buffer's bytes are the field.
    Scalar,
    /// A 32-bit UAPI field the kernel turns into a packet pointer; its
    /// 64-bit guest address is in the shadow area.
    Packet(PacketPtr),
    /// A field we do not model (a kernel object pointer, or socket data the
    /// test run does not give these program types); every access is refused.
    Unsupported,
}

/// One field of a UAPI context struct.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CtxField {
    /// The UAPI name (`cb[2]` for array elements).
    pub name: &'static str,
    /// Byte offset in the struct.
    pub off: u16,
    /// Size in bytes.
    pub size: u16,
    /// What it holds.
    pub kind: FieldKind,
}

const fn scalar(name: &'static str, off: u16, size: u16) -> CtxField {
    CtxField {
        name,
        off,
        size,
        kind: FieldKind::Scalar,
    }
}

const fn packet(name: &'static str, off: u16, ptr: PacketPtr) -> CtxField {
    CtxField {
        name,
        off,
        size: 4,
        kind: FieldKind::Packet(ptr),
    }
}

const fn unsupported(name: &'static str, off: u16, size: u16) -> CtxField {
    CtxField {
        name,
        off,
        size,
        kind: FieldKind::Unsupported,
    }
}

/// The context buffer of one UAPI struct: its fields, its size, and where
/// the shadow area of packet pointers starts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CtxLayout {
    /// The struct's name (`xdp_md`, `__sk_buff`).
    pub name: &'static str,
    /// `sizeof` the UAPI struct: accesses at or past it are refused.
    pub size: u16,
    /// The fields, by increasing offset.
    pub fields: &'static [CtxField],
    /// Offset of the shadow area (the struct size rounded up to 8): three
    /// 64-bit guest addresses, `data`, `data_end`, `data_meta`.
    pub shadow: u16,
}

const XDP_MD_FIELDS: &[CtxField] = &[
    packet("data", 0, PacketPtr::Data),
    packet("data_end", 4, PacketPtr::DataEnd),
    packet("data_meta", 8, PacketPtr::DataMeta),
    scalar("ingress_ifindex", 12, 4),
    scalar("rx_queue_index", 16, 4),
    unsupported("egress_ifindex", 20, 4),
];

const SK_BUFF_FIELDS: &[CtxField] = &[
    scalar("len", 0, 4),
    scalar("pkt_type", 4, 4),
    scalar("mark", 8, 4),
    scalar("queue_mapping", 12, 4),
    scalar("protocol", 16, 4),
    scalar("vlan_present", 20, 4),
    scalar("vlan_tci", 24, 4),
    scalar("vlan_proto", 28, 4),
    scalar("priority", 32, 4),
    scalar("ingress_ifindex", 36, 4),
    scalar("ifindex", 40, 4),
    scalar("tc_index", 44, 4),
    scalar("cb[0]", 48, 4),
    scalar("cb[1]", 52, 4),
    scalar("cb[2]", 56, 4),
    scalar("cb[3]", 60, 4),
    scalar("cb[4]", 64, 4),
    scalar("hash", 68, 4),
    scalar("tc_classid", 72, 4),
    packet("data", 76, PacketPtr::Data),
    packet("data_end", 80, PacketPtr::DataEnd),
    scalar("napi_id", 84, 4),
    unsupported("family", 88, 4),
    unsupported("remote_ip4", 92, 4),
    unsupported("local_ip4", 96, 4),
    unsupported("remote_ip6", 100, 16),
    unsupported("local_ip6", 116, 16),
    unsupported("remote_port", 132, 4),
    unsupported("local_port", 136, 4),
    packet("data_meta", 140, PacketPtr::DataMeta),
    unsupported("flow_keys", 144, 8),
    scalar("tstamp", 152, 8),
    scalar("wire_len", 160, 4),
    scalar("gso_segs", 164, 4),
    unsupported("sk", 168, 8),
    scalar("gso_size", 176, 4),
    scalar("tstamp_type", 180, 1),
    scalar("hwtstamp", 184, 8),
];

impl CtxLayout {
    /// `struct xdp_md` (24 bytes): `data`, `data_end`, `data_meta` are
    /// packet pointers; shadow area at 24.
    pub const XDP_MD: CtxLayout = CtxLayout {
        name: "xdp_md",
        size: 24,
        fields: XDP_MD_FIELDS,
        shadow: 24,
    };

    /// `struct __sk_buff` (192 bytes): `data` (76), `data_end` (80) and
    /// `data_meta` (140) are packet pointers; shadow area at 192.
    pub const SK_BUFF: CtxLayout = CtxLayout {
        name: "__sk_buff",
        size: 192,
        fields: SK_BUFF_FIELDS,
        shadow: 192,
    };

    /// Bytes of the whole buffer: the struct, padding, the shadow area.
    #[must_use]
    pub const fn buffer_size(&self) -> usize {
        self.shadow as usize + 24
    }

    /// The offset of a packet pointer's 64-bit guest address in the buffer.
    #[must_use]
    pub const fn shadow_offset(&self, ptr: PacketPtr) -> u16 {
        self.shadow + 8 * ptr.index()
    }

    /// The field named `name` (`cb[1]` for array elements).
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static CtxField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The UAPI offset of a packet pointer field.
    #[must_use]
    pub fn pointer_field(&self, ptr: PacketPtr) -> Option<&'static CtxField> {
        self.fields
            .iter()
            .find(|f| f.kind == FieldKind::Packet(ptr))
    }

    /// The first field that is not [`FieldKind::Scalar`] and overlaps
    /// `[off, off + size)`.
    fn special_overlap(&self, off: i64, size: i64) -> Option<&'static CtxField> {
        let end = off.saturating_add(size);
        self.fields.iter().find(|f| {
            let (fo, fe) = (i64::from(f.off), i64::from(f.off) + i64::from(f.size));
            f.kind != FieldKind::Scalar && off < fe && fo < end
        })
    }
}

/// The program types whose context we model.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CtxKind {
    /// `BPF_PROG_TYPE_XDP`: `struct xdp_md`, the packet from its Ethernet
    /// header.
    Xdp,
    /// `BPF_PROG_TYPE_SOCKET_FILTER`: `struct __sk_buff` after
    /// `eth_type_trans` pulled the Ethernet header, so `len` and `LD_ABS`
    /// offsets start at the network header.
    SocketFilter,
    /// `BPF_PROG_TYPE_SCHED_CLS` and `SCHED_ACT` (tc): `struct __sk_buff`
    /// with the Ethernet header pushed back, direct packet access.
    SchedCls,
}

impl CtxKind {
    /// The kind for a kernel program type number (`BPF_PROG_TYPE_*`:
    /// socket filter 1, sched_cls 3, sched_act 4, xdp 6).
    #[must_use]
    pub const fn from_prog_type(prog_type: u32) -> Option<CtxKind> {
        match prog_type {
            1 => Some(CtxKind::SocketFilter),
            3 | 4 => Some(CtxKind::SchedCls),
            6 => Some(CtxKind::Xdp),
            _ => None,
        }
    }

    /// The context layout.
    #[must_use]
    pub const fn layout(self) -> &'static CtxLayout {
        match self {
            CtxKind::Xdp => &CtxLayout::XDP_MD,
            CtxKind::SocketFilter | CtxKind::SchedCls => &CtxLayout::SK_BUFF,
        }
    }

    /// Fields a `BPF_PROG_TEST_RUN` `ctx_in` may set (the others must be 0).
    const fn settable(self) -> &'static [&'static str] {
        match self {
            CtxKind::Xdp => &["ingress_ifindex", "rx_queue_index"],
            CtxKind::SocketFilter | CtxKind::SchedCls => &[
                "mark",
                "priority",
                "ingress_ifindex",
                "ifindex",
                "cb[0]",
                "cb[1]",
                "cb[2]",
                "cb[3]",
                "cb[4]",
                "tstamp",
                "wire_len",
                "gso_segs",
                "gso_size",
                "hwtstamp",
            ],
        }
    }

    fn max_packet(self) -> usize {
        match self {
            CtxKind::Xdp => XDP_MAX_LINEAR,
            CtxKind::SocketFilter | CtxKind::SchedCls => SKB_MAX_LEN,
        }
    }
}

/// How a context access was made, for [`CtxError::PointerField`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CtxAccess {
    /// `ldx`.
    Load,
    /// `ldsx` (sign-extending).
    LoadSx,
    /// `load_acquire`.
    LoadAcquire,
    /// `st` / `stx`.
    Store,
    /// `store_release`.
    StoreRelease,
    /// An atomic read-modify-write.
    Atomic,
}

impl core::fmt::Display for CtxAccess {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CtxAccess::Load => "load",
            CtxAccess::LoadSx => "sign-extending load",
            CtxAccess::LoadAcquire => "load-acquire",
            CtxAccess::Store => "store",
            CtxAccess::StoreRelease => "store-release",
            CtxAccess::Atomic => "atomic operation",
        })
    }
}

/// Why a program's context accesses cannot be converted, or a context
/// cannot be built.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CtxError {
    /// A packet pointer field accessed other than by a 4-byte load of the
    /// whole field.
    #[error(
        "slot {pc}: {access} of {size} bytes at {ctx}+{off} touches packet pointer `{field}`: \
         only a 4-byte load of the field is allowed"
    )]
    PointerField {
        /// Slot of the access.
        pc: usize,
        /// The struct.
        ctx: &'static str,
        /// The field.
        field: &'static str,
        /// How it was accessed.
        access: CtxAccess,
        /// Bytes accessed.
        size: u8,
        /// Offset accessed.
        off: i16,
    },
    /// A field we do not model.
    #[error("slot {pc}: access to {ctx}->{field} (offset {off}) is not supported")]
    UnsupportedField {
        /// Slot of the access.
        pc: usize,
        /// The struct.
        ctx: &'static str,
        /// The field.
        field: &'static str,
        /// Offset accessed.
        off: i16,
    },
    /// An access outside the UAPI struct.
    #[error(
        "slot {pc}: access of {size} bytes at {ctx}+{off} is outside the {ctx_size}-byte context"
    )]
    OutOfRange {
        /// Slot of the access.
        pc: usize,
        /// The struct.
        ctx: &'static str,
        /// Offset accessed.
        off: i16,
        /// Bytes accessed.
        size: u8,
        /// `sizeof` the struct.
        ctx_size: u16,
    },
    /// A pointer field accessed through a register that is the context on
    /// some paths only.
    #[error("slot {pc}: {reg} is the context on some paths only, and {ctx}+{off} is `{field}`")]
    MaybeCtx {
        /// Slot of the access.
        pc: usize,
        /// The base register.
        reg: Reg,
        /// The struct.
        ctx: &'static str,
        /// The field.
        field: &'static str,
        /// Offset accessed.
        off: i16,
    },
    /// An access through the context pointer plus an offset.
    #[error("slot {pc}: access through {reg}, which may be the context plus an offset")]
    ModifiedCtx {
        /// Slot of the access.
        pc: usize,
        /// The base register.
        reg: Reg,
    },
    /// A subprogram stores a possible context pointer into a caller's
    /// stack frame, which the analysis does not track.
    #[error(
        "slot {pc}: {src} may be the context and is stored through {reg}, a pointer into a caller's stack"
    )]
    UntrackedCtxStore {
        /// Slot of the store.
        pc: usize,
        /// The base register.
        reg: Reg,
        /// The stored register.
        src: Reg,
    },
    /// A jump, call or function address outside the program or into the
    /// second slot of an `ld_imm64`, or the last instruction falls through.
    #[error("slot {pc}: control flow to slot {target}, which is not an instruction")]
    BadTarget {
        /// Slot of the jump.
        pc: usize,
        /// The target (may be negative or past the end).
        target: i64,
    },
    /// `gotox`: the successors are unknown.
    #[error("slot {pc}: indirect jump (gotox) is not supported")]
    IndirectJump {
        /// Slot of the jump.
        pc: usize,
    },
    /// The packet is shorter than an Ethernet header.
    #[error("packet of {len} bytes is shorter than the {min}-byte Ethernet header")]
    PacketTooShort {
        /// Packet length.
        len: usize,
        /// Minimum.
        min: usize,
    },
    /// The packet is longer than the kernel keeps linear.
    #[error("packet of {len} bytes is longer than the {max} bytes the kernel keeps linear")]
    PacketTooLong {
        /// Packet length.
        len: usize,
        /// Maximum.
        max: usize,
    },
    /// A field name the builder does not know, or one `ctx_in` cannot set.
    #[error("{ctx}: field `{name}` cannot be set by BPF_PROG_TEST_RUN's ctx_in")]
    NotSettable {
        /// The struct.
        ctx: &'static str,
        /// The name given.
        name: String,
    },
    /// A value `BPF_PROG_TEST_RUN` would reject.
    #[error("{ctx}: {field} = {value} is rejected by BPF_PROG_TEST_RUN: {reason}")]
    BadValue {
        /// The struct.
        ctx: &'static str,
        /// The field.
        field: &'static str,
        /// The value.
        value: u64,
        /// Why.
        reason: &'static str,
    },
}

// ---------------------------------------------------------------------------
// The builder.

/// What a `BPF_PROG_TEST_RUN` call sets up besides the packet: the program
/// kind and the `ctx_in` fields given (none by default).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CtxSpec {
    kind: CtxKind,
    values: Vec<(&'static CtxField, u64)>,
}

impl CtxSpec {
    /// A test run without `ctx_in`.
    #[must_use]
    pub fn new(kind: CtxKind) -> CtxSpec {
        CtxSpec {
            kind,
            values: Vec::new(),
        }
    }

    /// The program kind.
    #[must_use]
    pub fn kind(&self) -> CtxKind {
        self.kind
    }

    /// Give a `ctx_in` field a value (the test run then has a `ctx_in`).
    /// Only the fields the kernel accepts in `ctx_in` can be set: for XDP
    /// `ingress_ifindex` and `rx_queue_index`; for skb programs `mark`,
    /// `priority`, `ingress_ifindex`, `ifindex`, `cb[0]`..`cb[4]`, `tstamp`,
    /// `wire_len`, `gso_segs`, `gso_size`, `hwtstamp`.
    pub fn set(mut self, name: &str, value: u64) -> Result<CtxSpec, CtxError> {
        let layout = self.kind.layout();
        let field = layout
            .field(name)
            .filter(|f| self.kind.settable().contains(&f.name))
            .ok_or_else(|| CtxError::NotSettable {
                ctx: layout.name,
                name: name.to_string(),
            })?;
        if field.size < 8 && value > u64::from(u32::MAX) {
            return Err(CtxError::BadValue {
                ctx: layout.name,
                field: field.name,
                value,
                reason: "does not fit in 32 bits",
            });
        }
        if field.name == "gso_segs" && value > 65535 {
            return Err(CtxError::BadValue {
                ctx: layout.name,
                field: field.name,
                value,
                reason: "above GSO_MAX_SEGS",
            });
        }
        self.values.retain(|(f, _)| f.name != field.name);
        self.values.push((field, value));
        Ok(self)
    }

    fn value(&self, name: &str) -> Option<u64> {
        self.values
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|&(_, v)| v)
    }

    /// The `ctx_in` bytes to give the kernel's `BPF_PROG_TEST_RUN` for the
    /// same run, or `None` when no field was set (the run has no `ctx_in`).
    #[must_use]
    pub fn kernel_ctx_in(&self, packet_len: usize) -> Option<Vec<u8>> {
        if self.values.is_empty() {
            return None;
        }
        let layout = self.kind.layout();
        let mut bytes = vec![0u8; usize::from(layout.size)];
        if self.kind == CtxKind::Xdp {
            // data = 0 (no metadata), data_end = the packet length.
            put(&mut bytes, 4, 4, packet_len as u64);
        }
        for &(f, v) in &self.values {
            put(&mut bytes, f.off.into(), f.size.into(), v);
        }
        Some(bytes)
    }

    /// The context `BPF_PROG_TEST_RUN` gives a program for `packet`, and
    /// the packet, ready to run ([`CtxRun::invocation`]).
    pub fn build(&self, packet: Vec<u8>) -> Result<CtxRun, CtxError> {
        let kind = self.kind;
        let layout = kind.layout();
        let len = packet.len();
        if len < ETH_HLEN {
            return Err(CtxError::PacketTooShort { len, min: ETH_HLEN });
        }
        if len > kind.max_packet() {
            return Err(CtxError::PacketTooLong {
                len,
                max: kind.max_packet(),
            });
        }
        let mut ctx = vec![0u8; layout.buffer_size()];
        let ctx_in = !self.values.is_empty();
        let get = |name| self.value(name).unwrap_or(0);
        let data_start = match kind {
            CtxKind::Xdp => {
                let ingress = get("ingress_ifindex");
                let queue = get("rx_queue_index");
                if ingress == 0 && queue != 0 {
                    return Err(CtxError::BadValue {
                        ctx: layout.name,
                        field: "rx_queue_index",
                        value: queue,
                        reason: "a queue needs an ingress_ifindex",
                    });
                }
                // Without an ifindex the run uses loopback's queue 0.
                put(&mut ctx, 12, 4, if ingress == 0 { 1 } else { ingress });
                put(&mut ctx, 16, 4, queue);
                0
            }
            CtxKind::SocketFilter | CtxKind::SchedCls => {
                let l2 = kind == CtxKind::SchedCls;
                let skb_len = if l2 { len } else { len - ETH_HLEN };
                put(&mut ctx, 0, 4, skb_len as u64);
                put(&mut ctx, 4, 4, pkt_type(&packet));
                put(&mut ctx, 16, 4, u64::from(eth_protocol(&packet)));
                let ifindex = get("ifindex");
                put(&mut ctx, 40, 4, if ifindex > 1 { ifindex } else { 1 });
                for name in ["mark", "priority", "ingress_ifindex"]
                    .into_iter()
                    .chain(["cb[0]", "cb[1]", "cb[2]", "cb[3]", "cb[4]"])
                    .chain(["tstamp", "gso_segs", "gso_size", "hwtstamp"])
                {
                    if let Some(f) = layout.field(name) {
                        put(&mut ctx, f.off.into(), f.size.into(), get(name));
                    }
                }
                // qdisc_skb_cb(skb)->pkt_len: only set from a ctx_in.
                let wire = get("wire_len");
                if wire != 0 && wire < skb_len as u64 {
                    return Err(CtxError::BadValue {
                        ctx: layout.name,
                        field: "wire_len",
                        value: wire,
                        reason: "shorter than the skb",
                    });
                }
                let wire = match (ctx_in, wire) {
                    (false, _) => 0,
                    (true, 0) => skb_len as u64,
                    (true, w) => w,
                };
                put(&mut ctx, 160, 4, wire);
                if l2 { 0 } else { ETH_HLEN }
            }
        };
        let data_len = (len - data_start) as u64;
        let ptrs = [
            (PacketPtr::Data, PACKET_BASE),
            (PacketPtr::DataEnd, PACKET_BASE + data_len),
            (PacketPtr::DataMeta, PACKET_BASE),
        ];
        for (p, v) in ptrs {
            put(&mut ctx, layout.shadow_offset(p).into(), 8, v);
        }
        Ok(CtxRun {
            kind,
            ctx,
            packet,
            data_start,
        })
    }
}

/// Write the low `size` bytes of `v` little-endian at `off`, if in range.
fn put(buf: &mut [u8], off: usize, size: usize, v: u64) {
    let bytes = v.to_le_bytes();
    if let (Some(dst), Some(src)) = (
        off.checked_add(size).and_then(|end| buf.get_mut(off..end)),
        bytes.get(..size),
    ) {
        dst.copy_from_slice(src);
    }
}

/// `eth_type_trans`'s `pkt_type` on the loopback device (all-zero MAC and
/// broadcast address): 0 host, 2 multicast, 3 other host.
fn pkt_type(packet: &[u8]) -> u64 {
    let dest = packet.get(..6).unwrap_or(&[]);
    if dest.iter().all(|&b| b == 0) {
        0
    } else if dest.first().is_some_and(|b| b & 1 == 1) {
        2
    } else {
        3
    }
}

/// `eth_type_trans`'s protocol as the program reads `skb->protocol`: the
/// big-endian ethertype's bytes as a little-endian `u16`.
fn eth_protocol(packet: &[u8]) -> u16 {
    let be = |i: usize| {
        packet
            .get(i..i + 2)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    };
    let proto = be(12);
    let host_order = if proto >= 0x0600 {
        proto
    } else if be(14) == 0xffff {
        0x0001 // ETH_P_802_3
    } else {
        0x0004 // ETH_P_802_2
    };
    host_order.swap_bytes()
}

/// A context buffer and its packet, ready to run.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CtxRun {
    kind: CtxKind,
    ctx: Vec<u8>,
    packet: Vec<u8>,
    data_start: usize,
}

impl CtxRun {
    /// The program kind.
    #[must_use]
    pub fn kind(&self) -> CtxKind {
        self.kind
    }

    /// The invocation to run the converted program with: input region =
    /// the context buffer, `r1` = [`INPUT_BASE`], `r2..=r5` = 0, packet
    /// region = the packet from `skb->data` (after the Ethernet header for
    /// socket filters, so `LD_ABS` offsets match the kernel's).
    pub fn invocation(&mut self) -> Invocation<'_> {
        let packet = self.packet.get_mut(self.data_start..).unwrap_or_default();
        Invocation::new(&mut self.ctx)
            .packet(packet)
            .args([INPUT_BASE, 0, 0, 0, 0])
    }

    /// The UAPI struct's bytes as the program sees them (or left them).
    #[must_use]
    pub fn ctx(&self) -> &[u8] {
        let n = usize::from(self.kind.layout().size);
        self.ctx.get(..n).unwrap_or(&self.ctx)
    }

    /// The whole buffer, shadow area included.
    #[must_use]
    pub fn ctx_buffer(&self) -> &[u8] {
        &self.ctx
    }

    /// A scalar field's current value, by name.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<u64> {
        let f = self.kind.layout().field(name)?;
        if f.kind != FieldKind::Scalar {
            return None;
        }
        let bytes = self
            .ctx
            .get(usize::from(f.off)..usize::from(f.off + f.size))?;
        let mut v = [0u8; 8];
        v.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(u64::from_le_bytes(v))
    }

    /// A packet pointer's guest address, from the shadow area.
    #[must_use]
    pub fn pointer(&self, ptr: PacketPtr) -> u64 {
        let off = usize::from(self.kind.layout().shadow_offset(ptr));
        self.ctx
            .get(off..off + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    }

    /// The whole packet, Ethernet header included.
    #[must_use]
    pub fn packet(&self) -> &[u8] {
        &self.packet
    }

    /// What `BPF_PROG_TEST_RUN` copies to `data_out`: the packet, with the
    /// Ethernet header zeroed for socket filters (the kernel pushes back a
    /// cleared header).
    #[must_use]
    pub fn data_out(&self) -> Vec<u8> {
        let mut out = self.packet.clone();
        if self.kind == CtxKind::SocketFilter {
            for b in out.iter_mut().take(ETH_HLEN) {
                *b = 0;
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// The analysis.

/// Kind bits of an abstract value.
const SCALAR: u8 = 1;
const CTX: u8 = 2;
const CTX_OFF: u8 = 4;
const FP: u8 = 8;
const FOREIGN: u8 = 16;

/// The possible kinds of a register or stack slot; `fp` is the offset from
/// the frame pointer when every `FP` path agrees on it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Val {
    bits: u8,
    fp: Option<i16>,
}

impl Val {
    const SCALAR: Val = Val {
        bits: SCALAR,
        fp: None,
    };
    const CTX: Val = Val {
        bits: CTX,
        fp: None,
    };

    const fn fp(off: i16) -> Val {
        Val {
            bits: FP,
            fp: Some(off),
        }
    }

    fn join(self, o: Val) -> Val {
        let fp = match (self.bits & FP != 0, o.bits & FP != 0) {
            (true, true) if self.fp == o.fp => self.fp,
            (true, false) => self.fp,
            (false, true) => o.fp,
            _ => None,
        };
        Val {
            bits: self.bits | o.bits,
            fp,
        }
    }

    fn has(self, bits: u8) -> bool {
        self.bits & bits != 0
    }

    /// The value plus a constant (`None`: unknown amount).
    fn offset(self, delta: Option<i64>) -> Val {
        let mut bits = self.bits;
        if bits & CTX != 0 {
            bits = (bits & !CTX) | CTX_OFF;
        }
        let fp = match (self.fp, delta) {
            (Some(k), Some(d)) if bits & FP != 0 => i64::from(k)
                .checked_add(d)
                .and_then(|v| i16::try_from(v).ok()),
            _ => None,
        };
        Val { bits, fp }
    }

    /// A pointer into this frame seen from a callee: into a caller's frame.
    fn foreign(self) -> Val {
        if self.bits & FP != 0 {
            Val {
                bits: (self.bits & !FP) | FOREIGN,
                fp: None,
            }
        } else {
            self
        }
    }
}

const SLOTS: usize = STACK_FRAME_SIZE / 8;

#[derive(Clone, PartialEq, Eq, Debug)]
struct State {
    regs: [Val; Reg::COUNT],
    slots: [Val; SLOTS],
    /// A caller's frame may hold the context.
    caller_ctx: bool,
}

impl State {
    fn frame_entry(args: [Val; 5], caller_ctx: bool) -> State {
        let mut regs = [Val::SCALAR; Reg::COUNT];
        for (r, a) in regs.iter_mut().skip(1).zip(args) {
            *r = a;
        }
        regs[10] = Val::fp(0);
        State {
            regs,
            slots: [Val::SCALAR; SLOTS],
            caller_ctx,
        }
    }

    fn join_from(&mut self, o: &State) -> bool {
        let before = self.clone();
        for (a, b) in self.regs.iter_mut().zip(&o.regs) {
            *a = a.join(*b);
        }
        for (a, b) in self.slots.iter_mut().zip(&o.slots) {
            *a = a.join(*b);
        }
        self.caller_ctx |= o.caller_ctx;
        *self != before
    }

    fn reg(&self, r: Reg) -> Val {
        self.regs.get(r.idx()).copied().unwrap_or(Val::SCALAR)
    }

    fn set(&mut self, r: Reg, v: Val) {
        if let Some(slot) = self.regs.get_mut(r.idx()) {
            *slot = v;
        }
    }

    fn clobber_args(&mut self) {
        for r in self.regs.iter_mut().take(6) {
            *r = Val::SCALAR;
        }
    }

    /// This frame may hold the context (for callees' loads through
    /// pointers into it).
    fn frame_may_hold_ctx(&self) -> bool {
        self.caller_ctx || self.slots.iter().any(|s| s.has(CTX | CTX_OFF))
    }

    /// Stack slots covering `[a, a + size)` from the frame pointer.
    fn slot_range(a: i64, size: i64) -> core::ops::Range<usize> {
        let frame = STACK_FRAME_SIZE as i64;
        let lo = a.max(-frame);
        let hi = a.saturating_add(size).min(0);
        if lo >= hi {
            return 0..0;
        }
        // Slot i covers [-8(i+1), -8i).
        let first = ((-hi) / 8) as usize;
        let last = ((-lo - 1) / 8) as usize;
        first..last + 1
    }

    fn load(&self, base: Val, off: i16, size: Size) -> Val {
        if size != Size::DW {
            return Val::SCALAR;
        }
        if base.bits == FP
            && let Some(k) = base.fp
        {
            let a = i64::from(k) + i64::from(off);
            let r = State::slot_range(a, 8);
            return match (a.rem_euclid(8), r.len()) {
                (0, 1) => self.slots.get(r.start).copied().unwrap_or(Val::SCALAR),
                _ => Val::SCALAR,
            };
        }
        let mut v = Val::SCALAR;
        if base.has(FP) {
            v = self.slots.iter().fold(v, |acc, s| acc.join(*s));
        }
        if base.has(FOREIGN) && self.caller_ctx {
            v = v.join(Val::CTX);
        }
        v
    }

    fn store(&mut self, base: Val, off: i16, size: Size, value: Val) {
        let bytes = i64::from(size.bytes());
        if base.bits == FP
            && let Some(k) = base.fp
        {
            let a = i64::from(k) + i64::from(off);
            let r = State::slot_range(a, bytes);
            let exact = size == Size::DW && a.rem_euclid(8) == 0 && r.len() == 1;
            for s in self.slots.get_mut(r).unwrap_or_default() {
                *s = if exact { value } else { Val::SCALAR };
            }
            return;
        }
        if base.has(FP) {
            let v = if size == Size::DW { value } else { Val::SCALAR };
            for s in &mut self.slots {
                *s = s.join(v);
            }
        }
    }
}

/// Where control goes after a slot (besides calls, handled apart).
fn successors(insns: &[Insn], pc: usize) -> Result<Vec<usize>, CtxError> {
    let target = |off: i64| -> Result<usize, CtxError> {
        let t = (pc as i64).saturating_add(1).saturating_add(off);
        match usize::try_from(t)
            .ok()
            .and_then(|i| insns.get(i).map(|x| (i, x)))
        {
            Some((i, x)) if *x != Insn::LdImm64Tail => Ok(i),
            _ => Err(CtxError::BadTarget { pc, target: t }),
        }
    };
    let Some(insn) = insns.get(pc) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(2);
    match *insn {
        Insn::Exit | Insn::LdImm64Tail => {}
        Insn::Gotox { .. } => return Err(CtxError::IndirectJump { pc }),
        Insn::Ja { off } => out.push(target(off.into())?),
        Insn::Gotol { imm } => out.push(target(imm.into())?),
        Insn::Jump { off, .. } | Insn::MayGoto { off } => {
            out.push(target(0)?);
            out.push(target(off.into())?);
        }
        Insn::LdImm64 { .. } => out.push(target(1)?),
        _ => out.push(target(0)?),
    }
    Ok(out)
}

/// The slot a local call or function address names.
fn func_target(insns: &[Insn], pc: usize) -> Result<Option<usize>, CtxError> {
    let off = match insns.get(pc) {
        Some(Insn::Call(CallTarget::Local(off))) => *off,
        Some(Insn::LdImm64 {
            imm: Imm64::Func(off),
            ..
        }) => *off,
        _ => return Ok(None),
    };
    let t = (pc as i64).saturating_add(1).saturating_add(off.into());
    match usize::try_from(t)
        .ok()
        .and_then(|i| insns.get(i).map(|x| (i, x)))
    {
        Some((i, x)) if *x != Insn::LdImm64Tail => Ok(Some(i)),
        _ => Err(CtxError::BadTarget { pc, target: t }),
    }
}

/// The state after a slot that is not a call, exit or jump-only.
fn transfer(st: &State, insn: &Insn) -> State {
    let mut out = st.clone();
    match *insn {
        Insn::Alu {
            op,
            width: Width::W64,
            dst,
            src,
        } => {
            let d = st.reg(dst);
            let v = match (op, src) {
                (AluOp::Mov, Operand::Reg(s)) => st.reg(s),
                (AluOp::Add, Operand::Imm(i)) => d.offset(Some(i.into())),
                (AluOp::Sub, Operand::Imm(i)) => d.offset(Some(-i64::from(i))),
                (AluOp::Add | AluOp::Sub, Operand::Reg(s)) => {
                    let s = st.reg(s);
                    let joined = Val {
                        bits: d.bits | s.bits,
                        fp: None,
                    };
                    joined.offset(None)
                }
                _ => Val::SCALAR,
            };
            out.set(dst, v);
        }
        Insn::Alu { dst, .. }
        | Insn::Neg { dst, .. }
        | Insn::MovSx { dst, .. }
        | Insn::AddrSpaceCast { dst, .. }
        | Insn::Endian { dst, .. }
        | Insn::LdImm64 { dst, .. }
        | Insn::LoadSx { dst, .. } => out.set(dst, Val::SCALAR),
        Insn::Load {
            size,
            dst,
            src,
            off,
        }
        | Insn::LoadAcquire {
            size,
            dst,
            src,
            off,
        } => out.set(dst, st.load(st.reg(src), off, size)),
        Insn::Store {
            size,
            dst,
            off,
            src,
        } => {
            let v = match src {
                Operand::Reg(r) => st.reg(r),
                Operand::Imm(_) => Val::SCALAR,
            };
            out.store(st.reg(dst), off, size, v);
        }
        Insn::StoreRelease {
            size,
            dst,
            src,
            off,
        } => out.store(st.reg(dst), off, size, st.reg(src)),
        Insn::Atomic {
            op,
            size,
            dst,
            src,
            off,
        } => {
            out.store(st.reg(dst), off, size, Val::SCALAR);
            if op == AtomicOp::Cmpxchg {
                out.set(Reg::R0, Val::SCALAR);
            } else if op.fetches() {
                out.set(src, Val::SCALAR);
            }
        }
        Insn::LdAbs { .. } | Insn::LdInd { .. } | Insn::Call(_) | Insn::Callx { .. } => {
            out.clobber_args();
        }
        Insn::LdImm64Tail
        | Insn::Ja { .. }
        | Insn::Gotol { .. }
        | Insn::Jump { .. }
        | Insn::Exit
        | Insn::MayGoto { .. }
        | Insn::Gotox { .. } => {}
    }
    out
}

struct Analysis<'p> {
    insns: &'p [Insn],
    states: Vec<Option<State>>,
    work: Vec<usize>,
    queued: Vec<bool>,
    /// Function entry slots, sorted (slot 0 first).
    starts: Vec<usize>,
    /// Per function: the join of `r0` at its exits.
    ret: Vec<Option<Val>>,
    /// Per function: the slots calling it.
    callers: Vec<Vec<usize>>,
}

impl Analysis<'_> {
    fn func_of(&self, pc: usize) -> usize {
        self.starts.partition_point(|&s| s <= pc).saturating_sub(1)
    }

    fn propagate(&mut self, to: usize, st: &State) {
        let Some(slot) = self.states.get_mut(to) else {
            return;
        };
        let changed = match slot {
            Some(cur) => cur.join_from(st),
            None => {
                *slot = Some(st.clone());
                true
            }
        };
        if changed && !self.queued.get(to).copied().unwrap_or(true) {
            self.queued[to] = true;
            self.work.push(to);
        }
    }

    fn requeue(&mut self, pc: usize) {
        if self.states.get(pc).is_some_and(Option::is_some) && !self.queued[pc] {
            self.queued[pc] = true;
            self.work.push(pc);
        }
    }

    fn step(&mut self, pc: usize) -> Result<(), CtxError> {
        let Some(st) = self.states.get(pc).cloned().flatten() else {
            return Ok(());
        };
        let Some(insn) = self.insns.get(pc).copied() else {
            return Ok(());
        };
        match insn {
            Insn::Call(CallTarget::Local(_)) => {
                let Some(target) = func_target(self.insns, pc)? else {
                    return Ok(());
                };
                let args = [1, 2, 3, 4, 5].map(|i| st.regs[i].foreign());
                let entry = State::frame_entry(args, st.frame_may_hold_ctx());
                self.propagate(target, &entry);
                let f = self.func_of(target);
                if let Some(r0) = self.ret.get(f).copied().flatten() {
                    let mut cont = st.clone();
                    let r0 = if r0.has(FOREIGN) {
                        Val {
                            bits: r0.bits | FP,
                            fp: None,
                        }
                    } else {
                        r0
                    };
                    let passed_stack = st.regs[1..=5].iter().any(|v| v.has(FP | FOREIGN));
                    cont.clobber_args();
                    cont.regs[0] = r0;
                    if passed_stack {
                        for s in &mut cont.slots {
                            *s = s.join(Val::SCALAR);
                        }
                    }
                    let next = successors(self.insns, pc)?;
                    for n in next {
                        self.propagate(n, &cont);
                    }
                }
                Ok(())
            }
            Insn::Exit => {
                let f = self.func_of(pc);
                if self.starts.get(f) != Some(&0) {
                    // A dangling pointer into the callee's frame is scalar
                    // for the caller.
                    let mut r0 = st.regs[0];
                    if r0.has(FP) {
                        r0 = Val {
                            bits: (r0.bits & !FP) | SCALAR,
                            fp: None,
                        };
                    }
                    let new = match self.ret.get(f).copied().flatten() {
                        Some(old) => old.join(r0),
                        None => r0,
                    };
                    if self.ret.get(f).copied().flatten() != Some(new) {
                        if let Some(slot) = self.ret.get_mut(f) {
                            *slot = Some(new);
                        }
                        let sites = self.callers.get(f).cloned().unwrap_or_default();
                        for cs in sites {
                            self.requeue(cs);
                        }
                    }
                }
                Ok(())
            }
            _ => {
                if let Some(target) = func_target(self.insns, pc)? {
                    // A callback's arguments come from a helper: scalars or
                    // pointers into this program's frames.
                    let unknown = Val {
                        bits: SCALAR | FOREIGN,
                        fp: None,
                    };
                    let entry = State::frame_entry([unknown; 5], st.frame_may_hold_ctx());
                    self.propagate(target, &entry);
                }
                let out = transfer(&st, &insn);
                for n in successors(self.insns, pc)? {
                    self.propagate(n, &out);
                }
                Ok(())
            }
        }
    }
}

/// One memory access of an instruction: base register, offset, size, how.
fn access_of(insn: &Insn) -> Option<(Reg, i16, Size, CtxAccess)> {
    Some(match *insn {
        Insn::Load { size, src, off, .. } => (src, off, size, CtxAccess::Load),
        Insn::LoadSx { size, src, off, .. } => (src, off, size, CtxAccess::LoadSx),
        Insn::LoadAcquire { size, src, off, .. } => (src, off, size, CtxAccess::LoadAcquire),
        Insn::Store { size, dst, off, .. } => (dst, off, size, CtxAccess::Store),
        Insn::StoreRelease { size, dst, off, .. } => (dst, off, size, CtxAccess::StoreRelease),
        Insn::Atomic { size, dst, off, .. } => (dst, off, size, CtxAccess::Atomic),
        _ => return None,
    })
}

/// Check (and maybe rewrite) the instruction at `pc` given its state.
fn convert_one(
    layout: &CtxLayout,
    pc: usize,
    insn: &Insn,
    st: &State,
) -> Result<Option<Insn>, CtxError> {
    let Some((base_reg, off, size, access)) = access_of(insn) else {
        return Ok(None);
    };
    // A store of a possible context pointer into a caller's frame.
    let stored = match *insn {
        Insn::Store {
            src: Operand::Reg(s),
            ..
        }
        | Insn::StoreRelease { src: s, .. } => Some(s),
        _ => None,
    };
    let base = st.reg(base_reg);
    if let Some(s) = stored
        && base.has(FOREIGN)
        && st.reg(s).has(CTX | CTX_OFF)
    {
        return Err(CtxError::UntrackedCtxStore {
            pc,
            reg: base_reg,
            src: s,
        });
    }
    if base.has(CTX_OFF) {
        return Err(CtxError::ModifiedCtx { pc, reg: base_reg });
    }
    if !base.has(CTX) {
        return Ok(None);
    }
    let (o, n) = (i64::from(off), i64::from(size.bytes()));
    let special = layout.special_overlap(o, n);
    if base.bits != CTX {
        return match special {
            Some(f) => Err(CtxError::MaybeCtx {
                pc,
                reg: base_reg,
                ctx: layout.name,
                field: f.name,
                off,
            }),
            None => Ok(None),
        };
    }
    if o < 0 || o + n > i64::from(layout.size) {
        return Err(CtxError::OutOfRange {
            pc,
            ctx: layout.name,
            off,
            size: size.bytes(),
            ctx_size: layout.size,
        });
    }
    let Some(f) = special else {
        return Ok(None);
    };
    match f.kind {
        FieldKind::Packet(p) => match *insn {
            Insn::Load {
                size: Size::W,
                dst,
                src,
                off,
            } if i64::from(off) == i64::from(f.off) => {
                let shadow =
                    i16::try_from(layout.shadow_offset(p)).map_err(|_| CtxError::OutOfRange {
                        pc,
                        ctx: layout.name,
                        off,
                        size: 4,
                        ctx_size: layout.size,
                    })?;
                Ok(Some(Insn::Load {
                    size: Size::DW,
                    dst,
                    src,
                    off: shadow,
                }))
            }
            _ => Err(CtxError::PointerField {
                pc,
                ctx: layout.name,
                field: f.name,
                access,
                size: size.bytes(),
                off,
            }),
        },
        _ => Err(CtxError::UnsupportedField {
            pc,
            ctx: layout.name,
            field: f.name,
            off,
        }),
    }
}

/// The kernel's context rewrite, in our terms: every 4-byte load of a
/// packet pointer field through a register that certainly holds the
/// context becomes an 8-byte load of the field's shadow slot. See the
/// [module documentation](self) for the analysis and what is refused.
///
/// The result has the same number of slots, and only those loads differ.
pub fn convert_ctx_access(program: &Program, layout: &CtxLayout) -> Result<Program, CtxError> {
    let insns = program.insns();
    let n = insns.len();
    if n == 0 {
        return Ok(program.clone());
    }
    // Validate all control flow first, reachable or not, like the kernel.
    let mut starts = vec![0usize];
    let mut calls = Vec::new();
    for (pc, insn) in program.iter() {
        successors(insns, pc)?;
        if insn.falls_through() && pc + insn.slots() >= n && *insn != Insn::LdImm64Tail {
            return Err(CtxError::BadTarget {
                pc,
                target: (pc + insn.slots()) as i64,
            });
        }
        if let Some(t) = func_target(insns, pc)? {
            starts.push(t);
            if matches!(insn, Insn::Call(CallTarget::Local(_))) {
                calls.push((pc, t));
            }
        }
    }
    starts.sort_unstable();
    starts.dedup();
    let mut a = Analysis {
        insns,
        states: vec![None; n],
        work: Vec::new(),
        queued: vec![false; n],
        ret: vec![None; starts.len()],
        callers: vec![Vec::new(); starts.len()],
        starts,
    };
    for (pc, t) in calls {
        let f = a.func_of(t);
        if let Some(c) = a.callers.get_mut(f) {
            c.push(pc);
        }
    }
    let mut args = [Val::SCALAR; 5];
    args[0] = Val::CTX;
    a.propagate(0, &State::frame_entry(args, false));
    while let Some(pc) = a.work.pop() {
        if let Some(q) = a.queued.get_mut(pc) {
            *q = false;
        }
        a.step(pc)?;
    }
    let mut out = insns.to_vec();
    for (pc, insn) in out.iter_mut().enumerate() {
        let Some(Some(st)) = a.states.get(pc) else {
            continue;
        };
        if let Some(new) = convert_one(layout, pc, insn, st)? {
            *insn = new;
        }
    }
    Ok(Program::from_insns(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebpf_isa::asm::assemble;

    fn conv(kind: CtxKind, text: &str) -> Result<Program, CtxError> {
        let prog = assemble(text).expect("assembles");
        convert_ctx_access(&prog, kind.layout())
    }

    fn lines(p: &Program) -> Vec<String> {
        p.iter().map(|(_, i)| i.to_string()).collect()
    }

    #[test]
    fn layouts_match_uapi() {
        let x = CtxLayout::XDP_MD;
        assert_eq!(x.buffer_size(), 48);
        assert_eq!(x.shadow_offset(PacketPtr::DataMeta), 40);
        let s = CtxLayout::SK_BUFF;
        assert_eq!(s.field("data").map(|f| f.off), Some(76));
        assert_eq!(s.field("data_end").map(|f| f.off), Some(80));
        assert_eq!(s.field("data_meta").map(|f| f.off), Some(140));
        assert_eq!(s.field("hwtstamp").map(|f| f.off + f.size), Some(192));
        assert_eq!(s.pointer_field(PacketPtr::DataEnd).map(|f| f.off), Some(80));
        assert_eq!(s.buffer_size(), 216);
        // Fields are sorted and disjoint.
        for l in [x, s] {
            for w in l.fields.windows(2) {
                assert!(w[0].off + w[0].size <= w[1].off, "{:?}", w);
            }
        }
        assert_eq!(CtxKind::from_prog_type(6), Some(CtxKind::Xdp));
        assert_eq!(CtxKind::from_prog_type(2), None);
    }

    #[test]
    fn rewrites_pointer_loads_only() {
        let p = conv(
            CtxKind::Xdp,
            "r2 = *(u32 *)(r1 +0)
             r3 = *(u32 *)(r1 +4)
             r4 = *(u32 *)(r1 +8)
             r5 = *(u32 *)(r1 +12)
             r0 = *(u16 *)(r1 +16)
             exit",
        )
        .expect("converts");
        assert_eq!(
            lines(&p),
            [
                "r2 = *(u64 *)(r1 +24)",
                "r3 = *(u64 *)(r1 +32)",
                "r4 = *(u64 *)(r1 +40)",
                "r5 = *(u32 *)(r1 +12)",
                "r0 = *(u16 *)(r1 +16)",
                "exit"
            ]
        );
        // The same offsets through a non-context register are untouched.
        let p = conv(
            CtxKind::Xdp,
            "r2 = *(u32 *)(r1 +0)
             r3 = *(u32 *)(r2 +0)
             r0 = 0
             exit",
        )
        .expect("converts");
        assert_eq!(lines(&p)[1], "r3 = *(u32 *)(r2 +0)");
    }

    #[test]
    fn skb_fields() {
        let p = conv(
            CtxKind::SchedCls,
            "r6 = r1
             r2 = *(u32 *)(r6 +76)
             r3 = *(u32 *)(r6 +80)
             r4 = *(u32 *)(r6 +140)
             *(u32 *)(r6 +8) = 7
             r0 = *(u32 *)(r6 +0)
             exit",
        )
        .expect("converts");
        assert_eq!(
            lines(&p)[1..4],
            [
                "r2 = *(u64 *)(r6 +192)",
                "r3 = *(u64 *)(r6 +200)",
                "r4 = *(u64 *)(r6 +208)"
            ]
        );
        assert_eq!(lines(&p)[4], "*(u32 *)(r6 +8) = 7");
        let e = conv(CtxKind::SchedCls, "r0 = *(u64 *)(r1 +168)\nexit").unwrap_err();
        assert!(
            matches!(
                e,
                CtxError::UnsupportedField {
                    pc: 0,
                    field: "sk",
                    ..
                }
            ),
            "{e}"
        );
        let e = conv(CtxKind::SchedCls, "r0 = *(u32 *)(r1 +88)\nexit").unwrap_err();
        assert!(
            matches!(
                e,
                CtxError::UnsupportedField {
                    field: "family",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn spill_and_fill() {
        let p = conv(
            CtxKind::Xdp,
            "*(u64 *)(r10 -8) = r1
             r1 = 0
             r2 = r10
             r2 += -16
             *(u64 *)(r2 +0) = r1
             r6 = *(u64 *)(r10 -8)
             r2 = *(u32 *)(r6 +4)
             r7 = *(u64 *)(r10 -16)
             r3 = *(u32 *)(r7 +4)
             r0 = 0
             exit",
        )
        .expect("converts");
        let l = lines(&p);
        assert_eq!(l[6], "r2 = *(u64 *)(r6 +32)");
        assert_eq!(l[8], "r3 = *(u32 *)(r7 +4)", "slot -16 holds a scalar");
        // A narrow store over the spill makes it scalar again.
        let p = conv(
            CtxKind::Xdp,
            "*(u64 *)(r10 -8) = r1
             *(u8 *)(r10 -5) = 1
             r6 = *(u64 *)(r10 -8)
             r0 = *(u32 *)(r6 +0)
             exit",
        )
        .expect("converts");
        assert_eq!(lines(&p)[3], "r0 = *(u32 *)(r6 +0)");
        // A store through a stack pointer of unknown offset may overwrite
        // the spill: the fill is the context on some paths only.
        let e = conv(
            CtxKind::Xdp,
            "*(u64 *)(r10 -8) = r1
             r2 = r10
             r3 = *(u32 *)(r1 +12)
             r2 += r3
             *(u64 *)(r2 +0) = r3
             r6 = *(u64 *)(r10 -8)
             r0 = *(u32 *)(r6 +0)
             exit",
        )
        .unwrap_err();
        assert_eq!(
            e,
            CtxError::MaybeCtx {
                pc: 6,
                reg: Reg::R6,
                ctx: "xdp_md",
                field: "data",
                off: 0
            }
        );
    }

    #[test]
    fn branches_join() {
        // r6 is the context on both paths: rewritten after the join.
        let p = conv(
            CtxKind::Xdp,
            "r6 = r1
             r2 = *(u32 *)(r1 +12)
             if r2 == 1 goto a
             r7 = r6
             goto b
         a:  r7 = r1
         b:  r0 = *(u32 *)(r7 +4)
             exit",
        )
        .expect("converts");
        assert_eq!(lines(&p)[6], "r0 = *(u64 *)(r7 +32)");
        // r7 is the context on one path only.
        let e = conv(
            CtxKind::Xdp,
            "r2 = *(u32 *)(r1 +12)
             r7 = r10
             r7 += -8
             if r2 == 1 goto a
             r7 = r1
         a:  r0 = *(u32 *)(r7 +0)
             exit",
        )
        .unwrap_err();
        assert!(matches!(e, CtxError::MaybeCtx { pc: 5, .. }), "{e}");
        // ... but a scalar field through it is fine (the bytes are there).
        assert!(
            conv(
                CtxKind::Xdp,
                "r2 = *(u32 *)(r1 +12)
                 r7 = r10
                 r7 += -16
                 if r2 == 1 goto a
                 r7 = r1
             a:  r0 = *(u32 *)(r7 +12)
                 exit",
            )
            .is_ok()
        );
    }

    #[test]
    fn loops_reach_a_fixpoint() {
        // The context moves around a loop; the fixpoint keeps it exact.
        let p = conv(
            CtxKind::Xdp,
            "r6 = r1
             r8 = 10
         l:  r7 = r6
             r6 = r7
             r2 = *(u32 *)(r6 +0)
             r8 += -1
             if r8 != 0 goto l
             r0 = 0
             exit",
        )
        .expect("converts");
        assert_eq!(lines(&p)[4], "r2 = *(u64 *)(r6 +24)");
    }

    #[test]
    fn pointer_field_misuse() {
        let cases: [(&str, CtxAccess, u8); 5] = [
            ("*(u32 *)(r1 +0) = r2", CtxAccess::Store, 4),
            ("r0 = *(u64 *)(r1 +0)", CtxAccess::Load, 8),
            ("r0 = *(u16 *)(r1 +4)", CtxAccess::Load, 2),
            ("r0 = *(s32 *)(r1 +8)", CtxAccess::LoadSx, 4),
            ("lock *(u32 *)(r1 +4) += r2", CtxAccess::Atomic, 4),
        ];
        for (text, access, size) in cases {
            let e = conv(CtxKind::Xdp, &format!("r2 = 0\n{text}\nr0 = 0\nexit")).unwrap_err();
            match e {
                CtxError::PointerField {
                    pc: 1,
                    access: a,
                    size: s,
                    ..
                } => assert_eq!((a, s), (access, size), "{text}"),
                other => panic!("{text}: {other}"),
            }
        }
        // A 64-bit load at 8 would read data_meta and ingress_ifindex.
        let e = conv(CtxKind::Xdp, "r0 = *(u64 *)(r1 +8)\nexit").unwrap_err();
        assert!(
            matches!(
                e,
                CtxError::PointerField {
                    field: "data_meta",
                    ..
                }
            ),
            "{e}"
        );
        let e = conv(CtxKind::Xdp, "r0 = *(u32 *)(r1 +24)\nexit").unwrap_err();
        assert!(matches!(e, CtxError::OutOfRange { off: 24, .. }), "{e}");
        let e = conv(CtxKind::Xdp, "r0 = *(u32 *)(r1 -4)\nexit").unwrap_err();
        assert!(matches!(e, CtxError::OutOfRange { .. }), "{e}");
        let e = conv(CtxKind::Xdp, "r1 += 4\nr0 = *(u32 *)(r1 +0)\nexit").unwrap_err();
        assert_eq!(
            e,
            CtxError::ModifiedCtx {
                pc: 1,
                reg: Reg::R1
            }
        );
        let e = conv(CtxKind::Xdp, "r0 = *(u32 *)(r1 +20)\nexit").unwrap_err();
        assert!(
            matches!(
                e,
                CtxError::UnsupportedField {
                    field: "egress_ifindex",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn calls() {
        // The context passed to a subprogram is converted there.
        let p = conv(
            CtxKind::Xdp,
            "r6 = r1
             call f
             r2 = *(u32 *)(r6 +4)
             r0 = *(u32 *)(r1 +4)
             exit
         f:  r0 = *(u32 *)(r1 +0)
             exit",
        )
        .expect("converts");
        let l = lines(&p);
        assert_eq!(l[2], "r2 = *(u64 *)(r6 +32)", "r6 survives the call");
        assert_eq!(l[3], "r0 = *(u32 *)(r1 +4)", "r1 is clobbered");
        assert_eq!(l[5], "r0 = *(u64 *)(r1 +24)");
        // Called with the context from one site and a stack pointer from
        // another: refused in the callee.
        let e = conv(
            CtxKind::Xdp,
            "r6 = r1
             call f
             r1 = r10
             r1 += -8
             call f
             exit
         f:  r0 = *(u32 *)(r1 +0)
             exit",
        )
        .unwrap_err();
        assert!(matches!(e, CtxError::MaybeCtx { pc: 6, .. }), "{e}");
        // A subprogram returning its r1: the context when the caller's r1
        // is, a scalar otherwise.
        let p = conv(
            CtxKind::Xdp,
            "call f
             r0 = *(u32 *)(r0 +4)
             exit
         f:  r0 = r1
             exit",
        )
        .expect("converts");
        assert_eq!(lines(&p)[1], "r0 = *(u64 *)(r0 +32)");
        let p = conv(
            CtxKind::Xdp,
            "r1 = 0
             call f
             r0 = *(u32 *)(r0 +4)
             exit
         f:  r0 = r1
             exit",
        )
        .expect("converts");
        assert_eq!(lines(&p)[2], "r0 = *(u32 *)(r0 +4)");
        // Storing the context into the caller's frame is refused.
        let e = conv(
            CtxKind::Xdp,
            "r2 = r1
             r1 = r10
             r1 += -8
             call f
             r0 = 0
             exit
         f:  *(u64 *)(r1 +0) = r2
             r0 = 0
             exit",
        )
        .unwrap_err();
        assert_eq!(
            e,
            CtxError::UntrackedCtxStore {
                pc: 6,
                reg: Reg::R1,
                src: Reg::R2
            }
        );
        // Loading through a caller's frame that holds the context.
        let e = conv(
            CtxKind::Xdp,
            "*(u64 *)(r10 -8) = r1
             r1 = r10
             r1 += -8
             call f
             exit
         f:  r2 = *(u64 *)(r1 +0)
             r0 = *(u32 *)(r2 +0)
             exit",
        )
        .unwrap_err();
        assert!(matches!(e, CtxError::MaybeCtx { pc: 6, .. }), "{e}");
        // A callback (bpf_loop) is analysed: its arguments may point into
        // the caller's frame, which holds the context.
        let text = "*(u64 *)(r10 -8) = r1
             r1 = 4
             r2 = func cb
             r3 = r10
             r3 += -8
             r4 = 0
             call 181
             r0 = 0
             exit
         cb: r3 = *(u64 *)(r2 +0)
             r0 = *(u32 *)(r3 +OFF)
             exit";
        let e = conv(CtxKind::Xdp, &text.replace("OFF", "0")).unwrap_err();
        assert!(matches!(e, CtxError::MaybeCtx { pc: 11, .. }), "{e}");
        let p = conv(CtxKind::Xdp, &text.replace("OFF", "12")).expect("converts");
        assert_eq!(lines(&p)[10], "r0 = *(u32 *)(r3 +12)");
        // A helper call clobbers r1..r5 only.
        let p = conv(
            CtxKind::Xdp,
            "r6 = r1
             call 7
             r0 = *(u32 *)(r6 +0)
             r0 = *(u32 *)(r1 +0)
             exit",
        )
        .expect("converts");
        assert_eq!(
            lines(&p)[2..4],
            ["r0 = *(u64 *)(r6 +24)", "r0 = *(u32 *)(r1 +0)"]
        );
    }

    #[test]
    fn control_flow_errors() {
        let prog = Program::from_insns([Insn::Ja { off: 5 }, Insn::Exit]);
        assert_eq!(
            convert_ctx_access(&prog, &CtxLayout::XDP_MD),
            Err(CtxError::BadTarget { pc: 0, target: 6 })
        );
        let prog = Program::from_insns([Insn::Alu {
            op: AluOp::Mov,
            width: Width::W64,
            dst: Reg::R0,
            src: Operand::Imm(0),
        }]);
        assert_eq!(
            convert_ctx_access(&prog, &CtxLayout::XDP_MD),
            Err(CtxError::BadTarget { pc: 0, target: 1 })
        );
        let e = conv(CtxKind::Xdp, "r0 = 0x1234\ngoto -2\nexit").unwrap_err();
        assert_eq!(e, CtxError::BadTarget { pc: 2, target: 1 });
        let e = conv(CtxKind::Xdp, "gotox r1\nexit").unwrap_err();
        assert_eq!(e, CtxError::IndirectJump { pc: 0 });
        assert_eq!(
            convert_ctx_access(&Program::default(), &CtxLayout::XDP_MD),
            Ok(Program::default())
        );
    }

    #[test]
    fn unreachable_code_is_left_alone() {
        let p = conv(
            CtxKind::Xdp,
            "r0 = 0
             exit
             r0 = *(u64 *)(r1 +0)
             exit",
        )
        .expect("converts");
        assert_eq!(lines(&p)[2], "r0 = *(u64 *)(r1 +0)");
    }

    #[test]
    fn builds_test_run_context() {
        let mut pkt = vec![0u8; 60];
        pkt[0] = 0x02; // unicast, not ours
        pkt[12] = 0x08; // IPv4
        let run = CtxSpec::new(CtxKind::SchedCls)
            .build(pkt.clone())
            .expect("builds");
        assert_eq!(run.field("len"), Some(60));
        assert_eq!(run.field("protocol"), Some(0x0008));
        assert_eq!(run.field("pkt_type"), Some(3));
        assert_eq!(run.field("ifindex"), Some(1));
        assert_eq!(run.field("ingress_ifindex"), Some(0));
        assert_eq!(run.field("wire_len"), Some(0));
        assert_eq!(run.field("data"), None, "pointer fields are not scalars");
        assert_eq!(run.pointer(PacketPtr::Data), PACKET_BASE);
        assert_eq!(run.pointer(PacketPtr::DataEnd), PACKET_BASE + 60);
        assert_eq!(run.pointer(PacketPtr::DataMeta), PACKET_BASE);
        assert_eq!(run.ctx().len(), 192);
        assert_eq!(run.ctx_buffer().len(), 216);

        let spec = CtxSpec::new(CtxKind::SocketFilter)
            .set("mark", 7)
            .and_then(|s| s.set("cb[2]", 9))
            .expect("settable");
        let run = spec.build(pkt.clone()).expect("builds");
        assert_eq!(run.field("len"), Some(46));
        assert_eq!(run.field("mark"), Some(7));
        assert_eq!(run.field("cb[2]"), Some(9));
        assert_eq!(run.field("wire_len"), Some(46), "ctx_in given: skb->len");
        assert_eq!(run.pointer(PacketPtr::DataEnd), PACKET_BASE + 46);
        assert_eq!(run.data_out()[..14], [0u8; 14]);
        let ctx_in = spec.kernel_ctx_in(60).expect("has ctx_in");
        assert_eq!(ctx_in.len(), 192);
        assert_eq!(ctx_in[8], 7);
        assert_eq!(ctx_in[56], 9);

        let run = CtxSpec::new(CtxKind::Xdp)
            .build(pkt.clone())
            .expect("builds");
        assert_eq!(run.field("ingress_ifindex"), Some(1));
        assert_eq!(run.ctx().len(), 24);
        assert_eq!(CtxSpec::new(CtxKind::Xdp).kernel_ctx_in(60), None);
        let spec = CtxSpec::new(CtxKind::Xdp)
            .set("ingress_ifindex", 1)
            .expect("settable");
        let ctx_in = spec.kernel_ctx_in(60).expect("has ctx_in");
        assert_eq!(ctx_in[4], 60, "data_end = packet length");

        // Errors.
        assert!(matches!(
            CtxSpec::new(CtxKind::Xdp).set("mark", 1),
            Err(CtxError::NotSettable { .. })
        ));
        assert!(matches!(
            CtxSpec::new(CtxKind::SchedCls).set("len", 1),
            Err(CtxError::NotSettable { .. })
        ));
        assert!(matches!(
            CtxSpec::new(CtxKind::SchedCls).set("mark", 1 << 32),
            Err(CtxError::BadValue { .. })
        ));
        assert_eq!(
            CtxSpec::new(CtxKind::Xdp).build(vec![0; 13]),
            Err(CtxError::PacketTooShort { len: 13, min: 14 })
        );
        assert_eq!(
            CtxSpec::new(CtxKind::Xdp).build(vec![0; 3521]),
            Err(CtxError::PacketTooLong {
                len: 3521,
                max: 3520
            })
        );
        assert!(matches!(
            CtxSpec::new(CtxKind::Xdp)
                .set("rx_queue_index", 1)
                .and_then(|s| s.build(vec![0; 20])),
            Err(CtxError::BadValue { .. })
        ));
        assert!(matches!(
            CtxSpec::new(CtxKind::SchedCls)
                .set("wire_len", 10)
                .and_then(|s| s.build(vec![0; 20])),
            Err(CtxError::BadValue { .. })
        ));
    }

    #[test]
    fn eth_type_trans_rules() {
        let mut p = vec![0u8; 16];
        assert_eq!(pkt_type(&p), 0);
        p[0] = 0xff;
        assert_eq!(pkt_type(&p), 2);
        p[0] = 0x02;
        assert_eq!(pkt_type(&p), 3);
        p[12] = 0x86;
        p[13] = 0xdd;
        assert_eq!(eth_protocol(&p), 0xdd86);
        p[12] = 0x00;
        p[13] = 0x40;
        assert_eq!(eth_protocol(&p), 0x0400, "802.2");
        p[14] = 0xff;
        p[15] = 0xff;
        assert_eq!(eth_protocol(&p), 0x0100, "raw 802.3");
    }
}
