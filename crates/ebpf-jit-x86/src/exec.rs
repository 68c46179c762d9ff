//! Executable memory and calling generated code: the only module with
//! `unsafe`.
//!
//! Invariants the generated code relies on, established here:
//!
//! * the code bytes are copied into a fresh mapping that is writable, then
//!   made read-execute ([`dynasmrt::mmap::MutableBuffer::make_exec`]); it is
//!   never writable and executable at once;
//! * the context passed to the code is boxed and not moved during the
//!   call (the code gets it as a thin pointer; the trampoline restores
//!   the bias table's length from `nbias`); its `table` points at
//!   `regions` (8 + number-of-maps entries, so every tag below `ntags` has
//!   an entry) and its inline `bias`, `rlim` and `wlim` have the same
//!   `ntags` entries, each describing a slice borrowed from the run's
//!   [`Memory`] that stays valid until the next helper call, after which
//!   all are rebuilt from the same session (a run without a session,
//!   [`Env::Memory`], is only started for a set that calls no helper);
//! * tables kept between runs of a [`crate::JitVm`]
//!   ([`crate::ctx::Tables::valid`]) describe the same runtime's memory:
//!   the `JitVm` holds the runtime's only `&mut` between runs and
//!   invalidates them when it gives it out; each run sets the input and
//!   packet entries afresh;
//! * `stack_host` is the host address of the stack region, which is
//!   exactly [`layout::STACK_SIZE`] bytes (checked before every run), so a
//!   frame-relative access the code generator proved in bounds is;
//! * `gotox` and `entries` point into vectors owned by the [`crate::Jit`],
//!   which outlives the call.
#![allow(unsafe_code)]

use dynasmrt::mmap::{ExecutableBuffer, MutableBuffer};
use ebpf_runtime::layout::{self, INPUT_BASE, INPUT_TAG, PACKET_TAG, RODATA_TAG, STACK_TAG};
use ebpf_runtime::{Access, Fault, Memory, Outcome, Session, Trap};

use crate::ctx::{Ctx, Region, UNSUPPORTED_WHAT, access, status};
use crate::error::JitError;

/// Generated code in read-execute memory.
#[derive(Debug)]
pub(crate) struct ExecCode {
    buf: ExecutableBuffer,
}

impl ExecCode {
    /// Map `bytes` as read-execute code.
    pub(crate) fn new(bytes: &[u8]) -> Result<ExecCode, JitError> {
        let size = bytes.len().max(1);
        let err = |e: std::io::Error| JitError::Memory {
            size,
            message: e.to_string(),
        };
        let mut m = MutableBuffer::new(size).map_err(err)?;
        m.set_len(bytes.len());
        m.copy_from_slice(bytes);
        let buf = m.make_exec().map_err(err)?;
        Ok(ExecCode { buf })
    }

    /// Host address of byte `offset`.
    pub(crate) fn addr(&self, offset: usize) -> u64 {
        self.buf.as_ptr() as u64 + offset as u64
    }
}

/// The bias of region `r` at `tag`.
fn bias(r: &Region, tag: usize) -> u64 {
    (r.ptr as u64).wrapping_sub((tag as u64) << 32)
}

/// The read and write limits of region `r` at `tag` (see [`Ctx::rlim`]).
fn limits(r: &Region, tag: usize) -> (u64, u64) {
    let base = (tag as u64) << 32;
    (base.wrapping_add(r.rlen), base.wrapping_add(r.wlen))
}

/// Build the region table and the bias table from the session's memory
/// and point the context at them. `false` if the bias table is too small.
fn build_table(mem: &mut Memory<'_>, ctx: &mut Ctx) -> bool {
    build_regions(mem, &mut ctx.tables.regions);
    let regions = &ctx.tables.regions;
    let Some(b) = ctx.bias.get_mut(..regions.len()) else {
        return false;
    };
    for (tag, (e, r)) in b.iter_mut().zip(regions).enumerate() {
        *e = bias(r, tag);
    }
    let (Some(rl), Some(wl)) = (
        ctx.rlim.get_mut(..regions.len()),
        ctx.wlim.get_mut(..regions.len()),
    ) else {
        return false;
    };
    for (tag, ((rl, wl), r)) in rl.iter_mut().zip(wl.iter_mut()).zip(regions).enumerate() {
        (*rl, *wl) = limits(r, tag);
    }
    ctx.table = regions.as_ptr();
    ctx.ntags = regions.len() as u64;
    true
}

