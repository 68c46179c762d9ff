//! [`Kernel`]: proof that `bpf()` works here, and the entry point of every
//! call.

use std::io::Write;
use std::os::fd::AsFd;
use std::time::Instant;

use ebpf_isa::RawInsn;

use crate::consts::{Cmd, ProgType, UpdateFlags};
use crate::errno::Errno;
use crate::error::Error;
use crate::map::{self, MapCreate, MapFd};
use crate::prog::{self, LoadFailure, LoadedProg, ProgInfo, ProgLoad};
use crate::sys;

/// `r0 = 0; exit`.
const RETURN_ZERO: [RawInsn; 2] = [
    RawInsn::new(0xb7, 0, 0, 0, 0),
    RawInsn::new(0x95, 0, 0, 0, 0),
];

/// Why the kernel cannot serve as an oracle here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unavailable {
    /// `bpf()` is a Linux system call.
    #[error("not Linux: bpf() is a Linux system call")]
    NotLinux,
    /// `ENOSYS`: the kernel was built without `CONFIG_BPF_SYSCALL`, or a
    /// seccomp filter (a container runtime's default) blocks `bpf()`.
    #[error("bpf() returned ENOSYS: kernel without CONFIG_BPF_SYSCALL, or blocked by seccomp")]
    NoSyscall,
    /// `EPERM` (or `EACCES` with no verifier log): not privileged enough.
    /// Loading a socket filter needs `CAP_BPF` unless
    /// `kernel.unprivileged_bpf_disabled` is 0; an XDP program always needs
    /// `CAP_BPF` and `CAP_NET_ADMIN`.
    #[error(
        "bpf() refused {what} with {errno}: needs root (CAP_BPF and CAP_NET_ADMIN); \
         kernel.unprivileged_bpf_disabled={unprivileged_bpf_disabled}"
    )]
    NotPermitted {
        /// Which probe load was refused.
        what: &'static str,
        /// The error number.
        errno: Errno,
        /// `/proc/sys/kernel/unprivileged_bpf_disabled`, or `?`.
        unprivileged_bpf_disabled: String,
    },
    /// The probe program failed for another reason.
    #[error("bpf() probe load of {what} failed: {failure}")]
    ProbeFailed {
        /// Which probe load failed.
        what: &'static str,
        /// The failure.
        failure: LoadFailure,
    },
}

/// A kernel that answered the probe: `bpf()` works and this process may
/// load privileged program types. All calls go through it.
#[derive(Clone, Debug)]
pub struct Kernel {
    release: String,
}

/// One `BPF_PROG_TEST_RUN` request. Build with struct update syntax from
/// [`TestRun::default`] (no data, one run).
#[derive(Clone, Debug, Default)]
pub struct TestRun<'a> {
    /// `data_in`: the packet (XDP and skb programs need at least 14 bytes,
    /// an Ethernet header).
    pub data_in: &'a [u8],
    /// Bytes to offer for `data_out` (the packet after the run); 0 asks
    /// for no copy.
    pub data_out_capacity: usize,
    /// `ctx_in`: the context the program sees (`struct xdp_md`,
    /// `struct __sk_buff`, ...); empty for the default.
    pub ctx_in: &'a [u8],
    /// Bytes to offer for `ctx_out`; 0 asks for no copy.
    pub ctx_out_capacity: usize,
    /// `repeat`: how many times to run (0 counts as 1); the reported
    /// duration is the mean.
    pub repeat: u32,
    /// `flags` (`BPF_F_TEST_RUN_ON_CPU` = 1, `BPF_F_TEST_XDP_LIVE_FRAMES` = 2,
    /// `BPF_F_TEST_SKB_CHECKSUM_COMPLETE` = 4).
    pub flags: u32,
    /// `cpu` (with `BPF_F_TEST_RUN_ON_CPU`).
    pub cpu: u32,
}

/// What one `BPF_PROG_TEST_RUN` returned.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct TestRunResult {
    /// `retval`: the program's `r0` (truncated to 32 bits by the kernel).
    pub retval: u32,
    /// `duration`: mean nanoseconds per run, measured by the kernel around
    /// the program alone (see [`Kernel::test_run_overhead`]).
    pub duration_ns: u32,
    /// The packet after the run (up to `data_out_capacity` bytes).
    pub data_out: Vec<u8>,
    /// The context after the run (up to `ctx_out_capacity` bytes).
    pub ctx_out: Vec<u8>,
}

/// The fixed cost of measuring with `BPF_PROG_TEST_RUN`, from an empty XDP
/// program (`r0 = 0; exit`).
#[derive(Clone, Copy, PartialEq, Debug)]
#[non_exhaustive]
pub struct TestRunOverhead {
    /// `repeat` used.
    pub repeat: u32,
    /// Packet bytes used.
    pub packet_len: usize,
    /// The kernel's `duration` for the empty program: what a benchmark
    /// subtracts from another program's `duration_ns`.
    pub kernel_ns_per_run: u32,
    /// Wall-clock time of the whole system call divided by `repeat`.
    pub wall_ns_per_run: f64,
    /// Wall-clock time of one whole system call: the per-call setup
    /// (copying the packet in and out) and, for XDP with `repeat > 1`, the
    /// XDP dispatcher being switched to the program and back, which costs
    /// milliseconds (about 16 ms on Linux 6.18 in a 2-vCPU VM). Time XDP
    /// programs with `duration_ns`, not with a wall clock around the call.
    pub wall_ns_per_call: f64,
}

