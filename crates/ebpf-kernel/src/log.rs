//! [`VerifierLog`]: the verifier's text, with the two things tools read out
//! of it: the error line and the statistics.
//!
//! The shape of a log, as Linux 6.18 writes it:
//!
//! ```text
//! 0: R1=ctx() R10=fp0                      <- level 2: state, then each insn
//! 0: (bf) r0 = r2
//! R2 !read_ok                              <- the error (rejection only)
//! verification time 17 usec                <- only with BPF_LOG_STATS (4)
//! stack depth 0                            <- only with BPF_LOG_STATS; `0+8` with subprograms
//! processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
//! ```
//!
//! The `processed` line is printed whenever a log was requested and the
//! verifier got as far as its main pass (and after any failure in it); a
//! rejection in an earlier stage (a malformed program, bad attributes) may
//! have no such line.

use core::fmt;

/// The verifier log of one `BPF_PROG_LOAD`, as text.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct VerifierLog {
    text: String,
    truncated: bool,
}

impl VerifierLog {
    /// Wrap log text (from the kernel, or from a renderer that imitates it).
    #[must_use]
    pub fn from_text(text: impl Into<String>) -> VerifierLog {
        VerifierLog {
            text: text.into(),
            truncated: false,
        }
    }

    pub(crate) fn from_kernel(buf: &[u8], truncated: bool) -> VerifierLog {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let text = buf.get(..end).unwrap_or_default();
        VerifierLog {
            text: String::from_utf8_lossy(text).into_owned(),
            truncated,
        }
    }

    /// The whole log.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the log is empty (no log was requested, or the kernel wrote
    /// nothing).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether the kernel had more to say than the largest buffer this
    /// crate offers (1 GiB): then the text is the log's tail (or head with
    /// [`LogLevel::FIXED`](crate::LogLevel::FIXED)).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// The lines of the log.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text.lines()
    }

    /// The kernel's error message, as `veristat` and libbpf users read it:
    /// the last non-empty line before the statistics block
    /// (`verification time` / `stack depth` / `processed N insns ...`), or
    /// the last non-empty line when there is no `processed` line. `None`
    /// when there is no such line (an empty log, or a log holding only
    /// statistics, as a successful level-1 load does).
    ///
    /// ```
    /// use ebpf_kernel::VerifierLog;
    /// let log = VerifierLog::from_text(
    ///     "0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000) \
    ///      max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n",
    /// );
    /// assert_eq!(log.error_line(), Some("R0 !read_ok"));
    /// ```
    #[must_use]
    pub fn error_line(&self) -> Option<&str> {
        let lines: Vec<&str> = self.text.lines().collect();
        let before = match lines.iter().rposition(|l| parse_processed(l).is_some()) {
            Some(i) => lines.get(..i).unwrap_or_default(),
            None => &lines[..],
        };
        before
            .iter()
            .rev()
            .map(|l| l.trim_end())
            .filter(|l| !l.is_empty())
            // `infinite loop detected at insn N` is followed by the two
            // states the verifier compared.
            .find(|l| {
                !is_stats_line(l) && !l.starts_with("cur state:") && !l.starts_with("old state:")
            })
    }

    /// The statistics: the last `processed N insns (limit N) ...` line and,
    /// with [`LogLevel::STATS`](crate::LogLevel::STATS), the
    /// `verification time` and `stack depth` lines before it.
    #[must_use]
    pub fn stats(&self) -> Option<VerifierStats> {
        let lines: Vec<&str> = self.text.lines().collect();
        let (i, mut stats) = lines
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, l)| parse_processed(l).map(|s| (i, s)))?;
        // The STATS lines sit directly above the processed line.
        for line in lines.get(..i).unwrap_or_default().iter().rev().take(2) {
            if let Some(rest) = line.strip_prefix("verification time ") {
                stats.verification_time_usec = rest
                    .strip_suffix(" usec")
                    .and_then(|n| n.trim().parse().ok());
            } else if let Some(rest) = line.strip_prefix("stack depth ") {
                stats.stack_depth = rest
                    .trim()
                    .split('+')
                    .map(|n| n.parse().ok())
                    .collect::<Option<Vec<u32>>>()
                    .unwrap_or_default();
            }
        }
        Some(stats)
    }
}

