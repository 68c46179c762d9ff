//! The run loop, in two tiers.
//!
//! * First, [`prelude`] runs the register moves a program starts with, and
//!   an `exit` right after them, without the fast loop's set-up (that is
//!   the whole run of a program such as `r0 = XDP_PASS; exit`).
//! * [`fast`] runs the common ops (ALU, jumps, loads, stores, `ld_imm64`,
//!   bpf-to-bpf calls and returns, and the superinstructions of
//!   [`crate::compile::fuse`]) with as little live state as possible, so
//!   that `pc`, the op array and the budget stay in machine registers. It
//!   dispatches through one jump table. The entry frame's `exit` ends the run
//!   there ([`EXITED`]). On anything else, and on any failure, it hands back
//!   `pc` pointing at that op, unexecuted (for a superinstruction whose
//!   second or third part fails, at that part's slot, the earlier parts
//!   done).
//! * [`Interpreter::exec`] then runs exactly that one op of the original
//!   (unfused) array with the complete semantics (the entry frame's exit,
//!   tail calls, helpers, traps with their full description), and re-enters
//!   the fast loop.
//!
//! Registers live in a `[u64; 16]` indexed by 4-bit register nibbles (so no
//! bounds check survives); memory accesses go through [`Memory::load`] and
//! [`Memory::store`], whose stack and input cases are inlined. Budget
//! accounting is done only at control transfers: the slots of the
//! straight-line run since the previous transfer are charged there, so
//! not-taken branches and plain instructions cost nothing extra, and every
//! loop iteration (which must contain a taken jump) pays. Both tiers keep
//! the same `stop` value, so the count is exact whichever tier runs an op.
//!
//! [`Memory::load`]: ebpf_runtime::Memory::load
//! [`Memory::store`]: ebpf_runtime::Memory::store

use ebpf_isa::AtomicOp;
use ebpf_runtime::{Access, Fault, Memory, Outcome, PACKET_BASE, Session, Trap, layout};
use smallvec::SmallVec;

use crate::Interpreter;
use crate::op::*;

const ADD: u8 = 0;
const SUB: u8 = 1;
const MUL: u8 = 2;
const DIV: u8 = 3;
const SDIV: u8 = 4;
const OR: u8 = 5;
const AND: u8 = 6;
const LSH: u8 = 7;
const RSH: u8 = 8;
const MOD: u8 = 9;
const SMOD: u8 = 10;
const XOR: u8 = 11;
const MOV: u8 = 12;
const ARSH: u8 = 13;

const EQ: u8 = 0;
const NE: u8 = 1;
const GT: u8 = 2;
const GE: u8 = 3;
const LT: u8 = 4;
const LE: u8 = 5;
const SGT: u8 = 6;
const SGE: u8 = 7;
const SLT: u8 = 8;
const SLE: u8 = 9;
const SET: u8 = 10;

/// 64-bit ALU with RFC 9669 edge cases: `x / 0 = 0`, `x % 0 = x`,
/// `INT_MIN s/ -1 = INT_MIN`, `INT_MIN s% -1 = 0`, shift amounts masked.
#[inline(always)]
pub(crate) fn alu64<const OP: u8>(a: u64, b: u64) -> u64 {
    match OP {
        ADD => a.wrapping_add(b),
        SUB => a.wrapping_sub(b),
        MUL => a.wrapping_mul(b),
        DIV => a.checked_div(b).unwrap_or(0),
        SDIV => {
            if b == 0 {
                0
            } else {
                (a as i64).wrapping_div(b as i64) as u64
            }
        }
        OR => a | b,
        AND => a & b,
        LSH => a.wrapping_shl(b as u32),
        RSH => a.wrapping_shr(b as u32),
        MOD => a.checked_rem(b).unwrap_or(a),
        SMOD => {
            if b == 0 {
                a
            } else {
                (a as i64).wrapping_rem(b as i64) as u64
            }
        }
        XOR => a ^ b,
        MOV => b,
        _ => (a as i64).wrapping_shr(b as u32) as u64,
    }
}

/// 32-bit ALU on the low halves; the caller zero-extends.
#[inline(always)]
pub(crate) fn alu32<const OP: u8>(a: u32, b: u32) -> u32 {
    match OP {
        ADD => a.wrapping_add(b),
        SUB => a.wrapping_sub(b),
        MUL => a.wrapping_mul(b),
        DIV => a.checked_div(b).unwrap_or(0),
        SDIV => {
            if b == 0 {
                0
            } else {
                (a as i32).wrapping_div(b as i32) as u32
            }
        }
        OR => a | b,
        AND => a & b,
        LSH => a.wrapping_shl(b),
        RSH => a.wrapping_shr(b),
        MOD => a.checked_rem(b).unwrap_or(a),
        SMOD => {
            if b == 0 {
                a
            } else {
                (a as i32).wrapping_rem(b as i32) as u32
            }
        }
        XOR => a ^ b,
        MOV => b,
        _ => (a as i32).wrapping_shr(b) as u32,
    }
}

#[inline(always)]
pub(crate) fn cmp64<const C: u8>(a: u64, b: u64) -> bool {
    match C {
        EQ => a == b,
        NE => a != b,
        GT => a > b,
        GE => a >= b,
        LT => a < b,
        LE => a <= b,
        SGT => (a as i64) > (b as i64),
        SGE => (a as i64) >= (b as i64),
        SLT => (a as i64) < (b as i64),
        SLE => (a as i64) <= (b as i64),
        _ => a & b != 0,
    }
}

#[inline(always)]
pub(crate) fn cmp32<const C: u8>(a: u32, b: u32) -> bool {
    match C {
        EQ => a == b,
        NE => a != b,
        GT => a > b,
        GE => a >= b,
        LT => a < b,
        LE => a <= b,
        SGT => (a as i32) > (b as i32),
        SGE => (a as i32) >= (b as i32),
        SLT => (a as i32) < (b as i32),
        SLE => (a as i32) <= (b as i32),
        _ => a & b != 0,
    }
}

/// The value an atomic op leaves in memory (the old value is what fetch
/// forms and `cmpxchg` return).
#[inline]
fn atomic<T>(op: AtomicOp, old: T, val: T, expected: T) -> T
where
    T: Copy
        + PartialEq
        + core::ops::BitOr<Output = T>
        + core::ops::BitAnd<Output = T>
        + core::ops::BitXor<Output = T>
        + WrappingAdd,
{
    match op {
        AtomicOp::Add | AtomicOp::FetchAdd => old.wrapping_add_(val),
        AtomicOp::Or | AtomicOp::FetchOr => old | val,
        AtomicOp::And | AtomicOp::FetchAnd => old & val,
        AtomicOp::Xor | AtomicOp::FetchXor => old ^ val,
        AtomicOp::Xchg => val,
        AtomicOp::Cmpxchg => {
            if old == expected {
                val
            } else {
                old
            }
        }
    }
}

trait WrappingAdd {
    fn wrapping_add_(self, b: Self) -> Self;
}
impl WrappingAdd for u32 {
    fn wrapping_add_(self, b: u32) -> u32 {
        self.wrapping_add(b)
    }
}
impl WrappingAdd for u64 {
    fn wrapping_add_(self, b: u64) -> u64 {
        self.wrapping_add(b)
    }
}

/// Budgets above this are treated as unlimited (it keeps the `stop`
/// arithmetic far from overflow).
pub(crate) const MAX_BUDGET: u64 = 1 << 62;

/// A suspended caller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// Op index to return to.
    ret: u32,
    /// The caller's program base and index.
    base: u32,
    prog: u32,
    /// Its `r6..=r9`.
    saved: [u64; 4],
    /// Set when the caller is in `bpf_loop`: the callee is its callback.
    lp: Option<LoopFrame>,
}

