//! The only module with `unsafe`: the `bpf()` system call and the
//! `union bpf_attr` layouts it reads.
//!
//! **Soundness argument.** The kernel *writes* into our memory through
//! exactly these pointers: the verifier log buffer (`log_buf`, bounded by
//! `log_size`), map lookup values (`value`, bounded by the map's value size
//! as the kernel computes it), test-run outputs (`data_out`, `ctx_out`,
//! bounded by `data_size_out`, `ctx_size_out`) and object info (`info`,
//! bounded by `info_len`; `xlated_prog_insns`, bounded by
//! `xlated_prog_len`). Every such pointer is built in this module, from a
//! live `&mut [u8]` whose length is the bound we pass, or (for map values)
//! from a buffer sized by [`MapHandle`], whose sizes come from the kernel
//! itself. Everything else the kernel only reads. No function here takes a
//! raw pointer or an address from its caller.
//!
//! **Layouts.** Each attr struct is the prefix of `union bpf_attr` that one
//! command uses, `repr(C)`, with explicit padding fields so every byte is
//! initialised (zero unless set). The kernel accepts any `size` up to its
//! own `sizeof(union bpf_attr)` and zero-fills the rest, so passing a prefix
//! is the documented way to talk to older and newer kernels alike. The
//! offsets are checked at compile time against `include/uapi/linux/bpf.h`
//! (6.18).

use std::ffi::CStr;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::consts::{Cmd, MapType};
use crate::errno::Errno;
use crate::error::Error;

/// `BPF_PROG_LOAD`, up to `fd_array_cnt` (Linux 6.14).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    /// Output (Linux 6.4): the log size the kernel needed, including the
    /// terminating NUL.
    log_true_size: u32,
    prog_token_fd: i32,
    fd_array_cnt: u32,
}

const _: () = {
    assert!(size_of::<ProgLoadAttr>() == 152);
    assert!(offset_of!(ProgLoadAttr, insns) == 8);
    assert!(offset_of!(ProgLoadAttr, log_level) == 24);
    assert!(offset_of!(ProgLoadAttr, log_buf) == 32);
    assert!(offset_of!(ProgLoadAttr, prog_name) == 48);
    assert!(offset_of!(ProgLoadAttr, expected_attach_type) == 68);
    assert!(offset_of!(ProgLoadAttr, func_info) == 80);
    assert!(offset_of!(ProgLoadAttr, line_info) == 96);
    assert!(offset_of!(ProgLoadAttr, attach_prog_fd) == 112);
    assert!(offset_of!(ProgLoadAttr, fd_array) == 120);
    assert!(offset_of!(ProgLoadAttr, core_relo_rec_size) == 136);
    assert!(offset_of!(ProgLoadAttr, log_true_size) == 140);
    assert!(offset_of!(ProgLoadAttr, prog_token_fd) == 144);
    assert!(offset_of!(ProgLoadAttr, fd_array_cnt) == 148);
};

/// `BPF_BTF_LOAD`, up to `btf_token_fd` (Linux 6.9).
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    /// Output: the log size the kernel needed.
    btf_log_true_size: u32,
    btf_flags: u32,
    btf_token_fd: i32,
}

const _: () = {
    assert!(size_of::<BtfLoadAttr>() == 40);
    assert!(offset_of!(BtfLoadAttr, btf_size) == 16);
    assert!(offset_of!(BtfLoadAttr, btf_log_true_size) == 28);
    assert!(offset_of!(BtfLoadAttr, btf_token_fd) == 36);
};

/// `BPF_MAP_CREATE`, up to `map_token_fd` (Linux 6.9).
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
    value_type_btf_obj_fd: i32,
    map_token_fd: i32,
}

const _: () = {
    assert!(size_of::<MapCreateAttr>() == 80);
    assert!(offset_of!(MapCreateAttr, inner_map_fd) == 20);
    assert!(offset_of!(MapCreateAttr, map_name) == 28);
    assert!(offset_of!(MapCreateAttr, map_ifindex) == 44);
    assert!(offset_of!(MapCreateAttr, btf_vmlinux_value_type_id) == 60);
    assert!(offset_of!(MapCreateAttr, map_extra) == 64);
    assert!(offset_of!(MapCreateAttr, map_token_fd) == 76);
};

/// `BPF_MAP_{LOOKUP,UPDATE,DELETE}_ELEM`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

