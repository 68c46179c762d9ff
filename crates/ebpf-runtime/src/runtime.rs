//! [`Runtime`]: everything that outlives one run.

use std::time::Instant;

use crate::config::{Clock, Config};
use crate::helpers::{HelperFn, Helpers, Invocation, Session};
use crate::layout::{INPUT_BASE, STACK_SIZE};
use crate::maps::Maps;
use crate::memory::Memory;

/// How a run ended when it did not trap.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Outcome {
    /// `r0` of the entry frame at `exit` (0 when a legacy packet load was out
    /// of range, which ends the program as in the kernel).
    pub r0: u64,
    /// Instruction slots executed (an `ld_imm64` counts as two), the quantity
    /// [`Config::insn_budget`] limits.
    pub insns: u64,
}

/// Host-side state helpers use: trace output, PRNG, clock.
#[derive(Debug)]
pub(crate) struct Host {
    pub(crate) trace: Vec<String>,
    prng: u64,
    clock_calls: u64,
    epoch: Instant,
}

impl Host {
    fn new(seed: u64) -> Host {
        Host {
            trace: Vec::new(),
            prng: seed,
            clock_calls: 0,
            epoch: Instant::now(),
        }
    }

    /// SplitMix64, upper half.
    pub(crate) fn next_random(&mut self) -> u32 {
        self.prng = self.prng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.prng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 32) as u32
    }

    pub(crate) fn ktime_ns(&mut self, clock: Clock) -> u64 {
        let n = self.clock_calls;
        self.clock_calls = n.wrapping_add(1);
        match clock {
            Clock::Monotonic => u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX),
            Clock::Fixed { start, step } => start.wrapping_add(n.wrapping_mul(step)),
        }
    }
}

/// Everything a run needs besides the program and its input: maps, helpers,
/// configuration, the stack, read-only data, trace output. One runtime is
/// reused across runs (and engines): a run allocates nothing.
///
/// ```
/// use ebpf_runtime::{Invocation, MapDef, MapType, Runtime};
///
/// let mut rt = Runtime::new();
/// let counts = rt.maps_mut().create(MapDef::new("counts", MapType::ARRAY, 4, 8, 1))?;
/// rt.maps_mut().update(counts, &0u32.to_le_bytes(), &5u64.to_le_bytes(), 0)?;
/// assert_eq!(rt.maps().lookup(counts, &0u32.to_le_bytes())?, Some(&5u64.to_le_bytes()[..]));
///
/// // What an engine does at the start of a run:
/// let mut input = [1u8, 2, 3];
/// let session = rt.session(Invocation::new(&mut input), 1);
/// assert_eq!(session.args(), [ebpf_runtime::INPUT_BASE, 3, 0, 0, 0]);
/// # Ok::<(), ebpf_runtime::MapError>(())
/// ```
#[derive(Debug)]
pub struct Runtime {
    maps: Maps,
    helpers: Helpers,
    config: Config,
    stack: Vec<u8>,
    rodata: Vec<u8>,
    host: Host,
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Runtime {
    /// A runtime with the default [`Config`] and the standard helpers.
    #[must_use]
    pub fn new() -> Runtime {
        Runtime::with_config(Config::default())
    }

    /// A runtime with `config` and the standard helpers.
    #[must_use]
    pub fn with_config(config: Config) -> Runtime {
        Runtime {
            maps: Maps::new(),
            helpers: Helpers::standard(),
            stack: vec![0; STACK_SIZE],
            rodata: Vec::new(),
            host: Host::new(config.prng_seed),
            config,
        }
    }

    /// The configuration.
    #[must_use]
    #[inline]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Change the configuration (the PRNG is reseeded from
    /// [`Config::prng_seed`]).
    pub fn set_config(&mut self, config: Config) {
        self.host.prng = config.prng_seed;
        self.config = config;
    }

    /// The maps.
    #[must_use]
    pub fn maps(&self) -> &Maps {
        &self.maps
    }

    /// The maps, to create and fill them.
    pub fn maps_mut(&mut self) -> &mut Maps {
        &mut self.maps
    }

    /// The helper registry.
    #[must_use]
    pub fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    /// The helper registry, to add or replace helpers.
    pub fn helpers_mut(&mut self) -> &mut Helpers {
        &mut self.helpers
    }

    /// Register (or replace) helper `id`.
    pub fn register_helper(&mut self, id: u32, name: &'static str, func: HelperFn) {
        self.helpers.register(id, name, func);
    }

    /// Set the read-only data region.
    pub fn set_rodata(&mut self, data: Vec<u8>) {
        self.rodata = data;
    }

    /// The stack region as the last run left it.
    #[must_use]
    pub fn stack(&self) -> &[u8] {
        &self.stack
    }

    /// Every `bpf_trace_printk` output since the last [`Runtime::take_trace`],
    /// one entry per call.
    #[must_use]
    pub fn trace(&self) -> &[String] {
        &self.host.trace
    }

    /// Take the trace output, leaving it empty.
    pub fn take_trace(&mut self) -> Vec<String> {
        core::mem::take(&mut self.host.trace)
    }

    /// The memory of a run over `input` (which is also the packet region),
    /// without the rest of a [`Session`]: the same regions
    /// [`Runtime::session`] gives `Invocation::new(input)`, for an engine's
    /// entry path that builds the session only if the run needs it (a
    /// helper call, a trap).
    #[inline]
    pub fn memory<'a>(&'a mut self, input: &'a mut [u8]) -> Memory<'a> {
        Memory::new(&mut self.stack, input, None, &self.rodata, &mut self.maps)
    }

    /// Start a run: borrow the runtime and the invocation's buffers as one
    /// [`Session`]. `programs` is the size of the engine's program set (tail
    /// calls to indices at or above it fail). The stack is not cleared
    /// between runs (it never holds host data).
    #[inline]
    pub fn session<'a>(&'a mut self, inv: Invocation<'a>, programs: u32) -> Session<'a> {
        let InvocationParts {
            input,
            packet,
            args,
            state,
            entry,
        } = inv.into_parts();
        let args = args.unwrap_or_else(|| {
            let r1 = if input.is_empty() { 0 } else { INPUT_BASE };
            [r1, input.len() as u64, 0, 0, 0]
        });
        let mem = Memory::new(&mut self.stack, input, packet, &self.rodata, &mut self.maps);
        Session::new(
            mem,
            &self.helpers,
            &mut self.host,
            &self.config,
            state,
            programs,
            args,
            entry,
        )
    }
}

/// The fields of an [`Invocation`], for [`Runtime::session`].
pub(crate) struct InvocationParts<'a> {
    pub(crate) input: &'a mut [u8],
    pub(crate) packet: Option<&'a mut [u8]>,
    pub(crate) args: Option<[u64; 5]>,
    pub(crate) state: Option<&'a mut dyn core::any::Any>,
    pub(crate) entry: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prng_is_seeded() {
        let mut a = Host::new(1);
        let mut b = Host::new(1);
        let mut c = Host::new(2);
        let va: Vec<u32> = (0..4).map(|_| a.next_random()).collect();
        let vb: Vec<u32> = (0..4).map(|_| b.next_random()).collect();
        let vc: Vec<u32> = (0..4).map(|_| c.next_random()).collect();
        assert_eq!(va, vb);
        assert_ne!(va, vc);
    }

