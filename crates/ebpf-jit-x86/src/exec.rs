//! Executable memory and calling generated code: the only module with
//! `unsafe`.
//!
//! Invariants the generated code relies on, established here:
//!
//! * the code bytes are copied into a fresh mapping that is writable, then
//!   made read-execute ([`dynasmrt::mmap::MutableBuffer::make_exec`]); it is
//!   never writable and executable at once;
//! * the context passed to the code lives on the Rust stack for the whole
//!   call, its `table` points at `regions` (8 + number-of-maps entries, so
//!   every tag below `ntags` has an entry), each entry describing a slice
//!   borrowed from the session's [`Memory`] that stays valid until the next
//!   helper call, after which the table is rebuilt from the same session;
//! * `stack_host` is the host address of the stack region, which is
//!   exactly [`layout::STACK_SIZE`] bytes (checked before every run), so a
//!   frame-relative access the code generator proved in bounds is;
//! * `gotox` and `entries` point into vectors owned by the [`crate::Jit`],
//!   which outlives the call.
#![allow(unsafe_code)]

use dynasmrt::mmap::{ExecutableBuffer, MutableBuffer};
use ebpf_runtime::layout::{self, INPUT_TAG, PACKET_TAG, RODATA_TAG, STACK_TAG};
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

/// Build the region table from the session's memory.
fn build_table(mem: &mut Memory<'_>, regions: &mut Vec<Region>) {
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
    if let Some((p, n)) = input {
        set(INPUT_TAG, Region::new(p, n, true));
    }
    if let Some((p, n)) = packet {
        let p = match input {
            Some((ip, _)) if ip == p => ip,
            _ => p,
        };
        set(PACKET_TAG, Region::new(p, n, true));
    }
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
extern "sysv64" fn helper_trampoline(ctx: *mut Ctx) -> u64 {
    // SAFETY: generated code passes the context pointer it was entered with
    // (`r12`), which points at the live `Ctx` on `run`'s stack; no other
    // reference to it exists while the generated code runs.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: `sess` was set by `run` from a `&mut Session` that outlives
    // the call into generated code and is not otherwise used meanwhile.
    let sess = unsafe { &mut *ctx.sess.cast::<Session<'_>>() };
    let pc = ctx.call_pc as u32;
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
    build_table(&mut sess.mem, &mut ctx.regions);
    ctx.table = ctx.regions.as_ptr();
    ctx.ntags = ctx.regions.len() as u64;
    // The stack is the runtime's fixed-size buffer: its length cannot
    // change, only (in principle) its address.
    if let Some(r) = ctx.regions.get(STACK_TAG as usize) {
        ctx.stack_host = r.ptr as u64;
    }
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
/// `scratch` is storage for the region table, reused across runs.
pub(crate) unsafe fn run(
    c: &Compiled<'_>,
    sess: &mut Session<'_>,
    scratch: &mut Vec<Region>,
) -> Result<Outcome, Trap> {
    let entry = sess.entry();
    let Some(&entry_addr) = c.entries.get(entry as usize) else {
        return Err(Trap::NoSuchProgram {
            pc: 0,
            index: entry,
            count: c.entries.len() as u32,
        });
    };
    let config = sess.config();
    let budget = config.insn_budget;
    let frames = config.call_frames() as usize;
    let mut regions = core::mem::take(scratch);
    build_table(&mut sess.mem, &mut regions);
    // Frame-relative accesses skip the bounds check (see `codegen`); that
    // relies on the stack region being exactly `STACK_SIZE` bytes, which
    // `Runtime::session` guarantees. Refuse to run otherwise.
    let Some(stack_host) = regions
        .get(STACK_TAG as usize)
        .filter(|r| r.rlen == layout::STACK_SIZE as u64)
        .map(|r| r.ptr as u64)
    else {
        *scratch = regions;
        return Err(Trap::Unsupported {
            pc: 0,
            what: "a stack region that is not STACK_SIZE bytes",
        });
    };
    let mut ctx = Ctx {
        table: regions.as_ptr(),
        ntags: regions.len() as u64,
        budget,
        may_goto: config.may_goto_budget,
        min_fp: layout::frame_pointer(frames.saturating_sub(1)),
        saved_rsp: 0,
        args: sess.args(),
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
        helper_fn: helper_trampoline as *const () as u64,
        tail_target: 0,
        gotox: c.slots.as_ptr(),
        entry: entry_addr,
        scratch: 0,
        stack_host,
        sess: (sess as *mut Session<'_>).cast::<()>(),
        trap: None,
        regions,
        entries: c.entries.as_ptr(),
        nentries: c.entries.len(),
    };
    // SAFETY: offset 0 of the code is the entry function, generated by
    // `codegen::compile` with the `sysv64` signature `fn(*mut Ctx)`; the
    // buffer is read-execute and outlives the call.
    let f: extern "sysv64" fn(*mut Ctx) = unsafe { core::mem::transmute(c.code.addr(0)) };
    f(&mut ctx);
    *scratch = core::mem::take(&mut ctx.regions);
    let pc = ctx.f_pc as u32;
    match ctx.status {
        status::OK => Ok(Outcome {
            r0: ctx.r0,
            insns: if c.hardened {
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
            let mem = &mut sess.mem;
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
            max: frames as u32,
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
