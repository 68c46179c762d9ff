//! The uBPF assembler dialect: the language of the conformance suite's
//! `-- asm` sections (`mov32 %r0, 1`, `ldxdw %r0, [%r1+8]`,
//! `lock fetch add [%r10-8], %r1`).
//!
//! [`assemble_raw`] reads the dialect exactly as the upstream conformance
//! runner does (`bpf_conformance/FORMAT.md` a.3), so the slots it returns are
//! the bytes the upstream runner hands to its plugins. [`assemble`] then
//! decodes them into a [`Program`]. [`Ubpf`] renders one [`Insn`] in the
//! dialect and [`disassemble`] a whole program; every instruction the decoder
//! accepts renders to text that assembles back to the same slots.
//!
//! # The dialect
//!
//! Lines and tokens:
//!
//! - [x] Everything from a `#` to the end of the line is a comment.
//! - [x] Tokens are split on whitespace; the first is the mnemonic, each
//!   operand loses one trailing `,`. A line without tokens is skipped.
//! - [x] A first token ending in `:` defines a label at the current slot and
//!   **the rest of that line is ignored**. Defining a label twice is an error.
//! - [x] The first `exit` also defines the label `exit`, replacing an earlier
//!   `exit:`; an `exit:` after the first `exit` is therefore a duplicate.
//!
//! Operands (`%` means a register, anything else an immediate):
//!
//! - [x] Registers `%r0`..`%r10`; `%r11`..`%r15` encode 11..15 (the decoder
//!   then rejects them, see [`AsmError::Decode`]). Anything else is an error.
//! - [x] Memory `[%rN]`, `[%rN+off]`, `[%rN-off]`, no spaces inside.
//! - [x] `off`: decimal fitting `i16`, or hex (`+0x..`) up to `+0xffff` read
//!   as two's complement. Hex goes through `strtoull`, so `-0x2` wraps to a
//!   huge value and is rejected (only `-0x0` survives).
//! - [x] `imm32`: with `0x`, hex up to `0xffffffff` (bits kept as is);
//!   otherwise decimal fitting `i32`.
//! - [x] `imm64` (`lddw`): hex with `0x` (a leading `-` wraps); decimal with a
//!   leading `-` fitting `i64`; otherwise decimal fitting `u64`.
//! - [x] A jump target is `+N`/`-N` or a label; a label resolves to
//!   `label_slot - this_slot - 1`. An unknown label is an error (reported
//!   after the whole text is read, as upstream does).
//!
//! Mnemonics:
//!
//! - [x] `add sub mul div or and lsh rsh mod xor mov arsh` (ALU64) and the same
//!   with `32` (ALU): `dst, src` with a register (`BPF_X`) or `imm32` source.
//!   A `64` suffix (`add64`) is an unknown mnemonic.
//! - [x] `sdiv smod` (+`32`): like `div`/`mod` with `off = 1`.
//! - [x] `neg`, `neg32`: one register (0x87 / 0x84).
//! - [x] `movsx864 movsx1664 movsx3264 movsx832 movsx1632`:
//!   `movsx<bits><width>`, a `mov` with `off = bits` (0xbf / 0xbc).
//! - [x] `le16 le32 le64` (0xd4), `be16 be32 be64` (0xdc), `swap16..64` and
//!   `bswap16..64` (0xd7): one register, `imm` = width.
//! - [x] `lddw dst, imm64`: two slots, `src = 0`.
//! - [x] `ldxb ldxh ldxw ldxdw`, `ldxsb ldxsh ldxsw`: `dst, [src+off]`.
//! - [x] `stb sth stw stdw`: `[dst+off], imm32`; `stxb stxh stxw stxdw`:
//!   `[dst+off], src`.
//! - [x] `ja target` (offset field), `ja32 target` (**imm** field, 0x06).
//! - [x] `jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle` (+`32`):
//!   `dst, src-or-imm32, target`.
//! - [x] `call N` / `call helper N` (0x85, src 0); `call %rN` /
//!   `call helper %rN` (**0x8d**, register in **dst**); `call local target`
//!   (src 1, target in imm); `call runtime N` (src 2).
//! - [x] `exit`.
//! - [x] `lock [fetch] OP [dst+off], src` with OP in `add and or xor xchg
//!   cmpxchg`, optionally suffixed `32` (0xc3, else 0xdb). `fetch` sets bit 0
//!   of `add/and/or/xor`; `xchg` (0xe1) and `cmpxchg` (0xf1) always fetch.
//!
//! # Extensions (not upstream)
//!
//! The dialect has no spelling for some instructions the decoder accepts.
//! These mnemonics fill the gap so that every valid [`Insn`] round-trips:
//!
//! - [x] `ldabsb ldabsh ldabsw IMM`: legacy packet loads (0x30 0x28 0x20).
//! - [x] `ldindb ldindh ldindw %rS, IMM` (0x50 0x48 0x40, register in src).
//! - [x] `lddw %rD, map_fd N` (src 1), `lddw %rD, map_value FD, OFF` (src 2),
//!   `lddw %rD, btf_id ID, FD` (src 3), `lddw %rD, func TARGET` (src 4,
//!   `+N`/`-N` or a label, in imm), `lddw %rD, map_idx N` (src 5),
//!   `lddw %rD, map_idx_value IDX, OFF` (src 6). Each number is an `imm32`.
//! - [x] `ldacqb ldacqh ldacqw ldacqdw %rD, [%rS+off]`: load-acquire
//!   (`BPF_ATOMIC`, imm 0x100).
//! - [x] `strelb strelh strelw streldw [%rD+off], %rS`: store-release
//!   (imm 0x110).
//! - [x] `may_goto TARGET` (0xe5), `gotox %rN` (0x0d, register in dst).
//! - [x] `addr_space_cast %rD, %rS, DST_AS, SRC_AS` (0xbf, off 1,
//!   `imm = DST_AS << 16 | SRC_AS`, each 0..=65535).
//! - [x] `call runtime N, MODULE`: a kfunc whose module index (`off`, an
//!   `i16`, decimal or hex like an offset) is not 0.
//! - [x] A numeric target that goes into an **imm** field (`ja32`,
//!   `call local`, `lddw .. func`) spans the `imm32` range rather than 16
//!   bits (`ja32 +70000`).
//!
//! # Deliberate differences from upstream
//!
//! Upstream parses numbers with `stoull` and ignores trailing garbage
//! (`12abc` is 12, `0X10` is 0); here a number must be the whole token.
//! Memory operands must end in `]`. A label further away than the field holds
//! is an [`AsmError::OutOfRange`] instead of silently truncated.
//!
//! ```
//! use ebpf_isa::ubpf::{Ubpf, assemble, assemble_raw, disassemble};
//!
//! let text = "mov %r0, 0\nloop:\nadd %r0, 1\njne %r0, 3, loop # back edge\nexit\n";
//! let prog = assemble(text)?;
//! assert_eq!(Ubpf(&prog.insns()[2]).to_string(), "jne %r0, 3, -2");
//! assert_eq!(disassemble(&prog), "mov %r0, 0\nadd %r0, 1\njne %r0, 3, -2\nexit\n");
//! assert_eq!(assemble(&disassemble(&prog))?, prog);
//! // `call %rN` is callx with the register in dst.
//! assert_eq!(assemble_raw("call %r2")?[0].to_u64(), 0x8d | 0x02 << 8);
//! # Ok::<(), ebpf_isa::AsmError>(())
//! ```

