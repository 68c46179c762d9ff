//! The run context the generated code reads and writes through `r12`, and
//! the region table it translates guest addresses with.
//!
//! Only the fields before [`Ctx::sess`] are touched by generated code (at
//! the offsets [`off`] gives); the rest is for the Rust side.

use ebpf_runtime::Trap;

/// One entry of the region table, indexed by address tag (32 bytes, so the
/// generated code scales the tag by a shift of 5).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    /// Host address of the region's first byte (dangling when `rlen` is 0).
    pub(crate) ptr: *mut u8,
    /// Bytes programs may read.
    pub(crate) rlen: u64,
    /// Bytes programs may write: `rlen` or 0.
    pub(crate) wlen: u64,
    pad: u64,
}

// Generated code indexes the table with `tag << 5` and reads `ptr`, `rlen`
// and `wlen` at offsets 0, 8 and 16.
const _: () = assert!(core::mem::size_of::<Region>() == 32);
const _: () = assert!(core::mem::offset_of!(Region, rlen) == 8);
const _: () = assert!(core::mem::offset_of!(Region, wlen) == 16);

impl Region {
    /// No region: every access faults.
    pub(crate) const EMPTY: Region = Region {
        ptr: core::ptr::null_mut(),
        rlen: 0,
        wlen: 0,
        pad: 0,
    };

    pub(crate) fn new(bytes: *mut u8, len: usize, writable: bool) -> Region {
        Region {
            ptr: bytes,
            rlen: len as u64,
            wlen: if writable { len as u64 } else { 0 },
            pad: 0,
        }
    }
}

/// The region table (hardened code, `LD_ABS`) of a run, reused across
/// runs, and the state of the bias table ([`Ctx::bias`]) that goes with it.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) regions: Vec<Region>,
    /// The tables describe the runtime the next run uses, except for the
    /// input and packet entries (set by every run).
    pub(crate) valid: bool,
    /// A run leaves the tables `valid`: the storage belongs to a
    /// [`crate::JitVm`], whose runtime nothing else changes between its
    /// runs (it clears `valid` when it gives out the runtime).
    pub(crate) keep: bool,
}

/// Why the generated code returned (the `status` field).
pub(crate) mod status {
    /// The entry frame exited; `r0` holds the result.
    pub(crate) const OK: u64 = 0;
    /// A helper trapped; the trap is in [`super::Ctx::trap`].
    pub(crate) const TRAP: u64 = 1;
    /// A memory access failed (`f_*` describe it).
    pub(crate) const MEM: u64 = 2;
    /// The instruction budget ran out at `f_pc`.
    pub(crate) const BUDGET: u64 = 3;
    /// A bpf-to-bpf call at `f_pc` needed one frame too many.
    pub(crate) const DEPTH: u64 = 4;
    /// `gotox` at `f_pc` with the invalid target in `f_addr`.
    pub(crate) const GOTOX: u64 = 5;
    /// An unsupported instruction at `f_pc`; `f_size` indexes the description.
    pub(crate) const UNSUPPORTED: u64 = 6;
    /// `call` of a negative helper id (`f_addr`) at `f_pc`.
    pub(crate) const UNKNOWN_HELPER: u64 = 7;
}

/// Kinds of memory access (the `f_kind` field).
pub(crate) mod access {
    /// A load.
    pub(crate) const READ: u64 = 0;
    /// A store.
    pub(crate) const WRITE: u64 = 1;
    /// An atomic read-modify-write.
    pub(crate) const ATOMIC: u64 = 2;
}

/// What an unsupported instruction is (indexed by `f_size`).
pub(crate) const UNSUPPORTED_WHAT: [&str; 3] = [
    "kfunc call",
    "ld_imm64 of a BTF id",
    "addr_space_cast (arenas)",
];

/// Most tags a run can have in trusted code's inline bias table (8 fixed
/// tags and 1016 maps).
pub(crate) const MAX_TAGS: usize = 1024;

