//! Opcode byte layout: class, size, mode, operation and source bits.
//!
//! The 8-bit opcode of an instruction is split as RFC 9669 section 3 describes:
//! the low three bits are the class; for load/store classes the next two bits
//! are the size and the top three the mode; for arithmetic and jump classes bit
//! 3 is the source (`K` immediate or `X` register) and the top four bits the
//! operation. These constants carry the kernel's names (`BPF_ALU64`, `BPF_MEM`,
//! ...) so that code reading like the kernel's is easy to check against it.

/// The opcode byte of an instruction, with accessors for its fields.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Opcode(pub u8);

impl Opcode {
    /// Instruction class (`BPF_LD` .. `BPF_ALU64`).
    #[must_use]
    pub const fn class(self) -> u8 {
        self.0 & 0x07
    }
    /// Size field of a load/store opcode (`BPF_W`, `BPF_H`, `BPF_B`, `BPF_DW`).
    #[must_use]
    pub const fn size(self) -> u8 {
        self.0 & 0x18
    }
    /// Mode field of a load/store opcode (`BPF_IMM`, `BPF_ABS`, `BPF_MEM`, ...).
    #[must_use]
    pub const fn mode(self) -> u8 {
        self.0 & 0xe0
    }
    /// Operation field of an arithmetic or jump opcode.
    #[must_use]
    pub const fn op(self) -> u8 {
        self.0 & 0xf0
    }
    /// Source bit of an arithmetic or jump opcode (`BPF_K` or `BPF_X`).
    #[must_use]
    pub const fn source(self) -> u8 {
        self.0 & 0x08
    }
}

impl core::fmt::Debug for Opcode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Opcode({:#04x})", self.0)
    }
}

impl core::fmt::Display for Opcode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#04x}", self.0)
    }
}

// Classes.
/// Non-standard load class (ld_imm64, legacy packet access).
pub const BPF_LD: u8 = 0x00;
/// Load into register class.
pub const BPF_LDX: u8 = 0x01;
/// Store immediate class.
pub const BPF_ST: u8 = 0x02;
/// Store register class (also atomics).
pub const BPF_STX: u8 = 0x03;
/// 32-bit arithmetic class.
pub const BPF_ALU: u8 = 0x04;
/// 64-bit jump class.
pub const BPF_JMP: u8 = 0x05;
/// 32-bit jump class.
pub const BPF_JMP32: u8 = 0x06;
/// 64-bit arithmetic class.
pub const BPF_ALU64: u8 = 0x07;

// Sizes.
/// 32-bit access.
pub const BPF_W: u8 = 0x00;
/// 16-bit access.
pub const BPF_H: u8 = 0x08;
/// 8-bit access.
pub const BPF_B: u8 = 0x10;
/// 64-bit access.
pub const BPF_DW: u8 = 0x18;

// Modes.
/// 64-bit immediate (ld_imm64).
pub const BPF_IMM: u8 = 0x00;
/// Legacy absolute packet access.
pub const BPF_ABS: u8 = 0x20;
/// Legacy indirect packet access.
pub const BPF_IND: u8 = 0x40;
/// Regular memory access.
pub const BPF_MEM: u8 = 0x60;
/// Sign-extending load.
pub const BPF_MEMSX: u8 = 0x80;
/// Atomic operation.
pub const BPF_ATOMIC: u8 = 0xc0;

// Sources.
/// Immediate source.
pub const BPF_K: u8 = 0x00;
/// Register source.
pub const BPF_X: u8 = 0x08;
/// Byte-swap to little endian (`BPF_END` with `BPF_K`).
pub const BPF_TO_LE: u8 = 0x00;
/// Byte-swap to big endian (`BPF_END` with `BPF_X`).
pub const BPF_TO_BE: u8 = 0x08;

