//! Helper prototypes: `struct bpf_func_proto` and the argument and return
//! type enums of `include/linux/bpf.h` (Linux 6.18), with the prototypes of
//! the helpers our program types use, read from `kernel/bpf/helpers.c`,
//! `kernel/trace/bpf_trace.c`, `net/core/filter.c`, `kernel/bpf/ringbuf.c`,
//! `kernel/bpf/stackmap.c` and `kernel/bpf/bpf_iter.c`.

use core::fmt;

/// `enum bpf_type_flag`: modifiers the kernel ORs onto a base argument or
/// return type (the bit values are ours; the kernel's are not ABI).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TypeFlags(u32);

impl TypeFlags {
    /// No modifier.
    pub const NONE: TypeFlags = TypeFlags(0);
    /// `PTR_MAYBE_NULL`: the pointer may be NULL (an argument accepts a
    /// NULL constant; a returned pointer must be checked before use).
    pub const PTR_MAYBE_NULL: TypeFlags = TypeFlags(1 << 0);
    /// `MEM_RDONLY`: the helper only reads the memory.
    pub const MEM_RDONLY: TypeFlags = TypeFlags(1 << 1);
    /// `MEM_RINGBUF`: the returned memory is a ring buffer record.
    pub const MEM_RINGBUF: TypeFlags = TypeFlags(1 << 2);
    /// `MEM_UNINIT`: the memory need not be initialized (the helper fills
    /// it).
    pub const MEM_UNINIT: TypeFlags = TypeFlags(1 << 3);
    /// `MEM_WRITE`: the helper writes the memory.
    pub const MEM_WRITE: TypeFlags = TypeFlags(1 << 4);
    /// `MEM_FIXED_SIZE`: the memory's size is the prototype's `arg_size`,
    /// not a following size argument.
    pub const MEM_FIXED_SIZE: TypeFlags = TypeFlags(1 << 5);
    /// `MEM_ALIGNED`: the memory must be aligned to its size.
    pub const MEM_ALIGNED: TypeFlags = TypeFlags(1 << 6);
    /// `OBJ_RELEASE`: the helper releases the reference the argument
    /// holds (`bpf_ringbuf_submit`, `bpf_sk_release`).
    pub const OBJ_RELEASE: TypeFlags = TypeFlags(1 << 7);
    /// `DYNPTR_TYPE_LOCAL`: a dynptr to local (stack or map) memory.
    pub const DYNPTR_TYPE_LOCAL: TypeFlags = TypeFlags(1 << 8);
    /// `DYNPTR_TYPE_RINGBUF`: a dynptr to a ring buffer record.
    pub const DYNPTR_TYPE_RINGBUF: TypeFlags = TypeFlags(1 << 9);
    /// `PTR_TRUSTED`: a trusted BTF pointer.
    pub const PTR_TRUSTED: TypeFlags = TypeFlags(1 << 10);

    /// Whether every flag of `other` is set.
    #[must_use]
    pub const fn contains(self, other: TypeFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: TypeFlags) -> TypeFlags {
        TypeFlags(self.0 | other.0)
    }

    /// Whether no flag is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kernel's names of the flags set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        const NAMES: [(TypeFlags, &str); 11] = [
            (TypeFlags::PTR_MAYBE_NULL, "PTR_MAYBE_NULL"),
            (TypeFlags::MEM_RDONLY, "MEM_RDONLY"),
            (TypeFlags::MEM_RINGBUF, "MEM_RINGBUF"),
            (TypeFlags::MEM_UNINIT, "MEM_UNINIT"),
            (TypeFlags::MEM_WRITE, "MEM_WRITE"),
            (TypeFlags::MEM_FIXED_SIZE, "MEM_FIXED_SIZE"),
            (TypeFlags::MEM_ALIGNED, "MEM_ALIGNED"),
            (TypeFlags::OBJ_RELEASE, "OBJ_RELEASE"),
            (TypeFlags::DYNPTR_TYPE_LOCAL, "DYNPTR_TYPE_LOCAL"),
            (TypeFlags::DYNPTR_TYPE_RINGBUF, "DYNPTR_TYPE_RINGBUF"),
            (TypeFlags::PTR_TRUSTED, "PTR_TRUSTED"),
        ];
        NAMES
            .into_iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, n)| n)
    }
}

impl fmt::Debug for TypeFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("0");
        }
        let names: Vec<&str> = self.names().collect();
        f.write_str(&names.join(" | "))
    }
}

