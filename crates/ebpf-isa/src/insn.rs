//! The two levels of an instruction: [`RawInsn`] (wire form) and [`Insn`]
//! (decoded, validated).

use crate::opcode::*;

/// A register number, `r0` to `r10`. Construction checks the range, so a
/// `Reg` in hand is always valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Reg(u8);

impl Reg {
    /// Return value, scratch.
    pub const R0: Reg = Reg(0);
    /// First argument.
    pub const R1: Reg = Reg(1);
    /// Second argument.
    pub const R2: Reg = Reg(2);
    /// Third argument.
    pub const R3: Reg = Reg(3);
    /// Fourth argument.
    pub const R4: Reg = Reg(4);
    /// Fifth argument.
    pub const R5: Reg = Reg(5);
    /// Callee-saved.
    pub const R6: Reg = Reg(6);
    /// Callee-saved.
    pub const R7: Reg = Reg(7);
    /// Callee-saved.
    pub const R8: Reg = Reg(8);
    /// Callee-saved.
    pub const R9: Reg = Reg(9);
    /// Read-only frame pointer.
    pub const R10: Reg = Reg(10);
    /// Number of registers (`MAX_BPF_REG` in the kernel).
    pub const COUNT: usize = 11;

    /// The register numbered `n`, or `None` if `n > 10`.
    #[must_use]
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 { Some(Reg(n)) } else { None }
    }

    /// The register number, 0 to 10.
    #[must_use]
    pub const fn num(self) -> u8 {
        self.0
    }

    /// The register number as an index, 0 to 10.
    #[must_use]
    pub const fn idx(self) -> usize {
        self.0 as usize
    }
}

impl core::fmt::Display for Reg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// One 8-byte instruction slot exactly as it appears on the wire.
///
/// Conversion to and from bytes is lossless: `dst` and `src` keep the full
/// 4-bit nibbles, even values above 10 that no valid instruction uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct RawInsn {
    /// Opcode byte.
    pub code: u8,
    /// Destination register nibble (0..=15).
    pub dst: u8,
    /// Source register nibble (0..=15).
    pub src: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Signed 32-bit immediate.
    pub imm: i32,
}

impl RawInsn {
    /// Size of one slot in bytes.
    pub const SIZE: usize = 8;

    /// Build a slot from its fields; `dst` and `src` are masked to 4 bits.
    #[must_use]
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
        RawInsn {
            code,
            dst: dst & 0xf,
            src: src & 0xf,
            off,
            imm,
        }
    }

    /// Decode the little-endian wire form.
    #[must_use]
    pub const fn from_bytes(b: [u8; 8]) -> RawInsn {
        RawInsn {
            code: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The little-endian wire form.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.code,
            (self.dst & 0x0f) | (self.src << 4),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    /// The slot as the 64-bit little-endian number the conformance suite's
    /// `-- raw` sections use.
    #[must_use]
    pub const fn to_u64(self) -> u64 {
        u64::from_le_bytes(self.to_bytes())
    }

    /// Inverse of [`RawInsn::to_u64`].
    #[must_use]
    pub const fn from_u64(v: u64) -> RawInsn {
        RawInsn::from_bytes(v.to_le_bytes())
    }

    /// The opcode byte with its field accessors.
    #[must_use]
    pub const fn opcode(self) -> Opcode {
        Opcode(self.code)
    }
}

/// Split a byte slice into instruction slots. The length must be a multiple
/// of 8; the error gives the length otherwise.
pub fn raw_from_bytes(bytes: &[u8]) -> Result<Vec<RawInsn>, crate::DecodeError> {
    if !bytes.len().is_multiple_of(RawInsn::SIZE) {
        return Err(crate::DecodeError::Truncated { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(RawInsn::SIZE)
        .map(|c| RawInsn::from_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

/// Operand width of an arithmetic or jump instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Width {
    /// 32-bit (`BPF_ALU`, `BPF_JMP32`): registers print as `wN`.
    W32,
    /// 64-bit (`BPF_ALU64`, `BPF_JMP`).
    W64,
}

/// Size of a memory access.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Size {
    /// 1 byte.
    B,
    /// 2 bytes.
    H,
    /// 4 bytes.
    W,
    /// 8 bytes.
    DW,
}

impl Size {
    /// Number of bytes accessed.
    #[must_use]
    pub const fn bytes(self) -> u8 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
    /// The `BPF_SIZE` opcode bits.
    #[must_use]
    pub const fn bits(self) -> u8 {
        match self {
            Size::B => BPF_B,
            Size::H => BPF_H,
            Size::W => BPF_W,
            Size::DW => BPF_DW,
        }
    }
    pub(crate) const fn from_bits(b: u8) -> Size {
        match b & 0x18 {
            BPF_B => Size::B,
            BPF_H => Size::H,
            BPF_W => Size::W,
            _ => Size::DW,
        }
    }
    /// The kernel's unsigned type name (`u8` .. `u64`).
    #[must_use]
    pub const fn utype(self) -> &'static str {
        match self {
            Size::B => "u8",
            Size::H => "u16",
            Size::W => "u32",
            Size::DW => "u64",
        }
    }
    /// The kernel's signed type name (`s8` .. `s64`).
    #[must_use]
    pub const fn stype(self) -> &'static str {
        match self {
            Size::B => "s8",
            Size::H => "s16",
            Size::W => "s32",
            Size::DW => "s64",
        }
    }
}

/// Second operand of an ALU, jump or store instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Operand {
    /// A register (`BPF_X`).
    Reg(Reg),
    /// A 32-bit immediate (`BPF_K`), sign-extended for 64-bit operations.
    Imm(i32),
}

/// Binary arithmetic operations.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AluOp {
    /// `+=`
    Add,
    /// `-=`
    Sub,
    /// `*=`
    Mul,
    /// Unsigned `/=`; x / 0 = 0.
    Div,
    /// Signed `s/=` (cpu v4); x / 0 = 0.
    SDiv,
    /// `|=`
    Or,
    /// `&=`
    And,
    /// `<<=`, amount masked to the width.
    Lsh,
    /// Logical `>>=`, amount masked.
    Rsh,
    /// Unsigned `%=`; x % 0 = x.
    Mod,
    /// Signed `s%=` (cpu v4); x % 0 = x.
    SMod,
    /// `^=`
    Xor,
    /// `=`
    Mov,
    /// Arithmetic `s>>=`, amount masked.
    Arsh,
}

