//! The helper ABI: [`HelperFn`], the [`Helpers`] registry, and the
//! [`HelperContext`] a helper sees.
//!
//! A helper is a plain Rust function pointer
//! `fn(&mut HelperContext<'_>, [u64; 5]) -> Result<u64, Trap>`: it gets
//! `r1..=r5` and returns the new `r0`, or a [`Trap`] that stops the run. The
//! engine restores nothing: as in the kernel, `r1..=r5` are clobbered by a
//! call only in the sense that programs must not rely on them (engines here
//! leave them unchanged).
//!
//! Engines call helpers through [`Session::call_helper`], which looks the id
//! up, builds the context, and reports a tail-call request. A JIT does the
//! same from an `extern "C"` trampoline of its own that receives a pointer to
//! the [`Session`], so the helper ABI stays a safe Rust signature.

mod printk;
mod standard;

use core::any::Any;

pub use printk::{PrintkError, format_printk};

use crate::config::{Config, TailCallOverflow};
use crate::layout::{self, RegionKind};
use crate::maps::{MapError, MapId, Maps};
use crate::memory::Memory;
use crate::runtime::Host;
use crate::trap::{Access, Trap};

/// A helper function: `r1..=r5` in, `r0` out.
pub type HelperFn = fn(&mut HelperContext<'_>, [u64; 5]) -> Result<u64, Trap>;

/// A registered helper.
#[derive(Clone, Copy, Debug)]
pub struct Helper {
    /// Name for diagnostics (`bpf_map_lookup_elem`).
    pub name: &'static str,
    /// The function.
    pub func: HelperFn,
}

/// Ids below this are kept in a directly indexed table.
const DENSE: u32 = 1 << 12;

/// The helper registry: id to function.
#[derive(Clone, Debug, Default)]
pub struct Helpers {
    dense: Vec<Option<Helper>>,
    sparse: Vec<(u32, Helper)>,
}

impl Helpers {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Helpers {
        Helpers::default()
    }

    /// The standard helpers:
    ///
    /// | id | helper |
    /// |---|---|
    /// | 1 | `bpf_map_lookup_elem` |
    /// | 2 | `bpf_map_update_elem` (`BPF_ANY`/`NOEXIST`/`EXIST`, kernel errno values) |
    /// | 3 | `bpf_map_delete_elem` |
    /// | 5 | `bpf_ktime_get_ns` ([`crate::Clock`]) |
    /// | 6 | `bpf_trace_printk` ([`format_printk`]) |
    /// | 7 | `bpf_get_prandom_u32` (seeded SplitMix64) |
    /// | 8 | `bpf_get_smp_processor_id` (always 0) |
    /// | 12 | `bpf_tail_call` |
    /// | 87, 88, 89 | `bpf_map_push_elem`, `bpf_map_pop_elem`, `bpf_map_peek_elem` |
    /// | 130..=133 | `bpf_ringbuf_output`, `_reserve`, `_submit`, `_discard` |
    ///
    /// Map helpers trap ([`Trap::HelperError`]) when the map argument is not
    /// a map handle or the map type does not support the operation (what the
    /// kernel's verifier rejects); run-time failures return `-errno`.
    #[must_use]
    pub fn standard() -> Helpers {
        let mut h = Helpers::new();
        for &(id, name, func) in standard::STANDARD {
            h.register(id, name, func);
        }
        h
    }

    /// Register (or replace) helper `id`; returns the previous one.
    pub fn register(&mut self, id: u32, name: &'static str, func: HelperFn) -> Option<Helper> {
        let new = Helper { name, func };
        if id < DENSE {
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, None);
            }
            return self.dense[i].replace(new);
        }
        match self.sparse.iter_mut().find(|(i, _)| *i == id) {
            Some((_, h)) => Some(core::mem::replace(h, new)),
            None => {
                self.sparse.push((id, new));
                None
            }
        }
    }

    /// Remove helper `id`; returns it.
    pub fn unregister(&mut self, id: u32) -> Option<Helper> {
        if id < DENSE {
            return self.dense.get_mut(id as usize)?.take();
        }
        let pos = self.sparse.iter().position(|(i, _)| *i == id)?;
        Some(self.sparse.swap_remove(pos).1)
    }

    /// The helper registered for `id`.
    #[inline]
    #[must_use]
    pub fn get(&self, id: u32) -> Option<&Helper> {
        if id < DENSE {
            return self.dense.get(id as usize)?.as_ref();
        }
        self.sparse.iter().find(|(i, _)| *i == id).map(|(_, h)| h)
    }

    /// Registered ids, ascending.
    #[must_use]
    pub fn ids(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .dense
            .iter()
            .enumerate()
            .filter(|(_, h)| h.is_some())
            .map(|(i, _)| i as u32)
            .chain(self.sparse.iter().map(|(i, _)| *i))
            .collect();
        v.sort_unstable();
        v
    }
}