/// The base of `enum bpf_arg_type`: what one helper argument must be.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ArgBase {
    /// `ARG_DONTCARE`: the argument is unused.
    DontCare,
    /// `ARG_CONST_MAP_PTR`: a map pointer from `ld_imm64` (`const struct
    /// bpf_map *`).
    ConstMapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: memory of the map's `key_size` (the map is the
    /// preceding `ARG_CONST_MAP_PTR` argument).
    PtrToMapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: memory of the map's `value_size`.
    PtrToMapValue,
    /// `ARG_PTR_TO_MEM`: memory whose size is the next argument
    /// (`ARG_CONST_SIZE*`), or `arg_size` with `MEM_FIXED_SIZE`.
    PtrToMem,
    /// `ARG_CONST_SIZE`: the size of the preceding memory, `> 0`.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`: the size of the preceding memory, may be 0.
    ConstSizeOrZero,
    /// `ARG_PTR_TO_CTX`: the program's context, unmodified.
    PtrToCtx,
    /// `ARG_ANYTHING`: any initialized value.
    Anything,
    /// `ARG_PTR_TO_SPIN_LOCK`: the `struct bpf_spin_lock` in a map value.
    PtrToSpinLock,
    /// `ARG_PTR_TO_SOCK_COMMON`: a socket pointer (`PTR_TO_SOCK_COMMON`,
    /// `PTR_TO_SOCKET`, `PTR_TO_TCP_SOCK`).
    PtrToSockCommon,
    /// `ARG_PTR_TO_SOCKET`: a full socket.
    PtrToSocket,
    /// `ARG_PTR_TO_BTF_ID`: a pointer to a kernel object of a given BTF
    /// type.
    PtrToBtfId,
    /// `ARG_PTR_TO_RINGBUF_MEM`: a record from `bpf_ringbuf_reserve`
    /// (with `OBJ_RELEASE`: the old `ARG_PTR_TO_ALLOC_MEM`).
    PtrToRingbufMem,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`: a constant size the returned memory
    /// will have (`bpf_ringbuf_reserve`, `bpf_dynptr_data`).
    ConstAllocSizeOrZero,
    /// `ARG_PTR_TO_BTF_ID_SOCK_COMMON`: any socket pointer, verifier or BTF
    /// typed.
    PtrToBtfIdSockCommon,
    /// `ARG_PTR_TO_PERCPU_BTF_ID`: a per-CPU kernel variable.
    PtrToPercpuBtfId,
    /// `ARG_PTR_TO_FUNC`: a callback (`ld_imm64` of a subprogram).
    PtrToFunc,
    /// `ARG_PTR_TO_STACK`: a pointer into the program's stack.
    PtrToStack,
    /// `ARG_PTR_TO_CONST_STR`: a NUL-terminated string in a read-only map.
    PtrToConstStr,
    /// `ARG_PTR_TO_TIMER`: the `struct bpf_timer` in a map value.
    PtrToTimer,
    /// `ARG_KPTR_XCHG_DEST`: a kptr field in a map value.
    KptrXchgDest,
    /// `ARG_PTR_TO_DYNPTR`: a `struct bpf_dynptr` on the stack.
    PtrToDynptr,
}

/// `enum bpf_arg_type`: a base type with modifiers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ArgType {
    /// The base type.
    pub base: ArgBase,
    /// The modifiers.
    pub flags: TypeFlags,
}

impl ArgType {
    const fn of(base: ArgBase) -> ArgType {
        ArgType {
            base,
            flags: TypeFlags::NONE,
        }
    }

    /// The same base with more modifiers.
    #[must_use]
    pub const fn with(self, flags: TypeFlags) -> ArgType {
        ArgType {
            base: self.base,
            flags: self.flags.union(flags),
        }
    }

    /// `ARG_DONTCARE`.
    pub const DONTCARE: ArgType = ArgType::of(ArgBase::DontCare);
    /// `ARG_CONST_MAP_PTR`.
    pub const CONST_MAP_PTR: ArgType = ArgType::of(ArgBase::ConstMapPtr);
    /// `ARG_PTR_TO_MAP_KEY`.
    pub const PTR_TO_MAP_KEY: ArgType = ArgType::of(ArgBase::PtrToMapKey);
    /// `ARG_PTR_TO_MAP_VALUE`.
    pub const PTR_TO_MAP_VALUE: ArgType = ArgType::of(ArgBase::PtrToMapValue);
    /// `ARG_PTR_TO_MAP_VALUE_OR_NULL`.
    pub const PTR_TO_MAP_VALUE_OR_NULL: ArgType =
        ArgType::of(ArgBase::PtrToMapValue).with(TypeFlags::PTR_MAYBE_NULL);
    /// `ARG_PTR_TO_MEM`.
    pub const PTR_TO_MEM: ArgType = ArgType::of(ArgBase::PtrToMem);
    /// `ARG_PTR_TO_MEM | MEM_RDONLY`: memory the helper reads.
    pub const PTR_TO_RDONLY_MEM: ArgType =
        ArgType::of(ArgBase::PtrToMem).with(TypeFlags::MEM_RDONLY);
    /// `ARG_PTR_TO_MEM_OR_NULL`.
    pub const PTR_TO_MEM_OR_NULL: ArgType =
        ArgType::of(ArgBase::PtrToMem).with(TypeFlags::PTR_MAYBE_NULL);
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY`.
    pub const PTR_TO_RDONLY_MEM_OR_NULL: ArgType = ArgType::of(ArgBase::PtrToMem)
        .with(TypeFlags::PTR_MAYBE_NULL)
        .with(TypeFlags::MEM_RDONLY);
    /// `ARG_PTR_TO_UNINIT_MEM` (`ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE`):
    /// memory the helper fills.
    pub const PTR_TO_UNINIT_MEM: ArgType = ArgType::of(ArgBase::PtrToMem)
        .with(TypeFlags::MEM_UNINIT)
        .with(TypeFlags::MEM_WRITE);
    /// `ARG_PTR_TO_FIXED_SIZE_MEM` (`ARG_PTR_TO_MEM | MEM_FIXED_SIZE`).
    pub const PTR_TO_FIXED_SIZE_MEM: ArgType =
        ArgType::of(ArgBase::PtrToMem).with(TypeFlags::MEM_FIXED_SIZE);
    /// `ARG_CONST_SIZE`.
    pub const CONST_SIZE: ArgType = ArgType::of(ArgBase::ConstSize);
    /// `ARG_CONST_SIZE_OR_ZERO`.
    pub const CONST_SIZE_OR_ZERO: ArgType = ArgType::of(ArgBase::ConstSizeOrZero);
    /// `ARG_PTR_TO_CTX`.
    pub const PTR_TO_CTX: ArgType = ArgType::of(ArgBase::PtrToCtx);
    /// `ARG_ANYTHING`.
    pub const ANYTHING: ArgType = ArgType::of(ArgBase::Anything);
    /// `ARG_PTR_TO_SPIN_LOCK`.
    pub const PTR_TO_SPIN_LOCK: ArgType = ArgType::of(ArgBase::PtrToSpinLock);
    /// `ARG_PTR_TO_SOCK_COMMON`.
    pub const PTR_TO_SOCK_COMMON: ArgType = ArgType::of(ArgBase::PtrToSockCommon);
    /// `ARG_PTR_TO_BTF_ID`.
    pub const PTR_TO_BTF_ID: ArgType = ArgType::of(ArgBase::PtrToBtfId);
    /// `ARG_PTR_TO_BTF_ID_OR_NULL`.
    pub const PTR_TO_BTF_ID_OR_NULL: ArgType =
        ArgType::of(ArgBase::PtrToBtfId).with(TypeFlags::PTR_MAYBE_NULL);
    /// `ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE`: a reserved record, released
    /// by the call.
    pub const PTR_TO_RINGBUF_MEM_RELEASE: ArgType =
        ArgType::of(ArgBase::PtrToRingbufMem).with(TypeFlags::OBJ_RELEASE);
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`.
    pub const CONST_ALLOC_SIZE_OR_ZERO: ArgType = ArgType::of(ArgBase::ConstAllocSizeOrZero);
    /// `ARG_PTR_TO_BTF_ID_SOCK_COMMON`.
    pub const PTR_TO_BTF_ID_SOCK_COMMON: ArgType = ArgType::of(ArgBase::PtrToBtfIdSockCommon);
    /// `ARG_PTR_TO_PERCPU_BTF_ID`.
    pub const PTR_TO_PERCPU_BTF_ID: ArgType = ArgType::of(ArgBase::PtrToPercpuBtfId);
    /// `ARG_PTR_TO_FUNC`.
    pub const PTR_TO_FUNC: ArgType = ArgType::of(ArgBase::PtrToFunc);
    /// `ARG_PTR_TO_STACK_OR_NULL`.
    pub const PTR_TO_STACK_OR_NULL: ArgType =
        ArgType::of(ArgBase::PtrToStack).with(TypeFlags::PTR_MAYBE_NULL);
    /// `ARG_PTR_TO_CONST_STR`.
    pub const PTR_TO_CONST_STR: ArgType = ArgType::of(ArgBase::PtrToConstStr);
    /// `ARG_PTR_TO_TIMER`.
    pub const PTR_TO_TIMER: ArgType = ArgType::of(ArgBase::PtrToTimer);
    /// `ARG_KPTR_XCHG_DEST`.
    pub const KPTR_XCHG_DEST: ArgType = ArgType::of(ArgBase::KptrXchgDest);
    /// `ARG_PTR_TO_DYNPTR`.
    pub const PTR_TO_DYNPTR: ArgType = ArgType::of(ArgBase::PtrToDynptr);

    /// Whether the argument is the reference the call releases
    /// (`OBJ_RELEASE`).
    #[must_use]
    pub const fn releases(self) -> bool {
        self.flags.contains(TypeFlags::OBJ_RELEASE)
    }

    /// Whether NULL is accepted (`PTR_MAYBE_NULL`).
    #[must_use]
    pub const fn may_be_null(self) -> bool {
        self.flags.contains(TypeFlags::PTR_MAYBE_NULL)
    }

    /// `arg_type_is_mem_size`: a size argument for the preceding memory.
    #[must_use]
    pub const fn is_mem_size(self) -> bool {
        matches!(self.base, ArgBase::ConstSize | ArgBase::ConstSizeOrZero)
    }
}

/// The base of `enum bpf_return_type`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum RetBase {
    /// `RET_INTEGER`: an unknown scalar in `R0`.
    Integer,
    /// `RET_VOID`: `R0` is not readable after the call.
    Void,
    /// `RET_PTR_TO_MAP_VALUE`: a value of the map argument.
    PtrToMapValue,
    /// `RET_PTR_TO_SOCKET`: a full socket.
    PtrToSocket,
    /// `RET_PTR_TO_TCP_SOCK`: a TCP socket.
    PtrToTcpSock,
    /// `RET_PTR_TO_SOCK_COMMON`: a socket's common part.
    PtrToSockCommon,
    /// `RET_PTR_TO_MEM`: memory whose size is the helper's
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO` argument.
    PtrToMem,
    /// `RET_PTR_TO_MEM_OR_BTF_ID`: a per-CPU kernel variable.
    PtrToMemOrBtfId,
    /// `RET_PTR_TO_BTF_ID`: a kernel object of a BTF type.
    PtrToBtfId,
}