/// A `bpf_loop` in progress: the caller's frame waits while the callback
/// runs for `i = 0, 1, ..` up to `n` iterations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LoopFrame {
    /// The iteration running now.
    i: u32,
    /// Iterations asked for.
    n: u32,
    /// Op index of the callback.
    callback: u32,
    /// Its second argument.
    ctx: u64,
}

/// `bpf_loop`'s helper id: the interpreter runs it itself, since it calls
/// back into the program.
pub(crate) const BPF_LOOP: u32 = 181;

/// The bpf-to-bpf call state, shared by both tiers.
#[derive(Debug)]
pub(crate) struct Calls {
    /// Suspended callers, innermost last.
    pub(crate) frames: SmallVec<[Frame; 8]>,
    /// Most frames, the entry frame included (`Config::call_frames`).
    pub(crate) max: usize,
    /// Op index of the current program's slot 0.
    pub(crate) base: usize,
    /// Index of the current program in the set.
    pub(crate) prog: usize,
}

/// A register nibble of an op: `dst!(op)` and `src!(op)`.
macro_rules! dst {
    ($op:expr) => {
        ($op.regs & 15) as usize
    };
}
macro_rules! src {
    ($op:expr) => {
        ($op.regs >> 4) as usize
    };
}

/// `dst op= imm|src`, 64-bit (`K`: sign-extended immediate, `X`: register).
macro_rules! alu64_arm {
    ($o:ident, K, $op:ident, $r:ident) => {{
        let d = dst!($op);
        $r[d] = alu64::<$o>($r[d], $op.imm as i64 as u64);
    }};
    ($o:ident, X, $op:ident, $r:ident) => {{
        let d = dst!($op);
        $r[d] = alu64::<$o>($r[d], $r[src!($op)]);
    }};
}

/// `dst op= imm|src`, 32-bit, zero-extending the result.
macro_rules! alu32_arm {
    ($o:ident, K, $op:ident, $r:ident) => {{
        let d = dst!($op);
        $r[d] = u64::from(alu32::<$o>($r[d] as u32, $op.imm as u32));
    }};
    ($o:ident, X, $op:ident, $r:ident) => {{
        let d = dst!($op);
        $r[d] = u64::from(alu32::<$o>($r[d] as u32, $r[src!($op)] as u32));
    }};
}

/// `if dst <cond> imm|src goto off`, through the calling tier's `jump!`.
macro_rules! jmp_arm {
    (64, $c:ident, K, $op:ident, $r:ident) => {
        if cmp64::<$c>($r[dst!($op)], $op.imm as i64 as u64) {
            jump!($op.off);
        }
    };
    (64, $c:ident, X, $op:ident, $r:ident) => {
        if cmp64::<$c>($r[dst!($op)], $r[src!($op)]) {
            jump!($op.off);
        }
    };
    (32, $c:ident, K, $op:ident, $r:ident) => {
        if cmp32::<$c>($r[dst!($op)] as u32, $op.imm as u32) {
            jump!($op.off);
        }
    };
    (32, $c:ident, X, $op:ident, $r:ident) => {
        if cmp32::<$c>($r[dst!($op)] as u32, $r[src!($op)] as u32) {
            jump!($op.off);
        }
    };
}

