//! Run one benchmark fixture (`benches/fixtures/NAME.bin` on `NAME.input`)
//! many times, for profilers:
//!
//! ```text
//! cargo build --release -p ebpf-interp --example profile
//! valgrind --tool=callgrind target/release/examples/profile sort 100
//! target/release/examples/profile sort 1 list     # the listing
//! ```
//!
//! `MODE` is `invoke` (default: `Interpreter::invoke` per run), `vm`
//! (`Vm::run` on a prepared entry) or `list` (print the program).

use std::path::PathBuf;

use ebpf_interp::{Interpreter, Invocation, Runtime};
use ebpf_isa::Program;
use ebpf_runtime::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("sum", String::as_str);
    let runs: u64 = args.get(1).map_or(Ok(1000), |s| s.parse())?;
    let mode = args.get(2).map_or("invoke", String::as_str);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/fixtures");
    let prog = Program::from_bytes(&std::fs::read(dir.join(format!("{name}.bin")))?)?;
    let mut input = std::fs::read(dir.join(format!("{name}.input")))?;
    if mode == "list" {
        for (pc, insn) in prog.insns().iter().enumerate() {
            println!("{pc:5}: {insn}");
        }
        return Ok(());
    }
    let interp = Interpreter::new(&prog)?;
    let mut rt = Runtime::with_config(Config {
        insn_budget: u64::MAX,
        ..Config::default()
    });
    let mut last = interp.invoke(&mut rt, Invocation::new(&mut input))?;
    if mode == "vm" {
        let mut vm = interp.prepare(&mut rt);
        for _ in 0..runs {
            last = vm.run(&mut input)?;
        }
    } else {
        for _ in 0..runs {
            last = interp.invoke(&mut rt, Invocation::new(&mut input))?;
        }
    }
    println!("{name}: r0 = {:#x}, {} insns per run", last.r0, last.insns);
    Ok(())
}
