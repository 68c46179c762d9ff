//! The instruction walk (`do_check`): depth-first over both successors of
//! every undecided jump, one verifier state per path, each instruction
//! checked against the state and the state updated, until every path has
//! ended in `exit` or one has failed.
//!
//! What is checked, with the kernel's messages (see
//! `tests/corpus/*.kernel` for the kernel's own words): reads of
//! uninitialised registers, writes to `r10`, ALU on scalars (through
//! [`ScalarBounds`]) and the pointer arithmetic rules, shifts and
//! divisions by immediates, stack accesses (bounds, alignment, spills and
//! fills byte by byte), context accesses (through [`ProgramEnv`]), map
//! values and helper memory with fixed and variable offsets, packet
//! accesses against the range proven by `data_end` comparisons, `NULL`
//! checks of map values and ring buffer samples, helper calls (through
//! [`ProgramEnv`]: availability, GPL, argument types, return type),
//! acquired references, bpf-to-bpf calls (frames, call depth, combined
//! stack), the return value, the 1,000,000-instruction limit.
//!
//! Also: state pruning (`is_state_visited`), precision tracking
//! (`mark_chain_precision`), callbacks of `bpf_loop` and
//! `bpf_for_each_map_elem`, and the kernel's log at levels 1 and 2.
//!
//! Not yet: liveness, the `mark_precise:` log trace, atomics on pointers
//! other than the stack and map values, other callbacks, iterators,
//! kfuncs, unprivileged rules.

use ebpf_cfg::CfgChecks;
use ebpf_isa::{
    AluOp, AtomicOp, CallTarget, Imm64, Insn, JmpCond, Operand, Program, Reg, Size, Width,
};

use crate::scalar::{BranchTaken, ScalarBounds, reg_set_min_max};
use crate::state::{ADD_CONST, ADD_CONST32, ADD_CONST64};
use crate::state::{
    FuncState, MAX_STACK, MapMeta, REG_SIZE, RegState, RegType, SlotType, TypeFlags,
};
use crate::tnum::Tnum;

/// `BPF_MAXINSNS`: the most slots a loader without `CAP_BPF` may load.
const BPF_MAXINSNS: usize = 4096;

/// `BPF_F_RDONLY_PROG`: programs may only read the map.
const BPF_F_RDONLY_PROG: u32 = 0x80;

/// `BPF_FUNC_for_each_map_elem`, whose callback gets the map, a key and a
/// value.
const HELPER_FOR_EACH_MAP_ELEM: i32 = 164;
/// `BPF_FUNC_loop` and `BPF_FUNC_for_each_map_elem`: helpers that call a
/// callback synchronously, which the walk models.
const CALLBACK_HELPERS: [i32; 2] = [HELPER_LOOP, HELPER_FOR_EACH_MAP_ELEM];
/// `BPF_FUNC_loop`.
const HELPER_LOOP: i32 = 181;
/// `BPF_FUNC_map_lookup_elem`.
const HELPER_MAP_LOOKUP_ELEM: i32 = 1;
/// `BPF_FUNC_tail_call`.
const HELPER_TAIL_CALL: i32 = 12;
/// `BPF_FUNC_get_local_storage`.
const HELPER_GET_LOCAL_STORAGE: i32 = 81;
/// `BPF_FUNC_spin_lock`, `BPF_FUNC_spin_unlock`.
const HELPER_SPIN_LOCK: i32 = 93;
const HELPER_SPIN_UNLOCK: i32 = 94;
/// `BPF_MAP_TYPE_SOCKMAP`, `BPF_MAP_TYPE_SOCKHASH`: a lookup yields a
/// socket reference.
const SOCK_MAP_TYPES: [u32; 2] = [15, 18];

/// Whether `insn` calls a helper that calls back (`calls_callback`).
fn calls_callback(insn: &Insn) -> bool {
    matches!(insn, Insn::Call(CallTarget::Helper(id)) if CALLBACK_HELPERS.contains(id))
}

/// `R0` outside the range an exit allows (`verbose_invalid_scalar`): the
/// bounds it has, or `unknown scalar value`.
fn invalid_scalar(ctx: &str, r: &RegState, lo: i64, hi: i64) -> String {
    let mut has = String::new();
    if r.var.smin_value > i64::MIN {
        has.push_str(&format!(" smin={}", r.var.smin_value));
    }
    if r.var.smax_value < i64::MAX {
        has.push_str(&format!(" smax={}", r.var.smax_value));
    }
    if has.is_empty() {
        has.push_str(" unknown scalar value");
    }
    format!("{ctx} the register R0 has{has} should have been in [{lo}, {hi}]")
}

/// A scalar known to be 0.
fn is_known_zero(r: &RegState) -> bool {
    r.ty == RegType::Scalar && r.var.var_off.is_const() && r.var.var_off.value == 0
}

/// A packet pointer's `range` when it is known to point past the end
/// (`pkt > pkt_end` held), and at or past it (`pkt >= pkt_end`).
const BEYOND_PKT_END: i64 = -2;
const AT_PKT_END: i64 = -1;

/// `enum bpf_map_type` values the checks name.
mod map_types {
    pub(super) const PERCPU_HASH: u32 = 5;
    pub(super) const PERCPU_ARRAY: u32 = 6;
    pub(super) const PROG_ARRAY: u32 = 3;
    pub(super) const PERF_EVENT_ARRAY: u32 = 4;
    pub(super) const STACK_TRACE: u32 = 7;
    pub(super) const CGROUP_ARRAY: u32 = 8;
    pub(super) const LRU_PERCPU_HASH: u32 = 10;
    pub(super) const ARRAY_OF_MAPS: u32 = 12;
    pub(super) const HASH_OF_MAPS: u32 = 13;
    pub(super) const DEVMAP: u32 = 14;
    pub(super) const SOCKMAP: u32 = 15;
    pub(super) const CPUMAP: u32 = 16;
    pub(super) const XSKMAP: u32 = 17;
    pub(super) const SOCKHASH: u32 = 18;
    pub(super) const CGROUP_STORAGE: u32 = 19;
    pub(super) const REUSEPORT_SOCKARRAY: u32 = 20;
    pub(super) const PERCPU_CGROUP_STORAGE: u32 = 21;
    pub(super) const QUEUE: u32 = 22;
    pub(super) const STACK: u32 = 23;
    pub(super) const SK_STORAGE: u32 = 24;
    pub(super) const DEVMAP_HASH: u32 = 25;
    pub(super) const RINGBUF: u32 = 27;
    pub(super) const INODE_STORAGE: u32 = 28;
    pub(super) const TASK_STORAGE: u32 = 29;
    pub(super) const BLOOM_FILTER: u32 = 30;
    pub(super) const USER_RINGBUF: u32 = 31;
    pub(super) const CGRP_STORAGE: u32 = 32;
}

/// The id and offset `dst` keeps after `dst op= src` (both scalars):
/// adding or subtracting a constant that fits in 32 bits to a linked
/// register links it with that offset, once; anything else unlinks it.
fn add_const_link(d: &RegState, s: &RegState, op: AluOp, width: Width, unpriv: bool) -> (u32, i32) {
    let alu32 = width == Width::W32;
    let konst = if alu32 {
        s.var.var_off.subreg_is_const()
    } else {
        s.var.var_off.is_const()
    };
    if unpriv || !matches!(op, AluOp::Add | AluOp::Sub) || d.id == 0 || !konst {
        return (0, 0);
    }
    let val = if alu32 {
        u64::from(s.var.var_off.value as u32)
    } else {
        s.var.var_off.value
    };
    if !alu32 && i32::try_from(val as i64).is_err() {
        return (0, 0);
    }
    // A 32-bit addition links only a value that was already 32 bits.
    if alu32 && d.var.umax_value > u64::from(u32::MAX) {
        return (0, 0);
    }
    if d.id & ADD_CONST != 0 {
        return (0, 0);
    }
    let mut off = val as i32;
    if op == AluOp::Sub {
        if off == i32::MIN {
            return (0, 0);
        }
        off = off.wrapping_neg();
    }
    let flag = if alu32 { ADD_CONST32 } else { ADD_CONST64 };
    (d.id | flag, off)
}

/// `MAX_PACKET_OFF`: the furthest a packet pointer's range reaches.
const MAX_PACKET_OFF: u64 = 0xffff;
/// The largest number of instructions walked (`BPF_COMPLEXITY_LIMIT_INSNS`).
pub const INSN_LIMIT: u64 = 1_000_000;
/// The lowest offset from `r10` inside a frame.
const STACK_BOTTOM: i64 = -(MAX_STACK as i64);
/// The stack a verified function with `may_goto` gets for its loop
/// counter and timestamp (`do_misc_fixups`, timed `may_goto` on x86-64).
const MAY_GOTO_STACK: u32 = 16;
/// `BPF_COMPLEXITY_LIMIT_JMP_SEQ`: the most paths waiting to be walked.
const BPF_COMPLEXITY_LIMIT_JMP_SEQ: usize = 8192;
/// The deepest call chain (`MAX_CALL_FRAMES`).
pub const MAX_CALL_FRAMES: usize = 8;

/// What a context load yields (`check_ctx_access`'s `reg_type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CtxField {
    /// A number.
    Scalar,
    /// The packet start (`PTR_TO_PACKET`).
    Packet,
    /// One past the packet (`PTR_TO_PACKET_END`).
    PacketEnd,
    /// The packet metadata (`PTR_TO_PACKET_META`).
    PacketMeta,
    /// The skb's socket, if any (`PTR_TO_SOCK_COMMON_OR_NULL`).
    SockCommonOrNull,
    /// The flow dissector's keys (`PTR_TO_FLOW_KEYS`).
    FlowKeys,
}

/// What a helper returns (`enum bpf_return_type`, the kinds modelled).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RetType {
    /// `RET_INTEGER`.
    Integer,
    /// `RET_VOID`.
    Void,
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL`: a value of the map in argument 1.
    MapValueOrNull,
    /// `RET_PTR_TO_MAP_VALUE`: a value of the map in argument 1, never
    /// `NULL` (`bpf_get_local_storage`).
    MapValue,
    /// `RET_PTR_TO_RINGBUF_MEM_OR_NULL`: a ring buffer sample of the size
    /// in argument 2, an acquired reference.
    RingbufMemOrNull,
    /// `RET_PTR_TO_SOCKET_OR_NULL`.
    SocketOrNull,
    /// `RET_PTR_TO_TCP_SOCK_OR_NULL`.
    TcpSockOrNull,
    /// `RET_PTR_TO_SOCK_COMMON_OR_NULL`.
    SockCommonOrNull,
}

/// What a helper argument must be (`enum bpf_arg_type`, the kinds
/// modelled).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ArgType {
    /// Unused.
    None,
    /// `ARG_ANYTHING`: any initialised value.
    Anything,
    /// `ARG_CONST_MAP_PTR`.
    ConstMapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: `key_size` readable bytes.
    MapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: `value_size` readable bytes.
    MapValue,
    /// `ARG_PTR_TO_MEM | MEM_RDONLY`: readable memory of the size in the
    /// next argument.
    MemRead,
    /// `ARG_CONST_SIZE`: a bounded size, not zero.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`.
    ConstSizeOrZero,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`: a known size.
    ConstAllocSizeOrZero,
    /// `ARG_PTR_TO_CTX`.
    Ctx,
    /// `ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE`: a reserved sample, released.
    RingbufMemRelease,
    /// `ARG_PTR_TO_MEM` that the helper writes (`MEM_UNINIT`,
    /// `MEM_WRITE`), size in the next argument.
    MemWrite,
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL`, read: memory or `NULL` with a
    /// zero size in the next argument.
    MemReadOrNull,
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL` that the helper writes.
    MemWriteOrNull,
    /// `ARG_PTR_TO_MEM | MEM_WRITE` (not `MEM_UNINIT`): initialised memory
    /// the helper reads and writes (`bpf_fib_lookup`'s parameters).
    MemReadWrite,
    /// [`ArgType::MemReadWrite`] or `NULL` (`bpf_snprintf`'s buffer).
    MemReadWriteOrNull,
    /// `ARG_PTR_TO_FIXED_SIZE_MEM`: this many bytes the helper reads
    /// (`write`: or writes).
    FixedMem {
        /// `arg_size`.
        size: u32,
        /// `MEM_UNINIT` / `MEM_WRITE`.
        write: bool,
    },
    /// `ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE`: a buffer of the
    /// map's value size that the helper fills (`bpf_map_pop_elem`).
    MapValueWrite,
    /// `ARG_PTR_TO_FUNC`: a callback, `ld_imm64` of a function.
    Func,
    /// `ARG_PTR_TO_STACK`: a pointer into the stack.
    Stack,
    /// `ARG_PTR_TO_CONST_STR`: a NUL-terminated string at a constant
    /// offset of a read-only map's value.
    ConstStr,
    /// `ARG_PTR_TO_STACK_OR_NULL`: a pointer into the stack, or 0.
    StackOrNull,
    /// `ARG_PTR_TO_SOCK_COMMON`: any socket pointer.
    SockCommon,
    /// `ARG_PTR_TO_SOCKET`: a full socket.
    Socket,
    /// `ARG_PTR_TO_SPIN_LOCK`: the `struct bpf_spin_lock` of a map value
    /// (`bpf_spin_lock`, `bpf_spin_unlock`).
    SpinLock,
    /// `ARG_PTR_TO_BTF_ID_SOCK_COMMON`: any socket pointer (or a BTF-typed
    /// one, not modelled); `release`: `OBJ_RELEASE`, the call releases the
    /// reference it holds (`bpf_sk_release`).
    BtfIdSockCommon {
        /// `OBJ_RELEASE`.
        release: bool,
    },
}

/// A helper's prototype (`struct bpf_func_proto`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HelperProto {
    /// Name without the `bpf_` prefix (`map_lookup_elem`).
    pub name: &'static str,
    /// Return type.
    pub ret: RetType,
    /// Argument types, `r1..=r5`.
    pub args: [ArgType; 5],
    /// The call may move the packet (`bpf_helper_changes_pkt_data`): every
    /// packet pointer is invalid afterwards.
    pub changes_pkt_data: bool,
    /// `is_acquire_function`: the result, once not `NULL`, is a reference
    /// the program must release (`bpf_sk_lookup_tcp`).
    pub acquires: bool,
    /// `pkt_access`: packet pointers may be passed to it.
    pub pkt_access: bool,
}

/// The answer to "may this program call helper `id`?".
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum HelperLookup {
    /// Callable, with this prototype.
    Proto(HelperProto),
    /// Refused before its arguments are looked at, with the kernel's errno
    /// and message (`invalid func unknown#ID`, `program of this type cannot
    /// use helper NAME#ID`, `cannot call GPL-restricted function from
    /// non-GPL compatible program`, ...).
    Refused {
        /// `EINVAL`, ...
        errno: &'static str,
        /// The log line.
        message: String,
    },
}

/// What the verifier asks about the program's world.
pub trait ProgramEnv {
    /// A load of `size` bytes at `off` of the context, or `None`
    /// (`invalid bpf_context access`).
    fn ctx_load(&self, off: i32, size: u8) -> Option<CtxField>;
    /// Whether a store of `size` bytes at `off` of the context is allowed.
    fn ctx_store(&self, off: i32, size: u8) -> bool;
    /// Helper `id`.
    fn helper(&self, id: i32) -> HelperLookup;
    /// The range `r0` must be in at the main program's `exit`, if limited.
    fn return_range(&self) -> Option<(i64, i64)>;
    /// The argument registers of helper `id` as the kernel's liveness
    /// analysis counts them (bit `i`: `r<i>`): those its prototype for
    /// this program type names, whatever the license; `r1`-`r5` when the
    /// program type has no such helper.
    fn helper_arg_mask(&self, id: i32) -> u16 {
        match self.helper(id) {
            HelperLookup::Proto(p) => (1u16..)
                .zip(p.args.iter())
                .filter(|(_, a)| **a != ArgType::None)
                .fold(0u16, |m, (r, _)| m | (1 << r)),
            HelperLookup::Refused { .. } => 0x3e,
        }
    }
    /// Whether stores through packet pointers are allowed
    /// (`may_access_direct_pkt_data` for a write).
    fn packet_writable(&self) -> bool {
        true
    }
    /// Whether `BPF_LD_[ABS|IND]` may be used (`may_access_skb`: socket
    /// filters and tc programs).
    fn may_access_skb(&self) -> bool {
        false
    }
    /// Whether a loader without `CAP_BPF` may load this program type
    /// (socket filters and cgroup skb programs).
    fn unprivileged_allowed(&self) -> bool {
        false
    }
    /// The kernel's `nr_cpu_ids`, which bounds what
    /// `bpf_get_smp_processor_id` returns; `None`: unknown (no bound).
    fn nr_cpu_ids(&self) -> Option<u32> {
        None
    }
    /// `check_map_prog_compatibility`: why this program type may not use a
    /// map whose value holds a `struct bpf_spin_lock`, if it may not.
    fn spin_lock_refusal(&self) -> Option<&'static str> {
        None
    }
    /// `may_update_sockmap`: whether this program type may change a
    /// sockmap or sockhash with `bpf_map_update_elem` (`delete`: with
    /// `bpf_map_delete_elem`).
    fn may_update_sockmap(&self, delete: bool) -> bool {
        let _ = delete;
        false
    }
    /// Whether a pointer to the struct (or typedef) `name` is this program
    /// type's context, as a global function's parameter
    /// (`btf_is_prog_ctx_type`).
    fn is_ctx_type(&self, name: &str) -> bool {
        let _ = name;
        false
    }
}

/// A global function (`BTF_FUNC_GLOBAL` in the program's BTF): the kernel
/// verifies it on its own, once, for any arguments its signature allows,
/// and a call to it only checks the arguments against that signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GlobalFunc {
    /// Its first slot in the program.
    pub start: usize,
    /// Its name.
    pub name: String,
    /// Its parameters, `r1` first.
    pub args: Vec<GlobalArg>,
    /// Whether it returns an integer or enum (the kernel supports only
    /// those).
    pub returns_scalar: bool,
}

/// A global function's parameter, from its BTF type.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum GlobalArg {
    /// An integer or enum: any scalar.
    Scalar,
    /// A pointer to the struct `target` (or typedef; `""` for others) of
    /// `size` bytes: the context when `target` is the program type's
    /// context, else memory of that size or `NULL`.
    Pointer {
        /// Pointee's struct, union or typedef name.
        target: String,
        /// Pointee's size (`None`: unknown, such as `void *`).
        size: Option<u32>,
    },
    /// Something the kernel does not take (a struct by value, ...).
    Unsupported,
}

/// Why a program was refused: the kernel's errno and message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Refusal {
    /// `EACCES`, `EINVAL`, `E2BIG`, ...
    pub errno: &'static str,
    /// The kernel's last log line.
    pub message: String,
    /// The instruction, if one is to blame.
    pub insn: Option<usize>,
}

/// Counters the kernel prints as `processed N insns ...`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Stats {
    /// Instructions walked.
    pub insns_processed: u64,
    /// States stored for pruning (0 until pruning exists).
    pub total_states: u64,
    /// Largest number of stored states at once.
    pub peak_states: u64,
    /// Longest list of states kept at one instruction.
    pub max_states_per_insn: u64,
}

/// The result of [`verify`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Outcome {
    /// `Ok` or the refusal.
    pub result: Result<(), Refusal>,
    /// Counters.
    pub stats: Stats,
    /// The log: instruction lines with the changed state, branch lines,
    /// the error.
    pub log: String,
}

/// One path's state (`struct bpf_verifier_state`).
#[derive(PartialEq, Eq, Debug)]
struct VerifierState {
    /// Call frames, innermost last.
    frames: Vec<FuncState>,
    /// Acquired references: `(id, insn that acquired it)`.
    refs: Vec<(u32, usize)>,
    /// The spin lock held (`active_locks`, one at most): the map's index and
    /// the id of the map value it is in.
    lock: Option<(u32, u32)>,
    /// The checkpoint this path last passed (`parent`), whose branch count
    /// this path holds.
    parent: Option<usize>,
    /// The instructions walked since `parent` (`jmp_history`, here every
    /// instruction), with what backtracking needs to know of each.
    history: Vec<(usize, Hist)>,
    /// Callback iterations entered on this path (`callback_unroll_depth`):
    /// two iterations of a callback are not an infinite loop.
    callback_unroll_depth: u32,
    /// `may_goto` fall-throughs taken on this path (`may_goto_depth`).
    may_goto_depth: u32,
}

impl VerifierState {
    /// A copy with an empty history.
    fn clone_without_history(&self) -> Self {
        VerifierState {
            frames: self.frames.clone(),
            refs: self.refs.clone(),
            lock: self.lock,
            parent: self.parent,
            history: Vec::new(),
            callback_unroll_depth: self.callback_unroll_depth,
            may_goto_depth: self.may_goto_depth,
        }
    }
}

impl Clone for VerifierState {
    /// A copy whose history has room to grow: a cloned path goes on
    /// walking, and an exact-size copy would be reallocated at once.
    fn clone(&self) -> Self {
        let mut copy = self.clone_without_history();
        copy.history = Vec::with_capacity(self.history.len().saturating_add(32));
        copy.history.extend_from_slice(&self.history);
        copy
    }
}

/// What precision backtracking needs to know of a walked instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hist {
    /// Nothing beyond the instruction.
    Plain,
    /// A conditional jump: the registers and (current frame's) spilled
    /// slots linked (same scalar id) with its operands when it was walked.
    Linked(u16, u64),
    /// A load, store or atomic through a stack pointer: its frame and slot.
    Stack { frame: u32, spi: u32 },
}

/// A path waiting to be walked (`struct bpf_verifier_stack_elem`): where it
/// starts, its state, the jump it branched from, and the log's length when
/// it was queued (where a level-1 log is cut back to when it is popped).
type Pending = (usize, VerifierState, Option<usize>, usize);

/// A loop being walked in one call chain (`struct bpf_scc_visit`).
#[derive(Debug)]
struct SccVisit {
    /// The call sites leading to the loop, outermost first.
    callsites: Vec<usize>,
    /// The loop (see [`crate::liveness::loop_sccs`]).
    scc: u32,
    /// The checkpoint that entered it (`entry_state`): when its last path
    /// ends, the loop is left.
    entry: usize,
    /// States kept for its back-edges.
    backedges: u64,
}

/// A state stored at a prune point (`struct bpf_verifier_state_list`).
#[derive(Clone, Debug)]
struct Checkpoint {
    state: VerifierState,
    /// Paths still being explored below it (`branches`); 0: complete.
    branches: u32,
    /// Comparisons that pruned (`hit_cnt`) and that did not (`miss_cnt`),
    /// for the kernel's eviction heuristic.
    hits: u32,
    misses: u32,
    /// Every scalar of it (and of its ancestors) is precise already.
    all_precise: bool,
    /// Dropped from its list while paths were still below it: freed when
    /// the last one ends.
    evicted: bool,
}

impl VerifierState {
    fn cur(&self) -> &FuncState {
        // A state always has its entry frame.
        // Paths always keep their entry frame.
        let n = self.frames.len().saturating_sub(1);
        &self.frames[n]
    }

    fn cur_mut(&mut self) -> &mut FuncState {
        let n = self.frames.len().saturating_sub(1);
        &mut self.frames[n]
    }

    /// Every register and every spilled register of every frame
    /// (`bpf_for_each_reg_in_vstate`).
    fn for_each_reg(&mut self, mut f: impl FnMut(&mut RegState)) {
        for frame in &mut self.frames {
            for r in &mut frame.regs {
                f(r);
            }
            for slot in &mut frame.stack {
                if slot.has_spill() {
                    f(&mut slot.spilled);
                }
            }
        }
    }

    fn reg(&self, r: Reg) -> &RegState {
        &self.cur().regs[usize::from(r.num())]
    }

    fn reg_mut(&mut self, r: Reg) -> &mut RegState {
        &mut self.cur_mut().regs[usize::from(r.num())]
    }
}

/// A refusal at `insn`.
fn refuse(errno: &'static str, insn: usize, message: impl Into<String>) -> Refusal {
    Refusal {
        errno,
        message: message.into(),
        insn: Some(insn),
    }
}

const EACCES: &str = "EACCES";
const EINVAL: &str = "EINVAL";
const EFAULT: &str = "EFAULT";
const E2BIG: &str = "E2BIG";

/// The walker's state shared by every path.
struct Walker<'a> {
    prog: &'a Program,
    env: &'a dyn ProgramEnv,
    maps: &'a [MapMeta],
    /// Start slot of each subprogram, sorted.
    subprog_starts: Vec<usize>,
    /// Deepest stack use per subprogram (bytes), for the combined check.
    stack_depth: Vec<u32>,
    next_id: u32,
    stats: Stats,
    log: String,
    /// Prune points (`INSN_F_PRUNE_POINT`) and forced checkpoints, by slot.
    prune: Vec<ebpf_cfg::InsnMarks>,
    /// Stored states.
    checkpoints: Vec<Checkpoint>,
    /// Checkpoints by slot.
    at: Vec<Vec<usize>>,
    /// Jumps walked, and the counters when the last state was stored (the
    /// kernel's heuristic for when to store one).
    jmps_processed: u64,
    prev_jmps: u64,
    prev_insns: u64,
    /// `log_level` bits (see [`VerifierConfig::log_level`]).
    level: u32,
    /// Stored states not freed yet (`peak_states` is its maximum, with
    /// the back-edge states).
    live_states: u64,
    /// Each slot's loop (`compute_scc`; 0: on no cycle).
    scc: Vec<u32>,
    /// Stack liveness (`liveness.c`), gathered while walking: per slot,
    /// the stack slots (bit `i`: `fp-8*(i+1)`) of the frame it runs in that
    /// it may read, directly or through a call it makes (`may_read`); the
    /// marks of every call chain that runs it are merged (conservative).
    stack_may_read: Vec<u64>,
    /// Per slot, the stack slots it wrote whole on every walk so far
    /// (`must_write`; `None`: not walked yet).
    stack_must_write: Vec<Option<u64>>,
    /// Per slot, the stack slots it or a later instruction may read
    /// (`live_before`), from the two above; stale when `stack_dirty`.
    stack_live: Vec<u64>,
    /// The marks changed since `stack_live` was computed, so that it may
    /// be too small.
    stack_dirty: bool,
    /// Instructions got their first write record since `stack_live` was
    /// computed: it may be larger than need be (still sound).
    stack_fresh_writes: bool,
    /// The loops being walked (`struct bpf_scc_visit`).
    scc_visits: Vec<SccVisit>,
    /// States kept for the back-edges of the loops being walked
    /// (`num_backedges`).
    backedges: u64,
    /// The helper memory argument being checked is read and written, not
    /// filled: its stack slots are clobbered without showing in the log.
    quiet_clobber: bool,
    /// See [`VerifierConfig::func_info`].
    func_info: bool,
    /// See [`VerifierConfig::map_data`].
    map_data: &'a [(u32, Vec<u8>)],
    /// See [`VerifierConfig::global_funcs`].
    global_funcs: &'a [GlobalFunc],
    /// Registers live before each slot ([`crate::liveness`]).
    live: Vec<u16>,
    /// Which global functions a verified path called (`called`).
    global_called: Vec<bool>,
    /// The walk is verifying a global function on its own: its `exit`
    /// only needs a scalar `r0`.
    in_global: bool,
    /// See [`VerifierConfig::unprivileged`].
    unpriv: bool,
    /// See [`VerifierConfig::line_info`].
    line_info: &'a [(usize, String)],
    /// The line record printed last (`prev_linfo`).
    prev_linfo: Option<usize>,
    /// Registers (bit `i`: `r<i>`) and stack slots (bit `i`: `fp-8*(i+1)`)
    /// of the current frame touched since the state was last printed
    /// (`scratched_regs`, `scratched_stack_slots`).
    scratch_regs: u16,
    scratch_slots: u64,
    /// The log's length right after the last instruction line, and that
    /// line's length (`prev_log_pos`, `prev_insn_print_pos`): a state
    /// printed with nothing in between goes on the same line.
    prev_log_pos: usize,
    prev_insn_print_pos: usize,
}

