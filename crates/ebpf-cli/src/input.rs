//! Reading a program file: raw bytecode, assembly in either syntax, or an
//! ELF object (one of its programs, through `ebpf-loader`).

use std::path::{Path, PathBuf};

use ebpf_isa::{AsmError, DecodeError, Program};

/// Which text syntax a program file uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub(crate) enum Syntax {
    /// Decide from the contents: raw bytecode if binary, uBPF dialect if
    /// the text uses `%rN` registers, kernel syntax otherwise.
    Auto,
    /// The kernel's syntax (`r0 = *(u32 *)(r1 +4)`).
    Kernel,
    /// The uBPF / conformance-suite dialect (`ldxw %r0, [%r1+4]`).
    Ubpf,
    /// Raw little-endian bytecode, 8 bytes per slot.
    Raw,
}

/// Why a program file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Decode { path: PathBuf, source: DecodeError },
    #[error("{path}:{source}")]
    Asm { path: PathBuf, source: AsmError },
    #[error("{path}: {source}")]
    Object {
        path: PathBuf,
        source: ebpf_loader::LoadError,
    },
    #[error("{path}: no program named `{name}` (programs: {programs})")]
    NoSuchProgram {
        path: PathBuf,
        name: String,
        programs: String,
    },
    #[error("{path}: the object has {count} programs ({programs}): choose one with --program")]
    WhichProgram {
        path: PathBuf,
        count: usize,
        programs: String,
    },
    #[error(
        "{path}: program `{name}` has {count} CO-RE relocation(s), which the loader does not apply \
         yet: its field offsets are clang's guesses, so running it could read the wrong fields \
         (`ebpf object` lists them; `ebpf disasm` still works)"
    )]
    NeedsCoRe {
        path: PathBuf,
        name: String,
        count: usize,
    },
    #[error(
        "{path}: not UTF-8 text at byte {offset}, and not raw bytecode (length {len} is not a multiple of 8)"
    )]
    NotText {
        path: PathBuf,
        offset: usize,
        len: usize,
    },
}

/// The syntax [`Syntax::Auto`] picks for `bytes`.
pub(crate) fn detect(bytes: &[u8]) -> Syntax {
    let text = std::str::from_utf8(bytes).ok();
    match text {
        Some(t) if t.chars().all(|c| !c.is_control() || c.is_whitespace()) => {
            if t.contains("%r") {
                Syntax::Ubpf
            } else {
                Syntax::Kernel
            }
        }
        _ => Syntax::Raw,
    }
}

/// A program read from a file, with its object when the file is ELF.
pub(crate) struct Input {
    /// The program (for an object: linked, maps as `MapIdx`/`MapIdxValue`).
    pub(crate) program: Program,
    /// The parsed object, for ELF input.
    pub(crate) object: Option<ebpf_loader::Object>,
    /// For ELF input: the selected program's name and its number of CO-RE
    /// relocations (which are not applied).
    pub(crate) core_relos: Option<(String, usize)>,
    /// For ELF input: the selected program's type (`enum bpf_prog_type`);
    /// `None` for a function that is not a program (a `.text` function).
    pub(crate) prog_type: Option<u32>,
    /// For ELF input: the program's source-line records (empty without
    /// `.BTF.ext`, and for functions that are not programs).
    pub(crate) line_info: Vec<ebpf_loader::LineInfo>,
    /// For ELF input: the program has BTF `func_info` records.
    pub(crate) func_info: bool,
    /// For ELF input: the BTF signatures of the program's functions.
    pub(crate) funcs: Vec<(usize, ebpf_loader::BtfFunc)>,
}

impl Input {
    /// Refuse a program whose CO-RE relocations would have to be applied
    /// before it can run.
    pub(crate) fn runnable(&self, path: &Path) -> Result<(), InputError> {
        match &self.core_relos {
            Some((name, count)) if *count > 0 => Err(InputError::NeedsCoRe {
                path: path.into(),
                name: name.clone(),
                count: *count,
            }),
            _ => Ok(()),
        }
    }
}

/// Read and decode or assemble the program in `path` (an ELF object's only
/// program).
pub(crate) fn read_program(path: &Path, syntax: Syntax) -> Result<Program, InputError> {
    read_input(path, syntax, None).map(|i| i.program)
}

/// Read the program in `path`; for an ELF object, the program named
/// `program`, or its only one. `program` is ignored for other files.
pub(crate) fn read_input(
    path: &Path,
    syntax: Syntax,
    program: Option<&str>,
) -> Result<Input, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError::Io {
        path: path.into(),
        source,
    })?;
    if crate::object::is_elf(&bytes) {
        let obj = crate::object::parse(path, &bytes)?;
        // Any function can be an entry point (as libbpf-based tools
        // allow): a `.text` function when no program has the name.
        if let Some(name) = program
            && obj.program(name).is_none()
            && let Some(f) = obj.function(name)
        {
            let func_info = obj.btf.is_some();
            return Ok(Input {
                program: f.program.clone(),
                object: Some(obj),
                core_relos: None,
                prog_type: None,
                line_info: Vec::new(),
                func_info,
                funcs: Vec::new(),
            });
        }
        let selected = crate::object::select(&obj, path, program)?;
        let program = selected.program.clone();
        let core_relos = Some((selected.name.clone(), selected.core_relos));
        let prog_type = Some(selected.prog_type.0);
        let line_info = selected.line_info.clone();
        let func_info = !selected.func_info.is_empty();
        let funcs = selected.funcs.clone();
        return Ok(Input {
            program,
            object: Some(obj),
            core_relos,
            prog_type,
            line_info,
            func_info,
            funcs,
        });
    }
    decode(path, &bytes, syntax).map(|program| Input {
        program,
        object: None,
        core_relos: None,
        prog_type: None,
        line_info: Vec::new(),
        func_info: false,
        funcs: Vec::new(),
    })
}

fn decode(path: &Path, bytes: &[u8], syntax: Syntax) -> Result<Program, InputError> {
    let syntax = if syntax == Syntax::Auto {
        detect(bytes)
    } else {
        syntax
    };
    let text = || match std::str::from_utf8(bytes) {
        Ok(t) => Ok(t),
        Err(e) => Err(InputError::NotText {
            path: path.into(),
            offset: e.valid_up_to(),
            len: bytes.len(),
        }),
    };
    let asm_err = |source| InputError::Asm {
        path: path.into(),
        source,
    };
    match syntax {
        Syntax::Raw => Program::from_bytes(bytes).map_err(|source| InputError::Decode {
            path: path.into(),
            source,
        }),
        Syntax::Kernel => ebpf_isa::asm::assemble(text()?).map_err(asm_err),
        Syntax::Ubpf | Syntax::Auto => ebpf_isa::ubpf::assemble(text()?).map_err(asm_err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_syntax() {
        assert_eq!(detect(b"r0 = 1\nexit\n"), Syntax::Kernel);
        assert_eq!(detect(b"mov %r0, 1\nexit\n"), Syntax::Ubpf);
        assert_eq!(detect(&[0xb7, 0, 0, 0, 1, 0, 0, 0]), Syntax::Raw);
    }
}