impl AluOp {
    /// The `BPF_OP` bits and the `off` value (1 for signed division).
    #[must_use]
    pub const fn encoding(self) -> (u8, i16) {
        match self {
            AluOp::Add => (BPF_ADD, 0),
            AluOp::Sub => (BPF_SUB, 0),
            AluOp::Mul => (BPF_MUL, 0),
            AluOp::Div => (BPF_DIV, 0),
            AluOp::SDiv => (BPF_DIV, 1),
            AluOp::Or => (BPF_OR, 0),
            AluOp::And => (BPF_AND, 0),
            AluOp::Lsh => (BPF_LSH, 0),
            AluOp::Rsh => (BPF_RSH, 0),
            AluOp::Mod => (BPF_MOD, 0),
            AluOp::SMod => (BPF_MOD, 1),
            AluOp::Xor => (BPF_XOR, 0),
            AluOp::Mov => (BPF_MOV, 0),
            AluOp::Arsh => (BPF_ARSH, 0),
        }
    }
    /// The kernel's operator text (`+=`, `s/=`, ...).
    #[must_use]
    pub const fn kernel_op(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div => "/=",
            AluOp::SDiv => "s/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh => ">>=",
            AluOp::Mod => "%=",
            AluOp::SMod => "s%=",
            AluOp::Xor => "^=",
            AluOp::Mov => "=",
            AluOp::Arsh => "s>>=",
        }
    }
    /// All operations, in opcode order.
    pub const ALL: [AluOp; 14] = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::SDiv,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Mod,
        AluOp::SMod,
        AluOp::Xor,
        AluOp::Mov,
        AluOp::Arsh,
    ];
}

/// Conditions of conditional jumps.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum JmpCond {
    /// `==`
    Eq,
    /// Unsigned `>`
    Gt,
    /// Unsigned `>=`
    Ge,
    /// `&` (jump if any common bit)
    Set,
    /// `!=`
    Ne,
    /// Signed `s>`
    Sgt,
    /// Signed `s>=`
    Sge,
    /// Unsigned `<` (cpu v2)
    Lt,
    /// Unsigned `<=` (cpu v2)
    Le,
    /// Signed `s<` (cpu v2)
    Slt,
    /// Signed `s<=` (cpu v2)
    Sle,
}