/// `log_level` bit: the instruction trace of the path that failed (or, on
/// success, of the last path), each instruction with the registers and
/// stack slots it changed (`BPF_LOG_LEVEL1`).
pub const LOG_LEVEL1: u32 = 1;
/// `log_level` bit: every path, with `from A to B:` lines and the full
/// state where a path starts (`BPF_LOG_LEVEL2`).
pub const LOG_LEVEL2: u32 = 2;
/// `log_level` bit: `verification time N usec` and `stack depth N+M`
/// before the `processed` line (`BPF_LOG_STATS`).
pub const LOG_STATS: u32 = 4;

/// How [`verify_with`] runs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifierConfig {
    /// The kernel's `log_level`: an or of [`LOG_LEVEL1`], [`LOG_LEVEL2`]
    /// and [`LOG_STATS`]; 0 gives an empty log (and the fastest run).
    pub log_level: u32,
    /// The program comes with BTF `func_info` (an object built with `-g`
    /// does): the kernel refuses a function's address (`ld_imm64` of a
    /// pseudo function, as callbacks are passed) without it.
    pub func_info: bool,
    /// The initial bytes of read-only maps, by map index: what a frozen
    /// `.rodata` holds, so constant strings passed to helpers
    /// (`ARG_PTR_TO_CONST_STR`: `bpf_snprintf`'s format, `bpf_strncmp`)
    /// can be checked. A read-only map without data here is taken as
    /// holding terminated strings.
    pub map_data: Vec<(u32, Vec<u8>)>,
    /// The program's global functions (from BTF); all other subprograms are
    /// static, verified at each call.
    pub global_funcs: Vec<GlobalFunc>,
    /// Verify for a loader without `CAP_BPF`/`CAP_PERFMON` (with
    /// `kernel.unprivileged_bpf_disabled` at 0): only socket filters and
    /// cgroup skb programs, at most 4096 instructions, no loops or
    /// bpf-to-bpf calls, no pointer leaks (into maps, helpers, the return
    /// value, comparisons), no reads of uninitialised stack.
    pub unprivileged: bool,
    /// Source lines (`.BTF.ext` line info), sorted by slot: `(first slot,
    /// text)` with the text as the kernel's log prints it after `; `
    /// (`x = y + 1; @ prog.c:12`). Logged before the first instruction a
    /// record covers (`verbose_linfo`).
    pub line_info: Vec<(usize, String)>,
}

impl Default for VerifierConfig {
    /// The level-2 log, as [`verify`] gives it; no `func_info`.
    fn default() -> Self {
        VerifierConfig {
            log_level: LOG_LEVEL2,
            func_info: false,
            map_data: Vec::new(),
            global_funcs: Vec::new(),
            unprivileged: false,
            line_info: Vec::new(),
        }
    }
}

/// Verify `prog` for the program type `env` describes, with `maps` the
/// maps `ld_imm64` refers to by index (`map[idx:N]` is `maps[N]`), as a
/// privileged (`CAP_BPF` + `CAP_PERFMON`) loader, with the level-2 log.
#[must_use]
pub fn verify(prog: &Program, env: &dyn ProgramEnv, maps: &[MapMeta]) -> Outcome {
    verify_with(prog, env, maps, &VerifierConfig::default())
}

/// [`verify`] with a [`VerifierConfig`].
#[must_use]
pub fn verify_with(
    prog: &Program,
    env: &dyn ProgramEnv,
    maps: &[MapMeta],
    config: &VerifierConfig,
) -> Outcome {
    let start = std::time::Instant::now();
    let mut w = Walker {
        prog,
        env,
        maps,
        subprog_starts: Vec::new(),
        stack_depth: Vec::new(),
        next_id: 0,
        stats: Stats::default(),
        log: String::new(),
        prune: Vec::new(),
        checkpoints: Vec::new(),
        at: Vec::new(),
        jmps_processed: 0,
        prev_jmps: 0,
        prev_insns: 0,
        level: config.log_level,
        live_states: 0,
        scc: Vec::new(),
        stack_may_read: Vec::new(),
        stack_must_write: Vec::new(),
        stack_live: Vec::new(),
        stack_dirty: false,
        stack_fresh_writes: false,
        scc_visits: Vec::new(),
        backedges: 0,
        quiet_clobber: false,
        func_info: config.func_info,
        map_data: &config.map_data,
        global_funcs: &config.global_funcs,
        live: Vec::new(),
        global_called: vec![false; config.global_funcs.len()],
        in_global: false,
        unpriv: config.unprivileged,
        line_info: &config.line_info,
        prev_linfo: None,
        scratch_regs: 0,
        scratch_slots: 0,
        prev_log_pos: 0,
        prev_insn_print_pos: 0,
    };
    let result = w.run();
    if w.level & (LOG_LEVEL1 | LOG_LEVEL2) != 0 {
        if let Err(e) = &result {
            w.log.push_str(&e.message);
            w.log.push('\n');
        }
    } else {
        w.log.clear();
    }
    let s = w.stats;
    if w.level & LOG_STATS != 0 {
        let usec = start.elapsed().as_micros();
        // Whole slots, as the kernel keeps it. A verified function with a
        // `may_goto` gets the loop counter's stack too, as the kernel's
        // fixups add it before these lines are printed: 16 bytes where the
        // JIT times `may_goto` (x86-64, this kernel), 8 elsewhere.
        let ok = result.is_ok();
        let depths: Vec<String> = w
            .stack_depth
            .iter()
            .enumerate()
            .map(|(sub, d)| {
                let start = w.subprog_starts.get(sub).copied().unwrap_or(0);
                let end = w
                    .subprog_starts
                    .get(sub.saturating_add(1))
                    .copied()
                    .unwrap_or(prog.len());
                let may_goto = prog
                    .insns()
                    .get(start..end)
                    .is_some_and(|f| f.iter().any(|i| matches!(i, Insn::MayGoto { .. })));
                let extra = if ok && may_goto { MAY_GOTO_STACK } else { 0 };
                d.next_multiple_of(8).saturating_add(extra).to_string()
            })
            .collect();
        w.log.push_str(&format!(
            "verification time {usec} usec\nstack depth {}\n",
            depths.join("+")
        ));
    }
    if w.level != 0 {
        w.log.push_str(&format!(
            "processed {} insns (limit {INSN_LIMIT}) max_states_per_insn {} total_states {} peak_states {} mark_read 0\n",
            s.insns_processed, s.max_states_per_insn, s.total_states, s.peak_states
        ));
    }
    Outcome {
        result,
        stats: w.stats,
        log: w.log,
    }
}