const _: () = {
    assert!(size_of::<MapElemAttr>() == 32);
    assert!(offset_of!(MapElemAttr, key) == 8);
    assert!(offset_of!(MapElemAttr, value) == 16);
    assert!(offset_of!(MapElemAttr, flags) == 24);
};

/// `BPF_PROG_TEST_RUN` (the `test` member of the union).
#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

const _: () = {
    assert!(size_of::<TestRunAttr>() == 80);
    assert!(offset_of!(TestRunAttr, data_in) == 16);
    assert!(offset_of!(TestRunAttr, repeat) == 32);
    assert!(offset_of!(TestRunAttr, ctx_in) == 48);
    assert!(offset_of!(TestRunAttr, flags) == 64);
    assert!(offset_of!(TestRunAttr, batch_size) == 72);
};

/// `BPF_OBJ_GET_INFO_BY_FD` (the `info` member of the union).
#[repr(C)]
#[derive(Default)]
struct InfoByFdAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

const _: () = assert!(size_of::<InfoByFdAttr>() == 16);

/// `struct bpf_prog_info` (Linux 5.16 and later; 232 bytes).
#[repr(C)]
#[derive(Default)]
struct ProgInfoAttr {
    prog_type: u32,
    id: u32,
    tag: [u8; 8],
    jited_prog_len: u32,
    xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    load_time: u64,
    created_by_uid: u32,
    nr_map_ids: u32,
    map_ids: u64,
    name: [u8; 16],
    ifindex: u32,
    /// Bit 0: `gpl_compatible`.
    gpl_bits: u32,
    netns_dev: u64,
    netns_ino: u64,
    nr_jited_ksyms: u32,
    nr_jited_func_lens: u32,
    jited_ksyms: u64,
    jited_func_lens: u64,
    btf_id: u32,
    func_info_rec_size: u32,
    func_info: u64,
    nr_func_info: u32,
    nr_line_info: u32,
    line_info: u64,
    jited_line_info: u64,
    nr_jited_line_info: u32,
    line_info_rec_size: u32,
    jited_line_info_rec_size: u32,
    nr_prog_tags: u32,
    prog_tags: u64,
    run_time_ns: u64,
    run_cnt: u64,
    recursion_misses: u64,
    verified_insns: u32,
    attach_btf_obj_id: u32,
    attach_btf_id: u32,
    _pad: u32,
}

const _: () = {
    assert!(size_of::<ProgInfoAttr>() == 232);
    assert!(offset_of!(ProgInfoAttr, tag) == 8);
    assert!(offset_of!(ProgInfoAttr, xlated_prog_insns) == 32);
    assert!(offset_of!(ProgInfoAttr, name) == 64);
    assert!(offset_of!(ProgInfoAttr, netns_dev) == 88);
    assert!(offset_of!(ProgInfoAttr, btf_id) == 128);
    assert!(offset_of!(ProgInfoAttr, run_time_ns) == 192);
    assert!(offset_of!(ProgInfoAttr, verified_insns) == 216);
    assert!(offset_of!(ProgInfoAttr, attach_btf_id) == 224);
};

/// The prefix of `struct bpf_map_info` we need.
#[repr(C)]
#[derive(Default)]
struct MapInfoAttr {
    map_type: u32,
    id: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
}

const _: () = assert!(size_of::<MapInfoAttr>() == 24);

/// A `u64` the kernel reads as a user pointer; null for an empty slice so
/// the kernel sees "absent" rather than a dangling address.
fn ptr_of(bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        bytes.as_ptr() as u64
    }
}

/// Like [`ptr_of`], for a buffer the kernel writes into.
fn mut_ptr_of(bytes: &mut [u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        bytes.as_mut_ptr() as u64
    }
}

fn len_u32(len: usize, what: &'static str) -> Result<u32, Error> {
    u32::try_from(len).map_err(|_| Error::TooLarge { what, len })
}

fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    // A valid fd is never negative.
    fd.as_raw_fd().cast_unsigned()
}

