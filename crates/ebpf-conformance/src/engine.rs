//! The engines a test can run in, behind one function.

use ebpf_interp::Interpreter;
use ebpf_isa::{Program, RawInsn};
use ebpf_jit_x86::{Jit, JitConfig};
use ebpf_runtime::{HelperContext, Runtime, Trap};

use crate::run::EngineResult;

/// Which engine runs the tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Engine {
    /// `ebpf-interp`.
    Interp,
    /// `ebpf-jit-x86`, hardened (checked accesses, budget, blinding): the
    /// only JIT mode that is safe for arbitrary suite programs.
    Jit,
}

/// The suite's helper 5: returns its first argument (FORMAT.md a.6).
fn echo(_: &mut HelperContext<'_>, args: [u64; 5]) -> Result<u64, Trap> {
    Ok(args[0])
}

/// A runtime as the suite expects it: helper 5 installed, nothing else
/// beyond the standard helpers.
#[must_use]
pub fn suite_runtime() -> Runtime {
    let mut rt = Runtime::new();
    rt.register_helper(5, "echo", echo);
    rt
}

impl Engine {
    /// Decode `slots`, prepare the engine and run with `r1` = `mem`
    /// (writable), `r2` = its length. Any rejection or trap is the `Err`
    /// message.
    pub fn execute(self, rt: &mut Runtime, slots: &[RawInsn], mem: &mut [u8]) -> EngineResult {
        let program = Program::from_raw(slots).map_err(|e| e.to_string())?;
        match self {
            Engine::Interp => {
                let vm = Interpreter::new(&program).map_err(|e| e.to_string())?;
                vm.run(rt, mem).map_err(|e| e.to_string())
            }
            Engine::Jit => {
                let jit = Jit::new(&program, JitConfig::hardened()).map_err(|e| e.to_string())?;
                jit.run(rt, mem).map_err(|e| e.to_string())
            }
        }
    }
}
