//! Translation of a program set to x86-64 machine code (no `unsafe` here:
//! this module only produces bytes).
//!
//! # Register map
//!
//! | BPF | x86-64 | | BPF | x86-64 |
//! |---|---|---|---|---|
//! | r0 | rax | | r6 | rbx |
//! | r1 | rdi | | r7 | r13 |
//! | r2 | rsi | | r8 | r14 |
//! | r3 | rdx | | r9 | r15 |
//! | r4 | rcx | | r10 | rbp |
//! | r5 | r8 | | context | r12 |
//!
//! `r9`, `r10` and `r11` are scratch. Guest addresses are tagged
//! (`tag << 32 | offset`). Hardened code checks every access `[a, a + n)`
//! against tables inline in the context (`r12`): `r10` = the tag, checked
//! against `ntags`; `r9` = `a + n`, checked against the tag's read (loads)
//! or write (stores, atomics) limit (`tag << 32` plus the region's
//! length), then plus the tag's bias: the host address of the access's
//! end. A failure jumps to a per-instruction stub that recomputes the
//! guest address from the base register into `r11`, records the access in
//! the context and returns to Rust. Frame-relative accesses (`r10 + off`
//! inside the frame) are `stack_host + ebp + off`. Unless a program divides,
//! uses legacy packet loads, atomics, `gotox` or calls helpers
//! ([`budget_in_register`]), hardened code keeps the instruction budget in
//! `r11` for the whole run (a back edge is `sub r11, n; jae loop`); blinded
//! moves of immediates are two instructions on the destination itself.
//!
//! Trusted code keeps the *host* frame pointer in `rbp` (guest `r10` plus
//! `stack_bias`; reads of `r10` as a value get the guest address in the
//! scratch `r10`): `r10 + off` is `[rbp + off]`. Other accesses add the
//! bias of the address's tag from the table inline at the end of the
//! context: `r9 = bias[a >> 32]`, operand `[r9 + base + off]`; `r9` is
//! reused by later accesses through the same base register in a
//! straight-line run (`Emitter::bias_base`). Multiplications by 2^k, 3, 5
//! and 9 are shifts and `lea`s, comparisons with 0 are `test`.
//!
//! # Layout
//!
//! The buffer starts with the entry function
//! (`extern "sysv64" fn(*mut u8)`, the context): it saves the callee-saved
//! registers the set may write and sets the entry registers it may read
//! ([`used_regs`]): `r1..=r5` from the context, `r0` and `r6..=r9` zero,
//! `r10` the top of frame 0; then it `call`s the entry program, whose
//! `exit` is a `ret`. bpf-to-bpf
//! calls are x86 `call`s that save those of `r6..=r9` the callee may write
//! ([`callee_writes`]) on the machine stack and move `r10` down one frame.
//! Then come the programs, then the fault stubs.

// dynasm expands a dynamic register `Rq(n)` to `n.into()`.
#![allow(clippy::useless_conversion)]

use dynasmrt::x64::X64Relocation;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler, dynasm};
use ebpf_isa::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Imm64, Insn, JmpCond, Operand, Program, Reg, Size,
    SwapBits, SxBits, Width,
};
use ebpf_runtime::layout;

use crate::JitConfig;
use crate::ctx::{access, off, status};
use crate::error::{JitError, TargetKind};

/// Most slots one program may have (the kernel's `BPF_COMPLEXITY_LIMIT_INSNS`).
pub const MAX_PROGRAM_SLOTS: usize = 1 << 20;
/// Most programs in one set.
pub const MAX_PROGRAMS: usize = 1 << 12;

/// An instruction with the memory operand `m` ([`Mem`]); `[r9]` gets the
/// shortest encoding.
macro_rules! mem {
    ($ops:expr, $m:expr, ($($pre:tt)*), ($($post:tt)*)) => {{
        let m: Mem = $m;
        match m.index {
            Some(i) if m.disp == 0 => {
                dynasm!($ops ; .arch x64 ; $($pre)* [Rq(m.base) + Rq(i)] $($post)*)
            }
            Some(i) => {
                dynasm!($ops ; .arch x64 ; $($pre)* [Rq(m.base) + Rq(i) + m.disp] $($post)*)
            }
            None if m.disp == 0 && m.base == 9 => {
                dynasm!($ops ; .arch x64 ; $($pre)* [r9] $($post)*)
            }
            None => dynasm!($ops ; .arch x64 ; $($pre)* [Rq(m.base) + m.disp] $($post)*),
        }
    }};
}