/// `bpf(cmd, attr, size_of::<T>())`: the return value, or the errno.
///
/// # Safety
///
/// `T` must be one of this module's attr structs, matching `cmd`, and every
/// pointer stored in `attr` that the kernel writes through must point to
/// live memory at least as large as the bound stored beside it; pointers
/// the kernel only reads must point to live memory of the size stored
/// beside them (or be null with a zero size). The borrows those pointers
/// came from must outlive this call.
unsafe fn sys_bpf<T>(cmd: Cmd, attr: &mut T) -> Result<i32, Errno> {
    #[cfg(target_os = "linux")]
    {
        let size = size_of::<T>() as libc::c_uint;
        // SAFETY: `attr` is an exclusive borrow of a fully initialised
        // repr(C) struct of exactly `size` bytes, alive for the whole call;
        // the kernel reads and writes at most `size` bytes of it. The
        // pointers inside satisfy this function's contract (caller's duty).
        let ret = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                libc::c_long::from(cmd.0.cast_signed()),
                std::ptr::from_mut(attr).cast::<libc::c_void>(),
                size,
            )
        };
        if ret < 0 {
            Err(Errno::last())
        } else {
            // Every bpf() command returns 0 or an fd, both fit in i32.
            i32::try_from(ret).map_err(|_| Errno::ERANGE)
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (cmd, attr);
        Err(Errno::ENOSYS)
    }
}

/// Wrap a new fd returned by the kernel.
fn owned(fd: i32) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful bpf() call that
    // creates a new file descriptor (PROG_LOAD, MAP_CREATE); nothing else
    // in this process knows it, so this OwnedFd is its only owner.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Arguments of one `BPF_PROG_LOAD` attempt.
pub(crate) struct ProgLoadArgs<'a> {
    pub(crate) prog_type: u32,
    pub(crate) expected_attach_type: u32,
    /// Wire slots, 8 bytes each.
    pub(crate) insns: &'a [[u8; 8]],
    pub(crate) license: &'a CStr,
    pub(crate) log_level: u32,
    pub(crate) kern_version: u32,
    pub(crate) prog_flags: u32,
    /// NUL-padded; at most 15 bytes of name.
    pub(crate) prog_name: [u8; 16],
    pub(crate) fd_array: &'a [RawFd],
    /// `prog_btf_fd` (0: none).
    pub(crate) prog_btf_fd: u32,
    /// `bpf_func_info` records, 8 bytes each.
    pub(crate) func_info: &'a [[u32; 2]],
    /// `bpf_line_info` records, 16 bytes each.
    pub(crate) line_info: &'a [[u32; 4]],
}

/// What one `BPF_PROG_LOAD` attempt returned.
pub(crate) struct ProgLoadOutcome {
    pub(crate) result: Result<OwnedFd, Errno>,
    /// `log_true_size` as the kernel wrote it back (0 if it did not).
    pub(crate) log_true_size: u32,
}

/// One `BPF_PROG_LOAD`, the log written into `log` (whose length is passed
/// as `log_size`; empty means no log).
pub(crate) fn prog_load(args: &ProgLoadArgs<'_>, log: &mut [u8]) -> Result<ProgLoadOutcome, Error> {
    let insn_cnt = len_u32(args.insns.len(), "instruction count")?;
    let log_size = len_u32(log.len(), "log buffer")?;
    let _ = len_u32(args.fd_array.len(), "fd_array")?;
    let func_info_cnt = len_u32(args.func_info.len(), "func_info")?;
    let line_info_cnt = len_u32(args.line_info.len(), "line_info")?;
    let mut attr = ProgLoadAttr {
        prog_btf_fd: args.prog_btf_fd,
        func_info_rec_size: if func_info_cnt == 0 { 0 } else { 8 },
        func_info: if args.func_info.is_empty() {
            0
        } else {
            args.func_info.as_ptr() as u64
        },
        func_info_cnt,
        line_info_rec_size: if line_info_cnt == 0 { 0 } else { 16 },
        line_info: if args.line_info.is_empty() {
            0
        } else {
            args.line_info.as_ptr() as u64
        },
        line_info_cnt,
        prog_type: args.prog_type,
        insn_cnt,
        insns: if args.insns.is_empty() {
            0
        } else {
            args.insns.as_ptr() as u64
        },
        license: args.license.as_ptr() as u64,
        log_level: if log.is_empty() { 0 } else { args.log_level },
        log_size,
        log_buf: mut_ptr_of(log),
        kern_version: args.kern_version,
        prog_flags: args.prog_flags,
        prog_name: args.prog_name,
        expected_attach_type: args.expected_attach_type,
        fd_array: if args.fd_array.is_empty() {
            0
        } else {
            args.fd_array.as_ptr() as u64
        },
        ..ProgLoadAttr::default()
    };
    // SAFETY: `insns` points to `insn_cnt` 8-byte slots and `license` to a
    // NUL-terminated string, both borrowed from `args` for this call and
    // only read. `log_buf` is `log`, exclusively borrowed, `log_size` bytes
    // long; the kernel writes at most `log_size` bytes there. `fd_array`
    // is only read, at indices the program names; a bad index reads our
    // memory or faults (EFAULT), it never writes. `func_info` and
    // `line_info` point to `*_cnt` records of `*_rec_size` bytes (8 and 16:
    // `[u32; 2]` and `[u32; 4]`), borrowed from `args`, only read.
    let ret = unsafe { sys_bpf(Cmd::PROG_LOAD, &mut attr) };
    Ok(ProgLoadOutcome {
        result: ret.map(owned),
        log_true_size: attr.log_true_size,
    })
}