impl fmt::Display for VerifierLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The verifier's statistics, parsed from its log.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct VerifierStats {
    /// `processed N insns`: instructions the verifier walked (the same
    /// number as `verified_insns` in [`ProgInfo`](crate::ProgInfo)).
    pub insns_processed: u64,
    /// `(limit N)`: the complexity limit (1 000 000 for privileged loads).
    pub insn_limit: u64,
    /// `max_states_per_insn N`.
    pub max_states_per_insn: Option<u64>,
    /// `total_states N`.
    pub total_states: Option<u64>,
    /// `peak_states N`.
    pub peak_states: Option<u64>,
    /// `mark_read N`: the longest read-mark propagation walk (absent if
    /// the kernel stops printing it).
    pub mark_read: Option<u64>,
    /// `verification time N usec` (with `BPF_LOG_STATS`).
    pub verification_time_usec: Option<u64>,
    /// `stack depth N+N+...`: one entry per subprogram (with
    /// `BPF_LOG_STATS`; empty otherwise).
    pub stack_depth: Vec<u32>,
}

fn is_stats_line(line: &str) -> bool {
    line.starts_with("verification time ") || line.starts_with("stack depth ")
}

/// Parse `processed N insns (limit N) key N key N ...`.
fn parse_processed(line: &str) -> Option<VerifierStats> {
    let rest = line.trim_end().strip_prefix("processed ")?;
    let mut words = rest.split_whitespace();
    let insns_processed = words.next()?.parse().ok()?;
    if words.next()? != "insns" || words.next()? != "(limit" {
        return None;
    }
    let insn_limit = words.next()?.strip_suffix(')')?.parse().ok()?;
    let mut stats = VerifierStats {
        insns_processed,
        insn_limit,
        ..VerifierStats::default()
    };
    while let (Some(key), Some(value)) = (words.next(), words.next()) {
        let value = value.parse().ok();
        match key {
            "max_states_per_insn" => stats.max_states_per_insn = value,
            "total_states" => stats.total_states = value,
            "peak_states" => stats.peak_states = value,
            "mark_read" => stats.mark_read = value,
            _ => {}
        }
    }
    Some(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROCESSED: &str = "processed 12 insns (limit 1000000) max_states_per_insn 1 \
                             total_states 3 peak_states 3 mark_read 2";

    #[test]
    fn stats_line() {
        let s = parse_processed(PROCESSED).unwrap();
        assert_eq!(s.insns_processed, 12);
        assert_eq!(s.insn_limit, 1_000_000);
        assert_eq!(s.max_states_per_insn, Some(1));
        assert_eq!(s.total_states, Some(3));
        assert_eq!(s.peak_states, Some(3));
        assert_eq!(s.mark_read, Some(2));
        assert!(parse_processed("processed a insns").is_none());
        assert!(parse_processed("processed 1 insns (limit x)").is_none());
        // Fields a future kernel drops are None, unknown ones ignored.
        let s = parse_processed("processed 3 insns (limit 1000000) new_field 9").unwrap();
        assert_eq!((s.insns_processed, s.mark_read), (3, None));
    }

    #[test]
    fn stats_block() {
        let log = VerifierLog::from_text(format!(
            "R0 !read_ok\nverification time 17 usec\nstack depth 0+16\n{PROCESSED}\n"
        ));
        let s = log.stats().unwrap();
        assert_eq!(s.verification_time_usec, Some(17));
        assert_eq!(s.stack_depth, vec![0, 16]);
        assert_eq!(log.error_line(), Some("R0 !read_ok"));
    }

    #[test]
    fn error_line_edge_cases() {
        assert_eq!(VerifierLog::default().error_line(), None);
        assert_eq!(VerifierLog::from_text(PROCESSED).error_line(), None);
        // No stats line: the last non-empty line.
        let log = VerifierLog::from_text("unreachable insn 1\n\n");
        assert_eq!(log.error_line(), Some("unreachable insn 1"));
        assert_eq!(log.stats(), None);
        // Blank lines between the error and the stats are skipped.
        let log = VerifierLog::from_text(format!("a\nthe error\n\n{PROCESSED}\n"));
        assert_eq!(log.error_line(), Some("the error"));
        // The states printed after an infinite loop are not the error.
        let log = VerifierLog::from_text(format!(
            "3: (05) goto pc-2\ninfinite loop detected at insn 2\ncur state: R0=1 R10=fp0\n\
             old state: R0=1 R10=fp0\n{PROCESSED}\n"
        ));
        assert_eq!(log.error_line(), Some("infinite loop detected at insn 2"));
    }

    #[test]
    fn from_kernel_stops_at_nul() {
        let log = VerifierLog::from_kernel(b"abc\n\0garbage", false);
        assert_eq!(log.text(), "abc\n");
        assert!(!log.is_truncated());
    }
}