impl Walker<'_> {
    fn run(&mut self) -> Result<(), Refusal> {
        if self.unpriv {
            // `bpf_prog_load` refuses these before the verifier runs: no log.
            if !self.env.unprivileged_allowed() {
                return Err(Refusal {
                    errno: "EPERM",
                    message: String::new(),
                    insn: None,
                });
            }
            if self.prog.len() > BPF_MAXINSNS {
                return Err(Refusal {
                    errno: E2BIG,
                    message: String::new(),
                    insn: None,
                });
            }
        }
        let cfg_config = if self.unpriv {
            ebpf_cfg::CfgConfig::unprivileged()
        } else {
            ebpf_cfg::CfgConfig::privileged()
        };
        let cfg = match CfgChecks::new(self.prog, &cfg_config) {
            Ok(cfg) => cfg,
            Err(e) => {
                if self.level & LOG_LEVEL2 != 0 {
                    self.log_subprogs_of_bad_cfg();
                }
                let errno = match e {
                    ebpf_cfg::CfgError::Empty | ebpf_cfg::CfgError::TooLarge { .. } => E2BIG,
                    ebpf_cfg::CfgError::CallsNotAllowed { .. } => "EPERM",
                    _ => EINVAL,
                };
                return Err(Refusal {
                    errno,
                    message: e.to_string(),
                    insn: None,
                });
            }
        };
        let (starts, marks) = cfg.into_parts();
        self.subprog_starts = starts;
        self.prune = marks;
        self.stack_depth = vec![0; self.subprog_starts.len()];
        // Listed at level 2 only (`check_subprogs`).
        if self.level & LOG_LEVEL2 != 0 {
            for (i, start) in self.subprog_starts.iter().enumerate() {
                self.log.push_str(&format!("func#{i} @{start}\n"));
            }
        }
        self.check_abnormal_return()?;
        self.check_static()?;
        let env = self.env;
        let helper_args = |id: i32| env.helper_arg_mask(id);
        self.live = crate::liveness::live_regs_before(self.prog, &helper_args);
        self.scc = crate::liveness::loop_sccs(self.prog);
        self.stack_may_read = vec![0; self.prog.len()];
        self.stack_must_write = vec![None; self.prog.len()];
        if self.level & LOG_LEVEL2 != 0 {
            self.log.push_str("Live regs before insn:\n");
            for (pc, insn) in self.prog.iter() {
                let mask = self.live.get(pc).copied().unwrap_or(0);
                let text = log_insn_text(insn);
                // The loop the slot is on, if any.
                let scc = match self.scc.get(pc).copied().unwrap_or(0) {
                    0 => "   ".to_owned(),
                    n => format!("{n:>3}"),
                };
                self.log.push_str(&format!(
                    "{scc} {pc:>3}: {} {text}\n",
                    crate::liveness::mask_text(mask)
                ));
            }
        }

        self.at = vec![Vec::new(); self.prog.len()];
        let mut entry = FuncState::new(0, 0, None);
        entry.regs[1] = RegState::pointer(RegType::Ctx);
        self.explore(0, entry)?;
        self.check_global_funcs()?;
        self.check_max_stack_depth()
    }

    /// Every path from `pc` with the frame `entry` (`do_check_common`).
    fn explore(&mut self, pc: usize, entry: FuncState) -> Result<(), Refusal> {
        let mut stack: Vec<Pending> = vec![(
            pc,
            VerifierState {
                frames: vec![entry],
                refs: Vec::new(),
                lock: None,
                parent: None,
                history: Vec::with_capacity(16),
                callback_unroll_depth: 0,
                may_goto_depth: 0,
            },
            None,
            0,
        )];
        while let Some((pc, state, from, log_pos)) = stack.pop() {
            // A level-1 log keeps only the path being walked: what the
            // finished paths printed since this one was queued goes
            // (`pop_stack` with `pop_log`).
            if from.is_some() && self.level & LOG_LEVEL2 == 0 {
                self.log.truncate(log_pos);
            }
            self.walk(pc, state, &mut stack, from)?;
        }
        Ok(())
    }

    /// Each global function a verified path called, verified on its own
    /// for any arguments its signature allows, until no new one is called
    /// (`do_check_subprogs`).
    fn check_global_funcs(&mut self) -> Result<(), Refusal> {
        let mut verified = vec![false; self.global_funcs.len()];
        loop {
            let mut progress = false;
            // In the order of the subprograms (`func#N`).
            let mut order: Vec<usize> = (0..self.global_funcs.len()).collect();
            order.sort_by_key(|&i| self.global_funcs.get(i).map_or(0, |g| g.start));
            for gi in order {
                if verified.get(gi).copied().unwrap_or(true)
                    || !self.global_called.get(gi).copied().unwrap_or(false)
                {
                    continue;
                }
                let Some(g) = self.global_funcs.get(gi) else {
                    continue;
                };
                let (start, name) = (g.start, g.name.clone());
                let sub = self.subprog_index(start);
                if self.logging() {
                    self.log
                        .push_str(&format!("Validating {name}() func#{sub}...\n"));
                }
                let mut frame = FuncState::new(0, sub, None);
                let args = g.args.clone();
                for (i, arg) in args.iter().enumerate() {
                    let Some(r) = frame.regs.get_mut(i.saturating_add(1)) else {
                        break;
                    };
                    *r = match arg {
                        GlobalArg::Scalar => RegState::unknown_scalar(),
                        GlobalArg::Pointer { target, .. } if self.env.is_ctx_type(target) => {
                            RegState::pointer(RegType::Ctx)
                        }
                        GlobalArg::Pointer {
                            size: Some(size), ..
                        } => {
                            let mut m = RegState::pointer(RegType::Mem);
                            m.mem_size = *size;
                            m.flags = TypeFlags::MAYBE_NULL;
                            m.id = self.new_id();
                            m
                        }
                        // Refused at the call already.
                        _ => RegState::unknown_scalar(),
                    };
                }
                self.in_global = true;
                let out = self.explore(start, frame);
                self.in_global = false;
                out?;
                if self.logging() {
                    self.log.push_str(&format!(
                        "Func#{sub} ('{name}') is safe for any args that match its prototype\n"
                    ));
                }
                if let Some(v) = verified.get_mut(gi) {
                    *v = true;
                }
                progress = true;
            }
            if !progress {
                return Ok(());
            }
        }
    }

    /// A call to global function `gi`: its arguments must match its
    /// signature (`btf_check_subprog_call`); it is not walked here, its
    /// `r0` is any scalar.
    fn call_global(&mut self, pc: usize, st: &mut VerifierState, gi: usize) -> Result<(), Refusal> {
        let Some(g) = self.global_funcs.get(gi) else {
            return Ok(());
        };
        let (name, args, returns_scalar) = (g.name.clone(), g.args.clone(), g.returns_scalar);
        let sub = self.subprog_index(g.start);
        let invalid = |w: &mut Self, detail: String| {
            if !detail.is_empty() {
                w.log.push_str(&detail);
                w.log.push('\n');
            }
            refuse(
                EINVAL,
                pc,
                format!("Caller passes invalid args into func#{sub} ('{name}')"),
            )
        };
        if !returns_scalar {
            let detail = format!(
                "Global function {name}() doesn't return scalar. Only those are supported."
            );
            return Err(invalid(self, detail));
        }
        for (i, arg) in args.iter().enumerate() {
            let regno = i.saturating_add(1);
            let reg_id = Reg::new(u8::try_from(regno).unwrap_or(1)).unwrap_or(Reg::R1);
            let r = *st.reg(reg_id);
            match arg {
                GlobalArg::Scalar => {
                    if r.ty != RegType::Scalar {
                        return Err(invalid(self, format!("R{regno} is not a scalar")));
                    }
                }
                GlobalArg::Pointer { target, .. } if self.env.is_ctx_type(target) => {
                    if r.ty != RegType::Ctx {
                        return Err(invalid(self, format!("arg#{i} expects pointer to ctx")));
                    }
                }
                GlobalArg::Pointer {
                    size: Some(size), ..
                } => {
                    if is_known_zero(&r) {
                        continue;
                    }
                    // A possibly-NULL pointer is fine: the function checks.
                    let mut m = r;
                    m.flags = m.flags.without(TypeFlags::MAYBE_NULL);
                    if let Err(e) = self.check_helper_mem(pc, st, regno, m, *size, false) {
                        return Err(invalid(self, e.message));
                    }
                }
                GlobalArg::Pointer { size: None, .. } => {
                    let detail = format!(
                        "arg#{i} reference type('UNKNOWN ') size cannot be determined: -22"
                    );
                    return Err(invalid(self, detail));
                }
                GlobalArg::Unsupported => {
                    let detail = format!("Arg#{i} type in {name}() is not supported yet.");
                    return Err(invalid(self, detail));
                }
            }
        }
        if self.logging() {
            self.log.push_str(&format!(
                "Func#{sub} ('{name}') is global and assumed valid.\n"
            ));
        }
        if let Some(c) = self.global_called.get_mut(gi) {
            *c = true;
        }
        let cur = st.cur_mut();
        for r in &mut cur.regs[1..=5] {
            *r = RegState::not_init();
        }
        cur.regs[0] = RegState::unknown_scalar();
        self.scratch_regs |= 0x3f;
        Ok(())
    }

    /// The kernel lists the subprograms (`func#N @start`) before its
    /// structural checks fail, unless a call target is itself invalid.
    fn log_subprogs_of_bad_cfg(&mut self) {
        let len = self.prog.len();
        let mut starts = vec![0usize];
        for (pc, insn) in self.prog.iter() {
            if let Insn::Call(CallTarget::Local(off)) = insn {
                let t = i64::try_from(pc)
                    .unwrap_or(i64::MAX)
                    .saturating_add(1)
                    .saturating_add(i64::from(*off));
                match usize::try_from(t) {
                    Ok(t) if t < len => starts.push(t),
                    _ => return,
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        for (i, start) in starts.iter().enumerate() {
            self.log.push_str(&format!("func#{i} @{start}\n"));
        }
    }

    /// Checks the kernel makes before walking (`resolve_pseudo_ldimm64`,
    /// `check_alu_op`'s immediate checks done early in `do_check` order
    /// don't matter for the verdict, so only the pre-walk ones).
    fn check_static(&self) -> Result<(), Refusal> {
        for (pc, insn) in self.prog.iter() {
            if let Insn::LdImm64 { imm, .. } = insn {
                let idx = match imm {
                    Imm64::MapIdx(i) => Some(*i),
                    Imm64::MapIdxValue { idx, .. } => Some(*idx),
                    _ => None,
                };
                if let Some(i) = idx.filter(|i| *i as usize >= self.maps.len()) {
                    return Err(refuse(EINVAL, pc, format!("fd_idx {i} is out of bounds")));
                }
                if let Imm64::MapIdxValue { idx, off } = imm {
                    self.check_direct_value(pc, *idx, *off)?;
                }
                let locked = idx
                    .and_then(|i| self.maps.get(i as usize))
                    .is_some_and(|m| m.spin_lock_off.is_some());
                if locked && let Some(why) = self.env.spin_lock_refusal() {
                    return Err(refuse(EINVAL, pc, why));
                }
            }
        }
        Ok(())
    }

    /// `check_abnormal_return`: without BTF function records, a function
    /// other than the entry may not end the program early (`LD_ABS`,
    /// `LD_IND`, `bpf_tail_call`).
    fn check_abnormal_return(&self) -> Result<(), Refusal> {
        if self.func_info {
            return Ok(());
        }
        // Per function: (first LD_ABS/LD_IND, first tail call).
        let mut found: Vec<(Option<usize>, Option<usize>)> =
            vec![(None, None); self.subprog_starts.len()];
        for (pc, insn) in self.prog.iter() {
            let Some(f) = found.get_mut(self.subprog_index(pc)) else {
                continue;
            };
            match insn {
                Insn::LdAbs { .. } | Insn::LdInd { .. } => f.0 = f.0.or(Some(pc)),
                Insn::Call(CallTarget::Helper(HELPER_TAIL_CALL)) => f.1 = f.1.or(Some(pc)),
                _ => {}
            }
        }
        for (ld_abs, tail_call) in found.into_iter().skip(1) {
            if let Some(pc) = ld_abs {
                return Err(refuse(
                    EINVAL,
                    pc,
                    "LD_ABS is not allowed in subprogs without BTF",
                ));
            }
            if let Some(pc) = tail_call {
                return Err(refuse(
                    EINVAL,
                    pc,
                    "tail_call is not allowed in subprogs without BTF",
                ));
            }
        }
        Ok(())
    }

    /// `check_ptr_alignment` when alignment is strict (load-acquire,
    /// store-release): the address, its variable part included, a multiple
    /// of the size. The stack checks its own (always strict) alignment.
    fn strict_alignment(pc: usize, base: &RegState, off: i16, size: Size) -> Result<(), Refusal> {
        let n = size.bytes();
        if n == 1 || base.ty == RegType::Stack || !base.ty.is_pointer() {
            return Ok(());
        }
        let fixed = i64::from(base.off).wrapping_add(i64::from(off));
        let tn = base.var.var_off;
        let desc = match base.ty {
            // `NET_IP_ALIGN` (2) counts for packets.
            RegType::Packet | RegType::PacketMeta => {
                if tn
                    .add(Tnum::constant(fixed.wrapping_add(2) as u64))
                    .is_aligned(u64::from(n))
                {
                    return Ok(());
                }
                return Err(refuse(
                    EACCES,
                    pc,
                    format!(
                        "misaligned packet access off 2+{tn}+{}+{off} size {n}",
                        base.off
                    ),
                ));
            }
            RegType::MapValue => "value ",
            RegType::MapKey => "key ",
            RegType::FlowKeys => "flow keys ",
            RegType::Ctx => "context ",
            RegType::Socket => "sock ",
            RegType::SockCommon => "sock_common ",
            RegType::TcpSock => "tcp_sock ",
            _ => "",
        };
        if tn
            .add(Tnum::constant(fixed as u64))
            .is_aligned(u64::from(n))
        {
            return Ok(());
        }
        Err(refuse(
            EACCES,
            pc,
            format!(
                "misaligned {desc}access off {tn}+{}+{off} size {n}",
                base.off
            ),
        ))
    }

    /// `ld_imm64` of a map value's address (`BPF_PSEUDO_MAP_VALUE`), as
    /// `resolve_pseudo_ldimm64` and `map_direct_value_addr` check it:
    /// arrays of one element only, inside the value.
    fn check_direct_value(&self, pc: usize, idx: u32, off: u32) -> Result<(), Refusal> {
        /// `BPF_MAX_VAR_OFF`.
        const MAX_VAR_OFF: u32 = 1 << 29;
        if off >= MAX_VAR_OFF {
            return Err(refuse(
                EINVAL,
                pc,
                format!("direct value offset of {off} is not allowed"),
            ));
        }
        let Some(m) = self.maps.get(idx as usize) else {
            return Ok(());
        };
        // BPF_MAP_TYPE_ARRAY has `map_direct_value_addr`.
        if m.map_type != 2 {
            return Err(refuse(
                EINVAL,
                pc,
                "no direct value access support for this map type",
            ));
        }
        let message = format!(
            "invalid access to map value pointer, value_size={} off={off}",
            m.value_size
        );
        if m.max_entries != 1 {
            return Err(refuse("ENOTSUPP", pc, message));
        }
        if off >= m.value_size {
            return Err(refuse(EINVAL, pc, message));
        }
        Ok(())
    }

    fn new_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    fn subprog_index(&self, slot: usize) -> usize {
        self.subprog_starts
            .iter()
            .rposition(|s| *s <= slot)
            .unwrap_or(0)
    }

    /// Queue the other successor of a jump: it holds a branch of the
    /// current path's checkpoint.
    fn fork(
        &mut self,
        pending: &mut Vec<Pending>,
        to: usize,
        state: VerifierState,
        from: usize,
    ) -> Result<(), Refusal> {
        if let Some(c) = state.parent.and_then(|p| self.checkpoints.get_mut(p)) {
            c.branches = c.branches.saturating_add(1);
        }
        pending.push((to, state, Some(from), self.log.len()));
        // `push_stack`: at most this many paths wait to be walked.
        if pending.len() > BPF_COMPLEXITY_LIMIT_JMP_SEQ {
            let message = format!("The sequence of {} jumps is too complex.", pending.len());
            return Err(refuse(E2BIG, from, message));
        }
        Ok(())
    }

    /// Record that the instruction at `pc` of `st` reads (`write` false) or
    /// writes whole (`write` true) the stack bytes `[lo, hi)` of frame
    /// `frame`. Only the outermost frame's are kept: a read by a callee
    /// counts at the call that leads to it (`bpf_mark_stack_read`).
    fn mark_stack(
        &mut self,
        pc: usize,
        st: &VerifierState,
        frame: usize,
        lo: i64,
        hi: i64,
        write: bool,
    ) {
        // The instruction of that frame's function that is running: `pc`
        // for the innermost frame, else the call it made (a callee's or a
        // callback's access to its caller's stack counts there).
        let at = if frame.saturating_add(1) >= st.frames.len() {
            pc
        } else {
            match st
                .frames
                .get(frame.saturating_add(1))
                .and_then(|f| f.callsite)
            {
                Some(call) => call,
                None => return,
            }
        };
        let mask = stack_slot_mask(lo, hi, write);
        if write {
            // A write only counts for the callee's own instruction. A first
            // record only shrinks what is live (the liveness computed before
            // stays sound, only larger); a smaller record (the
            // intersection) may grow it.
            let mask = if at == pc { mask } else { 0 };
            if let Some(w) = self.stack_must_write.get_mut(at) {
                match *w {
                    Some(old) if old & mask != old => {
                        *w = Some(old & mask);
                        self.stack_dirty = true;
                    }
                    Some(_) => {}
                    None => {
                        *w = Some(mask);
                        self.stack_fresh_writes = true;
                    }
                }
            }
        } else if let Some(r) = self.stack_may_read.get_mut(at)
            && *r | mask != *r
        {
            *r |= mask;
            self.stack_dirty = true;
        }
    }

    /// The outermost frame's stack slots live before `pc`
    /// (`bpf_stack_slot_alive`), recomputed when the marks changed: the
    /// textbook backward data flow, `live_before = may_read | (live_after
    /// & !must_write)`, within each function.
    fn stack_live_at(&mut self, pc: usize) -> u64 {
        // Redone when it may be too small, or (to prune as the kernel does)
        // when fresh writes came in at a state that will be kept.
        if self.stack_dirty || self.stack_fresh_writes || self.stack_live.len() != self.prog.len() {
            let insns = self.prog.insns();
            let mut live = vec![0u64; insns.len()];
            let mut changed = true;
            while changed {
                changed = false;
                for i in (0..insns.len()).rev() {
                    let Some(insn) = insns.get(i) else { continue };
                    let after = crate::liveness::successors_of(self.prog, i, insn)
                        .into_iter()
                        .flatten()
                        .fold(0u64, |m, s| m | live.get(s).copied().unwrap_or(0));
                    let write = self.stack_must_write.get(i).copied().flatten().unwrap_or(0);
                    let read = self.stack_may_read.get(i).copied().unwrap_or(0);
                    let before = read | (after & !write);
                    if let Some(l) = live.get_mut(i)
                        && *l != before
                    {
                        *l = before;
                        changed = true;
                    }
                }
            }
            self.stack_live = live;
            self.stack_dirty = false;
            self.stack_fresh_writes = false;
        }
        self.stack_live.get(pc).copied().unwrap_or(u64::MAX)
    }

    /// `check_packet_access`'s range check: `size` bytes at `start` from
    /// packet pointer `reg` (`R{regno}`) lie in the range proven against
    /// `data_end`, and its variable part is not negative.
    fn check_packet_range(
        &mut self,
        pc: usize,
        regno: impl core::fmt::Display,
        reg: &RegState,
        start: i64,
        size: i64,
    ) -> Result<(), Refusal> {
        if reg.var.smin_value < 0 {
            return Err(refuse(
                EACCES,
                pc,
                format!(
                    "R{regno} min value is negative, either use unsigned index or do a if (index >=0) check."
                ),
            ));
        }
        let end = start.saturating_add(size);
        if start < 0 || end > reg.range {
            self.log.push_str(&format!(
                "invalid access to packet, off={start} size={size}, R{regno}(id={},off={start},r={})\n",
                reg.id, reg.range
            ));
            return Err(refuse(
                EACCES,
                pc,
                format!("R{regno} offset is outside of the packet"),
            ));
        }
        Ok(())
    }

    /// `update_peak_states`: stored states, freed or not, and back-edge
    /// states.
    fn update_peak_states(&mut self) {
        let cur = self.live_states.saturating_add(self.backedges);
        self.stats.peak_states = self.stats.peak_states.max(cur);
    }

    /// The loop `st` at `pc` is in, with the call sites leading to it
    /// (`compute_scc_callchain`): the outermost frame whose current slot
    /// (its call, for a caller) is on a loop decides.
    fn scc_callchain(&self, pc: usize, st: &VerifierState) -> Option<(Vec<usize>, u32)> {
        let mut callsites = Vec::new();
        let last = st.frames.len().checked_sub(1)?;
        for i in 0..=last {
            let at = if i == last {
                pc
            } else {
                st.frames.get(i.saturating_add(1))?.callsite?
            };
            match self.scc.get(at).copied().unwrap_or(0) {
                0 if i < last => callsites.push(at),
                0 => return None,
                scc => return Some((callsites, scc)),
            }
        }
        None
    }

    /// A loop being walked gets its first state (`maybe_enter_scc`).
    fn maybe_enter_scc(&mut self, pc: usize, st: &VerifierState, idx: usize) {
        let Some((callsites, scc)) = self.scc_callchain(pc, st) else {
            return;
        };
        if self
            .scc_visits
            .iter()
            .any(|v| v.scc == scc && v.callsites == callsites)
        {
            return;
        }
        self.scc_log_line("enter", &callsites, scc);
        self.scc_visits.push(SccVisit {
            callsites,
            scc,
            entry: idx,
            backedges: 0,
        });
    }

    /// Checkpoint `idx` has no path left: if it entered a loop, the loop
    /// is left and its back-edge states freed (`maybe_exit_scc`).
    fn maybe_exit_scc(&mut self, idx: usize) {
        let Some(i) = self.scc_visits.iter().position(|v| v.entry == idx) else {
            return;
        };
        let v = self.scc_visits.swap_remove(i);
        self.backedges = self.backedges.saturating_sub(v.backedges);
        self.scc_log_line("exit", &v.callsites, v.scc);
    }

    /// A path converged on a loop state still being walked
    /// (`add_scc_backedge`).
    fn add_scc_backedge(&mut self, pc: usize, st: &VerifierState) {
        let Some((callsites, scc)) = self.scc_callchain(pc, st) else {
            return;
        };
        if let Some(v) = self
            .scc_visits
            .iter_mut()
            .find(|v| v.scc == scc && v.callsites == callsites)
        {
            v.backedges = v.backedges.saturating_add(1);
            self.backedges = self.backedges.saturating_add(1);
            self.update_peak_states();
            self.scc_log_line("backedge", &callsites, scc);
        }
    }

    /// `SCC enter (5,1)` at level 2: the loop, after the call sites that
    /// lead to it (`format_callchain`). The next state delta is not
    /// appended to the instruction before it.
    fn scc_log_line(&mut self, what: &str, callsites: &[usize], scc: u32) {
        if self.level & LOG_LEVEL2 != 0 {
            let mut chain = String::new();
            for c in callsites {
                chain.push_str(&format!("{c},"));
            }
            self.log.push_str(&format!("SCC {what} ({chain}{scc})\n"));
            self.prev_log_pos = 0;
        }
    }

    /// A path ended (`exit` of the main program, or pruned):
    /// `update_branch_counts` up the checkpoint chain.
    fn path_done(&mut self, mut parent: Option<usize>) {
        while let Some(p) = parent {
            let Some(c) = self.checkpoints.get_mut(p) else {
                return;
            };
            c.branches = c.branches.saturating_sub(1);
            if c.branches > 0 {
                return;
            }
            if c.evicted {
                self.live_states = self.live_states.saturating_sub(1);
            }
            parent = c.state.parent;
            self.maybe_exit_scc(p);
        }
    }

    /// `mark_chain_precision`: the scalars in `regs` and `slots` (of the
    /// only frame) decided something: walking the instruction history back
    /// through every checkpoint of this path, mark what they were computed
    /// from precise in each checkpoint. Where the walk cannot follow,
    /// every scalar of the path is marked (sound, prunes less).
    ///
    /// `current`: called while walking the last instruction of the history
    /// (a decision it makes), whose own entry is then skipped.
    fn mark_precise(&mut self, st: &mut VerifierState, regs: u16, slots: u64, current: bool) {
        let frame = st.frames.len().saturating_sub(1);
        let mut d = Demand {
            frame,
            ..Demand::default()
        };
        if let (Some(r), Some(s)) = (d.regs.get_mut(frame), d.slots.get_mut(frame)) {
            *r = regs;
            *s = slots;
        }
        self.mark_precise_demand(st, d, current);
    }

    /// [`Walker::mark_precise`] for a demand in several frames (the
    /// innermost is `d.frame`): `__mark_chain_precision` with the kernel's
    /// `backtrack_state`, following values across bpf-to-bpf calls and
    /// returns.
    fn mark_precise_demand(&mut self, st: &mut VerifierState, mut d: Demand, current: bool) {
        if d.is_empty() {
            return;
        }
        // The current state is not marked: only stored states are
        // compared against, and the walk below reaches every one this
        // path descends from (as the kernel's `__mark_chain_precision`).
        let trace = self.level & LOG_LEVEL2 != 0;
        let len = st.history.len();
        let hist = if current {
            &st.history[..len.saturating_sub(1)]
        } else {
            &st.history[..]
        };
        let mut first = st.history.first().map_or(0, |h| h.0);
        if trace {
            let last = st.history.last().map_or(0, |h| h.0);
            self.log.push_str(&format!(
                "mark_precise: frame{}: last_idx {last} first_idx {first} subseq_idx -1 \n",
                d.frame
            ));
        }
        let prog = self.prog;
        let log = if trace { Some(&mut self.log) } else { None };
        // The instruction being walked is the history's last one.
        let later = if current {
            st.history.last().map(|h| h.0)
        } else {
            None
        };
        if !backtrack(prog, hist, &mut d, later, log) {
            return self.mark_all_precise(st);
        }
        let mut parent = st.parent;
        while let Some(p) = parent {
            if d.is_empty() {
                return;
            }
            let Some(c) = self.checkpoints.get_mut(p) else {
                return;
            };
            // The walk stands where the parent state stood: in its
            // innermost frame.
            if d.frame.saturating_add(1) != c.state.frames.len() {
                return self.mark_all_precise(st);
            }
            for fr in (0..=d.frame).rev() {
                let (Some(r), Some(sl)) = (d.regs.get_mut(fr), d.slots.get_mut(fr)) else {
                    continue;
                };
                set_precise(&mut c.state, fr, r, sl);
                if trace {
                    let shown = c
                        .state
                        .frames
                        .get(fr)
                        .map(|f| f.display(self.maps).to_string())
                        .unwrap_or_default();
                    self.log.push_str(&format!(
                        "mark_precise: frame{fr}: parent state regs={} stack={}: {shown}\n",
                        reg_mask_text(*r),
                        stack_mask_text(*sl)
                    ));
                }
            }
            if d.is_empty() {
                return;
            }
            let later = first;
            let last = c.state.history.last().map_or(0, |h| h.0);
            let parent_first = c.state.history.first().map_or(0, |h| h.0);
            if trace {
                self.log.push_str(&format!(
                    "mark_precise: frame{}: last_idx {last} first_idx {parent_first} subseq_idx {first} \n",
                    d.frame
                ));
            }
            first = parent_first;
            let log = if trace { Some(&mut self.log) } else { None };
            let ok = backtrack(prog, &c.state.history, &mut d, Some(later), log);
            parent = c.state.parent;
            if !ok {
                return self.mark_all_precise(st);
            }
        }
    }

    /// Every scalar of `st` and of every checkpoint it descends from
    /// becomes precise.
    fn mark_all_precise(&mut self, st: &mut VerifierState) {
        let all = |s: &mut VerifierState| {
            s.for_each_reg(|r| {
                if r.ty == RegType::Scalar {
                    r.precise = true;
                }
            });
        };
        if self.level & LOG_LEVEL2 != 0 {
            self.log.push_str(&format!(
                "mark_precise: frame{}: falling back to forcing all scalars precise\n",
                st.frames.len().saturating_sub(1)
            ));
        }
        // Not the current state itself (see `mark_precise`).
        let mut parent = st.parent;
        while let Some(p) = parent {
            let Some(c) = self.checkpoints.get_mut(p) else {
                return;
            };
            // Its ancestors were all marked when it was.
            if c.all_precise {
                return;
            }
            c.all_precise = true;
            all(&mut c.state);
            parent = c.state.parent;
        }
    }

    /// Mark register `r` of the innermost frame precise (a decision
    /// depended on it).
    fn precise_reg(&mut self, st: &mut VerifierState, r: Reg) {
        if st.reg(r).ty == RegType::Scalar {
            self.mark_precise(st, 1 << r.num(), 0, true);
        }
    }

    /// `is_state_visited`: prune the path when a finished checkpoint at
    /// `pc` covers it, refuse an infinite loop when an unfinished one on
    /// this path equals it, and store a new checkpoint when the kernel's
    /// heuristic says so.
    ///
    /// `callback_call`: `pc` calls a helper that calls back; a state that
    /// comes back to it from a callback iteration is pruned when the one
    /// stored before the iteration covers it (`RANGE_WITHIN`): the
    /// iterations have converged.
    fn is_state_visited(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        callback_call: bool,
    ) -> Result<Visited, Refusal> {
        // Copied out: the loop below may drop ids from the list.
        let ids: smallvec::SmallVec<[usize; 16]> = self
            .at
            .get(pc)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default();
        let states_cnt = ids.len() as u64;
        let at_may_goto = matches!(self.prog.insns().get(pc), Some(Insn::MayGoto { .. }));
        // Each frame's stack slots a finished state's paths may still read
        // from here: the others are not compared. Worked out when a
        // finished state is first compared with.
        let mut stack_live: Option<smallvec::SmallVec<[u64; 8]>> = None;
        // The loop `pc` is in is being walked and has back-edge states
        // (their precision is not propagated yet).
        let loop_incomplete = self.scc_callchain(pc, st).is_some_and(|(callsites, scc)| {
            self.scc_visits
                .iter()
                .any(|v| v.scc == scc && v.callsites == callsites && v.backedges > 0)
        });
        let force = callback_call || self.prune.get(pc).is_some_and(|m| m.is_force_checkpoint());
        // Store a state only every 2 jumps and 8 instructions, unless
        // forced.
        let mut add = force
            || (self.jmps_processed.saturating_sub(self.prev_jmps) >= 2
                && self.stats.insns_processed.saturating_sub(self.prev_insns) >= 8);
        for id in ids {
            if stack_live.is_none() && self.checkpoints.get(id).is_some_and(|c| c.branches == 0) {
                let last = st.frames.len().saturating_sub(1);
                let ats: smallvec::SmallVec<[Option<usize>; 8]> = (0..=last)
                    .map(|f| {
                        if f == last {
                            Some(pc)
                        } else {
                            st.frames.get(f.saturating_add(1)).and_then(|x| x.callsite)
                        }
                    })
                    .collect();
                stack_live = Some(
                    ats.iter()
                        .map(|at| at.map_or(u64::MAX, |a| self.stack_live_at(a)))
                        .collect(),
                );
            }
            let Some(c) = self.checkpoints.get(id) else {
                continue;
            };
            // A finished state covers this one; at a callback call, so
            // does the one stored before this iteration.
            // At a `may_goto`, a state of an earlier iteration (another
            // depth) that covers this one ends the loop: the iterations
            // have converged.
            let may_goto_hit = at_may_goto
                && c.branches > 0
                && c.state.may_goto_depth != st.may_goto_depth
                && states_equal(&c.state, st, true, &self.live, pc);
            let covers = if c.branches == 0 {
                // A finished state inside a loop still being walked has not
                // got all its precision marks yet: its scalars are compared
                // by range (`incomplete_read_marks`, `RANGE_WITHIN`).
                states_equal_live(
                    &c.state,
                    st,
                    &self.live,
                    pc,
                    stack_live.as_deref(),
                    loop_incomplete,
                )
            } else {
                may_goto_hit || callback_call && states_equal(&c.state, st, true, &self.live, pc)
            };
            let old_branches = c.branches;
            if c.branches == 0 || callback_call || may_goto_hit {
                if covers {
                    // A loop converged on a state still being walked: the
                    // loop keeps a copy of this one (`add_scc_backedge`).
                    // What the old state's safety rested on, this path now
                    // rests on too (`propagate_precision`).
                    let demand = precise_demand(&c.state);
                    if self.level & LOG_LEVEL2 != 0 {
                        let text = propagating_text(&c.state);
                        self.log.push_str(&text);
                    }
                    if old_branches > 0 || loop_incomplete {
                        self.add_scc_backedge(pc, st);
                    }
                    if let Some(c) = self.checkpoints.get_mut(id) {
                        c.hits = c.hits.saturating_add(1);
                    }
                    self.mark_precise_demand(st, demand, false);
                    return Ok(Visited::Prune);
                }
            } else if self.is_ancestor(id, st.parent)
                && c.state.callback_unroll_depth == st.callback_unroll_depth
                && c.state.may_goto_depth == st.may_goto_depth
                && states_maybe_looping(&c.state, st)
                && states_equal(&c.state, st, true, &self.live, pc)
            {
                let cur = st.cur().display(self.maps).to_string();
                let old = c.state.cur().display(self.maps).to_string();
                self.log
                    .push_str(&format!("infinite loop detected at insn {pc}\n"));
                self.log
                    .push_str(&format!("cur state:{cur}\nold state:{old}\n"));
                return Err(refuse(
                    EINVAL,
                    pc,
                    format!("infinite loop detected at insn {pc}"),
                ));
            }
            let Some(c) = self.checkpoints.get_mut(id) else {
                continue;
            };
            // Inside a loop, distinct iterations rarely prune each other:
            // store a state only every 20 jumps or 100 instructions.
            if c.branches > 0
                && !force
                && self.jmps_processed.saturating_sub(self.prev_jmps) < 20
                && self.stats.insns_processed.saturating_sub(self.prev_insns) < 100
            {
                add = false;
            }
            // A miss, counted only when a state is added, so that loop
            // iterations do not evict the states of earlier ones. States
            // that keep missing are dropped from the list (the kernel's
            // `miss_cnt > hit_cnt * n + n`).
            if add {
                c.misses = c.misses.saturating_add(1);
            }
            let n = if force && c.branches > 0 { 64 } else { 3 };
            if c.misses > c.hits.saturating_mul(n).saturating_add(n)
                && let Some(list) = self.at.get_mut(pc)
            {
                list.retain(|x| *x != id);
                // Dropped from the list: freed now if no path is below it,
                // else once its last path ends (`maybe_free_verifier_state`).
                if c.branches == 0 {
                    self.live_states = self.live_states.saturating_sub(1);
                } else {
                    c.evicted = true;
                }
            }
        }
        // The states compared with, pruning none (`states_cnt`).
        self.stats.max_states_per_insn = self.stats.max_states_per_insn.max(states_cnt);
        if add {
            self.prev_jmps = self.jmps_processed;
            self.prev_insns = self.stats.insns_processed;
            let idx = self.checkpoints.len();
            // The checkpoint keeps the history walked since the last one
            // (backtracking reads it); this path starts a new one.
            let mut state = st.clone_without_history();
            state.history = std::mem::replace(&mut st.history, Vec::with_capacity(32));
            self.checkpoints.push(Checkpoint {
                state,
                branches: 1,
                hits: 0,
                misses: 0,
                all_precise: false,
                evicted: false,
            });
            if let Some(list) = self.at.get_mut(pc) {
                list.push(idx);
            }
            st.parent = Some(idx);
            self.stats.total_states = self.stats.total_states.saturating_add(1);
            self.live_states = self.live_states.saturating_add(1);
            self.update_peak_states();
            self.maybe_enter_scc(pc, st, idx);
        }
        Ok(Visited::Continue)
    }

    /// Whether checkpoint `id` is `parent` or one of its ancestors.
    fn is_ancestor(&self, id: usize, mut parent: Option<usize>) -> bool {
        while let Some(p) = parent {
            if p == id {
                return true;
            }
            parent = self.checkpoints.get(p).and_then(|c| c.state.parent);
        }
        false
    }

    /// Whether anything is logged (level 1 or 2).
    fn logging(&self) -> bool {
        self.level & (LOG_LEVEL1 | LOG_LEVEL2) != 0
    }

    /// Everything of the current frame is to be printed before the next
    /// instruction (`mark_verifier_state_scratched`).
    fn scratch_all(&mut self) {
        self.scratch_regs = u16::MAX;
        self.scratch_slots = u64::MAX;
    }

    /// The stack bytes `[lo, hi)` (offsets from the frame's `r10`) were
    /// accessed (`mark_stack_slot_scratched`).
    fn scratch_stack(&mut self, lo: i64, hi: i64) {
        let mut a = lo;
        while a < hi {
            if let Ok(off) = i32::try_from(a) {
                let (spi, _) = slot_of(off);
                if spi < 64 {
                    self.scratch_slots |= 1 << spi;
                }
            }
            a = a.saturating_add(1);
        }
    }

    /// The current frame in full, or only what was scratched, then the
    /// references, ending the line (`print_verifier_state`).
    fn print_state(&mut self, st: &VerifierState, all: bool) {
        let d = st.cur().display(self.maps);
        let d = if all {
            d
        } else {
            d.only(self.scratch_regs, self.scratch_slots)
        };
        let mut line = d.to_string();
        // A held spin lock is a reference too (`REF_TYPE_LOCK`), taken after
        // any other (no helper may be called while it is held).
        let lock = st.lock.map(|(_, id)| id);
        for (i, id) in st.refs.iter().map(|(id, _)| *id).chain(lock).enumerate() {
            line.push_str(&format!("{}{id}", if i == 0 { " refs=" } else { "," }));
        }
        self.log.push_str(&line);
        self.log.push('\n');
        if !all {
            self.scratch_regs = 0;
            self.scratch_slots = 0;
        }
    }

    /// Frame `i` of `st` in full, on a line of its own (the `caller:`,
    /// `callee:` and return lines).
    fn print_frame(&mut self, st: &VerifierState, i: usize) {
        if let Some(f) = st.frames.get(i) {
            let line = f.display(self.maps).to_string();
            self.log.push_str(&line);
            self.log.push('\n');
        }
    }

    /// What changed since the last instruction line: on that line, after
    /// the kernel's padding, when nothing came between; else on a line of
    /// its own headed `pc:` (`print_insn_state`).
    fn print_insn_state(&mut self, pc: usize, st: &VerifierState) {
        if self.prev_log_pos != 0 && self.prev_log_pos == self.log.len() {
            self.log.pop();
            let pos = self.prev_insn_print_pos;
            // `vlog_alignment`: the `;` column is a multiple of 8, at least
            // 40 and at least 4 past the instruction's text.
            let col = pos.saturating_add(4).max(40).next_multiple_of(8);
            let width = col.saturating_sub(pos).saturating_sub(1);
            self.log.push_str(&" ".repeat(width));
            self.log.push(';');
        } else {
            self.log.push_str(&format!("{pc}:"));
        }
        self.print_state(st, false);
    }

    /// Walk one path from `pc` until it ends; `from`: the jump it branched
    /// from, for the log's `from A to B:` line.
    fn walk(
        &mut self,
        mut pc: usize,
        mut st: VerifierState,
        pending: &mut Vec<Pending>,
        from: Option<usize>,
    ) -> Result<(), Refusal> {
        // A path starts with its whole state to print.
        self.scratch_all();
        let mut print_from = from;
        let logging = self.logging();
        loop {
            self.stats.insns_processed = self.stats.insns_processed.saturating_add(1);
            if self.stats.insns_processed > INSN_LIMIT {
                return Err(refuse(
                    E2BIG,
                    pc,
                    format!(
                        "BPF program is too large. Processed {} insn",
                        self.stats.insns_processed
                    ),
                ));
            }
            // As in the kernel, the instruction is counted before the
            // state is compared.
            let at_callback_call = self.prog.insns().get(pc).is_some_and(calls_callback);
            if at_callback_call || self.prune.get(pc).is_some_and(|m| m.is_prune_point()) {
                match self.is_state_visited(pc, &mut st, at_callback_call)? {
                    Visited::Prune => {
                        if logging {
                            match print_from {
                                Some(from) => {
                                    self.log.push_str(&format!("\nfrom {from} to {pc}: safe\n"))
                                }
                                None => self.log.push_str(&format!("{pc}: safe\n")),
                            }
                        }
                        self.path_done(st.parent);
                        return Ok(());
                    }
                    Visited::Continue => {}
                }
            }
            let Some(insn) = self.prog.insns().get(pc).copied() else {
                return Err(refuse(EINVAL, pc, format!("invalid insn idx {pc}")));
            };
            if logging {
                if let Some(from) = print_from.take()
                    && self.level & LOG_LEVEL2 != 0
                {
                    self.log.push_str(&format!("\nfrom {from} to {pc}:"));
                    self.print_state(&st, true);
                }
                if self.scratch_regs != 0 || self.scratch_slots != 0 {
                    self.print_insn_state(pc, &st);
                }
                // The source line, when the record changes (`verbose_linfo`).
                let rec = self.line_info.partition_point(|(slot, _)| *slot <= pc);
                if let Some(i) = rec.checked_sub(1)
                    && self.prev_linfo != Some(i)
                    && let Some((_, text)) = self.line_info.get(i)
                {
                    // Another record of the same line (another column) is
                    // not printed again.
                    let same_line = self
                        .prev_linfo
                        .and_then(|p| self.line_info.get(p))
                        .is_some_and(|(_, prev)| prev == text);
                    if !same_line {
                        self.log.push_str(&format!("; {text}\n"));
                        self.prev_linfo = Some(i);
                    }
                }
                let start = self.log.len();
                self.log
                    .push_str(&format!("{pc}: {}\n", log_insn_text(&insn)));
                self.prev_insn_print_pos = self.log.len().saturating_sub(start);
                self.prev_log_pos = self.log.len();
            }
            print_from = None;
            if matches!(
                insn,
                Insn::Ja { .. }
                    | Insn::Gotol { .. }
                    | Insn::Jump { .. }
                    | Insn::Call(_)
                    | Insn::Exit
            ) {
                self.jmps_processed = self.jmps_processed.saturating_add(1);
            }
            let aux = hist_of(&insn, &st);
            st.history.push((pc, aux));
            let depth = st.frames.len();
            let next = self.step(pc, &insn, &mut st, pending)?;
            self.scratch_regs |= scratched_regs(&insn);
            // A conditional jump prints what it refined at once, on its own
            // line (`check_cond_jmp_op`).
            if logging && matches!(insn, Insn::Jump { .. }) {
                self.print_insn_state(pc, &st);
            }
            match next {
                Next::Fall => {
                    let len = if matches!(insn, Insn::LdImm64 { .. }) {
                        2
                    } else {
                        1
                    };
                    pc = pc.saturating_add(len);
                }
                Next::Jump(t) => {
                    if st.frames.len() < depth {
                        // Back in the caller (`prepare_func_exit`).
                        print_from = Some(pc);
                        self.scratch_regs = 0;
                        self.scratch_slots = 0;
                    } else if st.frames.len() > depth {
                        self.scratch_all();
                    }
                    pc = t;
                }
                Next::Done => {
                    self.path_done(st.parent);
                    return Ok(());
                }
            }
        }
    }

    fn read(&self, st: &VerifierState, pc: usize, r: Reg) -> Result<RegState, Refusal> {
        let reg = *st.reg(r);
        if reg.ty == RegType::NotInit {
            return Err(refuse(EACCES, pc, format!("R{} !read_ok", r.num())));
        }
        Ok(reg)
    }

    fn check_write(pc: usize, r: Reg) -> Result<(), Refusal> {
        if r.num() == 10 {
            return Err(refuse(EACCES, pc, "frame pointer is read only"));
        }
        Ok(())
    }

    fn step(
        &mut self,
        pc: usize,
        insn: &Insn,
        st: &mut VerifierState,
        pending: &mut Vec<Pending>,
    ) -> Result<Next, Refusal> {
        match *insn {
            Insn::Alu {
                op,
                width,
                dst,
                src,
            } => self.alu(pc, st, op, width, dst, src)?,
            Insn::Neg { width, dst } => {
                let mut d = self.read(st, pc, dst)?;
                Self::check_write(pc, dst)?;
                if d.ty != RegType::Scalar {
                    // A loader that may leak pointers gets a number.
                    if !self.unpriv {
                        *st.reg_mut(dst) = RegState::unknown_scalar();
                        return Ok(Next::Fall);
                    }
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("R{} pointer arithmetic prohibited", dst.num()),
                    ));
                }
                d.var.neg(width);
                d.id = 0;
                d.off = 0;
                *st.reg_mut(dst) = d;
            }
            Insn::MovSx {
                width,
                dst,
                src,
                bits,
            } => {
                let s = self.read(st, pc, src)?;
                Self::check_write(pc, dst)?;
                if s.ty != RegType::Scalar {
                    // A loader that may leak pointers gets a number.
                    if !self.unpriv {
                        *st.reg_mut(dst) = RegState::unknown_scalar();
                        return Ok(Next::Fall);
                    }
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("R{} sign-extension part of pointer", src.num()),
                    ));
                }
                let mut d = RegState::unknown_scalar();
                d.var.movsx(width, &s.var, bits);
                *st.reg_mut(dst) = d;
            }
            Insn::Endian { dst, order, bits } => {
                let mut d = self.read(st, pc, dst)?;
                Self::check_write(pc, dst)?;
                if d.ty != RegType::Scalar {
                    if !self.unpriv {
                        *st.reg_mut(dst) = RegState::unknown_scalar();
                        return Ok(Next::Fall);
                    }
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("R{} pointer arithmetic prohibited", dst.num()),
                    ));
                }
                let mut x = RegState::unknown_scalar();
                if d.var.var_off.is_const() {
                    // The kernel computes a known swap exactly.
                    x = RegState::known_scalar(swap_const(insn, d.var.var_off.value));
                } else {
                    d.var.endian(order, bits);
                    x.var = d.var;
                }
                *st.reg_mut(dst) = x;
            }
            Insn::LdImm64 { dst, imm } => {
                Self::check_write(pc, dst)?;
                let r = match imm {
                    Imm64::Imm(v) => RegState::known_scalar(v),
                    Imm64::MapIdx(i) => {
                        let mut r = RegState::pointer(RegType::ConstMapPtr);
                        r.map = Some(i);
                        r
                    }
                    Imm64::MapIdxValue { idx, off } => {
                        let mut r = RegState::pointer(RegType::MapValue);
                        r.map = Some(idx);
                        r.off = off as i32;
                        r
                    }
                    Imm64::Func(off) => {
                        if !self.func_info {
                            return Err(refuse(EINVAL, pc, "missing btf func_info"));
                        }
                        let mut r = RegState::pointer(RegType::Func);
                        r.mem_size = u32::try_from(target(pc, off)).unwrap_or(u32::MAX);
                        r
                    }
                    _ => {
                        return Err(refuse(EINVAL, pc, "unsupported ld_imm64 source"));
                    }
                };
                *st.reg_mut(dst) = r;
            }
            Insn::LdAbs { size, .. } | Insn::LdInd { size, .. } => {
                self.ld_abs(pc, st, insn, size)?;
            }
            Insn::LdImm64Tail => {
                return Err(refuse(
                    EINVAL,
                    pc,
                    format!("jump into the middle of ldimm64 insn {pc}"),
                ));
            }
            Insn::Load {
                size,
                dst,
                src,
                off,
            }
            | Insn::LoadSx {
                size,
                dst,
                src,
                off,
            } => {
                let base = self.read(st, pc, src)?;
                Self::check_write(pc, dst)?;
                let v = self.mem_access(pc, st, src, base, off, size, Access::Read)?;
                let mut v = v.unwrap_or_else(RegState::unknown_scalar);
                // A narrow load zero- (or sign-) extends whatever it read
                // (the end of `check_mem_access`).
                if v.ty == RegType::Scalar && size.bytes() < 8 {
                    if matches!(insn, Insn::LoadSx { .. }) {
                        v.var.coerce_reg_to_size_sx(size.bytes());
                    } else {
                        v.var.coerce_reg_to_size(size.bytes());
                    }
                }
                *st.reg_mut(dst) = v;
            }
            Insn::Store {
                size,
                dst,
                off,
                src,
            } => {
                // `check_store_reg`: the value register first.
                let value = match src {
                    Operand::Reg(r) => self.read(st, pc, r)?,
                    Operand::Imm(i) => RegState::known_scalar(i64::from(i) as u64),
                };
                let base = self.read(st, pc, dst)?;
                let imm = matches!(src, Operand::Imm(_));
                if self.unpriv
                    && value.ty.is_pointer()
                    && let Operand::Reg(r) = src
                {
                    // Only the stack may hold pointers
                    // (`check_mem_access`'s "leaks addr").
                    let into = match base.ty {
                        RegType::MapValue => Some("map"),
                        RegType::Ctx => Some("ctx"),
                        RegType::Packet | RegType::PacketMeta => Some("packet"),
                        RegType::Mem => Some("mem"),
                        _ => None,
                    };
                    if let Some(into) = into {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!("R{} leaks addr into {into}", r.num()),
                        ));
                    }
                }
                // A scalar spilled whole (or narrowly, when it fits) stays
                // linked to its register (`assign_scalar_id_before_mov`).
                let mut value = value;
                let at = i64::from(base.off).saturating_add(i64::from(off));
                let to_stack = base.ty == RegType::Stack && base.var.var_off.is_const();
                let aligned = to_stack && at.rem_euclid(REG_SIZE as i64) == 0;
                if let Operand::Reg(r) = src
                    && aligned
                    && !self.unpriv
                    && value.ty == RegType::Scalar
                    && value.id & ADD_CONST != 0
                {
                    // One `+= const` per link (`assign_scalar_id_before_mov`).
                    let x = st.reg_mut(r);
                    x.id = 0;
                    x.off = 0;
                    value.id = 0;
                    value.off = 0;
                }
                if let Operand::Reg(r) = src
                    && aligned
                    && !self.unpriv
                    && value.ty == RegType::Scalar
                    && value.id == 0
                    && !value.var.var_off.is_const()
                {
                    let bits = u32::from(size.bytes()).saturating_mul(8);
                    let fits = bits >= 64 || value.var.umax_value >> bits == 0;
                    if fits {
                        let id = self.new_id();
                        value.id = id;
                        st.reg_mut(r).id = id;
                    }
                }
                self.mem_access(pc, st, dst, base, off, size, Access::Write { value, imm })?;
                // A zero register stored as data (not spilled) made the
                // bytes `STACK_ZERO`: its value mattered.
                if let Operand::Reg(r) = src
                    && to_stack
                    && (!aligned || self.unpriv)
                    && is_known_zero(&value)
                {
                    self.precise_reg(st, r);
                }
            }
            Insn::Atomic {
                op,
                size,
                dst,
                src,
                off,
            } => {
                // `check_atomic_rmw`: src, dst, then r0 for cmpxchg.
                let value = self.read(st, pc, src)?;
                let base = self.read(st, pc, dst)?;
                if op == AtomicOp::Cmpxchg {
                    let r0 = self.read(st, pc, Reg::R0)?;
                    if self.unpriv && r0.ty.is_pointer() {
                        return Err(refuse(EACCES, pc, "R0 leaks addr into mem"));
                    }
                }
                if self.unpriv && value.ty.is_pointer() {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("R{} leaks addr into mem", src.num()),
                    ));
                }
                check_atomic_ptr(pc, dst, &base, "stores into")?;
                // The old value is first read as a number: a loader that
                // may not leak pointers cannot read a spilled pointer so
                // (`check_stack_read_fixed_off` with no destination).
                if self.unpriv && base.ty == RegType::Stack && base.var.var_off.is_const() {
                    let at = i64::from(base.off)
                        .saturating_add(i64::from(off))
                        .saturating_add(base.var.var_off.value as i64);
                    let in_frame =
                        (STACK_BOTTOM..0).contains(&at) && at.rem_euclid(REG_SIZE as i64) == 0;
                    let spilled_ptr = in_frame
                        && size == Size::DW
                        && st
                            .frames
                            .get(base.frameno as usize)
                            .and_then(|f| f.stack.get(slot_of(at as i32).0))
                            .is_some_and(|sl| {
                                sl.types == [SlotType::Spill; REG_SIZE]
                                    && sl.spilled.ty.is_pointer()
                            });
                    if spilled_ptr {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!("leaking pointer from stack off {at}"),
                        ));
                    }
                }
                let old = self.mem_access(pc, st, dst, base, off, size, Access::Read)?;
                self.mem_access(pc, st, dst, base, off, size, Access::Clobber)?;
                // A fetching operation loads the old value into `src`
                // (`r0` for cmpxchg).
                let load = match op {
                    AtomicOp::Cmpxchg => Some(Reg::R0),
                    AtomicOp::FetchAdd
                    | AtomicOp::FetchOr
                    | AtomicOp::FetchAnd
                    | AtomicOp::FetchXor
                    | AtomicOp::Xchg => Some(src),
                    AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => None,
                };
                if let Some(load) = load {
                    *st.reg_mut(load) = loaded(old, size);
                }
            }
            Insn::LoadAcquire {
                size,
                dst,
                src,
                off,
            } => {
                // The pointer type, then a load with strict alignment
                // (`check_atomic_load`).
                let base = self.read(st, pc, src)?;
                check_atomic_ptr(pc, src, &base, "loads from")?;
                Self::check_write(pc, dst)?;
                Self::strict_alignment(pc, &base, off, size)?;
                let v = self.mem_access(pc, st, src, base, off, size, Access::Read)?;
                *st.reg_mut(dst) = loaded(v, size);
            }
            Insn::StoreRelease {
                size,
                dst,
                src,
                off,
            } => {
                // The pointer type, then a register store with strict
                // alignment (`check_atomic_store`).
                self.read(st, pc, src)?;
                let base = self.read(st, pc, dst)?;
                check_atomic_ptr(pc, dst, &base, "stores into")?;
                Self::strict_alignment(pc, &base, off, size)?;
                let store = Insn::Store {
                    size,
                    dst,
                    off,
                    src: Operand::Reg(src),
                };
                self.step(pc, &store, st, pending)?;
            }
            Insn::Ja { off } => return Ok(Next::Jump(target(pc, i32::from(off)))),
            Insn::MayGoto { off } => return self.may_goto(pc, st, off, pending),
            Insn::Gotol { imm } => return Ok(Next::Jump(target(pc, imm))),
            Insn::Jump {
                cond,
                width,
                dst,
                src,
                off,
            } => {
                return self.cond_jump(pc, st, cond, width, dst, src, off, pending);
            }
            Insn::Call(CallTarget::Helper(id)) => self.helper_call(pc, st, id, pending)?,
            Insn::Call(CallTarget::Local(off)) => {
                let callee = target(pc, off);
                if let Some(gi) = self.global_funcs.iter().position(|g| g.start == callee) {
                    self.call_global(pc, st, gi)?;
                    return Ok(Next::Fall);
                }
                if st.frames.len() >= MAX_CALL_FRAMES {
                    return Err(refuse(
                        E2BIG,
                        pc,
                        format!(
                            "the call stack of {} frames is too deep",
                            st.frames.len().saturating_add(1)
                        ),
                    ));
                }
                let caller = st.cur().clone();
                let frameno = st.frames.len() as u32;
                let mut frame = FuncState::new(frameno, self.subprog_index(callee), Some(pc));
                frame.regs[1..=5].copy_from_slice(&caller.regs[1..=5]);
                // The caller's r0-r5 are clobbered by the call
                // (`clear_caller_saved_regs`); r0 comes back from the callee.
                for r in &mut st.cur_mut().regs[0..=5] {
                    *r = RegState::not_init();
                }
                st.frames.push(frame);
                if self.logging() {
                    self.log.push_str("caller:\n");
                    let caller = st.frames.len().saturating_sub(2);
                    self.print_frame(st, caller);
                    self.log.push_str("callee:\n");
                    self.print_frame(st, caller.saturating_add(1));
                }
                return Ok(Next::Jump(callee));
            }
            Insn::Exit => return self.exit(pc, st),
            _ => {
                return Err(refuse(
                    EINVAL,
                    pc,
                    format!("unsupported instruction {}", insn),
                ));
            }
        }
        Ok(Next::Fall)
    }

    fn alu(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        op: AluOp,
        width: Width,
        dst: Reg,
        src: Operand,
    ) -> Result<(), Refusal> {
        let s = match src {
            Operand::Reg(r) => self.read(st, pc, r)?,
            Operand::Imm(i) => {
                let v = if width == Width::W32 {
                    u64::from(i as u32)
                } else {
                    i64::from(i) as u64
                };
                if matches!(op, AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod) && i == 0 {
                    return Err(refuse(EINVAL, pc, "div by zero"));
                }
                if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) {
                    let bits = if width == Width::W32 { 32 } else { 64 };
                    if i < 0 || i >= bits {
                        return Err(refuse(EINVAL, pc, format!("invalid shift {i}")));
                    }
                }
                RegState::known_scalar(v)
            }
        };
        if op == AluOp::Mov {
            Self::check_write(pc, dst)?;
            let mut d = s;
            if width == Width::W32 {
                if s.ty != RegType::Scalar {
                    if self.unpriv
                        && let Operand::Reg(x) = src
                    {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!("R{} partial copy of pointer", x.num()),
                        ));
                    }
                    // A 32-bit move of a pointer leaks its low half: scalar.
                    d = RegState::unknown_scalar();
                    d.id = 0;
                } else if let Operand::Reg(r) = src {
                    // A value that fits in 32 bits is copied exactly: the
                    // registers stay linked (`assign_scalar_id_before_mov`).
                    if d.var.umax_value <= u64::from(u32::MAX) {
                        if d.id & ADD_CONST != 0 {
                            // One `+= const` per link: the source starts
                            // afresh.
                            let s = st.reg_mut(r);
                            s.id = 0;
                            s.off = 0;
                            d.id = 0;
                            d.off = 0;
                        }
                        if d.id == 0 && !d.var.var_off.is_const() {
                            let id = self.new_id();
                            d.id = id;
                            st.reg_mut(r).id = id;
                        }
                    } else {
                        d.id = 0;
                        d.off = 0;
                    }
                } else {
                    d.id = 0;
                    d.off = 0;
                }
                d.var.coerce_reg_to_size(4);
            } else if let Operand::Reg(r) = src
                && d.ty == RegType::Scalar
            {
                if d.id & ADD_CONST != 0 {
                    // One `+= const` per link: the source starts afresh.
                    let s = st.reg_mut(r);
                    s.id = 0;
                    s.off = 0;
                    d.id = 0;
                    d.off = 0;
                }
                if !d.var.var_off.is_const() && d.id == 0 {
                    // Linked scalars: both registers share an id.
                    let id = self.new_id();
                    d.id = id;
                    st.reg_mut(r).id = id;
                }
            }
            *st.reg_mut(dst) = d;
            return Ok(());
        }
        let d = self.read(st, pc, dst)?;
        Self::check_write(pc, dst)?;
        let name = alu_op_str(op);
        match (d.ty, s.ty) {
            (RegType::Scalar, RegType::Scalar) => {
                let mut out = d;
                out.var.alu(op, width, &s.var);
                // `r1 = r2; r1 += 5`: r1 stays linked to r2, 5 above it
                // (`BPF_ADD_CONST`), once.
                let (id, off) = add_const_link(&d, &s, op, width, self.unpriv);
                out.id = id;
                out.off = off;
                *st.reg_mut(dst) = out;
            }
            (dt, st_ty) if dt.is_pointer() || st_ty.is_pointer() => {
                // The scalar operand becomes part of a pointer: its value
                // matters from now on.
                if let Operand::Reg(x) = src
                    && s.ty == RegType::Scalar
                {
                    self.precise_reg(st, x);
                }
                if d.ty == RegType::Scalar {
                    self.precise_reg(st, dst);
                }
                let src_is_reg = matches!(src, Operand::Reg(_));
                let out = self.ptr_alu(pc, op, width, dst, d, s, name, src_is_reg)?;
                if self.unpriv {
                    self.sanitize(pc, dst, &out)?;
                }
                *st.reg_mut(dst) = out;
            }
            _ => unreachable_state(),
        }
        Ok(())
    }

    /// Spectre v1 rules for a loader without `CAP_BPF`, after the
    /// arithmetic (`sanitize_check_bounds`): the result must stay a fixed,
    /// in-bounds stack offset or inside the map value. (The operand rules,
    /// checked before the operator, are in `ptr_alu`.)
    fn sanitize(&mut self, pc: usize, dst: Reg, out: &RegState) -> Result<(), Refusal> {
        let r = dst.num();
        match out.ty {
            RegType::Stack => {
                let o = i64::from(out.off).saturating_add(out.var.var_off.value as i64);
                if !out.var.var_off.is_const() {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!(
                            "R{r} variable stack access prohibited for !root, var_off={} off={o}",
                            out.var.var_off
                        ),
                    ));
                }
                if !(STACK_BOTTOM..0).contains(&o) {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!(
                            "R{r} stack pointer arithmetic goes out of range, prohibited for !root; off={o}"
                        ),
                    ));
                }
            }
            RegType::MapValue => {
                let meta = out.map.and_then(|i| self.maps.get(i as usize)).copied();
                let vs = meta.map_or(0, |m| m.value_size);
                let fits = self.region_check(pc, r, out, 0, 1, i64::from(vs), |o| {
                    format!("invalid access to map value, value_size={vs} off={o} size=1")
                });
                if let Err(e) = fits {
                    self.log.push_str(&e.message);
                    self.log.push('\n');
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!(
                            "R{r} pointer arithmetic of map value goes out of range, prohibited for !root"
                        ),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    #[allow(clippy::too_many_arguments)]
    fn ptr_alu(
        &mut self,
        pc: usize,
        op: AluOp,
        width: Width,
        dst: Reg,
        d: RegState,
        s: RegState,
        name: &str,
        src_is_reg: bool,
    ) -> Result<RegState, Refusal> {
        let r = dst.num();
        // Two pointers (`adjust_reg_min_max_vals`): subtracting them gives
        // a number to a loader that may leak pointers.
        if d.ty.is_pointer() && s.ty.is_pointer() {
            if op == AluOp::Sub && !self.unpriv {
                return Ok(RegState::unknown_scalar());
            }
            return Err(refuse(
                EACCES,
                pc,
                format!("R{r} pointer {name} pointer prohibited"),
            ));
        }
        // Exactly one pointer (`adjust_ptr_min_max_vals`, in its order).
        let (ptr, off_reg) = if d.ty.is_pointer() { (d, s) } else { (s, d) };
        if width == Width::W32 {
            // A meaningless number, for a loader that may leak pointers.
            if op == AluOp::Sub && !self.unpriv {
                return Ok(RegState::unknown_scalar());
            }
            return Err(refuse(
                EACCES,
                pc,
                format!("R{r} 32-bit pointer arithmetic prohibited"),
            ));
        }
        if ptr.maybe_null() {
            return Err(refuse(
                EACCES,
                pc,
                format!(
                    "R{r} pointer arithmetic on {} prohibited, null-check it first",
                    ptr.type_str()
                ),
            ));
        }
        let known = off_reg.var.var_off.is_const();
        let allowed = match ptr.ty {
            RegType::Ctx
            | RegType::MapValue
            | RegType::MapKey
            | RegType::Stack
            | RegType::PacketMeta
            | RegType::Packet
            | RegType::Mem
            | RegType::Func => true,
            RegType::ConstMapPtr => known && off_reg.var.smin_value == 0 && op == AluOp::Add,
            RegType::FlowKeys => known,
            _ => false,
        };
        if !allowed {
            return Err(refuse(
                EACCES,
                pc,
                format!("R{r} pointer arithmetic on {} prohibited", ptr.type_str()),
            ));
        }
        let ty = ptr.type_str();
        check_reg_sane_offset(pc, &off_reg, &ty)?;
        check_reg_sane_offset(pc, &ptr, &ty)?;
        // Spectre v1 (`sanitize_ptr_alu`, before the operator is looked
        // at): a register offset must have one sign, on a pointer whose
        // limits are known.
        if self.unpriv && src_is_reg && matches!(op, AluOp::Add | AluOp::Sub) {
            const TAIL: &str = "pointer arithmetic with it prohibited for !root";
            let v = &off_reg.var;
            if !v.var_off.is_const() && (v.smin_value < 0) != (v.smax_value < 0) {
                return Err(refuse(
                    EACCES,
                    pc,
                    format!("R{r} has unknown scalar with mixed signed bounds, {TAIL}"),
                ));
            }
            if !matches!(ptr.ty, RegType::Stack | RegType::MapValue) {
                return Err(refuse(
                    EACCES,
                    pc,
                    format!("R{r} has pointer with unsupported alu operation, {TAIL}"),
                ));
            }
        }
        match op {
            AluOp::Add => {}
            AluOp::Sub if !d.ty.is_pointer() => {
                return Err(refuse(
                    EACCES,
                    pc,
                    format!("R{r} tried to subtract pointer from scalar"),
                ));
            }
            AluOp::Sub if ptr.ty == RegType::Stack => {
                return Err(refuse(
                    EACCES,
                    pc,
                    format!("R{r} subtraction from stack pointer prohibited"),
                ));
            }
            AluOp::Sub => {}
            AluOp::And | AluOp::Or | AluOp::Xor => {
                return Err(refuse(
                    EACCES,
                    pc,
                    format!("R{r} bitwise operator {name} on pointer prohibited"),
                ));
            }
            _ => {
                return Err(refuse(
                    EACCES,
                    pc,
                    format!("R{r} pointer arithmetic with {name} operator prohibited"),
                ));
            }
        }
        let mut out = ptr;
        if known {
            let c = off_reg.var.var_off.value as i64;
            let c = if op == AluOp::Sub {
                c.wrapping_neg()
            } else {
                c
            };
            let new_off = i64::from(out.off).wrapping_add(c);
            if let Ok(o) = i32::try_from(new_off) {
                out.off = o;
            } else {
                out.var
                    .alu(AluOp::Add, Width::W64, &ScalarBounds::constant(c as u64));
            }
        } else {
            out.var.alu(op, Width::W64, &off_reg.var);
            if ptr.ty.is_pkt_pointer() {
                out.id = self.new_id();
                out.range = 0;
            }
        }
        check_reg_sane_offset(pc, &out, &ty)?;
        Ok(out)
    }

    /// Check an access of `size` at `base + off` and return the loaded
    /// value for reads.
    #[allow(clippy::too_many_arguments)]
    fn mem_access(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        reg: Reg,
        base: RegState,
        off: i16,
        size: Size,
        access: Access,
    ) -> Result<Option<RegState>, Refusal> {
        let r = reg.num();
        let n = i32::from(size.bytes());
        let off = i32::from(off);
        let write = matches!(access, Access::Write { .. } | Access::Clobber);
        if base.maybe_null() {
            return Err(refuse(
                EACCES,
                pc,
                format!("R{r} invalid mem access '{}'", base.type_str()),
            ));
        }
        match base.ty {
            RegType::Stack => self.stack_access(pc, st, r, base, off, n, access),
            RegType::Ctx => {
                if base.off != 0 {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!(
                            "dereference of modified ctx ptr R{r} off={} disallowed",
                            base.off
                        ),
                    ));
                }
                if !base.var.var_off.is_const() {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!(
                            "variable ctx access var_off={} disallowed",
                            base.var.var_off
                        ),
                    ));
                }
                let at = off;
                if write {
                    if !self.env.ctx_store(at, size.bytes()) {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!("invalid bpf_context access off={at} size={n}"),
                        ));
                    }
                    return Ok(None);
                }
                match self.env.ctx_load(at, size.bytes()) {
                    None => Err(refuse(
                        EACCES,
                        pc,
                        format!("invalid bpf_context access off={at} size={n}"),
                    )),
                    Some(CtxField::Scalar) => {
                        let mut v = RegState::unknown_scalar();
                        v.var.coerce_reg_to_size(size.bytes());
                        Ok(Some(v))
                    }
                    Some(CtxField::Packet) => Ok(Some(RegState::pointer(RegType::Packet))),
                    Some(CtxField::PacketMeta) => Ok(Some(RegState::pointer(RegType::PacketMeta))),
                    Some(CtxField::PacketEnd) => Ok(Some(RegState::pointer(RegType::PacketEnd))),
                    Some(CtxField::FlowKeys) => Ok(Some(RegState::pointer(RegType::FlowKeys))),
                    Some(CtxField::SockCommonOrNull) => {
                        let mut v = RegState::pointer(RegType::SockCommon);
                        v.flags = TypeFlags::MAYBE_NULL;
                        v.id = self.new_id();
                        Ok(Some(v))
                    }
                }
            }
            RegType::MapValue => {
                let meta = base.map.and_then(|i| self.maps.get(i as usize)).copied();
                let vs = meta.map_or(0, |m| m.value_size);
                let at = off.saturating_add(base.off);
                check_map_access_type(pc, meta.as_ref(), at, n, write)?;
                self.region_check(pc, r, &base, off, n, i64::from(vs), |o| {
                    format!("invalid access to map value, value_size={vs} off={o} size={n}")
                })?;
                check_special_fields(pc, meta.as_ref(), &base, at, n)?;
                Ok(Some(RegState::unknown_scalar()))
            }
            RegType::MapKey => {
                if write {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("write to change key R{r} not allowed"),
                    ));
                }
                let meta = base.map.and_then(|i| self.maps.get(i as usize)).copied();
                let ks = meta.map_or(0, |m| m.key_size);
                self.region_check(pc, r, &base, off, n, i64::from(ks), |o| {
                    format!("invalid access to memory, mem_size={ks} off={o} size={n}")
                })?;
                Ok(Some(RegState::unknown_scalar()))
            }
            RegType::Mem => {
                let sz = base.mem_size;
                self.region_check(pc, r, &base, off, n, i64::from(sz), |o| {
                    format!("invalid access to memory, mem_size={sz} off={o} size={n}")
                })?;
                Ok(Some(RegState::unknown_scalar()))
            }
            RegType::FlowKeys => {
                if self.unpriv
                    && let Access::Write { value, .. } = access
                    && value.ty.is_pointer()
                {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("R{r} leaks addr into flow keys"),
                    ));
                }
                // `check_flow_keys_access`: inside `struct bpf_flow_keys`.
                const FLOW_KEYS_SIZE: i64 = 56;
                let at = off.saturating_add(base.off);
                if at < 0 || i64::from(at).saturating_add(i64::from(n)) > FLOW_KEYS_SIZE {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("invalid access to flow keys off={at} size={n}"),
                    ));
                }
                if write {
                    return Ok(None);
                }
                let mut v = RegState::unknown_scalar();
                v.var.coerce_reg_to_size(size.bytes());
                Ok(Some(v))
            }
            RegType::SockCommon | RegType::Socket | RegType::TcpSock => {
                if write {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("R{r} cannot write into {}", base.type_str()),
                    ));
                }
                // `check_sock_access`.
                if base.var.smin_value < 0 {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!(
                            "R{r} min value is negative, either use unsigned index or do a if (index >=0) check."
                        ),
                    ));
                }
                let at = off.saturating_add(base.off);
                if !sock_access_ok(base.ty, at, n) {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!("R{r} invalid {} access off={at} size={n}", base.type_str()),
                    ));
                }
                let mut v = RegState::unknown_scalar();
                v.var.coerce_reg_to_size(size.bytes());
                Ok(Some(v))
            }
            RegType::Packet | RegType::PacketMeta => {
                // `may_access_direct_pkt_data`: some types only read.
                if write && !self.env.packet_writable() {
                    return Err(refuse(EACCES, pc, "cannot write into packet"));
                }
                // `range` counts from the pointer's variable part, which
                // every pointer of its id shares (`check_packet_access`):
                // only the fixed offset and the access size are added.
                let start = i64::from(base.off).saturating_add(i64::from(off));
                self.check_packet_range(pc, r, &base, start, i64::from(n))?;
                Ok(Some(RegState::unknown_scalar()))
            }
            _ => Err(refuse(
                EACCES,
                pc,
                format!("R{r} invalid mem access '{}'", base.type_str()),
            )),
        }
    }

    /// Fixed plus variable offset inside `[0, limit)`
    /// (`check_mem_region_access`): the lowest and the highest offset the
    /// register may hold are each checked, the detail line logged, then the
    /// kernel's `min`/`max value is outside` error.
    #[allow(clippy::too_many_arguments)]
    fn region_check(
        &mut self,
        pc: usize,
        r: u8,
        base: &RegState,
        off: i32,
        n: i32,
        limit: i64,
        detail: impl Fn(i64) -> String,
    ) -> Result<(), Refusal> {
        let fixed = i64::from(base.off).saturating_add(i64::from(off));
        let fits = |at: i64| at >= 0 && at.saturating_add(i64::from(n)) <= limit;
        let smin = base.var.smin_value;
        let low = fixed.wrapping_add(smin);
        if smin < 0 && (smin == i64::MIN || i64::from(low as i32) != low || low < 0) {
            return Err(refuse(
                EACCES,
                pc,
                format!(
                    "R{r} min value is negative, either use unsigned index or do a if (index >=0) check."
                ),
            ));
        }
        let lo = fixed.saturating_add(base.var.smin_value);
        if !fits(lo) {
            self.log.push_str(&detail(lo));
            self.log.push('\n');
            return Err(refuse(
                EACCES,
                pc,
                format!("R{r} min value is outside of the allowed memory range"),
            ));
        }
        // No upper bound the offset could be trusted with.
        if base.var.umax_value >= 1 << 29 {
            return Err(refuse(
                EACCES,
                pc,
                format!("R{r} unbounded memory access, make sure to bounds check any such access"),
            ));
        }
        let umax = i64::try_from(base.var.umax_value).unwrap_or(i64::MAX);
        let hi = fixed.saturating_add(umax);
        if !fits(hi) {
            self.log.push_str(&detail(hi));
            self.log.push('\n');
            return Err(refuse(
                EACCES,
                pc,
                format!("R{r} max value is outside of the allowed memory range"),
            ));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn stack_access(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        r: u8,
        base: RegState,
        off: i32,
        n: i32,
        access: Access,
    ) -> Result<Option<RegState>, Refusal> {
        let write = matches!(access, Access::Write { .. } | Access::Clobber);
        let fixed64 = i64::from(base.off).saturating_add(i64::from(off));
        if base.var.var_off.is_const() {
            let at = fixed64.saturating_add(base.var.var_off.value as i64);
            self.scratch_stack(at, at.saturating_add(i64::from(n)));
        } else if write {
            let lo = fixed64.saturating_add(base.var.smin_value);
            let hi = fixed64
                .saturating_add(base.var.smax_value)
                .saturating_add(i64::from(n));
            self.scratch_stack(lo.max(STACK_BOTTOM), hi.min(0));
        }
        if !base.var.var_off.is_const() {
            // A variable offset: every byte it may reach must be in the frame.
            let lo = fixed64.saturating_add(base.var.smin_value);
            let hi = fixed64
                .saturating_add(base.var.smax_value)
                .saturating_add(i64::from(n));
            if lo < STACK_BOTTOM || hi > 0 {
                return Err(refuse(
                    EACCES,
                    pc,
                    format!(
                        "invalid variable-offset stack access R{r} var_off={}",
                        base.var.var_off
                    ),
                ));
            }
            if !write {
                self.mark_stack(pc, st, base.frameno as usize, lo, hi, false);
                // `mark_reg_stack_read`: the slots are shown up to the first
                // byte that is not `STACK_ZERO`; all zero reads a zero.
                let frame = st.frames.get(base.frameno as usize);
                let mut zeros = 0i64;
                for a in lo..hi {
                    self.scratch_stack(a, a.saturating_add(1));
                    let (spi, j) = slot_of(a as i32);
                    let zero = frame
                        .and_then(|f| f.stack.get(spi))
                        .is_some_and(|sl| sl.types[j] == SlotType::Zero);
                    if !zero {
                        break;
                    }
                    zeros = zeros.saturating_add(1);
                }
                if zeros == hi.saturating_sub(lo) {
                    return Ok(Some(RegState::known_scalar(0)));
                }
            }
            if write {
                // In range: `lo >= -512` and `hi <= 0` were checked.
                for a in lo..hi {
                    let (spi, j) = slot_of(a as i32);
                    let slot = st.cur_mut().slot_mut(spi);
                    slot.types[j] = SlotType::Misc;
                }
            }
            return Ok(Some(RegState::unknown_scalar()));
        }
        // Outside the frame: refused before any slot is touched, so the
        // slot arithmetic below works on offsets in [-512, 0).
        if fixed64 < STACK_BOTTOM || fixed64.saturating_add(i64::from(n)) > 0 {
            let what = if write { "write to" } else { "read from" };
            return Err(refuse(
                EACCES,
                pc,
                format!("invalid {what} stack R{r} off={fixed64} size={n}"),
            ));
        }
        let fixed = fixed64 as i32;
        if fixed.checked_rem(n).is_some_and(|r| r != 0) {
            return Err(refuse(
                EACCES,
                pc,
                format!(
                    "misaligned stack access off 0+{}+{} size {n}",
                    base.off, off
                ),
            ));
        }
        let end = fixed.wrapping_add(n);
        let frame_idx = base.frameno as usize;
        self.mark_stack(pc, st, frame_idx, i64::from(fixed), i64::from(end), write);
        let depth = fixed.unsigned_abs();
        let sub = st.frames.get(frame_idx).map_or(0, |f| f.subprog);
        if let Some(d) = self.stack_depth.get_mut(sub) {
            *d = (*d).max(depth);
        }
        let Some(frame) = st.frames.get_mut(frame_idx) else {
            return Err(refuse(EACCES, pc, "stack pointer into a returned frame"));
        };
        match access {
            Access::Write { value, imm } => {
                // A loader that may not leak pointers may not overwrite part
                // of a spilled pointer (`check_stack_write_fixed_off`).
                if self.unpriv && n != REG_SIZE as i32 {
                    let (spi, _) = slot_of(fixed);
                    if frame
                        .stack
                        .get(spi)
                        .is_some_and(|sl| sl.is_spill() && sl.spilled.ty.is_pointer())
                    {
                        return Err(refuse(
                            EACCES,
                            pc,
                            "attempt to corrupt spilled pointer on stack",
                        ));
                    }
                }
                let is_const = value.ty == RegType::Scalar && value.var.var_off.is_const();
                let zero = is_const && value.var.var_off.value == 0;
                // Without CAP_BPF a scalar is not spilled: its bytes are
                // data (`STACK_MISC`, or `STACK_ZERO` for a zero).
                if self.unpriv && value.ty == RegType::Scalar {
                    for a in fixed..end {
                        let (spi, j) = slot_of(a);
                        let s2 = frame.slot_mut(spi);
                        if s2.has_spill() {
                            for t in &mut s2.types {
                                if *t == SlotType::Spill {
                                    *t = SlotType::Misc;
                                }
                            }
                        }
                        s2.types[j] = if zero { SlotType::Zero } else { SlotType::Misc };
                    }
                    return Ok(None);
                }
                if n == REG_SIZE as i32 {
                    // A whole slot: the register is spilled
                    // (`save_register_state`), an immediate as a constant.
                    let (spi, _) = slot_of(fixed);
                    let slot = frame.slot_mut(spi);
                    slot.types = [SlotType::Spill; REG_SIZE];
                    slot.spilled = value;
                    return Ok(None);
                }
                // A loader that may not leak pointers may not overwrite
                // part of a spilled pointer.
                if self.unpriv {
                    let (spi, _) = slot_of(fixed);
                    if frame
                        .stack
                        .get(spi)
                        .is_some_and(|s2| s2.has_spill() && s2.spilled.ty.is_pointer())
                    {
                        return Err(refuse(
                            EACCES,
                            pc,
                            "attempt to corrupt spilled pointer on stack",
                        ));
                    }
                }
                // A narrow store: any spill in the slots it touches is no
                // longer a register, its bytes become data
                // (`scrub_spilled_slot`).
                for a in fixed..end {
                    let (spi, _) = slot_of(a);
                    let s2 = frame.slot_mut(spi);
                    if s2.has_spill() {
                        for t in &mut s2.types {
                            if *t == SlotType::Spill {
                                *t = SlotType::Misc;
                            }
                        }
                    }
                }
                if value.ty != RegType::Scalar {
                    return Err(refuse(EACCES, pc, "invalid size of register spill"));
                }
                // A scalar stored at the start of a slot is a narrow spill
                // (`save_register_state` with its size), whatever its value.
                if fixed.rem_euclid(REG_SIZE as i32) == 0 {
                    let (spi, _) = slot_of(fixed);
                    let slot = frame.slot_mut(spi);
                    for a in fixed..end {
                        slot.types[slot_of(a).1] = SlotType::Spill;
                    }
                    slot.spilled = value;
                    return Ok(None);
                }
                for a in fixed..end {
                    let (spi, j) = slot_of(a);
                    frame.slot_mut(spi).types[j] =
                        if zero { SlotType::Zero } else { SlotType::Misc };
                }
                let _ = (imm, is_const);
                Ok(None)
            }
            Access::Clobber => {
                // Data: any spill in the slots touched is scrubbed, the
                // bytes written become `STACK_MISC`.
                for a in fixed..end {
                    let (spi, j) = slot_of(a);
                    let s2 = frame.slot_mut(spi);
                    if s2.has_spill() {
                        for t in &mut s2.types {
                            if *t == SlotType::Spill {
                                *t = SlotType::Misc;
                            }
                        }
                    }
                    s2.types[j] = SlotType::Misc;
                }
                Ok(None)
            }
            Access::Read => {
                let (spi, _) = slot_of(fixed);
                let slot = frame.stack.get(spi).copied().unwrap_or_default();
                if n == REG_SIZE as i32 && slot.types.iter().all(|t| *t == SlotType::Spill) {
                    return Ok(Some(slot.spilled));
                }
                // A spilled scalar read narrower than it was spilled, from
                // its first byte, is the register itself
                // (`bpf_stack_narrow_access_ok`); the load then truncates
                // it.
                if slot.is_spill() && slot.spilled.ty == RegType::Scalar {
                    let spill_size = slot
                        .types
                        .iter()
                        .rev()
                        .take_while(|t| **t == SlotType::Spill)
                        .count() as i32;
                    if n <= spill_size && fixed.rem_euclid(REG_SIZE as i32) == 0 {
                        let mut v = slot.spilled;
                        let width = 64u32.saturating_sub(v.var.umax_value.leading_zeros());
                        if !self.unpriv
                            && n == 4
                            && spill_size == 4
                            && width <= 32
                            && v.id == 0
                            && !v.var.var_off.is_const()
                        {
                            // Filled and spilled stay linked
                            // (`assign_scalar_id_before_mov`).
                            let id = self.new_id();
                            v.id = id;
                            if let Some(sl) = st
                                .frames
                                .get_mut(base.frameno as usize)
                                .and_then(|f| f.stack.get_mut(spi))
                            {
                                sl.spilled.id = id;
                            }
                        }
                        // A narrowing fill breaks the link.
                        if width > (n as u32).saturating_mul(8) {
                            v.id = 0;
                        }
                        return Ok(Some(v));
                    }
                    // Every byte from the spill, of a spilled zero: zero.
                    let all_spill =
                        (fixed..end).all(|a| slot.types[slot_of(a).1] == SlotType::Spill);
                    if all_spill && slot.spilled.var.var_off.equals_const(0) {
                        return Ok(Some(RegState::known_scalar(0)));
                    }
                }
                let mut all_zero = true;
                for a in fixed..end {
                    let (spi2, j) = slot_of(a);
                    let t = frame
                        .stack
                        .get(spi2)
                        .map_or(SlotType::Invalid, |s| s.types[j]);
                    if t != SlotType::Zero {
                        all_zero = false;
                    }
                    if t == SlotType::Spill && slot.spilled.ty.is_pointer() {
                        return Err(refuse(EACCES, pc, "invalid size of register fill"));
                    }
                    // Without CAP_PERFMON, uninitialised stack is not read
                    // (`allow_uninit_stack`).
                    if self.unpriv && t == SlotType::Invalid {
                        // Never written (beyond `allocated_stack`), or a
                        // byte of an allocated slot.
                        let message = if frame.stack.get(spi2).is_none() {
                            format!("invalid read from stack R{r} off={fixed} size={n}")
                        } else {
                            format!(
                                "invalid read from stack off {fixed}+{} size {n}",
                                a.saturating_sub(fixed)
                            )
                        };
                        return Err(refuse(EACCES, pc, message));
                    }
                }
                if all_zero {
                    return Ok(Some(RegState::known_scalar(0)));
                }
                // Privileged loaders may read uninitialised stack.
                Ok(Some(RegState::unknown_scalar()))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn cond_jump(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        cond: JmpCond,
        width: Width,
        dst: Reg,
        src: Operand,
        off: i16,
        pending: &mut Vec<Pending>,
    ) -> Result<Next, Refusal> {
        let d = self.read(st, pc, dst)?;
        let (s, src_reg) = match src {
            Operand::Reg(r) => (self.read(st, pc, r)?, Some(r)),
            Operand::Imm(i) => {
                let v = if width == Width::W32 {
                    u64::from(i as u32)
                } else {
                    i64::from(i) as u64
                };
                (RegState::known_scalar(v), None)
            }
        };
        let taken_pc = target(pc, i32::from(off));
        let fall_pc = pc.saturating_add(1);
        // A pointer source may only be compared with another packet
        // pointer by a loader that may not leak pointers.
        let pkt_any = |r: &RegState| {
            matches!(
                r.ty,
                RegType::Packet | RegType::PacketMeta | RegType::PacketEnd
            )
        };
        if self.unpriv
            && let Some(r) = src_reg
            && s.ty.is_pointer()
            && !(pkt_any(&d) && pkt_any(&s))
        {
            return Err(refuse(
                EACCES,
                pc,
                format!("R{} pointer comparison prohibited", r.num()),
            ));
        }
        // Pointer comparisons.
        if d.ty.is_pointer() || s.ty.is_pointer() {
            return self.ptr_cond_jump(
                pc,
                st,
                cond,
                width,
                (dst, d),
                (src, s),
                taken_pc,
                fall_pc,
                pending,
            );
        }
        let decided = d.var.is_branch_taken(&s.var, cond, width);
        if decided != BranchTaken::Unknown {
            // Only one way is walked: the operands' values decided it.
            self.precise_reg(st, dst);
            if let Some(r) = src_reg {
                self.precise_reg(st, r);
            }
        }
        match decided {
            BranchTaken::Taken => return Ok(Next::Jump(taken_pc)),
            BranchTaken::NotTaken => return Ok(Next::Jump(fall_pc)),
            BranchTaken::Unknown => {}
        }
        let refined = reg_set_min_max(&d.var, &s.var, cond, width);
        let mut other = st.clone();
        {
            let r = other.reg_mut(dst);
            r.var = refined.true_dst;
        }
        if let Some(sr) = src_reg {
            other.reg_mut(sr).var = refined.true_src;
            st.reg_mut(sr).var = refined.false_src;
        }
        st.reg_mut(dst).var = refined.false_dst;
        if let Some(sr) = src_reg {
            self.propagate_linked(&mut other, sr);
            self.propagate_linked(st, sr);
        }
        self.propagate_linked(&mut other, dst);
        self.propagate_linked(st, dst);
        self.fork(pending, taken_pc, other, pc)?;
        Ok(Next::Jump(fall_pc))
    }

    /// Scalars sharing `dst`'s id get its refined bounds
    /// (`sync_linked_regs`).
    /// `sync_linked_regs`: what a comparison taught about `known` holds
    /// for every scalar linked to it, shifted by their constant distance.
    fn propagate_linked(&self, st: &mut VerifierState, known: Reg) {
        let k = *st.reg(known);
        if k.ty != RegType::Scalar || k.id == 0 {
            return;
        }
        let base = k.id & !ADD_CONST;
        st.for_each_reg(|reg| {
            if reg.ty != RegType::Scalar || reg.id & !ADD_CONST != base {
                return;
            }
            let linked = reg.id & ADD_CONST != 0 || k.id & ADD_CONST != 0;
            if !linked || reg.off == k.off {
                reg.var = k.var;
                return;
            }
            // reg = known + (reg.off - known.off).
            let delta = i64::from(reg.off).wrapping_sub(i64::from(k.off));
            let mut v = k.var;
            v.add_const_linked(delta as u64, k.id & ADD_CONST32 != 0);
            reg.var = v;
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn ptr_cond_jump(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        cond: JmpCond,
        width: Width,
        (dst, d): (Reg, RegState),
        (src, s): (Operand, RegState),
        taken_pc: usize,
        fall_pc: usize,
        pending: &mut Vec<Pending>,
    ) -> Result<Next, Refusal> {
        let is_zero = |r: &RegState| {
            r.ty == RegType::Scalar && r.var.var_off.is_const() && r.var.var_off.value == 0
        };
        // NULL checks: `if ptr == 0` / `if ptr != 0`, with the immediate 0
        // only.
        if d.maybe_null()
            && matches!(src, Operand::Imm(0))
            && matches!(cond, JmpCond::Eq | JmpCond::Ne)
            && width == Width::W64
        {
            let mut other = st.clone();
            let (null_st, nonnull_st): (&mut VerifierState, &mut VerifierState) =
                if cond == JmpCond::Eq {
                    (&mut other, st)
                } else {
                    (st, &mut other)
                };
            mark_null(null_st, d.id, true, self.maps);
            mark_null(nonnull_st, d.id, false, self.maps);
            self.fork(pending, taken_pc, other, pc)?;
            return Ok(Next::Jump(fall_pc));
        }
        // A pointer known not to be NULL is never 0 (`is_branch_taken`
        // with `reg_not_null`; a 32-bit comparison decides nothing). The
        // constant may be on either side.
        let (p, c) = if d.ty.is_pointer() {
            (&d, &s)
        } else {
            (&s, &d)
        };
        if width == Width::W64
            && reg_not_null(p)
            && is_zero(c)
            && matches!(cond, JmpCond::Eq | JmpCond::Ne)
        {
            // The scalar side decided the branch.
            if d.ty == RegType::Scalar {
                self.precise_reg(st, dst);
            }
            if let Operand::Reg(r) = src
                && s.ty == RegType::Scalar
            {
                self.precise_reg(st, r);
            }
            return Ok(Next::Jump(if cond == JmpCond::Eq {
                fall_pc
            } else {
                taken_pc
            }));
        }
        // Packet range: `pkt OP pkt_end`, or `pkt_meta OP pkt` where `pkt`
        // is the packet start itself (`reg_is_init_pkt_pointer`): the
        // metadata ends where the packet begins.
        if width == Width::W64 {
            let init_pkt = |r: &RegState| {
                r.ty == RegType::Packet && r.off == 0 && r.var.var_off.equals_const(0)
            };
            let pair = match (d.ty, s.ty) {
                (RegType::Packet, RegType::PacketEnd) => Some((d, true)),
                (RegType::PacketEnd, RegType::Packet) => Some((s, false)),
                (RegType::PacketMeta, RegType::Packet) if init_pkt(&s) => Some((d, true)),
                (RegType::Packet, RegType::PacketMeta) if init_pkt(&d) => Some((s, false)),
                _ => None,
            };
            if let Some((pkt, pkt_is_dst)) = pair {
                // Which successor proves `pkt <= pkt_end`?
                let le_on_taken = match (cond, pkt_is_dst) {
                    (JmpCond::Gt, true) | (JmpCond::Lt, false) => Some(false),
                    (JmpCond::Le, true) | (JmpCond::Ge, false) => Some(true),
                    (JmpCond::Ge, true) | (JmpCond::Le, false) => Some(false),
                    (JmpCond::Lt, true) | (JmpCond::Gt, false) => Some(true),
                    _ => None,
                };
                // A pointer known past the end decides the comparison
                // (`is_pkt_ptr_branch_taken`).
                if pkt.range < 0 {
                    // As if `pkt` were the destination.
                    let c = if pkt_is_dst {
                        cond
                    } else {
                        crate::scalar::flip_opcode(cond)
                    };
                    let beyond = pkt.range == BEYOND_PKT_END;
                    let taken = match c {
                        JmpCond::Le | JmpCond::Gt if beyond => Some(c == JmpCond::Gt),
                        JmpCond::Lt | JmpCond::Ge => Some(c == JmpCond::Ge),
                        _ => None,
                    };
                    if let Some(t) = taken {
                        return Ok(Next::Jump(if t { taken_pc } else { fall_pc }));
                    }
                }
                let mut other = st.clone();
                // The successor where `pkt > pkt_end` (or `>=`) knows it
                // points past the end (`mark_pkt_end`): only that register.
                let (gt_on_taken, strict) = match (cond, pkt_is_dst) {
                    (JmpCond::Gt, true) | (JmpCond::Lt, false) => (Some(true), true),
                    (JmpCond::Ge, true) | (JmpCond::Le, false) => (Some(true), false),
                    (JmpCond::Lt, true) | (JmpCond::Gt, false) => (Some(false), false),
                    (JmpCond::Le, true) | (JmpCond::Ge, false) => (Some(false), true),
                    _ => (None, false),
                };
                if let Some(on_taken) = gt_on_taken {
                    let reg = match (pkt_is_dst, src) {
                        (true, _) => Some(dst),
                        (false, Operand::Reg(r)) => Some(r),
                        (false, Operand::Imm(_)) => None,
                    };
                    let target_st: &mut VerifierState = if on_taken { &mut other } else { st };
                    if let Some(r) = reg {
                        let reg = target_st.reg_mut(r);
                        if reg.ty == RegType::Packet {
                            reg.range = if strict { BEYOND_PKT_END } else { AT_PKT_END };
                        }
                    }
                }
                // `pkt <= pkt_end` proves `pkt.off` bytes from the start of
                // every pointer of `pkt`'s id (`find_good_pkt_pointers`;
                // the strict forms prove at least as much).
                // No range when the variable part could carry the pointer
                // past `MAX_PACKET_OFF` (`find_good_pkt_pointers`).
                let fits = pkt.var.umax_value <= MAX_PACKET_OFF
                    && pkt
                        .var
                        .umax_value
                        .saturating_add(u64::try_from(pkt.off).unwrap_or(u64::MAX))
                        <= MAX_PACKET_OFF;
                if let Some(taken) = le_on_taken
                    && pkt.off >= 0
                    && fits
                {
                    let range = i64::from(pkt.off);
                    let target_st: &mut VerifierState = if taken { &mut other } else { st };
                    mark_pkt_range(target_st, pkt.ty, pkt.id, range);
                }
                self.fork(pending, taken_pc, other, pc)?;
                return Ok(Next::Jump(fall_pc));
            }
        }
        // Any other pointer comparison: both ways, nothing learnt; refused
        // to a loader that may not leak pointers.
        if self.unpriv && d.ty.is_pointer() {
            return Err(refuse(
                EACCES,
                pc,
                format!("R{} pointer comparison prohibited", dst.num()),
            ));
        }
        let other = st.clone();
        self.fork(pending, taken_pc, other, pc)?;
        Ok(Next::Jump(fall_pc))
    }

    fn helper_call(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        id: i32,
        pending: &mut Vec<Pending>,
    ) -> Result<(), Refusal> {
        // Only the unlock may be called while a spin lock is held.
        if st.lock.is_some() && id != HELPER_SPIN_UNLOCK {
            return Err(refuse(
                EINVAL,
                pc,
                "function calls are not allowed while holding a lock",
            ));
        }
        let proto = match self.env.helper(id) {
            HelperLookup::Refused { errno, message } => return Err(refuse(errno, pc, message)),
            HelperLookup::Proto(p) => p,
        };
        let mut map: Option<u32> = None;
        let mut alloc_size = 0u32;
        let mut const_key: Option<u64> = None;
        let mut key_ptr: Option<(RegState, u32)> = None;
        let mut released: Option<u32> = None;
        // The reference an argument holds (`meta.ref_obj_id`).
        let mut arg_ref: Option<u32> = None;
        let mut callback: Option<usize> = None;
        // The largest size a memory argument's size register allows
        // (`msize_max_value`).
        let mut msize_max = 0u64;
        for (regno, arg) in (1usize..).zip(proto.args.iter()) {
            let reg_id = Reg::new(regno as u8).unwrap_or(Reg::R1);
            if *arg == ArgType::None {
                continue;
            }
            let r = self.read(st, pc, reg_id)?;
            // Packet pointers only go to helpers made for them
            // (`may_access_direct_pkt_data` with the prototype).
            if *arg != ArgType::Anything && r.ty.is_pkt_pointer() && !proto.pkt_access {
                return Err(refuse(
                    EACCES,
                    pc,
                    "helper access to the packet is not allowed",
                ));
            }
            let expect = |want: &str| {
                refuse(
                    EACCES,
                    pc,
                    format!("R{regno} type={} expected={want}", r.type_str()),
                )
            };
            match arg {
                ArgType::None => {}
                ArgType::Anything => {
                    if self.unpriv && r.ty.is_pointer() {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!("R{regno} leaks addr into helper function"),
                        ));
                    }
                }
                ArgType::ConstMapPtr => {
                    if r.ty != RegType::ConstMapPtr {
                        return Err(expect("map_ptr"));
                    }
                    map = r.map;
                }
                ArgType::MapKey | ArgType::MapValue | ArgType::MapValueWrite => {
                    let meta = map.and_then(|m| self.maps.get(m as usize)).copied();
                    let size = meta.map_or(0, |m| {
                        if *arg == ArgType::MapKey {
                            m.key_size
                        } else {
                            m.value_size
                        }
                    });
                    let write = *arg == ArgType::MapValueWrite;
                    self.check_helper_mem(pc, st, regno, r, size, write)?;
                    // A key or value of no bytes (queues and stacks have no
                    // key).
                    if size == 0 && meta.is_some() {
                        return Err(refuse(EACCES, pc, "invalid zero-sized read"));
                    }
                    if *arg == ArgType::MapKey {
                        const_key = stack_const(st, &r, size);
                        key_ptr = Some((r, size));
                    }
                }
                ArgType::FixedMem { size, write } => {
                    self.check_helper_mem(pc, st, regno, r, *size, *write)?;
                }
                ArgType::MemRead
                | ArgType::MemWrite
                | ArgType::MemReadOrNull
                | ArgType::MemWriteOrNull
                | ArgType::MemReadWrite
                | ArgType::MemReadWriteOrNull => {
                    let write = matches!(
                        arg,
                        ArgType::MemWrite
                            | ArgType::MemWriteOrNull
                            | ArgType::MemReadWrite
                            | ArgType::MemReadWriteOrNull
                    );
                    let null_ok = matches!(
                        arg,
                        ArgType::MemReadOrNull
                            | ArgType::MemWriteOrNull
                            | ArgType::MemReadWriteOrNull
                    );
                    // Only an uninitialised buffer's slots show in the
                    // state delta.
                    self.quiet_clobber =
                        matches!(arg, ArgType::MemReadWrite | ArgType::MemReadWriteOrNull);
                    // The size is in the next argument.
                    let next = regno.saturating_add(1);
                    let size_reg = Reg::new(next as u8).unwrap_or(Reg::R2);
                    let sz = self.read(st, pc, size_reg)?;
                    if null_ok && is_known_zero(&r) {
                        // `NULL`, decided by the pointer's value, with
                        // nothing to access.
                        self.precise_reg(st, reg_id);
                        if sz.var.umax_value == 0 {
                            self.precise_reg(st, size_reg);
                            continue;
                        }
                        return Err(expect("fp"));
                    }
                    let size_arg = proto.args.get(regno).copied();
                    // `check_mem_size_reg`.
                    if sz.var.smin_value < 0 {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!(
                                "R{next} min value is negative, either use unsigned or 'var &= const'"
                            ),
                        ));
                    }
                    if sz.var.umin_value == 0 && size_arg == Some(ArgType::ConstSize) {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!(
                                "R{next} invalid zero-sized read: u64=[{},{}]",
                                sz.var.umin_value, sz.var.umax_value
                            ),
                        ));
                    }
                    msize_max = sz.var.umax_value;
                    let size = sz.var.umax_value.min(u64::from(u32::MAX)) as u32;
                    // A size that is not a constant checks the bytes as read
                    // and changes them without showing them
                    // (`check_mem_size_reg` drops `meta`: no raw mode).
                    if !sz.var.var_off.is_const() {
                        self.quiet_clobber = true;
                    }
                    let checked = self.check_helper_mem(pc, st, regno, r, size, write);
                    self.quiet_clobber = false;
                    checked?;
                    // The size mattered once the access was checked
                    // (`check_mem_size_reg`).
                    self.precise_reg(st, size_reg);
                }
                ArgType::ConstSize | ArgType::ConstSizeOrZero | ArgType::ConstAllocSizeOrZero => {
                    if r.ty != RegType::Scalar {
                        return Err(expect("scalar"));
                    }
                    // A memory argument before it has checked (and marked)
                    // this size already.
                    let after_mem = regno >= 2
                        && matches!(
                            proto.args.get(regno.saturating_sub(2)),
                            Some(
                                ArgType::MemRead
                                    | ArgType::MemWrite
                                    | ArgType::MemReadOrNull
                                    | ArgType::MemWriteOrNull
                                    | ArgType::MemReadWrite
                                    | ArgType::MemReadWriteOrNull
                            )
                        );
                    if *arg == ArgType::ConstAllocSizeOrZero {
                        if !r.var.var_off.is_const() {
                            return Err(refuse(
                                EACCES,
                                pc,
                                format!("R{regno} is not a known constant'"),
                            ));
                        }
                        alloc_size = r.var.var_off.value as u32;
                    }
                    if !after_mem {
                        self.precise_reg(st, reg_id);
                    }
                }
                ArgType::Ctx => {
                    if r.ty != RegType::Ctx {
                        return Err(expect("ctx"));
                    }
                }
                ArgType::RingbufMemRelease => {
                    if r.ty != RegType::Mem
                        || !r.flags.contains(TypeFlags::RINGBUF)
                        || r.maybe_null()
                    {
                        return Err(expect("ringbuf_mem"));
                    }
                    released = Some(r.ref_obj_id);
                }
                ArgType::Func => {
                    if r.ty != RegType::Func {
                        return Err(expect("func"));
                    }
                    callback = Some(r.mem_size as usize);
                }
                ArgType::ConstStr => {
                    if r.ty != RegType::MapValue || r.maybe_null() {
                        return Err(expect("map_value"));
                    }
                    let idx = r.map.unwrap_or(u32::MAX);
                    let meta = self.maps.get(idx as usize).copied();
                    if meta.is_none_or(|m| m.flags & BPF_F_RDONLY_PROG == 0) {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!("R{regno} does not point to a readonly map'"),
                        ));
                    }
                    if !r.var.var_off.is_const() {
                        return Err(refuse(
                            EACCES,
                            pc,
                            format!("R{regno} is not a constant address'"),
                        ));
                    }
                    let off = i64::from(r.off).saturating_add(r.var.var_off.value as i64);
                    let data = self
                        .map_data
                        .iter()
                        .find(|(i, _)| *i == idx)
                        .map(|(_, d)| d);
                    if let Some(d) = data {
                        let terminated = usize::try_from(off)
                            .ok()
                            .and_then(|o| d.get(o..))
                            .is_some_and(|rest| rest.contains(&0));
                        if !terminated {
                            return Err(refuse(EINVAL, pc, "string is not zero-terminated"));
                        }
                    }
                }
                ArgType::Stack | ArgType::StackOrNull => {
                    let null_ok = *arg == ArgType::StackOrNull && is_known_zero(&r);
                    if r.ty != RegType::Stack && !null_ok {
                        return Err(expect("fp"));
                    }
                }
                ArgType::SockCommon => {
                    if !r.ty.is_sk_pointer() || r.maybe_null() {
                        return Err(expect("sock_common, sock, tcp_sock, xdp_sock"));
                    }
                }
                ArgType::Socket => {
                    if r.ty != RegType::Socket || r.maybe_null() {
                        return Err(expect("sock"));
                    }
                }
                ArgType::SpinLock => {
                    if r.ty != RegType::MapValue || r.maybe_null() {
                        return Err(expect("map_value, ptr_"));
                    }
                    self.process_spin_lock(pc, st, regno, &r, id == HELPER_SPIN_LOCK)?;
                }
                ArgType::BtfIdSockCommon { release } => {
                    if !r.ty.is_sk_pointer() || r.maybe_null() {
                        return Err(expect(
                            "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_",
                        ));
                    }
                    if *release {
                        if r.ref_obj_id == 0 {
                            return Err(refuse(
                                EINVAL,
                                pc,
                                format!(
                                    "R{regno} must be referenced when passed to release function"
                                ),
                            ));
                        }
                        released = Some(r.ref_obj_id);
                    }
                }
            }
            if *arg != ArgType::Anything && r.ref_obj_id != 0 {
                if let Some(other) = arg_ref {
                    return Err(refuse(
                        EFAULT,
                        pc,
                        format!(
                            "more than one arg with ref_obj_id R{regno} {} {other}",
                            r.ref_obj_id
                        ),
                    ));
                }
                arg_ref = Some(r.ref_obj_id);
            }
        }
        // A constant index into the program array decides which program
        // runs (`record_func_key`).
        if id == HELPER_TAIL_CALL {
            let max = map
                .and_then(|m| self.maps.get(m as usize))
                .map_or(0, |m| u64::from(m.max_entries));
            let key = st.reg(Reg::R3).var.var_off;
            if st.reg(Reg::R3).ty == RegType::Scalar && key.is_const() && key.value < max {
                self.precise_reg(st, Reg::R3);
            }
        }
        if let Some(start) = callback {
            if !CALLBACK_HELPERS.contains(&id) {
                return Err(refuse(
                    EINVAL,
                    pc,
                    format!(
                        "{}#{id}: callbacks of this helper not modelled yet",
                        proto.name
                    ),
                ));
            }
            // bpf_loop calls back at most its count's maximum times: the
            // count decides when iterating stops, so it is precise.
            let more = if id == HELPER_LOOP {
                // The flags decide whether the loop can be inlined, the
                // count when iterating stops (`update_loop_inline_state`).
                self.precise_reg(st, Reg::R4);
                self.precise_reg(st, Reg::R1);
                u64::from(st.cur().callback_depth) < st.reg(Reg::R1).var.umax_value
            } else {
                true
            };
            // The state after the call is printed in full.
            self.scratch_all();
            if more {
                self.push_callback(pc, st, id, start, map, pending)?;
            } else if self.level & LOG_LEVEL2 != 0 {
                self.log.push_str(&format!(
                    "frame{} bpf_loop iteration limit reached\n",
                    st.frames.len().saturating_sub(1)
                ));
            }
            // The path that goes on has left the loop.
            st.cur_mut().callback_depth = 0;
        }
        if let Some(id) = released {
            // Every copy of the released pointer, spilled ones included,
            // becomes an unknown scalar, or unreadable for a loader that may
            // not leak pointers (`mark_reg_invalid`).
            st.refs.retain(|(r, _)| *r != id);
            let gone = if self.unpriv {
                RegState::not_init()
            } else {
                RegState::unknown_scalar()
            };
            st.for_each_reg(|reg| {
                if reg.ref_obj_id == id {
                    *reg = gone;
                }
            });
        }
        if id == HELPER_TAIL_CALL {
            self.check_reference_leak(pc, st, "tail_call")?;
        }
        // `bpf_get_local_storage` cannot fail: its flags must be 0.
        if id == HELPER_GET_LOCAL_STORAGE {
            if !is_known_zero(st.reg(Reg::R2)) {
                return Err(refuse(
                    EINVAL,
                    pc,
                    "get_local_storage() doesn't support non-zero flags",
                ));
            }
            self.precise_reg(st, Reg::R2);
        }
        // The packet may have moved: no packet pointer survives the call
        // (`clear_all_pkt_pointers`; a loader that may leak pointers gets
        // unknown scalars).
        if proto.changes_pkt_data {
            st.for_each_reg(|reg| {
                if matches!(
                    reg.ty,
                    RegType::Packet | RegType::PacketMeta | RegType::PacketEnd
                ) {
                    *reg = RegState::unknown_scalar();
                }
            });
        }
        let sock_map = map
            .and_then(|m| self.maps.get(m as usize))
            .is_some_and(|m| SOCK_MAP_TYPES.contains(&m.map_type));
        // r1..r5 are clobbered, r0 is the result.
        for i in 1..=5 {
            st.cur_mut().regs[i] = RegState::not_init();
        }
        let r0 = match proto.ret {
            RetType::Integer => {
                let mut r = RegState::unknown_scalar();
                self.refine_retval(id, &mut r, msize_max);
                r
            }
            RetType::Void => RegState::not_init(),
            RetType::MapValueOrNull
                if let Some(inner) = map
                    .and_then(|m| self.maps.get(m as usize))
                    .and_then(|m| m.inner) =>
            {
                // A map-in-map's value is a map (`inner_map_meta`).
                let mut r = RegState::pointer(RegType::ConstMapPtr);
                r.map = Some(inner);
                r.flags = TypeFlags::MAYBE_NULL;
                r.id = self.new_id();
                r
            }
            // A socket map's element is a socket reference.
            RetType::MapValueOrNull if id == HELPER_MAP_LOOKUP_ELEM && sock_map => {
                let mut r = RegState::pointer(RegType::Socket);
                r.flags = TypeFlags::MAYBE_NULL;
                r.id = self.new_id();
                r
            }
            RetType::MapValueOrNull => {
                let mut r = RegState::pointer(RegType::MapValue);
                r.map = map;
                // An array looked up with a constant key inside it cannot
                // fail (`can_elide_value_nullness`, 6.14+).
                let meta = map.and_then(|m| self.maps.get(m as usize));
                // Not for a loader without CAP_BPF (Spectre v1).
                let in_array = !self.unpriv
                    && meta.is_some_and(|m| {
                        // BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY.
                        matches!(m.map_type, 2 | 6)
                            && const_key.is_some_and(|k| k < u64::from(m.max_entries))
                    });
                if in_array {
                    // The key's value decided that the lookup cannot fail.
                    let innermost = u32::try_from(st.frames.len().saturating_sub(1)).unwrap_or(0);
                    // A key of `STACK_ZERO` bytes needs no precision:
                    // stored states compare those bytes exactly
                    // (`get_constant_map_key`).
                    let zero_key = key_ptr.is_some_and(|(k, size)| {
                        let frame = st.frames.get(k.frameno as usize);
                        (0..i64::from(size)).all(|i| {
                            let a = i64::from(k.off).saturating_add(i);
                            i32::try_from(a).ok().is_some_and(|a| {
                                let (spi, j) = slot_of(a);
                                frame
                                    .and_then(|f| f.stack.get(spi))
                                    .is_some_and(|sl| sl.types[j] == SlotType::Zero)
                            })
                        })
                    });
                    // A value whose lock may be taken has an id to name it.
                    if meta.is_some_and(|m| m.spin_lock_off.is_some()) {
                        r.id = self.new_id();
                    }
                    match key_ptr {
                        _ if zero_key => {}
                        Some((k, size)) if k.frameno == innermost => {
                            let lo = i64::from(k.off);
                            let hi = lo.saturating_add(i64::from(size));
                            let mut slots = 0u64;
                            for a in lo..hi {
                                if (STACK_BOTTOM..0).contains(&a) {
                                    let spi = slot_of(a as i32).0;
                                    if spi < 64 {
                                        slots |= 1 << spi;
                                    }
                                }
                            }
                            self.mark_precise(st, 0, slots, true);
                        }
                        _ => self.mark_all_precise(st),
                    }
                } else {
                    r.flags = TypeFlags::MAYBE_NULL;
                    r.id = self.new_id();
                }
                r
            }
            RetType::MapValue => {
                let mut r = RegState::pointer(RegType::MapValue);
                r.map = map;
                r
            }
            RetType::RingbufMemOrNull => {
                let mut r = RegState::pointer(RegType::Mem);
                r.flags = TypeFlags::MAYBE_NULL.union(TypeFlags::RINGBUF);
                r.id = self.new_id();
                r.mem_size = alloc_size;
                r
            }
            RetType::SocketOrNull | RetType::TcpSockOrNull | RetType::SockCommonOrNull => {
                let ty = match proto.ret {
                    RetType::SocketOrNull => RegType::Socket,
                    RetType::TcpSockOrNull => RegType::TcpSock,
                    _ => RegType::SockCommon,
                };
                let mut r = RegState::pointer(ty);
                r.flags = TypeFlags::MAYBE_NULL;
                r.id = self.new_id();
                r
            }
        };
        let mut r0 = r0;
        if is_ptr_cast_function(id) {
            // The same socket: released with the argument's reference.
            r0.ref_obj_id = arg_ref.unwrap_or(0);
        } else if (proto.acquires || (id == HELPER_MAP_LOOKUP_ELEM && sock_map))
            && r0.ty.is_pointer()
        {
            // The reference's id replaces the `NULL` check's
            // (`acquire_reference`): the kernel's numbering.
            let rid = self.new_id();
            r0.id = rid;
            r0.ref_obj_id = rid;
            st.refs.push((rid, pc));
        }
        st.cur_mut().regs[0] = r0;
        if let Some(m) = map.and_then(|m| self.maps.get(m as usize)) {
            self.check_map_func_compatibility(pc, m.map_type, id, proto.name)?;
        }
        Ok(())
    }

    /// `check_map_func_compatibility`: which helpers take which map types,
    /// asked both ways (the map's side, then the helper's).
    fn check_map_func_compatibility(
        &mut self,
        pc: usize,
        map_type: u32,
        id: i32,
        name: &str,
    ) -> Result<(), Refusal> {
        use map_types as mt;
        // The helpers a map type is limited to (`None`: any).
        let map_side: Option<&[i32]> = match map_type {
            mt::PROG_ARRAY => Some(&[12]),
            mt::PERF_EVENT_ARRAY => Some(&[22, 25, 111, 55, 121]),
            mt::RINGBUF => Some(&[130, 131, 134, 198, 199, 200]),
            mt::USER_RINGBUF => Some(&[209]),
            mt::STACK_TRACE => Some(&[27]),
            mt::CGROUP_ARRAY => Some(&[37, 41]),
            mt::CGROUP_STORAGE | mt::PERCPU_CGROUP_STORAGE => Some(&[81]),
            mt::DEVMAP | mt::DEVMAP_HASH | mt::XSKMAP => Some(&[51, 1]),
            mt::CPUMAP => Some(&[51]),
            mt::ARRAY_OF_MAPS | mt::HASH_OF_MAPS => Some(&[1]),
            mt::SOCKMAP => Some(&[52, 53, 60, 82, 1]),
            mt::SOCKHASH => Some(&[72, 70, 71, 82, 1]),
            mt::REUSEPORT_SOCKARRAY => Some(&[82]),
            mt::QUEUE | mt::STACK => Some(&[89, 88, 87]),
            mt::SK_STORAGE => Some(&[107, 108, 194]),
            mt::INODE_STORAGE => Some(&[145, 146, 194]),
            mt::TASK_STORAGE => Some(&[156, 157, 194]),
            mt::CGRP_STORAGE => Some(&[210, 211, 194]),
            mt::BLOOM_FILTER => Some(&[89, 87]),
            _ => None,
        };
        let mut ok = map_side.is_none_or(|allowed| allowed.contains(&id));
        if !ok && matches!(map_type, mt::SOCKMAP | mt::SOCKHASH) && matches!(id, 2 | 3) {
            ok = self.env.may_update_sockmap(id == 3);
            if !ok {
                self.log.push_str("cannot update sockmap in this context\n");
            }
        }
        // The map types a helper is limited to.
        let func_side: Option<&[u32]> = match id {
            12 => Some(&[mt::PROG_ARRAY]),
            22 | 25 | 55 | 111 | 121 => Some(&[mt::PERF_EVENT_ARRAY]),
            130 | 131 | 134 | 198 | 199 | 200 => Some(&[mt::RINGBUF]),
            209 => Some(&[mt::USER_RINGBUF]),
            27 => Some(&[mt::STACK_TRACE]),
            37 | 41 => Some(&[mt::CGROUP_ARRAY]),
            51 => Some(&[mt::DEVMAP, mt::DEVMAP_HASH, mt::CPUMAP, mt::XSKMAP]),
            52 | 60 | 53 => Some(&[mt::SOCKMAP]),
            70..=72 => Some(&[mt::SOCKHASH]),
            81 => Some(&[mt::CGROUP_STORAGE, mt::PERCPU_CGROUP_STORAGE]),
            82 => Some(&[mt::REUSEPORT_SOCKARRAY, mt::SOCKMAP, mt::SOCKHASH]),
            88 => Some(&[mt::QUEUE, mt::STACK]),
            89 | 87 => Some(&[mt::QUEUE, mt::STACK, mt::BLOOM_FILTER]),
            195 => Some(&[mt::PERCPU_ARRAY, mt::PERCPU_HASH, mt::LRU_PERCPU_HASH]),
            107 | 108 => Some(&[mt::SK_STORAGE]),
            145 | 146 => Some(&[mt::INODE_STORAGE]),
            156 | 157 => Some(&[mt::TASK_STORAGE]),
            210 | 211 => Some(&[mt::CGRP_STORAGE]),
            _ => None,
        };
        ok = ok && func_side.is_none_or(|allowed| allowed.contains(&map_type));
        if ok {
            return Ok(());
        }
        Err(refuse(
            EINVAL,
            pc,
            format!("cannot pass map_type {map_type} into func bpf_{name}#{id}"),
        ))
    }

    /// `process_spin_lock`: a lock at the constant offset of its map
    /// value's `struct bpf_spin_lock`, one at a time, unlocked where it was
    /// locked.
    fn process_spin_lock(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        regno: usize,
        r: &RegState,
        lock: bool,
    ) -> Result<(), Refusal> {
        if !r.var.var_off.is_const() {
            return Err(refuse(
                EINVAL,
                pc,
                format!(
                    "R{regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset"
                ),
            ));
        }
        let map = r.map.unwrap_or(u32::MAX);
        let Some(lock_off) = self.maps.get(map as usize).and_then(|m| m.spin_lock_off) else {
            // The map's name and whether it has BTF are not known here.
            return Err(refuse(EINVAL, pc, "map has no valid bpf_spin_lock"));
        };
        let at = (r.var.var_off.value as i64).wrapping_add(i64::from(r.off));
        if at != i64::from(lock_off) {
            return Err(refuse(
                EINVAL,
                pc,
                format!("off {at} doesn't point to 'struct bpf_spin_lock' that is at {lock_off}"),
            ));
        }
        if lock {
            if st.lock.is_some() {
                return Err(refuse(
                    EINVAL,
                    pc,
                    "Locking two bpf_spin_locks are not allowed",
                ));
            }
            st.lock = Some((map, r.id));
        } else {
            if st.lock.is_none() {
                return Err(refuse(EINVAL, pc, "bpf_spin_unlock without taking a lock"));
            }
            if st.lock != Some((map, r.id)) {
                return Err(refuse(EINVAL, pc, "bpf_spin_unlock of different lock"));
            }
            st.lock = None;
        }
        Ok(())
    }

    /// Nothing may end the program or leave it while a spin lock is held
    /// (`check_resource_leak`'s lock part).
    fn check_lock_held(&self, pc: usize, st: &VerifierState, prefix: &str) -> Result<(), Refusal> {
        if st.lock.is_some() {
            return Err(refuse(
                EINVAL,
                pc,
                format!("{prefix} cannot be used inside bpf_spin_lock-ed region"),
            ));
        }
        Ok(())
    }

    /// `check_resource_leak`: every reference still held is logged, then
    /// `PREFIX would lead to reference leak`.
    fn check_reference_leak(
        &mut self,
        pc: usize,
        st: &VerifierState,
        prefix: &str,
    ) -> Result<(), Refusal> {
        if st.refs.is_empty() {
            return Ok(());
        }
        for (id, at) in &st.refs {
            self.log
                .push_str(&format!("Unreleased reference id={id} alloc_insn={at}\n"));
        }
        Err(refuse(
            EINVAL,
            pc,
            format!("{prefix} would lead to reference leak"),
        ))
    }

    /// A helper reads or writes `size` bytes at `r`.
    /// Memory a helper reads or writes through argument `regno`: `size`
    /// bytes from the pointer (`check_helper_mem_access`). A zero size
    /// checks nothing. Stack bytes a helper writes become data: spills
    /// there are gone (`check_stack_range_initialized` with `clobber`).
    fn check_helper_mem(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        regno: usize,
        r: RegState,
        size: u32,
        write: bool,
    ) -> Result<(), Refusal> {
        let rn = u8::try_from(regno).unwrap_or(1);
        let n = i32::try_from(size).unwrap_or(i32::MAX);
        if r.maybe_null() {
            return Err(refuse(
                EACCES,
                pc,
                format!(
                    "R{regno} type={} expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
                    r.type_str()
                ),
            ));
        }
        match r.ty {
            RegType::Stack => {
                let fixed = i64::from(r.off);
                if !r.var.var_off.is_const()
                    || fixed < STACK_BOTTOM
                    || fixed.saturating_add(i64::from(size)) > 0
                {
                    return Err(refuse(
                        EACCES,
                        pc,
                        format!(
                            "invalid indirect access to stack R{regno} off={fixed} size={size}"
                        ),
                    ));
                }
                if size == 0 {
                    return Ok(());
                }
                // In range: `fixed` and `fixed + size` are in [-512, 0].
                let (lo, hi) = (fixed as i32, fixed.saturating_add(i64::from(size)) as i32);
                if self.unpriv {
                    // No uninitialised bytes and no spilled pointers go to a
                    // helper, and a helper does not overwrite a spilled
                    // pointer (`check_stack_range_initialized`).
                    let frame = st.frames.get(r.frameno as usize);
                    for a in lo..hi {
                        let (spi, j) = slot_of(a);
                        let allocated = frame.and_then(|f| f.stack.get(spi)).copied();
                        let slot = allocated.unwrap_or_default();
                        let t = slot.types[j];
                        let spilled_ptr = t == SlotType::Spill && slot.spilled.ty.is_pointer();
                        if write && !self.quiet_clobber {
                            if spilled_ptr {
                                return Err(refuse(
                                    EACCES,
                                    pc,
                                    "attempt to corrupt spilled pointer on stack",
                                ));
                            }
                            continue;
                        }
                        if allocated.is_none() {
                            return Err(refuse(
                                EACCES,
                                pc,
                                format!("invalid read from stack R{regno} off={fixed} size={size}"),
                            ));
                        }
                        if t == SlotType::Invalid || spilled_ptr {
                            return Err(refuse(
                                EACCES,
                                pc,
                                format!(
                                    "invalid indirect read from stack R{regno} off {fixed}+{} size {size}",
                                    a.saturating_sub(lo)
                                ),
                            ));
                        }
                    }
                }
                let frame_idx = r.frameno as usize;
                // What the helper reads (a buffer it fills is not counted
                // as written: conservative).
                if !write || self.quiet_clobber {
                    self.mark_stack(pc, st, frame_idx, i64::from(lo), i64::from(hi), false);
                }
                let sub = st.frames.get(frame_idx).map_or(0, |f| f.subprog);
                if let Some(d) = self.stack_depth.get_mut(sub) {
                    *d = (*d).max(lo.unsigned_abs());
                }
                if write && !std::mem::take(&mut self.quiet_clobber) {
                    self.scratch_stack(i64::from(lo), i64::from(hi));
                }
                if write && let Some(frame) = st.frames.get_mut(frame_idx) {
                    for a in lo..hi {
                        let (spi, j) = slot_of(a);
                        let slot = frame.slot_mut(spi);
                        if slot.has_spill() {
                            slot.spilled = RegState::unknown_scalar();
                            for t in &mut slot.types {
                                if *t == SlotType::Spill {
                                    *t = SlotType::Misc;
                                }
                            }
                        }
                        slot.types[j] = SlotType::Misc;
                    }
                }
                Ok(())
            }
            _ if size == 0 => Ok(()),
            RegType::MapValue => {
                let meta = r.map.and_then(|i| self.maps.get(i as usize)).copied();
                let vs = meta.map_or(0, |m| m.value_size);
                check_map_access_type(pc, meta.as_ref(), r.off, n, write)?;
                self.region_check(pc, rn, &r, 0, n, i64::from(vs), |o| {
                    format!("invalid access to map value, value_size={vs} off={o} size={n}")
                })?;
                check_special_fields(pc, meta.as_ref(), &r, r.off, n)
            }
            RegType::MapKey => {
                let meta = r.map.and_then(|i| self.maps.get(i as usize)).copied();
                let ks = meta.map_or(0, |m| m.key_size);
                self.region_check(pc, rn, &r, 0, n, i64::from(ks), |o| {
                    format!("invalid access to memory, mem_size={ks} off={o} size={n}")
                })
            }
            RegType::Mem => {
                let sz = r.mem_size;
                self.region_check(pc, rn, &r, 0, n, i64::from(sz), |o| {
                    format!("invalid access to memory, mem_size={sz} off={o} size={n}")
                })
            }
            RegType::Packet | RegType::PacketMeta => {
                if write && !self.env.packet_writable() {
                    return Err(refuse(
                        EACCES,
                        pc,
                        "helper access to the packet is not allowed",
                    ));
                }
                self.check_packet_range(pc, regno, &r, i64::from(r.off), i64::from(size))?;
                Ok(())
            }
            _ => Err(refuse(
                EACCES,
                pc,
                format!(
                    "R{regno} type={} expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
                    r.type_str()
                ),
            )),
        }
    }

    fn exit(&mut self, pc: usize, st: &mut VerifierState) -> Result<Next, Refusal> {
        // `prepare_func_exit`: the callee's frame is gone after the return.
        if st.frames.len() > 1 && st.reg(Reg::R0).ty == RegType::Stack {
            return Err(refuse(
                EINVAL,
                pc,
                "cannot return stack pointer to the caller",
            ));
        }
        if st.frames.len() > 1 && st.cur().callback {
            // A callback returns 0 or 1 to its helper, and control goes
            // back to the helper call, which may call it again
            // (`prepare_func_exit` with `in_callback_fn`).
            let r0 = self.read(st, pc, Reg::R0)?;
            if r0.ty != RegType::Scalar {
                return Err(refuse(EACCES, pc, "R0 not a scalar value"));
            }
            self.precise_reg(st, Reg::R0);
            if r0.var.smin_value < 0 || r0.var.smax_value > 1 {
                return Err(refuse(
                    EINVAL,
                    pc,
                    invalid_scalar("At callback return", &r0, 0, 1),
                ));
            }
            if self.logging() {
                self.log.push_str("returning from callee:\n");
                self.print_frame(st, st.frames.len().saturating_sub(1));
            }
            let Some(callee) = st.frames.pop() else {
                return Ok(Next::Done);
            };
            let back = callee.callsite.unwrap_or(pc);
            if self.logging() {
                self.log.push_str(&format!("to caller at {back}:\n"));
                self.print_frame(st, st.frames.len().saturating_sub(1));
            }
            return Ok(Next::Jump(back));
        }
        if st.frames.len() > 1 {
            // A subprogram's r0 goes back as it is (`prepare_func_exit`):
            // the caller fails only if it reads an unset one.
            let r0 = *st.reg(Reg::R0);
            // Return to the caller.
            if self.logging() {
                self.log.push_str("returning from callee:\n");
                self.print_frame(st, st.frames.len().saturating_sub(1));
            }
            let Some(callee) = st.frames.pop() else {
                return Ok(Next::Done);
            };
            let caller = st.cur_mut();
            for i in 1..=5 {
                caller.regs[i] = RegState::not_init();
            }
            caller.regs[0] = r0;
            let back = callee.callsite.unwrap_or(pc).saturating_add(1);
            if self.logging() {
                self.log.push_str(&format!("to caller at {back}:\n"));
                self.print_frame(st, st.frames.len().saturating_sub(1));
            }
            return Ok(Next::Jump(back));
        }
        let r0 = self.read(st, pc, Reg::R0)?;
        if self.in_global {
            // A global function returns any scalar (`check_return_code`
            // of a subprogram).
            if r0.ty != RegType::Scalar {
                return Err(refuse(
                    EINVAL,
                    pc,
                    format!(
                        "At subprogram exit the register R0 is not a scalar value ({})",
                        r0.type_str()
                    ),
                ));
            }
            return Ok(Next::Done);
        }
        self.check_lock_held(pc, st, "BPF_EXIT instruction in main prog")?;
        self.check_reference_leak(pc, st, "BPF_EXIT instruction in main prog")?;
        if self.unpriv && r0.ty.is_pointer() {
            return Err(refuse(EACCES, pc, "R0 leaks addr as return value"));
        }
        if let Some((lo, hi)) = self.env.return_range() {
            self.precise_reg(st, Reg::R0);
            if r0.ty != RegType::Scalar {
                return Err(refuse(
                    EINVAL,
                    pc,
                    format!(
                        "At program exit the register R0 is not a known value ({})",
                        r0.type_str()
                    ),
                ));
            }
            if r0.var.smin_value < lo || r0.var.smax_value > hi {
                return Err(refuse(
                    EINVAL,
                    pc,
                    invalid_scalar("At program exit", &r0, lo, hi),
                ));
            }
        }
        Ok(Next::Done)
    }

    /// `check_max_stack_depth`: along the call chain with the deepest
    /// combined stack (at most [`MAX_CALL_FRAMES`] frames), refuse once the
    /// sum passes 512 bytes. Each (subprogram, depth) pair is computed once,
    /// so the cost is linear in the call graph, whatever its shape.
    /// `BPF_LD_[ABS|IND]` (`check_ld_abs`): a packet load through the
    /// context in `r6` for socket filters and tc programs, which clobbers
    /// `r1`-`r5` like a call and leaves any value in `r0`.
    fn ld_abs(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        insn: &Insn,
        size: Size,
    ) -> Result<(), Refusal> {
        if !self.env.may_access_skb() {
            return Err(refuse(
                EINVAL,
                pc,
                "BPF_LD_[ABS|IND] instructions not allowed for this program type",
            ));
        }
        if size == Size::DW {
            return Err(refuse(EINVAL, pc, "BPF_LD_[ABS|IND] uses reserved fields"));
        }
        let ctx = self.read(st, pc, Reg::R6)?;
        self.check_lock_held(pc, st, "BPF_LD_[ABS|IND]")?;
        self.check_reference_leak(pc, st, "BPF_LD_[ABS|IND]")?;
        if ctx.ty != RegType::Ctx {
            return Err(refuse(
                EINVAL,
                pc,
                "at the time of BPF_LD_ABS|IND R6 != pointer to skb",
            ));
        }
        if let Insn::LdInd { src, .. } = insn {
            self.read(st, pc, *src)?;
        }
        if ctx.off != 0 {
            return Err(refuse(
                EACCES,
                pc,
                format!(
                    "dereference of modified ctx ptr R6 off={} disallowed",
                    ctx.off
                ),
            ));
        }
        let cur = st.cur_mut();
        for r in &mut cur.regs[1..=5] {
            *r = RegState::not_init();
        }
        cur.regs[0] = RegState::unknown_scalar();
        Ok(())
    }

    /// What the kernel knows of some helpers' integer results
    /// (`do_refine_retval_range`): the CPU number is below `nr_cpu_ids`,
    /// a string or stack copy returns at most its buffer's size or a
    /// negative errno.
    fn refine_retval(&self, id: i32, r: &mut RegState, msize_max: u64) {
        let v = &mut r.var;
        match id {
            // bpf_get_smp_processor_id
            8 => {
                let Some(n) = self.env.nr_cpu_ids() else {
                    return;
                };
                let max = n.saturating_sub(1);
                v.umin_value = 0;
                v.umax_value = u64::from(max);
                v.smin_value = 0;
                v.smax_value = i64::from(max);
                v.u32_min_value = 0;
                v.u32_max_value = max;
                v.s32_min_value = 0;
                v.s32_max_value = i32::try_from(max).unwrap_or(i32::MAX);
                v.sync();
            }
            // bpf_probe_read_str, bpf_get_stack, bpf_get_task_stack,
            // bpf_probe_read_{user,kernel}_str
            45 | 67 | 114 | 115 | 141 => {
                // MAX_ERRNO.
                let max = i64::try_from(msize_max).unwrap_or(i64::MAX);
                v.smax_value = max;
                v.s32_max_value = i32::try_from(msize_max).unwrap_or(i32::MAX);
                v.smin_value = -4095;
                v.s32_min_value = -4095;
                v.sync();
            }
            _ => {}
        }
    }

    /// A helper that calls `start` back (`push_callback_call`): the path
    /// goes on after the call as if the callback ran zero times, and a
    /// queued path enters the callback in a new frame, its arguments set
    /// as the helper passes them. The callback's `exit` comes back to the
    /// call, which queues the next iteration until the states converge
    /// there.
    fn push_callback(
        &mut self,
        pc: usize,
        st: &VerifierState,
        helper: i32,
        start: usize,
        map: Option<u32>,
        pending: &mut Vec<Pending>,
    ) -> Result<(), Refusal> {
        if st.frames.len() >= MAX_CALL_FRAMES {
            return Err(refuse(
                E2BIG,
                pc,
                format!(
                    "the call stack of {} frames is too deep",
                    st.frames.len().saturating_add(1)
                ),
            ));
        }
        let mut cb = st.clone();
        cb.callback_unroll_depth = cb.callback_unroll_depth.saturating_add(1);
        let depth = cb.cur().callback_depth.saturating_add(1);
        cb.cur_mut().callback_depth = depth;
        let caller = cb.cur().clone();
        let frameno = u32::try_from(cb.frames.len()).unwrap_or(u32::MAX);
        let mut frame = FuncState::new(frameno, self.subprog_index(start), Some(pc));
        frame.callback = true;
        match helper {
            // bpf_for_each_map_elem(map, cb, ctx, flags):
            // cb(map, key, value, ctx).
            HELPER_FOR_EACH_MAP_ELEM => {
                frame.regs[1] = caller.regs[1];
                let mut key = RegState::pointer(RegType::MapKey);
                key.map = map;
                frame.regs[2] = key;
                let mut value = RegState::pointer(RegType::MapValue);
                value.map = map;
                frame.regs[3] = value;
                frame.regs[4] = caller.regs[3];
            }
            // bpf_loop(n, cb, ctx, flags): cb(index, ctx).
            _ => {
                frame.regs[1] = RegState::unknown_scalar();
                frame.regs[2] = caller.regs[3];
            }
        }
        cb.frames.push(frame);
        self.fork(pending, start, cb, pc)?;
        Ok(())
    }

    /// `may_goto pc+off`: this path takes the jump (the loop's way out);
    /// the fall-through is queued one `may_goto` deeper, its imprecise
    /// scalars that changed since the previous iteration's state at this
    /// instruction widened to unknown (`widen_imprecise_scalars`), so that
    /// the iterations converge.
    fn may_goto(
        &mut self,
        pc: usize,
        st: &mut VerifierState,
        off: i16,
        pending: &mut Vec<Pending>,
    ) -> Result<Next, Refusal> {
        let mut other = st.clone();
        other.may_goto_depth = other.may_goto_depth.saturating_add(1);
        // The latest state stored here by an earlier iteration of this
        // path (`find_prev_entry`): an ancestor of the one just stored.
        let prev = self.at.get(pc).and_then(|ids| {
            ids.iter().rev().copied().find(|&id| {
                Some(id) != st.parent
                    && self.checkpoints.get(id).is_some_and(|c| c.branches > 0)
                    && self.is_ancestor(id, st.parent)
            })
        });
        if let Some(prev) = prev.and_then(|id| self.checkpoints.get(id)) {
            widen_imprecise_scalars(&prev.state, &mut other, self.unpriv);
        }
        self.fork(pending, pc.saturating_add(1), other, pc)?;
        Ok(Next::Jump(target(pc, i32::from(off))))
    }

    fn check_max_stack_depth(&self) -> Result<(), Refusal> {
        let n = self.subprog_starts.len();
        // One function: its own stack, bounded when it was used.
        if n <= 1 {
            return Ok(());
        }
        let mut calls: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (pc, insn) in self.prog.iter() {
            // Callbacks run on top of the frame that passes them.
            let off = match insn {
                Insn::Call(CallTarget::Local(off)) => Some(*off),
                Insn::LdImm64 {
                    imm: Imm64::Func(off),
                    ..
                } => Some(*off),
                _ => None,
            };
            if let Some(off) = off {
                let from = self.subprog_index(pc);
                let to = self.subprog_index(target(pc, off));
                if let Some(list) = calls.get_mut(from) {
                    list.push(to);
                }
            }
        }
        for list in &mut calls {
            list.sort_unstable();
            list.dedup();
        }
        // Each frame counts rounded up to 16 bytes, as for the JIT
        // (`round_up_stack_depth`).
        let own = |sub: usize| {
            let d = self.stack_depth.get(sub).copied().unwrap_or(0);
            d.saturating_add(15) & !15
        };
        // deepest[d][sub]: the largest stack of a chain starting at `sub`
        // as frame `d + 1`, and the callee it continues with. Filled from
        // the deepest frame up.
        let mut deepest: Vec<Vec<(u32, Option<usize>)>> = vec![vec![(0, None); n]; MAX_CALL_FRAMES];
        for d in (0..MAX_CALL_FRAMES).rev() {
            for sub in 0..n {
                let mut best = (0u32, None);
                if let Some(below) = deepest.get(d.saturating_add(1)) {
                    for &c in calls.get(sub).into_iter().flatten() {
                        let v = below.get(c).map_or(0, |x| x.0);
                        if best.1.is_none() || v > best.0 {
                            best = (v, Some(c));
                        }
                    }
                }
                deepest[d][sub] = (own(sub).saturating_add(best.0), best.1);
            }
        }
        // Follow the deepest chain from the main program.
        let (mut acc, mut cur) = (0u32, Some(0usize));
        for (d, level) in deepest.iter().enumerate() {
            let Some(sub) = cur else { break };
            acc = acc.saturating_add(own(sub));
            if acc > MAX_STACK as u32 {
                return Err(refuse(
                    EACCES,
                    0,
                    format!(
                        "combined stack size of {} calls is {acc}. Too large",
                        d.saturating_add(1)
                    ),
                ));
            }
            cur = level.get(sub).and_then(|x| x.1);
        }
        Ok(())
    }
}