impl JmpCond {
    /// The `BPF_OP` bits.
    #[must_use]
    pub const fn op_bits(self) -> u8 {
        match self {
            JmpCond::Eq => BPF_JEQ,
            JmpCond::Gt => BPF_JGT,
            JmpCond::Ge => BPF_JGE,
            JmpCond::Set => BPF_JSET,
            JmpCond::Ne => BPF_JNE,
            JmpCond::Sgt => BPF_JSGT,
            JmpCond::Sge => BPF_JSGE,
            JmpCond::Lt => BPF_JLT,
            JmpCond::Le => BPF_JLE,
            JmpCond::Slt => BPF_JSLT,
            JmpCond::Sle => BPF_JSLE,
        }
    }
    pub(crate) const fn from_op_bits(op: u8) -> Option<JmpCond> {
        Some(match op {
            BPF_JEQ => JmpCond::Eq,
            BPF_JGT => JmpCond::Gt,
            BPF_JGE => JmpCond::Ge,
            BPF_JSET => JmpCond::Set,
            BPF_JNE => JmpCond::Ne,
            BPF_JSGT => JmpCond::Sgt,
            BPF_JSGE => JmpCond::Sge,
            BPF_JLT => JmpCond::Lt,
            BPF_JLE => JmpCond::Le,
            BPF_JSLT => JmpCond::Slt,
            BPF_JSLE => JmpCond::Sle,
            _ => return None,
        })
    }
    /// The kernel's operator text (`==`, `s>`, `&`, ...).
    #[must_use]
    pub const fn kernel_op(self) -> &'static str {
        match self {
            JmpCond::Eq => "==",
            JmpCond::Gt => ">",
            JmpCond::Ge => ">=",
            JmpCond::Set => "&",
            JmpCond::Ne => "!=",
            JmpCond::Sgt => "s>",
            JmpCond::Sge => "s>=",
            JmpCond::Lt => "<",
            JmpCond::Le => "<=",
            JmpCond::Slt => "s<",
            JmpCond::Sle => "s<=",
        }
    }
    /// The condition that holds exactly when `self` does not.
    #[must_use]
    pub const fn negate(self) -> Option<JmpCond> {
        Some(match self {
            JmpCond::Eq => JmpCond::Ne,
            JmpCond::Ne => JmpCond::Eq,
            JmpCond::Gt => JmpCond::Le,
            JmpCond::Le => JmpCond::Gt,
            JmpCond::Ge => JmpCond::Lt,
            JmpCond::Lt => JmpCond::Ge,
            JmpCond::Sgt => JmpCond::Sle,
            JmpCond::Sle => JmpCond::Sgt,
            JmpCond::Sge => JmpCond::Slt,
            JmpCond::Slt => JmpCond::Sge,
            JmpCond::Set => return None,
        })
    }
    /// All conditions, in opcode order.
    pub const ALL: [JmpCond; 11] = [
        JmpCond::Eq,
        JmpCond::Gt,
        JmpCond::Ge,
        JmpCond::Set,
        JmpCond::Ne,
        JmpCond::Sgt,
        JmpCond::Sge,
        JmpCond::Lt,
        JmpCond::Le,
        JmpCond::Slt,
        JmpCond::Sle,
    ];
}

/// Read-modify-write atomic operations (`BPF_STX | BPF_ATOMIC`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AtomicOp {
    /// `lock *(uN *)(dst + off) += src` (the legacy XADD encoding).
    Add,
    /// `lock ... |= src`
    Or,
    /// `lock ... &= src`
    And,
    /// `lock ... ^= src`
    Xor,
    /// `src = atomic_fetch_add(...)`
    FetchAdd,
    /// `src = atomic_fetch_or(...)`
    FetchOr,
    /// `src = atomic_fetch_and(...)`
    FetchAnd,
    /// `src = atomic_fetch_xor(...)`
    FetchXor,
    /// `src = atomic_xchg(..., src)`
    Xchg,
    /// `r0 = atomic_cmpxchg(..., r0, src)`
    Cmpxchg,
}

