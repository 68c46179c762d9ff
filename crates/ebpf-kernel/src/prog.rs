//! `BPF_PROG_LOAD` and `BPF_OBJ_GET_INFO_BY_FD` on programs.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use ebpf_isa::RawInsn;

use crate::consts::{AttachType, LogLevel, ProgFlags, ProgType};
use crate::errno::Errno;
use crate::error::Error;
use crate::log::VerifierLog;
use crate::sys;

/// The log buffer [`ProgLoad::log_size`] asks for when left at 0: 64 KiB.
pub const DEFAULT_LOG_SIZE: u32 = 64 * 1024;
/// The smallest log buffer the kernel accepts.
pub const MIN_LOG_SIZE: u32 = 128;
/// The largest log buffer the kernel accepts (`UINT_MAX >> 2`, 1 GiB).
pub const MAX_LOG_SIZE: u32 = u32::MAX >> 2;

/// How often a load interrupted with `EAGAIN` is retried (libbpf's count).
const EAGAIN_RETRIES: u32 = 5;

/// The arguments of `BPF_PROG_LOAD` this crate passes. Build with struct
/// update syntax from [`ProgLoad::default`] (a GPL socket filter, level-1
/// log, no instructions):
///
/// ```
/// use ebpf_kernel::{LogLevel, ProgLoad, ProgType};
/// use ebpf_isa::RawInsn;
///
/// let insns = [RawInsn::new(0xb7, 0, 0, 0, 2), RawInsn::new(0x95, 0, 0, 0, 0)];
/// let load = ProgLoad {
///     prog_type: ProgType::XDP,
///     insns: &insns,
///     log_level: LogLevel::LEVEL2 | LogLevel::STATS,
///     ..ProgLoad::default()
/// };
/// # let _ = load;
/// ```
#[derive(Clone, Debug)]
pub struct ProgLoad<'a> {
    /// `prog_type`.
    pub prog_type: ProgType,
    /// `expected_attach_type`: required by some program types
    /// (`CGROUP_SOCK_ADDR`, `SK_LOOKUP`, `NETFILTER`, ...), ignored by most.
    pub expected_attach_type: AttachType,
    /// The instruction slots.
    pub insns: &'a [RawInsn],
    /// `license`: decides access to GPL-only helpers. Must not contain NUL.
    pub license: &'a str,
    /// `log_level`. At 0 no log is requested, but a rejected load is
    /// retried once at [`LogLevel::LEVEL1`] so that a [`LoadFailure`]
    /// always carries the kernel's message (as libbpf does).
    pub log_level: LogLevel,
    /// The first log buffer size in bytes; 0 means [`DEFAULT_LOG_SIZE`].
    /// It is raised to [`MIN_LOG_SIZE`], and grown (up to
    /// [`MAX_LOG_SIZE`]) while the kernel answers `ENOSPC`.
    pub log_size: u32,
    /// `prog_name`: at most 15 bytes of `[A-Za-z0-9_.]` (the kernel checks
    /// the characters).
    pub prog_name: &'a str,
    /// `kern_version` (only checked by kernels before 5.0, for kprobes).
    pub kern_version: u32,
    /// `prog_flags`.
    pub prog_flags: ProgFlags,
    /// `fd_array`: map (or BTF) fds that `ld_imm64` with `BPF_PSEUDO_MAP_IDX`
    /// or `BPF_PSEUDO_MAP_IDX_VALUE` refers to by index. Passed with
    /// `fd_array_cnt = 0` (the classic meaning: the kernel reads only the
    /// entries the program names).
    pub fd_array: &'a [BorrowedFd<'a>],
    /// `prog_btf_fd`: the program's BTF ([`crate::Kernel::btf_load`]), which
    /// `func_info` and `line_info` refer to. Required by the kernel for
    /// programs that take a function's address (`bpf_loop` callbacks).
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    /// `func_info`: one record per function (subprogram), in order, the
    /// first at slot 0.
    pub func_info: &'a [BpfFuncInfo],
    /// `line_info`: source lines by slot, increasing.
    pub line_info: &'a [BpfLineInfo],
}

/// `struct bpf_func_info`: the BTF `FUNC` type of the function starting at
/// slot `insn_off`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BpfFuncInfo {
    /// Slot where the function starts.
    pub insn_off: u32,
    /// Its `BTF_KIND_FUNC` type id.
    pub type_id: u32,
}

/// `struct bpf_line_info`: the source line of slot `insn_off`, as offsets
/// into the BTF string table.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BpfLineInfo {
    /// Slot.
    pub insn_off: u32,
    /// File name (BTF string offset).
    pub file_name_off: u32,
    /// Source line text (BTF string offset).
    pub line_off: u32,
    /// `line << 10 | column`.
    pub line_col: u32,
}

impl Default for ProgLoad<'_> {
    fn default() -> Self {
        ProgLoad {
            prog_type: ProgType::SOCKET_FILTER,
            expected_attach_type: AttachType::default(),
            insns: &[],
            license: "GPL",
            log_level: LogLevel::LEVEL1,
            log_size: 0,
            prog_name: "",
            kern_version: 0,
            prog_flags: ProgFlags::NONE,
            fd_array: &[],
            prog_btf_fd: None,
            func_info: &[],
            line_info: &[],
        }
    }
}