/// Update the input and packet entries of tables built for the same
/// runtime (the other regions have not moved: see [`crate::ctx::Tables::valid`]).
fn set_input(mem: &mut Memory<'_>, ctx: &mut Ctx) {
    let (input, packet) = input_regions(mem);
    set_input_regions(ctx, input, packet);
}

/// [`set_input`] with the regions given.
#[inline]
fn set_input_regions(ctx: &mut Ctx, input: Region, packet: Region) {
    for (tag, r) in [(INPUT_TAG as usize, input), (PACKET_TAG as usize, packet)] {
        if let Some(e) = ctx.tables.regions.get_mut(tag) {
            *e = r;
        }
        if let Some(b) = ctx.bias.get_mut(tag) {
            *b = bias(&r, tag);
        }
        if let (Some(rl), Some(wl)) = (ctx.rlim.get_mut(tag), ctx.wlim.get_mut(tag)) {
            (*rl, *wl) = limits(&r, tag);
        }
    }
}

/// The input and packet regions.
fn input_regions(mem: &mut Memory<'_>) -> (Region, Region) {
    // The packet may be the input itself: take the packet first, then the
    // input, and share the input's (newer) pointer when they coincide.
    let packet = mem
        .region_mut(PACKET_TAG)
        .map(|s| (s.as_mut_ptr(), s.len()))
        .ok();
    let input = mem
        .region_mut(INPUT_TAG)
        .map(|s| (s.as_mut_ptr(), s.len()))
        .ok();
    let packet = packet.map(|(p, n)| match input {
        Some((ip, _)) if ip == p => (ip, n),
        _ => (p, n),
    });
    let region =
        |r: Option<(*mut u8, usize)>| r.map_or(Region::EMPTY, |(p, n)| Region::new(p, n, true));
    (region(input), region(packet))
}

/// Build the region table from the session's memory.
fn build_regions(mem: &mut Memory<'_>, regions: &mut Vec<Region>) {
    let maps = mem.maps.len();
    regions.clear();
    regions.resize(layout::MAP_TAG_BASE as usize + maps, Region::EMPTY);
    let mut set = |tag: u32, r: Region| {
        if let Some(e) = regions.get_mut(tag as usize) {
            *e = r;
        }
    };
    if let Ok(s) = mem.region_mut(STACK_TAG) {
        set(STACK_TAG, Region::new(s.as_mut_ptr(), s.len(), true));
    }
    let (input, packet) = input_regions(mem);
    set(INPUT_TAG, input);
    set(PACKET_TAG, packet);
    if let Some(r) = mem.region(RODATA_TAG) {
        set(
            RODATA_TAG,
            Region::new(r.as_ptr().cast_mut(), r.len(), false),
        );
    }
    for (id, s, w) in mem.maps.regions_mut() {
        let tag = layout::MAP_TAG_BASE as usize + id.0 as usize;
        if let Some(e) = regions.get_mut(tag) {
            *e = Region::new(s.as_mut_ptr(), s.len(), w);
        }
    }
}

/// `bpf_loop`'s helper id.
const BPF_LOOP: u32 = 181;

/// What a helper call tells the generated code: continue, stop, tail call.
const CONTINUE: u64 = 0;
const STOP: u64 = 1;
const TAIL_CALL: u64 = 2;

