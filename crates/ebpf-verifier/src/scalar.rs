//! The numeric state the kernel keeps for a `SCALAR_VALUE` register.
//!
//! [`ScalarBounds`] holds exactly the numeric fields of the kernel's
//! `struct bpf_reg_state`: a [`Tnum`] (`var_off`) plus signed and unsigned
//! 64-bit and 32-bit ranges. A concrete 64-bit value `x` is described when
//! every one of the five facts holds ([`ScalarBounds::contains`]).
//!
//! The methods reimplement, under the kernel's names, the Linux 6.18
//! functions of `kernel/bpf/verifier.c` that maintain these fields:
//!
//! * bounds maintenance: `__update_reg_bounds` ([`update_bounds`]),
//!   `__reg_deduce_bounds` ([`deduce_bounds`]), `__reg_bound_offset`
//!   ([`bound_offset`]), `reg_bounds_sync` ([`sync`]);
//! * resets and casts: `__mark_reg_known`, `__mark_reg_unknown`,
//!   `zext_32_to_64`, `coerce_reg_to_size`, `coerce_reg_to_size_sx`,
//!   `coerce_subreg_to_size_sx`;
//! * ALU transfer functions: `adjust_scalar_min_max_vals` ([`alu`],
//!   [`neg`]) and the parts of `check_alu_op` for moves and byte swaps;
//! * branches: `is_scalar_branch_taken` ([`is_branch_taken`]),
//!   `regs_refine_cond_op` and `reg_set_min_max` ([`reg_set_min_max`]),
//!   `reg_bounds_sanity_check` ([`sanity_check`]).
//!
//! [`Display`](fmt::Display) prints the register as 6.18's
//! `print_reg_state` does for a scalar.
//!
//! [`update_bounds`]: ScalarBounds::update_bounds
//! [`deduce_bounds`]: ScalarBounds::deduce_bounds
//! [`bound_offset`]: ScalarBounds::bound_offset
//! [`sync`]: ScalarBounds::sync
//! [`alu`]: ScalarBounds::alu
//! [`neg`]: ScalarBounds::neg
//! [`is_branch_taken`]: ScalarBounds::is_branch_taken
//! [`sanity_check`]: ScalarBounds::sanity_check

use core::cmp::{max, min};
use core::fmt;

use ebpf_isa::{AluOp, ByteOrder, JmpCond, SwapBits, SxBits, Width};

use crate::tnum::{Tnum, is_snum_decimal, is_unum_decimal};

/// `0xffff_ffff_0000_0000`: the upper half of a 64-bit register.
const UPPER32: u64 = 0xffff_ffff_0000_0000;

/// The numeric abstract state of a scalar register (the scalar part of the
/// kernel's `struct bpf_reg_state`).
///
/// Field names are the kernel's. Well-formed states have every `min <= max`
/// and agree with `var_off` after [`sync`](ScalarBounds::sync); states
/// produced on infeasible branches may not, see
/// [`sanity_check`](ScalarBounds::sanity_check).
///
/// ```
/// use ebpf_verifier::ScalarBounds;
/// use ebpf_isa::{AluOp, Width};
///
/// let mut r = ScalarBounds::unknown();
/// r.alu(AluOp::And, Width::W64, &ScalarBounds::constant(0xff));
/// assert_eq!(r.umax_value, 0xff);
/// assert_eq!(
///     r.to_string(),
///     "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ScalarBounds {
    /// Known and unknown bits.
    pub var_off: Tnum,
    /// Signed 64-bit minimum.
    pub smin_value: i64,
    /// Signed 64-bit maximum.
    pub smax_value: i64,
    /// Unsigned 64-bit minimum.
    pub umin_value: u64,
    /// Unsigned 64-bit maximum.
    pub umax_value: u64,
    /// Signed minimum of the low 32 bits.
    pub s32_min_value: i32,
    /// Signed maximum of the low 32 bits.
    pub s32_max_value: i32,
    /// Unsigned minimum of the low 32 bits.
    pub u32_min_value: u32,
    /// Unsigned maximum of the low 32 bits.
    pub u32_max_value: u32,
}

/// Answer of [`ScalarBounds::is_branch_taken`] (the kernel's 1 / 0 / -1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BranchTaken {
    /// The condition holds for every pair of values (kernel: 1).
    Taken,
    /// The condition holds for no pair of values (kernel: 0).
    NotTaken,
    /// Both outcomes are possible as far as the bounds tell (kernel: -1).
    Unknown,
}

/// Which invariant of [`ScalarBounds::sanity_check`] failed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum InvariantKind {
    /// Some `min > max`: the state describes no value.
    RangeBounds,
    /// `var_off` is constant but the 64-bit ranges are not that constant.
    ConstTnum,
    /// The low 32 bits of `var_off` are constant but the 32-bit ranges are
    /// not that constant.
    ConstSubregTnum,
}

impl fmt::Display for InvariantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvariantKind::RangeBounds => "range bounds violation",
            InvariantKind::ConstTnum => "const tnum out of sync with range bounds",
            InvariantKind::ConstSubregTnum => "const subreg tnum out of sync with range bounds",
        })
    }
}

/// An abstract state that describes no concrete value, found by
/// [`ScalarBounds::sanity_check`] (the kernel's `reg_bounds_sanity_check`).
///
/// On a refinement this means the branch cannot be taken by any value the
/// operands may hold. The `Display` text is the kernel's
/// `REG INVARIANTS VIOLATION` message (without the `verifier bug: ` prefix).
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegInvariantViolation {
    /// A register state failed a check.
    #[error(
        "REG INVARIANTS VIOLATION ({ctx}): {kind} u64=[{:#x}, {:#x}] s64=[{:#x}, {:#x}] \
         u32=[{:#x}, {:#x}] s32=[{:#x}, {:#x}] var_off=({:#x}, {:#x})",
        reg.umin_value, reg.umax_value, reg.smin_value, reg.smax_value,
        reg.u32_min_value, reg.u32_max_value, reg.s32_min_value, reg.s32_max_value,
        reg.var_off.value, reg.var_off.mask
    )]
    Violation {
        /// Where: the kernel's context string (`true_reg1`, `false_reg2`,
        /// `alu`, ...).
        ctx: &'static str,
        /// What failed.
        kind: InvariantKind,
        /// The offending state.
        reg: ScalarBounds,
    },
}

/// Both outcomes of a conditional jump, as `reg_set_min_max` leaves them:
/// each operand refined by the condition and synced.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CondRefinement {
    /// Destination operand when the jump is taken.
    pub true_dst: ScalarBounds,
    /// Source operand when the jump is taken.
    pub true_src: ScalarBounds,
    /// Destination operand on the fall-through path.
    pub false_dst: ScalarBounds,
    /// Source operand on the fall-through path.
    pub false_src: ScalarBounds,
}

impl CondRefinement {
    /// The kernel's checks after `reg_set_min_max`, in its order
    /// (`true_reg1`, `true_reg2`, `false_reg1`, `false_reg2`); the first
    /// violation is returned. A violation on a `true_*` state means the jump
    /// can never be taken, on a `false_*` state that it is always taken.
    ///
    /// # Errors
    /// The first state that describes no value.
    pub fn check(&self) -> Result<(), RegInvariantViolation> {
        self.true_dst.sanity_check("true_reg1")?;
        self.true_src.sanity_check("true_reg2")?;
        self.false_dst.sanity_check("false_reg1")?;
        self.false_src.sanity_check("false_reg2")
    }

    /// Whether the jump-taken states describe values (no violation).
    #[must_use]
    pub fn true_feasible(&self) -> bool {
        self.true_dst.sanity_check("true_reg1").is_ok()
            && self.true_src.sanity_check("true_reg2").is_ok()
    }

    /// Whether the fall-through states describe values (no violation).
    #[must_use]
    pub fn false_feasible(&self) -> bool {
        self.false_dst.sanity_check("false_reg1").is_ok()
            && self.false_src.sanity_check("false_reg2").is_ok()
    }

    /// What the kernel does without `BPF_F_TEST_REG_INVARIANTS`: every state
    /// failing its check is reported and reset with `__mark_reg_unbounded`
    /// (ranges forgotten, `var_off` kept). Returns the reports in order.
    pub fn sanitize(&mut self) -> smallvec::SmallVec<[RegInvariantViolation; 4]> {
        let mut out = smallvec::SmallVec::new();
        for (reg, ctx) in [
            (&mut self.true_dst, "true_reg1"),
            (&mut self.true_src, "true_reg2"),
            (&mut self.false_dst, "false_reg1"),
            (&mut self.false_src, "false_reg2"),
        ] {
            if let Err(e) = reg.sanity_check(ctx) {
                out.push(e);
                reg.mark_unbounded();
            }
        }
        out
    }
}

/// `BPF_OP` of a conditional jump in the kernel's refinement code, including
/// its private "JSET | BPF_X" meaning "not JSET".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CondOp {
    Jmp(JmpCond),
    NotSet,
}

/// `rev_opcode`: the condition of the fall-through path.
const fn rev_opcode(cond: JmpCond) -> CondOp {
    match cond {
        JmpCond::Eq => CondOp::Jmp(JmpCond::Ne),
        JmpCond::Ne => CondOp::Jmp(JmpCond::Eq),
        JmpCond::Set => CondOp::NotSet,
        JmpCond::Ge => CondOp::Jmp(JmpCond::Lt),
        JmpCond::Gt => CondOp::Jmp(JmpCond::Le),
        JmpCond::Le => CondOp::Jmp(JmpCond::Gt),
        JmpCond::Lt => CondOp::Jmp(JmpCond::Ge),
        JmpCond::Sge => CondOp::Jmp(JmpCond::Slt),
        JmpCond::Sgt => CondOp::Jmp(JmpCond::Sle),
        JmpCond::Sle => CondOp::Jmp(JmpCond::Sgt),
        JmpCond::Slt => CondOp::Jmp(JmpCond::Sge),
    }
}

/// `flip_opcode`: the condition with its operands swapped.
pub(crate) const fn flip_opcode(cond: JmpCond) -> JmpCond {
    match cond {
        JmpCond::Ge => JmpCond::Le,
        JmpCond::Gt => JmpCond::Lt,
        JmpCond::Le => JmpCond::Ge,
        JmpCond::Lt => JmpCond::Gt,
        JmpCond::Sge => JmpCond::Sle,
        JmpCond::Sgt => JmpCond::Slt,
        JmpCond::Sle => JmpCond::Sge,
        JmpCond::Slt => JmpCond::Sgt,
        JmpCond::Eq | JmpCond::Ne | JmpCond::Set => cond,
    }
}

/// `__reg32_bound_s64`: a 32-bit signed bound usable as a 64-bit one
/// after zero extension.
const fn reg32_bound_s64(a: i32) -> bool {
    a >= 0
}

/// The kernel's `verbose_snum`.
pub(crate) fn write_snum(f: &mut fmt::Formatter<'_>, num: i64) -> fmt::Result {
    if is_snum_decimal(num) {
        write!(f, "{num}")
    } else {
        write!(f, "{:#x}", num as u64)
    }
}

/// The kernel's `verbose_unum`.
fn write_unum(f: &mut fmt::Formatter<'_>, num: u64) -> fmt::Result {
    if is_unum_decimal(num) {
        write!(f, "{num}")
    } else {
        write!(f, "{num:#x}")
    }
}

impl Default for ScalarBounds {
    fn default() -> Self {
        ScalarBounds::UNKNOWN
    }
}

impl ScalarBounds {
    /// A completely unknown scalar (`__mark_reg_unknown`).
    pub const UNKNOWN: ScalarBounds = ScalarBounds {
        var_off: Tnum::UNKNOWN,
        smin_value: i64::MIN,
        smax_value: i64::MAX,
        umin_value: 0,
        umax_value: u64::MAX,
        s32_min_value: i32::MIN,
        s32_max_value: i32::MAX,
        u32_min_value: 0,
        u32_max_value: u32::MAX,
    };

    /// A completely unknown scalar.
    #[must_use]
    pub const fn unknown() -> ScalarBounds {
        ScalarBounds::UNKNOWN
    }

    /// A known value (`__mark_reg_known`).
    #[must_use]
    pub const fn constant(imm: u64) -> ScalarBounds {
        ScalarBounds {
            var_off: Tnum::constant(imm),
            smin_value: imm as i64,
            smax_value: imm as i64,
            umin_value: imm,
            umax_value: imm,
            s32_min_value: imm as u32 as i32,
            s32_max_value: imm as u32 as i32,
            u32_min_value: imm as u32,
            u32_max_value: imm as u32,
        }
    }

    /// The operand the kernel builds for an instruction immediate
    /// (`__mark_reg_known(reg, insn->imm)`: sign-extended to 64 bits).
    #[must_use]
    pub const fn from_imm(imm: i32) -> ScalarBounds {
        ScalarBounds::constant(imm as i64 as u64)
    }

    /// An unknown value known to be a zero-extended 32-bit result (what an
    /// unknown 32-bit write leaves: `mark_reg_unknown` then
    /// `zext_32_to_64`).
    #[must_use]
    pub fn unknown_u32() -> ScalarBounds {
        let mut r = ScalarBounds::UNKNOWN;
        r.zext_32_to_64();
        r
    }

    /// Whether the concrete 64-bit value `x` is described by every field.
    #[must_use]
    pub const fn contains(&self, x: u64) -> bool {
        let lo = x as u32;
        self.var_off.contains(x)
            && self.umin_value <= x
            && x <= self.umax_value
            && self.smin_value <= x as i64
            && x as i64 <= self.smax_value
            && self.u32_min_value <= lo
            && lo <= self.u32_max_value
            && self.s32_min_value <= lo as i32
            && lo as i32 <= self.s32_max_value
    }

    /// Whether the value is a known constant (`tnum_is_const(var_off)`).
    #[must_use]
    pub const fn is_const(&self) -> bool {
        self.var_off.is_const()
    }

    /// `is_reg_const(reg, subreg32)`.
    #[must_use]
    pub const fn is_const_width(&self, width: Width) -> bool {
        match width {
            Width::W32 => self.var_off.subreg().is_const(),
            Width::W64 => self.var_off.is_const(),
        }
    }

    /// `reg_const_value(reg, subreg32)`.
    #[must_use]
    pub const fn const_value(&self, width: Width) -> u64 {
        match width {
            Width::W32 => self.var_off.subreg().value,
            Width::W64 => self.var_off.value,
        }
    }

    // ----------------------------------------------------------------
    // Resets
    // ----------------------------------------------------------------

    /// `___mark_reg_known`: every field becomes `imm`.
    pub fn mark_known(&mut self, imm: u64) {
        *self = ScalarBounds::constant(imm);
    }

    /// `__mark_reg32_known`: the low 32 bits become `imm`, the upper half of
    /// `var_off` and the 64-bit ranges are kept.
    pub fn mark_reg32_known(&mut self, imm: u64) {
        self.var_off = self.var_off.const_subreg(imm as u32);
        self.s32_min_value = imm as u32 as i32;
        self.s32_max_value = imm as u32 as i32;
        self.u32_min_value = imm as u32;
        self.u32_max_value = imm as u32;
    }

    /// `__mark_reg_unknown`: the scalar part of a completely unknown value.
    pub fn mark_unknown(&mut self) {
        *self = ScalarBounds::UNKNOWN;
    }

    /// `__mark_reg64_unbounded`: forget the 64-bit ranges.
    pub fn mark_reg64_unbounded(&mut self) {
        self.smin_value = i64::MIN;
        self.smax_value = i64::MAX;
        self.umin_value = 0;
        self.umax_value = u64::MAX;
    }

