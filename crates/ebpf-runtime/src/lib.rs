//! What executing eBPF needs, shared by every engine (`ebpf-interp` and the
//! x86-64 JIT): the guest memory model, traps, the helper ABI and registry,
//! and maps.
//!
//! * **Memory** ([`layout`], [`Memory`]): guest addresses are *tagged*: the
//!   top 32 bits select a region (stack, input, packet, read-only data, one
//!   per map), the low 32 bits are the offset. Every access is a checked
//!   slice index, so a program can only ever touch the regions it was given.
//! * **Traps** ([`Trap`]): run-time faults as values, each naming the
//!   instruction (`pc`) and, for memory faults, the address, size and
//!   nearest region.
//! * **Helpers** ([`HelperFn`], [`Helpers`], [`HelperContext`]): helper id
//!   to a safe Rust function over `r1..=r5`; [`Helpers::standard`] has the
//!   kernel's map, time, random, `trace_printk`, tail-call, queue/stack and
//!   ring buffer helpers. Embedders register their own (the conformance
//!   suite's helper 5 is one).
//! * **Maps** ([`Maps`], [`MapDef`]): array, hash, per-CPU array and hash
//!   (one CPU), LRU hash, queue, stack, ring buffer and prog array, validated
//!   at creation like the kernel, with a host-side API.
//! * **Runs** ([`Runtime`], [`Invocation`], [`Session`]): a runtime owns what
//!   outlives a run; an engine turns it plus an invocation into a session
//!   that borrows everything a run touches, without allocating.
//!
//! ```
//! use ebpf_runtime::{Invocation, MapDef, MapType, Runtime, Trap, HelperContext};
//!
//! // The conformance suite's helper 5 returns its first argument.
//! fn echo(_: &mut HelperContext<'_>, args: [u64; 5]) -> Result<u64, Trap> {
//!     Ok(args[0])
//! }
//!
//! let mut rt = Runtime::new();
//! rt.register_helper(5, "echo", echo);
//! let hash = rt.maps_mut().create(MapDef::new("h", MapType::HASH, 4, 4, 16))?;
//!
//! let mut input = [0u8; 8];
//! let mut s = rt.session(Invocation::new(&mut input), 1);
//! // What an engine does for `call 5` and `call bpf_map_update_elem`:
//! assert_eq!(s.call_helper(0, 5, [7, 0, 0, 0, 0])?.value, 7);
//! s.mem.store(ebpf_runtime::INPUT_BASE, [1, 0, 0, 0, 9, 0, 0, 0])?;
//! let key = ebpf_runtime::INPUT_BASE;
//! let ret = s.call_helper(1, 2, [hash.addr(), key, key + 4, 0, 0])?;
//! assert_eq!(ret.value, 0);
//! assert_eq!(rt.maps().lookup(hash, &[1, 0, 0, 0])?, Some(&[9, 0, 0, 0][..]));
//!
//! // An array of maps holds map ids; a program's lookup gets the inner
//! // map's handle, which it passes to the next lookup.
//! let outer = rt.maps_mut().create(MapDef::new("o", MapType::ARRAY_OF_MAPS, 4, 4, 1))?;
//! rt.maps_mut().update(outer, &[0; 4], &hash.0.to_le_bytes(), 0)?;
//! let mut input = [0u8; 4];
//! let mut s = rt.session(Invocation::new(&mut input), 1);
//! let ret = s.call_helper(2, 1, [outer.addr(), ebpf_runtime::INPUT_BASE, 0, 0, 0])?;
//! assert_eq!(ret.value, hash.addr());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Not here:** executing instructions (the engines), verification
//! (`ebpf-verifier`), loading objects (`ebpf-loader`). Helpers here check
//! memory safety only; argument *types* (is this really a map, a reserved
//! ring buffer sample?) are checked when used, and misuse traps.
#![forbid(unsafe_code)]

mod config;
pub mod ctx;
mod helpers;
pub mod layout;
mod maps;
mod memory;
mod runtime;
mod trap;

pub use config::{
    BPF_MAX_LOOPS, Clock, Config, DEFAULT_INSN_BUDGET, MAX_TAIL_CALL_CNT, TailCallOverflow,
};
pub use ctx::{CtxError, CtxKind, CtxLayout, CtxRun, CtxSpec, convert_ctx_access};
pub use helpers::{
    Helper, HelperContext, HelperFn, HelperReturn, Helpers, Invocation, PrintkError, Session,
    format_printk,
};
pub use layout::{
    CODE_BASE, INPUT_BASE, MAX_CALL_FRAMES, PACKET_BASE, RODATA_BASE, RegionInfo, RegionKind,
    STACK_BASE, STACK_FRAME_SIZE, STACK_SIZE,
};
pub use maps::{
    BPF_ANY, BPF_EXIST, BPF_NOEXIST, DEFAULT_MEMORY_LIMIT, MAX_KEY_SIZE, MAX_VALUE_SIZE, MapDef,
    MapError, MapId, MapType, Maps, errno, flags,
};
pub use memory::{Fault, Memory};
pub use runtime::{Outcome, Runtime};
pub use trap::{Access, Trap};
