//! `ebpf`: bpftool-like verbs on program files.
//!
//! * `ebpf asm FILE [-o OUT]` assembles kernel-syntax or uBPF-dialect text.
//! * `ebpf disasm FILE [--syntax kernel|ubpf] [--linum]` prints a program;
//!   `--linum` (ELF objects built with `-g`) prints each `.BTF.ext` source
//!   line before the instruction it starts at, as `bpftool prog dump
//!   xlated linum` does.
//! * `ebpf run PROG [--mem HEX | --data-in FILE] [--repeat N] [--json]` runs a
//!   program in the interpreter and prints its return value.
//! * `ebpf cfg PROG [--format text|dot] [--unprivileged]` prints the
//!   control-flow graph, or the kernel's structural rejection.
//! * `ebpf object OBJ.o` lists an ELF object's programs (section, type,
//!   instruction count, kernel tag, the relocations the loader applied) and
//!   maps.
//!
//! PROG is raw bytecode (8 bytes per slot), assembly in either syntax, or an
//! ELF object (`clang -target bpf -c`), read by `ebpf-loader`; the kind is
//! detected from the contents unless `--syntax` says otherwise. For an
//! object, `disasm` and `run` take `--program NAME` (needed when it has
//! more than one; `disasm` prints them all without it), and `run` creates
//! the object's maps in the interpreter's runtime with global data
//! initialised.
#![forbid(unsafe_code)]

mod cfg;
mod dump;
mod input;
mod object;
mod run;
mod verify;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use input::{Syntax, read_program};

#[derive(Parser)]
#[command(
    name = "ebpf",
    version,
    about = "Assemble, disassemble and run eBPF programs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output syntax of `disasm`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
enum OutSyntax {
    /// The kernel's syntax, as `bpftool prog dump xlated` prints it.
    Kernel,
    /// The uBPF / conformance-suite dialect.
    Ubpf,
}

#[derive(Subcommand)]
enum Command {
    /// Assemble a program; writes bytecode to OUT, or hex slots to stdout.
    Asm {
        /// Assembly file (kernel syntax or uBPF dialect).
        file: PathBuf,
        /// Where to write the bytecode (8 bytes per slot).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Input syntax.
        #[arg(long, value_enum, default_value = "auto")]
        syntax: Syntax,
    },
    /// Disassemble a program (bytecode, assembly or ELF object).
    Disasm {
        /// Program file.
        file: PathBuf,
        /// For an ELF object: the program (entry symbol name); all by default.
        #[arg(long)]
        program: Option<String>,
        /// Output syntax.
        #[arg(long, value_enum, default_value = "kernel")]
        syntax: OutSyntax,
        /// Input syntax.
        #[arg(long = "input-syntax", value_enum, default_value = "auto")]
        input_syntax: Syntax,
        /// For an ELF object with `.BTF.ext`: print the source line (with
        /// file, line and column) before the instruction each line record
        /// starts at, like `bpftool prog dump xlated ... linum`.
        #[arg(long)]
        linum: bool,
    },
    /// Run a program in an engine and print its return value.
    Run(run::RunArgs),
    /// Print the control-flow graph (text or Graphviz DOT), or the kernel's
    /// structural rejection.
    Cfg(cfg::CfgArgs),
    /// List an ELF object's programs, relocations and maps.
    Object(object::ObjectArgs),
    /// Print what an engine makes of a program: `ebpf dump jited PROG`
    /// lists the JIT's x86-64 code.
    Dump(dump::DumpArgs),
    /// Verify a program as the kernel would for a privileged loader: the
    /// verdict (exit status 1 when rejected), the kernel's error message,
    /// and with --log the instruction walk.
    Verify(verify::VerifyArgs),
}

/// An error already reported on stdout: exit with status 1, print nothing.
#[derive(Debug)]
struct Silent;

impl std::fmt::Display for Silent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("rejected")
    }
}

impl std::error::Error for Silent {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Asm {
            file,
            output,
            syntax,
        } => asm(&file, output.as_deref(), syntax),
        Command::Disasm {
            file,
            program,
            syntax,
            input_syntax,
            linum,
        } => disasm(&file, program.as_deref(), syntax, input_syntax, linum),
        Command::Run(args) => run::run(&args),
        Command::Cfg(args) => cfg::cfg(&args),
        Command::Object(args) => object::object(&args),
        Command::Dump(args) => dump::dump(&args),
        Command::Verify(args) => verify::verify(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `ebpf disasm x.o | head`: the reader left; that is not an error.
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Silent>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ebpf: error: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn asm(file: &std::path::Path, output: Option<&std::path::Path>, syntax: Syntax) -> CliResult {
    let syntax = if syntax == Syntax::Raw {
        Syntax::Auto
    } else {
        syntax
    };
    let prog = read_program(file, syntax)?;
    let bytes = prog.to_bytes();
    match output {
        Some(out) => std::fs::write(out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            for slot in bytes.chunks(8) {
                let hex: Vec<String> = slot.iter().map(|b| format!("{b:02x}")).collect();
                writeln!(stdout, "{}", hex.join(" "))?;
            }
        }
    }
    Ok(())
}

fn disasm(
    file: &std::path::Path,
    program: Option<&str>,
    syntax: OutSyntax,
    input_syntax: Syntax,
    linum: bool,
) -> CliResult {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if linum {
        if syntax != OutSyntax::Kernel {
            return Err("--linum needs --syntax kernel".into());
        }
        if !object::is_elf(&bytes) {
            return Err(format!(
                "{}: --linum needs an ELF object (line info comes from .BTF.ext)",
                file.display()
            )
            .into());
        }
        let obj = object::parse(file, &bytes)?;
        let chosen: Vec<&ebpf_loader::ObjProgram> = match program {
            Some(_) => vec![object::select(&obj, file, program)?],
            None => obj.programs.iter().collect(),
        };
        let mut stdout = std::io::stdout().lock();
        for (i, p) in chosen.iter().enumerate() {
            if program.is_none() {
                if i > 0 {
                    writeln!(stdout)?;
                }
                writeln!(stdout, "{} (section {:?}):", p.name, p.section)?;
            }
            write!(stdout, "{}", object::disasm_linum(p))?;
        }
        return Ok(());
    }
    if program.is_none() && object::is_elf(&bytes) {
        // Every program of the object, each under a header line.
        let obj = object::parse(file, &bytes)?;
        let mut stdout = std::io::stdout().lock();
        for (i, p) in obj.programs.iter().enumerate() {
            if i > 0 {
                writeln!(stdout)?;
            }
            writeln!(stdout, "{} (section {:?}):", p.name, p.section)?;
            disasm_one(&mut stdout, &p.program, syntax)?;
        }
        return Ok(());
    }
    let prog = input::read_input(file, input_syntax, program)?.program;
    disasm_one(&mut std::io::stdout().lock(), &prog, syntax)
}

fn disasm_one(stdout: &mut impl Write, prog: &ebpf_isa::Program, syntax: OutSyntax) -> CliResult {
    match syntax {
        OutSyntax::Kernel => {
            let width = prog.len().saturating_sub(1).to_string().len().max(1);
            for (idx, insn) in prog.iter() {
                writeln!(stdout, "{idx:>width$}: {}", insn.kernel_log())?;
            }
        }
        OutSyntax::Ubpf => write!(stdout, "{}", ebpf_isa::ubpf::disassemble(prog))?,
    }
    Ok(())
}

/// Whether `e` is a write to a closed pipe.
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