    /// `__mark_reg32_unbounded`: forget the 32-bit ranges.
    pub fn mark_reg32_unbounded(&mut self) {
        self.s32_min_value = i32::MIN;
        self.s32_max_value = i32::MAX;
        self.u32_min_value = 0;
        self.u32_max_value = u32::MAX;
    }

    /// `__mark_reg_unbounded`: forget all ranges, keep `var_off`.
    pub fn mark_unbounded(&mut self) {
        self.mark_reg64_unbounded();
        self.mark_reg32_unbounded();
    }

    // ----------------------------------------------------------------
    // Bounds maintenance
    // ----------------------------------------------------------------

    /// `__update_reg32_bounds`: tighten the 32-bit ranges from `var_off`.
    pub fn update_reg32_bounds(&mut self) {
        let v = self.var_off.subreg();
        // min signed is max(sign bit) | min(other bits)
        let smin = (v.value | (v.mask & 0x8000_0000)) as u32 as i32;
        // max signed is min(sign bit) | max(other bits)
        let smax = (v.value | (v.mask & 0x7fff_ffff)) as u32 as i32;
        self.s32_min_value = max(self.s32_min_value, smin);
        self.s32_max_value = min(self.s32_max_value, smax);
        self.u32_min_value = max(self.u32_min_value, v.value as u32);
        self.u32_max_value = min(self.u32_max_value, (v.value | v.mask) as u32);
    }

    /// `__update_reg64_bounds`: tighten the 64-bit ranges from `var_off`.
    pub fn update_reg64_bounds(&mut self) {
        let v = self.var_off;
        let smin = (v.value | (v.mask & (i64::MIN as u64))) as i64;
        let smax = (v.value | (v.mask & (i64::MAX as u64))) as i64;
        self.smin_value = max(self.smin_value, smin);
        self.smax_value = min(self.smax_value, smax);
        self.umin_value = max(self.umin_value, v.value);
        self.umax_value = min(self.umax_value, v.value | v.mask);
    }

    /// `__update_reg_bounds`: both of the above.
    pub fn update_bounds(&mut self) {
        self.update_reg32_bounds();
        self.update_reg64_bounds();
    }

    /// `__reg32_deduce_bounds`: learn 32-bit ranges from the 64-bit ones
    /// and between signed and unsigned 32-bit ranges.
    pub fn reg32_deduce_bounds(&mut self) {
        // Upper 32 bits of the u64 range constant: the low halves form a
        // range.
        if self.umin_value >> 32 == self.umax_value >> 32 {
            self.u32_min_value = max(self.u32_min_value, self.umin_value as u32);
            self.u32_max_value = min(self.u32_max_value, self.umax_value as u32);
            if (self.umin_value as u32 as i32) <= (self.umax_value as u32 as i32) {
                self.s32_min_value = max(self.s32_min_value, self.umin_value as u32 as i32);
                self.s32_max_value = min(self.s32_max_value, self.umax_value as u32 as i32);
            }
        }
        if self.smin_value >> 32 == self.smax_value >> 32 {
            if (self.smin_value as u32) <= (self.smax_value as u32) {
                self.u32_min_value = max(self.u32_min_value, self.smin_value as u32);
                self.u32_max_value = min(self.u32_max_value, self.smax_value as u32);
            }
            if (self.smin_value as u32 as i32) <= (self.smax_value as u32 as i32) {
                self.s32_min_value = max(self.s32_min_value, self.smin_value as u32 as i32);
                self.s32_max_value = min(self.s32_max_value, self.smax_value as u32 as i32);
            }
        }
        // Upper halves two consecutive numbers while the low halves go
        // from negative to non-negative: still a valid s32 range.
        if ((self.umin_value >> 32) as u32).wrapping_add(1) == (self.umax_value >> 32) as u32
            && (self.umin_value as u32 as i32) < 0
            && (self.umax_value as u32 as i32) >= 0
        {
            self.s32_min_value = max(self.s32_min_value, self.umin_value as u32 as i32);
            self.s32_max_value = min(self.s32_max_value, self.umax_value as u32 as i32);
        }
        if ((self.smin_value >> 32) as u32).wrapping_add(1) == (self.smax_value >> 32) as u32
            && (self.smin_value as u32 as i32) < 0
            && (self.smax_value as u32 as i32) >= 0
        {
            self.s32_min_value = max(self.s32_min_value, self.smin_value as u32 as i32);
            self.s32_max_value = min(self.s32_max_value, self.smax_value as u32 as i32);
        }
        // u32 range with a constant sign bit is a valid s32 range.
        if (self.u32_min_value as i32) <= (self.u32_max_value as i32) {
            self.s32_min_value = max(self.s32_min_value, self.u32_min_value as i32);
            self.s32_max_value = min(self.s32_max_value, self.u32_max_value as i32);
        }
        // s32 range not crossing the sign boundary is a valid u32 range.
        if (self.s32_min_value as u32) <= (self.s32_max_value as u32) {
            self.u32_min_value = max(self.u32_min_value, self.s32_min_value as u32);
            self.u32_max_value = min(self.u32_max_value, self.s32_max_value as u32);
        }
    }

    /// `__reg64_deduce_bounds`: learn between signed and unsigned 64-bit
    /// ranges, including the 6.17 case of an s64 range crossing the sign
    /// boundary that overlaps the u64 range on one side only.
    pub fn reg64_deduce_bounds(&mut self) {
        if (self.umin_value as i64) <= (self.umax_value as i64) {
            self.smin_value = max(self.smin_value, self.umin_value as i64);
            self.smax_value = min(self.smax_value, self.umax_value as i64);
        }
        if (self.smin_value as u64) <= (self.smax_value as u64) {
            self.umin_value = max(self.umin_value, self.smin_value as u64);
            self.umax_value = min(self.umax_value, self.smax_value as u64);
        } else if self.umax_value < self.smin_value as u64 {
            // u64 range overlaps only the non-negative part of s64.
            self.smin_value = self.umin_value as i64;
            self.umax_value = min(self.umax_value, self.smax_value as u64);
        } else if (self.smax_value as u64) < self.umin_value {
            // u64 range overlaps only the negative part of s64.
            self.smax_value = self.umax_value as i64;
            self.umin_value = max(self.umin_value, self.smin_value as u64);
        }
    }

    /// `__reg_deduce_mixed_bounds`: learn 64-bit ranges from 32-bit ones.
    pub fn deduce_mixed_bounds(&mut self) {
        // u32 -> u64: substitute the low halves of both 64-bit ends.
        let new_umin = (self.umin_value & UPPER32) | u64::from(self.u32_min_value);
        let new_umax = (self.umax_value & UPPER32) | u64::from(self.u32_max_value);
        self.umin_value = max(self.umin_value, new_umin);
        self.umax_value = min(self.umax_value, new_umax);
        // u32 -> s64, same embedding.
        let new_smin = ((self.smin_value as u64 & UPPER32) | u64::from(self.u32_min_value)) as i64;
        let new_smax = ((self.smax_value as u64 & UPPER32) | u64::from(self.u32_max_value)) as i64;
        self.smin_value = max(self.smin_value, new_smin);
        self.smax_value = min(self.smax_value, new_smax);
        // After a sign-extending load: 64-bit range within
        // [S32_MIN, S32_MAX] and non-negative low half means the upper half
        // is all zeroes.
        if self.s32_min_value >= 0
            && self.smin_value >= i64::from(i32::MIN)
            && self.smax_value <= i64::from(i32::MAX)
        {
            self.smin_value = i64::from(self.s32_min_value);
            self.smax_value = i64::from(self.s32_max_value);
            self.umin_value = self.s32_min_value as u64;
            self.umax_value = self.s32_max_value as u64;
            self.var_off = self
                .var_off
                .intersect(Tnum::range(self.smin_value as u64, self.smax_value as u64));
        }
    }

    /// `__reg_deduce_bounds`: 32-bit, then 64-bit, then mixed deduction.
    pub fn deduce_bounds(&mut self) {
        self.reg32_deduce_bounds();
        self.reg64_deduce_bounds();
        self.deduce_mixed_bounds();
    }

    /// `__reg_bound_offset`: learn `var_off` bits from the unsigned ranges.
    pub fn bound_offset(&mut self) {
        let var64_off = self
            .var_off
            .intersect(Tnum::range(self.umin_value, self.umax_value));
        let var32_off = var64_off.subreg().intersect(Tnum::range(
            u64::from(self.u32_min_value),
            u64::from(self.u32_max_value),
        ));
        self.var_off = var64_off.clear_subreg().or(var32_off);
    }

    /// `reg_bounds_sync`: update from `var_off`, deduce (three rounds, as
    /// since 6.17), learn `var_off`, update again.
    pub fn sync(&mut self) {
        // A known constant with every range on it, or a completely unknown
        // value with every range full, is already what the passes below
        // would make of it: nothing to do (the common cases).
        if self.is_known_exactly() || *self == ScalarBounds::unknown() {
            return;
        }
        self.update_bounds();
        self.deduce_bounds();
        self.deduce_bounds();
        self.deduce_bounds();
        self.bound_offset();
        self.update_bounds();
    }

    /// A constant (`var_off` known) whose eight ranges are exactly it.
    fn is_known_exactly(&self) -> bool {
        let v = self.var_off.value;
        self.var_off.mask == 0
            && self.umin_value == v
            && self.umax_value == v
            && self.smin_value == v as i64
            && self.smax_value == v as i64
            && self.u32_min_value == v as u32
            && self.u32_max_value == v as u32
            && self.s32_min_value == v as u32 as i32
            && self.s32_max_value == v as u32 as i32
    }

    /// `__reg_assign_32_into_64`: the 64-bit ranges of a zero-extended
    /// 32-bit value.
    pub fn assign_32_into_64(&mut self) {
        self.umin_value = u64::from(self.u32_min_value);
        self.umax_value = u64::from(self.u32_max_value);
        if reg32_bound_s64(self.s32_min_value) && reg32_bound_s64(self.s32_max_value) {
            self.smin_value = i64::from(self.s32_min_value);
            self.smax_value = i64::from(self.s32_max_value);
        } else {
            self.smin_value = 0;
            self.smax_value = i64::from(u32::MAX);
        }
    }

    /// `zext_32_to_64`: the register after a 32-bit write.
    pub fn zext_32_to_64(&mut self) {
        self.var_off = self.var_off.subreg();
        self.assign_32_into_64();
    }

