//! `BPF_BTF_LOAD`: type information for programs (`prog_btf_fd`) and maps.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::errno::Errno;
use crate::error::Error;
use crate::sys;

/// Log buffer for a BTF load (grown while the kernel says it needs more).
const FIRST_LOG_SIZE: usize = 64 * 1024;
/// Largest BTF log buffer.
const MAX_LOG_SIZE: usize = 16 * 1024 * 1024;

/// A loaded BTF object: its fd (closed on drop).
#[derive(Debug)]
pub struct BtfFd {
    fd: OwnedFd,
}

impl AsFd for BtfFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for BtfFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Why `BPF_BTF_LOAD` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BtfLoadFailure {
    /// The kernel refused the BTF; `log` is its explanation (last line
    /// first in the message).
    #[error("BPF_BTF_LOAD failed with {errno}: {}", last_line(.log))]
    Rejected {
        /// The kernel's error number.
        errno: Errno,
        /// The BTF verifier's log.
        log: String,
    },
    /// The request could not be made.
    #[error("BPF_BTF_LOAD: {0}")]
    Sys(#[from] Error),
}

fn last_line(log: &str) -> &str {
    log.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no log)")
}

pub(crate) fn load(btf: &[u8]) -> Result<BtfFd, BtfLoadFailure> {
    let mut size = FIRST_LOG_SIZE;
    loop {
        let mut log = vec![0u8; size];
        let outcome = sys::btf_load(btf, &mut log)?;
        match outcome.result {
            Ok(fd) => return Ok(BtfFd { fd }),
            Err(Errno::ENOSPC) if size < MAX_LOG_SIZE => {
                let needed = usize::try_from(outcome.log_true_size).unwrap_or(0);
                size = needed.max(size.saturating_mul(2)).min(MAX_LOG_SIZE);
            }
            Err(errno) => {
                let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(log.get(..end).unwrap_or_default());
                return Err(BtfLoadFailure::Rejected {
                    errno,
                    log: text.into_owned(),
                });
            }
        }
    }
}