macro_rules! asm {
    ($ops:expr ; $($t:tt)*) => {
        dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
/// The blinding / immediate scratch register.
const R10: u8 = 10;

/// x86 register number of a BPF register.
const fn x(r: Reg) -> u8 {
    match r.num() {
        0 => 0,  // rax
        1 => 7,  // rdi
        2 => 6,  // rsi
        3 => 2,  // rdx
        4 => 1,  // rcx
        5 => 8,  // r8
        6 => 3,  // rbx
        7 => 13, // r13
        8 => 14, // r14
        9 => 15, // r15
        _ => 5,  // rbp
    }
}

/// A second operand after blinding: an x86 register or a plain immediate.
#[derive(Clone, Copy, Debug)]
enum Src {
    R(u8),
    K(i32),
}

/// x86 condition codes used by conditional jumps.
#[derive(Clone, Copy, Debug)]
enum Cc {
    E,
    Ne,
    A,
    Ae,
    B,
    Be,
    G,
    Ge,
    L,
    Le,
}

impl Cc {
    fn of(c: JmpCond) -> Cc {
        match c {
            JmpCond::Eq => Cc::E,
            JmpCond::Ne | JmpCond::Set => Cc::Ne,
            JmpCond::Gt => Cc::A,
            JmpCond::Ge => Cc::Ae,
            JmpCond::Lt => Cc::B,
            JmpCond::Le => Cc::Be,
            JmpCond::Sgt => Cc::G,
            JmpCond::Sge => Cc::Ge,
            JmpCond::Slt => Cc::L,
            JmpCond::Sle => Cc::Le,
        }
    }
    fn not(self) -> Cc {
        match self {
            Cc::E => Cc::Ne,
            Cc::Ne => Cc::E,
            Cc::A => Cc::Be,
            Cc::Be => Cc::A,
            Cc::Ae => Cc::B,
            Cc::B => Cc::Ae,
            Cc::G => Cc::Le,
            Cc::Le => Cc::G,
            Cc::Ge => Cc::L,
            Cc::L => Cc::Ge,
        }
    }
}

/// A memory operand `[base + index + disp]` (x86 register numbers).
#[derive(Clone, Copy, Debug)]
struct Mem {
    base: u8,
    index: Option<u8>,
    disp: i32,
}

/// An out-of-line trap stub.
#[derive(Clone, Copy, Debug)]
struct Stub {
    label: DynamicLabel,
    status: u64,
    pc: u32,
    size: u64,
    off: i16,
    kind: u64,
    /// Loaded into `r11` (the recorded address) when `Some`.
    aux: Option<i64>,
    /// A memory fault's base register: the stub puts `base + off` (the
    /// guest address) in `r11`.
    base: Option<u8>,
}

/// The result of code generation.
#[derive(Debug)]
pub(crate) struct Code {
    /// Machine code, position independent (all references are relative;
    /// absolute targets are read from the context).
    pub(crate) bytes: Vec<u8>,
    /// Offset of each program's slot 0.
    pub(crate) entries: Vec<usize>,
    /// Offset of every slot of every program (`None` for `ld_imm64`
    /// tails), programs concatenated, for `gotox`.
    pub(crate) slots: Vec<Option<usize>>,
}

struct Emitter<'c> {
    ops: VecAssembler<X64Relocation>,
    cfg: &'c JitConfig,
    key: u32,
    stubs: Vec<Stub>,
    /// Slots of the current program that transfers other than falling
    /// through reach ([`branch_targets`]).
    targets: Vec<bool>,
    /// Callee-saved registers each slot's function may write
    /// ([`callee_writes`]), computed on first use.
    saves: Vec<Option<u8>>,
    /// The next slot's code was folded into this one's.
    skip_next: bool,
    /// Hardened code keeps the budget in `r11` ([`budget_in_register`]).
    reg_budget: bool,
    /// Trusted code: `r9` holds the bias of the tag of the last access
    /// through this base register (x86 number), valid while only loads
    /// and stores that do not write it follow, with no jump into them.
    bias_base: Option<u8>,
}

/// Which slots are reached other than by falling through: jump, call and
/// function-address targets (every slot when the program has `gotox`).
fn branch_targets(insns: &[Insn]) -> Vec<bool> {
    let n = insns.len();
    if insns.iter().any(|i| matches!(i, Insn::Gotox { .. })) {
        return vec![true; n];
    }
    let mut t = vec![false; n];
    for (pc, insn) in insns.iter().enumerate() {
        let off = match *insn {
            Insn::Call(CallTarget::Local(o)) => Some(i64::from(o)),
            Insn::LdImm64 {
                imm: Imm64::Func(o),
                ..
            } => Some(i64::from(o)),
            _ => insn.jump_offset().map(i64::from),
        };
        if let Some(o) = off {
            let to = usize::try_from(pc as i64 + 1 + o).ok();
            if let Some(x) = to.and_then(|i| t.get_mut(i)) {
                *x = true;
            }
        }
    }
    t
}

/// All of `r6..=r9` as a [`callee_writes`] set.
const ALL_CALLEE_SAVED: u8 = 0b1111;

/// The callee-saved registers (`r6..=r9` as bits 0..=3) that code reached
/// from `start` without following bpf-to-bpf calls (their own call sites
/// save what those callees write) may write before it returns. A helper
/// call (a tail call may run any program before returning), `gotox` and
/// kfuncs count as writing all.
fn callee_writes(insns: &[Insn], start: usize) -> u8 {
    let mut seen = vec![false; insns.len()];
    let mut todo = vec![start];
    let mut w = 0u8;
    while let Some(pc) = todo.pop() {
        match seen.get_mut(pc) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        let Some(insn) = insns.get(pc) else { continue };
        if matches!(
            insn,
            Insn::Call(CallTarget::Helper(_) | CallTarget::Kfunc { .. })
                | Insn::Callx { .. }
                | Insn::Gotox { .. }
        ) {
            return ALL_CALLEE_SAVED;
        }
        if let Some(r) = written_reg(insn)
            .map(Reg::num)
            .filter(|r| (6..=9).contains(r))
        {
            w |= 1 << (r - 6);
            if w == ALL_CALLEE_SAVED {
                return w;
            }
        }
        if let Some(o) = insn.jump_offset()
            && let Ok(t) = usize::try_from(pc as i64 + 1 + i64::from(o))
        {
            todo.push(t);
        }
        if insn.falls_through() {
            todo.push(pc + 1);
        }
    }
    w
}

/// The BPF registers (bit `i` for `ri`) code of the set may read or
/// write: every register a slot names in its register fields (a superset:
/// some instructions use those bits otherwise), `r0` always, and all of
/// them when a program calls a helper (a tail call may run another program
/// with the registers as they are), uses `gotox`, or makes a bpf-to-bpf
/// call (which moves `r10`).
fn used_regs(programs: &[Program]) -> u16 {
    const ALL: u16 = (1 << 11) - 1;
    let mut used = 1u16;
    for p in programs {
        for insn in p.insns() {
            match insn {
                Insn::Call(CallTarget::Helper(_)) | Insn::Callx { .. } | Insn::Gotox { .. } => {
                    return ALL;
                }
                Insn::Call(CallTarget::Local(_)) => used |= 1 << 10,
                _ => {}
            }
        }
        for raw in p.to_raw() {
            used |= 1 << (raw.dst & 15) | 1 << (raw.src & 15);
        }
    }
    used & ALL
}

/// Whether hardened code can keep the instruction budget in `r11` for
/// the whole run (charging a back edge is then `sub r11, n`, not a
/// read-modify-write of the context, which would chain every loop
/// iteration through a store and a load): only if no instruction uses
/// `r11` as scratch or calls out (division and modulo, legacy packet
/// loads, atomics, `gotox`, helper calls and `callx`).
fn budget_in_register(programs: &[Program]) -> bool {
    !programs.iter().flat_map(Program::insns).any(|i| {
        matches!(
            i,
            Insn::Alu {
                op: AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod,
                ..
            } | Insn::LdAbs { .. }
                | Insn::LdInd { .. }
                | Insn::Atomic { .. }
                | Insn::Gotox { .. }
                | Insn::Call(CallTarget::Helper(_))
                | Insn::Callx { .. }
        )
    })
}

/// Whether trusted code for `insn` leaves `r9` alone (so a bias it holds
/// stays valid along the fall-through path): loads and stores (which may
/// set it, see `translate`), ALU operations other than division, modulo
/// and shifts by a register, jumps, `ld_imm64`.
fn keeps_r9(insn: &Insn) -> bool {
    match *insn {
        Insn::Alu { op, src, .. } => match op {
            AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod => false,
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => matches!(src, Operand::Imm(_)),
            _ => true,
        },
        Insn::Load { .. }
        | Insn::LoadSx { .. }
        | Insn::LoadAcquire { .. }
        | Insn::Store { .. }
        | Insn::StoreRelease { .. }
        | Insn::Neg { .. }
        | Insn::Endian { .. }
        | Insn::MovSx { .. }
        | Insn::Jump { .. }
        | Insn::Ja { .. }
        | Insn::Gotol { .. }
        | Insn::LdImm64 { .. }
        | Insn::LdImm64Tail => true,
        _ => false,
    }
}

/// Check a static target `pc + 1 + off`.
fn target(
    prog: usize,
    insns: &[Insn],
    pc: usize,
    off: i64,
    kind: TargetKind,
) -> Result<usize, JitError> {
    let t = pc as i64 + 1 + off;
    let len = insns.len();
    if t < 0 || t >= len as i64 {
        return Err(JitError::TargetOutOfRange {
            prog,
            pc,
            target: t,
            kind,
            len,
        });
    }
    if insns.get(t as usize) == Some(&Insn::LdImm64Tail) {
        return Err(JitError::TargetInLdImm64 {
            prog,
            pc,
            target: t as usize,
            kind,
        });
    }
    Ok(t as usize)
}

/// The register an instruction writes, other than `r0` from calls.
fn written_reg(insn: &Insn) -> Option<Reg> {
    match *insn {
        Insn::Alu { dst, .. }
        | Insn::Neg { dst, .. }
        | Insn::MovSx { dst, .. }
        | Insn::AddrSpaceCast { dst, .. }
        | Insn::Endian { dst, .. }
        | Insn::Load { dst, .. }
        | Insn::LoadSx { dst, .. }
        | Insn::LoadAcquire { dst, .. }
        | Insn::LdImm64 { dst, .. } => Some(dst),
        Insn::Atomic { op, src, .. } if op.fetches() && op != AtomicOp::Cmpxchg => Some(src),
        _ => None,
    }
}

fn map_addr(prog: usize, pc: usize, idx: i64, off: u32) -> Result<u64, JitError> {
    u32::try_from(idx)
        .ok()
        .and_then(layout::map_addr)
        .map(|a| a.wrapping_add(u64::from(off)))
        .ok_or(JitError::InvalidMapReference {
            prog,
            pc,
            value: idx,
        })
}

/// Check the static rules (the interpreter's) for every program.
fn validate(programs: &[Program]) -> Result<(), JitError> {
    if programs.len() > MAX_PROGRAMS {
        return Err(JitError::TooManyPrograms {
            count: programs.len(),
            limit: MAX_PROGRAMS,
        });
    }
    for (prog, p) in programs.iter().enumerate() {
        let insns = p.insns();
        let Some(last) = insns.len().checked_sub(1) else {
            return Err(JitError::Empty { prog });
        };
        if insns.len() > MAX_PROGRAM_SLOTS {
            return Err(JitError::TooLarge {
                prog,
                len: insns.len(),
                limit: MAX_PROGRAM_SLOTS,
            });
        }
        // Checked before the instructions, in the interpreter's order, so
        // both engines refuse a program with the same message.
        if insns.get(last).is_some_and(Insn::falls_through) {
            return Err(JitError::FallsOffEnd { prog, pc: last });
        }
        for (pc, insn) in insns.iter().enumerate() {
            if written_reg(insn) == Some(Reg::R10) {
                return Err(JitError::FramePointerWrite { prog, pc });
            }
            match *insn {
                Insn::Ja { off } | Insn::Jump { off, .. } | Insn::MayGoto { off } => {
                    target(prog, insns, pc, i64::from(off), TargetKind::Jump)?;
                }
                Insn::Gotol { imm } => {
                    target(prog, insns, pc, i64::from(imm), TargetKind::Jump)?;
                }
                Insn::Call(CallTarget::Local(off)) => {
                    target(prog, insns, pc, i64::from(off), TargetKind::Call)?;
                }
                Insn::LdImm64 { imm, .. } => match imm {
                    Imm64::MapFd(fd) => {
                        map_addr(prog, pc, i64::from(fd), 0)?;
                    }
                    Imm64::MapIdx(i) => {
                        map_addr(prog, pc, i64::from(i), 0)?;
                    }
                    Imm64::MapValue { fd, off } => {
                        map_addr(prog, pc, i64::from(fd), off)?;
                    }
                    Imm64::MapIdxValue { idx, off } => {
                        map_addr(prog, pc, i64::from(idx), off)?;
                    }
                    Imm64::Func(off) => {
                        target(prog, insns, pc, i64::from(off), TargetKind::Func)?;
                    }
                    Imm64::Imm(_) | Imm64::BtfId { .. } => {}
                },
                _ => {}
            }
        }
    }
    Ok(())
}

/// Compile a program set with blinding key `key`.
pub(crate) fn compile(programs: &[Program], cfg: &JitConfig, key: u32) -> Result<Code, JitError> {
    validate(programs)?;
    let mut e = Emitter {
        ops: VecAssembler::new(0),
        cfg,
        key,
        stubs: Vec::new(),
        targets: Vec::new(),
        saves: Vec::new(),
        skip_next: false,
        reg_budget: cfg.hardened && budget_in_register(programs),
        bias_base: None,
    };
    e.prologue(used_regs(programs));
    let mut labels: Vec<Vec<Option<DynamicLabel>>> = Vec::with_capacity(programs.len());
    for p in programs {
        labels.push(
            p.insns()
                .iter()
                .map(|i| (*i != Insn::LdImm64Tail).then(|| e.ops.new_dynamic_label()))
                .collect(),
        );
    }
    let mut slot_base = 0usize;
    for (prog, p) in programs.iter().enumerate() {
        let l = labels.get(prog).map(Vec::as_slice).unwrap_or_default();
        e.targets = branch_targets(p.insns());
        e.saves = vec![None; p.len()];
        e.skip_next = false;
        // Slot 0 is entered by calls and tail calls, not only from above.
        e.bias_base = None;
        for (pc, insn) in p.insns().iter().enumerate() {
            if let Some(Some(label)) = l.get(pc) {
                e.ops.dynamic_label(*label);
            }
            if core::mem::take(&mut e.skip_next) {
                continue;
            }
            // What `r9` holds survives only into an instruction that leaves
            // it alone and that nothing jumps to.
            let keeps = keeps_r9(insn);
            if !keeps || e.targets.get(pc).copied().unwrap_or(true) {
                e.bias_base = None;
            }
            e.insn(prog, p.insns(), l, pc, insn, slot_base)?;
            // Atomics and the rest may have changed `r9`.
            if !keeps || written_reg(insn).is_some_and(|r| e.bias_base == Some(x(r))) {
                e.bias_base = None;
            }
        }
        slot_base += p.len();
    }
    e.emit_stubs();
    let mut entries = Vec::with_capacity(programs.len());
    let mut slots = Vec::with_capacity(slot_base);
    for (prog, l) in labels.iter().enumerate() {
        for (pc, label) in l.iter().enumerate() {
            let o = match label {
                Some(label) => Some(
                    e.ops
                        .labels()
                        .resolve_dynamic(*label)
                        .map_err(|err| JitError::Codegen {
                            prog,
                            message: err.to_string(),
                        })?
                        .0,
                ),
                None => None,
            };
            if pc == 0 {
                entries.push(o.unwrap_or(0));
            }
            slots.push(o);
        }
    }
    let bytes = e.ops.finalize().map_err(|err| JitError::Codegen {
        prog: 0,
        message: err.to_string(),
    })?;
    Ok(Code {
        bytes,
        entries,
        slots,
    })
}

impl Emitter<'_> {
    fn hardened(&self) -> bool {
        self.cfg.hardened
    }

    fn stub(
        &mut self,
        status: u64,
        pc: usize,
        size: u64,
        off: i16,
        kind: u64,
        aux: Option<i64>,
    ) -> DynamicLabel {
        let label = self.ops.new_dynamic_label();
        self.stubs.push(Stub {
            label,
            status,
            pc: pc as u32,
            size,
            off,
            kind,
            aux,
            base: None,
        });
        label
    }

    /// The entry function. `used` is the set of BPF registers (bit `i`
    /// for `ri`) the code may touch ([`used_regs`]): only those of the
    /// callee-saved `r6..=r10` are saved, only the used entry registers
    /// are set.
    fn prologue(&mut self, used: u16) {
        let fp0 = layout::frame_pointer(0) as i64;
        let uses = |r: Reg| used & (1 << r.num()) != 0;
        // Callee-saved x86 registers the code writes, in push order; r12
        // (the context) always.
        let mut saved: Vec<u8> = Vec::with_capacity(6);
        if uses(Reg::R10) {
            saved.push(x(Reg::R10));
        }
        if uses(Reg::R6) {
            saved.push(x(Reg::R6));
        }
        saved.push(12);
        for r in [Reg::R7, Reg::R8, Reg::R9] {
            if uses(r) {
                saved.push(x(r));
            }
        }
        for &r in &saved {
            asm!(self.ops ; push Rq(r));
        }
        // Keep `rsp` 16-byte aligned at the call below (a return address
        // and the pushes before it).
        let pad = if saved.len().is_multiple_of(2) { 8 } else { 0 };
        if pad != 0 {
            asm!(self.ops ; sub rsp, pad);
        }
        asm!(self.ops
            ; mov r12, rdi
            ; mov [r12 + off::SAVED_RSP], rsp
        );
        for (i, r) in [Reg::R1, Reg::R2, Reg::R3, Reg::R4, Reg::R5]
            .into_iter()
            .enumerate()
        {
            if uses(r) {
                let o = off::ARGS + 8 * i as i32;
                asm!(self.ops ; mov Rq(x(r)), [r12 + o]);
            }
        }
        asm!(self.ops ; xor eax, eax);
        for r in [Reg::R6, Reg::R7, Reg::R8, Reg::R9] {
            if uses(r) {
                asm!(self.ops ; xor Rd(x(r)), Rd(x(r)));
            }
        }
        if uses(Reg::R10) {
            asm!(self.ops ; mov rbp, QWORD fp0);
            if !self.hardened() {
                // Trusted code keeps the host address of the frame in `rbp`.
                asm!(self.ops ; add rbp, [r12 + off::STACK_BIAS]);
            }
        }
        if self.reg_budget {
            asm!(self.ops
                ; mov r11, [r12 + off::BUDGET]
                ; call QWORD [r12 + off::ENTRY]
                ; mov [r12 + off::BUDGET], r11
            );
        } else {
            asm!(self.ops ; call QWORD [r12 + off::ENTRY]);
        }
        asm!(self.ops ; mov [r12 + off::R0], rax);
        // The entry program returned: `rsp` is back where it was. A trap
        // stub comes from any depth and restores it first.
        for normal in [true, false] {
            if !normal {
                asm!(self.ops
                    ; ->epilogue:
                    ; mov rsp, [r12 + off::SAVED_RSP]
                );
            }
            if pad != 0 {
                asm!(self.ops ; add rsp, pad);
            }
            for &r in saved.iter().rev() {
                asm!(self.ops ; pop Rq(r));
            }
            asm!(self.ops ; ret);
        }
        asm!(self.ops
            ; ->ldabs_fail:
            ; mov QWORD [r12 + off::R0], 0
            ; jmp ->epilogue
        );
    }

    fn emit_stubs(&mut self) {
        let stubs = core::mem::take(&mut self.stubs);
        for s in stubs {
            let st = s.status as i32;
            let pc = s.pc as i32;
            let size = s.size as i32;
            let o = i32::from(s.off);
            let kind = s.kind as i32;
            asm!(self.ops ; =>s.label);
            if let Some(v) = s.aux {
                asm!(self.ops ; mov r11, QWORD v);
            }
            if let Some(b) = s.base {
                asm!(self.ops ; lea r11, [Rq(b) + o]);
            }
            asm!(self.ops
                ; mov QWORD [r12 + off::STATUS], st
                ; mov QWORD [r12 + off::F_PC], pc
                ; mov [r12 + off::F_ADDR], r11
                ; mov QWORD [r12 + off::F_SIZE], size
                ; mov QWORD [r12 + off::F_OFF], o
                ; mov QWORD [r12 + off::F_KIND], kind
                ; jmp ->epilogue
            );
        }
    }

    /// Materialise an immediate: blinded into `r10` in hardened mode
    /// (`imm ^ key` then `^ key`, sign-extended for 64 bits), as is
    /// otherwise.
    fn imm(&mut self, k: i32, w: Width) -> Src {
        if !self.hardened() || !self.cfg.blinding {
            return Src::K(k);
        }
        let key = self.key as i32;
        let b = k ^ key;
        match w {
            Width::W64 => asm!(self.ops ; mov r10, DWORD b ; xor r10, DWORD key),
            Width::W32 => asm!(self.ops ; mov r10d, DWORD b ; xor r10d, DWORD key),
        }
        Src::R(R10)
    }

    /// The x86 register holding the value of `r`: its own, except `r10`
    /// in trusted code, whose guest value (`rbp - stack_bias`) is put in
    /// the scratch `r10` (free there: trusted code does not blind).
    fn rv(&mut self, r: Reg) -> u8 {
        if r == Reg::R10 && !self.hardened() {
            asm!(self.ops
                ; mov r10, rbp
                ; sub r10, [r12 + off::STACK_BIAS]
            );
            return R10;
        }
        x(r)
    }

    fn operand(&mut self, src: Operand, w: Width) -> Src {
        match src {
            Operand::Reg(r) => Src::R(self.rv(r)),
            Operand::Imm(k) => self.imm(k, w),
        }
    }

    /// `r11` = `src` (64 bits, sign-extended immediate).
    fn src_to_r11(&mut self, s: Src) {
        match s {
            Src::R(r) => asm!(self.ops ; mov r11, Rq(r)),
            Src::K(k) => asm!(self.ops ; mov r11, DWORD k),
        }
    }

    /// Charge `n` slots of budget (hardened), trapping at `pc`.
    fn charge(&mut self, pc: usize, n: usize) {
        if !self.hardened() {
            return;
        }
        let stub = self.stub(status::BUDGET, pc, 0, 0, 0, None);
        let n = n.min(i32::MAX as usize) as i32;
        if self.reg_budget {
            asm!(self.ops
                ; sub r11, n
                ; jb =>stub
            );
        } else {
            asm!(self.ops
                ; sub QWORD [r12 + off::BUDGET], n
                ; jb =>stub
            );
        }
    }

    /// Unconditional transfer from `pc` to slot `t`. A backward one in
    /// hardened code charges the budget and jumps if it lasts (`jae`),
    /// else falls into a jump to the trap stub.
    fn goto(&mut self, pc: usize, t: usize, label: DynamicLabel) {
        if t <= pc && self.hardened() {
            let stub = self.stub(status::BUDGET, pc, 0, 0, 0, None);
            let n = (pc - t + 1).min(i32::MAX as usize) as i32;
            if self.reg_budget {
                asm!(self.ops ; sub r11, n);
            } else {
                asm!(self.ops ; sub QWORD [r12 + off::BUDGET], n);
            }
            asm!(self.ops
                ; jae =>label
                ; jmp =>stub
            );
            return;
        }
        asm!(self.ops ; jmp =>label);
    }

    fn jcc(&mut self, cc: Cc, label: DynamicLabel) {
        match cc {
            Cc::E => asm!(self.ops ; je =>label),
            Cc::Ne => asm!(self.ops ; jne =>label),
            Cc::A => asm!(self.ops ; ja =>label),
            Cc::Ae => asm!(self.ops ; jae =>label),
            Cc::B => asm!(self.ops ; jb =>label),
            Cc::Be => asm!(self.ops ; jbe =>label),
            Cc::G => asm!(self.ops ; jg =>label),
            Cc::Ge => asm!(self.ops ; jge =>label),
            Cc::L => asm!(self.ops ; jl =>label),
            Cc::Le => asm!(self.ops ; jle =>label),
        }
    }

    /// Conditional transfer (flags already set).
    fn branch(&mut self, cc: Cc, pc: usize, t: usize, label: DynamicLabel) {
        if t <= pc && self.hardened() {
            let skip = self.ops.new_dynamic_label();
            self.jcc(cc.not(), skip);
            self.goto(pc, t, label);
            asm!(self.ops ; =>skip);
        } else {
            self.jcc(cc, label);
        }
    }

    /// Translate `base + off` for a `size`-byte access into a host memory
    /// operand (hardened: `[r9]`, `r11` keeps the guest address).
    ///
    /// Trusted code: `r10 + off` is `[rbp + off]` (`rbp` holds the host
    /// frame pointer; the stack region is contiguous on the host too), any
    /// other address `a` is at `a + bias[tag(a)]` (`[r9]`).
    fn translate(&mut self, pc: usize, base: Reg, o: i16, size: u8, kind: u64) -> Mem {
        if !self.hardened() {
            if base == Reg::R10 {
                return Mem {
                    base: 5,
                    index: None,
                    disp: i32::from(o),
                };
            }
            // `r9` = the bias of the address's tag, unless it still holds
            // that of an earlier access with the same base register in
            // this straight-line run of accesses ([`Emitter::bias_base`]):
            // both addresses are valid (the code is verified) and at most
            // 64 KiB apart, so in the same region, so of the same tag.
            let b = x(base);
            let o = i32::from(o);
            if self.bias_base != Some(b) {
                if o == 0 {
                    asm!(self.ops ; mov r9, Rq(b));
                } else {
                    asm!(self.ops ; lea r9, [Rq(b) + o]);
                }
                asm!(self.ops
                    ; shr r9, 32
                    ; mov r9, [r12 + r9 * 8 + off::BIAS]
                );
                self.bias_base = Some(b);
            }
            // `b` is a BPF register: the code between here and the access
            // (an operand in r10, nothing for loads) keeps it.
            return Mem {
                base: 9,
                index: Some(b),
                disp: o,
            };
        }
        // Frame-relative fast path: `r10` is always `frame_pointer(k)` for a
        // frame `k` below 8 (programs cannot write it; calls move it by one
        // frame and are depth-checked), so `r10 + off` with
        // `-512 <= off` and `off + size <= 0` lies in frame `k`, inside the
        // stack region (exactly STACK_SIZE bytes, checked at entry). Its
        // region offset is `ebp + off`.
        let frame = -(layout::STACK_FRAME_SIZE as i32);
        if base == Reg::R10 && i32::from(o) >= frame && i32::from(o) + i32::from(size) <= 0 {
            asm!(self.ops
                ; mov r9d, ebp
                ; add r9, [r12 + off::STACK_HOST]
            );
            return Mem {
                base: 9,
                index: None,
                disp: i32::from(o),
            };
        }
        let b = x(base);
        let stub = self.stub(status::MEM, pc, u64::from(size), o, kind, None);
        if let Some(st) = self.stubs.last_mut() {
            st.base = Some(b);
        }
        let lim = if kind == access::READ {
            off::RLIM
        } else {
            off::WLIM
        };
        let n = i32::from(size);
        let o = i32::from(o);
        // r10 = the tag (below `ntags`), r9 = `a + size` checked against
        // the tag's limit (`tag << 32` plus the region's length: the
        // offset plus size is at most the length), then plus the tag's
        // bias: the host address of the access's end. The fault stub
        // recomputes the guest address from the base register, which the
        // checks leave alone.
        if o == 0 {
            asm!(self.ops ; mov r10, Rq(b));
        } else {
            asm!(self.ops ; lea r10, [Rq(b) + o]);
        }
        asm!(self.ops
            ; shr r10, 32
            ; cmp r10, [r12 + off::NTAGS]
            ; jae =>stub
            ; lea r9, [Rq(b) + o + n]
            ; cmp r9, [r12 + r10 * 8 + lim]
            ; ja =>stub
            ; add r9, [r12 + r10 * 8 + off::BIAS]
        );
        Mem {
            base: 9,
            index: None,
            disp: -n,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn insn(
        &mut self,
        prog: usize,
        insns: &[Insn],
        labels: &[Option<DynamicLabel>],
        pc: usize,
        insn: &Insn,
        slot_base: usize,
    ) -> Result<(), JitError> {
        let tgt = |off: i64, kind: TargetKind| -> Result<(usize, DynamicLabel), JitError> {
            let t = target(prog, insns, pc, off, kind)?;
            match labels.get(t) {
                Some(Some(l)) => Ok((t, *l)),
                _ => Err(JitError::Codegen {
                    prog,
                    message: format!("no label for slot {t}"),
                }),
            }
        };
        match *insn {
            Insn::Alu {
                op,
                width,
                dst,
                src,
            } => self.alu(op, width, x(dst), src),
            Insn::Neg { width, dst } => {
                let d = x(dst);
                match width {
                    Width::W64 => asm!(self.ops ; neg Rq(d)),
                    Width::W32 => asm!(self.ops ; neg Rd(d)),
                }
            }
            Insn::MovSx {
                width,
                dst,
                src,
                bits,
            } => {
                let d = x(dst);
                let s = self.rv(src);
                if s != R10 {
                    asm!(self.ops ; mov r10, Rq(s));
                }
                match (width, bits) {
                    (Width::W64, SxBits::B8) => asm!(self.ops ; movsx Rq(d), r10b),
                    (Width::W64, SxBits::B16) => asm!(self.ops ; movsx Rq(d), r10w),
                    (Width::W64, SxBits::B32) => asm!(self.ops ; movsxd Rq(d), r10d),
                    (Width::W32, SxBits::B8) => asm!(self.ops ; movsx Rd(d), r10b),
                    (Width::W32, SxBits::B16) => asm!(self.ops ; movsx Rd(d), r10w),
                    (Width::W32, SxBits::B32) => asm!(self.ops ; mov Rd(d), r10d),
                }
            }
            Insn::AddrSpaceCast { .. } => self.unsupported(pc, 2),
            Insn::Endian { order, bits, dst } => {
                let d = x(dst);
                match (order, bits) {
                    (ByteOrder::Le, SwapBits::B16) => asm!(self.ops ; and Rd(d), 0xffff),
                    (ByteOrder::Le, SwapBits::B32) => asm!(self.ops ; mov Rd(d), Rd(d)),
                    (ByteOrder::Le, SwapBits::B64) => {}
                    (_, SwapBits::B16) => asm!(self.ops ; bswap Rd(d) ; shr Rd(d), 16),
                    (_, SwapBits::B32) => asm!(self.ops ; bswap Rd(d)),
                    (_, SwapBits::B64) => asm!(self.ops ; bswap Rq(d)),
                }
            }
            Insn::Load {
                size,
                dst,
                src,
                off: o,
            }
            | Insn::LoadAcquire {
                size,
                dst,
                src,
                off: o,
            } => {
                let m = self.translate(pc, src, o, size.bytes(), access::READ);
                let d = x(dst);
                match size {
                    Size::B => mem!(self.ops, m, (movzx Rd(d), BYTE), ()),
                    Size::H => mem!(self.ops, m, (movzx Rd(d), WORD), ()),
                    Size::W => mem!(self.ops, m, (mov Rd(d), DWORD), ()),
                    Size::DW => mem!(self.ops, m, (mov Rq(d), QWORD), ()),
                }
            }
            Insn::LoadSx {
                size,
                dst,
                src,
                off: o,
            } => {
                let m = self.translate(pc, src, o, size.bytes(), access::READ);
                let d = x(dst);
                match size {
                    Size::B => mem!(self.ops, m, (movsx Rq(d), BYTE), ()),
                    Size::H => mem!(self.ops, m, (movsx Rq(d), WORD), ()),
                    Size::W => mem!(self.ops, m, (movsxd Rq(d), DWORD), ()),
                    Size::DW => mem!(self.ops, m, (mov Rq(d), QWORD), ()),
                }
            }
            Insn::Store {
                size,
                dst,
                off: o,
                src,
            } => {
                let m = self.translate(pc, dst, o, size.bytes(), access::WRITE);
                let s = self.operand(src, Width::W64);
                self.store(m, size, s);
            }
            Insn::StoreRelease {
                size,
                dst,
                src,
                off: o,
            } => {
                let m = self.translate(pc, dst, o, size.bytes(), access::WRITE);
                let s = self.rv(src);
                self.store(m, size, Src::R(s));
            }
            Insn::Atomic {
                op,
                size,
                dst,
                src,
                off: o,
            } => {
                let n = if size == Size::DW { 8 } else { 4 };
                let m = self.translate(pc, dst, o, n, access::ATOMIC);
                // A fetching atomic writes `src`, so it is never `r10`.
                let s = self.rv(src);
                self.atomic(m, op, n == 8, s);
            }
            Insn::LdAbs { size, imm } => {
                asm!(self.ops ; mov r11d, DWORD imm);
                self.ld_packet(size);
            }
            Insn::LdInd { size, src, imm } => {
                let s = self.rv(src);
                asm!(self.ops ; mov r11d, Rd(s) ; add r11d, DWORD imm);
                self.ld_packet(size);
            }
            Insn::LdImm64 { dst, imm } => {
                let v = match imm {
                    Imm64::Imm(v) => v,
                    Imm64::MapFd(fd) => map_addr(prog, pc, i64::from(fd), 0)?,
                    Imm64::MapIdx(i) => map_addr(prog, pc, i64::from(i), 0)?,
                    Imm64::MapValue { fd, off } => map_addr(prog, pc, i64::from(fd), off)?,
                    Imm64::MapIdxValue { idx, off } => map_addr(prog, pc, i64::from(idx), off)?,
                    Imm64::Func(o) => {
                        let (t, _) = tgt(i64::from(o), TargetKind::Func)?;
                        layout::CODE_BASE + t as u64
                    }
                    Imm64::BtfId { .. } => {
                        self.unsupported(pc, 1);
                        return Ok(());
                    }
                };
                let d = x(dst);
                if self.hardened() && self.cfg.blinding {
                    let key =
                        (u64::from(self.key) << 32 | u64::from(self.key.rotate_left(13))) as i64;
                    let b = (v as i64) ^ key;
                    asm!(self.ops
                        ; mov Rq(d), QWORD b
                        ; mov r10, QWORD key
                        ; xor Rq(d), r10
                    );
                } else {
                    asm!(self.ops ; mov Rq(d), QWORD v as i64);
                }
            }
            Insn::LdImm64Tail => {}
            Insn::Ja { off: o } => {
                let (t, l) = tgt(i64::from(o), TargetKind::Jump)?;
                self.goto(pc, t, l);
            }
            Insn::Gotol { imm } => {
                let (t, l) = tgt(i64::from(imm), TargetKind::Jump)?;
                self.goto(pc, t, l);
            }
            Insn::Jump {
                cond,
                width,
                dst,
                src,
                off: o,
            } => {
                let (t, l) = tgt(i64::from(o), TargetKind::Jump)?;
                let d = self.rv(dst);
                let s = self.operand(src, width);
                let test = cond == JmpCond::Set;
                match (width, s, test) {
                    // `test` sets the flags every condition reads as a
                    // comparison with 0 does.
                    (Width::W64, Src::K(0), false) => asm!(self.ops ; test Rq(d), Rq(d)),
                    (Width::W32, Src::K(0), false) => asm!(self.ops ; test Rd(d), Rd(d)),
                    (Width::W64, Src::R(s), false) => asm!(self.ops ; cmp Rq(d), Rq(s)),
                    (Width::W64, Src::K(k), false) => asm!(self.ops ; cmp Rq(d), DWORD k),
                    (Width::W32, Src::R(s), false) => asm!(self.ops ; cmp Rd(d), Rd(s)),
                    (Width::W32, Src::K(k), false) => asm!(self.ops ; cmp Rd(d), DWORD k),
                    (Width::W64, Src::R(s), true) => asm!(self.ops ; test Rq(d), Rq(s)),
                    (Width::W64, Src::K(k), true) => asm!(self.ops ; test Rq(d), DWORD k),
                    (Width::W32, Src::R(s), true) => asm!(self.ops ; test Rd(d), Rd(s)),
                    (Width::W32, Src::K(k), true) => asm!(self.ops ; test Rd(d), DWORD k),
                }
                // `if cond goto +1; goto L` (the next slot reached only by
                // falling through) is `if !cond goto L`, unless that is a
                // backward jump of hardened code (which charges the budget).
                let next = insns.get(pc + 1).and_then(|n| match *n {
                    Insn::Ja { off } => Some(i64::from(off)),
                    Insn::Gotol { imm } => Some(i64::from(imm)),
                    _ => None,
                });
                if let Some(noff) = next.filter(|_| t == pc + 2)
                    && !self.targets.get(pc + 1).copied().unwrap_or(true)
                {
                    let t2 = target(prog, insns, pc + 1, noff, TargetKind::Jump)?;
                    if let (false, Some(Some(l2))) =
                        (self.hardened() && t2 <= pc + 1, labels.get(t2))
                    {
                        self.jcc(Cc::of(cond).not(), *l2);
                        self.skip_next = true;
                        return Ok(());
                    }
                }
                self.branch(Cc::of(cond), pc, t, l);
            }
            Insn::Call(CallTarget::Helper(id)) => {
                if id < 0 {
                    let stub = self.stub(status::UNKNOWN_HELPER, pc, 0, 0, 0, Some(i64::from(id)));
                    asm!(self.ops ; jmp =>stub);
                } else {
                    self.helper_call(pc, Src::K(id));
                }
            }
            Insn::Callx { reg } => {
                let r = self.rv(reg);
                self.helper_call(pc, Src::R(r));
            }
            Insn::Call(CallTarget::Local(o)) => {
                let (t, l) = tgt(i64::from(o), TargetKind::Call)?;
                let stub = self.stub(status::DEPTH, pc, 0, 0, 0, None);
                // Save only the callee-saved registers the callee may write.
                let saves = match self.saves.get(t).copied().flatten() {
                    Some(w) => w,
                    None => {
                        let w = callee_writes(insns, t);
                        if let Some(e) = self.saves.get_mut(t) {
                            *e = Some(w);
                        }
                        w
                    }
                };
                let regs = [x(Reg::R6), x(Reg::R7), x(Reg::R8), x(Reg::R9)];
                asm!(self.ops
                    ; cmp rbp, [r12 + off::MIN_FP]
                    ; jbe =>stub
                );
                for (i, &r) in regs.iter().enumerate() {
                    if saves & (1 << i) != 0 {
                        asm!(self.ops ; push Rq(r));
                    }
                }
                asm!(self.ops
                    ; sub rbp, layout::STACK_FRAME_SIZE as i32
                    ; call =>l
                    ; add rbp, layout::STACK_FRAME_SIZE as i32
                );
                for (i, &r) in regs.iter().enumerate().rev() {
                    if saves & (1 << i) != 0 {
                        asm!(self.ops ; pop Rq(r));
                    }
                }
            }
            Insn::Call(CallTarget::Kfunc { .. }) => self.unsupported(pc, 0),
            Insn::Exit => asm!(self.ops ; ret),
            Insn::MayGoto { off: o } => {
                let (t, l) = tgt(i64::from(o), TargetKind::Jump)?;
                asm!(self.ops ; cmp QWORD [r12 + off::MAY_GOTO], 0);
                let cont = self.ops.new_dynamic_label();
                asm!(self.ops ; jne =>cont);
                self.goto(pc, t, l);
                asm!(self.ops ; =>cont ; sub QWORD [r12 + off::MAY_GOTO], 1);
            }
            Insn::Gotox { reg } => {
                let len = insns.len() as i32;
                let stub = self.stub(status::GOTOX, pc, 0, 0, 0, None);
                let r = self.rv(reg);
                asm!(self.ops
                    ; mov r11, Rq(r)
                    ; cmp r11, DWORD len
                    ; jae =>stub
                    ; mov r9, QWORD slot_base as i64
                    ; add r9, r11
                    ; mov r10, [r12 + off::GOTOX]
                    ; mov r10, [r10 + r9 * 8]
                    ; test r10, r10
                    ; jz =>stub
                );
                self.charge(pc, 1);
                asm!(self.ops ; jmp r10);
            }
        }
        Ok(())
    }

    fn unsupported(&mut self, pc: usize, what: u64) {
        let stub = self.stub(status::UNSUPPORTED, pc, what, 0, 0, None);
        asm!(self.ops ; jmp =>stub);
    }

    /// Store the low bytes of `s` at `m`.
    fn store(&mut self, m: Mem, size: Size, s: Src) {
        match s {
            Src::R(r) => match size {
                Size::B => {
                    // Through r10: its low byte needs no care about the
                    // legacy high-byte registers.
                    if r != R10 {
                        asm!(self.ops ; mov r10, Rq(r));
                    }
                    mem!(self.ops, m, (mov BYTE), (, r10b));
                }
                Size::H => mem!(self.ops, m, (mov WORD), (, Rw(r))),
                Size::W => mem!(self.ops, m, (mov DWORD), (, Rd(r))),
                Size::DW => mem!(self.ops, m, (mov QWORD), (, Rq(r))),
            },
            Src::K(k) => match size {
                Size::B => mem!(self.ops, m, (mov BYTE), (, k as i8)),
                Size::H => mem!(self.ops, m, (mov WORD), (, k as i16)),
                Size::W => mem!(self.ops, m, (mov DWORD), (, k)),
                Size::DW => mem!(self.ops, m, (mov QWORD), (, k)),
            },
        }
    }

    /// Atomic op on `m` with the register `s`.
    fn atomic(&mut self, m: Mem, op: AtomicOp, w64: bool, s: u8) {
        match m.index {
            Some(i) if m.disp == 0 => asm!(self.ops ; add r9, Rq(i)),
            Some(i) => asm!(self.ops ; lea r9, [r9 + Rq(i) + m.disp]),
            None if m.base == 9 && m.disp == 0 => {}
            None => asm!(self.ops ; lea r9, [Rq(m.base) + m.disp]),
        }
        asm!(self.ops ; mov r10, Rq(s));
        match (op, w64) {
            (AtomicOp::Add, true) => asm!(self.ops ; lock add [r9], r10),
            (AtomicOp::Add, false) => asm!(self.ops ; lock add [r9], r10d),
            (AtomicOp::Or, true) => asm!(self.ops ; lock or [r9], r10),
            (AtomicOp::Or, false) => asm!(self.ops ; lock or [r9], r10d),
            (AtomicOp::And, true) => asm!(self.ops ; lock and [r9], r10),
            (AtomicOp::And, false) => asm!(self.ops ; lock and [r9], r10d),
            (AtomicOp::Xor, true) => asm!(self.ops ; lock xor [r9], r10),
            (AtomicOp::Xor, false) => asm!(self.ops ; lock xor [r9], r10d),
            (AtomicOp::FetchAdd, true) => {
                asm!(self.ops ; lock xadd [r9], r10 ; mov Rq(s), r10)
            }
            (AtomicOp::FetchAdd, false) => {
                asm!(self.ops ; lock xadd [r9], r10d ; mov Rd(s), r10d);
            }
            (AtomicOp::Xchg, true) => asm!(self.ops ; xchg [r9], r10 ; mov Rq(s), r10),
            (AtomicOp::Xchg, false) => asm!(self.ops ; xchg [r9], r10d ; mov Rd(s), r10d),
            (AtomicOp::Cmpxchg, true) => asm!(self.ops ; lock cmpxchg [r9], r10),
            (AtomicOp::Cmpxchg, false) => {
                asm!(self.ops ; lock cmpxchg [r9], r10d ; mov eax, eax);
            }
            (AtomicOp::FetchOr | AtomicOp::FetchAnd | AtomicOp::FetchXor, _) => {
                // A compare-exchange loop; rax (r0) is saved in the context.
                asm!(self.ops ; mov r11, r10 ; mov [r12 + off::SCRATCH], rax);
                let again = self.ops.new_dynamic_label();
                if w64 {
                    asm!(self.ops ; mov rax, [r9] ; =>again ; mov r10, rax);
                    match op {
                        AtomicOp::FetchOr => asm!(self.ops ; or r10, r11),
                        AtomicOp::FetchAnd => asm!(self.ops ; and r10, r11),
                        _ => asm!(self.ops ; xor r10, r11),
                    }
                    asm!(self.ops
                        ; lock cmpxchg [r9], r10
                        ; jne =>again
                        ; mov r11, rax
                        ; mov rax, [r12 + off::SCRATCH]
                        ; mov Rq(s), r11
                    );
                } else {
                    asm!(self.ops ; mov eax, [r9] ; =>again ; mov r10d, eax);
                    match op {
                        AtomicOp::FetchOr => asm!(self.ops ; or r10d, r11d),
                        AtomicOp::FetchAnd => asm!(self.ops ; and r10d, r11d),
                        _ => asm!(self.ops ; xor r10d, r11d),
                    }
                    asm!(self.ops
                        ; lock cmpxchg [r9], r10d
                        ; jne =>again
                        ; mov r11d, eax
                        ; mov rax, [r12 + off::SCRATCH]
                        ; mov Rd(s), r11d
                    );
                }
            }
        }
    }

    /// Legacy packet load of `size` at packet offset `r11d` into `r0`,
    /// network order; out of range ends the run with `r0 = 0`.
    fn ld_packet(&mut self, size: Size) {
        let n: i32 = match size {
            Size::B => 1,
            Size::H => 2,
            _ => 4,
        };
        let entry = (layout::PACKET_TAG * 32) as i32;
        asm!(self.ops
            ; cmp r11d, 0x7fff_ffff
            ; ja ->ldabs_fail
            ; mov r10, [r12 + off::TABLE]
            ; lea r9, [r11 + n]
            ; cmp r9, [r10 + entry + 8]
            ; ja ->ldabs_fail
            ; add r11, [r10 + entry]
        );
        match n {
            1 => asm!(self.ops ; movzx eax, BYTE [r11]),
            2 => asm!(self.ops ; movzx eax, WORD [r11] ; bswap eax ; shr eax, 16),
            _ => asm!(self.ops ; mov eax, DWORD [r11] ; bswap eax),
        }
    }

    /// `call helper` (`id` immediate) or `callx` (`id` in a register).
    fn helper_call(&mut self, pc: usize, id: Src) {
        let pc = pc as i32;
        match id {
            Src::K(k) => asm!(self.ops
                ; mov QWORD [r12 + off::CALL_ID], DWORD k
                ; mov QWORD [r12 + off::CALL_KIND], 0
            ),
            Src::R(r) => asm!(self.ops
                ; mov [r12 + off::CALL_ID], Rq(r)
                ; mov QWORD [r12 + off::CALL_KIND], 1
            ),
        }
        let done = self.ops.new_dynamic_label();
        asm!(self.ops
            ; mov QWORD [r12 + off::CALL_PC], pc
            ; mov [r12 + off::ARGS], rdi
            ; mov [r12 + off::ARGS + 8], rsi
            ; mov [r12 + off::ARGS + 16], rdx
            ; mov [r12 + off::ARGS + 24], rcx
            ; mov [r12 + off::ARGS + 32], r8
            ; mov r10, rsp
            ; and rsp, -16
            ; push r10
            ; push r10
            ; mov rdi, r12
            ; call QWORD [r12 + off::HELPER_FN]
            ; pop rsp
            ; mov rdi, [r12 + off::ARGS]
            ; mov rsi, [r12 + off::ARGS + 8]
            ; mov rdx, [r12 + off::ARGS + 16]
            ; mov rcx, [r12 + off::ARGS + 24]
            ; mov r8, [r12 + off::ARGS + 32]
            ; cmp eax, 1
            ; mov rax, [r12 + off::RET]
            ; jb =>done
            ; je ->epilogue
            ; jmp QWORD [r12 + off::TAIL_TARGET]
            ; =>done
        );
    }

    fn alu(&mut self, op: AluOp, w: Width, d: u8, src: Operand) {
        match op {
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => return self.shift(op, w, d, src),
            AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod => {
                let s = self.operand(src, w);
                return self.div(op, w, d, s);
            }
            _ => {}
        }
        if let Operand::Imm(k) = src
            && self.hardened()
            && self.cfg.blinding
            && self.blind_in_place(op, w, d, k)
        {
            return;
        }
        let s = self.operand(src, w);
        macro_rules! both {
            ($m:ident) => {
                match (w, s) {
                    (Width::W64, Src::R(s)) => asm!(self.ops ; $m Rq(d), Rq(s)),
                    (Width::W64, Src::K(k)) => asm!(self.ops ; $m Rq(d), DWORD k),
                    (Width::W32, Src::R(s)) => asm!(self.ops ; $m Rd(d), Rd(s)),
                    (Width::W32, Src::K(k)) => asm!(self.ops ; $m Rd(d), DWORD k),
                }
            };
        }
        match op {
            AluOp::Add => both!(add),
            AluOp::Sub => both!(sub),
            AluOp::Or => both!(or),
            AluOp::And => both!(and),
            AluOp::Xor => both!(xor),
            AluOp::Mov => match (w, s) {
                // Zero without an immediate (BPF has no flags to keep).
                (_, Src::K(0)) => asm!(self.ops ; xor Rd(d), Rd(d)),
                (Width::W64, Src::R(s)) => asm!(self.ops ; mov Rq(d), Rq(s)),
                // A non-negative immediate is the same zero-extended (a
                // shorter encoding).
                (Width::W64, Src::K(k)) if k > 0 => asm!(self.ops ; mov Rd(d), DWORD k),
                (Width::W64, Src::K(k)) => asm!(self.ops ; mov Rq(d), DWORD k),
                (Width::W32, Src::R(s)) => asm!(self.ops ; mov Rd(d), Rd(s)),
                (Width::W32, Src::K(k)) => asm!(self.ops ; mov Rd(d), DWORD k),
            },
            // Strength reduction of multiplications by small constants
            // (the low 64 or 32 bits of the product are the same; a
            // 32-bit `lea`/`shl`/`mov` zero-extends like `imul`).
            AluOp::Mul if matches!(s, Src::K(1)) => {
                if w == Width::W32 {
                    asm!(self.ops ; mov Rd(d), Rd(d));
                }
            }
            AluOp::Mul if matches!(s, Src::K(3 | 5 | 9)) => {
                let k = if let Src::K(k) = s { k } else { 3 };
                match (w, k) {
                    (Width::W64, 3) => asm!(self.ops ; lea Rq(d), [Rq(d) + Rq(d) * 2]),
                    (Width::W64, 5) => asm!(self.ops ; lea Rq(d), [Rq(d) + Rq(d) * 4]),
                    (Width::W64, _) => asm!(self.ops ; lea Rq(d), [Rq(d) + Rq(d) * 8]),
                    (Width::W32, 3) => asm!(self.ops ; lea Rd(d), [Rq(d) + Rq(d) * 2]),
                    (Width::W32, 5) => asm!(self.ops ; lea Rd(d), [Rq(d) + Rq(d) * 4]),
                    (Width::W32, _) => asm!(self.ops ; lea Rd(d), [Rq(d) + Rq(d) * 8]),
                }
            }
            AluOp::Mul if matches!(s, Src::K(k) if k > 1 && k.count_ones() == 1) => {
                let n = if let Src::K(k) = s {
                    k.trailing_zeros() as i8
                } else {
                    0
                };
                match w {
                    Width::W64 => asm!(self.ops ; shl Rq(d), n),
                    Width::W32 => asm!(self.ops ; shl Rd(d), n),
                }
            }
            _ => match (w, s) {
                (Width::W64, Src::R(s)) => asm!(self.ops ; imul Rq(d), Rq(s)),
                (Width::W64, Src::K(k)) => asm!(self.ops ; imul Rq(d), Rq(d), DWORD k),
                (Width::W32, Src::R(s)) => asm!(self.ops ; imul Rd(d), Rd(s)),
                (Width::W32, Src::K(k)) => asm!(self.ops ; imul Rd(d), Rd(d), DWORD k),
            },
        }
    }

    /// A blinded move of `k` into `dst` in two instructions on `dst` itself
    /// (`k ^ key` then `^ key`: sign extension commutes with xor; a move
    /// of 0 is `xor`, no immediate). Only moves: an operation that reads
    /// `dst` would put both instructions on its dependency chain, where
    /// the blinded register operand (computed off the chain) adds one.
    /// `false`: use the blinded register operand.
    fn blind_in_place(&mut self, op: AluOp, w: Width, d: u8, k: i32) -> bool {
        let key = self.key as i32;
        match (op, w) {
            (AluOp::Mov, _) if k == 0 => asm!(self.ops ; xor Rd(d), Rd(d)),
            (AluOp::Mov, Width::W64) => {
                asm!(self.ops ; mov Rq(d), DWORD k ^ key ; xor Rq(d), DWORD key);
            }
            (AluOp::Mov, Width::W32) => {
                asm!(self.ops ; mov Rd(d), DWORD k ^ key ; xor Rd(d), DWORD key);
            }
            _ => return false,
        }
        true
    }

    /// Shifts; the amount is masked to the width (x86 masks `cl` the same
    /// way). Immediate amounts are not blinded (they are at most 63).
    fn shift(&mut self, op: AluOp, w: Width, d: u8, src: Operand) {
        macro_rules! sh {
            ($m:ident) => {
                match src {
                    Operand::Imm(k) => {
                        let k = (k & if w == Width::W64 { 63 } else { 31 }) as i8;
                        match w {
                            Width::W64 => asm!(self.ops ; $m Rq(d), k),
                            Width::W32 => asm!(self.ops ; $m Rd(d), k),
                        }
                    }
                    Operand::Reg(s) => {
                        let s = self.rv(s);
                        // Shift `t` (dst, or r9 holding dst when dst is rcx) by cl.
                        let t = if d == RCX { 9 } else { d };
                        if s != RCX || d == RCX {
                            asm!(self.ops ; mov r9, rcx);
                        }
                        if s != RCX {
                            asm!(self.ops ; mov rcx, Rq(s));
                        }
                        match w {
                            Width::W64 => asm!(self.ops ; $m Rq(t), cl),
                            Width::W32 => asm!(self.ops ; $m Rd(t), cl),
                        }
                        if d == RCX {
                            asm!(self.ops ; mov rcx, r9);
                        } else if s != RCX {
                            asm!(self.ops ; mov rcx, r9);
                        }
                    }
                }
            };
        }
        match op {
            AluOp::Lsh => sh!(shl),
            AluOp::Rsh => sh!(shr),
            _ => sh!(sar),
        }
    }

    /// Division and modulo with the RFC 9669 edge cases.
    fn div(&mut self, op: AluOp, w: Width, d: u8, s: Src) {
        let signed = matches!(op, AluOp::SDiv | AluOp::SMod);
        let modulo = matches!(op, AluOp::Mod | AluOp::SMod);
        self.src_to_r11(s);
        let zero = self.ops.new_dynamic_label();
        let done = self.ops.new_dynamic_label();
        let w64 = w == Width::W64;
        asm!(self.ops
            ; mov r10, rax
            ; mov r9, rdx
            ; mov rax, Rq(d)
        );
        if w64 {
            asm!(self.ops ; test r11, r11);
        } else {
            asm!(self.ops ; test r11d, r11d);
        }
        asm!(self.ops ; jz =>zero);
        if signed {
            let normal = self.ops.new_dynamic_label();
            if w64 {
                asm!(self.ops ; cmp r11, -1 ; jne =>normal);
            } else {
                asm!(self.ops ; cmp r11d, -1 ; jne =>normal);
            }
            match (modulo, w64) {
                (false, true) => asm!(self.ops ; neg rax),
                (false, false) => asm!(self.ops ; neg eax),
                (true, _) => asm!(self.ops ; xor eax, eax),
            }
            asm!(self.ops ; jmp =>done ; =>normal);
        }
        match (signed, w64) {
            (true, true) => asm!(self.ops ; cqo ; idiv r11),
            (true, false) => asm!(self.ops ; cdq ; idiv r11d),
            (false, true) => asm!(self.ops ; xor edx, edx ; div r11),
            (false, false) => asm!(self.ops ; xor edx, edx ; div r11d),
        }
        if modulo {
            asm!(self.ops ; mov rax, rdx);
        }
        asm!(self.ops ; jmp =>done ; =>zero);
        match (modulo, w64) {
            (false, _) => asm!(self.ops ; xor eax, eax),
            (true, true) => {}
            (true, false) => asm!(self.ops ; mov eax, eax),
        }
        asm!(self.ops ; =>done);
        if d == RAX {
            asm!(self.ops ; mov rdx, r9);
        } else if d == RDX {
            asm!(self.ops ; mov rdx, rax ; mov rax, r10);
        } else {
            asm!(self.ops
                ; mov Rq(d), rax
                ; mov rax, r10
                ; mov rdx, r9
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_map_is_injective_and_avoids_scratch_and_context() {
        let mut seen = Vec::new();
        for n in 0..=10 {
            let r = x(Reg::new(n).unwrap());
            assert!(!seen.contains(&r), "r{n}");
            // rsp (4), the context (12) and the scratch registers (9-11).
            assert!(![4, 9, 10, 11, 12].contains(&r), "r{n} -> {r}");
            seen.push(r);
        }
        assert_eq!(x(Reg::R0), RAX);
        assert_eq!(x(Reg::R3), RDX);
        assert_eq!(x(Reg::R4), RCX);
    }

    #[test]
    fn condition_negation_is_an_involution() {
        for c in JmpCond::ALL {
            let cc = Cc::of(c);
            assert_eq!(format!("{:?}", cc.not().not()), format!("{cc:?}"));
        }
    }

    #[test]
    fn validation_mirrors_the_interpreter() {
        let prog = Program::from_insns([Insn::Gotol { imm: -2 }, Insn::Exit]);
        assert_eq!(
            validate(&[prog]),
            Err(JitError::TargetOutOfRange {
                prog: 0,
                pc: 0,
                target: -1,
                kind: TargetKind::Jump,
                len: 2
            })
        );
        let func = Program::from_insns([
            Insn::LdImm64 {
                dst: Reg::R0,
                imm: Imm64::Func(0),
            },
            Insn::Exit,
        ]);
        assert_eq!(
            validate(&[func]),
            Err(JitError::TargetInLdImm64 {
                prog: 0,
                pc: 0,
                target: 1,
                kind: TargetKind::Func
            })
        );
        let many = vec![Program::from_insns([Insn::Exit]); MAX_PROGRAMS + 1];
        assert!(matches!(
            validate(&many),
            Err(JitError::TooManyPrograms { .. })
        ));
    }

    #[test]
    fn code_has_one_entry_per_program_and_slot() {
        let p = Program::from_insns([
            Insn::LdImm64 {
                dst: Reg::R0,
                imm: Imm64::Imm(1),
            },
            Insn::Exit,
        ]);
        let code = compile(&[p.clone(), p], &JitConfig::hardened(), 7).unwrap();
        assert_eq!(code.entries.len(), 2);
        assert_eq!(code.slots.len(), 6);
        assert!(code.slots[1].is_none() && code.slots[4].is_none());
        assert_eq!(Some(code.entries[1]), code.slots[3]);
        assert!(code.entries[0] > 0 && code.entries[1] > code.entries[0]);
    }
}
