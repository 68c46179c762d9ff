//! [`LoadError`]: everything that can go wrong reading an object file.

use ebpf_isa::DecodeError;

/// Why an ELF object could not be loaded.
///
/// Every variant names where the problem is (section name, byte offset in
/// that section, symbol index) and what it is.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The ELF header is not that of a little-endian 64-bit BPF relocatable
    /// object.
    #[error("ELF header: {what} (found {found:#x})")]
    Header {
        /// Which property failed (`class`, `byte order`, `type`, `machine`, ...).
        what: &'static str,
        /// The value found in the file.
        found: u64,
    },
    /// goblin could not parse the section or symbol tables.
    #[error("malformed ELF: {what}")]
    Malformed {
        /// goblin's description.
        what: String,
    },
    /// A section header is inconsistent with the file.
    #[error("section {section} at file offset {offset:#x}: {what}")]
    Section {
        /// Section name (or `#index` when the name itself is unreadable).
        section: String,
        /// The section's file offset.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A symbol table entry is inconsistent with its section.
    #[error("symbol #{index} ({name}): {what}")]
    Symbol {
        /// Index in `.symtab`.
        index: usize,
        /// Symbol name (possibly empty).
        name: String,
        /// What is wrong.
        what: &'static str,
    },
    /// A relocation could not be applied.
    #[error("relocation in {section} at offset {offset:#x} (type {kind}, symbol {symbol}): {what}")]
    Relocation {
        /// The section the relocation applies to.
        section: String,
        /// Byte offset of the relocated slot in that section.
        offset: u64,
        /// ELF relocation type (`R_BPF_*` number).
        kind: u32,
        /// Name of the symbol it refers to (possibly empty).
        symbol: String,
        /// What is wrong.
        what: &'static str,
    },
    /// A bpf-to-bpf call or function address points nowhere usable.
    #[error("{section} at offset {offset:#x}: {what}")]
    Call {
        /// Section of the instruction.
        section: String,
        /// Byte offset of the instruction in that section.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// The instructions of a function do not decode.
    #[error("function {function} in {section}: {source}")]
    Decode {
        /// Section holding the function.
        section: String,
        /// Function (entry symbol) being linked.
        function: String,
        /// The decoder's error; its index is a slot of the linked program.
        #[source]
        source: DecodeError,
    },
    /// A map definition is malformed.
    #[error("map {name} in {section} at offset {offset:#x}: {what}")]
    Map {
        /// Section holding the definition.
        section: String,
        /// Map (symbol) name.
        name: String,
        /// Byte offset of the definition in the section.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// The object uses a feature this loader does not implement yet.
    #[error("{section}: unsupported: {what}")]
    Unsupported {
        /// The section using the feature.
        section: String,
        /// The feature.
        what: &'static str,
    },
    /// The `.BTF.ext` section is malformed.
    #[error(".BTF.ext {subsection} at offset {offset:#x}: {what}")]
    BtfExt {
        /// `header`, `func_info`, `line_info` or `core_relo`.
        subsection: &'static str,
        /// Byte offset in `.BTF.ext`.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
}