/// `enum bpf_return_type`: a base type with modifiers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RetType {
    /// The base type.
    pub base: RetBase,
    /// The modifiers.
    pub flags: TypeFlags,
}

impl RetType {
    const fn of(base: RetBase) -> RetType {
        RetType {
            base,
            flags: TypeFlags::NONE,
        }
    }

    const fn with(self, flags: TypeFlags) -> RetType {
        RetType {
            base: self.base,
            flags: self.flags.union(flags),
        }
    }

    /// `RET_INTEGER`.
    pub const INTEGER: RetType = RetType::of(RetBase::Integer);
    /// `RET_VOID`.
    pub const VOID: RetType = RetType::of(RetBase::Void);
    /// `RET_PTR_TO_MAP_VALUE`.
    pub const PTR_TO_MAP_VALUE: RetType = RetType::of(RetBase::PtrToMapValue);
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL`.
    pub const PTR_TO_MAP_VALUE_OR_NULL: RetType =
        RetType::of(RetBase::PtrToMapValue).with(TypeFlags::PTR_MAYBE_NULL);
    /// `RET_PTR_TO_SOCKET_OR_NULL`.
    pub const PTR_TO_SOCKET_OR_NULL: RetType =
        RetType::of(RetBase::PtrToSocket).with(TypeFlags::PTR_MAYBE_NULL);
    /// `RET_PTR_TO_TCP_SOCK_OR_NULL`.
    pub const PTR_TO_TCP_SOCK_OR_NULL: RetType =
        RetType::of(RetBase::PtrToTcpSock).with(TypeFlags::PTR_MAYBE_NULL);
    /// `RET_PTR_TO_SOCK_COMMON_OR_NULL`.
    pub const PTR_TO_SOCK_COMMON_OR_NULL: RetType =
        RetType::of(RetBase::PtrToSockCommon).with(TypeFlags::PTR_MAYBE_NULL);
    /// `RET_PTR_TO_RINGBUF_MEM_OR_NULL` (`PTR_MAYBE_NULL | MEM_RINGBUF |
    /// RET_PTR_TO_MEM`, formerly `RET_PTR_TO_ALLOC_MEM_OR_NULL`): a ring
    /// buffer record the program must submit or discard.
    pub const PTR_TO_RINGBUF_MEM_OR_NULL: RetType = RetType::of(RetBase::PtrToMem)
        .with(TypeFlags::PTR_MAYBE_NULL)
        .with(TypeFlags::MEM_RINGBUF);
    /// `RET_PTR_TO_DYNPTR_MEM_OR_NULL` (`PTR_MAYBE_NULL | RET_PTR_TO_MEM`).
    pub const PTR_TO_DYNPTR_MEM_OR_NULL: RetType =
        RetType::of(RetBase::PtrToMem).with(TypeFlags::PTR_MAYBE_NULL);
    /// `RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL | MEM_RDONLY`
    /// (`bpf_per_cpu_ptr`).
    pub const PTR_TO_MEM_OR_BTF_ID_OR_NULL_RDONLY: RetType = RetType::of(RetBase::PtrToMemOrBtfId)
        .with(TypeFlags::PTR_MAYBE_NULL)
        .with(TypeFlags::MEM_RDONLY);
    /// `RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY` (`bpf_this_cpu_ptr`).
    pub const PTR_TO_MEM_OR_BTF_ID_RDONLY: RetType =
        RetType::of(RetBase::PtrToMemOrBtfId).with(TypeFlags::MEM_RDONLY);
    /// `RET_PTR_TO_BTF_ID`.
    pub const PTR_TO_BTF_ID: RetType = RetType::of(RetBase::PtrToBtfId);
    /// `RET_PTR_TO_BTF_ID_OR_NULL`.
    pub const PTR_TO_BTF_ID_OR_NULL: RetType =
        RetType::of(RetBase::PtrToBtfId).with(TypeFlags::PTR_MAYBE_NULL);
    /// `RET_PTR_TO_BTF_ID_TRUSTED`.
    pub const PTR_TO_BTF_ID_TRUSTED: RetType =
        RetType::of(RetBase::PtrToBtfId).with(TypeFlags::PTR_TRUSTED);

    /// Whether the returned pointer must be checked against NULL.
    #[must_use]
    pub const fn may_be_null(self) -> bool {
        self.flags.contains(TypeFlags::PTR_MAYBE_NULL)
    }
}