// ALU operations.
/// Addition.
pub const BPF_ADD: u8 = 0x00;
/// Subtraction.
pub const BPF_SUB: u8 = 0x10;
/// Multiplication.
pub const BPF_MUL: u8 = 0x20;
/// Division (signed when `off == 1`).
pub const BPF_DIV: u8 = 0x30;
/// Bitwise or.
pub const BPF_OR: u8 = 0x40;
/// Bitwise and.
pub const BPF_AND: u8 = 0x50;
/// Left shift.
pub const BPF_LSH: u8 = 0x60;
/// Logical right shift.
pub const BPF_RSH: u8 = 0x70;
/// Negation.
pub const BPF_NEG: u8 = 0x80;
/// Modulo (signed when `off == 1`).
pub const BPF_MOD: u8 = 0x90;
/// Bitwise exclusive or.
pub const BPF_XOR: u8 = 0xa0;
/// Move (sign-extending with `off` 8/16/32, address-space cast with `off` 1).
pub const BPF_MOV: u8 = 0xb0;
/// Arithmetic right shift.
pub const BPF_ARSH: u8 = 0xc0;
/// Byte order conversion.
pub const BPF_END: u8 = 0xd0;

// Jump operations.
/// Unconditional jump.
pub const BPF_JA: u8 = 0x00;
/// Jump if equal.
pub const BPF_JEQ: u8 = 0x10;
/// Jump if greater (unsigned).
pub const BPF_JGT: u8 = 0x20;
/// Jump if greater or equal (unsigned).
pub const BPF_JGE: u8 = 0x30;
/// Jump if `dst & src`.
pub const BPF_JSET: u8 = 0x40;
/// Jump if not equal.
pub const BPF_JNE: u8 = 0x50;
/// Jump if greater (signed).
pub const BPF_JSGT: u8 = 0x60;
/// Jump if greater or equal (signed).
pub const BPF_JSGE: u8 = 0x70;
/// Function call.
pub const BPF_CALL: u8 = 0x80;
/// Return.
pub const BPF_EXIT: u8 = 0x90;
/// Jump if less (unsigned).
pub const BPF_JLT: u8 = 0xa0;
/// Jump if less or equal (unsigned).
pub const BPF_JLE: u8 = 0xb0;
/// Jump if less (signed).
pub const BPF_JSLT: u8 = 0xc0;
/// Jump if less or equal (signed).
pub const BPF_JSLE: u8 = 0xd0;
/// Conditional pseudo jump (`may_goto`).
pub const BPF_JCOND: u8 = 0xe0;

// Atomic operations (in `imm`).
/// Fetch flag: the old value is returned in `src`.
pub const BPF_FETCH: i32 = 0x01;
/// Atomic exchange.
pub const BPF_XCHG: i32 = 0xe0 | BPF_FETCH;
/// Atomic compare and exchange.
pub const BPF_CMPXCHG: i32 = 0xf0 | BPF_FETCH;
/// Load-acquire.
pub const BPF_LOAD_ACQ: i32 = 0x100;
/// Store-release.
pub const BPF_STORE_REL: i32 = 0x110;

// Pseudo sources.
/// `src` of a call to a bpf-to-bpf function.
pub const BPF_PSEUDO_CALL: u8 = 1;
/// `src` of a call to a kernel function.
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;
/// `src` of ld_imm64 naming a map by file descriptor.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `src` of ld_imm64 naming a map value address by map fd and offset.
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `src` of ld_imm64 naming a kernel variable by BTF id.
pub const BPF_PSEUDO_BTF_ID: u8 = 3;
/// `src` of ld_imm64 naming a function address.
pub const BPF_PSEUDO_FUNC: u8 = 4;
/// `src` of ld_imm64 naming a map by index into the program's map array.
pub const BPF_PSEUDO_MAP_IDX: u8 = 5;
/// `src` of ld_imm64 naming a map value by map index and offset.
pub const BPF_PSEUDO_MAP_IDX_VALUE: u8 = 6;
/// `off` of an ALU64 `mov` that is an address-space cast.
pub const BPF_ADDR_SPACE_CAST: i16 = 1;
