//! `.data` test files, read exactly as the upstream runner reads them
//! (bpf_conformance FORMAT.md a.2).
//!
//! Reading a file line by line:
//!
//! 1. a trailing `\r` is stripped, then everything from the first `#`;
//! 2. a line still containing `--` is a section header, chosen by the
//!    **first** of `asm`, `result`, `mem`, `raw`, `no register offset`,
//!    `" c"`, `error` that it contains; none of them is an unknown directive
//!    and the whole file is skipped;
//! 3. empty lines are skipped, others go to the current section: `asm` lines
//!    are kept in order, the last `result` and `error` lines win, `mem` and
//!    `raw` lines are joined; text before the first header and in `-- c` /
//!    `-- no register offset` is ignored.
//!
//! A file with neither `result` nor `error` is skipped. The expected value
//! is read like `strtoull` (hex when the line contains `0x`, a leading `-`
//! wraps modulo 2^64, reading stops at the first character that is not part
//! of the number). `raw` tokens are one 64-bit slot each (hex with `0x`,
//! else decimal, again `strtoull`). `mem` is read like `stream >> std::hex`
//! into a `u32` truncated to a byte, stopping at the first character that
//! does not continue a hex number.

use core::fmt;

/// A test file that the upstream runner would run.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct DataFile {
    /// The `-- asm` sections with comments removed. Line *n* of this text is
    /// line *n* of the file (every other line is left blank), so assembler
    /// errors point into the file.
    pub asm: String,
    /// The `-- raw` slots, one little-endian 64-bit number per slot. When
    /// non-empty this is the program and `asm` is ignored.
    pub raw: Vec<u64>,
    /// The input buffer (`-- mem`); empty means none.
    pub mem: Vec<u8>,
    /// The expected `r0` from the last `-- result` line, if any.
    pub result: Option<u64>,
    /// The last `-- error` line, verbatim after comment stripping.
    pub error: Option<String>,
}

impl DataFile {
    /// The value a plugin's output is compared with: the result, or 0 when
    /// the file only has `-- error` (upstream compares against 0 then too).
    #[must_use]
    pub fn expected(&self) -> u64 {
        self.result.unwrap_or(0)
    }
}

/// Why the upstream runner skips a file without running it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SkipReason {
    /// A header line matched no known section.
    UnknownDirective {
        /// 1-based line of the header.
        line: usize,
        /// The header text (comment removed).
        text: String,
    },
    /// Neither `-- result` nor `-- error` has a line.
    NoExpectation,
    /// The program (raw or assembled) has no instruction.
    NoInstructions,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UnknownDirective { line, text } => {
                write!(f, "unknown directive `{text}` on line {line}")
            }
            SkipReason::NoExpectation => f.write_str("no result or error in test file"),
            SkipReason::NoInstructions => f.write_str("no instructions in test file"),
        }
    }
}

/// The outcome of reading a file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Parsed {
    /// A test to assemble and run.
    Test(DataFile),
    /// A file the upstream runner skips.
    Skip {
        /// Why.
        reason: SkipReason,
    },
}

/// A file the upstream runner cannot read at all (its `stoull` would throw
/// and abort the run).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The `-- result` line has no number, or one above 64 bits.
    #[error("line {line}: result `{text}` is not a 64-bit number")]
    BadResult {
        /// 1-based line of the result.
        line: usize,
        /// Its text.
        text: String,
    },
    /// A `-- raw` token has no number, or one above 64 bits.
    #[error("line {line}: raw token `{token}` is not a 64-bit number")]
    BadRawToken {
        /// 1-based line of the token.
        line: usize,
        /// The token.
        token: String,
    },
    /// A line of a byte-per-token `-- raw` section is not 8 hex bytes.
    #[error("line {line}: {message}")]
    BadByteLine {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The sections of a `.data` file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    Ignore,
    Asm,
    Result,
    Mem,
    Raw,
    Error,
}

/// The section a header line selects, or `None` for an unknown directive.
fn header(line: &str) -> Option<Section> {
    const ORDER: [(&str, Section); 7] = [
        ("asm", Section::Asm),
        ("result", Section::Result),
        ("mem", Section::Mem),
        ("raw", Section::Raw),
        ("no register offset", Section::Ignore),
        (" c", Section::Ignore),
        ("error", Section::Error),
    ];
    ORDER
        .iter()
        .find(|(key, _)| line.contains(key))
        .map(|&(_, s)| s)
}

/// One content line: 1-based number, section, text (comment removed).
struct Content<'a> {
    line: usize,
    section: Section,
    text: &'a str,
}

/// Split a file into content lines, or report the first unknown directive.
fn contents(text: &str) -> Result<Vec<Content<'_>>, SkipReason> {
    let mut section = Section::Ignore;
    let mut out = Vec::new();
    for (idx, raw_line) in text.split('\n').enumerate() {
        let line = idx.saturating_add(1);
        let l = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let l = l.split('#').next().unwrap_or("");
        if l.contains("--") {
            section = header(l).ok_or_else(|| SkipReason::UnknownDirective {
                line,
                text: l.to_owned(),
            })?;
            continue;
        }
        if l.is_empty() {
            continue;
        }
        out.push(Content {
            line,
            section,
            text: l,
        });
    }
    Ok(out)
}

