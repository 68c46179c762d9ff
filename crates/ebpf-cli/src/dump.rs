//! `ebpf dump jited`: the x86-64 code the JIT makes of a program, each BPF
//! instruction followed by its machine instructions (like `bpftool prog
//! dump jited`, with the BPF source interleaved).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use ebpf_isa::Program;
use ebpf_jit_x86::{Emitted, Jit, JitConfig};
use ebpf_runtime::ctx::{CtxKind, convert_ctx_access};
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

use crate::input::{Syntax, read_input};

/// What to dump.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub(crate) enum DumpKind {
    /// The JIT's x86-64 code.
    Jited,
}

/// Arguments of `ebpf dump`.
#[derive(clap::Args)]
pub(crate) struct DumpArgs {
    /// What to dump.
    #[arg(value_enum)]
    kind: DumpKind,
    /// Program: raw bytecode, assembly or an ELF object.
    prog: PathBuf,
    /// For an ELF object: the program (entry symbol name).
    #[arg(long)]
    program: Option<String>,
    /// The code for verified programs (no bounds checks, no blinding)
    /// instead of the hardened code `ebpf run --engine jit` runs.
    #[arg(long)]
    trusted: bool,
    /// Input syntax.
    #[arg(long, value_enum, default_value = "auto")]
    syntax: Syntax,
}

/// Where the listing pretends the code starts.
const BASE: u64 = 0;

/// The listing of `e`, the code of `prog`: `; N: insn` before the machine
/// instructions of each BPF instruction, prologue and out-of-line stubs
/// included.
pub(crate) fn listing(prog: &Program, e: &Emitted) -> String {
    let mut heads: Vec<(usize, String)> = prog
        .iter()
        .filter_map(|(pc, insn)| {
            e.slots
                .get(pc)
                .copied()
                .flatten()
                .map(|o| (o, format!("{pc}: {insn}")))
        })
        .collect();
    heads.sort_by_key(|h| h.0);
    let mut decoder = Decoder::with_ip(64, &e.code, BASE, DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    fmt.options_mut().set_first_operand_char_index(8);
    let (mut out, mut text) = (String::new(), String::new());
    let mut next = heads.iter().peekable();
    for ins in &mut decoder {
        let off = usize::try_from(ins.ip().wrapping_sub(BASE)).unwrap_or(usize::MAX);
        while let Some((_, head)) = next.next_if(|(o, _)| *o <= off) {
            let _ = writeln!(out, "; {head}");
        }
        text.clear();
        fmt.format(&ins, &mut text);
        let _ = writeln!(out, "{:6x}:  {text}", ins.ip());
    }
    out
}

/// `ebpf dump jited PROG`.
pub(crate) fn dump(args: &DumpArgs) -> Result<(), Box<dyn std::error::Error>> {
    let DumpKind::Jited = args.kind;
    let loaded = read_input(&args.prog, args.syntax, args.program.as_deref())?;
    let prog = match loaded.prog_type.and_then(CtxKind::from_prog_type) {
        Some(kind) => convert_ctx_access(&loaded.program, kind.layout())
            .map_err(|e| format!("{}: {e}", args.prog.display()))?,
        None => loaded.program,
    };
    let config = if args.trusted {
        JitConfig::trusted()
    } else {
        JitConfig::hardened()
    };
    let emitted = Jit::emit(core::slice::from_ref(&prog), &config, BASE)?;
    std::io::stdout()
        .lock()
        .write_all(listing(&prog, &emitted).as_bytes())?;
    Ok(())
}
