//! Tristate numbers (`tnum`): per-bit knowledge of a 64-bit value.
//!
//! A [`Tnum`] pairs a `value` with a `mask`. A bit set in `mask` is unknown;
//! a bit clear in `mask` is known and equal to the same bit of `value`. The
//! invariant `value & mask == 0` holds for every tnum built by this module.
//! The concrete set a tnum stands for is `{ x | x & !mask == value }`.
//!
//! The operations follow Linux 6.18's `kernel/bpf/tnum.c` (including the
//! 6.18 long-multiplication [`Tnum::mul`] built on [`Tnum::union`], and
//! [`Tnum::neg`]/[`Tnum::overlap`] added in 6.17/6.18). Each result is a
//! sound over-approximation: if `x ∈ a` and `y ∈ b` then `x op y ∈ a.op(b)`.
//!
//! [`Display`](fmt::Display) prints the kernel log's form (`tnum_strn`):
//! `(0x0; 0xff)`, or a known value as a bare number.

use core::fmt;

/// Largest unsigned value the kernel log prints in decimal (`U16_MAX`).
pub(crate) const UNUM_MAX_DECIMAL: u64 = 0xffff;
/// Signed values in `[S16_MIN, S16_MAX]` print in decimal in the kernel log.
pub(crate) const SNUM_MIN_DECIMAL: i64 = -0x8000;
/// See [`SNUM_MIN_DECIMAL`].
pub(crate) const SNUM_MAX_DECIMAL: i64 = 0x7fff;

/// `is_unum_decimal`: whether the log prints `num` in decimal.
pub(crate) const fn is_unum_decimal(num: u64) -> bool {
    num <= UNUM_MAX_DECIMAL
}

/// `is_snum_decimal`: whether the log prints `num` in decimal.
pub(crate) const fn is_snum_decimal(num: i64) -> bool {
    num >= SNUM_MIN_DECIMAL && num <= SNUM_MAX_DECIMAL
}

/// A tracked ("tristate") number: `struct tnum` of the kernel.
///
/// ```
/// use ebpf_verifier::Tnum;
///
/// let byte = Tnum::range(0, 0xff);
/// assert_eq!(byte, Tnum { value: 0, mask: 0xff });
/// assert_eq!(byte.to_string(), "(0x0; 0xff)");
/// let shifted = byte.lshift(8);
/// assert!(shifted.contains(0xab00));
/// assert!(!shifted.contains(0xab01));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Tnum {
    /// Known bits (bits not in `mask`). Always disjoint from `mask` for
    /// well-formed tnums.
    pub value: u64,
    /// Unknown bits.
    pub mask: u64,
}

/// Shift left, 0 when the amount is 64 or more (the kernel never shifts
/// that far; this keeps the operation total).
const fn shl(x: u64, n: u32) -> u64 {
    match x.checked_shl(n) {
        Some(v) => v,
        None => 0,
    }
}

/// Logical shift right, 0 when the amount is 64 or more.
const fn shr(x: u64, n: u32) -> u64 {
    match x.checked_shr(n) {
        Some(v) => v,
        None => 0,
    }
}

/// Arithmetic shift right of a 64-bit pattern, sign fill past 63.
const fn sar64(x: u64, n: u32) -> u64 {
    let s = x as i64;
    let n = if n > 63 { 63 } else { n };
    s.wrapping_shr(n) as u64
}

/// Arithmetic shift right of the low 32 bits, zero-extended result.
const fn sar32(x: u64, n: u32) -> u64 {
    let s = x as u32 as i32;
    let n = if n > 31 { 31 } else { n };
    s.wrapping_shr(n) as u32 as u64
}

impl Tnum {
    /// The byte swap of the low `bytes` bytes (2, 4 or 8), upper bits zero
    /// (`tnum_bswap16/32/64`): each byte's known bits move with it.
    #[must_use]
    pub fn bswap(self, bytes: u8) -> Tnum {
        match bytes {
            2 => Tnum {
                value: u64::from((self.value as u16).swap_bytes()),
                mask: u64::from((self.mask as u16).swap_bytes()),
            },
            4 => Tnum {
                value: u64::from((self.value as u32).swap_bytes()),
                mask: u64::from((self.mask as u32).swap_bytes()),
            },
            _ => Tnum {
                value: self.value.swap_bytes(),
                mask: self.mask.swap_bytes(),
            },
        }
    }