/// Parse a `.data` file as the upstream runner does. Assembly happens later
/// (see [`crate::program_of`] and [`crate::load`]), so a file whose program
/// turns out to be empty is still [`Parsed::Test`] here.
pub fn parse(text: &str) -> Result<Parsed, DataError> {
    let lines = match contents(text) {
        Ok(l) => l,
        Err(reason) => return Ok(Parsed::Skip { reason }),
    };
    let mut file = DataFile::default();
    let mut asm_lines = 0usize;
    let mut result: Option<(usize, &str)> = None;
    let mut raw: Vec<(usize, &str)> = Vec::new();
    let mut mem = String::new();
    for c in &lines {
        match c.section {
            Section::Ignore => {}
            Section::Asm => {
                // Pad with blank lines so that line numbers stay the file's.
                while asm_lines.saturating_add(1) < c.line {
                    file.asm.push('\n');
                    asm_lines = asm_lines.saturating_add(1);
                }
                file.asm.push_str(c.text);
                file.asm.push('\n');
                asm_lines = asm_lines.saturating_add(1);
            }
            Section::Result => result = Some((c.line, c.text)),
            Section::Error => file.error = Some(c.text.to_owned()),
            Section::Mem => {
                mem.push(' ');
                mem.push_str(c.text);
            }
            Section::Raw => raw.extend(c.text.split_whitespace().map(|t| (c.line, t))),
        }
    }
    if result.is_none() && file.error.is_none() {
        return Ok(Parsed::Skip {
            reason: SkipReason::NoExpectation,
        });
    }
    if let Some((line, text)) = result {
        let radix = if text.contains("0x") { 16 } else { 10 };
        let value = strtoull(text, radix).ok_or_else(|| DataError::BadResult {
            line,
            text: text.to_owned(),
        })?;
        file.result = Some(value);
    }
    for (line, token) in raw {
        let radix = if token.starts_with("0x") { 16 } else { 10 };
        let value = strtoull(token, radix).ok_or_else(|| DataError::BadRawToken {
            line,
            token: token.to_owned(),
        })?;
        file.raw.push(value);
    }
    file.mem = parse_mem(&mem);
    Ok(Parsed::Test(file))
}

/// `std::stoull(text, nullptr, radix)`: leading whitespace, an optional
/// sign (a `-` negates modulo 2^64), for radix 16 an optional `0x`, then
/// digits up to the first character that is not one. `None` when there is
/// no digit or the magnitude exceeds 64 bits (where `stoull` throws).
fn strtoull(text: &str, radix: u32) -> Option<u64> {
    let s = text.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let s = if radix == 16 { strip_hex_prefix(s) } else { s };
    let mut value: Option<u64> = None;
    for ch in s.chars() {
        let Some(d) = ch.to_digit(radix) else {
            break;
        };
        value = Some(
            value
                .unwrap_or(0)
                .checked_mul(u64::from(radix))?
                .checked_add(u64::from(d))?,
        );
    }
    let v = value?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Drop a `0x`/`0X` prefix, but only when a hex digit follows; otherwise
/// the `0` alone is the number, as in `strtoull`.
fn strip_hex_prefix(s: &str) -> &str {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_hexdigit()) => rest,
        _ => s,
    }
}

/// The `-- mem` text as `while (ss >> std::hex >> u32) push(u8)` reads it.
fn parse_mem(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        let (neg, s) = match rest.as_bytes().first() {
            Some(b'-') => (true, rest.get(1..).unwrap_or("")),
            Some(b'+') => (false, rest.get(1..).unwrap_or("")),
            _ => (false, rest),
        };
        let s = strip_hex_prefix(s);
        let len = s.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(s.len());
        let Some(digits) = s.get(..len).filter(|d| !d.is_empty()) else {
            break;
        };
        let Ok(value) = u32::from_str_radix(digits, 16) else {
            // Above 32 bits the stream fails and reading stops.
            break;
        };
        let value = if neg { value.wrapping_neg() } else { value };
        out.push(value as u8);
        rest = s.get(len..).unwrap_or("");
    }
    out
}

