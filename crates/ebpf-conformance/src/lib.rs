//! The eBPF conformance suite (Alan-Jowett/bpf_conformance) read natively:
//! everything the upstream C++ runner does before it hands a test to a
//! plugin, with its quirks, so that a Rust runner reaches the same
//! PASS/FAIL/ERROR/SKIP verdict for every file.
//!
//! * [`data`]: the `.data` file format (`-- asm`, `-- raw`, `-- mem`,
//!   `-- result`, `-- error`), parsed as upstream parses it, and the
//!   byte-per-token reading of `negative/unused-*`.
//! * [`program_of`]: the program of a test, from `-- raw` or by assembling
//!   `-- asm` with [`ebpf_isa::ubpf::assemble_raw`] (the suite's dialect).
//! * [`load`]: parse and assemble in one step, including the "no
//!   instructions" skip.
//! * [`classify`]: the upstream version/group table that decides which tests
//!   a runtime at `--cpu_version vN` with some groups skips.
//! * [`run`]: running a file or a directory through an engine and judging
//!   the answer as upstream does; [`engine`]: the engines (`ebpf-interp`
//!   and the hardened `ebpf-jit-x86`), selected by the `conformance`
//!   binary's `--engine interp|jit` and the plugin's `--interp`/`--jit`.
//!
//! The crate does not validate programs: a test's slots are passed on as
//! upstream passes them, and rejecting a bad one is the engine's job.
//!
//! ```
//! use ebpf_conformance::{Loaded, classify::{Settings, classify}, load};
//! use ebpf_isa::CpuVersion;
//!
//! let text = "-- asm\nmov32 %r0, 1\njlt32 %r0, 2, +1\nexit\nexit\n-- result\n0x1\n";
//! let Loaded::Test { file, program } = load(text)? else { panic!("skipped") };
//! assert_eq!(file.expected(), 1);
//! assert_eq!(program.len(), 4);
//! let (cpu, groups) = classify(&program);
//! assert_eq!(cpu, CpuVersion::V3); // JMP32
//! assert!(Settings::default().should_run(cpu, groups));
//! assert!(!Settings::new(CpuVersion::V2, &[], &[]).should_run(cpu, groups));
//! # Ok::<(), ebpf_conformance::LoadError>(())
//! ```
#![forbid(unsafe_code)]

pub mod classify;
pub mod data;
pub mod engine;
pub mod run;

use ebpf_isa::{AsmError, RawInsn};

pub use data::{DataError, DataFile, Parsed, SkipReason, parse, parse_byte_raw};

/// The program of a test: the `-- raw` slots when there are any (raw wins
/// over asm), otherwise `-- asm` assembled by the upstream dialect's rules.
/// Assembler errors carry the line of the `.data` file.
pub fn program_of(file: &DataFile) -> Result<Vec<RawInsn>, AsmError> {
    if file.raw.is_empty() {
        ebpf_isa::ubpf::assemble_raw(&file.asm)
    } else {
        Ok(file.raw.iter().map(|&v| RawInsn::from_u64(v)).collect())
    }
}

/// A file read and assembled.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Loaded {
    /// A test with its program (never empty).
    Test {
        /// The parsed file.
        file: DataFile,
        /// Its program as wire slots.
        program: Vec<RawInsn>,
    },
    /// A file the upstream runner skips.
    Skip {
        /// Why.
        reason: SkipReason,
    },
}

/// Why a file could not be loaded. Upstream aborts the whole run in both
/// cases (an uncaught exception).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file's result or raw section is unreadable.
    #[error("{source}")]
    Data {
        /// The parser's error.
        #[from]
        source: DataError,
    },
    /// The `-- asm` section does not assemble.
    #[error("assembler: {source}")]
    Asm {
        /// The assembler's error.
        #[from]
        source: AsmError,
    },
}

/// Parse a `.data` file and build its program, as upstream does before
/// classifying: a file with an unknown directive, without an expectation or
/// without instructions is [`Loaded::Skip`].
pub fn load(text: &str) -> Result<Loaded, LoadError> {
    let file = match parse(text)? {
        Parsed::Test(file) => file,
        Parsed::Skip { reason } => return Ok(Loaded::Skip { reason }),
    };
    let program = program_of(&file)?;
    if program.is_empty() {
        return Ok(Loaded::Skip {
            reason: SkipReason::NoInstructions,
        });
    }
    Ok(Loaded::Test { file, program })
}