    /// `coerce_reg_to_size`: zero-extend the low `size` bytes (1, 2 or 4;
    /// 8 or more leaves the value unchanged).
    pub fn coerce_reg_to_size(&mut self, size: u8) {
        // Eight bytes need no truncation (the kernel never asks for it).
        if size >= 8 {
            return;
        }
        self.var_off = self.var_off.cast(size);
        let bits = u32::from(size).saturating_mul(8);
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            1u64.checked_shl(bits).unwrap_or(0).wrapping_sub(1)
        };
        if self.umin_value & !mask == self.umax_value & !mask {
            self.umin_value &= mask;
            self.umax_value &= mask;
        } else {
            self.umin_value = 0;
            self.umax_value = mask;
        }
        self.smin_value = self.umin_value as i64;
        self.smax_value = self.umax_value as i64;
        // Narrower than 32 bits: the 32-bit ranges were truncated too.
        if size < 4 {
            self.mark_reg32_unbounded();
        }
        self.sync();
    }

    /// `coerce_reg_to_size_sx`: sign-extend the low `size` bytes (1, 2 or 4)
    /// to 64 bits, as a 64-bit `movsx` or a sign-extending load does. Like
    /// the kernel it does not sync afterwards. Other sizes leave the state
    /// unchanged (8 bytes need no extension; the kernel never passes 0).
    pub fn coerce_reg_to_size_sx(&mut self, size: u8) {
        if !matches!(size, 1 | 2 | 4) {
            return;
        }
        let sext = |v: u64| -> i64 {
            match size {
                1 => i64::from(v as u8 as i8),
                2 => i64::from(v as u16 as i16),
                _ => i64::from(v as u32 as i32),
            }
        };
        if self.var_off.is_const() {
            let cval = sext(self.var_off.value) as u64;
            *self = ScalarBounds::constant(cval);
            return;
        }
        let num_bits = u32::from(size).saturating_mul(8);
        let top_smax = (self.smax_value as u64)
            .checked_shr(num_bits)
            .unwrap_or(0)
            .checked_shl(num_bits)
            .unwrap_or(0);
        let top_smin = (self.smin_value as u64)
            .checked_shr(num_bits)
            .unwrap_or(0)
            .checked_shl(num_bits)
            .unwrap_or(0);
        if top_smax == top_smin {
            let a = sext(self.smax_value as u64);
            let b = sext(self.smin_value as u64);
            let s64_max = max(a, b);
            let s64_min = min(a, b);
            if (s64_max >= 0) == (s64_min >= 0) {
                self.smin_value = s64_min;
                self.smax_value = s64_max;
                self.s32_min_value = s64_min as i32;
                self.s32_max_value = s64_max as i32;
                self.umin_value = s64_min as u64;
                self.umax_value = s64_max as u64;
                self.u32_min_value = s64_min as u32;
                self.u32_max_value = s64_max as u32;
                self.var_off = Tnum::range(s64_min as u64, s64_max as u64);
                return;
            }
        }
        // set_sext64_default_val
        let (lo, hi) = match size {
            1 => (i64::from(i8::MIN), i64::from(i8::MAX)),
            2 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            _ => (i64::from(i32::MIN), i64::from(i32::MAX)),
        };
        self.smin_value = lo;
        self.s32_min_value = lo as i32;
        self.smax_value = hi;
        self.s32_max_value = hi as i32;
        self.umin_value = 0;
        self.u32_min_value = 0;
        self.umax_value = u64::MAX;
        self.u32_max_value = u32::MAX;
        self.var_off = Tnum::UNKNOWN;
    }

    /// `coerce_subreg_to_size_sx`: sign-extend the low `size` bytes (1 or 2)
    /// into the low 32 bits, as a 32-bit `movsx` does (the caller then
    /// zero-extends and syncs, see [`ScalarBounds::movsx`]). Other sizes
    /// leave the state unchanged.
    pub fn coerce_subreg_to_size_sx(&mut self, size: u8) {
        if !matches!(size, 1 | 2) {
            return;
        }
        let sext = |v: u32| -> i32 {
            match size {
                1 => i32::from(v as u8 as i8),
                _ => i32::from(v as u16 as i16),
            }
        };
        if self.var_off.is_const() {
            // The kernel builds a 64-bit constant from the sign-extended
            // 32-bit value; only the 32-bit fields are updated.
            let v = sext(self.var_off.value as u32);
            self.var_off = Tnum::constant(i64::from(v) as u64);
            self.s32_min_value = v;
            self.s32_max_value = v;
            self.u32_min_value = v as u32;
            self.u32_max_value = v as u32;
            return;
        }
        let num_bits = u32::from(size).saturating_mul(8);
        let top_smax = (self.s32_max_value as u32)
            .checked_shr(num_bits)
            .unwrap_or(0)
            .checked_shl(num_bits)
            .unwrap_or(0);
        let top_smin = (self.s32_min_value as u32)
            .checked_shr(num_bits)
            .unwrap_or(0)
            .checked_shl(num_bits)
            .unwrap_or(0);
        if top_smax == top_smin {
            let a = sext(self.s32_max_value as u32);
            let b = sext(self.s32_min_value as u32);
            let s32_max = max(a, b);
            let s32_min = min(a, b);
            if (s32_min >= 0) == (s32_max >= 0) {
                self.s32_min_value = s32_min;
                self.s32_max_value = s32_max;
                self.u32_min_value = s32_min as u32;
                self.u32_max_value = s32_max as u32;
                self.var_off =
                    Tnum::range(i64::from(s32_min) as u64, i64::from(s32_max) as u64).subreg();
                return;
            }
        }
        // set_sext32_default_val
        if size == 1 {
            self.s32_min_value = i32::from(i8::MIN);
            self.s32_max_value = i32::from(i8::MAX);
        } else {
            self.s32_min_value = i32::from(i16::MIN);
            self.s32_max_value = i32::from(i16::MAX);
        }
        self.u32_min_value = 0;
        self.u32_max_value = u32::MAX;
        self.var_off = Tnum::UNKNOWN.subreg();
    }

    // ----------------------------------------------------------------
    // ALU
    // ----------------------------------------------------------------

    /// `is_safe_to_compute_dst_reg_range` for a scalar source.
    fn is_safe_to_compute_dst_reg_range(op: AluOp, width: Width, src: &ScalarBounds) -> bool {
        let bitness: u64 = match width {
            Width::W32 => 32,
            Width::W64 => 64,
        };
        let src_is_const = match width {
            Width::W32 => {
                src.var_off.subreg_is_const()
                    && src.s32_min_value == src.s32_max_value
                    && src.u32_min_value == src.u32_max_value
            }
            Width::W64 => {
                src.var_off.is_const()
                    && src.smin_value == src.smax_value
                    && src.umin_value == src.umax_value
            }
        };
        match op {
            AluOp::Add | AluOp::Sub | AluOp::And | AluOp::Xor | AluOp::Or | AluOp::Mul => true,
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => src_is_const && src.umax_value < bitness,
            AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod | AluOp::Mov => false,
        }
    }

    /// `sync_linked_regs`'s shift: this value (a linked register's) plus
    /// the constant distance `delta`, zero-extended from 32 bits when the
    /// link was made by a 32-bit addition.
    pub fn add_const_linked(&mut self, delta: u64, zext32: bool) {
        self.alu(AluOp::Add, Width::W64, &ScalarBounds::constant(delta));
        if zext32 {
            self.zext_32_to_64();
            self.sync();
        }
    }

    /// `adjust_scalar_min_max_vals` for `dst op= src` on two scalars (`self`
    /// is `dst`). A `BPF_K` operand is [`ScalarBounds::from_imm`].
    ///
    /// As in 6.18: division and modulo (signed or not) make the result
    /// completely unknown (no zero extension for 32-bit); shifts by anything
    /// but a constant below the width likewise. [`AluOp::Mov`] is not an
    /// arithmetic operation in the kernel; here it follows `check_alu_op`
    /// for a scalar source: copy, and for 32 bits zero-extend and sync.
    pub fn alu(&mut self, op: AluOp, width: Width, src: &ScalarBounds) {
        let src = *src;
        if op == AluOp::Mov {
            *self = src;
            if width == Width::W32 {
                self.zext_32_to_64();
                self.sync();
            }
            return;
        }
        if !Self::is_safe_to_compute_dst_reg_range(op, width, &src) {
            self.mark_unknown();
            return;
        }
        let alu32 = width == Width::W32;
        match op {
            AluOp::Add => {
                self.scalar32_min_max_add(&src);
                self.scalar_min_max_add(&src);
                self.var_off = self.var_off.add(src.var_off);
            }
            AluOp::Sub => {
                self.scalar32_min_max_sub(&src);
                self.scalar_min_max_sub(&src);
                self.var_off = self.var_off.sub(src.var_off);
            }
            AluOp::Mul => {
                self.var_off = self.var_off.mul(src.var_off);
                self.scalar32_min_max_mul(&src);
                self.scalar_min_max_mul(&src);
            }
            AluOp::And => {
                self.var_off = self.var_off.and(src.var_off);
                self.scalar32_min_max_and(&src);
                self.scalar_min_max_and(&src);
            }
            AluOp::Or => {
                self.var_off = self.var_off.or(src.var_off);
                self.scalar32_min_max_or(&src);
                self.scalar_min_max_or(&src);
            }
            AluOp::Xor => {
                self.var_off = self.var_off.xor(src.var_off);
                self.scalar32_min_max_xor(&src);
                self.scalar_min_max_xor(&src);
            }
            AluOp::Lsh => {
                if alu32 {
                    self.scalar32_min_max_lsh(&src);
                } else {
                    self.scalar_min_max_lsh(&src);
                }
            }
            AluOp::Rsh => {
                if alu32 {
                    self.scalar32_min_max_rsh(&src);
                } else {
                    self.scalar_min_max_rsh(&src);
                }
            }
            AluOp::Arsh => {
                if alu32 {
                    self.scalar32_min_max_arsh(&src);
                } else {
                    self.scalar_min_max_arsh(&src);
                }
            }
            // Filtered out above.
            AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod | AluOp::Mov => {}
        }
        if alu32 {
            self.zext_32_to_64();
        }
        self.sync();
    }

    /// `dst = -dst` (`BPF_NEG`, 6.17+): `0 - dst` on the ranges,
    /// [`Tnum::neg`] on `var_off`.
    pub fn neg(&mut self, width: Width) {
        let old = *self;
        self.mark_known(0);
        self.scalar32_min_max_sub(&old);
        self.scalar_min_max_sub(&old);
        self.var_off = old.var_off.neg();
        if width == Width::W32 {
            self.zext_32_to_64();
        }
        self.sync();
    }

    /// Byte-order instructions (`BPF_END`), as Linux 6.18 tracks them on a
    /// little-endian host (`scalar_byte_swap`): `be` and `bswap` swap the
    /// known bits of the low `bits` bits (the ranges are derived afresh
    /// from them), `le` only truncates; 16- and 32-bit forms then
    /// zero-extend.
    pub fn endian(&mut self, order: ByteOrder, bits: SwapBits) {
        let bytes = bits.bits() / 8;
        if matches!(order, ByteOrder::Be | ByteOrder::Swap) {
            let vo = self.var_off.bswap(bytes);
            self.mark_unknown();
            self.var_off = vo;
        }
        if bytes < 8 {
            self.coerce_reg_to_size(bytes);
        }
        self.sync();
    }

    /// A sign-extending move `dst = (sN)src` (`self` is `dst`), as
    /// `check_alu_op` does it: 64-bit copies and
    /// [`coerce_reg_to_size_sx`](Self::coerce_reg_to_size_sx); 32-bit copies,
    /// [`coerce_subreg_to_size_sx`](Self::coerce_subreg_to_size_sx),
    /// zero-extends and syncs. A 32-bit move from 32 bits (not an
    /// instruction the ISA has) is a plain 32-bit move.
    pub fn movsx(&mut self, width: Width, src: &ScalarBounds, bits: SxBits) {
        *self = *src;
        let size = bits.bits() / 8;
        match width {
            Width::W64 => self.coerce_reg_to_size_sx(size),
            Width::W32 => {
                self.coerce_subreg_to_size_sx(size);
                self.zext_32_to_64();
                self.sync();
            }
        }
    }

    fn scalar32_min_max_add(&mut self, src: &ScalarBounds) {
        match (
            self.s32_min_value.checked_add(src.s32_min_value),
            self.s32_max_value.checked_add(src.s32_max_value),
        ) {
            (Some(lo), Some(hi)) => {
                self.s32_min_value = lo;
                self.s32_max_value = hi;
            }
            _ => {
                self.s32_min_value = i32::MIN;
                self.s32_max_value = i32::MAX;
            }
        }
        let (lo, min_overflow) = self.u32_min_value.overflowing_add(src.u32_min_value);
        let (hi, max_overflow) = self.u32_max_value.overflowing_add(src.u32_max_value);
        if !min_overflow && max_overflow {
            self.u32_min_value = 0;
            self.u32_max_value = u32::MAX;
        } else {
            self.u32_min_value = lo;
            self.u32_max_value = hi;
        }
    }

    fn scalar_min_max_add(&mut self, src: &ScalarBounds) {
        match (
            self.smin_value.checked_add(src.smin_value),
            self.smax_value.checked_add(src.smax_value),
        ) {
            (Some(lo), Some(hi)) => {
                self.smin_value = lo;
                self.smax_value = hi;
            }
            _ => {
                self.smin_value = i64::MIN;
                self.smax_value = i64::MAX;
            }
        }
        let (lo, min_overflow) = self.umin_value.overflowing_add(src.umin_value);
        let (hi, max_overflow) = self.umax_value.overflowing_add(src.umax_value);
        if !min_overflow && max_overflow {
            self.umin_value = 0;
            self.umax_value = u64::MAX;
        } else {
            self.umin_value = lo;
            self.umax_value = hi;
        }
    }

    fn scalar32_min_max_sub(&mut self, src: &ScalarBounds) {
        match (
            self.s32_min_value.checked_sub(src.s32_max_value),
            self.s32_max_value.checked_sub(src.s32_min_value),
        ) {
            (Some(lo), Some(hi)) => {
                self.s32_min_value = lo;
                self.s32_max_value = hi;
            }
            _ => {
                self.s32_min_value = i32::MIN;
                self.s32_max_value = i32::MAX;
            }
        }
        let (lo, min_underflow) = self.u32_min_value.overflowing_sub(src.u32_max_value);
        let (hi, max_underflow) = self.u32_max_value.overflowing_sub(src.u32_min_value);
        if min_underflow && !max_underflow {
            self.u32_min_value = 0;
            self.u32_max_value = u32::MAX;
        } else {
            self.u32_min_value = lo;
            self.u32_max_value = hi;
        }
    }

    fn scalar_min_max_sub(&mut self, src: &ScalarBounds) {
        match (
            self.smin_value.checked_sub(src.smax_value),
            self.smax_value.checked_sub(src.smin_value),
        ) {
            (Some(lo), Some(hi)) => {
                self.smin_value = lo;
                self.smax_value = hi;
            }
            _ => {
                self.smin_value = i64::MIN;
                self.smax_value = i64::MAX;
            }
        }
        let (lo, min_underflow) = self.umin_value.overflowing_sub(src.umax_value);
        let (hi, max_underflow) = self.umax_value.overflowing_sub(src.umin_value);
        if min_underflow && !max_underflow {
            self.umin_value = 0;
            self.umax_value = u64::MAX;
        } else {
            self.umin_value = lo;
            self.umax_value = hi;
        }
    }

    fn scalar32_min_max_mul(&mut self, src: &ScalarBounds) {
        match (
            self.u32_max_value.checked_mul(src.u32_max_value),
            self.u32_min_value.checked_mul(src.u32_min_value),
        ) {
            (Some(hi), Some(lo)) => {
                self.u32_min_value = lo;
                self.u32_max_value = hi;
            }
            _ => {
                self.u32_min_value = 0;
                self.u32_max_value = u32::MAX;
            }
        }
        let prods = [
            self.s32_min_value.checked_mul(src.s32_min_value),
            self.s32_min_value.checked_mul(src.s32_max_value),
            self.s32_max_value.checked_mul(src.s32_min_value),
            self.s32_max_value.checked_mul(src.s32_max_value),
        ];
        match prods {
            [Some(a), Some(b), Some(c), Some(d)] => {
                self.s32_min_value = min(min(a, b), min(c, d));
                self.s32_max_value = max(max(a, b), max(c, d));
            }
            _ => {
                self.s32_min_value = i32::MIN;
                self.s32_max_value = i32::MAX;
            }
        }
    }

    fn scalar_min_max_mul(&mut self, src: &ScalarBounds) {
        match (
            self.umax_value.checked_mul(src.umax_value),
            self.umin_value.checked_mul(src.umin_value),
        ) {
            (Some(hi), Some(lo)) => {
                self.umin_value = lo;
                self.umax_value = hi;
            }
            _ => {
                self.umin_value = 0;
                self.umax_value = u64::MAX;
            }
        }
        let prods = [
            self.smin_value.checked_mul(src.smin_value),
            self.smin_value.checked_mul(src.smax_value),
            self.smax_value.checked_mul(src.smin_value),
            self.smax_value.checked_mul(src.smax_value),
        ];
        match prods {
            [Some(a), Some(b), Some(c), Some(d)] => {
                self.smin_value = min(min(a, b), min(c, d));
                self.smax_value = max(max(a, b), max(c, d));
            }
            _ => {
                self.smin_value = i64::MIN;
                self.smax_value = i64::MAX;
            }
        }
    }

    /// The s32 range from a u32 range when it does not cross the sign
    /// boundary, unbounded otherwise (shared tail of and/or/xor).
    fn s32_from_u32(&mut self) {
        if (self.u32_min_value as i32) <= (self.u32_max_value as i32) {
            self.s32_min_value = self.u32_min_value as i32;
            self.s32_max_value = self.u32_max_value as i32;
        } else {
            self.s32_min_value = i32::MIN;
            self.s32_max_value = i32::MAX;
        }
    }

    /// 64-bit counterpart of [`Self::s32_from_u32`].
    fn s64_from_u64(&mut self) {
        if (self.umin_value as i64) <= (self.umax_value as i64) {
            self.smin_value = self.umin_value as i64;
            self.smax_value = self.umax_value as i64;
        } else {
            self.smin_value = i64::MIN;
            self.smax_value = i64::MAX;
        }
    }

    fn scalar32_min_max_and(&mut self, src: &ScalarBounds) {
        let var32_off = self.var_off.subreg();
        if src.var_off.subreg_is_const() && self.var_off.subreg_is_const() {
            self.mark_reg32_known(var32_off.value);
            return;
        }
        // Minimum from var_off; maximum the smaller operand maximum.
        self.u32_min_value = var32_off.value as u32;
        self.u32_max_value = min(self.u32_max_value, src.u32_max_value);
        self.s32_from_u32();
    }

    fn scalar_min_max_and(&mut self, src: &ScalarBounds) {
        if src.var_off.is_const() && self.var_off.is_const() {
            let v = self.var_off.value;
            self.mark_known(v);
            return;
        }
        self.umin_value = self.var_off.value;
        self.umax_value = min(self.umax_value, src.umax_value);
        self.s64_from_u64();
        self.update_bounds();
    }

    fn scalar32_min_max_or(&mut self, src: &ScalarBounds) {
        let var32_off = self.var_off.subreg();
        if src.var_off.subreg_is_const() && self.var_off.subreg_is_const() {
            self.mark_reg32_known(var32_off.value);
            return;
        }
        // Maximum from var_off; minimum the larger operand minimum.
        self.u32_min_value = max(self.u32_min_value, src.u32_min_value);
        self.u32_max_value = (var32_off.value | var32_off.mask) as u32;
        self.s32_from_u32();
    }

    fn scalar_min_max_or(&mut self, src: &ScalarBounds) {
        if src.var_off.is_const() && self.var_off.is_const() {
            let v = self.var_off.value;
            self.mark_known(v);
            return;
        }
        self.umin_value = max(self.umin_value, src.umin_value);
        self.umax_value = self.var_off.value | self.var_off.mask;
        self.s64_from_u64();
        self.update_bounds();
    }

    fn scalar32_min_max_xor(&mut self, src: &ScalarBounds) {
        let var32_off = self.var_off.subreg();
        if src.var_off.subreg_is_const() && self.var_off.subreg_is_const() {
            self.mark_reg32_known(var32_off.value);
            return;
        }
        self.u32_min_value = var32_off.value as u32;
        self.u32_max_value = (var32_off.value | var32_off.mask) as u32;
        self.s32_from_u32();
    }

    fn scalar_min_max_xor(&mut self, src: &ScalarBounds) {
        if src.var_off.is_const() && self.var_off.is_const() {
            let v = self.var_off.value;
            self.mark_known(v);
            return;
        }
        self.umin_value = self.var_off.value;
        self.umax_value = self.var_off.value | self.var_off.mask;
        self.s64_from_u64();
        self.update_bounds();
    }

    fn scalar32_lsh_bounds(&mut self, umin_val: u64, umax_val: u64) {
        // All sign information lost (except what var_off tells).
        self.s32_min_value = i32::MIN;
        self.s32_max_value = i32::MAX;
        // If the top bit might be shifted out, nothing is known.
        let limit = 31u64
            .checked_sub(umax_val)
            .and_then(|s| 1u64.checked_shl(s as u32));
        match limit {
            Some(limit) if u64::from(self.u32_max_value) <= limit => {
                self.u32_min_value = shl32(self.u32_min_value, umin_val);
                self.u32_max_value = shl32(self.u32_max_value, umax_val);
            }
            _ => {
                self.u32_min_value = 0;
                self.u32_max_value = u32::MAX;
            }
        }
    }

    fn scalar32_min_max_lsh(&mut self, src: &ScalarBounds) {
        let umax_val = u64::from(src.u32_max_value);
        let umin_val = u64::from(src.u32_min_value);
        let subreg = self.var_off.subreg();
        self.scalar32_lsh_bounds(umin_val, umax_val);
        self.var_off = subreg.lshift(shift_amount(umin_val)).subreg();
        // 64-bit ranges come later from the zero extension.
        self.mark_reg64_unbounded();
        self.update_reg32_bounds();
    }

    fn scalar64_lsh_bounds(&mut self, umin_val: u64, umax_val: u64) {
        // `<< 32` of a non-negative 32-bit range stays ordered (the
        // `<<32 s>>32` sign-extension idiom).
        let by32 = umin_val == 32 && umax_val == 32;
        self.smax_value = if by32 && self.s32_max_value >= 0 {
            i64::from(self.s32_max_value).wrapping_shl(32)
        } else {
            i64::MAX
        };
        self.smin_value = if by32 && self.s32_min_value >= 0 {
            i64::from(self.s32_min_value).wrapping_shl(32)
        } else {
            i64::MIN
        };
        let limit = 63u64
            .checked_sub(umax_val)
            .and_then(|s| 1u64.checked_shl(s as u32));
        match limit {
            Some(limit) if self.umax_value <= limit => {
                self.umin_value = shl64(self.umin_value, umin_val);
                self.umax_value = shl64(self.umax_value, umax_val);
            }
            _ => {
                self.umin_value = 0;
                self.umax_value = u64::MAX;
            }
        }
    }

    fn scalar_min_max_lsh(&mut self, src: &ScalarBounds) {
        let umax_val = src.umax_value;
        let umin_val = src.umin_value;
        // The 64-bit part reads the unshifted 32-bit bounds: first.
        self.scalar64_lsh_bounds(umin_val, umax_val);
        self.scalar32_lsh_bounds(umin_val, umax_val);
        self.var_off = self.var_off.lshift(shift_amount(umin_val));
        self.update_bounds();
    }

    fn scalar32_min_max_rsh(&mut self, src: &ScalarBounds) {
        let subreg = self.var_off.subreg();
        let umax_val = src.u32_max_value;
        let umin_val = src.u32_min_value;
        // Logical shift: signed bounds are rebuilt from the unsigned ones.
        self.s32_min_value = i32::MIN;
        self.s32_max_value = i32::MAX;
        self.var_off = subreg.rshift(shift_amount(u64::from(umin_val)));
        self.u32_min_value = self.u32_min_value.checked_shr(umax_val).unwrap_or(0);
        self.u32_max_value = self.u32_max_value.checked_shr(umin_val).unwrap_or(0);
        self.mark_reg64_unbounded();
        self.update_reg32_bounds();
    }

    fn scalar_min_max_rsh(&mut self, src: &ScalarBounds) {
        let umax_val = src.umax_value;
        let umin_val = src.umin_value;
        self.smin_value = i64::MIN;
        self.smax_value = i64::MAX;
        self.var_off = self.var_off.rshift(shift_amount(umin_val));
        self.umin_value = shr64(self.umin_value, umax_val);
        self.umax_value = shr64(self.umax_value, umin_val);
        // 32-bit bounds depend on bits shifted in: rebuilt from var_off.
        self.mark_reg32_unbounded();
        self.update_bounds();
    }

    fn scalar32_min_max_arsh(&mut self, src: &ScalarBounds) {
        // The shift is a constant here (umin == umax).
        let umin_val = src.u32_min_value;
        self.s32_min_value = self.s32_min_value.checked_shr(umin_val).unwrap_or(0);
        self.s32_max_value = self.s32_max_value.checked_shr(umin_val).unwrap_or(0);
        self.var_off = self
            .var_off
            .subreg()
            .arshift(shift_amount(u64::from(umin_val)), 32);
        self.u32_min_value = 0;
        self.u32_max_value = u32::MAX;
        self.mark_reg64_unbounded();
        self.update_reg32_bounds();
    }

    fn scalar_min_max_arsh(&mut self, src: &ScalarBounds) {
        let umin_val = src.umin_value;
        let n = shift_amount(umin_val);
        self.smin_value = self.smin_value.checked_shr(u32::from(n)).unwrap_or(0);
        self.smax_value = self.smax_value.checked_shr(u32::from(n)).unwrap_or(0);
        self.var_off = self.var_off.arshift(n, 64);
        self.umin_value = 0;
        self.umax_value = u64::MAX;
        self.mark_reg32_unbounded();
        self.update_bounds();
    }

    // ----------------------------------------------------------------
    // Branches
    // ----------------------------------------------------------------

    /// `is_scalar_branch_taken(self, other, cond, is_jmp32)`: whether
    /// `self <cond> other` is decided by the bounds. `other` is the source
    /// register, or [`ScalarBounds::from_imm`] for an immediate. For a
    /// register compared with itself see
    /// [`is_branch_taken_same_reg`](Self::is_branch_taken_same_reg).
    #[must_use]
    pub fn is_branch_taken(
        &self,
        other: &ScalarBounds,
        cond: JmpCond,
        width: Width,
    ) -> BranchTaken {
        let (r1, r2) = (self, other);
        let is_jmp32 = width == Width::W32;
        let (mut t1, mut t2) = if is_jmp32 {
            (r1.var_off.subreg(), r2.var_off.subreg())
        } else {
            (r1.var_off, r2.var_off)
        };
        let (umin1, umax1, smin1, smax1) = r1.view(width);
        let (umin2, umax2, smin2, smax2) = r2.view(width);
        let decided = |b: bool| {
            if b {
                BranchTaken::Taken
            } else {
                BranchTaken::NotTaken
            }
        };
        match cond {
            JmpCond::Eq | JmpCond::Ne => {
                // Answer for "equal is impossible".
                let differ = decided(cond == JmpCond::Ne);
                if t1.is_const() && t2.is_const() {
                    return decided((t1.value == t2.value) == (cond == JmpCond::Eq));
                }
                if !t1.overlap(t2) {
                    return differ;
                }
                if umin1 > umax2 || umax1 < umin2 || smin1 > smax2 || smax1 < smin2 {
                    return differ;
                }
                if !is_jmp32
                    && (r1.u32_min_value > r2.u32_max_value
                        || r1.u32_max_value < r2.u32_min_value
                        || r1.s32_min_value > r2.s32_max_value
                        || r1.s32_max_value < r2.s32_min_value)
                {
                    return differ;
                }
            }
            JmpCond::Set => {
                if !r2.is_const_width(width) {
                    core::mem::swap(&mut t1, &mut t2);
                    if !r1.is_const_width(width) {
                        return BranchTaken::Unknown;
                    }
                }
                if (!t1.mask & t1.value) & t2.value != 0 {
                    return BranchTaken::Taken;
                }
                if (t1.mask | t1.value) & t2.value == 0 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Gt => {
                if umin1 > umax2 {
                    return BranchTaken::Taken;
                } else if umax1 <= umin2 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Sgt => {
                if smin1 > smax2 {
                    return BranchTaken::Taken;
                } else if smax1 <= smin2 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Lt => {
                if umax1 < umin2 {
                    return BranchTaken::Taken;
                } else if umin1 >= umax2 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Slt => {
                if smax1 < smin2 {
                    return BranchTaken::Taken;
                } else if smin1 >= smax2 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Ge => {
                if umin1 >= umax2 {
                    return BranchTaken::Taken;
                } else if umax1 < umin2 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Sge => {
                if smin1 >= smax2 {
                    return BranchTaken::Taken;
                } else if smax1 < smin2 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Le => {
                if umax1 <= umin2 {
                    return BranchTaken::Taken;
                } else if umin1 > umax2 {
                    return BranchTaken::NotTaken;
                }
            }
            JmpCond::Sle => {
                if smax1 <= smin2 {
                    return BranchTaken::Taken;
                } else if smin1 > smax2 {
                    return BranchTaken::NotTaken;
                }
            }
        }
        BranchTaken::Unknown
    }

    /// Branch prediction for a register compared with itself
    /// (`if r0 > r0`): the `reg1 == reg2` case added to
    /// `is_scalar_branch_taken` by upstream commit d43ad9da8052 (bpf-next,
    /// November 2025; queued for 6.18.y stable, not in 6.18.0). Without it
    /// the kernel refines both operands separately and may report an
    /// invariant violation. With the fix, an undecided comparison of a
    /// register with itself (only `JSET` can be) refines nothing: both
    /// successors keep the register as it is.
    #[must_use]
    pub fn is_branch_taken_same_reg(&self, cond: JmpCond, width: Width) -> BranchTaken {
        match cond {
            JmpCond::Ge | JmpCond::Le | JmpCond::Sge | JmpCond::Sle | JmpCond::Eq => {
                BranchTaken::Taken
            }
            JmpCond::Gt | JmpCond::Lt | JmpCond::Sgt | JmpCond::Slt | JmpCond::Ne => {
                BranchTaken::NotTaken
            }
            JmpCond::Set => {
                let t = match width {
                    Width::W32 => self.var_off.subreg(),
                    Width::W64 => self.var_off,
                };
                let (_, _, smin, smax) = self.view(width);
                if t.is_const() {
                    if t.value != 0 {
                        BranchTaken::Taken
                    } else {
                        BranchTaken::NotTaken
                    }
                } else if smin <= 0 && smax >= 0 {
                    BranchTaken::Unknown
                } else {
                    BranchTaken::Taken
                }
            }
        }
    }

    /// `(umin, umax, smin, smax)` of the 32- or 64-bit view, widened.
    const fn view(&self, width: Width) -> (u64, u64, i64, i64) {
        match width {
            Width::W32 => (
                self.u32_min_value as u64,
                self.u32_max_value as u64,
                self.s32_min_value as i64,
                self.s32_max_value as i64,
            ),
            Width::W64 => (
                self.umin_value,
                self.umax_value,
                self.smin_value,
                self.smax_value,
            ),
        }
    }

    /// `reg_bounds_sanity_check(env, reg, ctx)`: whether the state
    /// describes any value at all, by the kernel's three checks.
    ///
    /// # Errors
    /// [`RegInvariantViolation::Violation`] naming `ctx` and the failed
    /// check.
    pub fn sanity_check(&self, ctx: &'static str) -> Result<(), RegInvariantViolation> {
        let fail = |kind| {
            Err(RegInvariantViolation::Violation {
                ctx,
                kind,
                reg: *self,
            })
        };
        if self.umin_value > self.umax_value
            || self.smin_value > self.smax_value
            || self.u32_min_value > self.u32_max_value
            || self.s32_min_value > self.s32_max_value
        {
            return fail(InvariantKind::RangeBounds);
        }
        if self.var_off.is_const() {
            let uval = self.var_off.value;
            let sval = uval as i64;
            if self.umin_value != uval
                || self.umax_value != uval
                || self.smin_value != sval
                || self.smax_value != sval
            {
                return fail(InvariantKind::ConstTnum);
            }
        }
        if self.var_off.subreg_is_const() {
            let uval32 = self.var_off.subreg().value as u32;
            let sval32 = uval32 as i32;
            if self.u32_min_value != uval32
                || self.u32_max_value != uval32
                || self.s32_min_value != sval32
                || self.s32_max_value != sval32
            {
                return fail(InvariantKind::ConstSubregTnum);
            }
        }
        Ok(())
    }

    /// A [`Display`](fmt::Display) of the whole register as
    /// `print_reg_state` writes it, with the precision mark (`P` prefix) and
    /// the scalar `id` (printed first when non-zero).
    #[must_use]
    pub const fn display_reg(&self, precise: bool, id: u32) -> RegDisplay<'_> {
        RegDisplay {
            reg: self,
            precise,
            id,
        }
    }

    /// `print_scalar_ranges`: the range fields that are not at their
    /// unbounded value, equal values merged (`smin=smin32=0`).
    fn print_scalar_ranges(&self, f: &mut fmt::Formatter<'_>, sep: &mut &str) -> fmt::Result {
        struct Item {
            name: &'static str,
            val: u64,
            omit: bool,
        }
        let s32 = |v: i32| -> u64 {
            // Hex output must not sign-extend the 32-bit value.
            if is_snum_decimal(i64::from(v)) {
                i64::from(v) as u64
            } else {
                u64::from(v as u32)
            }
        };
        let mut items = [
            Item {
                name: "smin",
                val: self.smin_value as u64,
                omit: self.smin_value == i64::MIN,
            },
            Item {
                name: "smax",
                val: self.smax_value as u64,
                omit: self.smax_value == i64::MAX,
            },
            Item {
                name: "umin",
                val: self.umin_value,
                omit: self.umin_value == 0,
            },
            Item {
                name: "umax",
                val: self.umax_value,
                omit: self.umax_value == u64::MAX,
            },
            Item {
                name: "smin32",
                val: s32(self.s32_min_value),
                omit: self.s32_min_value == i32::MIN,
            },
            Item {
                name: "smax32",
                val: s32(self.s32_max_value),
                omit: self.s32_max_value == i32::MAX,
            },
            Item {
                name: "umin32",
                val: u64::from(self.u32_min_value),
                omit: self.u32_min_value == 0,
            },
            Item {
                name: "umax32",
                val: u64::from(self.u32_max_value),
                omit: self.u32_max_value == u32::MAX,
            },
        ];
        let is_neg = |it: &Item| it.name.starts_with('s') && (it.val as i64) < 0;
        for i in 0..items.len() {
            let Some(m1) = items.get(i) else { break };
            if m1.omit {
                continue;
            }
            let (name1, val1, neg1) = (m1.name, m1.val, is_neg(m1));
            write!(f, "{sep}{name1}=")?;
            *sep = ",";
            // Same-parity fields (mins with mins, maxes with maxes).
            for m2 in items.iter_mut().skip(i).skip(2).step_by(2) {
                if m2.omit || m2.val != val1 || is_neg(m2) != neg1 {
                    continue;
                }
                m2.omit = true;
                write!(f, "{}=", m2.name)?;
            }
            if name1.starts_with('s') {
                write_snum(f, val1 as i64)?;
            } else {
                write_unum(f, val1)?;
            }
        }
        Ok(())
    }

    fn fmt_reg(&self, f: &mut fmt::Formatter<'_>, precise: bool, id: u32) -> fmt::Result {
        if precise {
            f.write_str("P")?;
        }
        if self.var_off.is_const() {
            return write_snum(f, self.var_off.value as i64);
        }
        f.write_str("scalar(")?;
        let mut sep = "";
        if id != 0 {
            write!(f, "id={id}")?;
            sep = ",";
        }
        self.print_scalar_ranges(f, &mut sep)?;
        if !self.var_off.is_unknown() {
            write!(f, "{sep}var_off={}", self.var_off)?;
        }
        f.write_str(")")
    }
}

/// Shift amounts as the `u8` the tnum functions take (the callers only pass
/// amounts below 64; larger ones saturate).
fn shift_amount(v: u64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// `x << n` for an amount known to keep the value in range (0 past 31).
fn shl32(x: u32, n: u64) -> u32 {
    u32::try_from(n)
        .ok()
        .and_then(|n| x.checked_shl(n))
        .unwrap_or(0)
}

/// `x << n`, 0 past 63.
fn shl64(x: u64, n: u64) -> u64 {
    u32::try_from(n)
        .ok()
        .and_then(|n| x.checked_shl(n))
        .unwrap_or(0)
}

/// `x >> n`, 0 past 63.
fn shr64(x: u64, n: u64) -> u64 {
    u32::try_from(n)
        .ok()
        .and_then(|n| x.checked_shr(n))
        .unwrap_or(0)
}

/// The kernel log's text for a scalar register: the value for a constant
/// (`5`, `-1`, `0x100000000`), else `scalar(...)` with the non-trivial
/// ranges and `var_off` unless it is completely unknown.
impl fmt::Display for ScalarBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_reg(f, false, 0)
    }
}

/// Display adapter from [`ScalarBounds::display_reg`].
#[derive(Clone, Copy, Debug)]
pub struct RegDisplay<'a> {
    reg: &'a ScalarBounds,
    precise: bool,
    id: u32,
}

impl fmt::Display for RegDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reg.fmt_reg(f, self.precise, self.id)
    }
}

/// `regs_refine_cond_op`: narrow `reg1` and `reg2` to the values for which
/// `reg1 <cond> reg2` is `outcome` (`true` for the jump-taken path, `false`
/// for the fall-through, which the kernel handles as the reversed
/// condition). Does not sync; see [`reg_set_min_max`].
pub fn regs_refine_cond_op(
    reg1: &mut ScalarBounds,
    reg2: &mut ScalarBounds,
    cond: JmpCond,
    outcome: bool,
    width: Width,
) {
    let op = if outcome {
        CondOp::Jmp(cond)
    } else {
        rev_opcode(cond)
    };
    refine(reg1, reg2, op, width);
}

fn refine(reg1: &mut ScalarBounds, reg2: &mut ScalarBounds, op: CondOp, width: Width) {
    let is_jmp32 = width == Width::W32;
    // GE/GT/SGE/SGT reuse the LE/LT/SLE/SLT code with swapped operands.
    let (reg1, reg2, op) = match op {
        CondOp::Jmp(c @ (JmpCond::Ge | JmpCond::Gt | JmpCond::Sge | JmpCond::Sgt)) => {
            (reg2, reg1, CondOp::Jmp(flip_opcode(c)))
        }
        _ => (reg1, reg2, op),
    };
    match op {
        CondOp::Jmp(JmpCond::Eq) => {
            if is_jmp32 {
                reg1.u32_min_value = max(reg1.u32_min_value, reg2.u32_min_value);
                reg1.u32_max_value = min(reg1.u32_max_value, reg2.u32_max_value);
                reg1.s32_min_value = max(reg1.s32_min_value, reg2.s32_min_value);
                reg1.s32_max_value = min(reg1.s32_max_value, reg2.s32_max_value);
                reg2.u32_min_value = reg1.u32_min_value;
                reg2.u32_max_value = reg1.u32_max_value;
                reg2.s32_min_value = reg1.s32_min_value;
                reg2.s32_max_value = reg1.s32_max_value;
                let t = reg1.var_off.subreg().intersect(reg2.var_off.subreg());
                reg1.var_off = reg1.var_off.with_subreg(t);
                reg2.var_off = reg2.var_off.with_subreg(t);
            } else {
                reg1.umin_value = max(reg1.umin_value, reg2.umin_value);
                reg1.umax_value = min(reg1.umax_value, reg2.umax_value);
                reg1.smin_value = max(reg1.smin_value, reg2.smin_value);
                reg1.smax_value = min(reg1.smax_value, reg2.smax_value);
                reg2.umin_value = reg1.umin_value;
                reg2.umax_value = reg1.umax_value;
                reg2.smin_value = reg1.smin_value;
                reg2.smax_value = reg1.smax_value;
                reg1.var_off = reg1.var_off.intersect(reg2.var_off);
                reg2.var_off = reg1.var_off;
            }
        }
        CondOp::Jmp(JmpCond::Ne) => {
            let (reg1, reg2) = if reg2.is_const_width(width) {
                (reg1, reg2)
            } else {
                (reg2, reg1)
            };
            if !reg2.is_const_width(width) {
                return;
            }
            // A constant at the edge of the other range shrinks it.
            let val = reg2.const_value(width);
            if is_jmp32 {
                if reg1.u32_min_value == val as u32 {
                    reg1.u32_min_value = reg1.u32_min_value.wrapping_add(1);
                }
                if reg1.u32_max_value == val as u32 {
                    reg1.u32_max_value = reg1.u32_max_value.wrapping_sub(1);
                }
                if reg1.s32_min_value == val as u32 as i32 {
                    reg1.s32_min_value = reg1.s32_min_value.wrapping_add(1);
                }
                if reg1.s32_max_value == val as u32 as i32 {
                    reg1.s32_max_value = reg1.s32_max_value.wrapping_sub(1);
                }
            } else {
                if reg1.umin_value == val {
                    reg1.umin_value = reg1.umin_value.wrapping_add(1);
                }
                if reg1.umax_value == val {
                    reg1.umax_value = reg1.umax_value.wrapping_sub(1);
                }
                if reg1.smin_value == val as i64 {
                    reg1.smin_value = reg1.smin_value.wrapping_add(1);
                }
                if reg1.smax_value == val as i64 {
                    reg1.smax_value = reg1.smax_value.wrapping_sub(1);
                }
            }
        }
        CondOp::Jmp(JmpCond::Set) => {
            let (reg1, reg2) = if reg2.is_const_width(width) {
                (reg1, reg2)
            } else {
                (reg2, reg1)
            };
            if !reg2.is_const_width(width) {
                return;
            }
            let val = reg2.const_value(width);
            // Only a single tested bit tells which bit is set.
            if !val.is_power_of_two() {
                return;
            }
            if is_jmp32 {
                let t = reg1.var_off.subreg().or(Tnum::constant(val));
                reg1.var_off = reg1.var_off.with_subreg(t);
            } else {
                reg1.var_off = reg1.var_off.or(Tnum::constant(val));
            }
        }
        CondOp::NotSet => {
            let (reg1, reg2) = if reg2.is_const_width(width) {
                (reg1, reg2)
            } else {
                (reg2, reg1)
            };
            if !reg2.is_const_width(width) {
                return;
            }
            let val = reg2.const_value(width);
            // Forget the ranges before narrowing the tnum, so that a dead
            // branch does not trip the invariant checks.
            reg1.mark_unbounded();
            if is_jmp32 {
                let t = reg1.var_off.subreg().and(Tnum::constant(!val));
                reg1.var_off = reg1.var_off.with_subreg(t);
            } else {
                reg1.var_off = reg1.var_off.and(Tnum::constant(!val));
            }
        }
        CondOp::Jmp(JmpCond::Le) => {
            if is_jmp32 {
                reg1.u32_max_value = min(reg1.u32_max_value, reg2.u32_max_value);
                reg2.u32_min_value = max(reg1.u32_min_value, reg2.u32_min_value);
            } else {
                reg1.umax_value = min(reg1.umax_value, reg2.umax_value);
                reg2.umin_value = max(reg1.umin_value, reg2.umin_value);
            }
        }
        CondOp::Jmp(JmpCond::Lt) => {
            if is_jmp32 {
                reg1.u32_max_value = min(reg1.u32_max_value, reg2.u32_max_value.wrapping_sub(1));
                reg2.u32_min_value = max(reg1.u32_min_value.wrapping_add(1), reg2.u32_min_value);
            } else {
                reg1.umax_value = min(reg1.umax_value, reg2.umax_value.wrapping_sub(1));
                reg2.umin_value = max(reg1.umin_value.wrapping_add(1), reg2.umin_value);
            }
        }
        CondOp::Jmp(JmpCond::Sle) => {
            if is_jmp32 {
                reg1.s32_max_value = min(reg1.s32_max_value, reg2.s32_max_value);
                reg2.s32_min_value = max(reg1.s32_min_value, reg2.s32_min_value);
            } else {
                reg1.smax_value = min(reg1.smax_value, reg2.smax_value);
                reg2.smin_value = max(reg1.smin_value, reg2.smin_value);
            }
        }
        CondOp::Jmp(JmpCond::Slt) => {
            if is_jmp32 {
                reg1.s32_max_value = min(reg1.s32_max_value, reg2.s32_max_value.wrapping_sub(1));
                reg2.s32_min_value = max(reg1.s32_min_value.wrapping_add(1), reg2.s32_min_value);
            } else {
                reg1.smax_value = min(reg1.smax_value, reg2.smax_value.wrapping_sub(1));
                reg2.smin_value = max(reg1.smin_value.wrapping_add(1), reg2.smin_value);
            }
        }
        // Swapped to their mirror images above.
        CondOp::Jmp(JmpCond::Ge | JmpCond::Gt | JmpCond::Sge | JmpCond::Sgt) => {}
    }
}

/// `reg_set_min_max`: both successors of `if dst <cond> src` for two
/// scalars, each operand refined ([`regs_refine_cond_op`]) and synced.
///
/// The kernel calls this only when
/// [`is_branch_taken`](ScalarBounds::is_branch_taken) answers
/// [`BranchTaken::Unknown`]. A successor may still turn out empty; check
/// with [`CondRefinement::check`] or handle it as the kernel does with
/// [`CondRefinement::sanitize`].
///
/// ```
/// use ebpf_verifier::{ScalarBounds, reg_set_min_max};
/// use ebpf_isa::{JmpCond, Width};
///
/// let r = ScalarBounds::unknown();
/// let c = reg_set_min_max(&r, &ScalarBounds::from_imm(10), JmpCond::Gt, Width::W64);
/// assert_eq!(c.true_dst.umin_value, 11);
/// assert_eq!(c.false_dst.umax_value, 10);
/// assert!(c.check().is_ok());
/// ```
#[must_use]
pub fn reg_set_min_max(
    dst: &ScalarBounds,
    src: &ScalarBounds,
    cond: JmpCond,
    width: Width,
) -> CondRefinement {
    let (mut false_dst, mut false_src) = (*dst, *src);
    refine(&mut false_dst, &mut false_src, rev_opcode(cond), width);
    false_dst.sync();
    false_src.sync();
    let (mut true_dst, mut true_src) = (*dst, *src);
    refine(&mut true_dst, &mut true_src, CondOp::Jmp(cond), width);
    true_dst.sync();
    true_src.sync();
    CondRefinement {
        true_dst,
        true_src,
        false_dst,
        false_src,
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // reference computations in tests
mod tests {
    use super::*;

    /// splitmix64: a small fixed-seed PRNG (no dependency).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, one_in: u64) -> bool {
            self.below(one_in) == 0
        }
        /// Values biased towards the interesting edges of the domains.
        fn value(&mut self) -> u64 {
            const EDGES: [u64; 12] = [
                0,
                1,
                0x7f,
                0xff,
                0x7fff_ffff,
                0x8000_0000,
                0xffff_ffff,
                0x1_0000_0000,
                0x7fff_ffff_ffff_ffff,
                0x8000_0000_0000_0000,
                0xffff_ffff_8000_0000,
                u64::MAX,
            ];
            match self.below(8) {
                0 => self.next(),
                1 => self.below(64),
                2 => self.below(64).wrapping_neg(),
                3 => {
                    let e = EDGES[self.below(EDGES.len() as u64) as usize];
                    e.wrapping_add(self.below(9)).wrapping_sub(4)
                }
                4 => self.next() & 0xffff_ffff,
                5 => (self.below(0x10000) as i16 as i64) as u64,
                6 => self.next() >> self.below(64),
                _ => (self.next() as i32 as i64) as u64,
            }
        }
        /// Values near `base`, so that sets are ranges of some width.
        fn near(&mut self, base: u64) -> u64 {
            let spread = 1u64 << self.below(40);
            base.wrapping_add(self.below(spread))
        }
    }

    /// The most precise state (per field) holding all of `vals`.
    fn hull(vals: &[u64]) -> ScalarBounds {
        let first = vals[0];
        let mut r = ScalarBounds::constant(first);
        for &v in &vals[1..] {
            r.var_off = r.var_off.union(Tnum::constant(v));
            r.umin_value = r.umin_value.min(v);
            r.umax_value = r.umax_value.max(v);
            r.smin_value = r.smin_value.min(v as i64);
            r.smax_value = r.smax_value.max(v as i64);
            r.u32_min_value = r.u32_min_value.min(v as u32);
            r.u32_max_value = r.u32_max_value.max(v as u32);
            r.s32_min_value = r.s32_min_value.min(v as u32 as i32);
            r.s32_max_value = r.s32_max_value.max(v as u32 as i32);
        }
        r
    }

    /// A random synced abstract value (as every kernel register state is)
    /// and some of its members.
    fn sample(rng: &mut Rng) -> (ScalarBounds, Vec<u64>) {
        let (mut r, vals) = sample_raw(rng);
        r.sync();
        (r, vals)
    }

    /// A random abstract value, possibly not synced, and some members.
    fn sample_raw(rng: &mut Rng) -> (ScalarBounds, Vec<u64>) {
        match rng.below(10) {
            0 => {
                let v = rng.value();
                return (ScalarBounds::constant(v), vec![v]);
            }
            1 => {
                // Unknown, or a zero-extended 32-bit unknown.
                let r = if rng.chance(2) {
                    ScalarBounds::unknown()
                } else {
                    ScalarBounds::unknown_u32()
                };
                let mut vals = Vec::new();
                while vals.len() < 6 {
                    let v = rng.value();
                    if r.contains(v) {
                        vals.push(v);
                    }
                }
                return (r, vals);
            }
            _ => {}
        }
        let n = 1 + rng.below(4) as usize;
        let base = rng.value();
        let mut vals: Vec<u64> = (0..n)
            .map(|_| {
                if rng.chance(3) {
                    rng.value()
                } else {
                    rng.near(base)
                }
            })
            .collect();
        let mut r = hull(&vals);
        // Forget some facts so that deduction has work to do.
        if rng.chance(3) {
            r.var_off = Tnum::UNKNOWN;
        }
        if rng.chance(3) {
            r.mark_reg64_unbounded();
        }
        if rng.chance(3) {
            r.mark_reg32_unbounded();
        }
        if rng.chance(4) {
            r.smin_value = i64::MIN;
            r.u32_max_value = u32::MAX;
        }
        if rng.chance(2) {
            r.sync();
        }
        // More members, drawn from the tnum and from the ranges.
        for _ in 0..24 {
            let cand = match rng.below(3) {
                0 => r.var_off.value | (rng.next() & r.var_off.mask),
                1 => {
                    let span = r.umax_value.wrapping_sub(r.umin_value).wrapping_add(1);
                    r.umin_value.wrapping_add(if span == 0 {
                        rng.next()
                    } else {
                        rng.below(span)
                    })
                }
                _ => rng.near(r.umin_value),
            };
            if r.contains(cand) {
                vals.push(cand);
            }
        }
        for &v in &vals {
            assert!(r.contains(v), "sample {r:?} misses {v:#x}");
        }
        (r, vals)
    }

    fn sample_src(rng: &mut Rng, op: AluOp) -> (ScalarBounds, Vec<u64>) {
        match op {
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh if !rng.chance(5) => {
                let s = rng.below(64);
                (ScalarBounds::constant(s), vec![s])
            }
            _ if rng.chance(4) => {
                let imm = rng.value() as i32;
                (ScalarBounds::from_imm(imm), vec![imm as i64 as u64])
            }
            _ => sample(rng),
        }
    }

    /// eBPF semantics of `dst op= src`.
    fn concrete_alu(op: AluOp, width: Width, dst: u64, src: u64) -> u64 {
        match width {
            Width::W64 => match op {
                AluOp::Add => dst.wrapping_add(src),
                AluOp::Sub => dst.wrapping_sub(src),
                AluOp::Mul => dst.wrapping_mul(src),
                AluOp::Div => dst.checked_div(src).unwrap_or(0),
                AluOp::SDiv => {
                    if src == 0 {
                        0
                    } else {
                        (dst as i64).wrapping_div(src as i64) as u64
                    }
                }
                AluOp::Mod => dst.checked_rem(src).unwrap_or(dst),
                AluOp::SMod => {
                    if src == 0 {
                        dst
                    } else {
                        (dst as i64).wrapping_rem(src as i64) as u64
                    }
                }
                AluOp::Or => dst | src,
                AluOp::And => dst & src,
                AluOp::Xor => dst ^ src,
                AluOp::Lsh => dst << (src & 63),
                AluOp::Rsh => dst >> (src & 63),
                AluOp::Arsh => ((dst as i64) >> (src & 63)) as u64,
                AluOp::Mov => src,
            },
            Width::W32 => {
                let (d, s) = (dst as u32, src as u32);
                u64::from(match op {
                    AluOp::Add => d.wrapping_add(s),
                    AluOp::Sub => d.wrapping_sub(s),
                    AluOp::Mul => d.wrapping_mul(s),
                    AluOp::Div => d.checked_div(s).unwrap_or(0),
                    AluOp::SDiv => {
                        if s == 0 {
                            0
                        } else {
                            (d as i32).wrapping_div(s as i32) as u32
                        }
                    }
                    AluOp::Mod => d.checked_rem(s).unwrap_or(d),
                    AluOp::SMod => {
                        if s == 0 {
                            d
                        } else {
                            (d as i32).wrapping_rem(s as i32) as u32
                        }
                    }
                    AluOp::Or => d | s,
                    AluOp::And => d & s,
                    AluOp::Xor => d ^ s,
                    AluOp::Lsh => d << (s & 31),
                    AluOp::Rsh => d >> (s & 31),
                    AluOp::Arsh => ((d as i32) >> (s & 31)) as u32,
                    AluOp::Mov => s,
                })
            }
        }
    }

    fn concrete_cond(cond: JmpCond, width: Width, a: u64, b: u64) -> bool {
        let (a, b) = match width {
            Width::W64 => (a, b),
            Width::W32 => (a & 0xffff_ffff, b & 0xffff_ffff),
        };
        let (sa, sb) = match width {
            Width::W64 => (a as i64, b as i64),
            Width::W32 => (i64::from(a as u32 as i32), i64::from(b as u32 as i32)),
        };
        match cond {
            JmpCond::Eq => a == b,
            JmpCond::Ne => a != b,
            JmpCond::Gt => a > b,
            JmpCond::Ge => a >= b,
            JmpCond::Lt => a < b,
            JmpCond::Le => a <= b,
            JmpCond::Sgt => sa > sb,
            JmpCond::Sge => sa >= sb,
            JmpCond::Slt => sa < sb,
            JmpCond::Sle => sa <= sb,
            JmpCond::Set => a & b != 0,
        }
    }

    const WIDTHS: [Width; 2] = [Width::W64, Width::W32];

    #[test]
    fn sampler_is_sound_and_sync_keeps_members() {
        let mut rng = Rng(1);
        for _ in 0..20_000 {
            let (r, vals) = sample_raw(&mut rng);
            let mut s = r;
            s.sync();
            for &v in &vals {
                assert!(s.contains(v), "sync({r:?}) = {s:?} lost {v:#x}");
            }
            assert_eq!(s.sanity_check("sync"), Ok(()), "{r:?}");
        }
    }

    #[test]
    fn alu_ops_are_sound() {
        let mut rng = Rng(0x5eed);
        let mut checks = 0u64;
        for round in 0..6_000 {
            for op in AluOp::ALL {
                let width = WIDTHS[round % 2];
                let (dst, dvals) = sample(&mut rng);
                let (src, svals) = sample_src(&mut rng, op);
                let mut out = dst;
                out.alu(op, width, &src);
                for &d in &dvals {
                    for &s in &svals {
                        let res = concrete_alu(op, width, d, s);
                        checks += 1;
                        assert!(
                            out.contains(res),
                            "{op:?} {width:?}\n dst {dst:?}\n src {src:?}\n out {out:?}\n \
                             {d:#x} op {s:#x} = {res:#x}"
                        );
                    }
                }
                assert_eq!(out.sanity_check("alu"), Ok(()), "{op:?} {dst:?} {src:?}");
            }
        }
        assert!(checks > 1_000_000, "{checks}");
    }

    /// Shifts of ranges right at the edge where the top bit may be shifted
    /// out, where the range arithmetic could wrap.
    #[test]
    fn shifts_near_overflow_are_sound() {
        let mut rng = Rng(0x5417);
        for width in WIDTHS {
            let bitness: u64 = if width == Width::W32 { 32 } else { 64 };
            for op in [AluOp::Lsh, AluOp::Rsh, AluOp::Arsh] {
                for s in 0..bitness {
                    for _ in 0..40 {
                        let edge = 1u64 << (bitness - 1 - s);
                        let vals: Vec<u64> = (0..1 + rng.below(4))
                            .map(|_| {
                                (edge - 1)
                                    .wrapping_add(rng.below(edge.max(4)))
                                    .wrapping_sub(edge / 2)
                            })
                            .collect();
                        let mut dst = hull(&vals);
                        if rng.chance(2) {
                            dst.var_off = Tnum::UNKNOWN;
                        }
                        dst.sync();
                        let mut out = dst;
                        out.alu(op, width, &ScalarBounds::constant(s));
                        for &v in &vals {
                            let res = concrete_alu(op, width, v, s);
                            assert!(out.contains(res), "{op:?} {width:?} {dst:?} by {s}: {v:#x}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn neg_movsx_coerce_are_sound() {
        let mut rng = Rng(77);
        for round in 0..20_000 {
            let width = WIDTHS[round % 2];
            let (r, vals) = sample(&mut rng);
            let mut n = r;
            n.neg(width);
            for &v in &vals {
                let res = match width {
                    Width::W64 => v.wrapping_neg(),
                    Width::W32 => u64::from((v as u32).wrapping_neg()),
                };
                assert!(
                    n.contains(res),
                    "neg {width:?} {r:?} -> {n:?} misses -{v:#x}"
                );
            }
            for bits in [SxBits::B8, SxBits::B16, SxBits::B32] {
                let mut m = ScalarBounds::unknown();
                m.movsx(width, &r, bits);
                for &v in &vals {
                    let sx = match bits {
                        SxBits::B8 => i64::from(v as u8 as i8),
                        SxBits::B16 => i64::from(v as u16 as i16),
                        SxBits::B32 => i64::from(v as u32 as i32),
                    } as u64;
                    let res = match (width, bits) {
                        (Width::W64, _) => sx,
                        (Width::W32, SxBits::B32) => v & 0xffff_ffff,
                        (Width::W32, _) => sx & 0xffff_ffff,
                    };
                    assert!(
                        m.contains(res),
                        "movsx {bits:?} {width:?} {r:?} -> {m:?} misses {v:#x}"
                    );
                }
            }
            for size in [1u8, 2, 4] {
                let mut c = r;
                c.coerce_reg_to_size(size);
                let mask = (1u64 << (size * 8)) - 1;
                for &v in &vals {
                    assert!(
                        c.contains(v & mask),
                        "coerce{size} {r:?} -> {c:?} misses {v:#x}"
                    );
                }
                let mut sx = r;
                sx.coerce_reg_to_size_sx(size);
                for &v in &vals {
                    let e = match size {
                        1 => i64::from(v as u8 as i8),
                        2 => i64::from(v as u16 as i16),
                        _ => i64::from(v as u32 as i32),
                    } as u64;
                    assert!(
                        sx.contains(e),
                        "coerce_sx{size} {r:?} -> {sx:?} misses {v:#x}"
                    );
                }
            }
            let mut z = r;
            z.zext_32_to_64();
            for &v in &vals {
                assert!(z.contains(v & 0xffff_ffff), "zext {r:?} -> {z:?}");
            }
        }
    }

    #[test]
    fn branches_are_sound() {
        let mut rng = Rng(0xb4a7c4);
        let mut refined = 0u64;
        let mut decided = 0u64;
        for round in 0..8_000 {
            for cond in JmpCond::ALL {
                let width = WIDTHS[round % 2];
                let (dst, dvals) = sample(&mut rng);
                let (src, svals) = if rng.chance(2) {
                    // Against an immediate, often one of dst's own values.
                    let imm = if rng.chance(2) {
                        dvals[rng.below(dvals.len() as u64) as usize] as i32
                    } else {
                        rng.value() as i32
                    };
                    (ScalarBounds::from_imm(imm), vec![imm as i64 as u64])
                } else {
                    sample(&mut rng)
                };
                let taken = dst.is_branch_taken(&src, cond, width);
                let pairs: Vec<(u64, u64, bool)> = dvals
                    .iter()
                    .flat_map(|&d| svals.iter().map(move |&s| (d, s)))
                    .map(|(d, s)| (d, s, concrete_cond(cond, width, d, s)))
                    .collect();
                match taken {
                    BranchTaken::Taken => {
                        decided += 1;
                        assert!(
                            pairs.iter().all(|p| p.2),
                            "{cond:?} {width:?} {dst:?} {src:?}"
                        );
                    }
                    BranchTaken::NotTaken => {
                        decided += 1;
                        assert!(
                            pairs.iter().all(|p| !p.2),
                            "{cond:?} {width:?} {dst:?} {src:?}"
                        );
                    }
                    BranchTaken::Unknown => {
                        refined += 1;
                        let c = reg_set_min_max(&dst, &src, cond, width);
                        for &(d, s, outcome) in &pairs {
                            let (rd, rs) = if outcome {
                                (&c.true_dst, &c.true_src)
                            } else {
                                (&c.false_dst, &c.false_src)
                            };
                            assert!(
                                rd.contains(d) && rs.contains(s),
                                "{cond:?} {width:?} outcome {outcome}\n dst {dst:?}\n src {src:?}\n \
                                 got {rd:?}\n     {rs:?}\n values {d:#x} {s:#x}"
                            );
                        }
                        // An empty successor is one no pair can reach.
                        if !c.true_feasible() {
                            assert!(pairs.iter().all(|p| !p.2));
                        }
                        if !c.false_feasible() {
                            assert!(pairs.iter().all(|p| p.2));
                        }
                    }
                }
            }
        }
        assert!(refined > 10_000 && decided > 10_000, "{refined} {decided}");
    }

    #[test]
    fn same_register_branches() {
        let mut rng = Rng(3);
        for round in 0..5_000 {
            let width = WIDTHS[round % 2];
            let (r, vals) = sample(&mut rng);
            for cond in JmpCond::ALL {
                match r.is_branch_taken_same_reg(cond, width) {
                    BranchTaken::Taken => {
                        assert!(vals.iter().all(|&v| concrete_cond(cond, width, v, v)));
                    }
                    BranchTaken::NotTaken => {
                        assert!(vals.iter().all(|&v| !concrete_cond(cond, width, v, v)));
                    }
                    BranchTaken::Unknown => assert_eq!(cond, JmpCond::Set),
                }
            }
        }
    }

    /// Arbitrary field values, including contradictory ones (`min > max`,
    /// `value & mask != 0`): nothing may panic (debug builds trap on
    /// overflow) whatever state a caller passes.
    #[test]
    fn garbage_states_never_panic() {
        let mut rng = Rng(0xdead);
        let garbage = |rng: &mut Rng| ScalarBounds {
            var_off: Tnum {
                value: rng.value(),
                mask: rng.value(),
            },
            smin_value: rng.value() as i64,
            smax_value: rng.value() as i64,
            umin_value: rng.value(),
            umax_value: rng.value(),
            s32_min_value: rng.value() as i32,
            s32_max_value: rng.value() as i32,
            u32_min_value: rng.value() as u32,
            u32_max_value: rng.value() as u32,
        };
        let mut text = 0usize;
        for round in 0..3_000 {
            let width = WIDTHS[round % 2];
            let a = garbage(&mut rng);
            let b = garbage(&mut rng);
            for op in AluOp::ALL {
                let mut r = a;
                r.alu(op, width, &b);
                text += r.to_string().len();
            }
            for cond in JmpCond::ALL {
                let _ = a.is_branch_taken(&b, cond, width);
                let _ = a.is_branch_taken_same_reg(cond, width);
                let mut c = reg_set_min_max(&a, &b, cond, width);
                let _ = c.check();
                let _ = c.sanitize();
            }
            let mut r = a;
            r.neg(width);
            r.sync();
            for size in [0u8, 1, 2, 4, 8, 255] {
                let mut r = a;
                r.coerce_reg_to_size(size);
                r.coerce_reg_to_size_sx(size);
                r.coerce_subreg_to_size_sx(size);
                text += r.var_off.cast(size).to_string().len();
            }
            for bits in [SxBits::B8, SxBits::B16, SxBits::B32] {
                let mut r = a;
                r.movsx(width, &b, bits);
            }
            let t = a.var_off;
            for sh in [0u8, 1, 31, 32, 63, 64, 200, 255] {
                let _ = (
                    t.lshift(sh),
                    t.rshift(sh),
                    t.arshift(sh, 32),
                    t.arshift(sh, 64),
                );
            }
            let _ = (
                t.mul(b.var_off),
                t.neg(),
                t.sbin(),
                t.is_aligned(b.umin_value),
            );
            text += a.display_reg(true, round as u32).to_string().len();
            let _ = a.sanity_check("garbage");
        }
        assert!(text > 0);
    }

    // ------------------------------------------------------------
    // Exact values and log strings
    // ------------------------------------------------------------

    fn u32_load() -> ScalarBounds {
        // r0 = *(u32 *)(r1 + 0): coerce_reg_to_size(unknown, 4)
        let mut r = ScalarBounds::unknown();
        r.coerce_reg_to_size(4);
        r
    }

    #[test]
    fn constants_display() {
        assert_eq!(ScalarBounds::constant(0).to_string(), "0");
        assert_eq!(ScalarBounds::constant(42).to_string(), "42");
        assert_eq!(ScalarBounds::from_imm(-1).to_string(), "-1");
        assert_eq!(ScalarBounds::from_imm(-32768).to_string(), "-32768");
        assert_eq!(
            ScalarBounds::from_imm(-32769).to_string(),
            "0xffffffffffff7fff"
        );
        assert_eq!(ScalarBounds::constant(0x7fff).to_string(), "32767");
        assert_eq!(ScalarBounds::constant(0x8000).to_string(), "0x8000");
        assert_eq!(
            ScalarBounds::constant(0x8000_0001).to_string(),
            "0x80000001"
        );
        assert_eq!(
            ScalarBounds::constant(0xffff_ffff_8000_0001).to_string(),
            "0xffffffff80000001"
        );
        assert_eq!(ScalarBounds::unknown().to_string(), "scalar()");
        assert_eq!(
            ScalarBounds::unknown().display_reg(true, 3).to_string(),
            "Pscalar(id=3)"
        );
        assert_eq!(
            ScalarBounds::constant(7).display_reg(true, 0).to_string(),
            "P7"
        );
    }

    #[test]
    fn log_strings_from_kernel_logs() {
        // 0: (61) r0 = *(u32 *)(r1 +0) ; R0=scalar(smin=0,smax=umax=0xffffffff,...)
        let r0 = u32_load();
        assert_eq!(
            r0.to_string(),
            "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
        );
        assert_eq!(ScalarBounds::unknown_u32(), r0);
        // 1: (57) r0 &= 255
        let mut r = r0;
        r.alu(AluOp::And, Width::W64, &ScalarBounds::from_imm(255));
        assert_eq!(
            r.to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
        );
        // 2: (77) r0 >>= 32 of an unknown value
        let mut r = ScalarBounds::unknown();
        r.alu(AluOp::Rsh, Width::W64, &ScalarBounds::from_imm(32));
        assert_eq!(
            r.to_string(),
            "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
        );
        // 12: (35) if r1 >= 0x64 goto pc+13 ; fall-through
        let c = reg_set_min_max(&r0, &ScalarBounds::from_imm(0x64), JmpCond::Ge, Width::W64);
        assert_eq!(
            c.false_dst.to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=99,var_off=(0x0; 0x7f))"
        );
        // 4: (26) if w6 > 0x20 goto pc+27 ; fall-through
        let c = reg_set_min_max(&r0, &ScalarBounds::from_imm(0x20), JmpCond::Gt, Width::W32);
        assert_eq!(
            c.false_dst.to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=32,var_off=(0x0; 0x3f))"
        );
        // 12: (25) if r6 > 0x2 goto pc+1 on an unknown r6 ; fall-through
        let c = reg_set_min_max(
            &ScalarBounds::unknown(),
            &ScalarBounds::from_imm(2),
            JmpCond::Gt,
            Width::W64,
        );
        assert_eq!(
            c.false_dst.to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=2,var_off=(0x0; 0x3))"
        );
        // 3: (37) r1 /= 1 ; R1_w=scalar()
        let mut r = ScalarBounds::constant(0x8000_0001);
        r.alu(AluOp::Div, Width::W64, &ScalarBounds::from_imm(1));
        assert_eq!(r.to_string(), "scalar()");
    }

    /// Golden strings of the kernel selftests for add/sub overflow
    /// (verifier_bounds.c, 2024). Those programs made an unknown value with
    /// `r = -r`, which kernels of that time did not track: here it is
    /// [`ScalarBounds::unknown`].
    #[test]
    fn add_sub_overflow_selftests() {
        let k = ScalarBounds::from_imm;
        let run = |ops: &[(AluOp, Width, ScalarBounds)], start: ScalarBounds| {
            let mut r = start;
            for (op, w, src) in ops {
                r.alu(*op, *w, src);
            }
            r
        };
        let self_op = |mut r: ScalarBounds, op, w| {
            let src = r;
            r.alu(op, w, &src);
            r.to_string()
        };
        let unk = ScalarBounds::unknown();
        let (w32, w64) = (Width::W32, Width::W64);
        // 64-bit addition, all outcomes overflow
        let r3 = run(
            &[(AluOp::Or, w64, unk)],
            ScalarBounds::constant(0xa000_0000_0000_0000),
        );
        assert_eq!(
            self_op(r3, AluOp::Add, w64),
            "scalar(umin=0x4000000000000000,umax=0xfffffffffffffffe)"
        );
        // 64-bit addition, partial overflow, result in unbounded reg
        let r3 = run(&[(AluOp::Or, w64, unk)], k(2));
        assert_eq!(self_op(r3, AluOp::Add, w64), "scalar()");
        // 32-bit addition overflow, all outcomes overflow
        let w3 = run(
            &[
                (AluOp::Mov, w32, k(0xa000_0000_u32 as i32)),
                (AluOp::Or, w32, unk),
            ],
            unk,
        );
        assert_eq!(
            self_op(w3, AluOp::Add, w32),
            "scalar(smin=umin=umin32=0x40000000,smax=umax=umax32=0xfffffffe,var_off=(0x0; 0xffffffff))"
        );
        // 32-bit addition, partial overflow, result in unbounded u32 bounds
        let w3 = run(&[(AluOp::Mov, w32, k(2)), (AluOp::Or, w32, unk)], unk);
        assert_eq!(
            self_op(w3, AluOp::Add, w32),
            "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
        );
        // 64-bit subtraction, all outcomes underflow
        let r1 = run(&[(AluOp::Or, w64, ScalarBounds::constant(1 << 63))], unk);
        let r3 = run(&[(AluOp::Sub, w64, r1)], k(0));
        assert_eq!(r3.to_string(), "scalar(umin=1,umax=0x8000000000000000)");
        // 64-bit subtraction, partial overflow, result in unbounded reg
        assert_eq!(run(&[(AluOp::Sub, w64, k(1))], unk).to_string(), "scalar()");
        // 32-bit subtraction overflow, all outcomes underflow
        let w1 = run(&[(AluOp::Or, w32, k(0x8000_0000_u32 as i32))], unk);
        let w3 = run(&[(AluOp::Sub, w32, w1)], k(0));
        assert_eq!(
            w3.to_string(),
            "scalar(smin=umin=umin32=1,smax=umax=umax32=0x80000000,var_off=(0x0; 0xffffffff))"
        );
        // 32-bit subtraction, partial overflow, result in unbounded u32 bounds
        assert_eq!(
            run(&[(AluOp::Sub, w32, k(1))], unk).to_string(),
            "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
        );
    }

    /// Golden strings of Linux 6.18-era `verifier_bounds.c` selftests
    /// (`__msg` lines), replayed through the transfer functions.
    #[test]
    fn verifier_bounds_selftests() {
        let k = ScalarBounds::from_imm;
        let unk = ScalarBounds::unknown;
        let (w32, w64) = (Width::W32, Width::W64);
        let and = |mask: i32| {
            let mut r = unk();
            r.alu(AluOp::And, w64, &k(mask));
            r
        };
        let op = |mut dst: ScalarBounds, o: AluOp, w: Width, src: &ScalarBounds| {
            dst.alu(o, w, src);
            dst
        };

        // bounds check for non const xor / or src dst
        let (r6, r0) = (and(0xaf), and(0x1a0));
        let want = "scalar(smin=smin32=0,smax=umax=smax32=umax32=431,var_off=(0x0; 0x1af))";
        assert_eq!(op(r0, AluOp::Xor, w64, &r6).to_string(), want);
        assert_eq!(op(r0, AluOp::Or, w64, &r6).to_string(), want);
        // bounds check for non const mul regs
        assert_eq!(
            op(and(0x0f), AluOp::Mul, w64, &and(0xff)).to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=3825,var_off=(0x0; 0xfff))"
        );
        // multiply mixed sign bounds. test 1
        let r6 = op(and(0xf), AluOp::Sub, w64, &k(1_000_000_000));
        let r7 = op(and(0xf), AluOp::Sub, w64, &k(2_000_000_000));
        assert_eq!(
            op(r6, AluOp::Mul, w64, &r7).to_string(),
            "scalar(smin=umin=0x1bc16d5cd4927ee1,smax=umax=0x1bc16d674ec80000,\
             smax32=0x7ffffeff,umax32=0xfffffeff,var_off=(0x1bc16d4000000000; 0x3ffffffeff))"
        );
        // multiply mixed sign bounds. test 2
        let r6 = op(and(0xf), AluOp::Sub, w64, &k(0xa));
        let r7 = op(and(0xf), AluOp::Sub, w64, &k(0x14));
        assert_eq!(
            op(r6, AluOp::Mul, w64, &r7).to_string(),
            "scalar(smin=smin32=-100,smax=smax32=200)"
        );
        // multiply negative bounds
        let r8 = k(0x7fff);
        let r6 = op(and(0xa), AluOp::Sub, w64, &r8);
        let r7 = op(and(0xf), AluOp::Sub, w64, &r8);
        assert_eq!(
            op(r6, AluOp::Mul, w64, &r7).to_string(),
            "scalar(smin=umin=smin32=umin32=0x3ff280b0,smax=umax=smax32=umax32=0x3fff0001,\
             var_off=(0x3ff00000; 0xf81ff))"
        );
        // multiply bounds that don't cross signed boundary
        let r6 = op(k(0xb), AluOp::And, w64, &unk());
        assert_eq!(
            r6.to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=11,var_off=(0x0; 0xb))"
        );
        let r8 = op(
            ScalarBounds::constant(0xb3c_3f8c_9926_2687),
            AluOp::Mul,
            w64,
            &r6,
        );
        assert_eq!(
            r8.to_string(),
            "scalar(smin=0,smax=umax=0x7b96bb0a94a3a7cd,var_off=(0x0; 0x7fffffffffffffff))"
        );
        // multiplication overflow, result in unbounded reg. test 1 and 2
        let r7 = op(
            unk(),
            AluOp::And,
            w64,
            &ScalarBounds::constant(0x7ff_ffff_ffff),
        );
        assert_eq!(
            op(and(0x7fff_ffff), AluOp::Mul, w64, &r7).to_string(),
            "scalar()"
        );
        let r6 = op(
            and(0xa),
            AluOp::Sub,
            w64,
            &ScalarBounds::constant(0x7_ffff_ffff),
        );
        assert_eq!(
            op(r6, AluOp::Mul, w64, &and(0x7fff_ffff)).to_string(),
            "scalar()"
        );

        // bounds deduction cross sign boundary, negative overlap
        let r0 = unk();
        let mut r3 = unk();
        r3.alu(AluOp::Mov, w32, &r0);
        assert_eq!(
            r3.to_string(),
            "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
        );
        let mut r6 = unk();
        r6.movsx(w32, &r0, SxBits::B8);
        let mut r0s = unk();
        r0s.movsx(w64, &r0, SxBits::B8);
        assert_eq!(r0s.to_string(), "scalar(smin=smin32=-128,smax=smax32=127)");
        // 4: if w6 >= 0xf0000000 goto l0 (fall through)
        let c = reg_set_min_max(&r6, &k(0xf000_0000_u32 as i32), JmpCond::Ge, w32);
        let r6 = c.false_dst;
        let r0 = op(r0s, AluOp::Add, w64, &r6);
        let r6 = op(r6, AluOp::Add, w64, &k(400));
        assert_eq!(
            op(r0, AluOp::Sub, w64, &r6).to_string(),
            "scalar(smin=smin32=-655,smax=smax32=-146,umin=0xfffffffffffffd71,\
             umax=0xffffffffffffff6e,umin32=0xfffffd71,umax32=0xffffff6e,\
             var_off=(0xfffffffffffffc00; 0x3ff))"
        );
        // bounds deduction cross sign boundary, positive overlap / two overlaps
        let c = reg_set_min_max(&r0s, &k(-256), JmpCond::Gt, w64);
        assert_eq!(
            c.false_dst.to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=127,var_off=(0x0; 0x7f))"
        );
        let c = reg_set_min_max(&r0s, &k(-128), JmpCond::Gt, w64);
        assert_eq!(
            c.false_dst.to_string(),
            "scalar(smin=smin32=-128,smax=smax32=127,umax=0xffffffffffffff80)"
        );
        // dead jne/jeq branch due to disagreeing tnums
        let mut r0 = unk();
        r0.alu(AluOp::Mov, w32, &unk());
        let r0 = op(r0, AluOp::Rsh, w64, &k(30));
        let r0 = op(r0, AluOp::Lsh, w64, &k(30));
        let r1 = op(r0, AluOp::Add, w64, &k(1024));
        assert_eq!(
            r1.is_branch_taken(&r0, JmpCond::Ne, w64),
            BranchTaken::Taken
        );
        assert_eq!(
            r1.is_branch_taken(&r0, JmpCond::Eq, w64),
            BranchTaken::NotTaken
        );
    }

    /// `verifier_movsx.c` selftests: the branches the kernel must predict
    /// after a sign-extending move (the `r10 = ...` paths are dead).
    #[test]
    fn verifier_movsx_selftests() {
        let k = ScalarBounds::from_imm;
        let (w32, w64) = (Width::W32, Width::W64);
        // MOV64SX, S8, unsigned range_check
        let mut r0 = ScalarBounds::unknown();
        r0.alu(AluOp::And, w64, &k(1));
        r0.alu(AluOp::Add, w64, &k(0xfe));
        let src = r0;
        r0.movsx(w64, &src, SxBits::B8);
        assert_eq!(
            r0.to_string(),
            "scalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1))"
        );
        assert_eq!(
            r0.is_branch_taken(&k(-2), JmpCond::Lt, w64),
            BranchTaken::NotTaken
        );
        // MOV32SX, S8, unsigned range_check
        let mut w0 = ScalarBounds::unknown();
        w0.alu(AluOp::And, w32, &k(1));
        w0.alu(AluOp::Add, w32, &k(0xfe));
        let src = w0;
        w0.movsx(w32, &src, SxBits::B8);
        assert_eq!(
            w0.is_branch_taken(&k(-2), JmpCond::Lt, w32),
            BranchTaken::NotTaken
        );
        assert_eq!(w0.umax_value, 0xffff_ffff);
        // MOV32SX, S8, var_off u32_max / not u32_max
        let mut r3 = ScalarBounds::unknown();
        r3.alu(AluOp::And, w64, &k(0xf));
        let mut w7 = ScalarBounds::unknown();
        w7.movsx(w32, &r3, SxBits::B8);
        assert_eq!(
            w7.is_branch_taken(&k(16), JmpCond::Sge, w32),
            BranchTaken::NotTaken
        );
        r3.alu(AluOp::Or, w64, &k(0x80));
        w7.movsx(w32, &r3, SxBits::B8);
        assert_eq!((w7.s32_min_value, w7.s32_max_value), (-128, -113));
        assert_eq!(
            w7.is_branch_taken(&k(-5), JmpCond::Sge, w32),
            BranchTaken::NotTaken
        );
    }

    #[test]
    fn print_scalar_ranges_merging_and_hex() {
        // From the 6.17 selftest "bounds deduction cross sign boundary,
        // negative overlap".
        let r = ScalarBounds {
            var_off: Tnum {
                value: 0xffff_ffff_ffff_fc00,
                mask: 0x3ff,
            },
            smin_value: -655,
            smax_value: -146,
            umin_value: 0xffff_ffff_ffff_fd71,
            umax_value: 0xffff_ffff_ffff_ff6e,
            s32_min_value: -655,
            s32_max_value: -146,
            u32_min_value: 0xffff_fd71,
            u32_max_value: 0xffff_ff6e,
        };
        assert_eq!(
            r.to_string(),
            "scalar(smin=smin32=-655,smax=smax32=-146,umin=0xfffffffffffffd71,\
             umax=0xffffffffffffff6e,umin32=0xfffffd71,umax32=0xffffff6e,\
             var_off=(0xfffffffffffffc00; 0x3ff))"
        );
        let mut s = r;
        s.sync();
        assert_eq!(s, r, "a state the kernel printed is a fixpoint of sync");
        // Negative and positive equal bit patterns are not merged; 32-bit
        // signed values outside [S16_MIN, S16_MAX] print as u32 hex.
        let mut r = ScalarBounds::unknown();
        r.s32_min_value = -0x10000;
        r.s32_max_value = 5;
        r.smin_value = -0x10000;
        assert_eq!(
            r.to_string(),
            "scalar(smin=0xffffffffffff0000,smin32=0xffff0000,smax32=5)"
        );
        r.u32_max_value = 5;
        r.umax_value = 5;
        r.smax_value = 5;
        assert_eq!(
            r.to_string(),
            "scalar(smin=0xffffffffffff0000,smax=umax=smax32=umax32=5,smin32=0xffff0000)"
        );
    }

    #[test]
    fn alu_exact_cases() {
        // 32-bit subtraction, partial underflow: unbounded u32.
        let mut a = ScalarBounds::constant(0);
        let mut b = ScalarBounds::unknown_u32();
        b.alu(AluOp::And, Width::W64, &ScalarBounds::from_imm(1));
        a.alu(AluOp::Sub, Width::W32, &b);
        // 0 - {0, 1} = {0, 0xffffffff}: one end underflows, the other not;
        // the s32 range [-1, 0] survives.
        assert_eq!(
            a.to_string(),
            "scalar(smin=0,smax=umax=0xffffffff,smin32=-1,smax32=0,var_off=(0x0; 0xffffffff))"
        );
        // Both ends overflow: u64 [0x8000..., U64_MAX] + itself stays ordered.
        let mut r = ScalarBounds::unknown();
        r.umin_value = 0x8000_0000_0000_0000;
        r.sync();
        let src = r;
        r.alu(AluOp::Add, Width::W64, &src);
        assert_eq!(r.umin_value, 0);
        assert_eq!(r.umax_value, u64::MAX - 1);
        // Multiplication of signed ranges: [-3, 2] * [4, 5] = [-15, 10].
        let mut m = ScalarBounds::unknown();
        m.smin_value = -3;
        m.smax_value = 2;
        m.sync();
        let mut k = ScalarBounds::unknown();
        k.umin_value = 4;
        k.umax_value = 5;
        k.sync();
        m.alu(AluOp::Mul, Width::W64, &k);
        assert_eq!((m.smin_value, m.smax_value), (-15, 10));
        // Shift by a non-constant: unknown.
        let mut s = ScalarBounds::constant(1);
        s.alu(AluOp::Lsh, Width::W64, &u32_load());
        assert_eq!(s, ScalarBounds::unknown());
        // Shift by the width or more: unknown.
        let mut s = ScalarBounds::constant(1);
        s.alu(AluOp::Lsh, Width::W32, &ScalarBounds::from_imm(32));
        assert_eq!(s, ScalarBounds::unknown());
        // <<32 then s>>32: sign extension of a non-negative subreg.
        let mut x = u32_load();
        x.alu(AluOp::And, Width::W64, &ScalarBounds::from_imm(0x7fff));
        x.alu(AluOp::Lsh, Width::W64, &ScalarBounds::from_imm(32));
        assert_eq!(x.smax_value, 0x7fff << 32);
        x.alu(AluOp::Arsh, Width::W64, &ScalarBounds::from_imm(32));
        assert_eq!(
            x.to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=32767,var_off=(0x0; 0x7fff))"
        );
        // Negation: -[1, 3] = [-3, -1].
        let mut n = ScalarBounds::unknown();
        n.umin_value = 1;
        n.umax_value = 3;
        n.sync();
        n.neg(Width::W64);
        assert_eq!((n.smin_value, n.smax_value), (-3, -1));
        assert_eq!(
            n.var_off,
            Tnum {
                value: 0xffff_ffff_ffff_fffc,
                mask: 3
            }
        );
        // 32-bit: w = -w of constant 1 is 0xffffffff.
        let mut n = ScalarBounds::constant(1);
        n.neg(Width::W32);
        assert_eq!(n, ScalarBounds::constant(0xffff_ffff));
        // Byte swaps move the known bits (the kernel's be16 of 0xff0f-masked
        // bits is (0x0; 0xfff)); le16 only truncates.
        let mut e = ScalarBounds::unknown();
        e.alu(AluOp::And, Width::W64, &ScalarBounds::from_imm(0xff0f));
        let mut le = e;
        e.endian(ByteOrder::Be, SwapBits::B16);
        assert_eq!(
            e.var_off,
            Tnum {
                value: 0,
                mask: 0xfff
            }
        );
        assert_eq!((e.umin_value, e.umax_value), (0, 4095));
        le.endian(ByteOrder::Le, SwapBits::B16);
        assert_eq!(
            le.var_off,
            Tnum {
                value: 0,
                mask: 0xff0f
            }
        );
        let mut sw = ScalarBounds::unknown();
        sw.alu(AluOp::And, Width::W64, &ScalarBounds::from_imm(0xff0f));
        sw.endian(ByteOrder::Swap, SwapBits::B64);
        assert_eq!(
            sw.var_off,
            Tnum {
                value: 0,
                mask: 0x0fff_0000_0000_0000
            }
        );
        assert_eq!(sw.u32_max_value, 0);
        // 32-bit mov zero-extends.
        let mut mv = ScalarBounds::unknown();
        mv.alu(AluOp::Mov, Width::W32, &ScalarBounds::from_imm(-1));
        assert_eq!(mv, ScalarBounds::constant(0xffff_ffff));
        // movsx: w1 = (s8)w2 with w2 = 0x80 gives 0xffffff80.
        let mut sx = ScalarBounds::unknown();
        sx.movsx(Width::W32, &ScalarBounds::constant(0x80), SxBits::B8);
        assert_eq!(sx, ScalarBounds::constant(0xffff_ff80));
        sx.movsx(Width::W64, &ScalarBounds::constant(0x80), SxBits::B8);
        assert_eq!(sx, ScalarBounds::from_imm(-128));
    }

    #[test]
    fn branch_exact_cases() {
        let r0 = u32_load();
        let k = ScalarBounds::from_imm;
        // Unsigned comparisons against the range.
        assert_eq!(
            r0.is_branch_taken(&k(-1), JmpCond::Le, Width::W64),
            BranchTaken::Taken
        );
        assert_eq!(
            r0.is_branch_taken(&k(-1), JmpCond::Le, Width::W32),
            BranchTaken::Taken
        );
        assert_eq!(
            r0.is_branch_taken(&k(0), JmpCond::Sge, Width::W64),
            BranchTaken::Taken
        );
        assert_eq!(
            r0.is_branch_taken(&k(0), JmpCond::Sge, Width::W32),
            BranchTaken::Unknown
        );
        // tnum_overlap decides JEQ/JNE (Paul Chaignon's example).
        let mut a = r0;
        a.alu(AluOp::Rsh, Width::W64, &k(30));
        a.alu(AluOp::Lsh, Width::W64, &k(30));
        let mut b = a;
        b.alu(AluOp::Add, Width::W64, &k(1024));
        assert_eq!(
            b.is_branch_taken(&a, JmpCond::Ne, Width::W64),
            BranchTaken::Taken
        );
        assert_eq!(
            b.is_branch_taken(&a, JmpCond::Eq, Width::W64),
            BranchTaken::NotTaken
        );
        // JSET on known bits.
        let mut s = r0;
        s.alu(AluOp::Or, Width::W64, &k(4));
        assert_eq!(
            s.is_branch_taken(&k(6), JmpCond::Set, Width::W64),
            BranchTaken::Taken
        );
        assert_eq!(
            r0.is_branch_taken(&k(1 << 31), JmpCond::Set, Width::W64),
            BranchTaken::Unknown
        );
        assert_eq!(
            r0.is_branch_taken(&ScalarBounds::constant(1 << 40), JmpCond::Set, Width::W64),
            BranchTaken::NotTaken
        );
        // JSET refines a single bit; its negation clears the bits.
        let c = reg_set_min_max(&r0, &k(8), JmpCond::Set, Width::W64);
        assert_eq!(
            c.true_dst.var_off,
            Tnum {
                value: 8,
                mask: 0xffff_fff7
            }
        );
        assert_eq!(
            c.false_dst.var_off,
            Tnum {
                value: 0,
                mask: 0xffff_fff7
            }
        );
        let c = reg_set_min_max(&r0, &k(6), JmpCond::Set, Width::W64);
        assert_eq!(c.true_dst, r0);
        // JNE against a range edge shrinks the range.
        let c = reg_set_min_max(&r0, &k(0), JmpCond::Ne, Width::W64);
        assert_eq!(c.true_dst.umin_value, 1);
        assert_eq!(c.false_dst, ScalarBounds::constant(0));
        // JEQ of two registers intersects them.
        let mut lo = ScalarBounds::unknown();
        lo.umax_value = 10;
        lo.sync();
        let mut hi = ScalarBounds::unknown();
        hi.umin_value = 5;
        hi.umax_value = 20;
        hi.sync();
        let c = reg_set_min_max(&lo, &hi, JmpCond::Eq, Width::W64);
        assert_eq!((c.true_dst.umin_value, c.true_dst.umax_value), (5, 10));
        assert_eq!((c.true_src.umin_value, c.true_src.umax_value), (5, 10));
        // Signed 32-bit refinement.
        let c = reg_set_min_max(&ScalarBounds::unknown(), &k(-5), JmpCond::Slt, Width::W32);
        assert_eq!(c.true_dst.s32_max_value, -6);
        assert_eq!(c.false_dst.s32_min_value, -5);
        // u32 [0x80000000, 0xfffffffa] substituted into the 64-bit maximum.
        assert_eq!(c.true_dst.smax_value, 0x7fff_ffff_ffff_fffa);
    }

    #[test]
    fn infeasible_refinement_is_reported() {
        // The kernel warning of commit d43ad9da8052: `if r0 > r0` on
        // r0 = unknown & 0x80000000, refined as two registers.
        let mut r0 = ScalarBounds::unknown();
        r0.alu(AluOp::And, Width::W64, &ScalarBounds::constant(0x8000_0000));
        assert_eq!(
            r0.is_branch_taken(&r0, JmpCond::Gt, Width::W64),
            BranchTaken::Unknown
        );
        assert_eq!(
            r0.is_branch_taken_same_reg(JmpCond::Gt, Width::W64),
            BranchTaken::NotTaken
        );
        // As two copies the refinement is fine...
        let c = reg_set_min_max(&r0, &r0, JmpCond::Gt, Width::W64);
        assert!(c.true_feasible());
        // ...but aliasing the two operands (what the kernel did before that
        // commit: `umax = min(umax, umax - 1); umin = max(umin + 1, umin)`
        // on one state) gives an empty state, reported, not a panic.
        let mut copy = r0;
        copy.umax_value = copy.umax_value.wrapping_sub(1);
        copy.umin_value = copy.umin_value.wrapping_add(1);
        copy.sync();
        let e = copy.sanity_check("true_reg1").unwrap_err();
        assert!(matches!(
            e,
            RegInvariantViolation::Violation {
                ctx: "true_reg1",
                kind: InvariantKind::RangeBounds,
                ..
            }
        ));
        assert!(
            e.to_string()
                .starts_with("REG INVARIANTS VIOLATION (true_reg1): range bounds violation u64=[")
        );
        // A JEQ against a constant the value cannot take, refined anyway.
        let c = reg_set_min_max(&r0, &ScalarBounds::constant(5), JmpCond::Eq, Width::W64);
        assert!(!c.true_feasible());
        assert!(c.false_feasible());
        let mut sane = c;
        let reports = sane.sanitize();
        assert!(!reports.is_empty());
        assert!(reports.iter().all(|r| matches!(r, RegInvariantViolation::Violation { ctx, .. } if ctx.starts_with("true_"))));
        // Ranges forgotten, var_off kept, as __mark_reg_unbounded does.
        assert_eq!(sane.true_dst.umax_value, u64::MAX);
        assert_eq!(sane.true_dst.var_off, c.true_dst.var_off);
        let msg = ScalarBounds {
            var_off: Tnum::constant(5),
            ..ScalarBounds::constant(6)
        }
        .sanity_check("alu")
        .unwrap_err()
        .to_string();
        assert_eq!(
            msg,
            "REG INVARIANTS VIOLATION (alu): const tnum out of sync with range bounds \
             u64=[0x6, 0x6] s64=[0x6, 0x6] u32=[0x6, 0x6] s32=[0x6, 0x6] var_off=(0x5, 0x0)"
        );
    }

    #[test]
    fn deduce_bounds_cases() {
        // s64 crossing the sign boundary, u64 overlapping its positive part
        // only (6.17 __reg64_deduce_bounds).
        let mut r = ScalarBounds::unknown();
        r.smin_value = -100;
        r.smax_value = 1000;
        r.umin_value = 10;
        r.umax_value = 1 << 40;
        r.reg64_deduce_bounds();
        assert_eq!((r.smin_value, r.smax_value), (10, 1000));
        assert_eq!((r.umin_value, r.umax_value), (10, 1000));
        // ... and its negative part only.
        let mut r = ScalarBounds::unknown();
        r.smin_value = -100;
        r.smax_value = 1000;
        r.umin_value = 1 << 63;
        r.reg64_deduce_bounds();
        assert_eq!((r.smin_value, r.smax_value), (-100, -1));
        assert_eq!(r.umin_value, (-100i64) as u64);
        // u32 knowledge tightens u64: [0x1_0000_0000, 0x3_8000_0000] with
        // s32 in [1, 0x7fffffff].
        let mut r = ScalarBounds::unknown();
        r.umin_value = 0x1_0000_0000;
        r.umax_value = 0x3_8000_0000;
        r.s32_min_value = 1;
        r.sync();
        assert_eq!(r.umin_value, 0x1_0000_0001);
        assert_eq!(r.umax_value, 0x3_7fff_ffff);
        // Upper halves equal: u32 from u64.
        let mut r = ScalarBounds::unknown();
        r.umin_value = 0x1_0000_000a;
        r.umax_value = 0x1_0000_000f;
        r.sync();
        assert_eq!((r.u32_min_value, r.u32_max_value), (10, 15));
        assert_eq!((r.s32_min_value, r.s32_max_value), (10, 15));
        // s64 [-1, 1] gives s32 [-1, 1].
        let mut r = ScalarBounds::unknown();
        r.smin_value = -1;
        r.smax_value = 1;
        r.sync();
        assert_eq!((r.s32_min_value, r.s32_max_value), (-1, 1));
        // bound_offset learns bits from the ranges.
        let mut r = ScalarBounds::unknown();
        r.umax_value = 0x1f;
        r.sync();
        assert_eq!(
            r.var_off,
            Tnum {
                value: 0,
                mask: 0x1f
            }
        );
        // coerce_reg_to_size(2) of [0x1_0005, 0x1_0007].
        let mut r = ScalarBounds::unknown();
        r.umin_value = 0x1_0005;
        r.umax_value = 0x1_0007;
        r.sync();
        r.coerce_reg_to_size(2);
        assert_eq!((r.umin_value, r.umax_value), (5, 7));
        assert_eq!(r.var_off, Tnum { value: 4, mask: 3 });
    }
}