/// Read the `-- raw` section of a `negative/unused-*` file, which has one
/// *byte* per token and 8 hex bytes per line (`85 01 00 00 00 00 00 00`),
/// into the program bytes. This is our reading (README caveat); upstream
/// cannot read these files and skips them.
pub fn parse_byte_raw(text: &str) -> Result<Vec<u8>, DataError> {
    let lines = contents(text).map_err(|reason| DataError::BadByteLine {
        line: match &reason {
            SkipReason::UnknownDirective { line, .. } => *line,
            _ => 0,
        },
        message: reason.to_string(),
    })?;
    let mut bytes = Vec::new();
    for c in lines.iter().filter(|c| c.section == Section::Raw) {
        let tokens: Vec<&str> = c.text.split_whitespace().collect();
        if tokens.is_empty() {
            continue;
        }
        if tokens.len() != 8 {
            return Err(DataError::BadByteLine {
                line: c.line,
                message: format!("expected 8 hex bytes, found {} tokens", tokens.len()),
            });
        }
        for t in tokens {
            let byte = Some(t)
                .filter(|t| (1..=2).contains(&t.len()))
                .and_then(|t| u8::from_str_radix(t, 16).ok())
                .ok_or_else(|| DataError::BadByteLine {
                    line: c.line,
                    message: format!("`{t}` is not a hex byte"),
                })?;
            bytes.push(byte);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(text: &str) -> DataFile {
        match parse(text) {
            Ok(Parsed::Test(f)) => f,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sections_and_last_line_wins() {
        let f = test(
            "# header\nignored\n-- asm\nmov %r0, 1 # c\n\nexit\r\n-- mem\naa BB\n0xcc\n\
             -- result\n0x1\n0x22 # wins\n-- error\nfirst\nsecond\n",
        );
        assert_eq!(f.asm, "\n\n\nmov %r0, 1 \n\nexit\n");
        assert_eq!(f.mem, [0xaa, 0xbb, 0xcc]);
        assert_eq!(f.result, Some(0x22));
        assert_eq!(f.error.as_deref(), Some("second"));
        assert!(f.raw.is_empty());
    }

    #[test]
    fn header_picks_the_first_matching_keyword() {
        // "result" is tested before "error".
        let f = test("-- error result\n5\n");
        assert_eq!(f.result, Some(5));
        // "-- c" and "-- no register offset" are ignored sections.
        let f = test("-- asm\nexit\n-- c\nint x;\n-- no register offset\nfoo\n-- result\n1");
        assert_eq!(f.asm, "\nexit\n");
        // A comment hides a would-be header.
        let f = test("-- result\n# -- bogus\n3");
        assert_eq!(f.result, Some(3));
        assert_eq!(
            parse("-- asm\n-- Unknown directive\n-- result\n1"),
            Ok(Parsed::Skip {
                reason: SkipReason::UnknownDirective {
                    line: 2,
                    text: "-- Unknown directive".to_owned()
                }
            })
        );
        assert_eq!(
            parse("-- asm\nexit\n-- error\n"),
            Ok(Parsed::Skip {
                reason: SkipReason::NoExpectation
            })
        );
    }

    #[test]
    fn result_reads_like_strtoull() {
        let r = |s: &str| test(&format!("-- result\n{s}")).result;
        assert_eq!(r("0x10"), Some(16));
        assert_eq!(r("  0xFFFFFFFFFFFFFFFF trailing"), Some(u64::MAX));
        assert_eq!(r("-1"), Some(u64::MAX));
        assert_eq!(r("-0x2"), Some(u64::MAX - 1));
        assert_eq!(r("42abc"), Some(42));
        assert_eq!(r("18446744073709551615"), Some(u64::MAX));
        assert_eq!(
            parse("-- result\n18446744073709551616"),
            Err(DataError::BadResult {
                line: 2,
                text: "18446744073709551616".to_owned()
            })
        );
        assert!(parse("-- result\nzero").is_err());
        assert!(parse("-- result\n   ").is_err());
        assert_eq!(test("-- error\nboom").expected(), 0);
    }

    #[test]
    fn raw_tokens_are_u64_slots() {
        let f = test("-- raw\n0x95 0X10\n149\n-- result\n0");
        // `0X10` is not `0x`, so it is decimal and stops at `X`: 0.
        assert_eq!(f.raw, [0x95, 0, 149]);
        assert_eq!(
            parse("-- raw\n0x95\nnope\n-- result\n0"),
            Err(DataError::BadRawToken {
                line: 3,
                token: "nope".to_owned()
            })
        );
    }

    #[test]
    fn mem_stops_at_the_first_non_hex() {
        assert_eq!(parse_mem(" 00 0x1f ff 100 zz 11"), [0, 0x1f, 0xff, 0x00]);
        assert_eq!(parse_mem("1g 22"), [1]);
        assert_eq!(parse_mem("100000000 11"), Vec::<u8>::new());
        assert_eq!(parse_mem(""), Vec::<u8>::new());
    }

    #[test]
    fn byte_raw_reader() {
        let text = "# x\n-- raw\n05 01 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n";
        let bytes = parse_byte_raw(text).unwrap();
        assert_eq!(bytes.len(), 16);
        assert_eq!(bytes[..2], [0x05, 0x01]);
        assert_eq!(
            parse_byte_raw("-- raw\n05 01\n"),
            Err(DataError::BadByteLine {
                line: 2,
                message: "expected 8 hex bytes, found 2 tokens".to_owned()
            })
        );
        assert!(parse_byte_raw("-- raw\n05 01 00 00 00 00 00 100\n").is_err());
    }
}
