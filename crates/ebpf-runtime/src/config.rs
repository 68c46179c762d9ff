//! [`Config`]: limits and sources of non-determinism for a [`crate::Runtime`].

/// Default instruction budget: 2^24 slots (about 16.8 million, some 25 ms of
/// interpretation). Enough for every benchmark program by two orders of
/// magnitude; small enough that a runaway loop stops quickly.
pub const DEFAULT_INSN_BUDGET: u64 = 1 << 24;

/// The kernel's tail-call chain limit (`MAX_TAIL_CALL_CNT`).
pub const MAX_TAIL_CALL_CNT: u32 = 33;

/// The kernel's `may_goto` loop budget (`BPF_MAX_LOOPS`, 8 Mi).
pub const BPF_MAX_LOOPS: u64 = 8 * 1024 * 1024;

/// What a tail call beyond [`Config::max_tail_calls`] does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum TailCallOverflow {
    /// As the kernel: `bpf_tail_call` fails, returns `-E2BIG` in `r0`, and
    /// execution continues after the call.
    #[default]
    FallThrough,
    /// Stop the run with [`crate::Trap::TailCallLimit`].
    Trap,
}

/// What `bpf_ktime_get_ns` returns.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Clock {
    /// Nanoseconds of a monotonic host clock since the runtime was created.
    #[default]
    Monotonic,
    /// Deterministic: the `n`-th call (from 0, counted over the runtime's
    /// life) returns `start + n * step`.
    Fixed {
        /// First value.
        start: u64,
        /// Increment per call.
        step: u64,
    },
}

/// Limits and sources of non-determinism. Every engine honours the same
/// fields the same way.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Config {
    /// Maximum number of instruction slots a run may execute (an `ld_imm64`
    /// counts as its two slots). Engines charge executed slots at every
    /// control transfer (taken jump, call, return, tail call), so a run stops
    /// with [`crate::Trap::BudgetExhausted`] at the first transfer after the
    /// count exceeds the budget: at most one straight-line run of slots past
    /// it. `u64::MAX` means no limit.
    pub insn_budget: u64,
    /// Maximum frames: the entry program plus nested bpf-to-bpf calls.
    /// Values above [`crate::MAX_CALL_FRAMES`] (8) are treated as 8, the
    /// number of frames the stack region holds.
    pub max_call_frames: u32,
    /// Maximum tail calls in one run ([`MAX_TAIL_CALL_CNT`]).
    pub max_tail_calls: u32,
    /// What a tail call past the limit does.
    pub tail_call_overflow: TailCallOverflow,
    /// How many times `may_goto` may fall through in one run before it takes
    /// its jump ([`BPF_MAX_LOOPS`]). The kernel keeps one counter per
    /// function invocation; engines here keep one per run.
    pub may_goto_budget: u64,
    /// Seed of `bpf_get_prandom_u32` (a SplitMix64 generator).
    pub prng_seed: u64,
    /// Source of `bpf_ktime_get_ns`.
    pub clock: Clock,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            insn_budget: DEFAULT_INSN_BUDGET,
            max_call_frames: crate::MAX_CALL_FRAMES as u32,
            max_tail_calls: MAX_TAIL_CALL_CNT,
            tail_call_overflow: TailCallOverflow::FallThrough,
            may_goto_budget: BPF_MAX_LOOPS,
            prng_seed: 0x5eed_eb9f,
            clock: Clock::Monotonic,
        }
    }
}

impl Config {
    /// Frames actually available: `max_call_frames` clamped to 1..=8.
    #[must_use]
    #[inline]
    pub fn call_frames(&self) -> u32 {
        self.max_call_frames.clamp(1, crate::MAX_CALL_FRAMES as u32)
    }

    /// A fully deterministic configuration for tests and differential runs:
    /// a fixed clock starting at 0 and stepping by 1000 ns.
    #[must_use]
    pub fn deterministic() -> Config {
        Config {
            clock: Clock::Fixed {
                start: 0,
                step: 1000,
            },
            ..Config::default()
        }
    }
}