    #[test]
    fn fixed_clock() {
        let mut h = Host::new(0);
        let c = Clock::Fixed { start: 10, step: 5 };
        assert_eq!([h.ktime_ns(c), h.ktime_ns(c), h.ktime_ns(c)], [10, 15, 20]);
    }

    #[test]
    fn memory_is_the_sessions() {
        use crate::layout::{PACKET_BASE, RODATA_BASE, STACK_BASE};
        let mut rt = Runtime::new();
        rt.set_rodata(vec![7, 8]);
        let mut input = [1u8, 2, 3];
        let mut m = rt.memory(&mut input);
        assert_eq!(m.load_uint(INPUT_BASE + 2, 1), Some(3));
        // The input is also the packet.
        assert_eq!(m.load_uint(PACKET_BASE, 2), Some(0x0201));
        assert_eq!(m.load_uint(RODATA_BASE + 1, 1), Some(8));
        assert_eq!(m.store_uint(STACK_BASE + 8, 8, 42), Ok(()));
        assert_eq!(m.input().len(), 3);
        assert_eq!(rt.stack()[8], 42);
        let s = rt.session(Invocation::new(&mut input), 1);
        assert_eq!(s.mem.load_uint(STACK_BASE + 8, 8), Some(42));
        assert_eq!(s.mem.load_uint(PACKET_BASE + 2, 1), Some(3));
    }

    #[test]
    fn default_args() {
        let mut rt = Runtime::new();
        assert_eq!(rt.session(Invocation::empty(), 1).args(), [0; 5]);
        let mut buf = [0u8; 4];
        let s = rt.session(Invocation::new(&mut buf).args([1, 2, 3, 4, 5]).entry(2), 3);
        assert_eq!(s.args(), [1, 2, 3, 4, 5]);
        assert_eq!(s.entry(), 2);
    }
}