use core::fmt;
use std::collections::HashMap;

use crate::asm_error::AsmError;
use crate::insn::*;
use crate::opcode::*;
use crate::program::Program;

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// One instruction in the uBPF dialect. Jump and call targets are printed as
/// `+N`/`-N` slot offsets, immediates in decimal, 64-bit constants in hex.
///
/// ```
/// use ebpf_isa::{Insn, Reg, Size, ubpf::Ubpf};
/// let insn = Insn::Load { size: Size::W, dst: Reg::R0, src: Reg::R1, off: -4 };
/// assert_eq!(Ubpf(&insn).to_string(), "ldxw %r0, [%r1-4]");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Ubpf<'a>(pub &'a Insn);

/// `%rN`.
struct R(Reg);
impl fmt::Display for R {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%r{}", self.0.num())
    }
}

/// `[%rN+off]`.
struct Mem(Reg, i16);
impl fmt::Display for Mem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}{:+}]", R(self.0), self.1)
    }
}

/// A `u32` field written so that the `imm32` rules read it back: decimal
/// while it fits `i32`, hex above.
struct U32(u32);
impl fmt::Display for U32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if i32::try_from(self.0).is_ok() {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:#x}", self.0)
        }
    }
}

const fn w32(width: Width) -> &'static str {
    match width {
        Width::W32 => "32",
        Width::W64 => "",
    }
}

const fn size_suffix(size: Size) -> &'static str {
    match size {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

const fn alu_name(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::SDiv => "sdiv",
        AluOp::Or => "or",
        AluOp::And => "and",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
        AluOp::Mod => "mod",
        AluOp::SMod => "smod",
        AluOp::Xor => "xor",
        AluOp::Mov => "mov",
        AluOp::Arsh => "arsh",
    }
}

const fn jmp_name(cond: JmpCond) -> &'static str {
    match cond {
        JmpCond::Eq => "jeq",
        JmpCond::Gt => "jgt",
        JmpCond::Ge => "jge",
        JmpCond::Set => "jset",
        JmpCond::Ne => "jne",
        JmpCond::Sgt => "jsgt",
        JmpCond::Sge => "jsge",
        JmpCond::Lt => "jlt",
        JmpCond::Le => "jle",
        JmpCond::Slt => "jslt",
        JmpCond::Sle => "jsle",
    }
}

fn operand(f: &mut fmt::Formatter<'_>, src: Operand) -> fmt::Result {
    match src {
        Operand::Reg(r) => write!(f, "{}", R(r)),
        Operand::Imm(imm) => write!(f, "{imm}"),
    }
}

