//! `ebpf run`: execute a program and print its return value, as
//! `bpftool prog run` does.

use std::path::PathBuf;
use std::time::Instant;

use ebpf_interp::Interpreter;
use ebpf_isa::Program;
use ebpf_jit_x86::{Jit, JitConfig};
use ebpf_runtime::ctx::{CtxKind, CtxSpec, convert_ctx_access};
use ebpf_runtime::{Invocation, Outcome, Runtime, Trap};

use crate::input::{Syntax, read_input};

/// Which engine executes the program.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub(crate) enum EngineArg {
    /// The interpreter (`ebpf-interp`).
    Interp,
    /// The x86-64 JIT (`ebpf-jit-x86`), hardened: every memory access
    /// checked, immediates blinded.
    Jit,
}

/// A prepared engine.
enum Engine {
    Interp(Interpreter),
    Jit(Jit),
}

impl Engine {
    fn new(kind: EngineArg, prog: &Program) -> Result<Engine, Box<dyn std::error::Error>> {
        Ok(match kind {
            EngineArg::Interp => Engine::Interp(Interpreter::new(prog)?),
            EngineArg::Jit => Engine::Jit(Jit::new(prog, JitConfig::hardened())?),
        })
    }

    fn invoke(&self, rt: &mut Runtime, inv: Invocation<'_>) -> Result<Outcome, Trap> {
        match self {
            Engine::Interp(vm) => vm.invoke(rt, inv),
            Engine::Jit(jit) => jit.invoke(rt, inv),
        }
    }
}

/// Arguments of `ebpf run`.
#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// Program: raw bytecode, assembly (kernel syntax or uBPF dialect) or
    /// an ELF object.
    prog: PathBuf,
    /// For an ELF object: the program to run (entry symbol name); may be
    /// left out when the object has one program. Its maps are created in
    /// the runtime, global data initialised.
    #[arg(long)]
    program: Option<String>,
    /// Input memory as hex bytes (`"01 02 ff"` or `0102ff`); r1 points to it, r2 is its length.
    /// For an XDP, tc or socket filter program of an ELF object: the packet,
    /// and r1 is its context, as `BPF_PROG_TEST_RUN` builds it.
    #[arg(long, conflicts_with = "data_in")]
    mem: Option<String>,
    /// Input memory (or packet, see --mem) from a file.
    #[arg(long = "data-in")]
    data_in: Option<PathBuf>,
    /// Engine.
    #[arg(long, value_enum, default_value = "interp")]
    engine: EngineArg,
    /// Run this many times and print the mean duration per run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    repeat: u64,
    /// Input syntax.
    #[arg(long, value_enum, default_value = "auto")]
    syntax: Syntax,
    /// Print machine-readable JSON.
    #[arg(long)]
    json: bool,
    /// Run an object's program even if the verifier refuses it (the
    /// engines check every memory access anyway).
    #[arg(long = "no-verify")]
    no_verify: bool,
}

/// Bytes from hex text: whitespace-separated tokens, each an even number
/// of hex digits, with an optional `0x` prefix.
pub(crate) fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for tok in text.split_whitespace() {
        let digits = tok.strip_prefix("0x").unwrap_or(tok);
        if digits.len() % 2 != 0 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "--mem: `{tok}` is not a sequence of hex byte pairs"
            ));
        }
        for i in (0..digits.len()).step_by(2) {
            let pair = digits.get(i..i + 2).unwrap_or_default();
            out.push(u8::from_str_radix(pair, 16).map_err(|e| format!("--mem: `{tok}`: {e}"))?);
        }
    }
    Ok(out)
}

pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn run(args: &RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    let loaded = read_input(&args.prog, args.syntax, args.program.as_deref())?;
    loaded.runnable(&args.prog)?;
    // An object's program is verified first, as loading it into the kernel
    // would.
    if !args.no_verify {
        crate::verify::verify_before_run(&loaded)
            .map_err(|e| format!("{}: {e}", args.prog.display()))?;
    }
    let prog = loaded.program;
    let input = match (&args.mem, &args.data_in) {
        (Some(hex), _) => parse_hex(hex)?,
        (None, Some(path)) => {
            std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        (None, None) => Vec::new(),
    };
    let mut rt = match &loaded.object {
        Some(obj) => crate::object::runtime(obj, &args.prog)?,
        None => Runtime::new(),
    };
    // An XDP, tc or socket filter program from an object gets the context
    // the kernel's test run would give it, its context loads converted.
    let ctx_kind = loaded.prog_type.and_then(CtxKind::from_prog_type);
    let prog = match ctx_kind {
        Some(kind) => convert_ctx_access(&prog, kind.layout())
            .map_err(|e| format!("{}: {e}", args.prog.display()))?,
        None => prog,
    };
    let engine = Engine::new(args.engine, &prog)?;
    // The packet must suit the context (at least an Ethernet header, at
    // most what the kernel's test run accepts): checked once, up front.
    if let Some(kind) = ctx_kind {
        CtxSpec::new(kind)
            .build(input.clone())
            .map_err(|e| format!("{}: packet: {e}", args.prog.display()))?;
    }
    let run_once = |rt: &mut Runtime| -> Result<u64, Trap> {
        let mut mem = input.clone();
        match ctx_kind.map(|k| CtxSpec::new(k).build(input.clone())) {
            Some(Ok(mut ctx)) => engine.invoke(rt, ctx.invocation()).map(|o| o.r0),
            _ => engine.invoke(rt, Invocation::new(&mut mem)).map(|o| o.r0),
        }
    };
    let start = Instant::now();
    let mut result = run_once(&mut rt);
    for _ in 1..args.repeat {
        if result.is_err() {
            break;
        }
        result = run_once(&mut rt);
    }
    let elapsed = start.elapsed();
    let mean_ns = u64::try_from(elapsed.as_nanos() / u128::from(args.repeat)).unwrap_or(u64::MAX);
    let trace = rt.trace().to_vec();
    match result {
        Ok(r0) if args.json => {
            let trace: Vec<String> = trace.iter().map(|t| json_str(t)).collect();
            println!(
                "{{\"retval\":{r0},\"duration\":{mean_ns},\"repeat\":{},\"trace\":[{}]}}",
                args.repeat,
                trace.join(",")
            );
        }
        Ok(r0) => {
            for line in &trace {
                println!("{line}");
            }
            if args.repeat > 1 {
                println!("Return value: {r0}, duration (average): {mean_ns}ns");
            } else {
                println!("Return value: {r0}");
            }
        }
        Err(trap) if args.json => {
            println!("{{\"error\":{}}}", json_str(&trap.to_string()));
            return Err("program trapped".into());
        }
        Err(trap) => return Err(format!("program trapped: {trap}").into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_input() {
        assert_eq!(parse_hex("01 02 ff"), Ok(vec![1, 2, 255]));
        assert_eq!(parse_hex("0x0102ff"), Ok(vec![1, 2, 255]));
        assert!(parse_hex("123").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(json_str("a\"b\n"), "\"a\\\"b\\u000a\"");
    }
}