impl AtomicOp {
    /// The `imm` encoding.
    #[must_use]
    pub const fn imm(self) -> i32 {
        match self {
            AtomicOp::Add => BPF_ADD as i32,
            AtomicOp::Or => BPF_OR as i32,
            AtomicOp::And => BPF_AND as i32,
            AtomicOp::Xor => BPF_XOR as i32,
            AtomicOp::FetchAdd => BPF_ADD as i32 | BPF_FETCH,
            AtomicOp::FetchOr => BPF_OR as i32 | BPF_FETCH,
            AtomicOp::FetchAnd => BPF_AND as i32 | BPF_FETCH,
            AtomicOp::FetchXor => BPF_XOR as i32 | BPF_FETCH,
            AtomicOp::Xchg => BPF_XCHG,
            AtomicOp::Cmpxchg => BPF_CMPXCHG,
        }
    }
    pub(crate) const fn from_imm(imm: i32) -> Option<AtomicOp> {
        Some(match imm {
            0x00 => AtomicOp::Add,
            0x40 => AtomicOp::Or,
            0x50 => AtomicOp::And,
            0xa0 => AtomicOp::Xor,
            0x01 => AtomicOp::FetchAdd,
            0x41 => AtomicOp::FetchOr,
            0x51 => AtomicOp::FetchAnd,
            0xa1 => AtomicOp::FetchXor,
            BPF_XCHG => AtomicOp::Xchg,
            BPF_CMPXCHG => AtomicOp::Cmpxchg,
            _ => return None,
        })
    }
    /// Whether the old value is written back to a register.
    #[must_use]
    pub const fn fetches(self) -> bool {
        self.imm() & BPF_FETCH != 0
    }
    /// The arithmetic part, for the `add`/`or`/`and`/`xor` families.
    #[must_use]
    pub const fn alu(self) -> Option<AluOp> {
        Some(match self {
            AtomicOp::Add | AtomicOp::FetchAdd => AluOp::Add,
            AtomicOp::Or | AtomicOp::FetchOr => AluOp::Or,
            AtomicOp::And | AtomicOp::FetchAnd => AluOp::And,
            AtomicOp::Xor | AtomicOp::FetchXor => AluOp::Xor,
            AtomicOp::Xchg | AtomicOp::Cmpxchg => return None,
        })
    }
    /// All operations.
    pub const ALL: [AtomicOp; 10] = [
        AtomicOp::Add,
        AtomicOp::Or,
        AtomicOp::And,
        AtomicOp::Xor,
        AtomicOp::FetchAdd,
        AtomicOp::FetchOr,
        AtomicOp::FetchAnd,
        AtomicOp::FetchXor,
        AtomicOp::Xchg,
        AtomicOp::Cmpxchg,
    ];
}

/// Kind of a byte-order instruction (`BPF_END`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ByteOrder {
    /// `le16/32/64`: convert from host (little endian) order; truncates.
    Le,
    /// `be16/32/64`: convert to big endian.
    Be,
    /// `bswap16/32/64` (cpu v4, `BPF_ALU64 | BPF_END`): unconditional swap.
    Swap,
}

/// Width of a byte-order conversion.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SwapBits {
    /// 16 bits.
    B16,
    /// 32 bits.
    B32,
    /// 64 bits.
    B64,
}

impl SwapBits {
    /// The width in bits (the `imm` encoding).
    #[must_use]
    pub const fn bits(self) -> u8 {
        match self {
            SwapBits::B16 => 16,
            SwapBits::B32 => 32,
            SwapBits::B64 => 64,
        }
    }
}

/// Source width of a sign-extending move (`movsx`, cpu v4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SxBits {
    /// From 8 bits.
    B8,
    /// From 16 bits.
    B16,
    /// From 32 bits (64-bit destination only).
    B32,
}

impl SxBits {
    /// The width in bits (the `off` encoding).
    #[must_use]
    pub const fn bits(self) -> u8 {
        match self {
            SxBits::B8 => 8,
            SxBits::B16 => 16,
            SxBits::B32 => 32,
        }
    }
}

/// What the 64-bit immediate of `ld_imm64` means (its `src` field).
///
/// All fields are kept bit-exact, so encoding gives back the decoded slots.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Imm64 {
    /// `src = 0`: a plain 64-bit constant.
    Imm(u64),
    /// `src = 1`: a map, by file descriptor.
    MapFd(i32),
    /// `src = 2`: the address of a map value, by map fd and byte offset.
    MapValue {
        /// Map file descriptor.
        fd: i32,
        /// Offset into the value.
        off: u32,
    },
    /// `src = 3`: a kernel variable by BTF id (`btf_fd` names module BTF, 0 for vmlinux).
    BtfId {
        /// BTF type id.
        id: i32,
        /// BTF object fd.
        btf_fd: i32,
    },
    /// `src = 4`: the address of a bpf function at `pc + 1 + off` slots.
    Func(i32),
    /// `src = 5`: a map, by index into the program's map array.
    MapIdx(u32),
    /// `src = 6`: the address of a map value, by map index and byte offset.
    MapIdxValue {
        /// Map index.
        idx: u32,
        /// Offset into the value.
        off: u32,
    },
}