/// The dispatch `match` of both tiers: the arms they share (ALU, jumps,
/// byte swaps, loads, stores, `ld_imm64`, `ja`), written once, then the
/// tier's own arms (`$tier`: calls, exits, faults, superinstructions, the
/// catch-all). Each tier defines the `jump!`, `load!` and `store!` these
/// arms use: where the slow path traps (a bad access, an exhausted budget),
/// the fast loop instead bails out to it with the op unexecuted. `$op` is
/// the fetched op, `$r` the registers, `$pc` the index past `$op`, `$ops`
/// the op array.
macro_rules! dispatch {
    ($op:ident, $r:ident, $pc:ident, $ops:ident, { $($tier:tt)* }) => {
        match $op.code {
            ADD64_K => alu64_arm!(ADD, K, $op, $r),
            ADD64_X => alu64_arm!(ADD, X, $op, $r),
            SUB64_K => alu64_arm!(SUB, K, $op, $r),
            SUB64_X => alu64_arm!(SUB, X, $op, $r),
            MUL64_K => alu64_arm!(MUL, K, $op, $r),
            MUL64_X => alu64_arm!(MUL, X, $op, $r),
            DIV64_K => alu64_arm!(DIV, K, $op, $r),
            DIV64_X => alu64_arm!(DIV, X, $op, $r),
            SDIV64_K => alu64_arm!(SDIV, K, $op, $r),
            SDIV64_X => alu64_arm!(SDIV, X, $op, $r),
            OR64_K => alu64_arm!(OR, K, $op, $r),
            OR64_X => alu64_arm!(OR, X, $op, $r),
            AND64_K => alu64_arm!(AND, K, $op, $r),
            AND64_X => alu64_arm!(AND, X, $op, $r),
            LSH64_K => alu64_arm!(LSH, K, $op, $r),
            LSH64_X => alu64_arm!(LSH, X, $op, $r),
            RSH64_K => alu64_arm!(RSH, K, $op, $r),
            RSH64_X => alu64_arm!(RSH, X, $op, $r),
            MOD64_K => alu64_arm!(MOD, K, $op, $r),
            MOD64_X => alu64_arm!(MOD, X, $op, $r),
            SMOD64_K => alu64_arm!(SMOD, K, $op, $r),
            SMOD64_X => alu64_arm!(SMOD, X, $op, $r),
            XOR64_K => alu64_arm!(XOR, K, $op, $r),
            XOR64_X => alu64_arm!(XOR, X, $op, $r),
            MOV64_K => alu64_arm!(MOV, K, $op, $r),
            MOV64_X => alu64_arm!(MOV, X, $op, $r),
            ARSH64_K => alu64_arm!(ARSH, K, $op, $r),
            ARSH64_X => alu64_arm!(ARSH, X, $op, $r),
            ADD32_K => alu32_arm!(ADD, K, $op, $r),
            ADD32_X => alu32_arm!(ADD, X, $op, $r),
            SUB32_K => alu32_arm!(SUB, K, $op, $r),
            SUB32_X => alu32_arm!(SUB, X, $op, $r),
            MUL32_K => alu32_arm!(MUL, K, $op, $r),
            MUL32_X => alu32_arm!(MUL, X, $op, $r),
            DIV32_K => alu32_arm!(DIV, K, $op, $r),
            DIV32_X => alu32_arm!(DIV, X, $op, $r),
            SDIV32_K => alu32_arm!(SDIV, K, $op, $r),
            SDIV32_X => alu32_arm!(SDIV, X, $op, $r),
            OR32_K => alu32_arm!(OR, K, $op, $r),
            OR32_X => alu32_arm!(OR, X, $op, $r),
            AND32_K => alu32_arm!(AND, K, $op, $r),
            AND32_X => alu32_arm!(AND, X, $op, $r),
            LSH32_K => alu32_arm!(LSH, K, $op, $r),
            LSH32_X => alu32_arm!(LSH, X, $op, $r),
            RSH32_K => alu32_arm!(RSH, K, $op, $r),
            RSH32_X => alu32_arm!(RSH, X, $op, $r),
            MOD32_K => alu32_arm!(MOD, K, $op, $r),
            MOD32_X => alu32_arm!(MOD, X, $op, $r),
            SMOD32_K => alu32_arm!(SMOD, K, $op, $r),
            SMOD32_X => alu32_arm!(SMOD, X, $op, $r),
            XOR32_K => alu32_arm!(XOR, K, $op, $r),
            XOR32_X => alu32_arm!(XOR, X, $op, $r),
            MOV32_K => alu32_arm!(MOV, K, $op, $r),
            MOV32_X => alu32_arm!(MOV, X, $op, $r),
            ARSH32_K => alu32_arm!(ARSH, K, $op, $r),
            ARSH32_X => alu32_arm!(ARSH, X, $op, $r),
            JEQ64_K => jmp_arm!(64, EQ, K, $op, $r),
            JEQ64_X => jmp_arm!(64, EQ, X, $op, $r),
            JNE64_K => jmp_arm!(64, NE, K, $op, $r),
            JNE64_X => jmp_arm!(64, NE, X, $op, $r),
            JGT64_K => jmp_arm!(64, GT, K, $op, $r),
            JGT64_X => jmp_arm!(64, GT, X, $op, $r),
            JGE64_K => jmp_arm!(64, GE, K, $op, $r),
            JGE64_X => jmp_arm!(64, GE, X, $op, $r),
            JLT64_K => jmp_arm!(64, LT, K, $op, $r),
            JLT64_X => jmp_arm!(64, LT, X, $op, $r),
            JLE64_K => jmp_arm!(64, LE, K, $op, $r),
            JLE64_X => jmp_arm!(64, LE, X, $op, $r),
            JSGT64_K => jmp_arm!(64, SGT, K, $op, $r),
            JSGT64_X => jmp_arm!(64, SGT, X, $op, $r),
            JSGE64_K => jmp_arm!(64, SGE, K, $op, $r),
            JSGE64_X => jmp_arm!(64, SGE, X, $op, $r),
            JSLT64_K => jmp_arm!(64, SLT, K, $op, $r),
            JSLT64_X => jmp_arm!(64, SLT, X, $op, $r),
            JSLE64_K => jmp_arm!(64, SLE, K, $op, $r),
            JSLE64_X => jmp_arm!(64, SLE, X, $op, $r),
            JSET64_K => jmp_arm!(64, SET, K, $op, $r),
            JSET64_X => jmp_arm!(64, SET, X, $op, $r),
            JEQ32_K => jmp_arm!(32, EQ, K, $op, $r),
            JEQ32_X => jmp_arm!(32, EQ, X, $op, $r),
            JNE32_K => jmp_arm!(32, NE, K, $op, $r),
            JNE32_X => jmp_arm!(32, NE, X, $op, $r),
            JGT32_K => jmp_arm!(32, GT, K, $op, $r),
            JGT32_X => jmp_arm!(32, GT, X, $op, $r),
            JGE32_K => jmp_arm!(32, GE, K, $op, $r),
            JGE32_X => jmp_arm!(32, GE, X, $op, $r),
            JLT32_K => jmp_arm!(32, LT, K, $op, $r),
            JLT32_X => jmp_arm!(32, LT, X, $op, $r),
            JLE32_K => jmp_arm!(32, LE, K, $op, $r),
            JLE32_X => jmp_arm!(32, LE, X, $op, $r),
            JSGT32_K => jmp_arm!(32, SGT, K, $op, $r),
            JSGT32_X => jmp_arm!(32, SGT, X, $op, $r),
            JSGE32_K => jmp_arm!(32, SGE, K, $op, $r),
            JSGE32_X => jmp_arm!(32, SGE, X, $op, $r),
            JSLT32_K => jmp_arm!(32, SLT, K, $op, $r),
            JSLT32_X => jmp_arm!(32, SLT, X, $op, $r),
            JSLE32_K => jmp_arm!(32, SLE, K, $op, $r),
            JSLE32_X => jmp_arm!(32, SLE, X, $op, $r),
            JSET32_K => jmp_arm!(32, SET, K, $op, $r),
            JSET32_X => jmp_arm!(32, SET, X, $op, $r),
            NEG64 => {
                let d = dst!($op);
                $r[d] = $r[d].wrapping_neg();
            }
            NEG32 => {
                let d = dst!($op);
                $r[d] = u64::from(($r[d] as u32).wrapping_neg());
            }
            MOVSX8_64 => $r[dst!($op)] = $r[src!($op)] as i8 as i64 as u64,
            MOVSX16_64 => $r[dst!($op)] = $r[src!($op)] as i16 as i64 as u64,
            MOVSX32_64 => $r[dst!($op)] = $r[src!($op)] as i32 as i64 as u64,
            MOVSX8_32 => $r[dst!($op)] = u64::from($r[src!($op)] as i8 as i32 as u32),
            MOVSX16_32 => $r[dst!($op)] = u64::from($r[src!($op)] as i16 as i32 as u32),
            ZEXT16 => {
                let d = dst!($op);
                $r[d] = u64::from($r[d] as u16);
            }
            ZEXT32 => {
                let d = dst!($op);
                $r[d] = u64::from($r[d] as u32);
            }
            BSWAP16 => {
                let d = dst!($op);
                $r[d] = u64::from(($r[d] as u16).swap_bytes());
            }
            BSWAP32 => {
                let d = dst!($op);
                $r[d] = u64::from(($r[d] as u32).swap_bytes());
            }
            BSWAP64 => {
                let d = dst!($op);
                $r[d] = $r[d].swap_bytes();
            }
            NOP => {}
            LDX8 => $r[dst!($op)] = u64::from(load!(1, $op)[0]),
            LDX16 => $r[dst!($op)] = u64::from(u16::from_le_bytes(load!(2, $op))),
            LDX32 => $r[dst!($op)] = u64::from(u32::from_le_bytes(load!(4, $op))),
            LDX64 => $r[dst!($op)] = u64::from_le_bytes(load!(8, $op)),
            LDXS8 => $r[dst!($op)] = load!(1, $op)[0] as i8 as i64 as u64,
            LDXS16 => $r[dst!($op)] = i16::from_le_bytes(load!(2, $op)) as i64 as u64,
            LDXS32 => $r[dst!($op)] = i32::from_le_bytes(load!(4, $op)) as i64 as u64,
            ST8 => store!($op, [$op.imm as u8]),
            ST16 => store!($op, ($op.imm as u16).to_le_bytes()),
            ST32 => store!($op, $op.imm.to_le_bytes()),
            ST64 => store!($op, ($op.imm as i64).to_le_bytes()),
            STX8 => store!($op, [$r[src!($op)] as u8]),
            STX16 => store!($op, ($r[src!($op)] as u16).to_le_bytes()),
            STX32 => store!($op, ($r[src!($op)] as u32).to_le_bytes()),
            STX64 => store!($op, $r[src!($op)].to_le_bytes()),
            LDIMM64 => {
                // The tail slot holds the upper half.
                let hi = $ops.get($pc).map_or(0, |t| t.imm as u32);
                $r[dst!($op)] = u64::from($op.imm as u32) | u64::from(hi) << 32;
                $pc += 1;
            }
            JA => jump!($op.off),
            GOTOL => jump!($op.imm),
            $($tier)*
        }
    };
}

/// Where [`fast`] stopped, `(pc, stop)`: `pc` is an op it does not run
/// (or that needs the slow path: a fault, an exhausted budget), unexecuted;
/// or `(EXITED, left)` when the entry frame exited within budget, `left`
/// slots of the budget unused.
pub(crate) type FastStop = (usize, u64);

/// The `pc` of [`FastStop`] for a finished run (no op has this index).
pub(crate) const EXITED: usize = usize::MAX - 1;