/// What one `BPF_BTF_LOAD` attempt returned.
pub(crate) struct BtfLoadOutcome {
    pub(crate) result: Result<OwnedFd, Errno>,
    /// `btf_log_true_size` as the kernel wrote it back.
    pub(crate) log_true_size: u32,
}

/// One `BPF_BTF_LOAD` of `btf`, the log (level 1 when `log` is not empty)
/// written into `log`.
pub(crate) fn btf_load(btf: &[u8], log: &mut [u8]) -> Result<BtfLoadOutcome, Error> {
    let btf_size = len_u32(btf.len(), "BTF")?;
    let btf_log_size = len_u32(log.len(), "log buffer")?;
    let mut attr = BtfLoadAttr {
        btf: ptr_of(btf),
        btf_log_buf: mut_ptr_of(log),
        btf_size,
        btf_log_size,
        btf_log_level: u32::from(!log.is_empty()),
        ..BtfLoadAttr::default()
    };
    // SAFETY: `btf` points to `btf_size` bytes borrowed for this call and
    // only read; `btf_log_buf` is `log`, exclusively borrowed and
    // `btf_log_size` bytes long, the most the kernel writes there.
    let ret = unsafe { sys_bpf(Cmd::BTF_LOAD, &mut attr) };
    Ok(BtfLoadOutcome {
        result: ret.map(owned),
        log_true_size: attr.btf_log_true_size,
    })
}

/// Arguments of `BPF_MAP_CREATE`.
pub(crate) struct MapCreateArgs {
    pub(crate) map_type: u32,
    pub(crate) key_size: u32,
    pub(crate) value_size: u32,
    pub(crate) max_entries: u32,
    pub(crate) map_flags: u32,
    pub(crate) inner_map_fd: Option<RawFd>,
    pub(crate) map_extra: u64,
    pub(crate) name: [u8; 16],
    pub(crate) btf_fd: Option<RawFd>,
    pub(crate) btf_key_type_id: u32,
    pub(crate) btf_value_type_id: u32,
}

/// A map fd with the sizes the kernel reports for it.
///
/// **Invariant:** `key_size`, `value_size` and `map_type` are what
/// `BPF_OBJ_GET_INFO_BY_FD` returned for `fd`, and `value_buf_len` is at
/// least the number of bytes the kernel copies out on lookup
/// (`bpf_map_value_size()`). Only [`MapHandle::create`] builds one.
#[derive(Debug)]
pub(crate) struct MapHandle {
    fd: OwnedFd,
    pub(crate) map_type: MapType,
    pub(crate) id: u32,
    pub(crate) key_size: u32,
    pub(crate) value_size: u32,
    pub(crate) max_entries: u32,
    pub(crate) map_flags: u32,
    /// Bytes one lookup copies out (per-CPU maps: one rounded value per
    /// possible CPU).
    pub(crate) value_len: usize,
    /// Bytes to allocate for a lookup (at least `value_len`).
    value_buf_len: usize,
}