impl Imm64 {
    /// The `src` field value.
    #[must_use]
    pub const fn pseudo(self) -> u8 {
        match self {
            Imm64::Imm(_) => 0,
            Imm64::MapFd(_) => BPF_PSEUDO_MAP_FD,
            Imm64::MapValue { .. } => BPF_PSEUDO_MAP_VALUE,
            Imm64::BtfId { .. } => BPF_PSEUDO_BTF_ID,
            Imm64::Func(_) => BPF_PSEUDO_FUNC,
            Imm64::MapIdx(_) => BPF_PSEUDO_MAP_IDX,
            Imm64::MapIdxValue { .. } => BPF_PSEUDO_MAP_IDX_VALUE,
        }
    }
    /// The two `imm` fields (first slot, second slot).
    #[must_use]
    pub const fn imms(self) -> (i32, i32) {
        match self {
            Imm64::Imm(v) => (v as u32 as i32, (v >> 32) as u32 as i32),
            Imm64::MapFd(fd) => (fd, 0),
            Imm64::MapValue { fd, off } => (fd, off as i32),
            Imm64::BtfId { id, btf_fd } => (id, btf_fd),
            Imm64::Func(off) => (off, 0),
            Imm64::MapIdx(idx) => (idx as i32, 0),
            Imm64::MapIdxValue { idx, off } => (idx as i32, off as i32),
        }
    }
    /// The combined 64-bit immediate as the kernel prints it
    /// (`(u64)imm2 << 32 | (u32)imm1`).
    #[must_use]
    pub const fn raw_u64(self) -> u64 {
        let (lo, hi) = self.imms();
        ((hi as u32 as u64) << 32) | lo as u32 as u64
    }
}

/// Target of a `call` instruction (`BPF_JMP | BPF_CALL | BPF_K`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CallTarget {
    /// `src = 0`: helper function by id.
    Helper(i32),
    /// `src = 1`: bpf-to-bpf call to `pc + 1 + off`.
    Local(i32),
    /// `src = 2`: kernel function by BTF id; `module` is the fd-array index of
    /// its module BTF (0 for vmlinux).
    Kfunc {
        /// BTF id of the function.
        btf_id: i32,
        /// Index of the module BTF (the `off` field).
        module: i16,
    },
}

