//! [`Errno`]: the error number a failed `bpf()` call returned.

use core::fmt;

/// An error number from a failed system call, with the C name of the usual
/// ones (`EACCES`, `EINVAL`, ...). The numbers are the host's (`libc`'s).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(libc::EPERM);
    /// No such file or directory (map: no such key).
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(libc::EINTR);
    /// Argument list too long (the program has too many instructions).
    pub const E2BIG: Errno = Errno(libc::E2BIG);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(libc::EBADF);
    /// Try again.
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    /// Permission denied: the verifier rejected the program.
    pub const EACCES: Errno = Errno(libc::EACCES);
    /// Bad address.
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    /// Device or resource busy.
    pub const EBUSY: Errno = Errno(libc::EBUSY);
    /// File exists (map: key already present).
    pub const EEXIST: Errno = Errno(libc::EEXIST);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    /// No space left: the log buffer (or an output buffer) is too small.
    pub const ENOSPC: Errno = Errno(libc::ENOSPC);
    /// Result out of range.
    pub const ERANGE: Errno = Errno(libc::ERANGE);
    /// Function not implemented: no `bpf()` here.
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    /// Too many levels of symbolic links (the verifier: back-edge).
    pub const ELOOP: Errno = Errno(libc::ELOOP);
    /// Operation not supported.
    pub const EOPNOTSUPP: Errno = Errno(libc::EOPNOTSUPP);
    /// The kernel-internal `ENOTSUPP` (524) that leaks out of some paths.
    pub const ENOTSUPP: Errno = Errno(524);

    /// The C name, or `None` for a number this crate does not name.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        const NAMES: &[(i32, &str)] = &[
            (libc::EPERM, "EPERM"),
            (libc::ENOENT, "ENOENT"),
            (libc::ESRCH, "ESRCH"),
            (libc::EINTR, "EINTR"),
            (libc::EIO, "EIO"),
            (libc::ENXIO, "ENXIO"),
            (libc::E2BIG, "E2BIG"),
            (libc::ENOEXEC, "ENOEXEC"),
            (libc::EBADF, "EBADF"),
            (libc::EAGAIN, "EAGAIN"),
            (libc::ENOMEM, "ENOMEM"),
            (libc::EACCES, "EACCES"),
            (libc::EFAULT, "EFAULT"),
            (libc::EBUSY, "EBUSY"),
            (libc::EEXIST, "EEXIST"),
            (libc::EXDEV, "EXDEV"),
            (libc::ENODEV, "ENODEV"),
            (libc::ENOTDIR, "ENOTDIR"),
            (libc::EINVAL, "EINVAL"),
            (libc::ENFILE, "ENFILE"),
            (libc::EMFILE, "EMFILE"),
            (libc::EFBIG, "EFBIG"),
            (libc::ENOSPC, "ENOSPC"),
            (libc::ERANGE, "ERANGE"),
            (libc::EDEADLK, "EDEADLK"),
            (libc::ENAMETOOLONG, "ENAMETOOLONG"),
            (libc::ENOSYS, "ENOSYS"),
            (libc::ELOOP, "ELOOP"),
            (libc::EPROTO, "EPROTO"),
            (libc::EBADMSG, "EBADMSG"),
            (libc::EOVERFLOW, "EOVERFLOW"),
            (libc::EOPNOTSUPP, "EOPNOTSUPP"),
            (libc::ETIMEDOUT, "ETIMEDOUT"),
            (524, "ENOTSUPP"),
        ];
        NAMES.iter().find(|(n, _)| *n == self.0).map(|(_, s)| *s)
    }

    /// The `errno` of the last failed call on this thread.
    pub(crate) fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// `EACCES (Permission denied)`: the name, then the C library's text.
impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        // std appends " (os error N)"; keep only the description.
        let text = text
            .rsplit_once(" (os error")
            .map_or(text.as_str(), |(t, _)| t);
        match self.name() {
            Some(name) => write!(f, "{name} ({text})"),
            None => write!(f, "errno {} ({text})", self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        assert_eq!(Errno::EACCES.to_string(), "EACCES (Permission denied)");
        assert_eq!(format!("{:?}", Errno::EINVAL), "EINVAL");
        assert_eq!(Errno::ENOTSUPP.name(), Some("ENOTSUPP"));
        assert_eq!(Errno(4000).name(), None);
        assert!(Errno(4000).to_string().starts_with("errno 4000 ("));
    }
}
