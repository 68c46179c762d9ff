//! Load eBPF ELF objects as clang emits them (`clang -target bpf -c`):
//! programs linked with their subprograms, maps, relocations resolved, in
//! the shape libbpf gives them to the kernel, but without a kernel.
//!
//! ```
//! # let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/build/globals.v3.o")).unwrap();
//! use ebpf_isa::{Imm64, Insn};
//! use ebpf_loader::{Object, ProgramType};
//!
//! let obj = Object::parse_named(&bytes, "globals")?;
//! let prog = obj.program("tc_sum").unwrap();
//! assert_eq!(prog.prog_type, ProgramType::SCHED_CLS);
//! assert_eq!(prog.license.as_deref(), Some("GPL"));
//! // `counter` lives in .data, which became map 0, "globals.data".
//! assert_eq!(obj.maps[0].name, "globals.data");
//! assert_eq!(
//!     prog.program.insns()[0],
//!     Insn::LdImm64 { dst: ebpf_isa::Reg::R2, imm: Imm64::MapIdxValue { idx: 0, off: 0 } }
//! );
//! println!("{obj}"); // the text dump the snapshot tests use
//! # Ok::<(), ebpf_loader::LoadError>(())
//! ```
//!
//! Who uses it: the facade and the CLI load objects with it, and
//! `ebpf-kernel` hands its programs to the real kernel. It depends only on
//! `ebpf-isa` (layer 1).
//!
//! # What it does
//!
//! * **ELF checks** (goblin underneath): little-endian ELF64, `ET_REL`,
//!   `EM_BPF`, no program headers; every section range, symbol section
//!   index and relocation symbol index is checked against the file before
//!   use. Hostile input gives a [`LoadError`] (naming section, offset and
//!   what), never a panic; `tests/robustness.rs` truncates and mutates every
//!   fixture to hold that. `clippy::arithmetic_side_effects` is on.
//! * **Programs**: every `SHF_EXECINSTR` section except `.text` is a program
//!   section; each global `STT_FUNC` symbol in it is one program (a section
//!   without function symbols is one program named after the section). The
//!   `SEC()` name gives the [`ProgramType`] and [`AttachType`] by libbpf's
//!   table ([`section_def`]). `license` and `version` sections are read.
//! * **Subprograms**: functions reached through `call` (with an
//!   `R_BPF_64_32` relocation, or resolved by clang inside one section)
//!   or through a function address (`ld_imm64` with `R_BPF_64_64` against
//!   code, becoming `Imm64::Func`) are appended after the entry function,
//!   transitively, each once, and the offsets are rewritten to the new
//!   positions. Every function symbol, `.text` ones included, is also
//!   linked as an entry in [`Object::functions`].
//! * **Maps**: legacy `maps` section records (`struct bpf_map_def`, record
//!   size = section size / number of map symbols, as libbpf) and global
//!   data sections (`.data*`, `.rodata*`, `.bss*`) as one-entry array maps
//!   named like libbpf ([`internal_map_name`]), with the section bytes as
//!   initial value. `ld_imm64` relocations become `Imm64::MapIdx(i)` for a
//!   map symbol and `Imm64::MapIdxValue { idx, off }` for a global
//!   variable (`off` = symbol value + the instruction's immediate).
//!   BTF-defined maps in `.maps` (`__uint(type/max_entries/map_flags/
//!   pinning/key_size/value_size, N)`, `__type(key/value, T)`) are read
//!   from `.BTF` and referenced the same way. `__array(values, T)` makes a
//!   map-in-map (`T` a map definition: [`MapDef::inner`], the template) or
//!   a program array (`T` a function type); the slots the object fills
//!   (`.values = { [i] = &x }`, `R_BPF_64_ABS64` relocations in `.maps`)
//!   are [`MapDef::init`] ([`MapInit::Map`] or [`MapInit::Program`]).
//!   Unknown relocation kinds, relocations outside their section or on the
//!   wrong instruction are [`LoadError::Relocation`].
//!
//! * **`.BTF.ext`** (clang `-g`): the header and the `func_info` and
//!   `line_info` subsections are read (records per ELF section, `insn_off`
//!   in bytes from the section start; file names and source lines from
//!   the `.BTF` string table) and carried through linking: each
//!   [`ObjProgram`] has [`ObjProgram::func_info`] (`(slot, FUNC type id)`)
//!   and [`ObjProgram::line_info`] ([`LineInfo`]) by slot of the linked
//!   program, appended subprograms' records shifted to where they were
//!   placed. `core_relo` records are only counted
//!   ([`ObjProgram::core_relos`]: present but **not applied**). Malformed
//!   `.BTF.ext` (bad header, record sizes below the minimum, records past
//!   their subsection, `insn_off` not an instruction of its section,
//!   section names that are not code sections, string offsets outside
//!   `.BTF`, `func_info` type ids that are not `FUNC`) is
//!   [`LoadError::BtfExt`]; `tests/robustness.rs` mutates it densely.
//! * **Tags**: each program's [`ObjProgram::tag`] is the tag the kernel
//!   reports for it once loaded with map fds patched in
//!   (`bpf_prog_calc_tag`: SHA-256 since Linux 6.18, SHA-1 before, over
//!   the slots with map immediates zeroed, see [`prog_tag`]); `ebpf-kernel`'s `tests/loader_agreement.rs` checks it
//!   against the running kernel for every fixture program.
//!
//! # What it does not do (yet)
//!
//! * **BTF**: only what `.maps` and `.BTF.ext` need is read (header,
//!   types, strings, type sizes); BTF is not validated beyond that.
//!   [`Object::btf`] is the section with `DATASEC` sizes and variable
//!   offsets filled in (libbpf's fixup), which the kernel accepts for every
//!   fixture; libbpf's other rewrites for old kernels (sanitizing kinds a
//!   kernel lacks) are not done. Line and
//!   func info are not checked the way the kernel checks them at load
//!   (first record at slot 0 of every subprogram, strictly increasing
//!   offsets) and are not attached to [`Object::functions`]. Unlike
//!   libbpf, which warns and drops a broken `.BTF.ext`, a malformed one
//!   fails the load.
//! * **CO-RE** (`preserve_access_index` field relocations), **externs**
//!   (`__ksym`, `__kconfig`, kfunc calls: an undefined symbol is an error),
//!   `.struct_ops`, `.kconfig`, `.addr_space` (arena) and `.rel`
//!   relocations *inside* data sections (pointers in `.data`) are not
//!   handled.
//! * Internal map flags follow libbpf on a current kernel, without
//!   feature probing: `BPF_F_RDONLY_PROG` for `.rodata*`, and
//!   `BPF_F_MMAPABLE` when the section's BTF DATASEC has a non-static
//!   variable.
//! * Every function symbol is linked eagerly as its own entry
//!   ([`Object::functions`]), so parse time grows with functions × code
//!   size; a hostile object with very many functions is slow (never
//!   unsafe). Sections named `.text.*` (`-ffunction-sections`) are treated
//!   as program sections, not as more `.text`.
//! * No verification: jumps crossing function boundaries and other
//!   semantic errors are left to `ebpf-verifier`.
#![forbid(unsafe_code)]
#![warn(clippy::arithmetic_side_effects)]

mod btf;
mod btf_ext;
mod dump;
mod elf;
mod error;
mod maps;
mod object;
mod prog_type;
mod tag;

pub use btf::{BtfFunc, BtfParam};
pub use btf_ext::LineInfo;
pub use error::LoadError;
pub use maps::{
    BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, MapDef, MapInit, MapKind, MapType, internal_map_name,
};
pub use object::{
    ObjFunction, ObjProgram, Object, R_BPF_64_32, R_BPF_64_64, R_BPF_64_ABS32, R_BPF_64_ABS64,
    R_BPF_64_NODYLD32, R_BPF_NONE,
};
pub use prog_type::{AttachType, ProgramType, SectionDef, section_def};
pub use tag::{TagHash, prog_tag, sha1, sha256, tag_hex};