impl MapHandle {
    /// `BPF_MAP_CREATE`, then read back the map's sizes.
    pub(crate) fn create(args: &MapCreateArgs) -> Result<MapHandle, Error> {
        let mut attr = MapCreateAttr {
            map_type: args.map_type,
            key_size: args.key_size,
            value_size: args.value_size,
            max_entries: args.max_entries,
            map_flags: args.map_flags,
            inner_map_fd: args.inner_map_fd.map_or(0, i32::cast_unsigned),
            map_name: args.name,
            map_extra: args.map_extra,
            btf_fd: args.btf_fd.map_or(0, i32::cast_unsigned),
            btf_key_type_id: args.btf_key_type_id,
            btf_value_type_id: args.btf_value_type_id,
            ..MapCreateAttr::default()
        };
        // SAFETY: MapCreateAttr holds no pointer.
        let fd =
            unsafe { sys_bpf(Cmd::MAP_CREATE, &mut attr) }.map_err(|errno| Error::Syscall {
                cmd: Cmd::MAP_CREATE,
                errno,
            })?;
        let fd = owned(fd);
        let mut info = MapInfoAttr::default();
        let mut attr = InfoByFdAttr {
            bpf_fd: fd_u32(fd.as_fd()),
            info_len: size_of::<MapInfoAttr>() as u32,
            info: std::ptr::from_mut(&mut info) as u64,
        };
        // SAFETY: `info` points to `info`, exclusively borrowed, of exactly
        // `info_len` bytes; the kernel writes at most `info_len` bytes.
        unsafe { sys_bpf(Cmd::OBJ_GET_INFO_BY_FD, &mut attr) }.map_err(|errno| Error::Syscall {
            cmd: Cmd::OBJ_GET_INFO_BY_FD,
            errno,
        })?;
        let map_type = MapType(info.map_type);
        let (value_len, value_buf_len) = if map_type.is_per_cpu() {
            let cpus = possible_cpus()?;
            let rounded = (info.value_size as usize).next_multiple_of(8);
            let overflow = || Error::TooLarge {
                what: "per-CPU value",
                len: usize::MAX,
            };
            (
                rounded.checked_mul(cpus.weight).ok_or_else(overflow)?,
                rounded.checked_mul(cpus.span).ok_or_else(overflow)?,
            )
        } else {
            // Fd maps copy out a u32 id; their value_size is 4 anyway.
            let v = info.value_size as usize;
            (v, v.max(4))
        };
        Ok(MapHandle {
            fd,
            map_type,
            id: info.id,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            map_flags: info.map_flags,
            value_len,
            value_buf_len,
        })
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn check_key(&self, key: &[u8]) -> Result<(), Error> {
        if key.len() == self.key_size as usize {
            Ok(())
        } else {
            Err(Error::KeySize {
                expected: self.key_size,
                got: key.len(),
            })
        }
    }

    /// `BPF_MAP_UPDATE_ELEM`.
    pub(crate) fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), Error> {
        self.check_key(key)?;
        if value.len() != self.value_len {
            return Err(Error::ValueSize {
                expected: self.value_len,
                got: value.len(),
            });
        }
        let mut attr = MapElemAttr {
            map_fd: fd_u32(self.fd()),
            key: ptr_of(key),
            value: ptr_of(value),
            flags,
            ..MapElemAttr::default()
        };
        // SAFETY: `key` and `value` are live borrows of exactly the sizes
        // the kernel reads for this map (checked above); the kernel only
        // reads them.
        unsafe { sys_bpf(Cmd::MAP_UPDATE_ELEM, &mut attr) }
            .map(drop)
            .map_err(|errno| Error::Syscall {
                cmd: Cmd::MAP_UPDATE_ELEM,
                errno,
            })
    }