/// Called by generated code for `call helper` and `callx`.
extern "sysv64" fn helper_trampoline(thin: *mut u8) -> u64 {
    // SAFETY: generated code passes the context pointer it was entered with
    // (`r12`): `run`'s `&mut Ctx` as a thin pointer, to a live boxed
    // context whose `nbias` is its bias table's length; that field lies in
    // the part whose layout does not depend on the length.
    let nbias = unsafe { (*thin.cast::<Ctx<[u64; 0]>>()).nbias };
    // The same pointer with its metadata back (a slice-tailed context
    // has the length of its tail as metadata).
    let fat = core::ptr::slice_from_raw_parts_mut(thin.cast::<u64>(), nbias) as *mut Ctx;
    // SAFETY: `fat` is the pointer `run` gave the code; no other reference
    // to the context is used while the generated code runs.
    let ctx = unsafe { &mut *fat };
    let pc = ctx.call_pc as u32;
    if ctx.sess.is_null() {
        // A run without a session (`Env::Memory`) is only started for sets
        // that call no helper; stay safe if one does.
        ctx.trap = Some(Trap::Unsupported {
            pc,
            what: "a helper call in a run without a session",
        });
        ctx.status = status::TRAP;
        return STOP;
    }
    // SAFETY: `sess` was set by `run_in` from a `&mut Session` that
    // outlives the call into generated code and is not otherwise used
    // meanwhile.
    let sess = unsafe { &mut *ctx.sess.cast::<Session<'_>>() };
    let id = if ctx.call_kind == 0 {
        ctx.call_id as u32
    } else {
        match u32::try_from(ctx.call_id) {
            Ok(id) => id,
            Err(_) => {
                ctx.trap = Some(Trap::CallxNotHelper {
                    pc,
                    value: ctx.call_id,
                });
                ctx.status = status::TRAP;
                return STOP;
            }
        }
    };
    if id == BPF_LOOP {
        // The interpreter runs `bpf_loop` itself (it calls back into the
        // program); JIT code cannot yet.
        ctx.trap = Some(Trap::Unsupported {
            pc,
            what: "bpf_loop (a callback into the program) in JIT code",
        });
        ctx.status = status::TRAP;
        return STOP;
    }
    let result = sess.call_helper(pc, id, ctx.args);
    // The helper may have moved map storage: translate afresh.
    if !build_table(&mut sess.mem, ctx) {
        // Maps were created during the run, past the bias table's room
        // (the context cannot move while the code runs).
        ctx.table = core::ptr::null();
        ctx.ntags = 0;
        ctx.tables.valid = false;
        ctx.trap = Some(Trap::Unsupported {
            pc,
            what: "maps created during a JIT run",
        });
        ctx.status = status::TRAP;
        return STOP;
    }
    // The stack is the session's `&mut` borrow of the runtime's fixed-size
    // buffer: neither its length nor its address changes during the run,
    // so `stack_host` and the host frame pointers of trusted code stay
    // valid.
    match result {
        Err(t) => {
            ctx.trap = Some(t);
            ctx.status = status::TRAP;
            STOP
        }
        Ok(ret) => {
            ctx.ret = ret.value;
            match ret.tail_call {
                None => CONTINUE,
                Some(p) => {
                    // SAFETY: `entries`/`nentries` describe the `Jit`'s entry
                    // vector, alive for the whole run.
                    let entries = unsafe { core::slice::from_raw_parts(ctx.entries, ctx.nentries) };
                    match entries.get(p as usize) {
                        Some(&e) => {
                            ctx.tail_target = e;
                            TAIL_CALL
                        }
                        None => {
                            ctx.trap = Some(Trap::NoSuchProgram {
                                pc,
                                index: p,
                                count: ctx.nentries as u32,
                            });
                            ctx.status = status::TRAP;
                            STOP
                        }
                    }
                }
            }
        }
    }
}

/// Everything a run needs from the compiled set.
pub(crate) struct Compiled<'a> {
    pub(crate) code: &'a ExecCode,
    /// Absolute entry address of each program.
    pub(crate) entries: &'a [u64],
    /// Absolute address of every slot (0: not an instruction start).
    pub(crate) slots: &'a [u64],
    pub(crate) hardened: bool,
}

/// Run from the session's entry program.
///
/// # Safety
///
/// With `hardened` code, none beyond this module's invariants. With trusted
/// code (no bounds checks), the programs must be safe for the memory the
/// session gives them (the caller's contract, see
/// [`crate::Jit::invoke_trusted`]).
/// `ctx` is the context storage, reused across runs (and replaced by a
/// larger one when the runtime has more maps than its bias table has
/// room for): with valid tables (see [`crate::ctx::Tables::valid`]) only
/// the per-run fields are set.
pub(crate) unsafe fn run(
    c: &Compiled<'_>,
    sess: &mut Session<'_>,
    ctx: &mut Box<Ctx>,
) -> Result<Outcome, Trap> {
    let entry = sess.entry();
    let args = sess.args();
    let limits = Limits::of(sess.config());
    // SAFETY: forwarded to our caller's contract.
    unsafe { run_in(c, Env::Session(sess), entry, args, limits, ctx) }
}

/// The configuration's limits a run needs (read only when the tables are
/// rebuilt).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    budget: u64,
    may_goto: u64,
    frames: u32,
}

impl Limits {
    pub(crate) fn of(config: &ebpf_runtime::Config) -> Limits {
        Limits {
            budget: config.insn_budget,
            may_goto: config.may_goto_budget,
            frames: config.call_frames(),
        }
    }
}

/// What a run executes in: a whole session (helpers can be called), or
/// only the memory, for a set that calls no helper (no session to build;
/// [`crate::JitVm`]'s fast path).
pub(crate) enum Env<'s, 'a> {
    Session(&'s mut Session<'a>),
    Memory(&'s mut Memory<'a>),
}