/// `struct bpf_func_proto`: what the verifier checks a helper call
/// against.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct HelperProto {
    /// `enum bpf_func_id`.
    pub id: i32,
    /// The name the kernel prints (`bpf_map_lookup_elem`).
    pub name: &'static str,
    /// `gpl_only`: refused to programs whose license is not
    /// GPL-compatible. For a program type, [`LinuxPlatform`] takes this
    /// from the probed table (some program types get a variant of the
    /// prototype, e.g. `bpf_get_stackid` for perf events is not GPL-only).
    ///
    /// [`LinuxPlatform`]: super::LinuxPlatform
    pub gpl_only: bool,
    /// `pkt_access`: the helper may be given packet pointers as memory.
    pub pkt_access: bool,
    /// `might_sleep`: only sleepable programs may call it.
    pub might_sleep: bool,
    /// `ret_type`.
    pub ret: RetType,
    /// `arg1_type` .. `arg5_type` (`ARG_DONTCARE` when unused).
    pub args: [ArgType; 5],
    /// `arg1_size` .. `arg5_size`: the size of a `MEM_FIXED_SIZE` memory
    /// argument, 0 otherwise.
    pub arg_size: [u32; 5],
    /// `is_acquire_function`: the returned pointer is a reference the
    /// program must release (`bpf_sk_lookup_tcp`, `bpf_ringbuf_reserve`,
    /// `bpf_kptr_xchg`; `bpf_map_lookup_elem` on a sockmap or sockhash is
    /// decided by the map, see [`HelperProto::acquires_with_map`]).
    pub acquires: bool,
    /// `bpf_helper_changes_pkt_data`: the call invalidates packet pointers.
    pub changes_pkt_data: bool,
}

impl HelperProto {
    /// The index (0-based) of the argument whose reference the call
    /// releases (`OBJ_RELEASE`), if any.
    #[must_use]
    pub fn release_arg(&self) -> Option<usize> {
        self.args.iter().position(|a| a.releases())
    }

    /// How many arguments the helper takes (the position after the last
    /// argument that is not `ARG_DONTCARE`).
    #[must_use]
    pub fn arg_count(&self) -> usize {
        self.args
            .iter()
            .rposition(|a| a.base != ArgBase::DontCare)
            .map_or(0, |i| i.saturating_add(1))
    }

    /// `is_acquire_function(func_id, map)`: whether the call returns a
    /// reference, given the map argument's type (`BPF_MAP_TYPE_*` number).
    #[must_use]
    pub fn acquires_with_map(&self, map_type: Option<u32>) -> bool {
        // BPF_MAP_TYPE_SOCKMAP = 15, BPF_MAP_TYPE_SOCKHASH = 18.
        self.acquires || (self.id == 1 && matches!(map_type, Some(15 | 18)))
    }
}

/// `bpf_helper_changes_pkt_data(func_id)` (`net/core/filter.c`): helpers
/// after which every packet pointer is invalid.
#[must_use]
pub const fn helper_changes_pkt_data(id: i32) -> bool {
    matches!(
        id,
        9 // skb_store_bytes
        | 10 // l3_csum_replace
        | 11 // l4_csum_replace
        | 13 // clone_redirect
        | 18 // skb_vlan_push
        | 19 // skb_vlan_pop
        | 31 // skb_change_proto
        | 38 // skb_change_tail
        | 39 // skb_pull_data
        | 43 // skb_change_head
        | 44 // xdp_adjust_head
        | 50 // skb_adjust_room
        | 54 // xdp_adjust_meta
        | 63 // msg_pull_data
        | 65 // xdp_adjust_tail
        | 73 // lwt_push_encap
        | 74 // lwt_seg6_store_bytes
        | 75 // lwt_seg6_adjust_srh
        | 76 // lwt_seg6_action
        | 90 // msg_push_data
        | 91 // msg_pop_data
        | 143 // store_hdr_opt
    )
}

use ArgType as A;
use RetType as R;

/// Shorthand for the table below: a prototype with defaults.
const fn p(id: i32, name: &'static str, ret: RetType, args: &[ArgType]) -> HelperProto {
    let mut a = [ArgType::DONTCARE; 5];
    let mut i = 0;
    while i < args.len() && i < 5 {
        a[i] = args[i];
        i = i.wrapping_add(1);
    }
    HelperProto {
        id,
        name,
        gpl_only: false,
        pkt_access: false,
        might_sleep: false,
        ret,
        args: a,
        arg_size: [0; 5],
        acquires: false,
        changes_pkt_data: helper_changes_pkt_data(id),
    }
}

impl HelperProto {
    const fn gpl(mut self) -> HelperProto {
        self.gpl_only = true;
        self
    }
    const fn pkt(mut self) -> HelperProto {
        self.pkt_access = true;
        self
    }
    const fn sleeps(mut self) -> HelperProto {
        self.might_sleep = true;
        self
    }
    const fn acquire(mut self) -> HelperProto {
        self.acquires = true;
        self
    }
    const fn size(mut self, arg: usize, size: u32) -> HelperProto {
        if arg < 5 {
            self.arg_size[arg] = size;
        }
        self
    }
}

/// `ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED`: an
/// aligned result slot the helper fills (the former `ARG_PTR_TO_LONG`).
const RESULT_SLOT: ArgType = ArgType::PTR_TO_FIXED_SIZE_MEM
    .with(TypeFlags::MEM_UNINIT)
    .with(TypeFlags::MEM_WRITE)
    .with(TypeFlags::MEM_ALIGNED);

/// The probe-memory signature: `(void *dst, u32 size, const void *src)`.
const PROBE_READ: [ArgType; 3] = [A::PTR_TO_UNINIT_MEM, A::CONST_SIZE_OR_ZERO, A::ANYTHING];
/// The event-output signature: `(ctx, map, flags, data, size)`.
const EVENT_OUTPUT: [ArgType; 5] = [
    A::PTR_TO_CTX,
    A::CONST_MAP_PTR,
    A::ANYTHING,
    A::PTR_TO_RDONLY_MEM,
    A::CONST_SIZE_OR_ZERO,
];
/// The socket-lookup signature: `(ctx, tuple, tuple_size, netns, flags)`.
const SK_LOOKUP: [ArgType; 5] = [
    A::PTR_TO_CTX,
    A::PTR_TO_RDONLY_MEM,
    A::CONST_SIZE,
    A::ANYTHING,
    A::ANYTHING,
];
/// The syncookie signature: `(sk, iph, iph_len, th, th_len)`.
const SYNCOOKIE: [ArgType; 5] = [
    A::PTR_TO_BTF_ID_SOCK_COMMON,
    A::PTR_TO_RDONLY_MEM,
    A::CONST_SIZE,
    A::PTR_TO_RDONLY_MEM,
    A::CONST_SIZE,
];
/// `bpf_timer_*` take the timer first.
const TIMER: ArgType = A::PTR_TO_TIMER;
/// `struct iphdr`, `struct ipv6hdr`, `struct tcphdr` sizes for the raw
/// syncookie helpers.
const IPHDR: u32 = 20;
const IPV6HDR: u32 = 40;
const TCPHDR: u32 = 20;