impl Kernel {
    /// Check that `bpf()` works here and that this process may load
    /// privileged program types: load `r0 = 0; exit` as a socket filter,
    /// then as an XDP program.
    pub fn probe() -> Result<Kernel, Unavailable> {
        if !cfg!(target_os = "linux") {
            return Err(Unavailable::NotLinux);
        }
        for (what, prog_type) in [
            ("a socket filter", ProgType::SOCKET_FILTER),
            ("an XDP program", ProgType::XDP),
        ] {
            let load = ProgLoad {
                prog_type,
                insns: &RETURN_ZERO,
                ..ProgLoad::default()
            };
            match prog::load(&load) {
                Ok(_) => {}
                Err(failure) => {
                    return Err(match failure.errno() {
                        Some(Errno::ENOSYS) => Unavailable::NoSyscall,
                        Some(errno @ Errno::EPERM) => not_permitted(what, errno),
                        Some(errno @ Errno::EACCES)
                            if failure.log().is_none_or(|l| l.is_empty()) =>
                        {
                            not_permitted(what, errno)
                        }
                        _ => Unavailable::ProbeFailed { what, failure },
                    });
                }
            }
        }
        Ok(Kernel::unprobed())
    }

    /// A handle without the probe, for callers that may lack privilege (an
    /// unprivileged loader comparing the kernel's unprivileged verdicts):
    /// every call is made and fails as the kernel decides, with its errno
    /// (`EPERM` for what needs `CAP_BPF`). [`Kernel::probe`] is the way to
    /// learn whether `bpf()` works at all.
    #[must_use]
    pub fn unprobed() -> Kernel {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        Kernel { release }
    }

    /// The kernel release (`/proc/sys/kernel/osrelease`, e.g.
    /// `6.18.44-...`); empty if unreadable.
    #[must_use]
    pub fn release(&self) -> &str {
        &self.release
    }

    /// `(major, minor)` parsed from [`Kernel::release`].
    #[must_use]
    pub fn version(&self) -> Option<(u32, u32)> {
        let mut parts = self.release.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some((major, minor))
    }

    /// `BPF_PROG_LOAD`: the program fd and the verifier log, or the errno
    /// and the full log. The log buffer grows while the kernel answers
    /// `ENOSPC`; a load interrupted with `EAGAIN` is retried.
    pub fn prog_load(&self, load: ProgLoad<'_>) -> Result<LoadedProg, LoadFailure> {
        prog::load(&load)
    }

    /// `BPF_BTF_LOAD` of a raw `.BTF` blob (header, types, strings), with
    /// the kernel's BTF log when it refuses.
    pub fn btf_load(&self, btf: &[u8]) -> Result<crate::BtfFd, crate::BtfLoadFailure> {
        crate::btf::load(btf)
    }

    /// `BPF_MAP_CREATE`.
    pub fn map_create(&self, create: MapCreate<'_>) -> Result<MapFd, Error> {
        map::create(&create)
    }

    /// `BPF_MAP_UPDATE_ELEM`. `key` must be `key_size` bytes and `value`
    /// [`MapFd::value_len`] bytes.
    pub fn map_update(
        &self,
        map: &MapFd,
        key: &[u8],
        value: &[u8],
        flags: UpdateFlags,
    ) -> Result<(), Error> {
        map.handle().update(key, value, u64::from(flags.bits()))
    }

    /// `BPF_MAP_LOOKUP_ELEM`: the value ([`MapFd::value_len`] bytes), or
    /// `None` when the key is absent.
    pub fn map_lookup(&self, map: &MapFd, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        map.handle().lookup(key)
    }

    /// `BPF_MAP_FREEZE`: the map becomes read-only for user space, and a
    /// `BPF_F_RDONLY_PROG` map constant for the verifier.
    pub fn map_freeze(&self, map: &MapFd) -> Result<(), Error> {
        map.handle().freeze()
    }

    /// `BPF_MAP_DELETE_ELEM`: whether the key was present.
    pub fn map_delete(&self, map: &MapFd, key: &[u8]) -> Result<bool, Error> {
        map.handle().delete(key)
    }