impl fmt::Display for Ubpf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            Insn::Alu {
                op,
                width,
                dst,
                src,
            } => {
                write!(f, "{}{} {}, ", alu_name(op), w32(width), R(dst))?;
                operand(f, src)
            }
            Insn::Neg { width, dst } => write!(f, "neg{} {}", w32(width), R(dst)),
            Insn::MovSx {
                width,
                dst,
                src,
                bits,
            } => {
                let w = if width == Width::W32 { "32" } else { "64" };
                write!(f, "movsx{}{w} {}, {}", bits.bits(), R(dst), R(src))
            }
            Insn::AddrSpaceCast {
                dst,
                src,
                dst_as,
                src_as,
            } => write!(
                f,
                "addr_space_cast {}, {}, {dst_as}, {src_as}",
                R(dst),
                R(src)
            ),
            Insn::Endian { order, bits, dst } => {
                let name = match order {
                    ByteOrder::Le => "le",
                    ByteOrder::Be => "be",
                    ByteOrder::Swap => "bswap",
                };
                write!(f, "{name}{} {}", bits.bits(), R(dst))
            }
            Insn::Load {
                size,
                dst,
                src,
                off,
            } => write!(f, "ldx{} {}, {}", size_suffix(size), R(dst), Mem(src, off)),
            Insn::LoadSx {
                size,
                dst,
                src,
                off,
            } => write!(f, "ldxs{} {}, {}", size_suffix(size), R(dst), Mem(src, off)),
            Insn::Store {
                size,
                dst,
                off,
                src: Operand::Imm(imm),
            } => write!(f, "st{} {}, {imm}", size_suffix(size), Mem(dst, off)),
            Insn::Store {
                size,
                dst,
                off,
                src: Operand::Reg(src),
            } => write!(f, "stx{} {}, {}", size_suffix(size), Mem(dst, off), R(src)),
            Insn::Atomic {
                op,
                size,
                dst,
                src,
                off,
            } => {
                let (fetch, name) = match op {
                    AtomicOp::Add => ("", "add"),
                    AtomicOp::Or => ("", "or"),
                    AtomicOp::And => ("", "and"),
                    AtomicOp::Xor => ("", "xor"),
                    AtomicOp::FetchAdd => ("fetch ", "add"),
                    AtomicOp::FetchOr => ("fetch ", "or"),
                    AtomicOp::FetchAnd => ("fetch ", "and"),
                    AtomicOp::FetchXor => ("fetch ", "xor"),
                    AtomicOp::Xchg => ("", "xchg"),
                    AtomicOp::Cmpxchg => ("", "cmpxchg"),
                };
                let w = if size == Size::W { "32" } else { "" };
                write!(f, "lock {fetch}{name}{w} {}, {}", Mem(dst, off), R(src))
            }
            Insn::LoadAcquire {
                size,
                dst,
                src,
                off,
            } => write!(
                f,
                "ldacq{} {}, {}",
                size_suffix(size),
                R(dst),
                Mem(src, off)
            ),
            Insn::StoreRelease {
                size,
                dst,
                src,
                off,
            } => write!(
                f,
                "strel{} {}, {}",
                size_suffix(size),
                Mem(dst, off),
                R(src)
            ),
            Insn::LdAbs { size, imm } => write!(f, "ldabs{} {imm}", size_suffix(size)),
            Insn::LdInd { size, src, imm } => {
                write!(f, "ldind{} {}, {imm}", size_suffix(size), R(src))
            }
            Insn::LdImm64 { dst, imm } => {
                write!(f, "lddw {}, ", R(dst))?;
                match imm {
                    Imm64::Imm(v) => write!(f, "{v:#x}"),
                    Imm64::MapFd(fd) => write!(f, "map_fd {fd}"),
                    Imm64::MapValue { fd, off } => write!(f, "map_value {fd}, {}", U32(off)),
                    Imm64::BtfId { id, btf_fd } => write!(f, "btf_id {id}, {btf_fd}"),
                    Imm64::Func(off) => write!(f, "func {off:+}"),
                    Imm64::MapIdx(idx) => write!(f, "map_idx {}", U32(idx)),
                    Imm64::MapIdxValue { idx, off } => {
                        write!(f, "map_idx_value {}, {}", U32(idx), U32(off))
                    }
                }
            }
            // Not an instruction of its own: a comment assembles to nothing.
            Insn::LdImm64Tail => f.write_str("# lddw second slot"),
            Insn::Ja { off } => write!(f, "ja {off:+}"),
            Insn::Gotol { imm } => write!(f, "ja32 {imm:+}"),
            Insn::Jump {
                cond,
                width,
                dst,
                src,
                off,
            } => {
                write!(f, "{}{} {}, ", jmp_name(cond), w32(width), R(dst))?;
                operand(f, src)?;
                write!(f, ", {off:+}")
            }
            Insn::Call(CallTarget::Helper(id)) => write!(f, "call {id}"),
            Insn::Call(CallTarget::Local(off)) => write!(f, "call local {off:+}"),
            Insn::Call(CallTarget::Kfunc { btf_id, module: 0 }) => {
                write!(f, "call runtime {btf_id}")
            }
            Insn::Call(CallTarget::Kfunc { btf_id, module }) => {
                write!(f, "call runtime {btf_id}, {module}")
            }
            Insn::Callx { reg } => write!(f, "call {}", R(reg)),
            Insn::Exit => f.write_str("exit"),
            Insn::MayGoto { off } => write!(f, "may_goto {off:+}"),
            Insn::Gotox { reg } => write!(f, "gotox {}", R(reg)),
        }
    }
}

/// The program in the uBPF dialect, one instruction per line (the second
/// slot of `lddw` has no line of its own).
#[must_use]
pub fn disassemble(p: &Program) -> String {
    use fmt::Write as _;
    let mut out = String::new();
    for (_, insn) in p.iter() {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{}", Ubpf(insn));
    }
    out
}

// ---------------------------------------------------------------------------
// Assembling
// ---------------------------------------------------------------------------

/// Assemble uBPF-dialect text into wire slots, exactly as the upstream
/// conformance runner does (see the module documentation). The slots are not
/// validated: `%r11` or `movsx864 %r0, 1` assemble to slots the decoder
/// rejects. Errors carry the 1-based line and column.
pub fn assemble_raw(text: &str) -> Result<Vec<RawInsn>, AsmError> {
    assemble_lines(text).map(|(slots, _)| slots)
}

/// Assemble and decode. A slot the decoder rejects becomes
/// [`AsmError::Decode`] with the line of the instruction it came from.
pub fn assemble(text: &str) -> Result<Program, AsmError> {
    let (slots, lines) = assemble_lines(text)?;
    Program::from_raw(&slots).map_err(|source| {
        let line = source
            .insn_idx()
            .and_then(|idx| lines.get(idx))
            .or(lines.last())
            .copied()
            .unwrap_or(1);
        AsmError::Decode { line, source }
    })
}

/// The slots and, for each slot, the line it came from.
fn assemble_lines(text: &str) -> Result<(Vec<RawInsn>, Vec<usize>), AsmError> {
    let mut asm = Asm::default();
    for (idx, line) in text.split('\n').enumerate() {
        asm.line(idx.saturating_add(1), line)?;
    }
    asm.finish()
}

/// A token with its 1-based column.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    col: usize,
}

/// One instruction line: mnemonic and operands (trailing `,` removed).
struct Line<'a> {
    no: usize,
    mnem: Tok<'a>,
    ops: Vec<Tok<'a>>,
}