/// What `is_state_visited` decided.
enum Visited {
    /// A finished checkpoint covers this path: stop it.
    Prune,
    /// Go on.
    Continue,
}

/// `states_equal`: every path from `cur` is one `old` already proved safe
/// (so `old` must be at least as general, register by register and slot
/// by slot, with ids mapped consistently). All scalars count as precise
/// (there is no precision tracking yet), which is sound and prunes less
/// than the kernel.
/// The stack slots (bit `i`: bytes `[-8(i+1), -8i)`) that bytes `[lo, hi)`
/// touch: any byte of a slot, or with `whole` only slots covered entirely.
fn stack_slot_mask(lo: i64, hi: i64, whole: bool) -> u64 {
    let lo = lo.clamp(STACK_BOTTOM, 0);
    let hi = hi.clamp(STACK_BOTTOM, 0);
    if lo >= hi {
        return 0;
    }
    // 8-byte slots (`REG_SIZE`).
    let (neg_lo, neg_hi) = (lo.saturating_neg(), hi.saturating_neg());
    let (first, last) = if whole {
        (
            neg_hi.saturating_add(7).saturating_div(8),
            neg_lo.saturating_div(8).saturating_sub(1),
        )
    } else {
        (
            neg_hi.saturating_div(8),
            neg_lo.saturating_sub(1).saturating_div(8),
        )
    };
    if first > last || first > 63 {
        return 0;
    }
    let width = last.min(63).saturating_sub(first).saturating_add(1) as u32;
    let ones = 1u64
        .checked_shl(width)
        .map_or(u64::MAX, |v| v.wrapping_sub(1));
    ones.checked_shl(first as u32).unwrap_or(0)
}