/// How the engine should continue after a helper returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HelperReturn {
    /// The new `r0`.
    pub value: u64,
    /// A successful `bpf_tail_call`: continue at the entry of this program
    /// (an index into the engine's program set), in the current frame, with
    /// `r1` = the helper's first argument.
    pub tail_call: Option<u32>,
}

/// How a run is entered: the input buffer, an optional packet, the argument
/// registers, the entry program, and embedder state for custom helpers.
///
/// By default (the uBPF convention the conformance suite needs)
/// `r1` = the input's address (0 if the input is empty), `r2` = its length,
/// `r3..=r5` = 0. [`Invocation::args`] sets `r1..=r5` explicitly for
/// context-style programs; [`crate::layout`] gives the addresses to use.
#[derive(Debug)]
pub struct Invocation<'a> {
    input: &'a mut [u8],
    packet: Option<&'a mut [u8]>,
    args: Option<[u64; 5]>,
    state: Option<&'a mut dyn Any>,
    entry: u32,
}

impl<'a> Invocation<'a> {
    /// Run with `input` as the input region.
    #[inline]
    pub fn new(input: &'a mut [u8]) -> Invocation<'a> {
        Invocation {
            input,
            packet: None,
            args: None,
            state: None,
            entry: 0,
        }
    }

    /// Run with an empty input.
    #[must_use]
    pub fn empty() -> Invocation<'static> {
        Invocation::new(&mut [])
    }

    /// Give the run a packet region (otherwise the input serves as packet).
    #[must_use]
    #[inline]
    pub fn packet(mut self, packet: &'a mut [u8]) -> Invocation<'a> {
        self.packet = Some(packet);
        self
    }

    /// Set `r1..=r5` explicitly.
    #[must_use]
    #[inline]
    pub fn args(mut self, regs: [u64; 5]) -> Invocation<'a> {
        self.args = Some(regs);
        self
    }

    /// Embedder state that custom helpers reach with
    /// [`HelperContext::state`].
    #[must_use]
    #[inline]
    pub fn state(mut self, state: &'a mut dyn Any) -> Invocation<'a> {
        self.state = Some(state);
        self
    }

    /// Start at program `index` of the engine's program set (default 0).
    #[must_use]
    #[inline]
    pub fn entry(mut self, index: u32) -> Invocation<'a> {
        self.entry = index;
        self
    }

    #[inline]
    pub(crate) fn into_parts(self) -> crate::runtime::InvocationParts<'a> {
        crate::runtime::InvocationParts {
            input: self.input,
            packet: self.packet,
            args: self.args,
            state: self.state,
            entry: self.entry,
        }
    }
}

/// One run's view of a [`crate::Runtime`]: memory, helpers, host state. Both
/// engines drive a run through it.
#[derive(Debug)]
pub struct Session<'a> {
    /// The run's memory.
    pub mem: Memory<'a>,
    helpers: &'a Helpers,
    host: &'a mut Host,
    config: &'a Config,
    state: Option<&'a mut dyn Any>,
    tail_calls: u32,
    programs: u32,
    args: [u64; 5],
    entry: u32,
}