/// A decoded, validated instruction.
///
/// A program is a sequence of `Insn` indexed by **slot**, exactly like the
/// kernel's instruction array: `ld_imm64` occupies two slots, the second of
/// which is [`Insn::LdImm64Tail`]. Jump offsets are therefore slot offsets and
/// `pc + off + 1` is always the target index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Insn {
    /// `dst op= src` for every binary [`AluOp`].
    Alu {
        /// Operation.
        op: AluOp,
        /// 32 or 64 bits.
        width: Width,
        /// Destination (and left operand).
        dst: Reg,
        /// Right operand.
        src: Operand,
    },
    /// `dst = -dst`.
    Neg {
        /// 32 or 64 bits.
        width: Width,
        /// Operand and result.
        dst: Reg,
    },
    /// `dst = (sN)src`, sign-extending move (cpu v4).
    MovSx {
        /// 32 or 64 bits destination.
        width: Width,
        /// Destination.
        dst: Reg,
        /// Source.
        src: Reg,
        /// Source width.
        bits: SxBits,
    },
    /// `dst = addr_space_cast(src, dst_as, src_as)` (arena pointers).
    AddrSpaceCast {
        /// Destination.
        dst: Reg,
        /// Source.
        src: Reg,
        /// Destination address space (`imm >> 16`).
        dst_as: u16,
        /// Source address space (`imm & 0xffff`).
        src_as: u16,
    },
    /// Byte-order conversion of `dst` in place.
    Endian {
        /// `le`, `be` or `bswap`.
        order: ByteOrder,
        /// Width of the conversion.
        bits: SwapBits,
        /// Operand and result.
        dst: Reg,
    },
    /// `dst = *(uN *)(src + off)`.
    Load {
        /// Access size.
        size: Size,
        /// Destination.
        dst: Reg,
        /// Base address.
        src: Reg,
        /// Offset.
        off: i16,
    },
    /// `dst = *(sN *)(src + off)`, sign-extending load (cpu v4).
    LoadSx {
        /// Access size (B, H or W).
        size: Size,
        /// Destination.
        dst: Reg,
        /// Base address.
        src: Reg,
        /// Offset.
        off: i16,
    },
    /// `*(uN *)(dst + off) = src` (register: `BPF_STX`, immediate: `BPF_ST`).
    Store {
        /// Access size.
        size: Size,
        /// Base address.
        dst: Reg,
        /// Offset.
        off: i16,
        /// Value.
        src: Operand,
    },
    /// Atomic read-modify-write on `*(dst + off)` with `src` (W or DW).
    Atomic {
        /// Operation.
        op: AtomicOp,
        /// Access size (W or DW).
        size: Size,
        /// Base address.
        dst: Reg,
        /// Value operand (and fetch destination).
        src: Reg,
        /// Offset.
        off: i16,
    },
    /// `dst = load_acquire((uN *)(src + off))`.
    LoadAcquire {
        /// Access size.
        size: Size,
        /// Destination.
        dst: Reg,
        /// Base address.
        src: Reg,
        /// Offset.
        off: i16,
    },
    /// `store_release((uN *)(dst + off), src)`.
    StoreRelease {
        /// Access size.
        size: Size,
        /// Base address.
        dst: Reg,
        /// Value.
        src: Reg,
        /// Offset.
        off: i16,
    },
    /// Legacy `r0 = *(uN *)skb[imm]` (B, H or W; result in network order).
    LdAbs {
        /// Access size.
        size: Size,
        /// Packet offset.
        imm: i32,
    },
    /// Legacy `r0 = *(uN *)skb[src + imm]`.
    LdInd {
        /// Access size.
        size: Size,
        /// Offset register.
        src: Reg,
        /// Added constant.
        imm: i32,
    },
    /// `dst = imm64` over two slots.
    LdImm64 {
        /// Destination.
        dst: Reg,
        /// The immediate and its meaning.
        imm: Imm64,
    },
    /// Second slot of an `ld_imm64`; never executed, never a jump target.
    LdImm64Tail,
    /// `goto pc+off` (`BPF_JMP | BPF_JA`).
    Ja {
        /// Slot offset.
        off: i16,
    },
    /// `gotol pc+imm` (`BPF_JMP32 | BPF_JA`, cpu v4): 32-bit range.
    Gotol {
        /// Slot offset.
        imm: i32,
    },
    /// `if dst cond src goto pc+off`.
    Jump {
        /// Condition.
        cond: JmpCond,
        /// 32 (`BPF_JMP32`) or 64 bits.
        width: Width,
        /// Left operand.
        dst: Reg,
        /// Right operand (immediate sign-extended for 64-bit).
        src: Operand,
        /// Slot offset.
        off: i16,
    },
    /// `call ...`.
    Call(CallTarget),
    /// `callx dst`: call the helper whose id is in a register (RFC 9669).
    Callx {
        /// Register holding the helper id.
        reg: Reg,
    },
    /// `exit`.
    Exit,
    /// `may_goto pc+off` (`BPF_JMP | BPF_JCOND`).
    MayGoto {
        /// Slot offset taken when the loop budget is exhausted.
        off: i16,
    },
    /// `gotox dst`: indirect jump through a register (`BPF_JMP | BPF_JA | BPF_X`).
    Gotox {
        /// Register holding the target.
        reg: Reg,
    },
}

impl Insn {
    /// Number of wire slots the instruction occupies (2 for `ld_imm64`, 0 for
    /// its tail, which the `ld_imm64` before it accounts for).
    #[must_use]
    pub const fn slots(&self) -> usize {
        match self {
            Insn::LdImm64 { .. } => 2,
            Insn::LdImm64Tail => 0,
            _ => 1,
        }
    }

    /// The opcode byte of the (first) slot.
    #[must_use]
    pub fn opcode(&self) -> u8 {
        crate::encode::encode_one(self).map_or(0, |(first, _)| first.code)
    }

    /// Whether control can continue to the next slot(s) after this
    /// instruction (false for `exit`, unconditional jumps and `gotox`).
    #[must_use]
    pub const fn falls_through(&self) -> bool {
        !matches!(
            self,
            Insn::Exit | Insn::Ja { .. } | Insn::Gotol { .. } | Insn::Gotox { .. }
        )
    }

    /// The slot offset of a direct jump (`goto`, `gotol`, conditional jumps,
    /// `may_goto`), relative to the next slot.
    #[must_use]
    pub const fn jump_offset(&self) -> Option<i32> {
        match *self {
            Insn::Ja { off } | Insn::Jump { off, .. } | Insn::MayGoto { off } => Some(off as i32),
            Insn::Gotol { imm } => Some(imm),
            _ => None,
        }
    }
}