impl<'a> Env<'_, 'a> {
    fn mem(&mut self) -> &mut Memory<'a> {
        match self {
            Env::Session(s) => &mut s.mem,
            Env::Memory(m) => m,
        }
    }

    /// The session for the helper trampoline (null without one: the
    /// trampoline then traps).
    fn sess_ptr(&mut self) -> *mut () {
        match self {
            Env::Session(s) => (&mut **s as *mut Session<'a>).cast::<()>(),
            Env::Memory(_) => core::ptr::null_mut(),
        }
    }
}

/// [`run`] in `env`, from program `entry` with argument registers `args`.
///
/// # Safety
///
/// That of [`run`]; with [`Env::Memory`], the set must call no helper
/// (`callx` or `call` of a helper id): the trampoline has no session and
/// traps.
pub(crate) unsafe fn run_in(
    c: &Compiled<'_>,
    mut env: Env<'_, '_>,
    entry: u32,
    args: [u64; 5],
    limits: Limits,
    ctx: &mut Box<Ctx>,
) -> Result<Outcome, Trap> {
    let Some(&entry_addr) = c.entries.get(entry as usize) else {
        return Err(Trap::NoSuchProgram {
            pc: 0,
            index: entry,
            count: c.entries.len() as u32,
        });
    };
    if ctx.tables.valid {
        // Same runtime, same compiled set as the run that built the
        // tables: only the input moved.
        match &mut env {
            Env::Session(s) => set_input(&mut s.mem, ctx),
            Env::Memory(m) => {
                // Built by `Runtime::memory`: no packet, so the packet
                // region is the input.
                let r = m.region_mut(INPUT_TAG).map_or(Region::EMPTY, |s| {
                    Region::new(s.as_mut_ptr(), s.len(), true)
                });
                set_input_regions(ctx, r, r);
            }
        }
    } else {
        let tags = layout::MAP_TAG_BASE as usize + env.mem().maps.len();
        if ctx.nbias < tags {
            let tables = core::mem::take(&mut ctx.tables);
            *ctx = Ctx::boxed(tables, tags).ok_or(Trap::Unsupported {
                pc: 0,
                what: "more than 1016 maps in a JIT run",
            })?;
        }
        if !build_table(env.mem(), ctx) {
            return Err(Trap::Unsupported {
                pc: 0,
                what: "more than 1016 maps in a JIT run",
            });
        }
        // Frame-relative accesses skip the bounds check (see `codegen`);
        // that relies on the stack region being exactly `STACK_SIZE`
        // bytes, which `Runtime::session` guarantees. Refuse to run
        // otherwise.
        let Some(stack_host) = ctx
            .tables
            .regions
            .get(STACK_TAG as usize)
            .filter(|r| r.rlen == layout::STACK_SIZE as u64)
            .map(|r| r.ptr as u64)
        else {
            return Err(Trap::Unsupported {
                pc: 0,
                what: "a stack region that is not STACK_SIZE bytes",
            });
        };
        let frames = limits.frames;
        // Trusted code keeps host frame pointers in `rbp`: guest plus
        // `stack_bias`, for the depth check's limit too.
        let stack_bias = stack_host.wrapping_sub(layout::STACK_BASE);
        let min_fp = layout::frame_pointer(frames.saturating_sub(1) as usize);
        ctx.stack_host = stack_host;
        ctx.stack_bias = stack_bias;
        ctx.min_fp = if c.hardened {
            min_fp
        } else {
            min_fp.wrapping_add(stack_bias)
        };
        ctx.helper_fn = helper_trampoline as *const () as u64;
        ctx.gotox = c.slots.as_ptr();
        ctx.entries = c.entries.as_ptr();
        ctx.nentries = c.entries.len();
        ctx.budget0 = limits.budget;
        ctx.may_goto0 = limits.may_goto;
        ctx.frames = frames;
        ctx.tables.valid = ctx.tables.keep;
    }
    let budget = ctx.budget0;
    ctx.budget = budget;
    ctx.may_goto = ctx.may_goto0;
    ctx.args = args;
    ctx.status = status::OK;
    ctx.entry = entry_addr;
    // Last: no use of `env` may come between this and the call.
    ctx.sess = env.sess_ptr();
    // SAFETY: offset 0 of the code is the entry function, generated by
    // `codegen::compile` with the `sysv64` signature `fn(*mut u8)` (the
    // context); the buffer is read-execute and outlives the call. The
    // context is boxed, so it stays put during the call. Its tables
    // describe the session's memory: rebuilt above, or kept from a run in
    // the same runtime, whose regions nothing but helper calls (after
    // which the trampoline rebuilds them) moved since (`Tables::valid`),
    // the input and packet entries aside, which were set above.
    let f: extern "sysv64" fn(*mut u8) = unsafe { core::mem::transmute(c.code.addr(0)) };
    // The code and the trampoline get a thin pointer (the trampoline puts
    // the length back from `nbias`).
    let ctx: &mut Ctx = ctx;
    f((ctx as *mut Ctx).cast::<u8>());
    decode(ctx, env.mem(), c.hardened)
}