    /// `BPF_PROG_TEST_RUN`.
    pub fn prog_test_run(
        &self,
        prog: &LoadedProg,
        run: TestRun<'_>,
    ) -> Result<TestRunResult, Error> {
        let mut data_out = vec![0u8; run.data_out_capacity];
        let mut ctx_out = vec![0u8; run.ctx_out_capacity];
        let ret = sys::prog_test_run(sys::TestRunArgs {
            prog: prog.as_fd(),
            data_in: run.data_in,
            data_out: &mut data_out,
            ctx_in: run.ctx_in,
            ctx_out: &mut ctx_out,
            repeat: run.repeat,
            flags: run.flags,
            cpu: run.cpu,
        })?;
        match ret {
            Ok(out) => {
                data_out.truncate(out.data_size_out as usize);
                ctx_out.truncate(out.ctx_size_out as usize);
                Ok(TestRunResult {
                    retval: out.retval,
                    duration_ns: out.duration,
                    data_out,
                    ctx_out,
                })
            }
            Err((Errno::ENOSPC, out)) if out.data_size_out as usize > data_out.len() => {
                Err(Error::OutputTooSmall {
                    what: "data_out",
                    needed: out.data_size_out,
                    capacity: data_out.len(),
                })
            }
            Err((Errno::ENOSPC, out)) if out.ctx_size_out as usize > ctx_out.len() => {
                Err(Error::OutputTooSmall {
                    what: "ctx_out",
                    needed: out.ctx_size_out,
                    capacity: ctx_out.len(),
                })
            }
            Err((errno, _)) => Err(Error::Syscall {
                cmd: Cmd::PROG_TEST_RUN,
                errno,
            }),
        }
    }

    /// `BPF_OBJ_GET_INFO_BY_FD` on a program: tag, ids, sizes,
    /// `verified_insns`.
    pub fn prog_get_info(&self, prog: &LoadedProg) -> Result<ProgInfo, Error> {
        prog::info(prog)
    }

    /// The program after the verifier's rewrites, as the kernel reports it
    /// (`bpftool prog dump xlated`): map pointers appear as map ids.
    pub fn prog_xlated_insns(&self, prog: &LoadedProg) -> Result<Vec<RawInsn>, Error> {
        prog::xlated(prog)
    }

    /// Measure the fixed cost of `BPF_PROG_TEST_RUN`: run the empty XDP
    /// program `r0 = 0; exit` on a 64-byte packet `repeat` times, `calls`
    /// times, and keep the fastest call. A benchmark of another program
    /// subtracts `kernel_ns_per_run` from its `duration_ns`.
    pub fn test_run_overhead(&self, repeat: u32, calls: u32) -> Result<TestRunOverhead, Error> {
        let prog = self
            .prog_load(ProgLoad {
                prog_type: ProgType::XDP,
                insns: &RETURN_ZERO,
                ..ProgLoad::default()
            })
            .map_err(|source| Error::ProgLoad { source })?;
        let packet = [0u8; 64];
        let mut best: Option<(u32, f64)> = None;
        for _ in 0..calls.max(1) {
            let start = Instant::now();
            let r = self.prog_test_run(
                &prog,
                TestRun {
                    data_in: &packet,
                    repeat,
                    ..TestRun::default()
                },
            )?;
            let wall = start.elapsed().as_nanos() as f64;
            best = Some(match best {
                Some((k, w)) => (k.min(r.duration_ns), w.min(wall)),
                None => (r.duration_ns, wall),
            });
        }
        let (kernel_ns_per_run, wall_ns_per_call) = best.unwrap_or_default();
        Ok(TestRunOverhead {
            repeat,
            packet_len: packet.len(),
            kernel_ns_per_run,
            wall_ns_per_run: wall_ns_per_call / f64::from(repeat.max(1)),
            wall_ns_per_call,
        })
    }
}

fn not_permitted(what: &'static str, errno: Errno) -> Unavailable {
    Unavailable::NotPermitted {
        what,
        errno,
        unprivileged_bpf_disabled: std::fs::read_to_string(
            "/proc/sys/kernel/unprivileged_bpf_disabled",
        )
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".to_string()),
    }
}

/// For tests: the kernel, or `None` after writing `SKIP: <test>: <reason>`
/// to standard error (not through `eprintln!`, so the test harness does
/// not capture it).
///
/// When the environment variable `EBPF_KERNEL_REQUIRED` is set to anything
/// but `0` or the empty string, an unavailable kernel is a panic instead,
/// so a CI machine that is meant to have one cannot skip silently.
///
/// ```
/// let Some(kernel) = ebpf_kernel::probe_or_skip("doc example") else { return };
/// assert!(!kernel.release().is_empty());
/// ```
#[must_use]
pub fn probe_or_skip(test: &str) -> Option<Kernel> {
    match Kernel::probe() {
        Ok(k) => Some(k),
        Err(reason) => {
            let required =
                std::env::var("EBPF_KERNEL_REQUIRED").is_ok_and(|v| !v.is_empty() && v != "0");
            assert!(
                !required,
                "{test}: EBPF_KERNEL_REQUIRED is set but the kernel is unavailable: {reason}"
            );
            // Straight to the stderr handle: libtest captures `println!`
            // and `eprintln!` of passing tests, and a skip must be seen.
            let _ = writeln!(std::io::stderr(), "SKIP: {test}: {reason}");
            None
        }
    }
}