    /// `BPF_MAP_LOOKUP_ELEM`: `Ok(None)` when the kernel says `ENOENT`.
    pub(crate) fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.check_key(key)?;
        let mut value = vec![0u8; self.value_buf_len];
        let mut attr = MapElemAttr {
            map_fd: fd_u32(self.fd()),
            key: ptr_of(key),
            value: mut_ptr_of(&mut value),
            ..MapElemAttr::default()
        };
        // SAFETY: `key` is a live borrow of `key_size` bytes, only read.
        // `value` is an exclusively owned buffer of `value_buf_len` bytes,
        // at least what the kernel writes for this map (MapHandle's
        // invariant: sizes from the kernel, per-CPU maps sized by the
        // possible-CPU mask). Lookup flags stay 0, so no flag changes how
        // much the kernel writes.
        match unsafe { sys_bpf(Cmd::MAP_LOOKUP_ELEM, &mut attr) } {
            Ok(_) => {
                value.truncate(self.value_len);
                Ok(Some(value))
            }
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(Error::Syscall {
                cmd: Cmd::MAP_LOOKUP_ELEM,
                errno,
            }),
        }
    }

    /// `BPF_MAP_FREEZE`: no more writes from user space (what libbpf does
    /// to `.rodata` after filling it, so that programs may treat it as
    /// constant).
    pub(crate) fn freeze(&self) -> Result<(), Error> {
        let mut attr = MapElemAttr {
            map_fd: fd_u32(self.fd()),
            ..MapElemAttr::default()
        };
        // SAFETY: the attribute names only the map's fd; the command reads
        // nothing else and writes nothing back.
        unsafe { sys_bpf(Cmd::MAP_FREEZE, &mut attr) }
            .map(drop)
            .map_err(|errno| Error::Syscall {
                cmd: Cmd::MAP_FREEZE,
                errno,
            })
    }

    /// `BPF_MAP_DELETE_ELEM`: `Ok(false)` when the kernel says `ENOENT`.
    pub(crate) fn delete(&self, key: &[u8]) -> Result<bool, Error> {
        self.check_key(key)?;
        let mut attr = MapElemAttr {
            map_fd: fd_u32(self.fd()),
            key: ptr_of(key),
            ..MapElemAttr::default()
        };
        // SAFETY: `key` is a live borrow of `key_size` bytes, only read.
        match unsafe { sys_bpf(Cmd::MAP_DELETE_ELEM, &mut attr) } {
            Ok(_) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(errno) => Err(Error::Syscall {
                cmd: Cmd::MAP_DELETE_ELEM,
                errno,
            }),
        }
    }
}

/// The possible-CPU mask's weight (what `num_possible_cpus()` returns) and
/// span (highest CPU + 1), from `/sys/devices/system/cpu/possible`.
struct Cpus {
    weight: usize,
    span: usize,
}

fn possible_cpus() -> Result<Cpus, Error> {
    const PATH: &str = "/sys/devices/system/cpu/possible";
    let text = std::fs::read_to_string(PATH).map_err(|e| Error::PossibleCpus {
        reason: e.to_string(),
    })?;
    parse_cpu_list(text.trim()).ok_or_else(|| Error::PossibleCpus {
        reason: format!("cannot parse {text:?}"),
    })
}

/// Parse a kernel CPU list (`0-3,5,7-8`).
fn parse_cpu_list(text: &str) -> Option<Cpus> {
    let mut weight = 0usize;
    let mut span = 0usize;
    for part in text.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (lo.trim().parse::<usize>().ok()?, hi.trim().parse().ok()?),
            None => {
                let n = part.trim().parse::<usize>().ok()?;
                (n, n)
            }
        };
        if hi < lo {
            return None;
        }
        weight = weight.checked_add(hi - lo + 1)?;
        span = span.max(hi.checked_add(1)?);
    }
    (weight > 0).then_some(Cpus { weight, span })
}

/// Arguments of `BPF_PROG_TEST_RUN`.
pub(crate) struct TestRunArgs<'a> {
    pub(crate) prog: BorrowedFd<'a>,
    pub(crate) data_in: &'a [u8],
    pub(crate) data_out: &'a mut [u8],
    pub(crate) ctx_in: &'a [u8],
    pub(crate) ctx_out: &'a mut [u8],
    pub(crate) repeat: u32,
    pub(crate) flags: u32,
    pub(crate) cpu: u32,
}

/// What `BPF_PROG_TEST_RUN` wrote back.
pub(crate) struct TestRunOut {
    pub(crate) retval: u32,
    pub(crate) duration: u32,
    /// Full output size (may exceed the buffer, then the call is `ENOSPC`).
    pub(crate) data_size_out: u32,
    pub(crate) ctx_size_out: u32,
}

