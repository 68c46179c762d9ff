//! Index newtypes and per-instruction marks.

use core::fmt;

macro_rules! index_type {
    ($(#[$meta:meta])* $name:ident, $fmt:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(u32);

        impl $name {
            /// The index, for indexing the corresponding slice of a [`Cfg`](crate::Cfg).
            #[must_use]
            pub const fn index(self) -> usize {
                self.0 as usize
            }

            /// Build from an index. Every index a `Cfg` hands out is below
            /// the instruction limit (1,000,000), so it fits in `u32`.
            pub(crate) const fn new(index: usize) -> Self {
                Self(index as u32)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, $fmt, self.0)
            }
        }
    };
}

index_type!(
    /// A basic block. Blocks are numbered in slot order, so the blocks of
    /// one subprogram are consecutive. Prints as `b3`.
    BlockId,
    "b{}"
);

index_type!(
    /// A subprogram: 0 is the main program, the others are the targets of
    /// bpf-to-bpf calls and function references, in slot order (the
    /// kernel's `subprog_info` order). Prints as the kernel does, `func#1`.
    SubprogId,
    "func#{}"
);

index_type!(
    /// A natural loop of [`Cfg::loops`](crate::Cfg::loops). Prints as `loop2`.
    LoopId,
    "loop{}"
);

/// What the kernel's `check_cfg` marks on an instruction for the main
/// verification pass (`insn_aux_data`), as a small bit set.
///
/// See [`Cfg::marks`](crate::Cfg::marks) for which instructions get which
/// mark.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InsnMarks(u8);

impl InsnMarks {
    /// No mark.
    pub const NONE: InsnMarks = InsnMarks(0);
    /// `mark_prune_point`: `is_state_visited` looks for an equivalent
    /// explored state here.
    pub const PRUNE_POINT: InsnMarks = InsnMarks(1);
    /// `mark_jmp_point`: control can arrive here non-linearly, so the jump
    /// history must record the arrival (precision backtracking needs it).
    pub const JMP_POINT: InsnMarks = InsnMarks(2);
    /// `mark_force_checkpoint`: always store a checkpoint state here
    /// (`may_goto`, callback-calling helpers).
    pub const FORCE_CHECKPOINT: InsnMarks = InsnMarks(4);
    /// `mark_calls_callback`: a helper that calls a callback synchronously
    /// (`bpf_loop`, ...), an implicit loop.
    pub const CALLS_CALLBACK: InsnMarks = InsnMarks(8);

    const NAMES: [(InsnMarks, &'static str); 4] = [
        (InsnMarks::PRUNE_POINT, "prune_point"),
        (InsnMarks::JMP_POINT, "jmp_point"),
        (InsnMarks::FORCE_CHECKPOINT, "force_checkpoint"),
        (InsnMarks::CALLS_CALLBACK, "calls_callback"),
    ];

    /// Whether every mark of `other` is set.
    #[must_use]
    pub const fn contains(self, other: InsnMarks) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no mark is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets of marks.
    #[must_use]
    pub const fn union(self, other: InsnMarks) -> InsnMarks {
        InsnMarks(self.0 | other.0)
    }

    /// `PRUNE_POINT` is set.
    #[must_use]
    pub const fn is_prune_point(self) -> bool {
        self.contains(InsnMarks::PRUNE_POINT)
    }

    /// `JMP_POINT` is set.
    #[must_use]
    pub const fn is_jmp_point(self) -> bool {
        self.contains(InsnMarks::JMP_POINT)
    }

    /// `FORCE_CHECKPOINT` is set.
    #[must_use]
    pub const fn is_force_checkpoint(self) -> bool {
        self.contains(InsnMarks::FORCE_CHECKPOINT)
    }

    /// `CALLS_CALLBACK` is set.
    #[must_use]
    pub const fn calls_callback(self) -> bool {
        self.contains(InsnMarks::CALLS_CALLBACK)
    }
}

impl core::ops::BitOr for InsnMarks {
    type Output = InsnMarks;
    fn bitor(self, rhs: InsnMarks) -> InsnMarks {
        self.union(rhs)
    }
}

/// The kernel's names, space separated (`prune_point jmp_point`); empty
/// when no mark is set.
impl fmt::Display for InsnMarks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (mark, name) in InsnMarks::NAMES {
            if self.contains(mark) {
                if !first {
                    f.write_str(" ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for InsnMarks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsnMarks({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_like_the_kernel() {
        assert_eq!(BlockId::new(3).to_string(), "b3");
        assert_eq!(SubprogId::new(1).to_string(), "func#1");
        assert_eq!(LoopId::new(0).to_string(), "loop0");
        assert_eq!(BlockId::new(7).index(), 7);
    }

    #[test]
    fn marks_are_a_set() {
        let m = InsnMarks::PRUNE_POINT | InsnMarks::FORCE_CHECKPOINT;
        assert!(m.is_prune_point() && m.is_force_checkpoint());
        assert!(!m.is_jmp_point() && !m.calls_callback());
        assert!(m.contains(InsnMarks::PRUNE_POINT));
        assert!(!m.contains(InsnMarks::PRUNE_POINT | InsnMarks::JMP_POINT));
        assert_eq!(m.to_string(), "prune_point force_checkpoint");
        assert_eq!(format!("{m:?}"), "InsnMarks(prune_point force_checkpoint)");
        assert!(InsnMarks::NONE.is_empty());
        assert_eq!(InsnMarks::NONE.to_string(), "");
    }
}
