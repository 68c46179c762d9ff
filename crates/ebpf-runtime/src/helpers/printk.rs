//! `bpf_trace_printk` formatting, following the kernel's
//! `bpf_bprintf_prepare` rules.
//!
//! * The format must contain a NUL within its size; text after it is ignored.
//! * Every character must be printable ASCII or whitespace.
//! * At most 3 conversions; `%%` is a literal `%`.
//! * A conversion is `%[0+- ]*[width](d|i|u|x|X|ld|li|lu|lx|lX|lld|lli|llu|llx|llX|p|px|pK|s|c)`.
//!   Without `l`, integers are 32-bit (`int`), so `%d` of `0xffffffff` is `-1`.
//! * `%s` reads a NUL-terminated string from guest memory (at most
//!   [`MAX_STR`] bytes); an unreadable pointer prints as the empty string, as
//!   in the kernel.
//! * `%p`, `%px`, `%pK` print the guest address as 16 hex digits (the kernel
//!   hashes plain `%p`; a deterministic value is more useful here). Other
//!   `%p` extensions (`%pI4`, `%pS`, ...) are rejected.
//! * The output is cut at 1023 bytes (the kernel's 1024-byte buffer); the
//!   helper returns the length of what was kept.
//!
//! Any violation makes the helper return `-EINVAL` and print nothing.

/// Longest string `%s` reads.
pub(crate) const MAX_STR: usize = 1024;
/// Longest output kept.
const MAX_OUT: usize = 1023;

/// Why a `trace_printk` format was rejected.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintkError {
    /// No NUL within the format's size.
    #[error("format is not NUL-terminated")]
    Unterminated,
    /// A byte that is neither printable ASCII nor whitespace.
    #[error("format byte {offset} ({byte:#04x}) is not printable")]
    NotPrintable {
        /// Offset in the format.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// More than three conversions.
    #[error("more than 3 conversions")]
    TooManyArgs,
    /// A conversion the kernel does not accept.
    #[error("unsupported conversion at format offset {offset}")]
    BadConversion {
        /// Offset of the `%`.
        offset: usize,
    },
}

#[derive(Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    width: usize,
}

impl Spec {
    fn pad(&self, out: &mut String, body: &str, numeric: bool) {
        let fill = self.width.saturating_sub(body.len());
        if self.left {
            out.push_str(body);
            out.extend(core::iter::repeat_n(' ', fill));
        } else if self.zero && numeric {
            // Zeros go after a sign.
            let (sign, digits) = match body.as_bytes().first() {
                Some(b'-' | b'+' | b' ') => body.split_at(1),
                _ => ("", body),
            };
            out.push_str(sign);
            out.extend(core::iter::repeat_n('0', fill));
            out.push_str(digits);
        } else {
            out.extend(core::iter::repeat_n(' ', fill));
            out.push_str(body);
        }
    }

    fn signed(&self, v: i64) -> String {
        if v >= 0 && self.plus {
            format!("+{v}")
        } else if v >= 0 && self.space {
            format!(" {v}")
        } else {
            v.to_string()
        }
    }
}