/// The prototypes, in helper id order. Where program types get variants of
/// a prototype with the same argument and return types (the tracing, `_tp`,
/// `_pe` and `_raw_tp` versions of `bpf_perf_event_output`, the skb and XDP
/// versions of `bpf_sk_lookup_tcp`, ...), one entry stands for all of them;
/// `gpl_only` per program type comes from the probed table.
#[rustfmt::skip]
pub(crate) static PROTOS: &[HelperProto] = &[
    p(1, "bpf_map_lookup_elem", R::PTR_TO_MAP_VALUE_OR_NULL, &[A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY]).pkt(),
    p(2, "bpf_map_update_elem", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY, A::PTR_TO_MAP_VALUE, A::ANYTHING]).pkt(),
    p(3, "bpf_map_delete_elem", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY]).pkt(),
    p(4, "bpf_probe_read", R::INTEGER, &PROBE_READ).gpl(),
    p(5, "bpf_ktime_get_ns", R::INTEGER, &[]),
    p(6, "bpf_trace_printk", R::INTEGER, &[A::PTR_TO_RDONLY_MEM, A::CONST_SIZE]).gpl(),
    p(7, "bpf_get_prandom_u32", R::INTEGER, &[]),
    p(8, "bpf_get_smp_processor_id", R::INTEGER, &[]),
    p(9, "bpf_skb_store_bytes", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(10, "bpf_l3_csum_replace", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::ANYTHING, A::ANYTHING]),
    p(11, "bpf_l4_csum_replace", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::ANYTHING, A::ANYTHING]),
    p(12, "bpf_tail_call", R::VOID, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::ANYTHING]),
    p(13, "bpf_clone_redirect", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING]),
    p(14, "bpf_get_current_pid_tgid", R::INTEGER, &[]),
    p(15, "bpf_get_current_uid_gid", R::INTEGER, &[]),
    p(16, "bpf_get_current_comm", R::INTEGER, &[A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(17, "bpf_get_cgroup_classid", R::INTEGER, &[A::PTR_TO_CTX]),
    p(18, "bpf_skb_vlan_push", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING]),
    p(19, "bpf_skb_vlan_pop", R::INTEGER, &[A::PTR_TO_CTX]),
    p(20, "bpf_skb_get_tunnel_key", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(21, "bpf_skb_set_tunnel_key", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(22, "bpf_perf_event_read", R::INTEGER, &[A::CONST_MAP_PTR, A::ANYTHING]).gpl(),
    p(23, "bpf_redirect", R::INTEGER, &[A::ANYTHING, A::ANYTHING]),
    p(24, "bpf_get_route_realm", R::INTEGER, &[A::PTR_TO_CTX]),
    p(25, "bpf_perf_event_output", R::INTEGER, &EVENT_OUTPUT).gpl(),
    p(26, "bpf_skb_load_bytes", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(27, "bpf_get_stackid", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::ANYTHING]).gpl(),
    p(28, "bpf_csum_diff", R::INTEGER, &[A::PTR_TO_RDONLY_MEM_OR_NULL, A::CONST_SIZE_OR_ZERO, A::PTR_TO_RDONLY_MEM_OR_NULL, A::CONST_SIZE_OR_ZERO, A::ANYTHING]).pkt(),
    p(29, "bpf_skb_get_tunnel_opt", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(30, "bpf_skb_set_tunnel_opt", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE]),
    p(31, "bpf_skb_change_proto", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING]),
    p(32, "bpf_skb_change_type", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(33, "bpf_skb_under_cgroup", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::ANYTHING]),
    p(34, "bpf_get_hash_recalc", R::INTEGER, &[A::PTR_TO_CTX]),
    p(35, "bpf_get_current_task", R::INTEGER, &[]).gpl(),
    p(37, "bpf_current_task_under_cgroup", R::INTEGER, &[A::CONST_MAP_PTR, A::ANYTHING]),
    p(38, "bpf_skb_change_tail", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING]),
    p(39, "bpf_skb_pull_data", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(40, "bpf_csum_update", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(41, "bpf_set_hash_invalid", R::INTEGER, &[A::PTR_TO_CTX]),
    p(42, "bpf_get_numa_node_id", R::INTEGER, &[]),
    p(43, "bpf_skb_change_head", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING]),
    p(44, "bpf_xdp_adjust_head", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(45, "bpf_probe_read_str", R::INTEGER, &PROBE_READ).gpl(),
    p(46, "bpf_get_socket_cookie", R::INTEGER, &[A::PTR_TO_CTX]),
    p(47, "bpf_get_socket_uid", R::INTEGER, &[A::PTR_TO_CTX]),
    p(48, "bpf_set_hash", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(49, "bpf_setsockopt", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE]),
    p(50, "bpf_skb_adjust_room", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::ANYTHING]),
    p(51, "bpf_redirect_map", R::INTEGER, &[A::CONST_MAP_PTR, A::ANYTHING, A::ANYTHING]),
    p(52, "bpf_sk_redirect_map", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::ANYTHING, A::ANYTHING]),
    p(53, "bpf_sock_map_update", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY, A::ANYTHING]),
    p(54, "bpf_xdp_adjust_meta", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(55, "bpf_perf_event_read_value", R::INTEGER, &[A::CONST_MAP_PTR, A::ANYTHING, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]).gpl(),
    p(56, "bpf_perf_prog_read_value", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]).gpl(),
    p(57, "bpf_getsockopt", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(59, "bpf_sock_ops_cb_flags_set", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(60, "bpf_msg_redirect_map", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::ANYTHING, A::ANYTHING]),
    p(61, "bpf_msg_apply_bytes", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(62, "bpf_msg_cork_bytes", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(63, "bpf_msg_pull_data", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::ANYTHING]),
    p(65, "bpf_xdp_adjust_tail", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(66, "bpf_skb_get_xfrm_state", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(67, "bpf_get_stack", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE_OR_ZERO, A::ANYTHING]).gpl(),
    p(68, "bpf_skb_load_bytes_relative", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(69, "bpf_fib_lookup", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_MEM.with(TypeFlags::MEM_WRITE), A::CONST_SIZE, A::ANYTHING]).gpl(),
    p(70, "bpf_sock_hash_update", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY, A::ANYTHING]),
    p(71, "bpf_msg_redirect_hash", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY, A::ANYTHING]),
    p(72, "bpf_sk_redirect_hash", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY, A::ANYTHING]),
    p(73, "bpf_lwt_push_encap", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE]),
    p(79, "bpf_skb_cgroup_id", R::INTEGER, &[A::PTR_TO_CTX]),
    p(80, "bpf_get_current_cgroup_id", R::INTEGER, &[]),
    p(81, "bpf_get_local_storage", R::PTR_TO_MAP_VALUE, &[A::CONST_MAP_PTR, A::ANYTHING]),
    p(82, "bpf_sk_select_reuseport", R::INTEGER, &[A::PTR_TO_CTX, A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY, A::ANYTHING]),
    p(83, "bpf_skb_ancestor_cgroup_id", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(84, "bpf_sk_lookup_tcp", R::PTR_TO_SOCKET_OR_NULL, &SK_LOOKUP).pkt().acquire(),
    p(85, "bpf_sk_lookup_udp", R::PTR_TO_SOCKET_OR_NULL, &SK_LOOKUP).pkt().acquire(),
    p(86, "bpf_sk_release", R::INTEGER, &[A::PTR_TO_BTF_ID_SOCK_COMMON.with(TypeFlags::OBJ_RELEASE)]),
    p(87, "bpf_map_push_elem", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_MAP_VALUE, A::ANYTHING]).pkt(),
    p(88, "bpf_map_pop_elem", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_MAP_VALUE.with(TypeFlags::MEM_UNINIT).with(TypeFlags::MEM_WRITE)]),
    p(89, "bpf_map_peek_elem", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_MAP_VALUE.with(TypeFlags::MEM_UNINIT).with(TypeFlags::MEM_WRITE)]),
    p(90, "bpf_msg_push_data", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::ANYTHING]),
    p(91, "bpf_msg_pop_data", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING, A::ANYTHING]),
    p(93, "bpf_spin_lock", R::VOID, &[A::PTR_TO_SPIN_LOCK]),
    p(94, "bpf_spin_unlock", R::VOID, &[A::PTR_TO_SPIN_LOCK]),
    p(95, "bpf_sk_fullsock", R::PTR_TO_SOCKET_OR_NULL, &[A::PTR_TO_SOCK_COMMON]),
    p(96, "bpf_tcp_sock", R::PTR_TO_TCP_SOCK_OR_NULL, &[A::PTR_TO_SOCK_COMMON]),
    p(97, "bpf_skb_ecn_set_ce", R::INTEGER, &[A::PTR_TO_CTX]),
    p(98, "bpf_get_listener_sock", R::PTR_TO_SOCKET_OR_NULL, &[A::PTR_TO_SOCK_COMMON]),
    p(99, "bpf_skc_lookup_tcp", R::PTR_TO_SOCK_COMMON_OR_NULL, &SK_LOOKUP).pkt().acquire(),
    p(100, "bpf_tcp_check_syncookie", R::INTEGER, &SYNCOOKIE).gpl().pkt(),
    p(101, "bpf_sysctl_get_name", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(102, "bpf_sysctl_get_current_value", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(103, "bpf_sysctl_get_new_value", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(104, "bpf_sysctl_set_new_value", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE]),
    p(105, "bpf_strtol", R::INTEGER, &[A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::ANYTHING, RESULT_SLOT]).size(3, 8),
    p(106, "bpf_strtoul", R::INTEGER, &[A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::ANYTHING, RESULT_SLOT]).size(3, 8),
    p(107, "bpf_sk_storage_get", R::PTR_TO_MAP_VALUE_OR_NULL, &[A::CONST_MAP_PTR, A::PTR_TO_BTF_ID_SOCK_COMMON, A::PTR_TO_MAP_VALUE_OR_NULL, A::ANYTHING]),
    p(108, "bpf_sk_storage_delete", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_BTF_ID_SOCK_COMMON]),
    p(109, "bpf_send_signal", R::INTEGER, &[A::ANYTHING]),
    p(110, "bpf_tcp_gen_syncookie", R::INTEGER, &SYNCOOKIE).gpl().pkt(),
    p(112, "bpf_probe_read_user", R::INTEGER, &PROBE_READ).gpl(),
    p(113, "bpf_probe_read_kernel", R::INTEGER, &PROBE_READ).gpl(),
    p(114, "bpf_probe_read_user_str", R::INTEGER, &PROBE_READ).gpl(),
    p(115, "bpf_probe_read_kernel_str", R::INTEGER, &PROBE_READ).gpl(),
    p(117, "bpf_send_signal_thread", R::INTEGER, &[A::ANYTHING]),
    p(118, "bpf_jiffies64", R::INTEGER, &[]),
    p(119, "bpf_read_branch_records", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_MEM_OR_NULL, A::CONST_SIZE_OR_ZERO, A::ANYTHING]).gpl(),
    p(120, "bpf_get_ns_current_pid_tgid", R::INTEGER, &[A::ANYTHING, A::ANYTHING, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(123, "bpf_get_current_ancestor_cgroup_id", R::INTEGER, &[A::ANYTHING]),
    p(124, "bpf_sk_assign", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_BTF_ID_SOCK_COMMON, A::ANYTHING]),
    p(125, "bpf_ktime_get_boot_ns", R::INTEGER, &[]),
    p(128, "bpf_sk_cgroup_id", R::INTEGER, &[A::PTR_TO_BTF_ID_SOCK_COMMON]),
    p(129, "bpf_sk_ancestor_cgroup_id", R::INTEGER, &[A::PTR_TO_BTF_ID_SOCK_COMMON, A::ANYTHING]),
    p(130, "bpf_ringbuf_output", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE_OR_ZERO, A::ANYTHING]),
    p(131, "bpf_ringbuf_reserve", R::PTR_TO_RINGBUF_MEM_OR_NULL, &[A::CONST_MAP_PTR, A::CONST_ALLOC_SIZE_OR_ZERO, A::ANYTHING]).acquire(),
    p(132, "bpf_ringbuf_submit", R::VOID, &[A::PTR_TO_RINGBUF_MEM_RELEASE, A::ANYTHING]),
    p(133, "bpf_ringbuf_discard", R::VOID, &[A::PTR_TO_RINGBUF_MEM_RELEASE, A::ANYTHING]),
    p(134, "bpf_ringbuf_query", R::INTEGER, &[A::CONST_MAP_PTR, A::ANYTHING]),
    p(135, "bpf_csum_level", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING]),
    p(136, "bpf_skc_to_tcp6_sock", R::PTR_TO_BTF_ID_OR_NULL, &[A::PTR_TO_BTF_ID_SOCK_COMMON]),
    p(137, "bpf_skc_to_tcp_sock", R::PTR_TO_BTF_ID_OR_NULL, &[A::PTR_TO_BTF_ID_SOCK_COMMON]),
    p(138, "bpf_skc_to_tcp_timewait_sock", R::PTR_TO_BTF_ID_OR_NULL, &[A::PTR_TO_BTF_ID_SOCK_COMMON]),
    p(139, "bpf_skc_to_tcp_request_sock", R::PTR_TO_BTF_ID_OR_NULL, &[A::PTR_TO_BTF_ID_SOCK_COMMON]),
    p(140, "bpf_skc_to_udp6_sock", R::PTR_TO_BTF_ID_OR_NULL, &[A::PTR_TO_BTF_ID_SOCK_COMMON]),
    p(141, "bpf_get_task_stack", R::INTEGER, &[A::PTR_TO_BTF_ID, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE_OR_ZERO, A::ANYTHING]),
    p(142, "bpf_load_hdr_opt", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_MEM.with(TypeFlags::MEM_WRITE), A::CONST_SIZE, A::ANYTHING]),
    p(143, "bpf_store_hdr_opt", R::INTEGER, &[A::PTR_TO_CTX, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(144, "bpf_reserve_hdr_opt", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING]),
    p(148, "bpf_copy_from_user", R::INTEGER, &PROBE_READ).sleeps(),
    p(149, "bpf_snprintf_btf", R::INTEGER, &[A::PTR_TO_MEM, A::CONST_SIZE, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::ANYTHING]),
    p(151, "bpf_skb_cgroup_classid", R::INTEGER, &[A::PTR_TO_CTX]),
    p(152, "bpf_redirect_neigh", R::INTEGER, &[A::ANYTHING, A::PTR_TO_RDONLY_MEM_OR_NULL, A::CONST_SIZE_OR_ZERO, A::ANYTHING]),
    p(153, "bpf_per_cpu_ptr", R::PTR_TO_MEM_OR_BTF_ID_OR_NULL_RDONLY, &[A::PTR_TO_PERCPU_BTF_ID, A::ANYTHING]),
    p(154, "bpf_this_cpu_ptr", R::PTR_TO_MEM_OR_BTF_ID_RDONLY, &[A::PTR_TO_PERCPU_BTF_ID]),
    p(155, "bpf_redirect_peer", R::INTEGER, &[A::ANYTHING, A::ANYTHING]),
    p(156, "bpf_task_storage_get", R::PTR_TO_MAP_VALUE_OR_NULL, &[A::CONST_MAP_PTR, A::PTR_TO_BTF_ID_OR_NULL, A::PTR_TO_MAP_VALUE_OR_NULL, A::ANYTHING]),
    p(157, "bpf_task_storage_delete", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_BTF_ID]),
    p(158, "bpf_get_current_task_btf", R::PTR_TO_BTF_ID_TRUSTED, &[]).gpl(),
    p(160, "bpf_ktime_get_coarse_ns", R::INTEGER, &[]),
    p(163, "bpf_check_mtu", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, RESULT_SLOT, A::ANYTHING, A::ANYTHING]).gpl().size(2, 4),
    p(164, "bpf_for_each_map_elem", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_FUNC, A::PTR_TO_STACK_OR_NULL, A::ANYTHING]),
    p(165, "bpf_snprintf", R::INTEGER, &[A::PTR_TO_MEM_OR_NULL.with(TypeFlags::MEM_WRITE), A::CONST_SIZE_OR_ZERO, A::PTR_TO_CONST_STR, A::PTR_TO_RDONLY_MEM_OR_NULL, A::CONST_SIZE_OR_ZERO]).gpl(),
    p(169, "bpf_timer_init", R::INTEGER, &[TIMER, A::CONST_MAP_PTR, A::ANYTHING]).gpl(),
    p(170, "bpf_timer_set_callback", R::INTEGER, &[TIMER, A::PTR_TO_FUNC]).gpl(),
    p(171, "bpf_timer_start", R::INTEGER, &[TIMER, A::ANYTHING, A::ANYTHING]).gpl(),
    p(172, "bpf_timer_cancel", R::INTEGER, &[TIMER]).gpl(),
    p(173, "bpf_get_func_ip", R::INTEGER, &[A::PTR_TO_CTX]).gpl(),
    p(174, "bpf_get_attach_cookie", R::INTEGER, &[A::PTR_TO_CTX]),
    p(175, "bpf_task_pt_regs", R::PTR_TO_BTF_ID, &[A::PTR_TO_BTF_ID]).gpl(),
    p(176, "bpf_get_branch_snapshot", R::INTEGER, &[A::PTR_TO_UNINIT_MEM, A::CONST_SIZE_OR_ZERO]).gpl(),
    p(177, "bpf_trace_vprintk", R::INTEGER, &[A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::PTR_TO_RDONLY_MEM_OR_NULL, A::CONST_SIZE_OR_ZERO]).gpl(),
    p(180, "bpf_find_vma", R::INTEGER, &[A::PTR_TO_BTF_ID, A::ANYTHING, A::PTR_TO_FUNC, A::PTR_TO_STACK_OR_NULL, A::ANYTHING]),
    p(181, "bpf_loop", R::INTEGER, &[A::ANYTHING, A::PTR_TO_FUNC, A::PTR_TO_STACK_OR_NULL, A::ANYTHING]),
    p(182, "bpf_strncmp", R::INTEGER, &[A::PTR_TO_RDONLY_MEM, A::CONST_SIZE, A::PTR_TO_CONST_STR]),
    p(186, "bpf_get_retval", R::INTEGER, &[]),
    p(187, "bpf_set_retval", R::INTEGER, &[A::ANYTHING]),
    p(188, "bpf_xdp_get_buff_len", R::INTEGER, &[A::PTR_TO_CTX]),
    p(189, "bpf_xdp_load_bytes", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::PTR_TO_UNINIT_MEM, A::CONST_SIZE]),
    p(190, "bpf_xdp_store_bytes", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE]),
    p(191, "bpf_copy_from_user_task", R::INTEGER, &[A::PTR_TO_UNINIT_MEM, A::CONST_SIZE_OR_ZERO, A::ANYTHING, A::PTR_TO_BTF_ID, A::ANYTHING]).gpl().sleeps(),
    p(192, "bpf_skb_set_tstamp", R::INTEGER, &[A::PTR_TO_CTX, A::ANYTHING, A::ANYTHING]),
    p(194, "bpf_kptr_xchg", R::PTR_TO_BTF_ID_OR_NULL, &[A::KPTR_XCHG_DEST, A::PTR_TO_BTF_ID_OR_NULL.with(TypeFlags::OBJ_RELEASE)]).acquire(),
    p(195, "bpf_map_lookup_percpu_elem", R::PTR_TO_MAP_VALUE_OR_NULL, &[A::CONST_MAP_PTR, A::PTR_TO_MAP_KEY, A::ANYTHING]).pkt(),
    p(197, "bpf_dynptr_from_mem", R::INTEGER, &[A::PTR_TO_UNINIT_MEM, A::CONST_SIZE_OR_ZERO, A::ANYTHING, A::PTR_TO_DYNPTR.with(TypeFlags::DYNPTR_TYPE_LOCAL).with(TypeFlags::MEM_UNINIT).with(TypeFlags::MEM_WRITE)]),
    p(198, "bpf_ringbuf_reserve_dynptr", R::INTEGER, &[A::CONST_MAP_PTR, A::ANYTHING, A::ANYTHING, A::PTR_TO_DYNPTR.with(TypeFlags::DYNPTR_TYPE_RINGBUF).with(TypeFlags::MEM_UNINIT)]),
    p(199, "bpf_ringbuf_submit_dynptr", R::VOID, &[A::PTR_TO_DYNPTR.with(TypeFlags::DYNPTR_TYPE_RINGBUF).with(TypeFlags::OBJ_RELEASE), A::ANYTHING]),
    p(200, "bpf_ringbuf_discard_dynptr", R::VOID, &[A::PTR_TO_DYNPTR.with(TypeFlags::DYNPTR_TYPE_RINGBUF).with(TypeFlags::OBJ_RELEASE), A::ANYTHING]),
    p(201, "bpf_dynptr_read", R::INTEGER, &[A::PTR_TO_UNINIT_MEM, A::CONST_SIZE_OR_ZERO, A::PTR_TO_DYNPTR.with(TypeFlags::MEM_RDONLY), A::ANYTHING, A::ANYTHING]),
    p(202, "bpf_dynptr_write", R::INTEGER, &[A::PTR_TO_DYNPTR.with(TypeFlags::MEM_RDONLY), A::ANYTHING, A::PTR_TO_RDONLY_MEM, A::CONST_SIZE_OR_ZERO, A::ANYTHING]),
    p(203, "bpf_dynptr_data", R::PTR_TO_DYNPTR_MEM_OR_NULL, &[A::PTR_TO_DYNPTR.with(TypeFlags::MEM_RDONLY), A::ANYTHING, A::CONST_ALLOC_SIZE_OR_ZERO]),
    p(204, "bpf_tcp_raw_gen_syncookie_ipv4", R::INTEGER, &[A::PTR_TO_FIXED_SIZE_MEM, A::PTR_TO_MEM, A::CONST_SIZE]).gpl().pkt().size(0, IPHDR),
    p(205, "bpf_tcp_raw_gen_syncookie_ipv6", R::INTEGER, &[A::PTR_TO_FIXED_SIZE_MEM, A::PTR_TO_MEM, A::CONST_SIZE]).gpl().pkt().size(0, IPV6HDR),
    p(206, "bpf_tcp_raw_check_syncookie_ipv4", R::INTEGER, &[A::PTR_TO_FIXED_SIZE_MEM, A::PTR_TO_FIXED_SIZE_MEM]).gpl().pkt().size(0, IPHDR).size(1, TCPHDR),
    p(207, "bpf_tcp_raw_check_syncookie_ipv6", R::INTEGER, &[A::PTR_TO_FIXED_SIZE_MEM, A::PTR_TO_FIXED_SIZE_MEM]).gpl().pkt().size(0, IPV6HDR).size(1, TCPHDR),
    p(208, "bpf_ktime_get_tai_ns", R::INTEGER, &[]),
    p(209, "bpf_user_ringbuf_drain", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_FUNC, A::PTR_TO_STACK_OR_NULL, A::ANYTHING]),
    p(210, "bpf_cgrp_storage_get", R::PTR_TO_MAP_VALUE_OR_NULL, &[A::CONST_MAP_PTR, A::PTR_TO_BTF_ID_OR_NULL, A::PTR_TO_MAP_VALUE_OR_NULL, A::ANYTHING]),
    p(211, "bpf_cgrp_storage_delete", R::INTEGER, &[A::CONST_MAP_PTR, A::PTR_TO_BTF_ID]),
];