impl<'a> Session<'a> {
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn new(
        mem: Memory<'a>,
        helpers: &'a Helpers,
        host: &'a mut Host,
        config: &'a Config,
        inv_state: Option<&'a mut dyn Any>,
        programs: u32,
        args: [u64; 5],
        entry: u32,
    ) -> Session<'a> {
        Session {
            mem,
            helpers,
            host,
            config,
            state: inv_state,
            tail_calls: 0,
            programs,
            args,
            entry,
        }
    }

    /// Initial `r1..=r5`.
    #[must_use]
    #[inline]
    pub fn args(&self) -> [u64; 5] {
        self.args
    }

    /// The entry program index.
    #[must_use]
    #[inline]
    pub fn entry(&self) -> u32 {
        self.entry
    }

    /// The runtime's configuration.
    #[must_use]
    #[inline]
    pub fn config(&self) -> &'a Config {
        self.config
    }

    /// Tail calls taken so far in this run.
    #[must_use]
    pub fn tail_calls(&self) -> u32 {
        self.tail_calls
    }

    /// Call helper `id` for the instruction at `pc`.
    #[inline]
    pub fn call_helper(&mut self, pc: u32, id: u32, args: [u64; 5]) -> Result<HelperReturn, Trap> {
        let Some(helper) = self.helpers.get(id) else {
            return Err(Trap::UnknownHelper {
                pc,
                id: i64::from(id),
            });
        };
        let mut ctx = HelperContext {
            mem: self.mem.reborrow(),
            host: self.host,
            config: self.config,
            state: match &mut self.state {
                Some(s) => Some(&mut **s),
                None => None,
            },
            pc,
            id,
            tail_calls: &mut self.tail_calls,
            programs: self.programs,
            tail_call: None,
        };
        let value = (helper.func)(&mut ctx, args)?;
        Ok(HelperReturn {
            value,
            tail_call: ctx.tail_call,
        })
    }
}

/// What a helper can reach: guest memory (checked), maps, the trace buffer,
/// the PRNG and clock, the tail-call slot, and the embedder's state.
pub struct HelperContext<'s> {
    mem: Memory<'s>,
    host: &'s mut Host,
    config: &'s Config,
    state: Option<&'s mut dyn Any>,
    pc: u32,
    id: u32,
    tail_calls: &'s mut u32,
    programs: u32,
    tail_call: Option<u32>,
}