/// `widen_imprecise_scalars`: every scalar of `cur` (registers and spilled
/// registers, every frame) that is not precise in either state and is not
/// exactly `old`'s becomes unknown.
fn widen_imprecise_scalars(old: &VerifierState, cur: &mut VerifierState, unpriv: bool) {
    let mut ids: Vec<(u32, u32)> = Vec::new();
    let mut widen = |rold: &RegState, rcur: &mut RegState| {
        if rold.ty != RegType::Scalar || rcur.ty != RegType::Scalar {
            return;
        }
        if rold.precise || rcur.precise || regs_exact(rold, rcur, &mut ids) {
            return;
        }
        *rcur = RegState::unknown_scalar();
        // `__mark_reg_unknown`: precise without CAP_BPF.
        rcur.precise = unpriv;
    };
    for (fold, fcur) in old.frames.iter().zip(cur.frames.iter_mut()) {
        for (rold, rcur) in fold.regs.iter().zip(fcur.regs.iter_mut()) {
            widen(rold, rcur);
        }
        for (sold, scur) in fold.stack.iter().zip(fcur.stack.iter_mut()) {
            if sold.has_spill() && scur.has_spill() {
                widen(&sold.spilled, &mut scur.spilled);
            }
        }
    }
}

/// `regs_exact`: the same register, ids mapped consistently (`old` to
/// `cur`, recorded in `ids`).
fn regs_exact(old: &RegState, cur: &RegState, ids: &mut Vec<(u32, u32)>) -> bool {
    let mut map = |a: u32, b: u32| {
        if a == 0 || b == 0 {
            return a == b;
        }
        match ids.iter().find(|(x, y)| *x == a || *y == b) {
            Some(&(x, y)) => x == a && y == b,
            None => {
                ids.push((a, b));
                true
            }
        }
    };
    let (mut a, mut b) = (*old, *cur);
    let same_ids = map(a.id, b.id) && map(a.ref_obj_id, b.ref_obj_id);
    a.id = 0;
    b.id = 0;
    a.ref_obj_id = 0;
    b.ref_obj_id = 0;
    a.precise = false;
    b.precise = false;
    same_ids && a == b
}