/// A run of a [`crate::JitVm`] whose set calls no helper, with tables
/// kept from an earlier run (`ctx.tables.valid`): only the input entries,
/// the entry registers and the counters are set. Returns the status;
/// [`decode`] turns it into the run's result (with the memory, for a
/// fault).
///
/// # Safety
///
/// That of [`run_in`] with [`Env::Memory`]: `code` and `entry` are the
/// entry function's and a program's addresses in a [`Compiled`] set that
/// calls no helper, `ctx` the context its tables were built in for the
/// runtime `input` belongs to now.
#[inline]
pub(crate) unsafe fn run_prepared(code: u64, entry: u64, input: &mut [u8], ctx: &mut Ctx) -> u64 {
    // Without a packet (as `Runtime::memory` builds it), the packet region
    // is the input.
    let r = Region::new(input.as_mut_ptr(), input.len(), true);
    set_input_regions(ctx, r, r);
    let r1 = if input.is_empty() { 0 } else { INPUT_BASE };
    ctx.args = [r1, input.len() as u64, 0, 0, 0];
    ctx.budget = ctx.budget0;
    ctx.may_goto = ctx.may_goto0;
    ctx.status = status::OK;
    ctx.entry = entry;
    ctx.sess = core::ptr::null_mut();
    // SAFETY: as in `run_in`: `code` is offset 0 of a live read-execute
    // buffer, the entry function with the `sysv64` signature
    // `fn(*mut u8)`; the context is boxed (it stays put) and its tables
    // describe the runtime's memory with the input entries set above.
    let f: extern "sysv64" fn(*mut u8) = unsafe { core::mem::transmute(code) };
    f((ctx as *mut Ctx).cast::<u8>());
    ctx.status
}

/// The result of a run that returned to Rust: `r0`, or the trap its
/// status describes (`mem` is the run's memory, for faults).
pub(crate) fn decode(ctx: &mut Ctx, mem: &mut Memory<'_>, hardened: bool) -> Result<Outcome, Trap> {
    let budget = ctx.budget0;
    let pc = ctx.f_pc as u32;
    match ctx.status {
        status::OK => Ok(Outcome {
            r0: ctx.r0,
            insns: if hardened {
                budget.saturating_sub(ctx.budget)
            } else {
                0
            },
        }),
        status::TRAP => Err(ctx.trap.take().unwrap_or(Trap::Unsupported {
            pc,
            what: "lost trap",
        })),
        status::MEM => {
            let addr = ctx.f_addr;
            let size = ctx.f_size;
            let base = addr.wrapping_sub(ctx.f_off);
            let tag = layout::tag(addr);
            let (fault, acc) = match ctx.f_kind {
                access::READ => (Fault::OutOfBounds, Access::Read),
                access::WRITE => (
                    mem.region_mut(tag).err().unwrap_or(Fault::OutOfBounds),
                    Access::Write,
                ),
                _ => {
                    let readable = mem.slice(addr, size).is_some();
                    let f = if readable {
                        mem.region_mut(tag).err().unwrap_or(Fault::OutOfBounds)
                    } else {
                        Fault::OutOfBounds
                    };
                    (f, Access::Write)
                }
            };
            Err(mem.trap(fault, pc, addr, size, acc, Some(base)))
        }
        status::BUDGET => Err(Trap::BudgetExhausted { pc, limit: budget }),
        status::DEPTH => Err(Trap::CallDepthExceeded {
            pc,
            max: ctx.frames,
        }),
        status::GOTOX => Err(Trap::InvalidJumpTarget {
            pc,
            target: ctx.f_addr,
        }),
        status::UNKNOWN_HELPER => Err(Trap::UnknownHelper {
            pc,
            id: ctx.f_addr as i64,
        }),
        _ => Err(Trap::Unsupported {
            pc,
            what: UNSUPPORTED_WHAT
                .get(ctx.f_size as usize)
                .copied()
                .unwrap_or("instruction"),
        }),
    }
}