/// The entry prelude: the register moves that start a program (and an
/// `exit` right after them) run here, before (and often instead of) the
/// fast loop, whose set-up is most of the cost of a short run. `start` is
/// the entry program's first op, `stop` the budget mark of [`fast`]. Each op
/// is the original (unfused) one and does exactly what the fast loop would
/// do; the entry frame's `exit` within budget ends the run (`Ok`), anything
/// else (another op, an `exit` past the budget) is left unexecuted at the
/// returned index (`Err`), the moves before it done, for the fast loop to
/// continue with the same `stop`: counts and traps are unchanged.
#[inline(always)]
pub(crate) fn prelude(
    ops: &[Op],
    r: &mut [u64; 16],
    start: usize,
    stop: u64,
) -> Result<Outcome, usize> {
    let mut pc = start;
    while let Some(&op) = ops.get(pc) {
        match op.code {
            MOV64_K => r[dst!(op)] = op.imm as i64 as u64,
            MOV32_K => r[dst!(op)] = u64::from(op.imm as u32),
            MOV64_X => r[dst!(op)] = r[src!(op)],
            EXIT if (pc + 1) as u64 <= stop => {
                return Ok(Outcome {
                    r0: r[0],
                    insns: (pc + 1 - start) as u64,
                });
            }
            _ => break,
        }
        pc += 1;
    }
    Err(pc)
}