/// Split on whitespace, keeping the column of every token.
fn tokenize(line: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte, column)
    let mut col = 0usize;
    for (byte, ch) in line.char_indices() {
        col = col.saturating_add(1);
        if ch.is_whitespace() {
            if let Some((b, c)) = start.take() {
                toks.push(Tok {
                    text: line.get(b..byte).unwrap_or(""),
                    col: c,
                });
            }
        } else if start.is_none() {
            start = Some((byte, col));
        }
    }
    if let Some((b, c)) = start {
        toks.push(Tok {
            text: line.get(b..).unwrap_or(""),
            col: c,
        });
    }
    toks
}

/// The column of byte `byte` inside `tok`.
fn col_at(tok: Tok<'_>, byte: usize) -> usize {
    let chars = tok.text.get(..byte).map_or(0, |s| s.chars().count());
    tok.col.saturating_add(chars)
}

fn syntax(line: usize, column: usize, message: String) -> AsmError {
    AsmError::Syntax {
        line,
        column,
        message,
    }
}

fn out_of_range(line: usize, column: usize, message: String) -> AsmError {
    AsmError::OutOfRange {
        line,
        column,
        message,
    }
}

/// A number as `strtoull` sees it: sign, base, magnitude.
#[derive(Clone, Copy, Debug)]
struct Num {
    neg: bool,
    hex: bool,
    mag: u64,
}

impl Num {
    /// The signed value (no overflow possible in `i128`).
    fn signed(self) -> i128 {
        if self.neg {
            -i128::from(self.mag)
        } else {
            i128::from(self.mag)
        }
    }
    /// The value `strtoull` returns: a leading `-` negates modulo 2^64.
    fn wrapped(self) -> u64 {
        if self.neg {
            self.mag.wrapping_neg()
        } else {
            self.mag
        }
    }
}

enum NumError {
    Syntax,
    Overflow,
}

/// `[+-]? (0x HEX+ | DEC+)`, the whole string.
fn parse_num(s: &str) -> Result<Num, NumError> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let (hex, digits) = match rest.strip_prefix("0x") {
        Some(d) => (true, d),
        None => (false, rest),
    };
    if digits.is_empty() {
        return Err(NumError::Syntax);
    }
    let radix = if hex { 16 } else { 10 };
    let mut mag = 0u64;
    for ch in digits.chars() {
        let d = ch.to_digit(radix).ok_or(NumError::Syntax)?;
        mag = mag
            .checked_mul(u64::from(radix))
            .and_then(|m| m.checked_add(u64::from(d)))
            .ok_or(NumError::Overflow)?;
    }
    Ok(Num { neg, hex, mag })
}

/// Parse `tok` (or the part of it starting at byte `at`) with `conv`,
/// reporting errors at the right column.
fn number<T>(
    line: usize,
    tok: Tok<'_>,
    at: usize,
    what: &str,
    conv: impl FnOnce(Num) -> Option<T>,
) -> Result<T, AsmError> {
    let text = tok.text.get(at..).unwrap_or("");
    let col = col_at(tok, at);
    match parse_num(text) {
        Ok(n) => conv(n).ok_or_else(|| out_of_range(line, col, format!("{what} `{text}`"))),
        Err(NumError::Overflow) => Err(out_of_range(line, col, format!("{what} `{text}`"))),
        Err(NumError::Syntax) => Err(syntax(line, col, format!("invalid number `{text}`"))),
    }
}

/// `off` rules: decimal in `i16`, hex up to 0xffff as two's complement.
fn conv_off(n: Num) -> Option<i16> {
    if n.hex {
        u16::try_from(n.wrapped()).ok().map(|v| v as i16)
    } else {
        i16::try_from(n.signed()).ok()
    }
}

/// `imm32` rules: hex up to 0xffffffff (bits as is), decimal in `i32`.
fn conv_imm32(n: Num) -> Option<i32> {
    if n.hex {
        u32::try_from(n.wrapped()).ok().map(|v| v as i32)
    } else {
        i32::try_from(n.signed()).ok()
    }
}

/// `imm64` rules: hex wraps like `strtoull`, `-` decimal in `i64`, other
/// decimal in `u64`.
fn conv_imm64(n: Num) -> Option<u64> {
    if n.hex {
        Some(n.wrapped())
    } else if n.neg {
        i64::try_from(n.signed()).ok().map(|v| v as u64)
    } else {
        Some(n.mag)
    }
}

/// Where a resolved jump target is stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TargetField {
    Off,
    Imm,
}

/// A jump or call target waiting for its label.
struct Fixup<'a> {
    slot: usize,
    field: TargetField,
    label: Tok<'a>,
    line: usize,
}

/// Assembler state across lines.
#[derive(Default)]
struct Asm<'a> {
    slots: Vec<RawInsn>,
    lines: Vec<usize>,
    labels: HashMap<&'a str, usize>,
    seen_exit: bool,
    fixups: Vec<Fixup<'a>>,
}

/// What a mnemonic encodes to, before its operands are read.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// `dst, src-or-imm32`.
    Alu {
        code: u8,
        off: i16,
    },
    /// `dst`.
    Neg {
        code: u8,
    },
    /// `dst, src` with `off = bits` (an immediate source gives `BPF_K`).
    MovSx {
        code: u8,
        bits: i16,
    },
    /// `dst`, imm = width.
    Endian {
        code: u8,
        imm: i32,
    },
    /// `dst, [src+off]` with a fixed imm.
    Load {
        code: u8,
        imm: i32,
    },
    /// `[dst+off], imm32`.
    StoreImm {
        code: u8,
    },
    /// `[dst+off], src` with a fixed imm.
    StoreReg {
        code: u8,
        imm: i32,
    },
    /// `target` in the offset field.
    Ja {
        code: u8,
    },
    /// `target` in the imm field.
    Ja32,
    /// `dst, src-or-imm32, target`.
    Jmp {
        code: u8,
    },
    Exit,
    /// `imm32`.
    LdAbs {
        code: u8,
    },
    /// `src, imm32`.
    LdInd {
        code: u8,
    },
    /// `reg` in dst.
    Gotox,
    /// `dst, src, dst_as, src_as`.
    AddrSpaceCast,
}