/// Every register of the innermost frame is the same, live or not
/// (`states_maybe_looping`): the cheap first test for an infinite loop.
fn states_maybe_looping(old: &VerifierState, cur: &VerifierState) -> bool {
    if old.frames.len() != cur.frames.len() {
        return false;
    }
    let same = |a: &RegState, b: &RegState| {
        let (mut a, mut b) = (*a, *b);
        a.precise = false;
        b.precise = false;
        a.frameno = 0;
        b.frameno = 0;
        a == b
    };
    old.cur()
        .regs
        .iter()
        .zip(&cur.cur().regs)
        .all(|(a, b)| same(a, b))
}

/// `live[pc]`: the registers read later from `pc` on; only those are
/// compared (for a caller's frame, those live at its call).
/// [`states_equal`] against a finished state (`NOT_EXACT`), where the
/// stack slots of frame `f` outside `stack_live[f]` are dead: no path from
/// here reads them (`clean_live_states`).
fn states_equal_live(
    old: &VerifierState,
    cur: &VerifierState,
    live: &[u16],
    pc: usize,
    stack_live: Option<&[u64]>,
    range_within: bool,
) -> bool {
    states_equal_masked(old, cur, range_within, live, pc, stack_live.unwrap_or(&[]))
}

fn states_equal(
    old: &VerifierState,
    cur: &VerifierState,
    exact: bool,
    live: &[u16],
    pc: usize,
) -> bool {
    states_equal_masked(old, cur, exact, live, pc, &[])
}