    /// A completely unknown value (`tnum_unknown`).
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// A fully known value (`tnum_const`).
    #[must_use]
    pub const fn constant(value: u64) -> Tnum {
        Tnum { value, mask: 0 }
    }

    /// The smallest tnum (in the kernel's sense: unknown bits from the
    /// highest differing bit down) containing every value of `[min, max]`
    /// (`tnum_range`). Expects `min <= max`.
    #[must_use]
    pub const fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        // fls64: index (1-based) of the highest set bit, 0 for 0.
        let bits = 64u32.wrapping_sub(chi.leading_zeros());
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = shl(1, bits).wrapping_sub(1);
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// `tnum_lshift`: shift known and unknown bits left by `shift`.
    #[must_use]
    pub const fn lshift(self, shift: u8) -> Tnum {
        Tnum {
            value: shl(self.value, shift as u32),
            mask: shl(self.mask, shift as u32),
        }
    }

    /// `tnum_rshift`: logical shift right by `shift`.
    #[must_use]
    pub const fn rshift(self, shift: u8) -> Tnum {
        Tnum {
            value: shr(self.value, shift as u32),
            mask: shr(self.mask, shift as u32),
        }
    }

    /// `tnum_arshift(a, min_shift, insn_bitness)`: arithmetic shift right.
    ///
    /// With `insn_bitness == 32` only the low 32 bits take part and the
    /// result is zero-extended, as for `BPF_ALU | BPF_ARSH`; any other
    /// bitness shifts all 64 bits.
    #[must_use]
    pub const fn arshift(self, min_shift: u8, insn_bitness: u8) -> Tnum {
        if insn_bitness == 32 {
            Tnum {
                value: sar32(self.value, min_shift as u32),
                mask: sar32(self.mask, min_shift as u32),
            }
        } else {
            Tnum {
                value: sar64(self.value, min_shift as u32),
                mask: sar64(self.mask, min_shift as u32),
            }
        }
    }

    /// `tnum_add`: the sum, carries through unknown bits becoming unknown.
    #[must_use]
    pub const fn add(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// `tnum_sub`: the difference `self - b`.
    #[must_use]
    pub const fn sub(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: dv & !mu,
            mask: mu,
        }
    }

    /// `tnum_neg`: two's-complement negation, `0 - self` (kernel 6.17+).
    #[must_use]
    pub const fn neg(self) -> Tnum {
        Tnum::constant(0).sub(self)
    }