/// The prototype of helper `id`: where program types get variants of a
/// prototype with the same argument and return types, the one entry that
/// stands for all of them (`gpl_only` per program type is in the probed
/// table; [`Platform::helper`](super::Platform::helper) applies it).
#[must_use]
pub fn helper_proto(id: i32) -> Option<&'static HelperProto> {
    PROTOS
        .binary_search_by_key(&id, |p| p.id)
        .ok()
        .and_then(|i| PROTOS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_named_like_the_kernel() {
        assert!(PROTOS.len() >= 70, "{} prototypes", PROTOS.len());
        for w in PROTOS.windows(2) {
            assert!(w[0].id < w[1].id, "{} before {}", w[0].name, w[1].name);
        }
        for p in PROTOS {
            assert_eq!(ebpf_isa::helper_name(p.id), Some(p.name), "id {}", p.id);
            assert_eq!(helper_proto(p.id), Some(p));
        }
        assert_eq!(helper_proto(122), None);
        assert_eq!(helper_proto(-1), None);
    }

    #[test]
    fn arguments_are_well_formed() {
        for p in PROTOS {
            // check_func_proto: a size argument follows memory, memory
            // without a fixed size is followed by its size, and at most one
            // argument is released.
            for (i, a) in p.args.iter().enumerate() {
                let prev = i.checked_sub(1).and_then(|j| p.args.get(j));
                let next = p.args.get(i.saturating_add(1));
                if a.is_mem_size() {
                    assert!(
                        prev.is_some_and(|m| m.base == ArgBase::PtrToMem),
                        "{}: size arg{} without memory before it",
                        p.name,
                        i.saturating_add(1)
                    );
                }
                if a.base == ArgBase::PtrToMem && !a.flags.contains(TypeFlags::MEM_FIXED_SIZE) {
                    assert!(
                        next.is_some_and(|s| s.is_mem_size()),
                        "{}: memory arg{} without a size after it",
                        p.name,
                        i.saturating_add(1)
                    );
                }
                if a.flags.contains(TypeFlags::MEM_FIXED_SIZE) {
                    assert!(p.arg_size[i] > 0, "{}: fixed size 0", p.name);
                }
            }
            assert!(p.args.iter().filter(|a| a.releases()).count() <= 1);
            // check_func_proto: a helper that changes packet data takes
            // the context first.
            if p.changes_pkt_data {
                assert_eq!(p.args[0], ArgType::PTR_TO_CTX, "{}", p.name);
            }
        }
    }

    #[test]
    fn ringbuf_reserve_and_submit_pair_up() {
        let reserve = helper_proto(131).unwrap();
        assert_eq!(reserve.ret, RetType::PTR_TO_RINGBUF_MEM_OR_NULL);
        assert!(reserve.ret.may_be_null());
        assert!(reserve.acquires);
        assert_eq!(reserve.args[1], ArgType::CONST_ALLOC_SIZE_OR_ZERO);
        let submit = helper_proto(132).unwrap();
        assert_eq!(submit.release_arg(), Some(0));
        assert_eq!(submit.ret, RetType::VOID);
        assert_eq!(submit.arg_count(), 2);
        let lookup = helper_proto(1).unwrap();
        assert!(!lookup.acquires_with_map(Some(1)));
        assert!(lookup.acquires_with_map(Some(15)));
        assert_eq!(
            format!("{:?}", helper_proto(88).unwrap().args[1].flags),
            "MEM_UNINIT | MEM_WRITE"
        );
    }

    #[test]
    fn packet_changing_helpers() {
        assert!(helper_proto(9).unwrap().changes_pkt_data);
        assert!(helper_proto(44).unwrap().changes_pkt_data);
        assert!(!helper_proto(26).unwrap().changes_pkt_data);
        assert!(!helper_changes_pkt_data(12));
    }
}
