//! The probed table: which helpers each program type may call and which
//! context accesses it accepts, as the running kernel answered
//! `crates/ebpf-kernel/src/bin/probe_platform.rs` (see the header of
//! `linux-6.18.txt` for the format).

use std::collections::BTreeMap;

use super::ProgType;

/// The table of Linux 6.18 on the machine the project is developed on.
pub const LINUX_6_18: &str = include_str!("linux-6.18.txt");

/// Why the table text does not parse.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// A line is not one of the table's forms.
    #[error("platform table line {line}: cannot parse {text:?}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// A line names a program type no `type` line declared.
    #[error("platform table line {line}: unknown program type {name:?}")]
    UnknownProgType {
        /// 1-based line number.
        line: usize,
        /// The name.
        name: String,
    },
}

/// What `check_helper_call` says about a helper before looking at its
/// arguments, for one program type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum HelperAvailability {
    /// `get_func_proto` returns a prototype and nothing else objects.
    Available,
    /// The prototype's `allowed` callback refuses the program: `helper
    /// call is not allowed in probe`.
    NotAllowed,
    /// The prototype is `might_sleep` and the program is not sleepable:
    /// `helper call might sleep in a non-sleepable prog`.
    MightSleep,
}

/// One helper's row for one program type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HelperFact {
    /// Availability.
    pub availability: HelperAvailability,
    /// Refused to programs whose license is not GPL-compatible.
    pub gpl_only: bool,
}

/// What was probed for one program type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProbedType {
    /// The program type.
    pub prog_type: ProgType,
    /// The highest helper id probed.
    pub max_helper: i32,
    /// The first context offset not probed.
    pub ctx_limit: i32,
}

/// `a, a+step, ..., b`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Run {
    start: i32,
    end: i32,
    step: i32,
}

impl Run {
    fn contains(self, off: i32) -> bool {
        off >= self.start
            && off <= self.end
            && off
                .checked_sub(self.start)
                .and_then(|d| d.checked_rem(self.step))
                == Some(0)
    }
}

/// The parsed table.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PlatformTable {
    kernel: String,
    types: Vec<(String, ProbedType)>,
    helpers: BTreeMap<(u32, i32), HelperFact>,
    /// `(prog type, write, size)` → the valid offsets.
    ctx: BTreeMap<(u32, bool, u32), Vec<Run>>,
}

impl PlatformTable {
    /// Parse the text `probe_platform` writes.
    pub fn parse(text: &str) -> Result<PlatformTable, TableError> {
        let mut t = PlatformTable::default();
        for (i, raw) in text.lines().enumerate() {
            let line = i.saturating_add(1);
            let syntax = || TableError::Syntax {
                line,
                text: raw.to_string(),
            };
            let words: Vec<&str> = raw.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                [first, ..] if first.starts_with('#') => {}
                ["kernel", release] => t.kernel = (*release).to_string(),
                ["type", name, num, "helpers", helpers, "ctx", ctx] => {
                    let num: u32 = num.parse().map_err(|_| syntax())?;
                    let max_helper = helpers
                        .strip_prefix("1-")
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(syntax)?;
                    let ctx_limit = ctx
                        .strip_prefix("0-")
                        .and_then(|n| n.parse::<i32>().ok())
                        .and_then(|n| n.checked_add(1))
                        .ok_or_else(syntax)?;
                    t.types.push((
                        (*name).to_string(),
                        ProbedType {
                            prog_type: ProgType(num),
                            max_helper,
                            ctx_limit,
                        },
                    ));
                }
                ["helper", name, id, verdict, gpl] => {
                    let prog_type = t.type_named(name, line)?;
                    let id: i32 = id.parse().map_err(|_| syntax())?;
                    let availability = match *verdict {
                        "ok" => HelperAvailability::Available,
                        "not_allowed" => HelperAvailability::NotAllowed,
                        "might_sleep" => HelperAvailability::MightSleep,
                        _ => return Err(syntax()),
                    };
                    let gpl_only = match *gpl {
                        "gpl=0" => false,
                        "gpl=1" => true,
                        _ => return Err(syntax()),
                    };
                    t.helpers.insert(
                        (prog_type.0, id),
                        HelperFact {
                            availability,
                            gpl_only,
                        },
                    );
                }
                ["ctx", name, dir, size, offsets] => {
                    let prog_type = t.type_named(name, line)?;
                    let write = match *dir {
                        "read" => false,
                        "write" => true,
                        _ => return Err(syntax()),
                    };
                    let size: u32 = size.parse().map_err(|_| syntax())?;
                    let runs = parse_runs(offsets).ok_or_else(syntax)?;
                    t.ctx.insert((prog_type.0, write, size), runs);
                }
                _ => return Err(syntax()),
            }
        }
        Ok(t)
    }

    fn type_named(&self, name: &str, line: usize) -> Result<ProgType, TableError> {
        self.types
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.prog_type)
            .ok_or_else(|| TableError::UnknownProgType {
                line,
                name: name.to_string(),
            })
    }

    /// The kernel release the table was probed on.
    #[must_use]
    pub fn kernel(&self) -> &str {
        &self.kernel
    }

    /// The program types the table covers.
    pub fn probed_types(&self) -> impl Iterator<Item = ProbedType> + '_ {
        self.types.iter().map(|(_, p)| *p)
    }

    /// What was probed for `prog_type`, if the table covers it.
    #[must_use]
    pub fn probed(&self, prog_type: ProgType) -> Option<ProbedType> {
        self.probed_types().find(|p| p.prog_type == prog_type)
    }

    /// Helper `id` for `prog_type`: `None` when the kernel has no
    /// prototype for it (or the type was not probed).
    #[must_use]
    pub fn helper(&self, prog_type: ProgType, id: i32) -> Option<HelperFact> {
        self.helpers.get(&(prog_type.0, id)).copied()
    }

    /// The helpers `prog_type` may name, in id order.
    pub fn helpers_of(&self, prog_type: ProgType) -> impl Iterator<Item = (i32, HelperFact)> + '_ {
        self.helpers
            .range((prog_type.0, i32::MIN)..=(prog_type.0, i32::MAX))
            .map(|(&(_, id), &f)| (id, f))
    }

    /// Whether the kernel loads an access of `size` bytes at context
    /// offset `off` (a read, or a store of a register when `write`).
    #[must_use]
    pub fn ctx_ok(&self, prog_type: ProgType, write: bool, off: i32, size: u32) -> bool {
        self.ctx
            .get(&(prog_type.0, write, size))
            .is_some_and(|runs| runs.iter().any(|r| r.contains(off)))
    }
}