impl Kind {
    const fn operands(self) -> usize {
        match self {
            Kind::Exit => 0,
            Kind::Neg { .. }
            | Kind::Endian { .. }
            | Kind::Ja { .. }
            | Kind::Ja32
            | Kind::LdAbs { .. }
            | Kind::Gotox => 1,
            Kind::Alu { .. }
            | Kind::MovSx { .. }
            | Kind::Load { .. }
            | Kind::StoreImm { .. }
            | Kind::StoreReg { .. }
            | Kind::LdInd { .. } => 2,
            Kind::Jmp { .. } => 3,
            Kind::AddrSpaceCast => 4,
        }
    }
}

const fn sized(base: u8, size: Size) -> u8 {
    base | size.bits()
}

fn size_of_suffix(s: &str) -> Option<Size> {
    Some(match s {
        "b" => Size::B,
        "h" => Size::H,
        "w" => Size::W,
        "dw" => Size::DW,
        _ => return None,
    })
}

fn alu_op_bits(base: &str) -> Option<(u8, i16)> {
    Some(match base {
        "add" => (BPF_ADD, 0),
        "sub" => (BPF_SUB, 0),
        "mul" => (BPF_MUL, 0),
        "div" => (BPF_DIV, 0),
        "sdiv" => (BPF_DIV, 1),
        "or" => (BPF_OR, 0),
        "and" => (BPF_AND, 0),
        "lsh" => (BPF_LSH, 0),
        "rsh" => (BPF_RSH, 0),
        "mod" => (BPF_MOD, 0),
        "smod" => (BPF_MOD, 1),
        "xor" => (BPF_XOR, 0),
        "mov" => (BPF_MOV, 0),
        "arsh" => (BPF_ARSH, 0),
        _ => return None,
    })
}

fn jmp_op_bits(base: &str) -> Option<u8> {
    JmpCond::ALL
        .into_iter()
        .find(|c| jmp_name(*c) == base)
        .map(JmpCond::op_bits)
}

fn kind(m: &str) -> Option<Kind> {
    const ALU_MOV_X: u8 = BPF_MOV | BPF_X;
    let endian = |code: u8, width: &str| -> Option<Kind> {
        let imm = match width {
            "16" => 16,
            "32" => 32,
            "64" => 64,
            _ => return None,
        };
        Some(Kind::Endian { code, imm })
    };
    Some(match m {
        "neg" => Kind::Neg {
            code: BPF_ALU64 | BPF_NEG,
        },
        "neg32" => Kind::Neg {
            code: BPF_ALU | BPF_NEG,
        },
        "movsx864" | "movsx1664" | "movsx3264" | "movsx832" | "movsx1632" => {
            let (bits, class) = match m {
                "movsx864" => (8, BPF_ALU64),
                "movsx1664" => (16, BPF_ALU64),
                "movsx3264" => (32, BPF_ALU64),
                "movsx832" => (8, BPF_ALU),
                _ => (16, BPF_ALU),
            };
            Kind::MovSx {
                code: class | ALU_MOV_X,
                bits,
            }
        }
        "ja" => Kind::Ja {
            code: BPF_JMP | BPF_JA,
        },
        "ja32" => Kind::Ja32,
        "exit" => Kind::Exit,
        "may_goto" => Kind::Ja {
            code: BPF_JMP | BPF_JCOND,
        },
        "gotox" => Kind::Gotox,
        "addr_space_cast" => Kind::AddrSpaceCast,
        _ => {
            if let Some(w) = m.strip_prefix("le") {
                return endian(BPF_ALU | BPF_END | BPF_TO_LE, w);
            }
            if let Some(w) = m.strip_prefix("be") {
                return endian(BPF_ALU | BPF_END | BPF_TO_BE, w);
            }
            if let Some(w) = m.strip_prefix("bswap").or_else(|| m.strip_prefix("swap")) {
                return endian(BPF_ALU64 | BPF_END | BPF_TO_LE, w);
            }
            if let Some(s) = m.strip_prefix("ldxs").and_then(size_of_suffix) {
                if s == Size::DW {
                    return None;
                }
                return Some(Kind::Load {
                    code: sized(BPF_LDX | BPF_MEMSX, s),
                    imm: 0,
                });
            }
            if let Some(s) = m.strip_prefix("ldx").and_then(size_of_suffix) {
                return Some(Kind::Load {
                    code: sized(BPF_LDX | BPF_MEM, s),
                    imm: 0,
                });
            }
            if let Some(s) = m.strip_prefix("stx").and_then(size_of_suffix) {
                return Some(Kind::StoreReg {
                    code: sized(BPF_STX | BPF_MEM, s),
                    imm: 0,
                });
            }
            if let Some(s) = m.strip_prefix("st").and_then(size_of_suffix) {
                return Some(Kind::StoreImm {
                    code: sized(BPF_ST | BPF_MEM, s),
                });
            }
            if let Some(s) = m.strip_prefix("ldacq").and_then(size_of_suffix) {
                return Some(Kind::Load {
                    code: sized(BPF_STX | BPF_ATOMIC, s),
                    imm: BPF_LOAD_ACQ,
                });
            }
            if let Some(s) = m.strip_prefix("strel").and_then(size_of_suffix) {
                return Some(Kind::StoreReg {
                    code: sized(BPF_STX | BPF_ATOMIC, s),
                    imm: BPF_STORE_REL,
                });
            }
            if let Some(s) = m.strip_prefix("ldabs").and_then(size_of_suffix) {
                if s == Size::DW {
                    return None;
                }
                return Some(Kind::LdAbs {
                    code: sized(BPF_LD | BPF_ABS, s),
                });
            }
            if let Some(s) = m.strip_prefix("ldind").and_then(size_of_suffix) {
                if s == Size::DW {
                    return None;
                }
                return Some(Kind::LdInd {
                    code: sized(BPF_LD | BPF_IND, s),
                });
            }
            let (base, alu, jmp) = match m.strip_suffix("32") {
                Some(b) => (b, BPF_ALU, BPF_JMP32),
                None => (m, BPF_ALU64, BPF_JMP),
            };
            if let Some((op, off)) = alu_op_bits(base) {
                return Some(Kind::Alu {
                    code: alu | op,
                    off,
                });
            }
            return jmp_op_bits(base).map(|op| Kind::Jmp { code: jmp | op });
        }
    })
}