/// `states_equal`, comparing only the stack slots of frame `f` in
/// `stack_masks[f]` (bit `i`: `fp-8*(i+1)`; every slot of a frame without
/// a mask).
fn states_equal_masked(
    old: &VerifierState,
    cur: &VerifierState,
    exact: bool,
    live: &[u16],
    pc: usize,
    stack_masks: &[u64],
) -> bool {
    if old.frames.len() != cur.frames.len() || old.refs.len() != cur.refs.len() {
        return false;
    }
    let mut ids: Vec<(u32, u32)> = Vec::new();
    for (o, c) in old.refs.iter().zip(&cur.refs) {
        if !check_ids(o.0, c.0, &mut ids) {
            return false;
        }
    }
    // The same lock held, in corresponding map values (`refsafe`).
    match (old.lock, cur.lock) {
        (None, None) => {}
        (Some((om, oid)), Some((cm, cid))) if om == cm && check_ids(oid, cid, &mut ids) => {}
        _ => return false,
    }
    let depth = old.frames.len();
    for (i, (fo, fc)) in old.frames.iter().zip(&cur.frames).enumerate() {
        if fo.callsite != fc.callsite || fo.callback_depth > fc.callback_depth {
            return false;
        }
        // Where this frame stands: `pc` for the innermost, else the call
        // it made.
        let at = if i.saturating_add(1) == depth {
            Some(pc)
        } else {
            old.frames.get(i.saturating_add(1)).and_then(|f| f.callsite)
        };
        let mask = at.and_then(|a| live.get(a).copied()).unwrap_or(u16::MAX);
        for (r, (ro, rc)) in fo.regs.iter().zip(&fc.regs).enumerate() {
            // `r10` is never in the live set and always the frame pointer.
            if r < 10 && mask & (1 << r) == 0 {
                continue;
            }
            if !regsafe(ro, rc, &mut ids, exact) {
                return false;
            }
        }
        let slots = stack_masks.get(i).copied().unwrap_or(u64::MAX);
        if !stacksafe(fo, fc, &mut ids, exact, slots) {
            return false;
        }
    }
    true
}

/// Old id `o` must always correspond to current id `c` (`check_ids`).
fn check_ids(o: u32, c: u32, map: &mut Vec<(u32, u32)>) -> bool {
    if o == 0 || c == 0 {
        return o == c;
    }
    for &(a, b) in map.iter() {
        if a == o {
            return b == c;
        }
        if b == c {
            return false;
        }
    }
    map.push((o, c));
    true
}

/// Every value `c` may hold is one `o` allowed (`range_within` and
/// `tnum_in`).
fn scalar_within(o: &ScalarBounds, c: &ScalarBounds) -> bool {
    o.umin_value <= c.umin_value
        && o.umax_value >= c.umax_value
        && o.smin_value <= c.smin_value
        && o.smax_value >= c.smax_value
        && o.u32_min_value <= c.u32_min_value
        && o.u32_max_value >= c.u32_max_value
        && o.s32_min_value <= c.s32_min_value
        && o.s32_max_value >= c.s32_max_value
        && o.var_off.in_(c.var_off)
}

/// `regsafe`.
fn regsafe(o: &RegState, c: &RegState, ids: &mut Vec<(u32, u32)>, exact: bool) -> bool {
    if o.ty == RegType::NotInit {
        // The old path never read it (it would have failed).
        return true;
    }
    if o.ty != c.ty || o.flags != c.flags {
        return false;
    }
    match o.ty {
        // A scalar no decision depended on is any scalar (precision
        // tracking marks the others), except when looking for a loop.
        RegType::Scalar if !exact && !o.precise => true,
        RegType::Scalar => {
            // Links with a constant distance must be the same links.
            if o.id & ADD_CONST != c.id & ADD_CONST || (o.id & ADD_CONST != 0 && o.off != c.off) {
                return false;
            }
            scalar_within(&o.var, &c.var) && (o.id == 0 || check_ids(o.id, c.id, ids))
        }
        RegType::Packet | RegType::PacketMeta => {
            o.off == c.off
                && c.range >= o.range
                && scalar_within(&o.var, &c.var)
                && check_ids(o.id, c.id, ids)
        }
        _ => {
            o.off == c.off
                && o.map == c.map
                && o.mem_size == c.mem_size
                && o.frameno == c.frameno
                && scalar_within(&o.var, &c.var)
                && check_ids(o.id, c.id, ids)
                && check_ids(o.ref_obj_id, c.ref_obj_id, ids)
        }
    }
}

/// `stacksafe`.
fn stacksafe(
    o: &FuncState,
    c: &FuncState,
    ids: &mut Vec<(u32, u32)>,
    exact: bool,
    slots: u64,
) -> bool {
    for (i, so) in o.stack.iter().enumerate() {
        // A dead slot: nothing reads it again.
        if i < 64 && slots & (1u64 << i) == 0 {
            continue;
        }
        let sc = c.stack.get(i).copied().unwrap_or_default();
        for j in 0..REG_SIZE {
            let (to, tc) = (so.types[j], sc.types[j]);
            match to {
                // Reading it gave the old path an unknown scalar.
                SlotType::Invalid => {
                    if tc == SlotType::Spill && sc.spilled.ty.is_pointer() {
                        return false;
                    }
                }
                SlotType::Misc => {
                    if tc == SlotType::Spill && sc.spilled.ty.is_pointer() {
                        return false;
                    }
                }
                SlotType::Zero => {
                    let zero_spill = tc == SlotType::Spill
                        && sc.spilled.ty == RegType::Scalar
                        && sc.spilled.var.var_off.is_const()
                        && sc.spilled.var.var_off.value == 0;
                    if tc != SlotType::Zero && !zero_spill {
                        return false;
                    }
                }
                SlotType::Spill => {
                    if tc != SlotType::Spill {
                        return false;
                    }
                }
            }
        }
        if so.has_spill() && !regsafe(&so.spilled, &sc.spilled, ids, exact) {
            return false;
        }
    }
    true
}

/// Where the walk goes after an instruction.
enum Next {
    Fall,
    Jump(usize),
    Done,
}

/// A load or a store (with the value stored).
#[derive(Clone, Copy)]
enum Access {
    Read,
    Write {
        value: RegState,
        /// Stored from an immediate (`ST`), not a register (`STX`).
        imm: bool,
    },
    /// A write of data no register holds (the store half of an atomic
    /// read-modify-write: `value_regno < 0`).
    Clobber,
}

fn target(pc: usize, off: i32) -> usize {
    (pc as i64)
        .saturating_add(1)
        .saturating_add(i64::from(off))
        .max(0) as usize
}

/// Stack slot index and kernel byte index of the byte at `r10 + a`
/// (`a < 0`).
fn slot_of(a: i32) -> (usize, usize) {
    // Callers pass offsets in [-512, 0).
    let k = a.saturating_neg().saturating_sub(1).max(0) as usize;
    (k / REG_SIZE, k % REG_SIZE)
}

/// The value of `size` (at most 8) bytes of stack at the stack pointer
/// `r`, when the verifier knows it: all `STACK_ZERO`, or a spilled
/// constant covering them.
/// The registers an instruction names as operands, which the kernel marks
/// scratched as it checks them (`check_reg_arg`); a helper call clobbers
/// `r0`-`r5`.
fn scratched_regs(insn: &Insn) -> u16 {
    let bit = |r: Reg| 1u16 << r.num();
    let op = |o: &Operand| match o {
        Operand::Reg(r) => bit(*r),
        Operand::Imm(_) => 0,
    };
    match insn {
        Insn::Alu { dst, src, .. } | Insn::Jump { dst, src, .. } => bit(*dst) | op(src),
        Insn::Store { dst, src, .. } => bit(*dst) | op(src),
        Insn::Neg { dst, .. } | Insn::Endian { dst, .. } | Insn::LdImm64 { dst, .. } => bit(*dst),
        Insn::MovSx { dst, src, .. }
        | Insn::AddrSpaceCast { dst, src, .. }
        | Insn::Load { dst, src, .. }
        | Insn::LoadSx { dst, src, .. }
        | Insn::LoadAcquire { dst, src, .. }
        | Insn::StoreRelease { dst, src, .. } => bit(*dst) | bit(*src),
        Insn::Atomic { op, dst, src, .. } => {
            let r0 = if *op == ebpf_isa::AtomicOp::Cmpxchg {
                bit(Reg::R0)
            } else {
                0
            };
            bit(*dst) | bit(*src) | r0
        }
        Insn::LdAbs { .. } => 0x3f | bit(Reg::R6),
        Insn::LdInd { src, .. } => 0x3f | bit(Reg::R6) | bit(*src),
        Insn::Call(CallTarget::Helper(_)) => 0x3f,
        Insn::Callx { reg } | Insn::Gotox { reg } => bit(*reg),
        _ => 0,
    }
}

fn stack_const(st: &VerifierState, r: &RegState, size: u32) -> Option<u64> {
    if r.ty != RegType::Stack || !r.var.var_off.is_const() || size == 0 || size > 8 {
        return None;
    }
    let frame = st.frames.get(r.frameno as usize)?;
    let start = r.off;
    let end = start.checked_add(size as i32)?;
    let mut all_zero = true;
    for a in start..end {
        if a >= 0 {
            return None;
        }
        let (spi, j) = slot_of(a);
        let t = frame
            .stack
            .get(spi)
            .map_or(SlotType::Invalid, |s| s.types[j]);
        if t != SlotType::Zero {
            all_zero = false;
        }
    }
    if all_zero {
        return Some(0);
    }
    let (spi, _) = slot_of(start);
    let slot = frame.stack.get(spi)?;
    let spilled = slot.spilled;
    let covered =
        (start..end).all(|a| slot_of(a).0 == spi && slot.types[slot_of(a).1] == SlotType::Spill);
    if covered && spilled.ty == RegType::Scalar && spilled.var.var_off.is_const() {
        let v = spilled.var.var_off.value;
        let bits = size.saturating_mul(8);
        let mask = u64::MAX
            .checked_shr(64u32.saturating_sub(bits))
            .unwrap_or(0);
        return Some(v & mask);
    }
    None
}