/// The context of one run. Boxed ([`Ctx::boxed`]), with the bias table
/// inline at its end.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct Ctx<B: ?Sized = [u64]> {
    pub(crate) table: *const Region,
    pub(crate) ntags: u64,
    pub(crate) budget: u64,
    pub(crate) may_goto: u64,
    pub(crate) min_fp: u64,
    pub(crate) saved_rsp: u64,
    pub(crate) args: [u64; 5],
    pub(crate) r0: u64,
    pub(crate) ret: u64,
    pub(crate) status: u64,
    pub(crate) f_pc: u64,
    pub(crate) f_addr: u64,
    pub(crate) f_size: u64,
    pub(crate) f_off: u64,
    pub(crate) f_kind: u64,
    pub(crate) call_pc: u64,
    pub(crate) call_id: u64,
    pub(crate) call_kind: u64,
    pub(crate) helper_fn: u64,
    pub(crate) tail_target: u64,
    pub(crate) gotox: *const u64,
    pub(crate) entry: u64,
    pub(crate) scratch: u64,
    /// Host address of the stack region's byte 0 (`regions[STACK_TAG].ptr`).
    pub(crate) stack_host: u64,
    /// Trusted code: `stack_host - STACK_BASE`, the difference between the
    /// host frame pointer in `rbp` and the guest `r10`.
    pub(crate) stack_bias: u64,
    /// Hardened code: for each tag below `ntags`, the first guest address
    /// past what programs may read (`tag << 32` plus the region's
    /// readable length), so an access `[a, a + n)` is in bounds iff
    /// `a + n <= rlim[tag(a)]`; it then reads at `a + bias[tag(a)]`.
    pub(crate) rlim: [u64; MAX_TAGS],
    /// The same for writes (the writable length).
    pub(crate) wlim: [u64; MAX_TAGS],
    // ---- Rust side only ----
    /// The session (`*mut Session<'_>`), valid for the run.
    pub(crate) sess: *mut (),
    /// A helper's trap.
    pub(crate) trap: Option<Trap>,
    /// Storage of the region table and the bias table.
    pub(crate) tables: Tables,
    /// Entry addresses of the programs of the set (for tail calls).
    pub(crate) entries: *const u64,
    pub(crate) nentries: usize,
    /// The configuration's budgets and frame count, as of the last table
    /// build (valid with the tables).
    pub(crate) budget0: u64,
    pub(crate) may_goto0: u64,
    pub(crate) frames: u32,
    /// Entries of `bias` (for the trampoline, which gets a thin pointer).
    pub(crate) nbias: usize,
    /// Trusted code: `host - guest` for each tag below `ntags`, so a guest
    /// address `a` is at host `a + bias[tag(a)]` (generated code reads
    /// `[r12 + tag * 8 + off::BIAS]`). Entries from `ntags` on are unused.
    pub(crate) bias: B,
}

impl Ctx {
    /// A context to be filled by a run, with `tables` as table storage and
    /// room for at least `tags` bias entries (`None` above [`MAX_TAGS`]).
    pub(crate) fn boxed(tables: Tables, tags: usize) -> Option<Box<Ctx>> {
        Some(match tags {
            0..=16 => Box::new(Ctx::<[u64; 16]>::with_bias(tables, [0; 16])),
            17..=64 => Box::new(Ctx::<[u64; 64]>::with_bias(tables, [0; 64])),
            65..=256 => Box::new(Ctx::<[u64; 256]>::with_bias(tables, [0; 256])),
            257..=MAX_TAGS => Box::new(Ctx::<[u64; MAX_TAGS]>::with_bias(tables, [0; MAX_TAGS])),
            _ => return None,
        })
    }
}

