//! [`Error`]: why a map, test-run or info call failed.

use crate::consts::Cmd;
use crate::errno::Errno;

/// Why a `bpf()` call other than `BPF_PROG_LOAD` failed (program loading
/// has its own [`LoadFailure`](crate::LoadFailure), which carries the
/// verifier log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused the call.
    #[error("{cmd} failed: {errno}")]
    Syscall {
        /// The command.
        cmd: Cmd,
        /// The kernel's error number.
        errno: Errno,
    },
    /// A key's length is not the map's `key_size`.
    #[error("key is {got} bytes, the map's key_size is {expected}")]
    KeySize {
        /// The map's key size.
        expected: u32,
        /// The key's length.
        got: usize,
    },
    /// A value's length is not what the kernel reads for this map
    /// (`value_size`, or one 8-byte-rounded value per possible CPU).
    #[error("value is {got} bytes, the map takes {expected}")]
    ValueSize {
        /// What the kernel reads.
        expected: usize,
        /// The value's length.
        got: usize,
    },
    /// A buffer or count does not fit the kernel's `u32` field.
    #[error("{what} is too large for bpf(): {len}")]
    TooLarge {
        /// Which argument.
        what: &'static str,
        /// Its size.
        len: usize,
    },
    /// An object name is longer than the kernel's 15 bytes or contains NUL.
    #[error("name {name:?} is invalid: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// Why it cannot be passed.
        reason: &'static str,
    },
    /// `BPF_PROG_TEST_RUN` produced more output than the buffer holds.
    #[error("test run output is {needed} bytes, the {what} buffer holds {capacity}")]
    OutputTooSmall {
        /// `data_out` or `ctx_out`.
        what: &'static str,
        /// The size the kernel reported.
        needed: u32,
        /// The buffer given.
        capacity: usize,
    },
    /// A program this crate loads for its own purpose (a measurement) was
    /// refused.
    #[error("loading a helper program failed: {source}")]
    ProgLoad {
        /// Why.
        source: crate::LoadFailure,
    },
    /// The per-CPU value size needs the possible-CPU count, which could not
    /// be read.
    #[error("cannot read the possible CPUs: {reason}")]
    PossibleCpus {
        /// What went wrong.
        reason: String,
    },
}
