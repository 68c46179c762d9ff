//! The error type shared by both assemblers.

use crate::decode::DecodeError;

/// Why assembly text could not be turned into a program. Positions are
/// 1-based line and column in the input text.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsmError {
    /// The text at `line:column` does not parse.
    #[error("{line}:{column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was expected or found.
        message: String,
    },
    /// A jump or call names a label that is never defined.
    #[error("{line}:{column}: unknown label `{label}`")]
    UnknownLabel {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The label.
        label: String,
    },
    /// A label is defined twice.
    #[error("{line}:{column}: duplicate label `{label}`")]
    DuplicateLabel {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The label.
        label: String,
    },
    /// A value does not fit its field (offset in i16, immediate in i32, ...).
    #[error("{line}:{column}: {message}")]
    OutOfRange {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Which value and which range.
        message: String,
    },
    /// The assembled slots are not a valid program (for example a register
    /// above r10 in the uBPF dialect, which can spell `%r11`).
    #[error("line {line}: {source}")]
    Decode {
        /// 1-based line of the instruction.
        line: usize,
        /// The decoder's error.
        #[source]
        source: DecodeError,
    },
}

impl AsmError {
    /// The 1-based line the error is on.
    #[must_use]
    pub fn line(&self) -> usize {
        match self {
            AsmError::Syntax { line, .. }
            | AsmError::UnknownLabel { line, .. }
            | AsmError::DuplicateLabel { line, .. }
            | AsmError::OutOfRange { line, .. }
            | AsmError::Decode { line, .. } => *line,
        }
    }
}