impl core::fmt::Debug for HelperContext<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HelperContext")
            .field("pc", &self.pc)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<'s> HelperContext<'s> {
    /// Slot index of the `call`.
    #[must_use]
    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// The id the helper was called as.
    #[must_use]
    pub fn helper_id(&self) -> u32 {
        self.id
    }

    /// A [`Trap::HelperError`] for this call.
    #[must_use]
    pub fn error(&self, message: impl Into<String>) -> Trap {
        Trap::HelperError {
            pc: self.pc,
            helper: self.id,
            message: message.into(),
        }
    }

    /// The run's memory, for direct use.
    pub fn memory(&mut self) -> &mut Memory<'s> {
        &mut self.mem
    }

    /// `len` bytes of guest memory at `addr`.
    pub fn read(&self, addr: u64, len: u64) -> Result<&[u8], Trap> {
        self.mem.slice(addr, len).ok_or_else(|| {
            self.mem.trap(
                crate::Fault::OutOfBounds,
                self.pc,
                addr,
                len,
                Access::Read,
                None,
            )
        })
    }

    /// Write `bytes` to guest memory at `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
        match self.mem.slice_mut(addr, bytes.len() as u64) {
            Ok(dst) => {
                dst.copy_from_slice(bytes);
                Ok(())
            }
            Err(f) => Err(self
                .mem
                .trap(f, self.pc, addr, bytes.len() as u64, Access::Write, None)),
        }
    }

    /// The NUL-terminated string at `addr`, at most `max` bytes, without the
    /// NUL; stops at the end of the region. `None` if `addr` is unmapped.
    #[must_use]
    pub fn read_cstr(&self, addr: u64, max: usize) -> Option<&[u8]> {
        let region = self.mem.region(layout::tag(addr))?;
        let rest = region.get(layout::offset(addr) as usize..)?;
        let rest = &rest[..rest.len().min(max)];
        Some(
            rest.iter()
                .position(|&b| b == 0)
                .map_or(rest, |n| &rest[..n]),
        )
    }

    /// The maps.
    pub fn maps(&mut self) -> &mut Maps {
        self.mem.maps
    }

    /// The map a handle argument names, or a [`Trap::HelperError`].
    pub fn map_arg(&self, addr: u64) -> Result<MapId, Trap> {
        self.mem
            .maps
            .from_handle(addr)
            .ok_or_else(|| self.error(format!("{addr:#x} is not a map")))
    }

    /// The map and sample offset of a pointer into a map's region.
    #[must_use]
    pub fn map_pointer(&self, addr: u64) -> Option<(MapId, u32)> {
        match RegionKind::from_tag(layout::tag(addr)) {
            RegionKind::Map(i) if (i as usize) < self.mem.maps.len() => {
                Some((MapId(i), layout::offset(addr)))
            }
            _ => None,
        }
    }

    /// Map a map operation's result to a helper return: `-errno` for
    /// run-time failures, a trap for misuse the verifier would reject.
    pub fn map_result(&self, r: Result<(), MapError>) -> Result<u64, Trap> {
        match r {
            Ok(()) => Ok(0),
            Err(e @ (MapError::Unsupported { .. } | MapError::NoSuchMap { .. })) => {
                Err(self.error(e.to_string()))
            }
            Err(e) => Ok(e.helper_ret()),
        }
    }

    /// Append one record to the trace output.
    pub fn trace(&mut self, text: String) {
        self.host.trace.push(text);
    }

    /// Next value of the run-time PRNG.
    pub fn prandom_u32(&mut self) -> u32 {
        self.host.next_random()
    }

    /// `bpf_ktime_get_ns`.
    pub fn ktime_ns(&mut self) -> u64 {
        self.host.ktime_ns(self.config.clock)
    }

    /// The embedder state given to [`Invocation::state`], if it is a `T`.
    pub fn state<T: Any>(&mut self) -> Option<&mut T> {
        self.state.as_deref_mut()?.downcast_mut::<T>()
    }

    /// The embedder state as a `T`, or a [`Trap::HelperError`] saying it is
    /// missing.
    pub fn require_state<T: Any>(&mut self) -> Result<&mut T, Trap> {
        let (pc, helper) = (self.pc, self.id);
        self.state().ok_or_else(|| Trap::HelperError {
            pc,
            helper,
            message: format!("no embedder state of type {}", core::any::type_name::<T>()),
        })
    }

    /// Ask the engine to tail-call program `prog` when this helper returns.
    /// Applies the kernel's limit: returns `Ok(true)` if the call will
    /// happen, `Ok(false)` if it fails (no such program, or the chain limit
    /// with [`TailCallOverflow::FallThrough`]), and a trap past the limit
    /// with [`TailCallOverflow::Trap`].
    pub fn request_tail_call(&mut self, prog: u32) -> Result<bool, Trap> {
        if prog >= self.programs {
            return Ok(false);
        }
        if *self.tail_calls >= self.config.max_tail_calls {
            return match self.config.tail_call_overflow {
                TailCallOverflow::FallThrough => Ok(false),
                TailCallOverflow::Trap => Err(Trap::TailCallLimit {
                    pc: self.pc,
                    limit: self.config.max_tail_calls,
                }),
            };
        }
        *self.tail_calls += 1;
        self.tail_call = Some(prog);
        Ok(true)
    }

    /// Tail calls taken so far in this run.
    #[must_use]
    pub fn tail_calls(&self) -> u32 {
        *self.tail_calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(_: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
        Ok(a[0])
    }

    #[test]
    fn registry() {
        let mut r = Helpers::new();
        assert!(r.get(5).is_none());
        assert!(r.register(5, "five", h).is_none());
        assert!(r.register(5, "five", h).is_some());
        assert!(r.register(0x1234_5678, "big", h).is_none());
        assert_eq!(r.get(0x1234_5678).map(|h| h.name), Some("big"));
        assert_eq!(r.ids(), vec![5, 0x1234_5678]);
        assert!(r.unregister(0x1234_5678).is_some());
        assert!(r.unregister(5).is_some());
        assert!(r.unregister(5).is_none());
        assert!(r.ids().is_empty());
        let s = Helpers::standard();
        assert_eq!(
            s.ids(),
            vec![1, 2, 3, 5, 6, 7, 8, 12, 87, 88, 89, 130, 131, 132, 133]
        );
        assert_eq!(s.get(1).map(|h| h.name), Some("bpf_map_lookup_elem"));
    }
}