/// Format `fmt` (the bytes the program passed, NUL included) with `args`.
/// `read_str` reads a guest string for `%s` (`None` if unreadable).
pub fn format_printk(
    fmt: &[u8],
    args: [u64; 3],
    read_str: impl Fn(u64) -> Option<Vec<u8>>,
) -> Result<String, PrintkError> {
    let end = fmt
        .iter()
        .position(|&b| b == 0)
        .ok_or(PrintkError::Unterminated)?;
    let fmt = &fmt[..end];
    if let Some((offset, &byte)) = fmt
        .iter()
        .enumerate()
        .find(|(_, b)| !(b.is_ascii_graphic() || **b == b' ' || b.is_ascii_whitespace()))
    {
        return Err(PrintkError::NotPrintable { offset, byte });
    }
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    let mut out = String::new();
    let mut n_args = 0usize;
    let mut i = 0usize;
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(char::from(c));
            i += 1;
            continue;
        }
        let start = i;
        if at(i + 1) == b'%' {
            out.push('%');
            i += 2;
            continue;
        }
        let arg = *args.get(n_args).ok_or(PrintkError::TooManyArgs)?;
        n_args += 1;
        i += 1;
        let mut spec = Spec::default();
        loop {
            match at(i) {
                b'-' => spec.left = true,
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        while at(i).is_ascii_digit() {
            spec.width = spec
                .width
                .saturating_mul(10)
                .saturating_add(usize::from(at(i) - b'0'))
                .min(MAX_OUT);
            i += 1;
        }
        let bad = PrintkError::BadConversion { offset: start };
        match at(i) {
            b'p' => {
                if matches!(at(i + 1), b'x' | b'K') {
                    i += 1;
                } else if at(i + 1).is_ascii_alphanumeric() {
                    return Err(bad);
                }
                spec.pad(&mut out, &format!("{arg:016x}"), false);
            }
            b's' => {
                let s = read_str(arg).unwrap_or_default();
                spec.pad(&mut out, &String::from_utf8_lossy(&s), false);
            }
            b'c' => spec.pad(&mut out, &char::from(arg as u8).to_string(), false),
            _ => {
                let mut long = 0;
                while at(i) == b'l' && long < 2 {
                    long += 1;
                    i += 1;
                }
                let body = match (at(i), long) {
                    (b'd' | b'i', 0) => spec.signed(i64::from(arg as u32 as i32)),
                    (b'd' | b'i', _) => spec.signed(arg as i64),
                    (b'u', 0) => (arg as u32).to_string(),
                    (b'u', _) => arg.to_string(),
                    (b'x', 0) => format!("{:x}", arg as u32),
                    (b'x', _) => format!("{arg:x}"),
                    (b'X', 0) => format!("{:X}", arg as u32),
                    (b'X', _) => format!("{arg:X}"),
                    _ => return Err(bad),
                };
                spec.pad(&mut out, &body, true);
            }
        }
        i += 1;
    }
    if out.len() > MAX_OUT {
        let mut cut = MAX_OUT;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: [u64; 3]) -> Result<String, PrintkError> {
        let mut b = fmt.as_bytes().to_vec();
        b.push(0);
        format_printk(&b, args, |a| (a == 7).then(|| b"str".to_vec()))
    }

    #[test]
    fn conversions() {
        assert_eq!(f("x=%d\n", [5, 0, 0]).unwrap(), "x=5\n");
        assert_eq!(f("%d %i", [u64::MAX, 0xffff_fffe, 0]).unwrap(), "-1 -2");
        assert_eq!(f("%u", [u64::MAX, 0, 0]).unwrap(), "4294967295");
        assert_eq!(
            f("%ld %lu", [u64::MAX, u64::MAX, 0]).unwrap(),
            "-1 18446744073709551615"
        );
        assert_eq!(f("%lld %llu", [u64::MAX, 3, 0]).unwrap(), "-1 3");
        assert_eq!(
            f("%x %lx %llx", [0x1_dead_beef, 0x1_dead_beef, 0xab]).unwrap(),
            "deadbeef 1deadbeef ab"
        );
        assert_eq!(f("%X", [0xab, 0, 0]).unwrap(), "AB");
        assert_eq!(f("%p", [0x2_0000_0010, 0, 0]).unwrap(), "0000000200000010");
        assert_eq!(f("%px", [1, 0, 0]).unwrap(), "0000000000000001");
        assert_eq!(f("[%s] [%s]", [7, 8, 0]).unwrap(), "[str] []");
        assert_eq!(f("%c%c", [0x41, 0x142, 0]).unwrap(), "AB");
        assert_eq!(f("100%%", [0, 0, 0]).unwrap(), "100%");
        assert_eq!(
            f("%5d|%-5d|%05d|%+d|% d", [42, 42, 42]),
            Err(PrintkError::TooManyArgs)
        );
        assert_eq!(
            f("%5d|%-5d|%05d", [42, 42, u64::MAX]).unwrap(),
            "   42|42   |-0001"
        );
        assert_eq!(f("%+d|% d|%3s", [42, 1, 7]).unwrap(), "+42| 1|str");
        assert_eq!(f("%08lx", [0xbeef, 0, 0]).unwrap(), "0000beef");
    }

    #[test]
    fn rejections() {
        assert_eq!(
            format_printk(b"abc", [0; 3], |_| None),
            Err(PrintkError::Unterminated)
        );
        assert_eq!(f("%d %d %d %d", [0; 3]), Err(PrintkError::TooManyArgs));
        assert_eq!(
            f("a%qb", [0; 3]),
            Err(PrintkError::BadConversion { offset: 1 })
        );
        assert_eq!(
            f("%.2d", [0; 3]),
            Err(PrintkError::BadConversion { offset: 0 })
        );
        assert_eq!(
            f("%lc", [0; 3]),
            Err(PrintkError::BadConversion { offset: 0 })
        );
        assert_eq!(
            f("%pI4", [0; 3]),
            Err(PrintkError::BadConversion { offset: 0 })
        );
        assert_eq!(
            f("%", [0; 3]),
            Err(PrintkError::BadConversion { offset: 0 })
        );
        assert_eq!(
            format_printk(b"a\x01\0", [0; 3], |_| None),
            Err(PrintkError::NotPrintable { offset: 1, byte: 1 })
        );
        // Text after the NUL is ignored.
        assert_eq!(format_printk(b"ok\0%q", [0; 3], |_| None).unwrap(), "ok");
        let long = "a".repeat(2000);
        assert_eq!(f(&long, [0; 3]).unwrap().len(), 1023);
    }
}
