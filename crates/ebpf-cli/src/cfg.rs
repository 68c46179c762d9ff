//! `ebpf cfg`: the control-flow graph of a program, as text or Graphviz DOT.
//!
//! The program goes through the kernel's structural checks
//! ([`ebpf_cfg::Cfg::build_with`]); a rejection prints the kernel's own log
//! line, then where it happened.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use ebpf_cfg::{Cfg, CfgConfig, CfgError};
use ebpf_isa::{Insn, Program};

use crate::input::{Syntax, read_program};

/// Output format of `ebpf cfg`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub(crate) enum Format {
    /// Subprograms, blocks with dominators and `check_cfg` marks, loops,
    /// back-edges.
    Text,
    /// Graphviz DOT (render with `dot -Tsvg`).
    Dot,
}

/// Arguments of `ebpf cfg`.
#[derive(clap::Args)]
#[command(
    after_help = "PROG may also be an ELF object with a single program; choosing one \
                  program of several (`--program NAME`) is not supported by `cfg` yet."
)]
pub(crate) struct CfgArgs {
    /// Program: raw bytecode or assembly (kernel syntax or uBPF dialect).
    prog: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Input syntax.
    #[arg(long, value_enum, default_value = "auto")]
    syntax: Syntax,
    /// Check as a loader without CAP_BPF would: bpf-to-bpf calls and loops
    /// (back-edges) are rejected.
    #[arg(long)]
    unprivileged: bool,
}

/// A program the kernel's structural checks reject: the kernel's log line,
/// then the slot it concerns and its instruction.
#[derive(Debug)]
pub(crate) struct Rejected {
    path: PathBuf,
    error: CfgError,
    /// The slot the error is about, and its instruction (`None` for the
    /// second slot of an `ld_imm64`).
    at: Option<(usize, Option<Insn>)>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)?;
        match self.at {
            Some((slot, Some(insn))) => write!(f, "\n  at insn {slot}: {insn}"),
            Some((slot, None)) => write!(f, "\n  at insn {slot} (second slot of an ld_imm64)"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Rejected {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The slot a [`CfgError`] names.
fn error_slot(error: &CfgError) -> Option<usize> {
    match *error {
        CfgError::CallsNotAllowed { insn }
        | CfgError::CallToInvalidDestination { insn, .. }
        | CfgError::TooManySubprograms { insn, .. }
        | CfgError::LastInsnNotExitOrJmp { insn, .. }
        | CfgError::NoJumpTables { insn, .. }
        | CfgError::JumpTableOutsideSubprog { insn, .. }
        | CfgError::UnreachableInsn { insn }
        | CfgError::JumpIntoLdImm64 { insn } => Some(insn),
        CfgError::JumpOutOfRange { from, .. } | CfgError::BackEdge { from, .. } => Some(from),
        _ => None,
    }
}

/// Build the graph of `prog` (read from `path`) and render it.
pub(crate) fn render(
    path: &Path,
    prog: &Program,
    format: Format,
    unprivileged: bool,
) -> Result<String, Rejected> {
    let config = if unprivileged {
        CfgConfig::unprivileged()
    } else {
        CfgConfig::privileged()
    };
    match Cfg::build_with(prog, &config) {
        Ok(cfg) => Ok(match format {
            Format::Text => cfg.to_string(),
            Format::Dot => cfg.to_dot(),
        }),
        Err(error) => {
            let at = error_slot(&error).map(|slot| {
                let insn = prog
                    .insns()
                    .get(slot)
                    .copied()
                    .filter(|i| *i != Insn::LdImm64Tail);
                (slot, insn)
            });
            Err(Rejected {
                path: path.into(),
                error,
                at,
            })
        }
    }
}

/// `ebpf cfg`.
pub(crate) fn cfg(args: &CfgArgs) -> Result<(), Box<dyn std::error::Error>> {
    let prog = read_program(&args.prog, args.syntax)?;
    let out = render(&args.prog, &prog, args.format, args.unprivileged)?;
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_src(src: &str, format: Format, unprivileged: bool) -> Result<String, String> {
        let prog = ebpf_isa::asm::assemble(src).map_err(|e| e.to_string())?;
        render(Path::new("p.s"), &prog, format, unprivileged).map_err(|e| e.to_string())
    }

    #[test]
    fn rejection_names_the_slot_and_insn() {
        assert_eq!(
            render_src("r0 = 0\ngoto pc+5\nexit", Format::Text, false),
            Err("p.s: jump out of range from insn 1 to 7\n  at insn 1: goto pc+5".into())
        );
        assert_eq!(
            render_src("r0 = 0\ncall pc+9\nexit", Format::Dot, false),
            Err("p.s: call to invalid destination\n  at insn 1: call pc+9".into())
        );
        // The last slot of a final ld_imm64 is its tail.
        assert_eq!(
            render_src("r0 = 0x100000000", Format::Text, false),
            Err(
                "p.s: last insn is not an exit or jmp\n  at insn 1 (second slot of an ld_imm64)"
                    .into()
            )
        );
    }

    #[test]
    fn unprivileged_rejects_loops() {
        let src = "r0 = 0\nl:\nr0 += 1\nif r0 < 10 goto l\nexit";
        let text = render_src(src, Format::Text, false).expect("privileged");
        assert!(text.contains("check_cfg back-edges:\n  2 -> 1"), "{text}");
        assert_eq!(
            render_src(src, Format::Text, true),
            Err("p.s: back-edge from insn 2 to 1\n  at insn 2: if r0 < 0xa goto pc-2".into())
        );
    }

    #[test]
    fn empty_program_has_no_slot() {
        let e =
            render(Path::new("e"), &Program::default(), Format::Text, false).expect_err("empty");
        assert_eq!(e.to_string(), "e: program has no instructions");
    }
}
