//! The running Linux kernel as an oracle: a small, safe client of the
//! `bpf()` system call for differential tests and benchmarks.
//!
//! Our verifier, loader and engines reimplement what the kernel does; this
//! crate asks the kernel itself, so tests can compare verdicts, error
//! messages, instruction counts, program tags and return values.
//!
//! * [`Kernel::probe`] checks that `bpf()` works here (loads `r0 = 0; exit`
//!   as a socket filter and as an XDP program) and says why not otherwise
//!   ([`Unavailable`]). Tests call [`probe_or_skip`], which prints
//!   `SKIP: <test>: <reason>` and returns `None` when it does not.
//! * [`Kernel::prog_load`] returns the program fd and the verifier log, or
//!   a [`LoadFailure`] with the errno and the full log;
//!   [`VerifierLog::error_line`] and [`VerifierLog::stats`] read the log the
//!   way tools do.
//! * [`Kernel::map_create`], [`Kernel::map_update`], [`Kernel::map_lookup`],
//!   [`Kernel::map_delete`] for maps programs use.
//! * [`Kernel::prog_test_run`] runs a program on a packet
//!   (`BPF_PROG_TEST_RUN`); [`Kernel::test_run_overhead`] measures the fixed
//!   cost a benchmark subtracts.
//! * [`Kernel::prog_get_info`] reads the tag and `verified_insns`;
//!   [`Kernel::prog_xlated_insns`] the program after the verifier's
//!   rewrites.
//! * The UAPI constant families as typed newtypes with the kernel's names:
//!   [`ProgType`], [`MapType`], [`AttachType`], [`Cmd`], [`XdpAction`], and
//!   the flag sets [`LogLevel`], [`ProgFlags`], [`MapFlags`], [`UpdateFlags`].
//!
//! ```
//! use ebpf_isa::asm::assemble;
//! use ebpf_kernel::{ProgLoad, ProgType, TestRun, XdpAction};
//!
//! let Some(kernel) = ebpf_kernel::probe_or_skip("lib doc") else { return };
//! let insns = assemble("r0 = 2\nexit").unwrap().to_raw();
//! let prog = kernel
//!     .prog_load(ProgLoad { prog_type: ProgType::XDP, insns: &insns, ..ProgLoad::default() })
//!     .unwrap();
//! let run = kernel
//!     .prog_test_run(&prog, TestRun { data_in: &[0; 64], ..TestRun::default() })
//!     .unwrap();
//! assert_eq!(run.retval, XdpAction::PASS.0);
//!
//! // A rejection carries the errno and the kernel's message.
//! let insns = assemble("exit").unwrap().to_raw();
//! let err = kernel
//!     .prog_load(ProgLoad { prog_type: ProgType::XDP, insns: &insns, ..ProgLoad::default() })
//!     .unwrap_err();
//! assert_eq!(err.errno(), Some(ebpf_kernel::Errno::EACCES));
//! assert_eq!(err.error_line(), Some("R0 !read_ok"));
//! ```
//!
//! **Platform.** Builds on Unix, works on Linux (other systems get
//! [`Unavailable::NotLinux`]). Needs root, or `CAP_BPF` with
//! `CAP_NET_ADMIN` (and `CAP_PERFMON` for pointer arithmetic).
//!
//! **Unsafe.** Only the private `sys` module: the raw system call and the
//! `union bpf_attr` layouts, each block with a `// SAFETY:` comment. Every
//! pointer the kernel writes through is built there from a live buffer
//! whose length is the bound passed to the kernel.
//!
//! **Not here:** BTF loading, attaching programs (links, netlink), pinning,
//! `fd_array_cnt` binding, batch map operations, ring buffers. Add them
//! when a test needs them.
#![deny(unsafe_code)]

mod btf;
mod consts;
mod errno;
mod error;
mod kernel;
mod log;
mod map;
mod prog;
#[allow(unsafe_code)]
mod sys;

pub use btf::{BtfFd, BtfLoadFailure};
pub use consts::{
    AttachType, Cmd, LogLevel, MapFlags, MapType, ProgFlags, ProgType, UpdateFlags, XdpAction,
};
pub use errno::Errno;
pub use error::Error;
pub use kernel::{Kernel, TestRun, TestRunOverhead, TestRunResult, Unavailable, probe_or_skip};
pub use log::{VerifierLog, VerifierStats};
pub use map::{MapCreate, MapFd};
pub use prog::{
    BpfFuncInfo, BpfLineInfo, DEFAULT_LOG_SIZE, LoadFailure, LoadedProg, MAX_LOG_SIZE,
    MIN_LOG_SIZE, ProgInfo, ProgLoad,
};