/// A read of `size` bytes at `off` of a socket (`bpf_sock_is_valid_access`,
/// `bpf_sock_common_is_valid_access`, `bpf_tcp_sock_is_valid_access`).
fn sock_access_ok(ty: RegType, off: i32, size: i32) -> bool {
    // `struct bpf_sock`: `type` up to `priority` is not part of the common
    // socket.
    const SOCK_COMMON_HOLE: std::ops::Range<i32> = 8..24;
    // `sizeof(struct bpf_sock)`, `offsetofend(struct bpf_tcp_sock,
    // icsk_retransmits)`.
    const BPF_SOCK_SIZE: i32 = 80;
    const BPF_TCP_SOCK_SIZE: i32 = 112;
    if size <= 0 || off < 0 || off.checked_rem(size) != Some(0) {
        return false;
    }
    // `bpf_ctx_narrow_access_ok`.
    let narrow = |field: i32| size <= field && size.count_ones() == 1;
    match ty {
        RegType::SockCommon if SOCK_COMMON_HOLE.contains(&off) => false,
        RegType::SockCommon | RegType::Socket => match off {
            _ if off >= BPF_SOCK_SIZE => false,
            // family, type, protocol, src_port, state, rx_queue_mapping:
            // from their first byte; src_ip4, src_ip6, dst_ip4, dst_ip6:
            // anywhere inside.
            4 | 8 | 12 | 44 | 72 | 76 | 24..=43 | 52..=71 => narrow(4),
            // dst_port: 4 bytes, or inside its 2.
            48 | 49 => narrow(if size == 4 { 4 } else { 2 }),
            // The padding after dst_port.
            50 | 51 => false,
            _ => size == 4,
        },
        RegType::TcpSock => match off {
            _ if off >= BPF_TCP_SOCK_SIZE => false,
            // bytes_received, bytes_acked.
            80 | 88 => size == 8,
            _ => size == 4,
        },
        _ => false,
    }
}

/// `check_reg_sane_offset`: offsets a pointer may take part in, and may
/// end up with (`BPF_MAX_VAR_OFF` either way).
fn check_reg_sane_offset(pc: usize, reg: &RegState, ty: &str) -> Result<(), Refusal> {
    const MAX_VAR_OFF: i64 = 1 << 29;
    let val = reg.var.var_off.value as i64;
    if reg.var.var_off.is_const() && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF) {
        return Err(refuse(
            EINVAL,
            pc,
            format!("math between {ty} pointer and {val} is not allowed"),
        ));
    }
    let off = i64::from(reg.off);
    if off >= MAX_VAR_OFF || off <= -MAX_VAR_OFF {
        return Err(refuse(
            EINVAL,
            pc,
            format!("{ty} pointer offset {off} is not allowed"),
        ));
    }
    let smin = reg.var.smin_value;
    if smin == i64::MIN {
        return Err(refuse(
            EINVAL,
            pc,
            format!(
                "math between {ty} pointer and register with unbounded min value is not allowed"
            ),
        ));
    }
    if smin >= MAX_VAR_OFF || smin <= -MAX_VAR_OFF {
        return Err(refuse(
            EINVAL,
            pc,
            format!("value {smin} makes {ty} pointer be out of bounds"),
        ));
    }
    Ok(())
}

/// `check_map_access`'s special fields: no load, store or helper access
/// may touch a map value's `struct bpf_spin_lock`.
fn check_special_fields(
    pc: usize,
    meta: Option<&MapMeta>,
    base: &RegState,
    off: i32,
    size: i32,
) -> Result<(), Refusal> {
    /// `sizeof(struct bpf_spin_lock)`.
    const SPIN_LOCK_SIZE: i64 = 4;
    let Some(p) = meta.and_then(|m| m.spin_lock_off).map(i64::from) else {
        return Ok(());
    };
    let lo = base.var.smin_value.saturating_add(i64::from(off));
    let umax = i64::try_from(base.var.umax_value).unwrap_or(i64::MAX);
    let hi = umax
        .saturating_add(i64::from(off))
        .saturating_add(i64::from(size));
    if lo < p.saturating_add(SPIN_LOCK_SIZE) && p < hi {
        return Err(refuse(
            EACCES,
            pc,
            "bpf_spin_lock cannot be accessed directly by load/store",
        ));
    }
    Ok(())
}

/// `check_map_access_type`: a map read-only (`BPF_F_RDONLY_PROG`) or
/// write-only (`BPF_F_WRONLY_PROG`) for programs.
fn check_map_access_type(
    pc: usize,
    meta: Option<&MapMeta>,
    off: i32,
    size: i32,
    write: bool,
) -> Result<(), Refusal> {
    /// `BPF_F_WRONLY_PROG`.
    const BPF_F_WRONLY_PROG: u32 = 0x100;
    let Some(m) = meta else {
        return Ok(());
    };
    let vs = m.value_size;
    if write && m.flags & BPF_F_RDONLY_PROG != 0 {
        return Err(refuse(
            EACCES,
            pc,
            format!("write into map forbidden, value_size={vs} off={off} size={size}"),
        ));
    }
    if !write && m.flags & BPF_F_WRONLY_PROG != 0 {
        return Err(refuse(
            EACCES,
            pc,
            format!("read from map forbidden, value_size={vs} off={off} size={size}"),
        ));
    }
    Ok(())
}

/// `reg_not_null`: the pointer types that are never `NULL` once checked
/// (not the context, the stack or packets: comparing those with 0 decides
/// nothing).
fn reg_not_null(r: &RegState) -> bool {
    !r.maybe_null()
        && matches!(
            r.ty,
            RegType::Socket
                | RegType::TcpSock
                | RegType::MapValue
                | RegType::MapKey
                | RegType::SockCommon
                | RegType::Mem
                | RegType::ConstMapPtr
        )
}

/// What a zero-extending load of `size` bytes leaves in its register: the
/// value read (a number unless a whole spilled pointer was filled),
/// truncated to `size` (the end of `check_mem_access`).
fn loaded(v: Option<RegState>, size: Size) -> RegState {
    let mut v = v.unwrap_or_else(RegState::unknown_scalar);
    if v.ty == RegType::Scalar && size.bytes() < 8 {
        v.var.coerce_reg_to_size(size.bytes());
    }
    v
}

/// `BPF_ATOMIC {what} R%d TYPE is not allowed` unless
/// [`atomic_ptr_type_ok`].
fn check_atomic_ptr(pc: usize, r: Reg, base: &RegState, what: &str) -> Result<(), Refusal> {
    if atomic_ptr_type_ok(base) {
        return Ok(());
    }
    Err(refuse(
        EACCES,
        pc,
        format!(
            "BPF_ATOMIC {what} R{} {} is not allowed",
            r.num(),
            base.type_str()
        ),
    ))
}

/// `atomic_ptr_type_ok`: not the context, a packet or a socket
/// (`is_ctx_reg`, `is_pkt_reg`, `is_sk_reg` compare exact types).
fn atomic_ptr_type_ok(base: &RegState) -> bool {
    let ctx = base.ty == RegType::Ctx && base.flags == TypeFlags::NONE;
    let sk = base.ty.is_sk_pointer() && !base.maybe_null();
    !(ctx || base.ty.is_pkt_pointer() || sk || base.ty == RegType::FlowKeys)
}

/// `is_ptr_cast_function`: helpers whose result is the argument's socket
/// seen as another type, holding the argument's reference.
const fn is_ptr_cast_function(id: i32) -> bool {
    // bpf_sk_fullsock, bpf_tcp_sock, bpf_skc_to_tcp6_sock ..
    // bpf_skc_to_udp6_sock, bpf_skc_to_mptcp_sock.
    matches!(id, 95 | 96 | 136..=140 | 196)
}

fn mark_null(st: &mut VerifierState, id: u32, is_null: bool, maps: &[MapMeta]) {
    st.for_each_reg(|r| {
        if r.id == id && r.maybe_null() {
            if is_null {
                *r = RegState::known_scalar(0);
            } else {
                // Not `NULL`: the id has done its job (a reference lives
                // on in `ref_obj_id`), unless it names the value whose spin
                // lock may be taken (`reg_may_point_to_spin_lock`).
                r.flags = r.flags.without(TypeFlags::MAYBE_NULL);
                let lock = r.ty == RegType::MapValue
                    && r.map
                        .and_then(|m| maps.get(m as usize))
                        .is_some_and(|m| m.spin_lock_off.is_some());
                if !lock {
                    r.id = 0;
                }
            }
        }
    });
    if is_null {
        st.refs.retain(|(r, _)| *r != id);
    }
}

fn mark_pkt_range(st: &mut VerifierState, ty: RegType, id: u32, range: i64) {
    st.for_each_reg(|r| {
        if r.ty == ty && r.id == id && r.range < range {
            r.range = range;
        }
    });
}

/// What backtracking will need to know of `insn`, walked in `st`.
fn hist_of(insn: &Insn, st: &VerifierState) -> Hist {
    let stack_slot = |base: Reg, off: i16| {
        let b = st.reg(base);
        if b.ty != RegType::Stack || !b.var.var_off.is_const() {
            return Hist::Plain;
        }
        let a = i64::from(b.off).saturating_add(i64::from(off));
        if !(STACK_BOTTOM..0).contains(&a) {
            return Hist::Plain;
        }
        Hist::Stack {
            frame: b.frameno,
            spi: slot_of(a as i32).0 as u32,
        }
    };
    match *insn {
        Insn::Load { src, off, size, .. } | Insn::LoadSx { src, off, size, .. } => {
            // Only a fill that restores a spilled register is followed
            // (`INSN_F_STACK_ACCESS`): the whole spill, or a narrower read
            // from its first byte.
            let h = stack_slot(src, off);
            let Hist::Stack { frame, spi } = h else {
                return h;
            };
            let slot = st
                .frames
                .get(frame as usize)
                .and_then(|f| f.stack.get(spi as usize));
            let n = usize::from(size.bytes());
            let at = i64::from(st.reg(src).off).saturating_add(i64::from(off));
            let fill = slot.is_some_and(|sl| {
                let spill_size = sl
                    .types
                    .iter()
                    .rev()
                    .take_while(|t| **t == SlotType::Spill)
                    .count();
                sl.is_spill()
                    && ((n == REG_SIZE && spill_size == REG_SIZE)
                        || (n < REG_SIZE
                            && sl.spilled.ty == RegType::Scalar
                            && n <= spill_size
                            && at.rem_euclid(REG_SIZE as i64) == 0))
            });
            if fill { h } else { Hist::Plain }
        }
        // Only a store at the start of a slot can be a spill.
        Insn::Store { dst, off, .. } => {
            let at = i64::from(st.reg(dst).off).saturating_add(i64::from(off));
            if at.rem_euclid(REG_SIZE as i64) == 0 {
                stack_slot(dst, off)
            } else {
                Hist::Plain
            }
        }
        Insn::Atomic { dst, off, .. } => stack_slot(dst, off),
        Insn::Jump { dst, src, .. } => {
            // `collect_linked_regs`: the source's id, then the
            // destination's; registers, then spilled scalars; at most
            // `MAX_LINKED_REGS` (6) of them.
            const MAX_LINKED_REGS: usize = 6;
            let mut ids = Vec::with_capacity(2);
            if let Operand::Reg(r) = src
                && st.reg(r).ty == RegType::Scalar
                && st.reg(r).id != 0
            {
                ids.push(st.reg(r).id & !ADD_CONST);
            }
            if st.reg(dst).ty == RegType::Scalar && st.reg(dst).id != 0 {
                ids.push(st.reg(dst).id & !ADD_CONST);
            }
            let (mut mask, mut slots, mut count) = (0u16, 0u64, 0usize);
            let f = st.cur();
            for id in ids {
                for (i, r) in f.regs.iter().enumerate().take(10) {
                    if r.ty == RegType::Scalar && r.id & !ADD_CONST == id && count < MAX_LINKED_REGS
                    {
                        if mask & (1 << i) == 0 {
                            count = count.saturating_add(1);
                        }
                        mask |= 1 << i;
                    }
                }
                for (j, sl) in f.stack.iter().enumerate().take(64) {
                    let r = &sl.spilled;
                    if sl.is_spill()
                        && r.ty == RegType::Scalar
                        && r.id & !ADD_CONST == id
                        && count < MAX_LINKED_REGS
                    {
                        if slots & (1 << j) == 0 {
                            count = count.saturating_add(1);
                        }
                        slots |= 1 << j;
                    }
                }
            }
            Hist::Linked(mask, slots)
        }
        _ => Hist::Plain,
    }
}

/// What a pruning state's precise scalars ask of the current path, frame
/// by frame (`propagate_precision`).
fn precise_demand(st: &VerifierState) -> Demand {
    let mut d = Demand {
        frame: st.frames.len().saturating_sub(1),
        ..Demand::default()
    };
    for (fr, f) in st.frames.iter().enumerate() {
        let (Some(regs), Some(slots)) = (d.regs.get_mut(fr), d.slots.get_mut(fr)) else {
            continue;
        };
        for (i, r) in f.regs.iter().enumerate().take(10) {
            if r.ty == RegType::Scalar && r.precise {
                *regs |= 1 << i;
            }
        }
        for (i, slot) in f.stack.iter().enumerate().take(64) {
            if slot.has_spill() && slot.spilled.ty == RegType::Scalar && slot.spilled.precise {
                *slots |= 1 << i;
            }
        }
    }
    d
}

/// The kernel's `propagate_precision` log lines for the precise scalars
/// of `old` (registers, then spilled slots), innermost frame first:
/// `frame 1: propagating r7,fp-8`.
fn propagating_text(old: &VerifierState) -> String {
    let mut out = String::new();
    for (fr, f) in old.frames.iter().enumerate().rev() {
        let mut items: Vec<String> = Vec::new();
        for (i, r) in f.regs.iter().enumerate().take(10) {
            if r.ty == RegType::Scalar && r.precise {
                items.push(format!("r{i}"));
            }
        }
        for (i, slot) in f.stack.iter().enumerate() {
            if slot.has_spill() && slot.spilled.ty == RegType::Scalar && slot.spilled.precise {
                items.push(format!(
                    "fp-{}",
                    i.saturating_add(1).saturating_mul(REG_SIZE)
                ));
            }
        }
        if !items.is_empty() {
            out.push_str(&format!("frame {fr}: propagating {}\n", items.join(",")));
        }
    }
    out
}

/// Set `precise` on the scalars of frame `frame` named by `regs`
/// and `slots`, and drop from them the ones that already were: their
/// history was followed when they were marked (so the walk up stops
/// there, as the kernel's does).
fn set_precise(st: &mut VerifierState, frame: usize, regs: &mut u16, slots: &mut u64) {
    let Some(f) = st.frames.get_mut(frame) else {
        return;
    };
    for (i, r) in f.regs.iter_mut().enumerate() {
        if *regs & (1 << i) != 0 {
            // Only scalars are tracked; a demand on anything else ends.
            if r.ty != RegType::Scalar || r.precise {
                *regs &= !(1 << i);
            }
            if r.ty == RegType::Scalar {
                r.precise = true;
            }
        }
    }
    for (i, slot) in f.stack.iter_mut().enumerate().take(64) {
        if *slots & (1 << i) != 0 {
            let spilled_scalar = slot.has_spill() && slot.spilled.ty == RegType::Scalar;
            if !spilled_scalar || slot.spilled.precise {
                *slots &= !(1 << i);
            }
            if spilled_scalar {
                slot.spilled.precise = true;
            }
        }
    }
    // Slots beyond the frame's stack hold nothing to mark.
    let kept = f.stack.len().min(64);
    if kept < 64 {
        *slots &= (1u64 << kept).wrapping_sub(1);
    }
}

/// A register set as the kernel's precision trace prints it (`r1,r6`).
fn reg_mask_text(regs: u16) -> String {
    (0..16u16)
        .filter(|i| regs & (1 << i) != 0)
        .map(|i| format!("r{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A set of stack slots as the kernel's precision trace prints it
/// (`-8,-16`).
fn stack_mask_text(slots: u64) -> String {
    (0..64u32)
        .filter(|i| slots & (1 << i) != 0)
        .map(|i| format!("-{}", i.saturating_add(1).saturating_mul(8)))
        .collect::<Vec<_>>()
        .join(",")
}

/// An instruction as the kernel's log prints it: a function's address as
/// the raw immediate (the offset, while it verifies).
fn log_insn_text(insn: &Insn) -> String {
    match insn {
        Insn::LdImm64 {
            dst,
            imm: Imm64::Func(off),
        } => format!("(18) r{} = {:#x}", dst.num(), *off as u32),
        _ => insn.kernel_log(),
    }
}

/// The values whose precision is still asked for, per frame
/// (`struct backtrack_state`): bit `i` of `regs[f]` is `r<i>` of frame
/// `f`, bit `i` of `slots[f]` its `fp-8*(i+1)`; `frame` is the frame the
/// walk stands in.
#[derive(Clone, Copy, Debug, Default)]
struct Demand {
    regs: [u16; MAX_CALL_FRAMES],
    slots: [u64; MAX_CALL_FRAMES],
    frame: usize,
}

impl Demand {
    fn is_empty(&self) -> bool {
        self.regs.iter().all(|r| *r == 0) && self.slots.iter().all(|s| *s == 0)
    }
}

/// Walk `hist` backwards from its end, moving the demand for precise
/// values from what each instruction defined to what it used
/// (`backtrack_insn`), into a callee at its `exit` and back to the caller
/// at the `call` that entered it. `later`: the instruction walked after
/// `hist`'s last one (to tell a function's return from a callback's).
/// `false`: an instruction this cannot follow (a narrow spill, a helper or
/// callback in the way, an atomic), so the caller marks everything.
fn backtrack(
    prog: &Program,
    hist: &[(usize, Hist)],
    d: &mut Demand,
    mut later: Option<usize>,
    mut log: Option<&mut String>,
) -> bool {
    const ARGS: u16 = 0b11_1110;
    let bit = |r: Reg| 1u16 << r.num();
    let insns = prog.insns();
    for &(pc, aux) in hist.iter().rev() {
        if d.is_empty() {
            return true;
        }
        let Some(insn) = insns.get(pc) else {
            return false;
        };
        let f = d.frame;
        let (Some(&cur_regs), Some(&cur_slots)) = (d.regs.get(f), d.slots.get(f)) else {
            return false;
        };
        // The demand as it stands before this instruction
        // (`backtrack_insn`'s trace).
        if let Some(l) = log.as_deref_mut() {
            l.push_str(&format!(
                "mark_precise: frame{f}: regs={} stack={} before {pc}: {}\n",
                reg_mask_text(cur_regs),
                stack_mask_text(cur_slots),
                log_insn_text(insn)
            ));
        }
        let Some(regs) = d.regs.get_mut(f) else {
            return false;
        };
        match *insn {
            Insn::Alu {
                op: AluOp::Mov,
                dst,
                src,
                ..
            } => {
                if *regs & bit(dst) != 0 {
                    *regs &= !bit(dst);
                    if let Operand::Reg(x) = src {
                        *regs |= bit(x);
                    }
                }
            }
            Insn::Alu {
                dst,
                src: Operand::Reg(x),
                ..
            } => {
                if *regs & bit(dst) != 0 {
                    *regs |= bit(x);
                }
            }
            Insn::Alu { .. } | Insn::Neg { .. } | Insn::Endian { .. } => {}
            Insn::MovSx { dst, src, .. } => {
                if *regs & bit(dst) != 0 {
                    *regs &= !bit(dst);
                    *regs |= bit(src);
                }
            }
            Insn::LdImm64 { dst, .. } => *regs &= !bit(dst),
            Insn::LdImm64Tail => {}
            Insn::Load { dst, .. } | Insn::LoadSx { dst, .. } => {
                if *regs & bit(dst) != 0 {
                    *regs &= !bit(dst);
                    match aux {
                        // A fill (whole, or narrower from the spill's first
                        // byte), of this frame or a caller's.
                        Hist::Stack { frame: sf, spi } if spi < 64 => {
                            match d.slots.get_mut(sf as usize) {
                                Some(s) if sf as usize <= f => *s |= 1 << spi,
                                _ => return false,
                            }
                        }
                        Hist::Stack { .. } => return false,
                        // Loaded from map, packet or context memory.
                        _ => {}
                    }
                }
            }
            Insn::Store { src, .. } => {
                if let Hist::Stack { frame: sf, spi } = aux
                    && spi < 64
                    && d.slots
                        .get(sf as usize)
                        .is_some_and(|s| s & (1 << spi) != 0)
                {
                    // A spill, whole or narrow (stores that are not spills
                    // are not recorded as stack accesses).
                    if let Some(s) = d.slots.get_mut(sf as usize) {
                        *s &= !(1 << spi);
                    }
                    if let (Operand::Reg(x), Some(r)) = (src, d.regs.get_mut(f)) {
                        *r |= bit(x);
                    }
                }
            }
            Insn::Atomic { src, .. } => {
                if let Hist::Stack { frame: sf, spi } = aux
                    && spi < 64
                    && d.slots
                        .get(sf as usize)
                        .is_some_and(|s| s & (1 << spi) != 0)
                {
                    return false;
                }
                if *regs & (bit(src) | 1) != 0 {
                    return false;
                }
            }
            Insn::Jump { dst, src, .. } => {
                let mut m = bit(dst);
                if let Operand::Reg(x) = src {
                    m |= bit(x);
                }
                let linked_slots = match aux {
                    Hist::Linked(l, sl) => {
                        m |= l;
                        sl
                    }
                    _ => 0,
                };
                let frame_slots = d.slots.get(d.frame).copied().unwrap_or(0);
                if *regs & m != 0 || frame_slots & linked_slots != 0 {
                    *regs |= m;
                    if let Some(s) = d.slots.get_mut(d.frame) {
                        *s |= linked_slots;
                    }
                }
            }
            Insn::Ja { .. } | Insn::Gotol { .. } | Insn::MayGoto { .. } => {}
            Insn::Call(CallTarget::Helper(id)) => {
                // r0 is the helper's; nothing else may be asked for across
                // it, nor across a callback it runs.
                // Stack slots asked for stay asked for: a helper's writes
                // are data, never spills, so a demanded spill is older.
                let into_callback = is_callback_helper(id) && later != Some(pc.saturating_add(1));
                if *regs & ARGS != 0 || into_callback {
                    return false;
                }
                *regs &= !1;
            }
            // `ld_abs`/`ld_ind` results are not followed (the kernel's
            // -ENOTSUPP): asked for, every scalar becomes precise.
            Insn::LdAbs { .. } | Insn::LdInd { .. } => {
                if *regs & 1 != 0 {
                    return false;
                }
            }
            // A function's return: what this frame asks of r0 the callee
            // computed (the caller's r1-r5 were clobbered by the call).
            Insn::Exit => {
                let returns_to_call = later.is_some_and(|l| {
                    l > 0
                        && matches!(
                            insns.get(l.saturating_sub(1)),
                            Some(Insn::Call(CallTarget::Local(_)))
                        )
                        && !matches!(insns.get(l), Some(Insn::Call(CallTarget::Helper(id))) if is_callback_helper(*id))
                });
                if !returns_to_call || *regs & ARGS != 0 {
                    return false;
                }
                let r0 = *regs & 1;
                *regs &= !1;
                let callee = f.saturating_add(1);
                match (d.regs.get_mut(callee), d.slots.get(callee)) {
                    (Some(r), Some(0)) if *r == 0 => *r = r0,
                    _ => return false,
                }
                d.frame = callee;
            }
            // Walking back, the call that entered this frame: its r1-r5
            // were the caller's; nothing else of the callee was set.
            Insn::Call(CallTarget::Local(_)) => {
                if *regs & !ARGS != 0 || cur_slots != 0 || f == 0 {
                    return false;
                }
                let args = *regs & ARGS;
                *regs = 0;
                let caller = f.saturating_sub(1);
                match d.regs.get_mut(caller) {
                    Some(r) => *r |= args,
                    None => return false,
                }
                d.frame = caller;
            }
            _ => return false,
        }
        later = Some(pc);
    }
    true
}

/// `bpf_for_each_map_elem`, `bpf_find_vma`, `bpf_loop`,
/// `bpf_user_ringbuf_drain`: helpers that call back.
fn is_callback_helper(id: i32) -> bool {
    matches!(id, 164 | 180 | 181 | 209)
}

fn swap_const(insn: &Insn, v: u64) -> u64 {
    let Insn::Endian { order, bits, .. } = insn else {
        return v;
    };
    let n = bits.bits();
    let mask = u64::MAX
        .checked_shr(64u32.saturating_sub(u32::from(n)))
        .unwrap_or(0);
    let low = v & mask;
    match (order, n) {
        (ebpf_isa::ByteOrder::Le, _) => low,
        (_, 16) => u64::from((low as u16).swap_bytes()),
        (_, 32) => u64::from((low as u32).swap_bytes()),
        _ => low.swap_bytes(),
    }
}

fn alu_op_str(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+=",
        AluOp::Sub => "-=",
        AluOp::Mul => "*=",
        AluOp::Div | AluOp::SDiv => "/=",
        AluOp::Or => "|=",
        AluOp::And => "&=",
        AluOp::Lsh => "<<=",
        AluOp::Rsh => ">>=",
        AluOp::Mod | AluOp::SMod => "%=",
        AluOp::Xor => "^=",
        AluOp::Mov => "=",
        AluOp::Arsh => "s>>=",
    }
}

#[cold]
fn unreachable_state() {}

#[cfg(test)]
mod tests {
    use super::stack_slot_mask;

    #[test]
    fn stack_slot_masks() {
        // fp-8..fp-1 is slot 0, fp-16..fp-9 slot 1.
        assert_eq!(stack_slot_mask(-8, 0, true), 0b1);
        assert_eq!(stack_slot_mask(-16, -8, false), 0b10);
        // A 4-byte read touches its slot; a 4-byte write covers none.
        assert_eq!(stack_slot_mask(-4, 0, false), 0b1);
        assert_eq!(stack_slot_mask(-4, 0, true), 0);
        // Straddling: any byte for a read, whole slots for a write.
        assert_eq!(stack_slot_mask(-20, -4, false), 0b111);
        assert_eq!(stack_slot_mask(-20, -4, true), 0b10);
        assert_eq!(stack_slot_mask(-512, 0, true), u64::MAX);
        assert_eq!(stack_slot_mask(-512, -504, false), 1 << 63);
        // Empty or out of the frame.
        assert_eq!(stack_slot_mask(0, 0, false), 0);
        assert_eq!(stack_slot_mask(-8, -16, false), 0);
    }
}