    /// `tnum_and`: bitwise AND.
    #[must_use]
    pub const fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    /// `tnum_or`: bitwise OR.
    #[must_use]
    pub const fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v,
            mask: mu & !v,
        }
    }

    /// `tnum_xor`: bitwise XOR.
    #[must_use]
    pub const fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// `tnum_mul` as of Linux 6.18: long multiplication over the bits of
    /// `self`. A known-1 bit adds the (shifted) multiplicand; an unknown bit
    /// takes the [`union`](Tnum::union) of adding and not adding it. The
    /// operation is not symmetric in precision: `a.mul(b)` and `b.mul(a)`
    /// may differ (both are sound).
    #[must_use]
    pub const fn mul(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let mut acc = Tnum::constant(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc = acc.add(b);
            } else if a.mask & 1 != 0 {
                acc = acc.union(acc.add(b));
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        acc
    }

    /// `tnum_overlap`: whether the known bits of both tnums agree, i.e.
    /// whether they may share a value (kernel 6.18, used by JEQ/JNE branch
    /// prediction).
    #[must_use]
    pub const fn overlap(self, b: Tnum) -> bool {
        let mu = !self.mask & !b.mask;
        (self.value & mu) == (b.value & mu)
    }

    /// `tnum_intersect`: values satisfying both `self` and `b`. Where known
    /// bits disagree the kernel returns a known 1 (the result is then not a
    /// sound description of anything; callers check with [`Tnum::overlap`]).
    #[must_use]
    pub const fn intersect(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// `tnum_union`: the most precise tnum holding every value of `self`
    /// and of `b` (kernel 6.18).
    #[must_use]
    pub const fn union(self, b: Tnum) -> Tnum {
        let v = self.value & b.value;
        let mu = (self.value ^ b.value) | self.mask | b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// `tnum_cast`: keep only the lowest `size` bytes (`size >= 8` keeps
    /// everything).
    #[must_use]
    pub const fn cast(self, size: u8) -> Tnum {
        let bits = (size as u32).saturating_mul(8);
        let keep = if bits >= 64 {
            u64::MAX
        } else {
            shl(1, bits).wrapping_sub(1)
        };
        Tnum {
            value: self.value & keep,
            mask: self.mask & keep,
        }
    }

    /// `tnum_is_aligned`: whether every value is a multiple of `size`
    /// (a power of two; 0 counts as aligned).
    #[must_use]
    pub const fn is_aligned(self, size: u64) -> bool {
        if size == 0 {
            return true;
        }
        (self.value | self.mask) & size.wrapping_sub(1) == 0
    }

    /// `tnum_in(a, b)`: whether every value of `b` is a value of `self`.
    #[must_use]
    pub const fn in_(self, b: Tnum) -> bool {
        if b.mask & !self.mask != 0 {
            return false;
        }
        self.value == b.value & !self.mask
    }

    /// Whether the concrete value `x` is represented by `self`.
    #[must_use]
    pub const fn contains(self, x: u64) -> bool {
        x & !self.mask == self.value
    }

    /// `tnum_is_const`: no unknown bit.
    #[must_use]
    pub const fn is_const(self) -> bool {
        self.mask == 0
    }

    /// `tnum_equals_const`: known and equal to `b`.
    #[must_use]
    pub const fn equals_const(self, b: u64) -> bool {
        self.is_const() && self.value == b
    }

    /// `tnum_is_unknown`: every bit unknown.
    #[must_use]
    pub const fn is_unknown(self) -> bool {
        self.mask == u64::MAX
    }

    /// `tnum_subreg`: the low 32 bits (upper bits known zero).
    #[must_use]
    pub const fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// `tnum_clear_subreg`: the upper 32 bits (lower bits known zero).
    #[must_use]
    pub const fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// `tnum_with_subreg`: upper half of `self`, lower half of `subreg`.
    #[must_use]
    pub const fn with_subreg(self, subreg: Tnum) -> Tnum {
        self.clear_subreg().or(subreg.subreg())
    }

    /// `tnum_const_subreg`: upper half of `self`, lower half known `value`.
    #[must_use]
    pub const fn const_subreg(self, value: u32) -> Tnum {
        self.with_subreg(Tnum::constant(value as u64))
    }

    /// `tnum_subreg_is_const`: the low 32 bits are fully known.
    #[must_use]
    pub const fn subreg_is_const(self) -> bool {
        self.subreg().mask == 0
    }

    /// `tnum_sbin`: 64 characters, most significant bit first, each `0`,
    /// `1` or `x` (unknown).
    #[must_use]
    pub fn sbin(self) -> String {
        (0..64u32)
            .rev()
            .map(|bit| {
                if shr(self.mask, bit) & 1 != 0 {
                    'x'
                } else if shr(self.value, bit) & 1 != 0 {
                    '1'
                } else {
                    '0'
                }
            })
            .collect()
    }

    /// The smallest value (`value`).
    #[must_use]
    pub const fn min_value(self) -> u64 {
        self.value
    }

    /// The largest value (`value | mask`).
    #[must_use]
    pub const fn max_value(self) -> u64 {
        self.value | self.mask
    }
}

/// `tnum_strn`: `(0x<value>; 0x<mask>)`, or the value alone when fully
/// known (decimal up to `U16_MAX`, hexadecimal above).
impl fmt::Display for Tnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mask == 0 {
            if is_unum_decimal(self.value) {
                write!(f, "{}", self.value)
            } else {
                write!(f, "{:#x}", self.value)
            }
        } else {
            write!(f, "({:#x}; {:#x})", self.value, self.mask)
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // reference computations in tests
mod tests {
    use super::*;

    /// All tnums over the low `bits` bits (3^bits of them).
    fn all_tnums(bits: u32) -> Vec<Tnum> {
        let mut out = Vec::new();
        let n = 1u64 << bits;
        for mask in 0..n {
            for value in 0..n {
                if value & mask == 0 {
                    out.push(Tnum { value, mask });
                }
            }
        }
        out
    }

    fn members(t: Tnum) -> Vec<u64> {
        // Enumerate the subsets of the mask (small masks only).
        let mut out = Vec::new();
        let mut sub = t.mask;
        loop {
            out.push(t.value | sub);
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & t.mask;
        }
        out
    }

    #[test]
    fn range_examples() {
        assert_eq!(
            Tnum::range(0, 0xff),
            Tnum {
                value: 0,
                mask: 0xff
            }
        );
        assert_eq!(Tnum::range(5, 5), Tnum::constant(5));
        assert_eq!(Tnum::range(0, u64::MAX), Tnum::UNKNOWN);
        assert_eq!(
            Tnum::range(1 << 63, u64::MAX),
            Tnum {
                value: 1 << 63,
                mask: (1 << 63) - 1
            }
        );
        // chi = 4 ^ 7 = 3: two unknown bits.
        assert_eq!(Tnum::range(4, 7), Tnum { value: 4, mask: 3 });
        // chi = 3 ^ 4 = 7: three unknown bits, value cleared below them.
        assert_eq!(Tnum::range(3, 4), Tnum { value: 0, mask: 7 });
        assert_eq!(
            Tnum::range(0x1000, 0x1fff),
            Tnum {
                value: 0x1000,
                mask: 0xfff
            }
        );
    }

    #[test]
    fn range_is_sound_exhaustive_8bit() {
        for min in 0..=255u64 {
            for max in min..=255u64 {
                let t = Tnum::range(min, max);
                assert_eq!(t.value & t.mask, 0);
                for x in min..=max {
                    assert!(t.contains(x), "{min}..{max} {t:?} misses {x}");
                }
            }
        }
    }

    #[test]
    fn mul_examples_from_kernel_algorithm() {
        // The kernel's comment: 11 * x1 (multiplier x1 = {1; 2}) gives
        // union(0011, 1001) = x0x1.
        let x1 = Tnum { value: 1, mask: 2 };
        assert_eq!(
            x1.mul(Tnum::constant(3)),
            Tnum {
                value: 1,
                mask: 0b1010
            }
        );
        // Iterating over the constant instead is less precise.
        assert_eq!(
            Tnum::constant(3).mul(x1),
            Tnum {
                value: 1,
                mask: 0b1110
            }
        );
        assert_eq!(Tnum::constant(6).mul(Tnum::constant(7)), Tnum::constant(42));
        assert_eq!(
            Tnum::constant(u64::MAX).mul(Tnum::constant(u64::MAX)),
            Tnum::constant(1)
        );
        assert_eq!(Tnum::UNKNOWN.mul(Tnum::constant(0)), Tnum::constant(0));
        // x * 4 keeps two known low zero bits.
        let m = Tnum::range(0, 0xff).mul(Tnum::constant(4));
        assert_eq!(m.value & 3, 0);
        assert_eq!(m.mask & 3, 0);
    }

    #[test]
    fn union_intersect_overlap() {
        let a = Tnum::constant(0b0011);
        let b = Tnum::constant(0b1001);
        assert_eq!(
            a.union(b),
            Tnum {
                value: 0b0001,
                mask: 0b1010
            }
        );
        assert!(!a.overlap(b));
        assert!(a.union(b).overlap(a));
        let c = Tnum {
            value: 0,
            mask: 0xf0,
        };
        let d = Tnum {
            value: 0x3,
            mask: 0x0c,
        };
        assert_eq!(c.intersect(d), Tnum { value: 3, mask: 0 });
        // Paul Chaignon's example: (0; 0xc0000000) vs (0x400; 0xc0000000).
        let r0 = Tnum {
            value: 0,
            mask: 0xc000_0000,
        };
        let r1 = Tnum {
            value: 0x400,
            mask: 0xc000_0000,
        };
        assert!(!r0.overlap(r1));
    }

    #[test]
    fn shifts_and_casts() {
        let t = Tnum {
            value: 0x8000_0000,
            mask: 0x0f,
        };
        assert_eq!(
            t.arshift(4, 32),
            Tnum {
                value: 0xf800_0000,
                mask: 0
            }
        );
        assert_eq!(
            t.arshift(4, 64),
            Tnum {
                value: 0x0800_0000,
                mask: 0
            }
        );
        let neg = Tnum {
            value: 1 << 63,
            mask: 0xff,
        };
        assert_eq!(
            neg.arshift(60, 64),
            Tnum {
                value: 0xffff_ffff_ffff_fff8,
                mask: 0
            }
        );
        assert_eq!(
            Tnum::UNKNOWN.cast(1),
            Tnum {
                value: 0,
                mask: 0xff
            }
        );
        assert_eq!(Tnum::UNKNOWN.cast(8), Tnum::UNKNOWN);
        assert_eq!(
            Tnum::UNKNOWN.subreg(),
            Tnum {
                value: 0,
                mask: 0xffff_ffff
            }
        );
        assert_eq!(
            Tnum::UNKNOWN.clear_subreg(),
            Tnum {
                value: 0,
                mask: 0xffff_ffff_0000_0000
            }
        );
        assert_eq!(
            Tnum::UNKNOWN.const_subreg(7),
            Tnum {
                value: 7,
                mask: 0xffff_ffff_0000_0000
            }
        );
        assert!(Tnum::UNKNOWN.const_subreg(7).subreg_is_const());
        assert_eq!(Tnum::constant(1).lshift(64), Tnum::constant(0));
        assert_eq!(Tnum::constant(1).rshift(200), Tnum::constant(0));
    }

    #[test]
    fn predicates() {
        assert!(Tnum::constant(0x40).is_aligned(8));
        assert!(!Tnum { value: 0, mask: 4 }.is_aligned(8));
        assert!(Tnum { value: 0, mask: 4 }.is_aligned(0));
        assert!(Tnum::UNKNOWN.is_unknown());
        assert!(Tnum::constant(3).equals_const(3));
        assert!(Tnum::range(0, 0xff).in_(Tnum::range(0x10, 0x1f)));
        assert!(!Tnum::range(0x10, 0x1f).in_(Tnum::range(0, 0xff)));
        assert!(Tnum { value: 1, mask: 6 }.in_(Tnum::constant(7)));
        assert!(!Tnum { value: 1, mask: 6 }.in_(Tnum::constant(8)));
    }

    #[test]
    fn display_and_sbin() {
        assert_eq!(Tnum::range(0, 0xff).to_string(), "(0x0; 0xff)");
        assert_eq!(Tnum::UNKNOWN.to_string(), "(0x0; 0xffffffffffffffff)");
        assert_eq!(Tnum::constant(42).to_string(), "42");
        assert_eq!(Tnum::constant(0xffff).to_string(), "65535");
        assert_eq!(Tnum::constant(0x10000).to_string(), "0x10000");
        assert_eq!(
            Tnum {
                value: 0xffff_ffff_ffff_fc00,
                mask: 0x3ff
            }
            .to_string(),
            "(0xfffffffffffffc00; 0x3ff)"
        );
        let s = Tnum {
            value: 0b100,
            mask: 0b011,
        }
        .sbin();
        assert_eq!(s.len(), 64);
        assert!(s.ends_with("1xx"));
        assert!(s.starts_with("000"));
    }

    /// Exhaustive soundness over every pair of 4-bit tnums, the operation
    /// carried out at 64 bits.
    #[test]
    fn binary_ops_sound_exhaustive_4bit() {
        type Op = (&'static str, fn(Tnum, Tnum) -> Tnum, fn(u64, u64) -> u64);
        let ops: [Op; 8] = [
            ("add", Tnum::add, u64::wrapping_add),
            ("sub", Tnum::sub, u64::wrapping_sub),
            ("mul", Tnum::mul, u64::wrapping_mul),
            ("and", Tnum::and, |a, b| a & b),
            ("or", Tnum::or, |a, b| a | b),
            ("xor", Tnum::xor, |a, b| a ^ b),
            ("union-left", Tnum::union, |a, _| a),
            ("union-right", Tnum::union, |_, b| b),
        ];
        let all = all_tnums(4);
        let mut checks = 0u64;
        for &a in &all {
            let ma = members(a);
            assert_eq!(a.neg().value & a.neg().mask, 0);
            for &x in &ma {
                assert!(a.neg().contains(x.wrapping_neg()), "neg {a:?} {x}");
            }
            for &b in &all {
                let mb = members(b);
                for &(name, abs, conc) in &ops {
                    let r = abs(a, b);
                    assert_eq!(r.value & r.mask, 0, "{name} ill-formed");
                    for &x in &ma {
                        for &y in &mb {
                            checks += 1;
                            assert!(
                                r.contains(conc(x, y)),
                                "{name}({a:?}, {b:?}) = {r:?} misses {x} op {y}"
                            );
                        }
                    }
                }
                // intersect/overlap: a common member exists iff overlap,
                // and then it is in the intersection.
                let common: Vec<u64> = ma.iter().copied().filter(|&x| b.contains(x)).collect();
                assert_eq!(!common.is_empty(), a.overlap(b), "{a:?} {b:?}");
                for x in common {
                    assert!(a.intersect(b).contains(x));
                }
                // tnum_in agrees with set inclusion.
                assert_eq!(a.in_(b), mb.iter().all(|&y| a.contains(y)));
            }
        }
        assert_eq!(checks, 8 * 256 * 256);
    }
}