impl<const N: usize> Ctx<[u64; N]> {
    fn with_bias(tables: Tables, bias: [u64; N]) -> Ctx<[u64; N]> {
        Ctx {
            table: core::ptr::null(),
            ntags: 0,
            budget: 0,
            may_goto: 0,
            min_fp: 0,
            saved_rsp: 0,
            args: [0; 5],
            r0: 0,
            ret: 0,
            status: status::OK,
            f_pc: 0,
            f_addr: 0,
            f_size: 0,
            f_off: 0,
            f_kind: 0,
            call_pc: 0,
            call_id: 0,
            call_kind: 0,
            helper_fn: 0,
            tail_target: 0,
            gotox: core::ptr::null(),
            entry: 0,
            scratch: 0,
            stack_host: 0,
            stack_bias: 0,
            rlim: [0; MAX_TAGS],
            wlim: [0; MAX_TAGS],
            sess: core::ptr::null_mut(),
            trap: None,
            tables,
            entries: core::ptr::null(),
            nentries: 0,
            budget0: 0,
            may_goto0: 0,
            frames: 0,
            nbias: N,
            bias,
        }
    }
}

/// Byte offsets of the fields generated code uses.
pub(crate) mod off {
    use core::mem::offset_of;

    /// The sized form (offsets do not depend on the bias table's length).
    type Ctx = super::Ctx<[u64; 0]>;

    pub(crate) const TABLE: i32 = offset_of!(Ctx, table) as i32;
    pub(crate) const NTAGS: i32 = offset_of!(Ctx, ntags) as i32;
    pub(crate) const BUDGET: i32 = offset_of!(Ctx, budget) as i32;
    pub(crate) const MAY_GOTO: i32 = offset_of!(Ctx, may_goto) as i32;
    pub(crate) const MIN_FP: i32 = offset_of!(Ctx, min_fp) as i32;
    pub(crate) const SAVED_RSP: i32 = offset_of!(Ctx, saved_rsp) as i32;
    pub(crate) const ARGS: i32 = offset_of!(Ctx, args) as i32;
    pub(crate) const R0: i32 = offset_of!(Ctx, r0) as i32;
    pub(crate) const RET: i32 = offset_of!(Ctx, ret) as i32;
    pub(crate) const STATUS: i32 = offset_of!(Ctx, status) as i32;
    pub(crate) const F_PC: i32 = offset_of!(Ctx, f_pc) as i32;
    pub(crate) const F_ADDR: i32 = offset_of!(Ctx, f_addr) as i32;
    pub(crate) const F_SIZE: i32 = offset_of!(Ctx, f_size) as i32;
    pub(crate) const F_OFF: i32 = offset_of!(Ctx, f_off) as i32;
    pub(crate) const F_KIND: i32 = offset_of!(Ctx, f_kind) as i32;
    pub(crate) const CALL_PC: i32 = offset_of!(Ctx, call_pc) as i32;
    pub(crate) const CALL_ID: i32 = offset_of!(Ctx, call_id) as i32;
    pub(crate) const CALL_KIND: i32 = offset_of!(Ctx, call_kind) as i32;
    pub(crate) const HELPER_FN: i32 = offset_of!(Ctx, helper_fn) as i32;
    pub(crate) const TAIL_TARGET: i32 = offset_of!(Ctx, tail_target) as i32;
    pub(crate) const GOTOX: i32 = offset_of!(Ctx, gotox) as i32;
    pub(crate) const ENTRY: i32 = offset_of!(Ctx, entry) as i32;
    pub(crate) const SCRATCH: i32 = offset_of!(Ctx, scratch) as i32;
    pub(crate) const STACK_HOST: i32 = offset_of!(Ctx, stack_host) as i32;
    pub(crate) const BIAS: i32 = offset_of!(Ctx, bias) as i32;
    pub(crate) const STACK_BIAS: i32 = offset_of!(Ctx, stack_bias) as i32;
    pub(crate) const RLIM: i32 = offset_of!(Ctx, rlim) as i32;
    pub(crate) const WLIM: i32 = offset_of!(Ctx, wlim) as i32;
}