/// `-`, or comma-separated `a` / `a-b/step`.
fn parse_runs(s: &str) -> Option<Vec<Run>> {
    if s == "-" {
        return Some(Vec::new());
    }
    s.split(',')
        .map(|part| {
            if let Some((range, step)) = part.split_once('/') {
                let (a, b) = range.split_once('-')?;
                let run = Run {
                    start: a.parse().ok()?,
                    end: b.parse().ok()?,
                    step: step.parse().ok()?,
                };
                (run.step > 0 && run.end >= run.start).then_some(run)
            } else {
                let n = part.parse().ok()?;
                Some(Run {
                    start: n,
                    end: n,
                    step: 1,
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment
kernel 6.18.0-test
type xdp 6 helpers 1-211 ctx 0-63
type kprobe 2 helpers 1-211 ctx 0-255
helper xdp 1 ok gpl=0
helper xdp 6 ok gpl=1
helper kprobe 148 might_sleep gpl=0
ctx xdp read 4 0-16/4
ctx xdp write 4 -
ctx kprobe read 8 0-160/8,200
";

    #[test]
    fn parses_every_form() {
        let t = PlatformTable::parse(SAMPLE).unwrap();
        assert_eq!(t.kernel(), "6.18.0-test");
        assert_eq!(
            t.probed(ProgType::XDP),
            Some(ProbedType {
                prog_type: ProgType::XDP,
                max_helper: 211,
                ctx_limit: 64
            })
        );
        assert_eq!(
            t.helper(ProgType::XDP, 6),
            Some(HelperFact {
                availability: HelperAvailability::Available,
                gpl_only: true
            })
        );
        assert_eq!(t.helper(ProgType::XDP, 2), None);
        assert_eq!(
            t.helper(ProgType::KPROBE, 148).map(|f| f.availability),
            Some(HelperAvailability::MightSleep)
        );
        assert_eq!(t.helpers_of(ProgType::XDP).count(), 2);
        assert!(t.ctx_ok(ProgType::XDP, false, 0, 4));
        assert!(t.ctx_ok(ProgType::XDP, false, 16, 4));
        assert!(!t.ctx_ok(ProgType::XDP, false, 20, 4));
        assert!(!t.ctx_ok(ProgType::XDP, false, 2, 4));
        assert!(!t.ctx_ok(ProgType::XDP, true, 0, 4));
        assert!(!t.ctx_ok(ProgType::XDP, false, 0, 8));
        assert!(t.ctx_ok(ProgType::KPROBE, false, 200, 8));
        assert!(!t.ctx_ok(ProgType::KPROBE, false, 168, 8));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            PlatformTable::parse("kernel x\nhelper xdp 1 ok gpl=0\n"),
            Err(TableError::UnknownProgType {
                line: 2,
                name: "xdp".into()
            })
        );
        for bad in [
            "type xdp 6 helpers 1-211 ctx 0-63\nhelper xdp 1 maybe gpl=0",
            "type xdp 6 helpers 1-211 ctx 0-63\nctx xdp read 4 8-0/4",
            "type xdp 6 helpers 1-211 ctx 0-63\nctx xdp read 4 0-8/0",
            "type xdp 6 helpers 1-211 ctx 0-63\nctx xdp sideways 4 0",
            "nonsense",
        ] {
            let err = PlatformTable::parse(bad).unwrap_err();
            assert!(
                matches!(err, TableError::Syntax { line, .. } if line >= 1),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_embedded_table_parses_and_covers_our_types() {
        let t = PlatformTable::parse(LINUX_6_18).unwrap();
        assert!(t.kernel().starts_with("6.18"), "{}", t.kernel());
        for p in [
            ProgType::SOCKET_FILTER,
            ProgType::KPROBE,
            ProgType::SCHED_CLS,
            ProgType::SCHED_ACT,
            ProgType::TRACEPOINT,
            ProgType::XDP,
            ProgType::PERF_EVENT,
            ProgType::CGROUP_SKB,
            ProgType::RAW_TRACEPOINT,
        ] {
            let probed = t.probed(p).unwrap();
            assert_eq!(probed.max_helper, 211);
            assert!(t.helpers_of(p).count() > 50, "{p:?}");
        }
    }
}