/// The hot loop: ALU, jumps, loads and stores, `ld_imm64`, local calls and
/// returns, superinstructions. Anything else,
/// and any failure, returns to [`Interpreter::exec`] with `pc` on the op
/// (not executed) and the budget state, so that the slow path runs it (and
/// builds the trap, if it traps). Keeping this loop free of calls, traps and
/// bookkeeping keeps `pc`, the op array and the budget in machine registers.
#[inline(never)]
pub(crate) fn fast(
    ops: &[Op],
    r: &mut [u64; 16],
    mut pc: usize,
    mut stop: u64,
    mem: &mut Memory<'_>,
    calls: &mut Calls,
) -> FastStop {
    macro_rules! bail {
        () => {
            return (pc - 1, stop)
        };
    }
    macro_rules! jump {
        ($off:expr) => {{
            if pc as u64 > stop {
                bail!();
            }
            let t = pc.wrapping_add_signed($off as isize);
            stop = stop - pc as u64 + t as u64;
            pc = t;
        }};
    }
    // `if <cond> goto +1; goto off`, fused: taken, it skips the `goto`
    // (charged like the conditional jump it is); not taken, it runs the
    // `goto` (whose slot `pc` then points past).
    macro_rules! skip_ja {
        ($cond:expr, $off:expr) => {{
            if $cond {
                if pc as u64 > stop {
                    bail!();
                }
                pc += 1;
                stop += 1;
            } else {
                pc += 1;
                jump!($off);
            }
        }};
    }
    macro_rules! addr {
        ($op:expr, $reg:expr) => {
            $reg.wrapping_add($op.off as i64 as u64)
        };
    }
    macro_rules! load {
        ($n:literal, $op:expr) => {{
            match mem.load::<$n>(addr!($op, r[src!($op)])) {
                Some(v) => v,
                None => bail!(),
            }
        }};
    }
    macro_rules! store {
        ($op:expr, $bytes:expr) => {{
            if mem.store(addr!($op, r[dst!($op)]), $bytes).is_err() {
                bail!();
            }
        }};
    }
    // `dst = src; dst op= b`, fused (`op::MOVX_*`): `b` is the register
    // `imm & 15` (`X`) or the sign-extended `imm` (`K`); the second slot
    // (the original `dst op= b`) is stepped over.
    macro_rules! movx {
        ($o:ident, X, $op:expr) => {{
            let op = $op;
            r[dst!(op)] = alu64::<$o>(r[src!(op)], r[(op.imm & 15) as usize]);
            pc += 1;
        }};
        ($o:ident, K, $op:expr) => {{
            let op = $op;
            r[dst!(op)] = alu64::<$o>(r[src!(op)], op.imm as i64 as u64);
            pc += 1;
        }};
    }
    // A bpf-to-bpf call to `pc + off` (`pc` past the call). Failures (too
    // deep, budget) are left to the slow path, with nothing changed.
    macro_rules! call_local {
        ($off:expr) => {{
            if calls.frames.len() + 1 >= calls.max || pc as u64 > stop {
                bail!();
            }
            calls.frames.push(Frame {
                ret: pc as u32,
                base: calls.base as u32,
                prog: calls.prog as u32,
                saved: [r[6], r[7], r[8], r[9]],
                lp: None,
            });
            r[10] = r[10].wrapping_sub(ebpf_runtime::STACK_FRAME_SIZE as u64);
            jump!($off);
        }};
    }
    // `dst = a; dst += b; x = *(dst + off)`, fused (`op::MOVADD_LDX8`..):
    // a failing load leaves `pc` on it (the third slot), the add done.
    macro_rules! movadd_ldx {
        ($op:expr, $conv:expr) => {{
            let op = $op;
            let d = dst!(op);
            // In order: `b` may be `dst`.
            r[d] = r[src!(op)];
            let base = r[d].wrapping_add(r[(op.imm & 15) as usize]);
            r[d] = base;
            pc += 2;
            let v = match mem.load(addr!(op, base)) {
                Some(v) => $conv(v),
                None => bail!(),
            };
            r[((op.imm >> 4) & 15) as usize] = v;
        }};
    }
    // `dst += a; if dst <cond> k goto off`, fused (`op::ADDK_JCC_K`); a
    // failure in the jump leaves `pc` on the jump, the add done.
    macro_rules! addk_jcc_k {
        ($c:ident, $op:expr) => {{
            let op = $op;
            let d = dst!(op);
            let v = r[d].wrapping_add(op.imm as i16 as i64 as u64);
            r[d] = v;
            pc += 1;
            if cmp64::<$c>(v, (op.imm >> 16) as i64 as u64) {
                jump!(op.off);
            }
        }};
    }
    macro_rules! addk_jcc_x {
        ($c:ident, $op:expr) => {{
            let op = $op;
            let d = dst!(op);
            let v = r[d].wrapping_add(op.imm as i64 as u64);
            r[d] = v;
            pc += 1;
            if cmp64::<$c>(v, r[src!(op)]) {
                jump!(op.off);
            }
        }};
    }
    // `x = *(u64 *)(s + off); if a <cond> b goto joff`, fused
    // (`op::LDX64_JLE_X`): a failing load leaves `pc` on it, a failing jump
    // on the jump, the load done.
    macro_rules! ldx64_jcc_x {
        ($c:ident, $op:expr) => {{
            let op = $op;
            let v = u64::from_le_bytes(load!(8, op));
            r[dst!(op)] = v;
            pc += 1;
            if cmp64::<$c>(r[(op.imm & 15) as usize], r[((op.imm >> 4) & 15) as usize]) {
                jump!(op.imm >> 16);
            }
        }};
    }
    loop {
        // Every transfer target is validated, so this never fails; the
        // check (like the jump table's range check) is a predicted branch,
        // off the fetch's dependency chain.
        let Some(&op) = ops.get(pc) else {
            return (pc, stop);
        };
        pc += 1;
        dispatch!(op, r, pc, ops, {
            // Failures (too deep, budget) are left to the slow path, with
            // nothing changed.
            CALL_LOCAL => call_local!(op.imm),
            MOVX_MOVX_CALL => {
                r[dst!(op)] = r[src!(op)];
                r[(op.imm & 15) as usize] = r[((op.imm >> 4) & 15) as usize];
                pc += 2;
                call_local!(op.off);
            }
            RSHX_ORX => {
                let d = dst!(op);
                r[d] = r[d].wrapping_shr(r[src!(op)] as u32 & 63);
                r[d] |= r[(op.imm & 15) as usize];
                pc += 1;
            }
            EXIT => {
                if pc as u64 > stop {
                    bail!();
                }
                // The entry frame's exit ends the run.
                let Some(f) = calls.frames.last() else {
                    return (EXITED, stop - pc as u64);
                };
                // A `bpf_loop` callback's exit is the slow path's.
                if f.lp.is_some() {
                    bail!();
                }
                // Only the fields needed, read in place (moving the whole
                // frame out would copy it through the stack).
                let (t, saved, base, prog) = (f.ret as usize, f.saved, f.base, f.prog);
                let n = calls.frames.len() - 1;
                calls.frames.truncate(n);
                stop = stop - pc as u64 + t as u64;
                pc = t;
                [r[6], r[7], r[8], r[9]] = saved;
                r[10] = r[10].wrapping_add(ebpf_runtime::STACK_FRAME_SIZE as u64);
                calls.base = base as usize;
                calls.prog = prog as usize;
            }
            // Superinstructions (`compile::fuse`).
            LDX64_LDX64 => {
                r[dst!(op)] = u64::from_le_bytes(load!(8, op));
                pc += 1;
                let a = r[((op.imm >> 4) & 15) as usize].wrapping_add((op.imm >> 16) as i64 as u64);
                let v = match mem.load::<8>(a) {
                    Some(v) => u64::from_le_bytes(v),
                    None => bail!(),
                };
                r[(op.imm & 15) as usize] = v;
            }
            LDX64_ADDX => {
                let v = u64::from_le_bytes(load!(8, op));
                r[dst!(op)] = v;
                let d = (op.imm & 15) as usize;
                r[d] = r[d].wrapping_add(v);
                pc += 1;
            }
            JNE32K_MOVK => {
                if r[dst!(op)] as u32 != op.imm as i16 as u32 {
                    jump!(op.off);
                } else {
                    r[src!(op)] = (op.imm >> 16) as i64 as u64;
                    pc += 1;
                }
            }
            MULK_ADDX => {
                let d = dst!(op);
                r[d] = r[d].wrapping_mul(op.imm as i64 as u64);
                let d2 = src!(op);
                r[d2] = r[d2].wrapping_add(r[d]);
                pc += 1;
            }
            LSHK_ORTO => {
                let d = dst!(op);
                r[d] = r[d].wrapping_shl(op.imm as u32);
                let d2 = src!(op);
                r[d2] |= r[d];
                pc += 1;
            }
            MOVX_RSHK_XORX => {
                let d = dst!(op);
                r[d] = r[src!(op)];
                r[d] = r[d].wrapping_shr(op.imm as u32 & 63);
                r[d] ^= r[((op.imm >> 8) & 15) as usize];
                pc += 2;
            }
            MULX_ADDX => {
                let d = dst!(op);
                r[d] = r[d]
                    .wrapping_mul(r[src!(op)])
                    .wrapping_add(r[(op.imm & 15) as usize]);
                pc += 1;
            }
            LSHK_ORX => {
                let d = dst!(op);
                r[d] = r[d].wrapping_shl(op.imm as u32) | r[src!(op)];
                pc += 1;
            }
            MOVADD_LDX8 => movadd_ldx!(op, |v: [u8; 1]| u64::from(v[0])),
            MOVADD_LDX16 => movadd_ldx!(op, |v| u64::from(u16::from_le_bytes(v))),
            MOVADD_LDX32 => movadd_ldx!(op, |v| u64::from(u32::from_le_bytes(v))),
            MOVADD_LDX64 => movadd_ldx!(op, u64::from_le_bytes),
            LDX64_MULX_ADDX => {
                let v = u64::from_le_bytes(load!(8, op));
                let d = dst!(op);
                r[d] = v;
                r[d] = r[d].wrapping_mul(r[(op.imm & 15) as usize]);
                r[d] = r[d].wrapping_add(r[((op.imm >> 4) & 15) as usize]);
                pc += 2;
            }
            STX64_STX64 => {
                store!(op, r[src!(op)].to_le_bytes());
                pc += 1;
                let b = r[(op.imm & 15) as usize];
                let a = b.wrapping_add((op.imm >> 16) as i64 as u64);
                if mem.store(a, r[((op.imm >> 4) & 15) as usize].to_le_bytes()).is_err() {
                    bail!();
                }
            }
            STX64_LDX64 => {
                store!(op, r[src!(op)].to_le_bytes());
                pc += 1;
                let a = r[((op.imm >> 4) & 15) as usize].wrapping_add((op.imm >> 16) as i64 as u64);
                let v = match mem.load::<8>(a) {
                    Some(v) => u64::from_le_bytes(v),
                    None => bail!(),
                };
                r[(op.imm & 15) as usize] = v;
            }
            MOVX_JLT_X => {
                r[dst!(op)] = r[src!(op)];
                pc += 1;
                if r[(op.imm & 15) as usize] < r[((op.imm >> 4) & 15) as usize] {
                    jump!(op.off);
                }
            }
            MOVX_ADDK_JGT_X => {
                let d = dst!(op);
                let v = r[src!(op)].wrapping_add(op.imm as i16 as i64 as u64);
                r[d] = v;
                pc += 2;
                if v > r[((op.imm >> 16) & 15) as usize] {
                    jump!(op.off);
                }
            }
            LDX64_JLE_X => ldx64_jcc_x!(LE, op),
            LDX64_JGT_X => ldx64_jcc_x!(GT, op),
            MOVX_JA => {
                r[dst!(op)] = r[src!(op)];
                pc += 1;
                jump!(op.off);
            }
            ADDK_JNE32_K => {
                let d = dst!(op);
                let v = r[d].wrapping_add(op.imm as i16 as i64 as u64);
                r[d] = v;
                pc += 1;
                if v as u32 != (op.imm >> 16) as u32 {
                    jump!(op.off);
                }
            }
            ADD32K_JNE32_K => {
                let d = dst!(op);
                let v = (r[d] as u32).wrapping_add(op.imm as i16 as u32);
                r[d] = u64::from(v);
                pc += 1;
                if v != (op.imm >> 16) as u32 {
                    jump!(op.off);
                }
            }
            LDIMM64_MULX => {
                let hi = ops.get(pc).map_or(0, |t| t.imm as u32);
                let d = dst!(op);
                r[d] = u64::from(op.imm as u32) | u64::from(hi) << 32;
                let x = src!(op);
                r[x] = r[x].wrapping_mul(r[d]);
                pc += 2;
            }
            MOVX_MOVK => {
                r[dst!(op)] = r[src!(op)];
                r[(op.off & 15) as usize] = op.imm as i64 as u64;
                pc += 1;
            }
            RSHK_ORX => {
                let d = dst!(op);
                r[d] = r[d].wrapping_shr(op.imm as u32);
                r[d] |= r[src!(op)];
                pc += 1;
            }
            LDX64_MULX => {
                let v = u64::from_le_bytes(load!(8, op));
                let d = dst!(op);
                r[d] = v;
                r[d] = r[d].wrapping_mul(r[(op.imm & 15) as usize]);
                pc += 1;
            }
            XORX_ADDX => {
                let d = dst!(op);
                r[d] ^= r[src!(op)];
                r[d] = r[d].wrapping_add(r[(op.imm & 15) as usize]);
                pc += 1;
            }
            XORX_MULX => {
                let d = dst!(op);
                r[d] ^= r[src!(op)];
                r[d] = r[d].wrapping_mul(r[(op.imm & 15) as usize]);
                pc += 1;
            }
            ANDX_ORX => {
                let d = dst!(op);
                r[d] &= r[src!(op)];
                r[d] |= r[(op.imm & 15) as usize];
                pc += 1;
            }
            ADDK_ANDX => {
                let d = dst!(op);
                r[d] = r[d].wrapping_add(op.imm as i64 as u64);
                r[d] &= r[src!(op)];
                pc += 1;
            }
            ADDK_MOVX => {
                let d = dst!(op);
                r[d] = r[d].wrapping_add(op.imm as i64 as u64);
                r[src!(op)] = r[(op.off & 15) as usize];
                pc += 1;
            }
            ADDK_ADDK => {
                let d = dst!(op);
                r[d] = r[d].wrapping_add(op.imm as i64 as u64);
                let d2 = src!(op);
                r[d2] = r[d2].wrapping_add(op.off as i64 as u64);
                pc += 1;
            }
            MOVX_MOVX => {
                r[dst!(op)] = r[src!(op)];
                r[(op.imm & 15) as usize] = r[((op.imm >> 4) & 15) as usize];
                pc += 1;
            }
            MOVX_NEG => {
                r[dst!(op)] = r[src!(op)].wrapping_neg();
                pc += 1;
            }
            MOV32X_ADD32K => {
                r[dst!(op)] = u64::from((r[src!(op)] as u32).wrapping_add(op.imm as u32));
                pc += 1;
            }
            MOV32X_AND32K => {
                r[dst!(op)] = u64::from(r[src!(op)] as u32 & op.imm as u32);
                pc += 1;
            }
            JEQ64_K_JA => skip_ja!(cmp64::<EQ>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JEQ64_X_JA => skip_ja!(cmp64::<EQ>(r[dst!(op)], r[src!(op)]), op.off),
            JNE64_K_JA => skip_ja!(cmp64::<NE>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JNE64_X_JA => skip_ja!(cmp64::<NE>(r[dst!(op)], r[src!(op)]), op.off),
            JGT64_K_JA => skip_ja!(cmp64::<GT>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JGT64_X_JA => skip_ja!(cmp64::<GT>(r[dst!(op)], r[src!(op)]), op.off),
            JGE64_K_JA => skip_ja!(cmp64::<GE>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JGE64_X_JA => skip_ja!(cmp64::<GE>(r[dst!(op)], r[src!(op)]), op.off),
            JLT64_K_JA => skip_ja!(cmp64::<LT>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JLT64_X_JA => skip_ja!(cmp64::<LT>(r[dst!(op)], r[src!(op)]), op.off),
            JLE64_K_JA => skip_ja!(cmp64::<LE>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JLE64_X_JA => skip_ja!(cmp64::<LE>(r[dst!(op)], r[src!(op)]), op.off),
            JSGT64_K_JA => skip_ja!(cmp64::<SGT>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JSGT64_X_JA => skip_ja!(cmp64::<SGT>(r[dst!(op)], r[src!(op)]), op.off),
            JSGE64_K_JA => skip_ja!(cmp64::<SGE>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JSGE64_X_JA => skip_ja!(cmp64::<SGE>(r[dst!(op)], r[src!(op)]), op.off),
            JSLT64_K_JA => skip_ja!(cmp64::<SLT>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JSLT64_X_JA => skip_ja!(cmp64::<SLT>(r[dst!(op)], r[src!(op)]), op.off),
            JSLE64_K_JA => skip_ja!(cmp64::<SLE>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JSLE64_X_JA => skip_ja!(cmp64::<SLE>(r[dst!(op)], r[src!(op)]), op.off),
            JSET64_K_JA => skip_ja!(cmp64::<SET>(r[dst!(op)], op.imm as i64 as u64), op.off),
            JSET64_X_JA => skip_ja!(cmp64::<SET>(r[dst!(op)], r[src!(op)]), op.off),
            JEQ32_K_JA => skip_ja!(cmp32::<EQ>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JEQ32_X_JA => skip_ja!(cmp32::<EQ>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JNE32_K_JA => skip_ja!(cmp32::<NE>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JNE32_X_JA => skip_ja!(cmp32::<NE>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JGT32_K_JA => skip_ja!(cmp32::<GT>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JGT32_X_JA => skip_ja!(cmp32::<GT>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JGE32_K_JA => skip_ja!(cmp32::<GE>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JGE32_X_JA => skip_ja!(cmp32::<GE>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JLT32_K_JA => skip_ja!(cmp32::<LT>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JLT32_X_JA => skip_ja!(cmp32::<LT>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JLE32_K_JA => skip_ja!(cmp32::<LE>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JLE32_X_JA => skip_ja!(cmp32::<LE>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JSGT32_K_JA => skip_ja!(cmp32::<SGT>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JSGT32_X_JA => skip_ja!(cmp32::<SGT>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JSGE32_K_JA => skip_ja!(cmp32::<SGE>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JSGE32_X_JA => skip_ja!(cmp32::<SGE>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JSLT32_K_JA => skip_ja!(cmp32::<SLT>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JSLT32_X_JA => skip_ja!(cmp32::<SLT>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JSLE32_K_JA => skip_ja!(cmp32::<SLE>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JSLE32_X_JA => skip_ja!(cmp32::<SLE>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            JSET32_K_JA => skip_ja!(cmp32::<SET>(r[dst!(op)] as u32, op.imm as u32), op.off),
            JSET32_X_JA => skip_ja!(cmp32::<SET>(r[dst!(op)] as u32, r[src!(op)] as u32), op.off),
            MOVX_ADD_X => movx!(ADD, X, op),
            MOVX_SUB_X => movx!(SUB, X, op),
            MOVX_MUL_X => movx!(MUL, X, op),
            MOVX_AND_X => movx!(AND, X, op),
            MOVX_OR_X => movx!(OR, X, op),
            MOVX_XOR_X => movx!(XOR, X, op),
            MOVX_LSH_X => movx!(LSH, X, op),
            MOVX_RSH_X => movx!(RSH, X, op),
            MOVX_ARSH_X => movx!(ARSH, X, op),
            MOVX_ADD_K => movx!(ADD, K, op),
            MOVX_SUB_K => movx!(SUB, K, op),
            MOVX_MUL_K => movx!(MUL, K, op),
            MOVX_AND_K => movx!(AND, K, op),
            MOVX_OR_K => movx!(OR, K, op),
            MOVX_XOR_K => movx!(XOR, K, op),
            MOVX_LSH_K => movx!(LSH, K, op),
            MOVX_RSH_K => movx!(RSH, K, op),
            MOVX_ARSH_K => movx!(ARSH, K, op),
            ADDK_JEQ_K => addk_jcc_k!(EQ, op),
            ADDK_JNE_K => addk_jcc_k!(NE, op),
            ADDK_JGT_K => addk_jcc_k!(GT, op),
            ADDK_JGE_K => addk_jcc_k!(GE, op),
            ADDK_JLT_K => addk_jcc_k!(LT, op),
            ADDK_JLE_K => addk_jcc_k!(LE, op),
            ADDK_JSGT_K => addk_jcc_k!(SGT, op),
            ADDK_JSGE_K => addk_jcc_k!(SGE, op),
            ADDK_JSLT_K => addk_jcc_k!(SLT, op),
            ADDK_JSLE_K => addk_jcc_k!(SLE, op),
            ADDK_JSET_K => addk_jcc_k!(SET, op),
            ADDK_JEQ_X => addk_jcc_x!(EQ, op),
            ADDK_JNE_X => addk_jcc_x!(NE, op),
            ADDK_JGT_X => addk_jcc_x!(GT, op),
            ADDK_JGE_X => addk_jcc_x!(GE, op),
            ADDK_JLT_X => addk_jcc_x!(LT, op),
            ADDK_JLE_X => addk_jcc_x!(LE, op),
            ADDK_JSGT_X => addk_jcc_x!(SGT, op),
            ADDK_JSGE_X => addk_jcc_x!(SGE, op),
            ADDK_JSLT_X => addk_jcc_x!(SLT, op),
            ADDK_JSLE_X => addk_jcc_x!(SLE, op),
            ADDK_JSET_X => addk_jcc_x!(SET, op),
            // Every other code. (A separate arm for 0xff, to stretch the
            // jump table over all of `u8` and drop its range check, made
            // LLVM carry a flag through the loop instead: more instructions
            // per dispatch than the check.)
            _ => bail!(),
        });
    }
}

impl Interpreter {
    /// Execute from the session's entry program to its `exit`.
    #[inline(never)]
    pub(crate) fn exec(&self, sess: &mut Session<'_>) -> Result<Outcome, Trap> {
        let entry = sess.entry();
        let Some(info) = self.progs.get(entry as usize).copied() else {
            return Err(Trap::NoSuchProgram {
                pc: 0,
                index: entry,
                count: self.progs.len() as u32,
            });
        };
        let config = sess.config();
        let mut r = [0u64; 16];
        // One scalar load per argument: the session was just written field by
        // field, and a vector load spanning two of those stores would stall
        // on store forwarding (about a third of the cost of an empty run).
        let args = sess.args();
        for (i, a) in args.into_iter().enumerate() {
            r[i + 1] = core::hint::black_box(a);
        }
        r[10] = layout::frame_pointer(0);
        let mut calls = Calls {
            frames: SmallVec::new(),
            max: config.call_frames() as usize,
            base: info.base as usize,
            prog: entry as usize,
        };
        let limit = config.insn_budget.min(MAX_BUDGET);
        self.enter(sess, &mut r, &mut calls, limit)
    }

    /// Run from `calls.base` (the entry program's slot 0) with the entry
    /// registers in `r`, no suspended callers, and `limit` slots of budget.
    #[inline(always)]
    pub(crate) fn enter(
        &self,
        sess: &mut Session<'_>,
        r: &mut [u64; 16],
        calls: &mut Calls,
        limit: u64,
    ) -> Result<Outcome, Trap> {
        // The budget runs out when `pc` passes `stop` at a control transfer:
        // `stop` = start of the current straight-line run + budget left.
        let start = calls.base;
        let stop = limit + start as u64;
        let pc = match prelude(&self.ops, r, start, stop) {
            Ok(done) => return Ok(done),
            Err(pc) => pc,
        };
        let (pc, stop) = fast(&self.fast, r, pc, stop, &mut sess.mem, calls);
        // The entry frame's exit within budget: the common end of a run,
        // done without entering the slow tier.
        if pc == EXITED {
            return Ok(Outcome {
                r0: r[0],
                insns: limit - stop,
            });
        }
        self.slow(sess, r, calls, pc, stop, limit)
    }

    /// The slow tier: run the op at `pc` with full semantics, then go back
    /// to [`fast`], until the run ends.
    #[inline(never)]
    pub(crate) fn slow(
        &self,
        sess: &mut Session<'_>,
        r: &mut [u64; 16],
        calls: &mut Calls,
        mut pc: usize,
        mut stop: u64,
        limit: u64,
    ) -> Result<Outcome, Trap> {
        let config = sess.config();
        let ops: &[Op] = &self.ops;
        let mut may_goto = config.may_goto_budget;
        // Enter at the op `fast` stopped on.
        let mut first = true;

        // Slot index of the executing instruction within its program.
        macro_rules! cur_pc {
            () => {
                pc.wrapping_sub(1).wrapping_sub(calls.base) as u32
            };
        }
        // Charge the run ending at `pc` and continue at absolute index `$t`.
        macro_rules! transfer {
            ($t:expr) => {{
                let t: usize = $t;
                if pc as u64 > stop {
                    return Err(Trap::BudgetExhausted {
                        pc: cur_pc!(),
                        limit: config.insn_budget,
                    });
                }
                stop = stop - pc as u64 + t as u64;
                pc = t;
            }};
        }
        // A relative jump (`pc + 1 + off`; `pc` already points past the op).
        macro_rules! jump {
            ($off:expr) => {
                transfer!(pc.wrapping_add_signed($off as isize))
            };
        }
        macro_rules! finish {
            ($r0:expr) => {{
                if pc as u64 > stop {
                    return Err(Trap::BudgetExhausted {
                        pc: cur_pc!(),
                        limit: config.insn_budget,
                    });
                }
                return Ok(Outcome {
                    r0: $r0,
                    insns: limit - (stop - pc as u64),
                });
            }};
        }
        macro_rules! addr {
            ($op:expr, $reg:expr) => {
                $reg.wrapping_add($op.off as i64 as u64)
            };
        }
        macro_rules! load {
            ($n:literal, $op:expr) => {{
                let b = r[src!($op)];
                let addr = addr!($op, b);
                match sess.mem.load::<$n>(addr) {
                    Some(v) => v,
                    None => {
                        return Err(sess.mem.trap(
                            Fault::OutOfBounds,
                            cur_pc!(),
                            addr,
                            $n,
                            Access::Read,
                            Some(b),
                        ));
                    }
                }
            }};
        }
        macro_rules! store {
            ($op:expr, $bytes:expr) => {{
                let b = r[dst!($op)];
                let addr = addr!($op, b);
                let bytes = $bytes;
                if let Err(f) = sess.mem.store(addr, bytes) {
                    return Err(sess.mem.trap(
                        f,
                        cur_pc!(),
                        addr,
                        bytes.len() as u64,
                        Access::Write,
                        Some(b),
                    ));
                }
            }};
        }
        macro_rules! call_helper {
            ($id:expr) => {{
                if $id == BPF_LOOP {
                    bpf_loop!();
                    continue;
                }
                let args = [r[1], r[2], r[3], r[4], r[5]];
                let ret = sess.call_helper(cur_pc!(), $id, args)?;
                r[0] = ret.value;
                if let Some(p) = ret.tail_call {
                    // The helper checked `p` against the program count.
                    let Some(target) = self.progs.get(p as usize).copied() else {
                        return Err(Trap::NoSuchProgram {
                            pc: cur_pc!(),
                            index: p,
                            count: self.progs.len() as u32,
                        });
                    };
                    transfer!(target.base as usize);
                    calls.base = target.base as usize;
                    calls.prog = p as usize;
                    r[1] = args[0];
                }
            }};
        }
        // `bpf_loop(n, callback, ctx, flags)`: call `callback(i, ctx)` for
        // `i` in `0..n` until it returns non-zero; `r0` = the iterations
        // run, or the kernel's -EINVAL (flags) / -E2BIG (n too large).
        macro_rules! bpf_loop {
            () => {{
                let (n, addr, lctx, flags) = (r[1], r[2], r[3], r[4]);
                if flags != 0 {
                    r[0] = (-22i64) as u64;
                } else if n > ebpf_runtime::BPF_MAX_LOOPS {
                    r[0] = (-7i64) as u64;
                } else if n == 0 {
                    r[0] = 0;
                } else {
                    let len = self.progs.get(calls.prog).map_or(0, |p| p.len);
                    let slot = addr.wrapping_sub(ebpf_runtime::layout::CODE_BASE);
                    let t = calls.base.wrapping_add(slot as usize);
                    let ok = addr >= ebpf_runtime::layout::CODE_BASE
                        && slot < u64::from(len)
                        && !matches!(ops.get(t), Some(Op { code: TAIL, .. }) | None);
                    if !ok {
                        return Err(Trap::InvalidJumpTarget {
                            pc: cur_pc!(),
                            target: addr,
                        });
                    }
                    if calls.frames.len() + 1 >= calls.max {
                        return Err(Trap::CallDepthExceeded {
                            pc: cur_pc!(),
                            max: calls.max as u32,
                        });
                    }
                    calls.frames.push(Frame {
                        ret: pc as u32,
                        base: calls.base as u32,
                        prog: calls.prog as u32,
                        saved: [r[6], r[7], r[8], r[9]],
                        lp: Some(LoopFrame {
                            i: 0,
                            n: n as u32,
                            callback: t as u32,
                            ctx: lctx,
                        }),
                    });
                    r[10] = r[10].wrapping_sub(ebpf_runtime::STACK_FRAME_SIZE as u64);
                    [r[1], r[2], r[3], r[4], r[5]] = [0, lctx, 0, 0, 0];
                    transfer!(t);
                }
            }};
        }
        macro_rules! atomic {
            ($n:literal, $t:ty, $op:expr) => {{
                let aop = ATOMIC_OPS[($op.imm as usize) % ATOMIC_OPS.len()];
                let b = r[dst!($op)];
                let addr = addr!($op, b);
                let Some(bytes) = sess.mem.load::<$n>(addr) else {
                    return Err(sess.mem.trap(
                        Fault::OutOfBounds,
                        cur_pc!(),
                        addr,
                        $n,
                        Access::Write,
                        Some(b),
                    ));
                };
                let old = <$t>::from_le_bytes(bytes);
                let s = src!($op);
                let new = atomic::<$t>(aop, old, r[s] as $t, r[0] as $t);
                // Always store (even a failed cmpxchg) so that read-only
                // memory traps whatever the data.
                if let Err(f) = sess.mem.store(addr, new.to_le_bytes()) {
                    return Err(sess
                        .mem
                        .trap(f, cur_pc!(), addr, $n, Access::Write, Some(b)));
                }
                match aop {
                    AtomicOp::Cmpxchg => r[0] = u64::from(old),
                    o if o.fetches() => r[s] = u64::from(old),
                    _ => {}
                }
            }};
        }
        macro_rules! ld_packet {
            ($n:literal, $off:expr) => {{
                let off: u32 = $off;
                // Negative offsets (the kernel's SKF_* ancillary area) and
                // out-of-range ones end the program with r0 = 0.
                let v = if off > i32::MAX as u32 {
                    None
                } else {
                    sess.mem.load::<$n>(PACKET_BASE + u64::from(off))
                };
                match v {
                    Some(b) => {
                        let mut w = [0u8; 8];
                        w[8 - $n..].copy_from_slice(&b);
                        r[0] = u64::from_be_bytes(w);
                    }
                    None => finish!(0),
                }
            }};
        }

        loop {
            if !core::mem::take(&mut first) {
                (pc, stop) = fast(&self.fast, r, pc, stop, &mut sess.mem, calls);
                if pc == EXITED {
                    return Ok(Outcome {
                        r0: r[0],
                        insns: limit - stop,
                    });
                }
            }
            // The slow path: run exactly one op, whatever it is.
            let Some(&op) = ops.get(pc) else {
                // Unreachable: every transfer target is validated and no
                // program falls off its end.
                return Err(Trap::InvalidJumpTarget {
                    pc: cur_pc!(),
                    target: pc as u64,
                });
            };
            pc += 1;
            dispatch!(op, r, pc, ops, {
                ATOMIC32 => atomic!(4, u32, op),
                ATOMIC64 => atomic!(8, u64, op),
                LDABS8 => ld_packet!(1, op.imm as u32),
                LDABS16 => ld_packet!(2, op.imm as u32),
                LDABS32 => ld_packet!(4, op.imm as u32),
                LDIND8 => ld_packet!(1, (r[src!(op)] as u32).wrapping_add(op.imm as u32)),
                LDIND16 => ld_packet!(2, (r[src!(op)] as u32).wrapping_add(op.imm as u32)),
                LDIND32 => ld_packet!(4, (r[src!(op)] as u32).wrapping_add(op.imm as u32)),
                CALL => call_helper!(op.imm as u32),
                CALLX => {
                    let v = r[dst!(op)];
                    let Ok(id) = u32::try_from(v) else {
                        return Err(Trap::CallxNotHelper {
                            pc: cur_pc!(),
                            value: v,
                        });
                    };
                    call_helper!(id);
                }
                CALL_LOCAL => {
                    if calls.frames.len() + 1 >= calls.max {
                        return Err(Trap::CallDepthExceeded {
                            pc: cur_pc!(),
                            max: calls.max as u32,
                        });
                    }
                    calls.frames.push(Frame {
                        ret: pc as u32,
                        base: calls.base as u32,
                        prog: calls.prog as u32,
                        saved: [r[6], r[7], r[8], r[9]],
                        lp: None,
                    });
                    r[10] = r[10].wrapping_sub(ebpf_runtime::STACK_FRAME_SIZE as u64);
                    jump!(op.imm);
                }
                EXIT => match calls.frames.pop() {
                    None => finish!(r[0]),
                    // A `bpf_loop` callback returned: run it again, or
                    // return to the caller with the iteration count.
                    Some(mut f) if f.lp.is_some() => {
                        let Some(mut l) = f.lp else { continue };
                        let done = l.i.wrapping_add(1);
                        if r[0] == 0 && done < l.n {
                            l.i = done;
                            f.lp = Some(l);
                            calls.frames.push(f);
                            [r[1], r[2], r[3], r[4], r[5]] = [u64::from(done), l.ctx, 0, 0, 0];
                            transfer!(l.callback as usize);
                        } else {
                            transfer!(f.ret as usize);
                            r[0] = u64::from(done);
                            [r[6], r[7], r[8], r[9]] = f.saved;
                            r[10] = r[10].wrapping_add(ebpf_runtime::STACK_FRAME_SIZE as u64);
                            calls.base = f.base as usize;
                            calls.prog = f.prog as usize;
                        }
                    }
                    Some(f) => {
                        transfer!(f.ret as usize);
                        [r[6], r[7], r[8], r[9]] = f.saved;
                        r[10] = r[10].wrapping_add(ebpf_runtime::STACK_FRAME_SIZE as u64);
                        calls.base = f.base as usize;
                        calls.prog = f.prog as usize;
                    }
                },
                MAY_GOTO => {
                    if may_goto == 0 {
                        jump!(op.off);
                    } else {
                        may_goto -= 1;
                    }
                }
                GOTOX => {
                    let target = r[dst!(op)];
                    let len = self.progs.get(calls.prog).map_or(0, |p| p.len);
                    let t = calls.base.wrapping_add(target as usize);
                    let ok = target < u64::from(len)
                        && !matches!(ops.get(t), Some(Op { code: TAIL, .. }) | None);
                    if !ok {
                        return Err(Trap::InvalidJumpTarget {
                            pc: cur_pc!(),
                            target,
                        });
                    }
                    transfer!(t);
                }
                CALL_BAD => {
                    return Err(Trap::UnknownHelper {
                        pc: cur_pc!(),
                        id: i64::from(op.imm),
                    });
                }
                UNSUPPORTED => {
                    return Err(Trap::Unsupported {
                        pc: cur_pc!(),
                        what: UNSUPPORTED_WHAT
                            .get(op.imm as usize)
                            .copied()
                            .unwrap_or("instruction"),
                    });
                }
                _ => {
                    // TAIL (never reached: jumps onto it are rejected and
                    // LDIMM64 steps over it) and codes no op has.
                    return Err(Trap::InvalidJumpTarget {
                        pc: cur_pc!(),
                        target: u64::from(cur_pc!()),
                    });
                }
            });
        }
    }
}