/// The `lock` operations: imm without the fetch bit, whether `fetch` adds
/// it, and the access size.
fn atomic_op(name: &str) -> Option<(i32, bool, Size)> {
    let (base, size) = match name.strip_suffix("32") {
        Some(b) => (b, Size::W),
        None => (name, Size::DW),
    };
    let (imm, fetchable) = match base {
        "add" => (i32::from(BPF_ADD), true),
        "or" => (i32::from(BPF_OR), true),
        "and" => (i32::from(BPF_AND), true),
        "xor" => (i32::from(BPF_XOR), true),
        "xchg" => (BPF_XCHG, false),
        "cmpxchg" => (BPF_CMPXCHG, false),
        _ => return None,
    };
    Some((imm, fetchable, size))
}

type Enc = (RawInsn, Option<RawInsn>);

impl<'a> Asm<'a> {
    fn line(&mut self, no: usize, text: &'a str) -> Result<(), AsmError> {
        let code = text.split('#').next().unwrap_or("");
        let toks = tokenize(code);
        let Some((&mnem, rest)) = toks.split_first() else {
            return Ok(());
        };
        if let Some(label) = mnem.text.strip_suffix(':') {
            if self.labels.contains_key(label) {
                return Err(AsmError::DuplicateLabel {
                    line: no,
                    column: mnem.col,
                    label: label.to_owned(),
                });
            }
            self.labels.insert(label, self.slots.len());
            return Ok(());
        }
        if mnem.text == "exit" && !self.seen_exit {
            self.labels.insert("exit", self.slots.len());
            self.seen_exit = true;
        }
        let ops = rest
            .iter()
            .map(|t| Tok {
                text: t.text.strip_suffix(',').unwrap_or(t.text),
                col: t.col,
            })
            .collect();
        let line = Line { no, mnem, ops };
        let (first, second) = self.encode(&line)?;
        self.slots.push(first);
        self.lines.push(no);
        if let Some(second) = second {
            self.slots.push(second);
            self.lines.push(no);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(Vec<RawInsn>, Vec<usize>), AsmError> {
        for f in &self.fixups {
            let Some(&target) = self.labels.get(f.label.text) else {
                return Err(AsmError::UnknownLabel {
                    line: f.line,
                    column: f.label.col,
                    label: f.label.text.to_owned(),
                });
            };
            let delta = i128::try_from(target)
                .unwrap_or(i128::MAX)
                .saturating_sub(i128::try_from(f.slot).unwrap_or(i128::MAX))
                .saturating_sub(1);
            let range = |what: &str| {
                out_of_range(
                    f.line,
                    f.label.col,
                    format!(
                        "label `{}` is {delta} slots away, beyond {what}",
                        f.label.text
                    ),
                )
            };
            let Some(slot) = self.slots.get_mut(f.slot) else {
                continue;
            };
            match f.field {
                TargetField::Off => {
                    slot.off = i16::try_from(delta).map_err(|_| range("a 16-bit offset"))?;
                }
                TargetField::Imm => {
                    slot.imm = i32::try_from(delta).map_err(|_| range("a 32-bit immediate"))?;
                }
            }
        }
        Ok((self.slots, self.lines))
    }

    fn count_error(l: &Line<'_>, want: &str) -> AsmError {
        syntax(
            l.no,
            l.mnem.col,
            format!(
                "`{}` takes {want}, found {}",
                l.mnem.text,
                operand_count(l.ops.len())
            ),
        )
    }

    fn reg(l: &Line<'_>, tok: Tok<'_>) -> Result<u8, AsmError> {
        reg_at(l.no, tok, 0, tok.text)
    }

    fn imm32(l: &Line<'_>, tok: Tok<'_>) -> Result<i32, AsmError> {
        number(l.no, tok, 0, "immediate out of 32-bit range:", conv_imm32)
    }

    fn u16(l: &Line<'_>, tok: Tok<'_>) -> Result<u16, AsmError> {
        number(l.no, tok, 0, "value out of range 0..=65535:", |n| {
            u16::try_from(n.signed()).ok()
        })
    }

    /// `[%rN]`, `[%rN+off]` or `[%rN-off]`.
    fn mem(l: &Line<'_>, tok: Tok<'_>) -> Result<(u8, i16), AsmError> {
        let inner = tok
            .text
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or_else(|| {
                syntax(
                    l.no,
                    tok.col,
                    format!(
                        "expected a memory operand `[%rN+off]`, found `{}`",
                        tok.text
                    ),
                )
            })?;
        // Byte positions inside `tok.text`: `[` is one byte.
        match inner.find(['+', '-']) {
            None => Ok((reg_at(l.no, tok, 1, inner)?, 0)),
            Some(p) => {
                let reg = reg_at(l.no, tok, 1, inner.get(..p).unwrap_or(""))?;
                let off_tok = Tok {
                    text: inner,
                    col: col_at(tok, 1),
                };
                let off = number(l.no, off_tok, p, "offset out of 16-bit range:", conv_off)?;
                Ok((reg, off))
            }
        }
    }

    /// A jump target: `+N`/`-N` now, or a label resolved in [`Asm::finish`].
    fn target(&mut self, l: &Line<'_>, tok: Tok<'a>, field: TargetField) -> Result<i32, AsmError> {
        if tok.text.starts_with(['+', '-']) {
            return match field {
                TargetField::Off => {
                    number(l.no, tok, 0, "offset out of 16-bit range:", conv_off).map(i32::from)
                }
                TargetField::Imm => number(l.no, tok, 0, "target out of 32-bit range:", conv_imm32),
            };
        }
        self.fixups.push(Fixup {
            slot: self.slots.len(),
            field,
            label: tok,
            line: l.no,
        });
        Ok(0)
    }

    fn encode(&mut self, l: &Line<'a>) -> Result<Enc, AsmError> {
        let m = l.mnem.text;
        match m {
            "lock" => return Self::lock(l).map(|r| (r, None)),
            "call" => return self.call(l).map(|r| (r, None)),
            "lddw" => return self.lddw(l),
            _ => {}
        }
        let Some(kind) = kind(m) else {
            return Err(syntax(l.no, l.mnem.col, format!("unknown mnemonic `{m}`")));
        };
        let new = RawInsn::new;
        let raw = match (kind, l.ops.as_slice()) {
            (Kind::Alu { code, off }, &[d, s]) => {
                let dst = Self::reg(l, d)?;
                if s.text.starts_with('%') {
                    new(code | BPF_X, dst, Self::reg(l, s)?, off, 0)
                } else {
                    new(code | BPF_K, dst, 0, off, Self::imm32(l, s)?)
                }
            }
            (Kind::Neg { code }, &[d]) => new(code, Self::reg(l, d)?, 0, 0, 0),
            (Kind::MovSx { code, bits }, &[d, s]) => {
                let dst = Self::reg(l, d)?;
                if s.text.starts_with('%') {
                    new(code, dst, Self::reg(l, s)?, bits, 0)
                } else {
                    // Upstream encodes an immediate source as `BPF_K`.
                    new(code & !BPF_X, dst, 0, bits, Self::imm32(l, s)?)
                }
            }
            (Kind::Endian { code, imm }, &[d]) => new(code, Self::reg(l, d)?, 0, 0, imm),
            (Kind::Load { code, imm }, &[d, s]) => {
                let dst = Self::reg(l, d)?;
                let (src, off) = Self::mem(l, s)?;
                new(code, dst, src, off, imm)
            }
            (Kind::StoreImm { code }, &[d, s]) => {
                let (dst, off) = Self::mem(l, d)?;
                new(code, dst, 0, off, Self::imm32(l, s)?)
            }
            (Kind::StoreReg { code, imm }, &[d, s]) => {
                let (dst, off) = Self::mem(l, d)?;
                new(code, dst, Self::reg(l, s)?, off, imm)
            }
            (Kind::Ja { code }, &[t]) => {
                let off = self.target(l, t, TargetField::Off)?;
                new(code, 0, 0, off as i16, 0)
            }
            (Kind::Ja32, &[t]) => {
                let imm = self.target(l, t, TargetField::Imm)?;
                new(BPF_JMP32 | BPF_JA, 0, 0, 0, imm)
            }
            (Kind::Jmp { code }, &[d, s, t]) => {
                let dst = Self::reg(l, d)?;
                let (code, src, imm) = if s.text.starts_with('%') {
                    (code | BPF_X, Self::reg(l, s)?, 0)
                } else {
                    (code | BPF_K, 0, Self::imm32(l, s)?)
                };
                let off = self.target(l, t, TargetField::Off)?;
                new(code, dst, src, off as i16, imm)
            }
            (Kind::Exit, &[]) => new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
            (Kind::LdAbs { code }, &[i]) => new(code, 0, 0, 0, Self::imm32(l, i)?),
            (Kind::LdInd { code }, &[s, i]) => {
                new(code, 0, Self::reg(l, s)?, 0, Self::imm32(l, i)?)
            }
            (Kind::Gotox, &[r]) => new(BPF_JMP | BPF_JA | BPF_X, Self::reg(l, r)?, 0, 0, 0),
            (Kind::AddrSpaceCast, &[d, s, da, sa]) => {
                let (dst, src) = (Self::reg(l, d)?, Self::reg(l, s)?);
                let (da, sa) = (Self::u16(l, da)?, Self::u16(l, sa)?);
                let imm = ((u32::from(da) << 16) | u32::from(sa)) as i32;
                new(
                    BPF_ALU64 | BPF_MOV | BPF_X,
                    dst,
                    src,
                    BPF_ADDR_SPACE_CAST,
                    imm,
                )
            }
            (kind, _) => {
                return Err(Self::count_error(l, &operand_count(kind.operands())));
            }
        };
        Ok((raw, None))
    }

    /// `lock [fetch] OP[32] [dst+off], src`.
    fn lock(l: &Line<'_>) -> Result<RawInsn, AsmError> {
        const WANT: &str = "`[fetch] OP [dst+off], src`";
        let (fetch, rest) = match l.ops.as_slice() {
            [f, rest @ ..] if f.text == "fetch" => (true, rest),
            ops => (false, ops),
        };
        let Some((&op, args)) = rest.split_first() else {
            return Err(Self::count_error(l, WANT));
        };
        let Some((imm, fetchable, size)) = atomic_op(op.text) else {
            return Err(syntax(
                l.no,
                op.col,
                format!("unknown atomic operation `{}`", op.text),
            ));
        };
        let &[d, s] = args else {
            return Err(Self::count_error(l, WANT));
        };
        let (dst, off) = Self::mem(l, d)?;
        let src = Self::reg(l, s)?;
        let imm = if fetch && fetchable {
            imm | BPF_FETCH
        } else {
            imm
        };
        Ok(RawInsn::new(
            BPF_STX | BPF_ATOMIC | size.bits(),
            dst,
            src,
            off,
            imm,
        ))
    }

    /// `call N`, `call %rN`, `call helper ..`, `call local T`,
    /// `call runtime N[, MODULE]`.
    fn call(&mut self, l: &Line<'a>) -> Result<RawInsn, AsmError> {
        let code = BPF_JMP | BPF_CALL;
        let helper = |t: Tok<'_>| -> Result<RawInsn, AsmError> {
            if t.text.starts_with('%') {
                Ok(RawInsn::new(code | BPF_X, Self::reg(l, t)?, 0, 0, 0))
            } else {
                Ok(RawInsn::new(code, 0, 0, 0, Self::imm32(l, t)?))
            }
        };
        let runtime = |t: Tok<'_>, module: Option<Tok<'_>>| -> Result<RawInsn, AsmError> {
            let id = Self::imm32(l, t)?;
            let off = match module {
                Some(m) => number(l.no, m, 0, "module index out of 16-bit range:", conv_off)?,
                None => 0,
            };
            Ok(RawInsn::new(code, 0, BPF_PSEUDO_KFUNC_CALL, off, id))
        };
        match *l.ops.as_slice() {
            [t] => helper(t),
            [mode, t] => match mode.text {
                "helper" => helper(t),
                "local" => {
                    let imm = self.target(l, t, TargetField::Imm)?;
                    Ok(RawInsn::new(code, 0, BPF_PSEUDO_CALL, 0, imm))
                }
                "runtime" => runtime(t, None),
                other => Err(syntax(
                    l.no,
                    mode.col,
                    format!("invalid call mode `{other}` (helper, local or runtime)"),
                )),
            },
            [mode, t, module] if mode.text == "runtime" => runtime(t, Some(module)),
            _ => Err(Self::count_error(l, "1 or 2 operands")),
        }
    }

    /// `lddw dst, imm64` and the pseudo forms (`lddw dst, map_fd N`, ...).
    fn lddw(&mut self, l: &Line<'a>) -> Result<Enc, AsmError> {
        let two = |dst: u8, src: u8, lo: i32, hi: i32| {
            (
                RawInsn::new(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, lo),
                Some(RawInsn::new(0, 0, 0, 0, hi)),
            )
        };
        match *l.ops.as_slice() {
            [d, v] => {
                let dst = Self::reg(l, d)?;
                let imm = number(l.no, v, 0, "immediate out of 64-bit range:", conv_imm64)?;
                Ok(two(dst, 0, imm as u32 as i32, (imm >> 32) as u32 as i32))
            }
            [d, kw, a] if matches!(kw.text, "map_fd" | "map_idx" | "func") => {
                let dst = Self::reg(l, d)?;
                let (src, lo) = match kw.text {
                    "map_fd" => (BPF_PSEUDO_MAP_FD, Self::imm32(l, a)?),
                    "map_idx" => (BPF_PSEUDO_MAP_IDX, Self::imm32(l, a)?),
                    _ => (BPF_PSEUDO_FUNC, self.target(l, a, TargetField::Imm)?),
                };
                Ok(two(dst, src, lo, 0))
            }
            [d, kw, a, b] if matches!(kw.text, "map_value" | "btf_id" | "map_idx_value") => {
                let dst = Self::reg(l, d)?;
                let src = match kw.text {
                    "map_value" => BPF_PSEUDO_MAP_VALUE,
                    "btf_id" => BPF_PSEUDO_BTF_ID,
                    _ => BPF_PSEUDO_MAP_IDX_VALUE,
                };
                Ok(two(dst, src, Self::imm32(l, a)?, Self::imm32(l, b)?))
            }
            _ => Err(Self::count_error(l, "2 operands")),
        }
    }
}

fn operand_count(n: usize) -> String {
    if n == 1 {
        "1 operand".to_owned()
    } else {
        format!("{n} operands")
    }
}

/// A register `%r0`..`%r15` that is `text`, found at byte `at` of `tok`.
fn reg_at(line: usize, tok: Tok<'_>, at: usize, text: &str) -> Result<u8, AsmError> {
    let n = text
        .strip_prefix("%r")
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .filter(|d| d.len() == 1 || !d.starts_with('0'))
        .and_then(|d| d.parse::<u8>().ok())
        .filter(|n| *n <= 15);
    n.ok_or_else(|| syntax(line, col_at(tok, at), format!("invalid register `{text}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_columns() {
        let t = tokenize("  mov\t%r0,  1");
        let v: Vec<_> = t.iter().map(|t| (t.text, t.col)).collect();
        assert_eq!(v, [("mov", 3), ("%r0,", 7), ("1", 13)]);
    }

    #[test]
    fn numbers_follow_strtoull() {
        let off = |s: &str| parse_num(s).ok().and_then(conv_off);
        assert_eq!(off("+0xffff"), Some(-1));
        assert_eq!(off("-0x2"), None);
        assert_eq!(off("-0x0"), Some(0));
        assert_eq!(off("-32768"), Some(i16::MIN));
        assert_eq!(off("+32768"), None);
        let imm = |s: &str| parse_num(s).ok().and_then(conv_imm32);
        assert_eq!(imm("0xffffffff"), Some(-1));
        assert_eq!(imm("0x100000000"), None);
        assert_eq!(imm("2147483648"), None);
        assert_eq!(imm("-2147483648"), Some(i32::MIN));
        let imm64 = |s: &str| parse_num(s).ok().and_then(conv_imm64);
        assert_eq!(imm64("-1"), Some(u64::MAX));
        assert_eq!(imm64("-0x1"), Some(u64::MAX));
        assert_eq!(imm64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(imm64("-9223372036854775809"), None);
        assert!(matches!(
            parse_num("18446744073709551616"),
            Err(NumError::Overflow)
        ));
        assert!(matches!(parse_num("0X10"), Err(NumError::Syntax)));
        assert!(matches!(parse_num("12abc"), Err(NumError::Syntax)));
    }
}