/// A program the kernel accepted: its fd (closed on drop) and the verifier
/// log of the successful load.
#[derive(Debug)]
pub struct LoadedProg {
    fd: OwnedFd,
    prog_type: ProgType,
    log: VerifierLog,
}

impl LoadedProg {
    /// The verifier log (at level 1 on success, usually just the
    /// `processed ...` line).
    #[must_use]
    pub fn log(&self) -> &VerifierLog {
        &self.log
    }

    /// The program type it was loaded as.
    #[must_use]
    pub fn prog_type(&self) -> ProgType {
        self.prog_type
    }

    /// Give up the program, keeping only its fd.
    #[must_use]
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for LoadedProg {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for LoadedProg {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Why `BPF_PROG_LOAD` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadFailure {
    /// The kernel refused the program: `EACCES` for a verifier rejection,
    /// `EINVAL` for malformed programs or attributes, `E2BIG`, `EPERM`,
    /// ... The log holds the kernel's explanation.
    #[error("BPF_PROG_LOAD failed with {errno}: {}", .log.error_line().unwrap_or("(no log)"))]
    Rejected {
        /// The kernel's error number.
        errno: Errno,
        /// The full verifier log.
        log: VerifierLog,
    },
    /// An argument cannot be passed to the kernel at all.
    #[error("invalid {what} for BPF_PROG_LOAD: {reason}")]
    BadArgument {
        /// Which argument.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl LoadFailure {
    /// The kernel's error number (`None` for [`LoadFailure::BadArgument`]).
    #[must_use]
    pub fn errno(&self) -> Option<Errno> {
        match self {
            LoadFailure::Rejected { errno, .. } => Some(*errno),
            LoadFailure::BadArgument { .. } => None,
        }
    }

    /// The verifier log (`None` for [`LoadFailure::BadArgument`]).
    #[must_use]
    pub fn log(&self) -> Option<&VerifierLog> {
        match self {
            LoadFailure::Rejected { log, .. } => Some(log),
            LoadFailure::BadArgument { .. } => None,
        }
    }

    /// The kernel's error line (see [`VerifierLog::error_line`]).
    #[must_use]
    pub fn error_line(&self) -> Option<&str> {
        self.log().and_then(VerifierLog::error_line)
    }
}

/// Copy a name into the kernel's 16-byte, NUL-terminated field.
pub(crate) fn object_name(name: &str) -> Result<[u8; 16], &'static str> {
    let mut out = [0u8; 16];
    if name.len() > 15 {
        return Err("longer than 15 bytes");
    }
    if name.contains('\0') {
        return Err("contains NUL");
    }
    for (o, b) in out.iter_mut().zip(name.bytes()) {
        *o = b;
    }
    Ok(out)
}

pub(crate) fn load(req: &ProgLoad<'_>) -> Result<LoadedProg, LoadFailure> {
    let bad = |what, reason: &str| LoadFailure::BadArgument {
        what,
        reason: reason.to_string(),
    };
    let prog_name = object_name(req.prog_name).map_err(|r| bad("prog_name", r))?;
    let license = CString::new(req.license).map_err(|_| bad("license", "contains NUL"))?;
    let insns: Vec<[u8; 8]> = req.insns.iter().map(|i| i.to_bytes()).collect();
    let fd_array: Vec<RawFd> = req.fd_array.iter().map(AsRawFd::as_raw_fd).collect();
    let func_info: Vec<[u32; 2]> = req
        .func_info
        .iter()
        .map(|f| [f.insn_off, f.type_id])
        .collect();
    let line_info: Vec<[u32; 4]> = req
        .line_info
        .iter()
        .map(|l| [l.insn_off, l.file_name_off, l.line_off, l.line_col])
        .collect();
    let mut args = sys::ProgLoadArgs {
        prog_type: req.prog_type.0,
        expected_attach_type: req.expected_attach_type.0,
        insns: &insns,
        license: &license,
        log_level: req.log_level.bits(),
        kern_version: req.kern_version,
        prog_flags: req.prog_flags.bits(),
        prog_name,
        fd_array: &fd_array,
        // A valid fd is never negative.
        prog_btf_fd: req
            .prog_btf_fd
            .map_or(0, |fd| fd.as_raw_fd().cast_unsigned()),
        func_info: &func_info,
        line_info: &line_info,
    };
    let first_size = match req.log_size {
        0 => DEFAULT_LOG_SIZE,
        n => n.clamp(MIN_LOG_SIZE, MAX_LOG_SIZE),
    };
    let mut log_size = if args.log_level == 0 { 0 } else { first_size };
    let mut eagain = 0;
    loop {
        let mut buf = vec![0u8; log_size as usize];
        let outcome = sys::prog_load(&args, &mut buf).map_err(|e| match e {
            Error::TooLarge { what, len } => LoadFailure::BadArgument {
                what,
                reason: format!("{len} does not fit in u32"),
            },
            other => LoadFailure::BadArgument {
                what: "arguments",
                reason: other.to_string(),
            },
        })?;
        match outcome.result {
            Ok(fd) => {
                return Ok(LoadedProg {
                    fd,
                    prog_type: req.prog_type,
                    log: VerifierLog::from_kernel(&buf, false),
                });
            }
            Err(Errno::EAGAIN) if eagain < EAGAIN_RETRIES => eagain += 1,
            // The log did not fit: grow to what the kernel says it needs
            // (Linux 6.4+), or double.
            Err(Errno::ENOSPC)
                if log_size != 0
                    && log_size < MAX_LOG_SIZE
                    && (outcome.log_true_size == 0 || outcome.log_true_size > log_size) =>
            {
                log_size = outcome
                    .log_true_size
                    .max(log_size.saturating_mul(2))
                    .min(MAX_LOG_SIZE);
            }
            // Rejected without a log: ask again with one.
            Err(_) if args.log_level == 0 => {
                args.log_level = LogLevel::LEVEL1.bits();
                log_size = first_size;
            }
            Err(errno) => {
                let truncated = errno == Errno::ENOSPC
                    && (outcome.log_true_size == 0 || outcome.log_true_size > log_size);
                return Err(LoadFailure::Rejected {
                    errno,
                    log: VerifierLog::from_kernel(&buf, truncated),
                });
            }
        }
    }
}

/// What `BPF_OBJ_GET_INFO_BY_FD` says about a loaded program.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ProgInfo {
    /// `type`.
    pub prog_type: ProgType,
    /// `id`: the kernel-wide program id.
    pub id: u32,
    /// `tag`: the first 8 bytes of the hash of the program as loaded, with
    /// map fds in `ld_imm64` zeroed (`bpf_prog_calc_tag`): SHA-256 on this
    /// machine's 6.18 kernel, SHA-1 on older kernels (see
    /// `ebpf_loader::TagHash::for_kernel`).
    pub tag: [u8; 8],
    /// `jited_prog_len`: bytes of machine code (0 when not JITed).
    pub jited_prog_len: u32,
    /// `xlated_prog_len`: bytes of the program after the verifier's
    /// rewrites.
    pub xlated_prog_len: u32,
    /// `load_time`: nanoseconds since boot.
    pub load_time_ns: u64,
    /// `created_by_uid`.
    pub created_by_uid: u32,
    /// `nr_map_ids`: maps the program uses.
    pub nr_map_ids: u32,
    /// `name`.
    pub name: String,
    /// `gpl_compatible`.
    pub gpl_compatible: bool,
    /// `btf_id` (0 without BTF).
    pub btf_id: u32,
    /// `run_time_ns` (counted only while `kernel.bpf_stats_enabled`).
    pub run_time_ns: u64,
    /// `run_cnt` (counted only while `kernel.bpf_stats_enabled`).
    pub run_cnt: u64,
    /// `recursion_misses`.
    pub recursion_misses: u64,
    /// `verified_insns`: instructions the verifier processed (the
    /// `processed N insns` of the log).
    pub verified_insns: u32,
}

impl ProgInfo {
    /// The tag as `bpftool` prints it: 16 lowercase hex digits.
    #[must_use]
    pub fn tag_hex(&self) -> String {
        self.tag.iter().map(|b| format!("{b:02x}")).collect()
    }
}

pub(crate) fn info(prog: &LoadedProg) -> Result<ProgInfo, Error> {
    let raw = sys::prog_info(prog.as_fd(), &mut [])?;
    let name_end = raw.name.iter().position(|&b| b == 0).unwrap_or(16);
    Ok(ProgInfo {
        prog_type: ProgType(raw.prog_type),
        id: raw.id,
        tag: raw.tag,
        jited_prog_len: raw.jited_prog_len,
        xlated_prog_len: raw.xlated_prog_len,
        load_time_ns: raw.load_time,
        created_by_uid: raw.created_by_uid,
        nr_map_ids: raw.nr_map_ids,
        name: String::from_utf8_lossy(raw.name.get(..name_end).unwrap_or_default()).into_owned(),
        gpl_compatible: raw.gpl_compatible,
        btf_id: raw.btf_id,
        run_time_ns: raw.run_time_ns,
        run_cnt: raw.run_cnt,
        recursion_misses: raw.recursion_misses,
        verified_insns: raw.verified_insns,
    })
}

pub(crate) fn xlated(prog: &LoadedProg) -> Result<Vec<RawInsn>, Error> {
    let len = sys::prog_info(prog.as_fd(), &mut [])?.xlated_prog_len;
    let mut buf = vec![0u8; len as usize];
    let got = sys::prog_info(prog.as_fd(), &mut buf)?.xlated_prog_len;
    buf.truncate(got as usize);
    Ok(buf
        .chunks_exact(RawInsn::SIZE)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            RawInsn::from_bytes(b)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(&object_name("xdp_prog").unwrap()[..9], b"xdp_prog\0");
        assert!(object_name("0123456789abcde").is_ok());
        assert!(object_name("0123456789abcdef").is_err());
        assert!(object_name("a\0b").is_err());
    }
}