/// `BPF_PROG_TEST_RUN`. The outputs are returned with the errno too: on
/// `ENOSPC` the kernel still reports the size it needed.
pub(crate) fn prog_test_run(
    args: TestRunArgs<'_>,
) -> Result<Result<TestRunOut, (Errno, TestRunOut)>, Error> {
    let mut attr = TestRunAttr {
        prog_fd: fd_u32(args.prog),
        data_size_in: len_u32(args.data_in.len(), "data_in")?,
        data_size_out: len_u32(args.data_out.len(), "data_out")?,
        data_in: ptr_of(args.data_in),
        data_out: mut_ptr_of(args.data_out),
        repeat: args.repeat,
        ctx_size_in: len_u32(args.ctx_in.len(), "ctx_in")?,
        ctx_size_out: len_u32(args.ctx_out.len(), "ctx_out")?,
        ctx_in: ptr_of(args.ctx_in),
        ctx_out: mut_ptr_of(args.ctx_out),
        flags: args.flags,
        cpu: args.cpu,
        ..TestRunAttr::default()
    };
    // SAFETY: `data_in`/`ctx_in` are live borrows of the sizes given, only
    // read. `data_out`/`ctx_out` are exclusive borrows of exactly
    // `data_size_out`/`ctx_size_out` bytes; the kernel copies at most that
    // many (it returns ENOSPC rather than overrun). Null when empty.
    let ret = unsafe { sys_bpf(Cmd::PROG_TEST_RUN, &mut attr) };
    let out = TestRunOut {
        retval: attr.retval,
        duration: attr.duration,
        data_size_out: attr.data_size_out,
        ctx_size_out: attr.ctx_size_out,
    };
    Ok(match ret {
        Ok(_) => Ok(out),
        Err(errno) => Err((errno, out)),
    })
}

/// The parts of `struct bpf_prog_info` this crate exposes.
pub(crate) struct ProgInfoOut {
    pub(crate) prog_type: u32,
    pub(crate) id: u32,
    pub(crate) tag: [u8; 8],
    pub(crate) jited_prog_len: u32,
    pub(crate) xlated_prog_len: u32,
    pub(crate) load_time: u64,
    pub(crate) created_by_uid: u32,
    pub(crate) nr_map_ids: u32,
    pub(crate) name: [u8; 16],
    pub(crate) gpl_compatible: bool,
    pub(crate) btf_id: u32,
    pub(crate) run_time_ns: u64,
    pub(crate) run_cnt: u64,
    pub(crate) recursion_misses: u64,
    pub(crate) verified_insns: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD` on a program. When `xlated` is not empty, the
/// kernel also copies up to `xlated.len()` bytes of the translated
/// instructions into it.
pub(crate) fn prog_info(fd: BorrowedFd<'_>, xlated: &mut [u8]) -> Result<ProgInfoOut, Error> {
    let mut info = ProgInfoAttr {
        xlated_prog_len: len_u32(xlated.len(), "xlated buffer")?,
        xlated_prog_insns: mut_ptr_of(xlated),
        ..ProgInfoAttr::default()
    };
    let mut attr = InfoByFdAttr {
        bpf_fd: fd_u32(fd),
        info_len: size_of::<ProgInfoAttr>() as u32,
        info: std::ptr::from_mut(&mut info) as u64,
    };
    // SAFETY: `info` points to `info`, exclusively borrowed, of exactly
    // `info_len` bytes; the kernel writes at most `info_len` bytes there.
    // Its only non-null output pointer is `xlated_prog_insns`, an exclusive
    // borrow of `xlated_prog_len` bytes; the kernel copies at most
    // `min(xlated_prog_len, actual)` bytes. All other array pointers are
    // null with zero counts, so the kernel writes nothing else.
    unsafe { sys_bpf(Cmd::OBJ_GET_INFO_BY_FD, &mut attr) }.map_err(|errno| Error::Syscall {
        cmd: Cmd::OBJ_GET_INFO_BY_FD,
        errno,
    })?;
    Ok(ProgInfoOut {
        prog_type: info.prog_type,
        id: info.id,
        tag: info.tag,
        jited_prog_len: info.jited_prog_len,
        xlated_prog_len: info.xlated_prog_len,
        load_time: info.load_time,
        created_by_uid: info.created_by_uid,
        nr_map_ids: info.nr_map_ids,
        name: info.name,
        gpl_compatible: info.gpl_bits & 1 != 0,
        btf_id: info.btf_id,
        run_time_ns: info.run_time_ns,
        run_cnt: info.run_cnt,
        recursion_misses: info.recursion_misses,
        verified_insns: info.verified_insns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        let c = parse_cpu_list("0-1").unwrap();
        assert_eq!((c.weight, c.span), (2, 2));
        let c = parse_cpu_list("0,2-3,7").unwrap();
        assert_eq!((c.weight, c.span), (4, 8));
        assert!(parse_cpu_list("").is_none());
        assert!(parse_cpu_list("3-1").is_none());
        assert!(parse_cpu_list("x").is_none());
    }
}
