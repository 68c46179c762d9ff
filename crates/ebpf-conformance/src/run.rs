//! Running a suite: walk the files, skip as upstream skips, hand each
//! program to an engine and judge its answer as FORMAT.md a.5 says.

use std::path::{Path, PathBuf};

use ebpf_isa::RawInsn;

use crate::classify::{Settings, classify};
use crate::{Loaded, load};

/// What an engine answered for one test: `r0`, or the message it failed
/// with (rejection, trap), compared against `-- error` when the test has one.
pub type EngineResult = Result<u64, String>;

/// The verdict on one file, as the upstream runner reports it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// The engine returned the expected value (or failed with the expected message).
    Pass,
    /// The engine returned a different value or message.
    Fail {
        /// What differed.
        message: String,
    },
    /// The engine failed on a test that expects a value.
    Error {
        /// The engine's message.
        message: String,
    },
    /// The file was not run.
    Skip {
        /// Why.
        message: String,
    },
}

impl Verdict {
    /// The upstream runner's label (`PASS`, `FAIL`, `ERROR`, `SKIP`).
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Error { .. } => "ERROR",
            Verdict::Skip { .. } => "SKIP",
        }
    }
}

/// Judge an engine's answer against a test's expectation (FORMAT.md a.5):
/// a value is compared with `-- result` (0 when the file only has
/// `-- error`); a failure passes only when it equals `-- error` exactly,
/// after cutting at the first `\r` and trimming trailing whitespace.
#[must_use]
pub fn judge(expected: u64, expected_error: Option<&str>, answer: &EngineResult) -> Verdict {
    match answer {
        Ok(v) if *v == expected => Verdict::Pass,
        Ok(v) => Verdict::Fail {
            message: format!("Expected return value {expected:#x}, got {v:#x}"),
        },
        Err(msg) => {
            let msg = msg.split('\r').next().unwrap_or_default().trim_end();
            match expected_error {
                Some(want) if want == msg => Verdict::Pass,
                Some(want) => Verdict::Fail {
                    message: format!("Expected error `{want}`, got `{msg}`"),
                },
                None => Verdict::Error {
                    message: msg.to_owned(),
                },
            }
        }
    }
}

/// Run one `.data` text through `engine` under `settings`.
pub fn run_text(
    text: &str,
    settings: &Settings,
    engine: &mut dyn FnMut(&[RawInsn], &mut [u8]) -> EngineResult,
) -> Verdict {
    let (file, program) = match load(text) {
        Ok(Loaded::Test { file, program }) => (file, program),
        Ok(Loaded::Skip { reason }) => {
            return Verdict::Skip {
                message: reason.to_string(),
            };
        }
        // Upstream aborts the whole run here; we report the file as an error.
        Err(e) => {
            return Verdict::Error {
                message: e.to_string(),
            };
        }
    };
    let (cpu, groups) = classify(&program);
    if !settings.should_run(cpu, groups) {
        return Verdict::Skip {
            message: format!("needs cpu {cpu} and groups {groups}"),
        };
    }
    let mut mem = file.mem.clone();
    let answer = engine(&program, &mut mem);
    judge(file.expected(), file.error.as_deref(), &answer)
}

/// The verdicts of every `*.data` file in a directory (not recursive),
/// sorted by path as upstream sorts them.
pub fn run_dir(
    dir: &Path,
    settings: &Settings,
    engine: &mut dyn FnMut(&[RawInsn], &mut [u8]) -> EngineResult,
) -> std::io::Result<Vec<(PathBuf, Verdict)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let verdict = match std::fs::read_to_string(&path) {
            Ok(text) => run_text(&text, settings, engine),
            Err(e) => Verdict::Error {
                message: format!("cannot read: {e}"),
            },
        };
        out.push((path, verdict));
    }
    Ok(out)
}

/// Totals as upstream prints them: `Passed X out of Y tests.`, where Y counts
/// every verdict except SKIP.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Totals {
    /// PASS verdicts.
    pub passed: usize,
    /// PASS, FAIL and ERROR verdicts.
    pub run: usize,
    /// SKIP verdicts.
    pub skipped: usize,
}

impl Totals {
    /// Count a list of verdicts.
    #[must_use]
    pub fn of<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Totals {
        let mut t = Totals::default();
        for v in verdicts {
            match v {
                Verdict::Pass => {
                    t.passed += 1;
                    t.run += 1;
                }
                Verdict::Skip { .. } => t.skipped += 1,
                _ => t.run += 1,
            }
        }
        t
    }
    /// Whether every test that ran passed.
    #[must_use]
    pub fn all_passed(&self) -> bool {
        self.passed == self.run
    }
}

impl core::fmt::Display for Totals {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Passed {} out of {} tests.", self.passed, self.run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebpf_isa::CpuVersion;

    #[test]
    fn judging_follows_upstream() {
        assert_eq!(judge(5, None, &Ok(5)), Verdict::Pass);
        assert!(matches!(judge(5, None, &Ok(6)), Verdict::Fail { .. }));
        assert!(matches!(
            judge(5, None, &Err("trap".into())),
            Verdict::Error { .. }
        ));
        assert_eq!(
            judge(0, Some("bad"), &Err("bad  \r\nmore".into())),
            Verdict::Pass
        );
        assert!(matches!(
            judge(0, Some("bad"), &Err("worse".into())),
            Verdict::Fail { .. }
        ));
        // A test that only expects an error still passes when the engine returns 0.
        assert_eq!(judge(0, Some("bad"), &Ok(0)), Verdict::Pass);
    }

    #[test]
    fn run_text_skips_and_runs() {
        let all = Settings::new(CpuVersion::V4, &ebpf_isa::Group::ALL, &[]);
        let text = "-- asm\nmov %r0, 3\nexit\n-- result\n3\n";
        let mut engine = |p: &[RawInsn], _: &mut [u8]| Ok(u64::try_from(p.len()).unwrap_or(0) + 1);
        assert_eq!(run_text(text, &all, &mut engine), Verdict::Pass);
        let v1 = Settings::new(CpuVersion::V1, &[], &[]);
        let jmp32 = "-- asm\njeq32 %r0, 0, +0\nexit\n-- result\n3\n";
        assert!(matches!(
            run_text(jmp32, &v1, &mut engine),
            Verdict::Skip { .. }
        ));
        assert!(matches!(
            run_text("-- bogus\n", &all, &mut engine),
            Verdict::Skip { .. }
        ));
        let t = Totals::of(&[
            Verdict::Pass,
            Verdict::Skip {
                message: String::new(),
            },
            Verdict::Error {
                message: String::new(),
            },
        ]);
        assert_eq!(t.to_string(), "Passed 1 out of 2 tests.");
        assert!(!t.all_passed());
    }
}
