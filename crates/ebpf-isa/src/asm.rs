//! Kernel-syntax assembler: the text the verifier log, `bpftool prog dump
//! xlated` and `Display for Insn` print, plus what people write by hand or
//! copy from LLVM, back to a [`Program`].
//!
//! ```
//! use ebpf_isa::asm::assemble;
//!
//! let prog = assemble(
//!     "
//!     ; r0 = (r1 > 5) ? 1 : 0
//!         r0 = 0
//!         if r1 > 5 goto out   // labels or pc-relative offsets
//!         r0 = 1
//!     out:
//!         exit
//!     ",
//! )?;
//! assert_eq!(prog.insns()[1].to_string(), "if r1 > 0x5 goto pc+1");
//! // Display re-assembles to the same program.
//! assert_eq!(assemble(&prog.to_string())?, prog);
//! # Ok::<(), ebpf_isa::AsmError>(())
//! ```
//!
//! # Accepted syntax
//!
//! **Lines**
//! - [x] One instruction per line; blank lines are skipped.
//! - [x] Comments: `;` to end of line (the verifier log's source lines and
//!   state annotations), `//` to end of line, `#` to end of line when at the
//!   start of the line or after whitespace (`call foo#1` is not a comment).
//! - [x] Decoration from listings: a leading slot index `12:` (never
//!   checked) and an opcode prefix `(bf)` (checked: it must be the opcode
//!   of the instruction's first slot). So the verifier log's `12: (bf) r6 = r1`
//!   and [`Program`]'s `0: r0 = 0` both re-assemble.
//! - [x] Labels `name:` on their own line or before an instruction. A label
//!   is letters, digits, `_` and `.`, not starting with a digit, and not a
//!   register name (`.LBB0_2` is fine). A label names the slot of the next
//!   instruction; offsets are `label_slot - this_slot - 1` (an `ld_imm64`
//!   takes two slots).
//! - [x] `(ld_imm64 second slot)` (how `Display` prints the tail) directly
//!   after an `ld_imm64` is accepted and emits nothing.
//!
//! **Operands**
//! - [x] Registers `r0`..`r10`; `w0`..`w10` for 32-bit ALU and jump operands
//!   and, as LLVM prints them, as the value register of loads, stores and
//!   atomics of at most 32 bits.
//! - [x] Numbers in decimal or hex (`0x`), with an optional sign, checked
//!   against their field: 32-bit immediates take `-2^31..=0xffffffff` (the
//!   upper half as a bit pattern: `0xffffffff` is -1), offsets `i16`,
//!   `gotol`/`call pc+N` offsets `i32`, `ld_imm64` constants `u64` or a
//!   negative number down to `-2^63`.
//! - [x] Memory operands `*(u32 *)(r1 +4)`, also spaced as LLVM prints
//!   them, `*(u32 *)(r1 + 4)`, `(r10 - 8)`, `*(u32*)(r1+4)`, `(r1 + -8)`, and
//!   `(r1)` for offset 0.
//! - [x] Jump targets `pc+3`, `pc-1`, `+3`, `-1`, `3`, or a label.
//!
//! **Instructions** (the first column is what `Display` prints)
//! - [x] ALU: `r1 += r2`, `w0 += 1`, `r1 s/= r2`, `r1 s%= 3`, `r1 s>>= 2`, all
//!   of `+= -= *= /= %= |= &= ^= <<= >>= s>>= s/= s%=`; `r1 = r2`; `r0 = -1`;
//!   `w2 = -w2` (negation); `w7 = (s8)w3`, `r1 = (s32)r2` (sign-extending
//!   moves).
//! - [x] Constants: `r1 = 5` (decimal to a 64-bit register is a 32-bit
//!   immediate `mov`); `r1 = 0x1234` (**hex** to a 64-bit register is
//!   `ld_imm64`, the kernel's convention); `r1 = 5 ll`, `r1 = -1 ll` (LLVM's
//!   `ld_imm64`); `lddw r1, 0x1234` and `ld_imm64 r1, 0x1234`.
//! - [x] `ld_imm64` pseudo forms: `r1 = map[fd:3]`, `r1 = map[fd:3][0]+8`,
//!   `r1 = map[idx:0]`, `r1 = map[idx:0][0]+8`, `r1 = btf_id[5]`,
//!   `r1 = btf_id[5][fd:2]`, `r1 = func pc+5`, `r1 = func label`.
//! - [x] Byte order: `r3 = le16 r3`, `be32`, `bswap64`, ...
//! - [x] `r1 = addr_space_cast(r2, 0, 1)` (only between spaces 0 and 1).
//! - [x] Loads and stores: `r0 = *(u32 *)(r1 +4)`, `r0 = *(s16 *)(r1 +4)`,
//!   `*(u64 *)(r10 -8) = r1`, `*(u64 *)(r10 -8) = 7`; legacy packet loads
//!   `r0 = *(u8 *)skb[14]`, `r0 = *(u32 *)skb[r3 + 2]`.
//! - [x] Atomics: `lock *(u64 *)(r10 -8) += r1` (and `|=`, `&=`, `^=`),
//!   `r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)` (`_or`, `_and`,
//!   `_xor`, `_xchg`), `r0 = atomic_cmpxchg((u32 *)(r2 +0), r0, r3)`;
//!   `atomic_` works for both sizes, `atomic64_` needs `u64`. LLVM's
//!   `r1 = xchg_64(r10 - 8, r1)`, `w1 = xchg32_32(...)`,
//!   `r0 = cmpxchg_64(r10 - 8, r0, r1)` and `w0 = cmpxchg32_32(...)` too.
//! - [x] `r1 = load_acquire((u8 *)(r2 +0))`, `store_release((u64 *)(r1 +8), r2)`.
//! - [x] Jumps: `goto pc-1`, `gotol pc+70000`, `may_goto pc+2`, `gotox r3`,
//!   `if r1 > 0x5 goto pc+3`, `if w1 s< w2 goto pc-1`, all of
//!   `== != > >= < <= & s> s>= s< s<=`.
//! - [x] Calls: `call bpf_map_lookup_elem#1` (the name must be the helper's,
//!   with or without `bpf_`, or `unknown`), `call 1`,
//!   `call bpf_map_lookup_elem`, `call map_lookup_elem`, `call pc+5`,
//!   `call label` (bpf-to-bpf; a defined label wins over a helper of the
//!   same name), `call kernel-function#123`, `call kernel-function#123@2`,
//!   `callx r2`, and `exit`.
//!
//! **Not accepted** (each is a typed error with line and column):
//! - [ ] Verifier state lines (`0: R1=ctx() R10=fp0`, `from 4 to 6: ...`),
//!   bpftool's function headers (`int prog(void * ctx):`) and its
//!   `map[id:N]`, llvm-objdump's byte columns.
//! - [ ] Kfuncs by name (`call bpf_obj_new_impl#75320`): the name is taken
//!   as a helper name and rejected; write `call kernel-function#75320`.
//! - [ ] Upper-case mnemonics and registers.
//!
//! **Guarantees**
//! - [x] Never panics; time and memory are linear in the input (labels are
//!   hashed, error messages quote at most a few dozen characters of input).
//! - [x] Every error is an [`AsmError`] with the 1-based line and column of
//!   the offending token (of a number's sign, a label reference, or the end
//!   of the line) and what was expected there.
//! - [x] The returned [`Program`] decodes: the assembled slots go through
//!   [`decode`](crate::decode) and any rejection is an [`AsmError::Decode`]
//!   (line only). This is a safety net: the parser already rejects, with a
//!   column, everything the decoder would (`(s32)` into `wN`, atomics on
//!   `u8`, `addr_space_cast` outside spaces 0 and 1, ...).

use std::collections::HashMap;

use crate::asm_error::AsmError;
use crate::encode::encode;
use crate::helpers::{helper_id, helper_name};
use crate::insn::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Imm64, Insn, JmpCond, Operand, Reg, Size, SwapBits,
    SxBits, Width,
};
use crate::program::Program;

/// Assemble kernel-syntax text (see the [module documentation](self) for
/// the accepted syntax) into a program.
///
/// ```
/// use ebpf_isa::{AsmError, asm::assemble};
///
/// let prog = assemble("r1 = map[fd:3]\ncall bpf_map_lookup_elem#1\nexit")?;
/// assert_eq!(prog.len(), 4); // ld_imm64 takes two slots
/// assert_eq!(
///     assemble("goto nowhere"),
///     Err(AsmError::UnknownLabel { line: 1, column: 6, label: "nowhere".into() })
/// );
/// # Ok::<(), AsmError>(())
/// ```
pub fn assemble(text: &str) -> Result<Program, AsmError> {
    let parsed = parse(text)?;
    link(parsed)
}

/// Assemble exactly one instruction (comments and decoration allowed).
/// Label references resolve only to labels defined in `text` itself;
/// `call name` falls back to the helper of that name.
///
/// ```
/// use ebpf_isa::{Insn, asm::assemble_line};
///
/// assert_eq!(assemble_line("12: (95) exit ; R0=0")?, Insn::Exit);
/// # Ok::<(), ebpf_isa::AsmError>(())
/// ```
pub fn assemble_line(text: &str) -> Result<Insn, AsmError> {
    let parsed = parse(text)?;
    match parsed.items.get(1) {
        Some(second) => Err(AsmError::Syntax {
            line: second.line,
            column: second.col,
            message: "expected a single instruction, found a second one".into(),
        }),
        None => {
            let Some(first) = parsed.items.first() else {
                return Err(AsmError::Syntax {
                    line: 1,
                    column: 1,
                    message: "expected an instruction, found none".into(),
                });
            };
            let (line, col) = (first.line, first.col);
            let prog = link(parsed)?;
            prog.insns().first().copied().ok_or(AsmError::Syntax {
                line,
                column: col,
                message: "expected an instruction, found none".into(),
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Tokens

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Letters, digits, `_` and `.`: mnemonics, registers, numbers, labels.
    Word,
    /// Operators and punctuation.
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    kind: Kind,
    text: &'a str,
    /// Byte offset in the line.
    start: usize,
    /// 1-based column (in characters).
    col: usize,
}

impl Tok<'_> {
    fn is(&self, text: &str) -> bool {
        self.text == text
    }
    fn is_number(&self) -> bool {
        self.kind == Kind::Word && self.text.starts_with(|c: char| c.is_ascii_digit())
    }
    fn is_reg(&self) -> bool {
        self.kind == Kind::Word && reg_of(self.text).is_some()
    }
    fn is_label(&self) -> bool {
        self.kind == Kind::Word && is_label(self.text)
    }
}

/// Multi-character operators, longest first (maximal munch).
const OPS: [&str; 14] = [
    "<<=", ">>=", "+=", "-=", "*=", "/=", "|=", "&=", "%=", "^=", "==", "!=", ">=", "<=",
];
/// Single-character punctuation.
const PUNCT: &str = "=<>&()*+-[],:#@/|%^!";
/// Signed operators, written as `s` glued to an operator.
const SIGNED_OPS: [&str; 7] = ["s<", "s<=", "s>", "s>=", "s>>=", "s/=", "s%="];

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// `rN` / `wN`: the width and, if `N <= 10`, the register.
fn reg_of(text: &str) -> Option<(Width, Option<Reg>)> {
    let (width, digits) = if let Some(d) = text.strip_prefix('r') {
        (Width::W64, d)
    } else if let Some(d) = text.strip_prefix('w') {
        (Width::W32, d)
    } else {
        return None;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((width, digits.parse::<u8>().ok().and_then(Reg::new)))
}

fn is_label(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '.')
        && reg_of(text).is_none()
}

/// At most 32 characters of `text` for an error message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(32) {
        Some((i, _)) => format!("{}...", text.get(..i).unwrap_or_default()),
        None => text.to_owned(),
    }
}

/// Split one line into tokens, dropping comments. Returns the column just
/// after the last token (where "end of line" errors point).
fn tokenize<'a>(line: &'a str, ln: usize, toks: &mut Vec<Tok<'a>>) -> Result<usize, AsmError> {
    toks.clear();
    let mut i = 0usize;
    let mut col = 1usize;
    let mut prev_ws = true;
    let mut eol = 1usize;
    while let Some(rest) = line.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            i += c.len_utf8();
            col += 1;
            prev_ws = true;
            continue;
        }
        if c == ';' || rest.starts_with("//") || (c == '#' && prev_ws) {
            break;
        }
        prev_ws = false;
        let len = if is_word_char(c) {
            let len = rest.find(|ch| !is_word_char(ch)).unwrap_or(rest.len());
            toks.push(Tok {
                kind: Kind::Word,
                text: rest.get(..len).unwrap_or_default(),
                start: i,
                col,
            });
            len
        } else {
            let len = match OPS.iter().find(|op| rest.starts_with(**op)) {
                Some(op) => op.len(),
                None if PUNCT.contains(c) => 1,
                None => {
                    return Err(AsmError::Syntax {
                        line: ln,
                        column: col,
                        message: format!("unexpected character `{}`", c.escape_debug()),
                    });
                }
            };
            let end = i + len;
            let text = rest.get(..len).unwrap_or_default();
            // `s` glued to an operator is a signed operator (`s<`, `s/=`).
            let merged = match toks.last() {
                Some(last) if last.is("s") && last.start + 1 == i => {
                    line.get(last.start..end).filter(|m| SIGNED_OPS.contains(m))
                }
                _ => None,
            };
            match (merged, toks.last_mut()) {
                (Some(m), Some(last)) => {
                    last.kind = Kind::Punct;
                    last.text = m;
                }
                _ => toks.push(Tok {
                    kind: Kind::Punct,
                    text,
                    start: i,
                    col,
                }),
            }
            len
        };
        // Tokens are ASCII: one column per byte.
        i += len;
        col += len;
        eol = col;
    }
    Ok(eol)
}

// ---------------------------------------------------------------------------
// Parser

/// A number as written: value, whether it was hex, and the column of its
/// first character (sign included).
#[derive(Clone, Copy, Debug)]
struct Num {
    val: i128,
    hex: bool,
    col: usize,
}

impl core::fmt::Display for Num {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.hex {
            let sign = if self.val < 0 { "-" } else { "" };
            write!(f, "{sign}{:#x}", self.val.unsigned_abs())
        } else {
            write!(f, "{}", self.val)
        }
    }
}

enum Target<'a> {
    Off(Num),
    Label(Fixup<'a>),
}

/// A label reference to resolve once all labels are known.
#[derive(Clone, Copy, Debug)]
struct Fixup<'a> {
    label: &'a str,
    col: usize,
}

enum Stmt<'a> {
    Insn(Insn, Option<Fixup<'a>>),
    /// `(ld_imm64 second slot)`.
    Tail,
}

struct Parser<'t, 'a> {
    toks: &'t [Tok<'a>],
    pos: usize,
    line: usize,
    eol: usize,
}

const I16_RANGE: &str = "-32768..=32767";
const I32_RANGE: &str = "-2147483648..=2147483647";
const I32_BITS_RANGE: &str = "-2147483648..=0xffffffff";
const U32_RANGE: &str = "0..=4294967295";
const U16_RANGE: &str = "0..=65535";
const U64_BITS_RANGE: &str = "-9223372036854775808..=0xffffffffffffffff";

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).copied()
    }
    fn peek_n(&self, n: usize) -> Option<Tok<'a>> {
        self.toks.get(self.pos.saturating_add(n)).copied()
    }
    fn bump(&mut self) -> Option<Tok<'a>> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn col(&self) -> usize {
        self.peek().map_or(self.eol, |t| t.col)
    }
    fn peek_is(&self, text: &str) -> bool {
        self.peek().is_some_and(|t| t.is(text))
    }

    fn syntax(&self, column: usize, message: String) -> AsmError {
        AsmError::Syntax {
            line: self.line,
            column,
            message,
        }
    }
    fn expected(&self, what: &str) -> AsmError {
        let found = match self.peek() {
            Some(t) => format!("`{}`", shorten(t.text)),
            None => "end of line".to_owned(),
        };
        self.syntax(self.col(), format!("expected {what}, found {found}"))
    }
    fn out_of_range(&self, n: Num, what: &str, range: &str) -> AsmError {
        AsmError::OutOfRange {
            line: self.line,
            column: n.col,
            message: format!("{what} {n} out of range {range}"),
        }
    }

    fn eat(&mut self, text: &str) -> bool {
        let hit = self.peek_is(text);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn expect(&mut self, text: &str) -> Result<Tok<'a>, AsmError> {
        match self.peek() {
            Some(t) if t.is(text) => {
                self.pos += 1;
                Ok(t)
            }
            _ => Err(self.expected(&format!("`{text}`"))),
        }
    }
    fn finish(&self) -> Result<(), AsmError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.expected("end of line"))
        }
    }

    // --- registers -------------------------------------------------------

    /// Any register: `(reg, width, column)`.
    fn reg(&mut self) -> Result<(Reg, Width, usize), AsmError> {
        let Some(t) = self.peek() else {
            return Err(self.expected("a register"));
        };
        match reg_of(t.text) {
            Some((width, Some(r))) if t.kind == Kind::Word => {
                self.pos += 1;
                Ok((r, width, t.col))
            }
            Some((_, None)) if t.kind == Kind::Word => Err(self.syntax(
                t.col,
                format!(
                    "no register `{}`: registers are r0..r10 (w0..w10 for 32 bits)",
                    shorten(t.text)
                ),
            )),
            _ => Err(self.expected("a register")),
        }
    }
    /// A register of the given width.
    fn reg_w(&mut self, width: Width) -> Result<Reg, AsmError> {
        let (r, w, col) = self.reg()?;
        if w == width {
            Ok(r)
        } else {
            Err(self.width_error(col, width, r))
        }
    }
    /// A register of the other width than `want` was found.
    fn width_error(&self, col: usize, want: Width, r: Reg) -> AsmError {
        let (want, letter) = match want {
            Width::W64 => ("a 64-bit register (`rN`)", 'w'),
            Width::W32 => ("a 32-bit register (`wN`)", 'r'),
        };
        self.syntax(col, format!("expected {want}, found `{letter}{}`", r.num()))
    }
    /// The value register of a memory access of `size`: `rN`, or `wN` for
    /// accesses of at most 32 bits.
    fn reg_sized(&mut self, size: Size) -> Result<Reg, AsmError> {
        let (r, w, col) = self.reg()?;
        self.check_sized(col, r, w, size)?;
        Ok(r)
    }
    fn check_sized(&self, col: usize, r: Reg, w: Width, size: Size) -> Result<(), AsmError> {
        if w == Width::W32 && size == Size::DW {
            Err(self.syntax(
                col,
                format!(
                    "expected a 64-bit register (`rN`) for a u64 access, found `w{}`",
                    r.num()
                ),
            ))
        } else {
            Ok(())
        }
    }
    fn check_r64(&self, col: usize, r: Reg, w: Width, what: &str) -> Result<(), AsmError> {
        if w == Width::W64 {
            Ok(())
        } else {
            Err(self.syntax(
                col,
                format!(
                    "{what} needs a 64-bit register (`rN`), found `w{}`",
                    r.num()
                ),
            ))
        }
    }

    // --- numbers ---------------------------------------------------------

    /// An optionally signed decimal or hex number.
    fn number(&mut self, what: &str) -> Result<Num, AsmError> {
        let col = self.col();
        let neg = if self.eat("-") {
            true
        } else {
            self.eat("+");
            false
        };
        let Some(t) = self.peek().filter(Tok::is_number) else {
            return Err(self.expected(what));
        };
        self.pos += 1;
        let (digits, radix, hex) = match t
            .text
            .strip_prefix("0x")
            .or_else(|| t.text.strip_prefix("0X"))
        {
            Some(h) => (h, 16, true),
            None => (t.text, 10, false),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return Err(self.syntax(t.col, format!("invalid number `{}`", shorten(t.text))));
        }
        let Ok(mag) = u64::from_str_radix(digits, radix) else {
            return Err(AsmError::OutOfRange {
                line: self.line,
                column: col,
                message: format!("number `{}` does not fit in 64 bits", shorten(t.text)),
            });
        };
        let mag = i128::from(mag);
        Ok(Num {
            val: if neg { -mag } else { mag },
            hex,
            col,
        })
    }
    fn to_i16(&self, n: Num, what: &str) -> Result<i16, AsmError> {
        i16::try_from(n.val).map_err(|_| self.out_of_range(n, what, I16_RANGE))
    }
    fn to_u16(&self, n: Num, what: &str) -> Result<u16, AsmError> {
        u16::try_from(n.val).map_err(|_| self.out_of_range(n, what, U16_RANGE))
    }
    fn to_i32(&self, n: Num, what: &str) -> Result<i32, AsmError> {
        i32::try_from(n.val).map_err(|_| self.out_of_range(n, what, I32_RANGE))
    }
    fn to_u32(&self, n: Num, what: &str) -> Result<u32, AsmError> {
        u32::try_from(n.val).map_err(|_| self.out_of_range(n, what, U32_RANGE))
    }
    /// An i32 field: signed, or the upper half as a u32 bit pattern.
    fn to_i32_bits(&self, n: Num, what: &str) -> Result<i32, AsmError> {
        i32::try_from(n.val)
            .or_else(|_| u32::try_from(n.val).map(|u| u as i32))
            .map_err(|_| self.out_of_range(n, what, I32_BITS_RANGE))
    }
    /// A 64-bit constant: unsigned, or negative as two's complement.
    fn to_u64_bits(&self, n: Num, what: &str) -> Result<u64, AsmError> {
        u64::try_from(n.val)
            .or_else(|_| i64::try_from(n.val).map(|i| i as u64))
            .map_err(|_| self.out_of_range(n, what, U64_BITS_RANGE))
    }

    // --- shared pieces ---------------------------------------------------

    /// `pc+N`, `+N`, `-N`, `N` or a label.
    fn target(&mut self) -> Result<Target<'a>, AsmError> {
        const WHAT: &str = "a jump target (`pc+N`, `+N`, `-N` or a label)";
        let Some(t) = self.peek() else {
            return Err(self.expected(WHAT));
        };
        if t.is("pc") && self.peek_n(1).is_some_and(|n| n.is("+") || n.is("-")) {
            self.pos += 1;
            let n = self.number(WHAT)?;
            return Ok(Target::Off(Num { col: t.col, ..n }));
        }
        if t.is("+") || t.is("-") || t.is_number() {
            return Ok(Target::Off(self.number(WHAT)?));
        }
        if t.is_label() {
            self.pos += 1;
            return Ok(Target::Label(Fixup {
                label: t.text,
                col: t.col,
            }));
        }
        Err(self.expected(WHAT))
    }
    /// A 16-bit jump offset or a label (offset 0 until linked).
    fn target16(&mut self) -> Result<(i16, Option<Fixup<'a>>), AsmError> {
        match self.target()? {
            Target::Off(n) => Ok((self.to_i16(n, "jump offset")?, None)),
            Target::Label(f) => Ok((0, Some(f))),
        }
    }
    /// A 32-bit slot offset or a label.
    fn target32(&mut self, what: &str) -> Result<(i32, Option<Fixup<'a>>), AsmError> {
        match self.target()? {
            Target::Off(n) => Ok((self.to_i32(n, what)?, None)),
            Target::Label(f) => Ok((0, Some(f))),
        }
    }

    /// `u8`..`u64`, `s8`..`s32`: `(size, signed, column)`.
    fn ty(&mut self) -> Result<(Size, bool, usize), AsmError> {
        const WHAT: &str = "a type (`u8`, `u16`, `u32`, `u64`, `s8`, `s16` or `s32`)";
        let Some(t) = self.peek() else {
            return Err(self.expected(WHAT));
        };
        let (size, signed) = match t.text {
            "u8" => (Size::B, false),
            "u16" => (Size::H, false),
            "u32" => (Size::W, false),
            "u64" => (Size::DW, false),
            "s8" => (Size::B, true),
            "s16" => (Size::H, true),
            "s32" => (Size::W, true),
            _ => return Err(self.expected(WHAT)),
        };
        self.pos += 1;
        Ok((size, signed, t.col))
    }
    /// `(u32 *)`.
    fn cast(&mut self) -> Result<(Size, bool, usize), AsmError> {
        self.expect("(")?;
        let ty = self.ty()?;
        self.expect("*")?;
        self.expect(")")?;
        Ok(ty)
    }
    /// An unsigned `(u32 *)`.
    fn ucast(&mut self) -> Result<(Size, usize), AsmError> {
        let (size, signed, col) = self.cast()?;
        if signed {
            return Err(self.syntax(
                col,
                format!("expected an unsigned type here, found `{}`", size.stype()),
            ));
        }
        Ok((size, col))
    }
    /// `r1 +4`, `r1 - 8`, `r1 + -8`, `r1`.
    fn base_off(&mut self) -> Result<(Reg, i16), AsmError> {
        let (r, w, col) = self.reg()?;
        self.check_r64(col, r, w, "an address")?;
        let off = if self.eat("+") || self.peek_is("-") {
            let n = self.number("an offset")?;
            self.to_i16(n, "offset")?
        } else {
            0
        };
        Ok((r, off))
    }
    /// `(r1 +4)`.
    fn addr(&mut self) -> Result<(Reg, i16), AsmError> {
        self.expect("(")?;
        let a = self.base_off()?;
        self.expect(")")?;
        Ok(a)
    }
    /// A register of `width` or a 32-bit immediate.
    fn operand(&mut self, width: Width, what: &str) -> Result<Operand, AsmError> {
        if self.peek().is_some_and(|t| t.is_reg()) {
            Ok(Operand::Reg(self.reg_w(width)?))
        } else {
            let n = self.number("a register or a number")?;
            Ok(Operand::Imm(self.to_i32_bits(n, what)?))
        }
    }
    fn atomic_size(&self, size: Size, col: usize) -> Result<(), AsmError> {
        if matches!(size, Size::W | Size::DW) {
            Ok(())
        } else {
            Err(self.syntax(
                col,
                format!(
                    "atomic operations take `u32` or `u64`, found `{}`",
                    size.utype()
                ),
            ))
        }
    }

    // --- lines -----------------------------------------------------------

    /// Slot index, labels and opcode prefix before the instruction.
    fn head(
        &mut self,
        labels: &mut Vec<(&'a str, usize)>,
    ) -> Result<Option<(u8, usize)>, AsmError> {
        if let (Some(a), Some(b)) = (self.peek(), self.peek_n(1))
            && a.kind == Kind::Word
            && a.text.bytes().all(|c| c.is_ascii_digit())
            && b.is(":")
        {
            self.pos += 2;
        }
        while let (Some(a), Some(b)) = (self.peek(), self.peek_n(1)) {
            if !b.is(":") {
                break;
            }
            if a.is_label() {
                labels.push((a.text, a.col));
                self.pos += 2;
            } else if a.is_reg() {
                return Err(self.syntax(
                    a.col,
                    format!("expected a label, found register `{}`", shorten(a.text)),
                ));
            } else {
                break;
            }
        }
        if let (Some(a), Some(b), Some(c)) = (self.peek(), self.peek_n(1), self.peek_n(2))
            && a.is("(")
            && c.is(")")
            && b.kind == Kind::Word
            && (1..=2).contains(&b.text.len())
            && let Ok(code) = u8::from_str_radix(b.text, 16)
        {
            self.pos += 3;
            return Ok(Some((code, a.col)));
        }
        Ok(None)
    }

    fn stmt(&mut self) -> Result<Stmt<'a>, AsmError> {
        const WHAT: &str = "an instruction";
        let Some(t) = self.peek() else {
            return Err(self.expected(WHAT));
        };
        let one = |insn| Ok(Stmt::Insn(insn, None));
        match t.text {
            "exit" => {
                self.pos += 1;
                self.finish()?;
                one(Insn::Exit)
            }
            "goto" | "may_goto" => {
                self.pos += 1;
                let (off, fix) = self.target16()?;
                self.finish()?;
                let insn = if t.is("goto") {
                    Insn::Ja { off }
                } else {
                    Insn::MayGoto { off }
                };
                Ok(Stmt::Insn(insn, fix))
            }
            "gotol" => {
                self.pos += 1;
                let (imm, fix) = self.target32("jump offset")?;
                self.finish()?;
                Ok(Stmt::Insn(Insn::Gotol { imm }, fix))
            }
            "gotox" | "callx" => {
                self.pos += 1;
                let reg = self.reg_w(Width::W64)?;
                self.finish()?;
                one(if t.is("gotox") {
                    Insn::Gotox { reg }
                } else {
                    Insn::Callx { reg }
                })
            }
            "call" => self.call(),
            "if" => self.jump(),
            "lock" => self.lock(),
            "store_release" => {
                self.pos += 1;
                self.expect("(")?;
                let (size, _) = self.ucast()?;
                let (dst, off) = self.addr()?;
                self.expect(",")?;
                let src = self.reg_sized(size)?;
                self.expect(")")?;
                self.finish()?;
                one(Insn::StoreRelease {
                    size,
                    dst,
                    src,
                    off,
                })
            }
            "lddw" | "ld_imm64" => {
                self.pos += 1;
                let (dst, w, col) = self.reg()?;
                self.check_r64(col, dst, w, "ld_imm64")?;
                self.expect(",")?;
                let n = self.number("a number")?;
                let v = self.to_u64_bits(n, "ld_imm64 constant")?;
                self.finish()?;
                one(Insn::LdImm64 {
                    dst,
                    imm: Imm64::Imm(v),
                })
            }
            "*" => self.store(),
            "(" if self.peek_n(1).is_some_and(|t| t.is("ld_imm64")) => {
                self.pos += 1;
                for w in ["ld_imm64", "second", "slot", ")"] {
                    self.expect(w)?;
                }
                self.finish()?;
                Ok(Stmt::Tail)
            }
            _ if t.is_reg() => self.assign(),
            _ => Err(self.expected(WHAT)),
        }
    }

    fn call(&mut self) -> Result<Stmt<'a>, AsmError> {
        const WHAT: &str = "a call target (`name#id`, a helper id or name, `pc+N`, a label or `kernel-function#id`)";
        self.pos += 1;
        let Some(t) = self.peek() else {
            return Err(self.expected(WHAT));
        };
        let target = if t.is("pc") && self.peek_n(1).is_some_and(|n| n.is("+") || n.is("-")) {
            self.pos += 1;
            let n = self.number(WHAT)?;
            CallTarget::Local(self.to_i32(Num { col: t.col, ..n }, "call offset")?)
        } else if t.is("kernel") && self.peek_n(1).is_some_and(|n| n.is("-")) {
            self.pos += 2;
            self.expect("function")?;
            self.expect("#")?;
            let n = self.number("a BTF id")?;
            let btf_id = self.to_i32_bits(n, "kfunc BTF id")?;
            let module = if self.eat("@") {
                let n = self.number("a module BTF index")?;
                self.to_i16(n, "kfunc module index")?
            } else {
                0
            };
            CallTarget::Kfunc { btf_id, module }
        } else if t.is("+") || t.is("-") || t.is_number() {
            let n = self.number(WHAT)?;
            CallTarget::Helper(self.to_i32_bits(n, "helper id")?)
        } else if t.is_label() {
            self.pos += 1;
            if !self.eat("#") {
                self.finish()?;
                let fix = Fixup {
                    label: t.text,
                    col: t.col,
                };
                return Ok(Stmt::Insn(Insn::Call(CallTarget::Local(0)), Some(fix)));
            }
            let n = self.number("a helper id")?;
            let id = self.to_i32_bits(n, "helper id")?;
            if t.text != "unknown" && helper_id(t.text) != Some(id) {
                let name = helper_name(id).unwrap_or("unknown");
                return Err(self.syntax(
                    t.col,
                    format!(
                        "`{}` is not the name of helper {id}: expected `{name}` or `unknown`",
                        shorten(t.text)
                    ),
                ));
            }
            CallTarget::Helper(id)
        } else {
            return Err(self.expected(WHAT));
        };
        self.finish()?;
        Ok(Stmt::Insn(Insn::Call(target), None))
    }

    fn jump(&mut self) -> Result<Stmt<'a>, AsmError> {
        self.pos += 1;
        let (dst, width, _) = self.reg()?;
        let cond = match self.peek().map(|t| t.text) {
            Some("==") => JmpCond::Eq,
            Some(">") => JmpCond::Gt,
            Some(">=") => JmpCond::Ge,
            Some("&") => JmpCond::Set,
            Some("!=") => JmpCond::Ne,
            Some("s>") => JmpCond::Sgt,
            Some("s>=") => JmpCond::Sge,
            Some("<") => JmpCond::Lt,
            Some("<=") => JmpCond::Le,
            Some("s<") => JmpCond::Slt,
            Some("s<=") => JmpCond::Sle,
            _ => {
                return Err(self.expected(
                    "a comparison (`==`, `!=`, `>`, `>=`, `<`, `<=`, `&`, `s>`, `s>=`, `s<`, `s<=`)",
                ));
            }
        };
        self.pos += 1;
        let src = self.operand(width, "jump immediate")?;
        self.expect("goto")?;
        let (off, fix) = self.target16()?;
        self.finish()?;
        Ok(Stmt::Insn(
            Insn::Jump {
                cond,
                width,
                dst,
                src,
                off,
            },
            fix,
        ))
    }

    fn lock(&mut self) -> Result<Stmt<'a>, AsmError> {
        self.pos += 1;
        self.expect("*")?;
        let (size, col) = self.ucast()?;
        self.atomic_size(size, col)?;
        let (dst, off) = self.addr()?;
        let op = match self.peek().map(|t| t.text) {
            Some("+=") => AtomicOp::Add,
            Some("|=") => AtomicOp::Or,
            Some("&=") => AtomicOp::And,
            Some("^=") => AtomicOp::Xor,
            _ => return Err(self.expected("`+=`, `|=`, `&=` or `^=`")),
        };
        self.pos += 1;
        let src = self.reg_sized(size)?;
        self.finish()?;
        Ok(Stmt::Insn(
            Insn::Atomic {
                op,
                size,
                dst,
                src,
                off,
            },
            None,
        ))
    }

    fn store(&mut self) -> Result<Stmt<'a>, AsmError> {
        self.pos += 1;
        let (size, _) = self.ucast()?;
        let (dst, off) = self.addr()?;
        self.expect("=")?;
        let src = if self.peek().is_some_and(|t| t.is_reg()) {
            Operand::Reg(self.reg_sized(size)?)
        } else {
            let n = self.number("a register or a number")?;
            Operand::Imm(self.to_i32_bits(n, "store immediate")?)
        };
        self.finish()?;
        Ok(Stmt::Insn(
            Insn::Store {
                size,
                dst,
                off,
                src,
            },
            None,
        ))
    }

    /// `rD op ...`.
    fn assign(&mut self) -> Result<Stmt<'a>, AsmError> {
        let (dst, width, dcol) = self.reg()?;
        let op = match self.peek().map(|t| t.text) {
            Some("=") => {
                self.pos += 1;
                return self.assign_rhs(dst, width, dcol);
            }
            Some("+=") => AluOp::Add,
            Some("-=") => AluOp::Sub,
            Some("*=") => AluOp::Mul,
            Some("/=") => AluOp::Div,
            Some("s/=") => AluOp::SDiv,
            Some("|=") => AluOp::Or,
            Some("&=") => AluOp::And,
            Some("<<=") => AluOp::Lsh,
            Some(">>=") => AluOp::Rsh,
            Some("%=") => AluOp::Mod,
            Some("s%=") => AluOp::SMod,
            Some("^=") => AluOp::Xor,
            Some("s>>=") => AluOp::Arsh,
            _ => {
                return Err(self.expected(
                    "an assignment (`=`, `+=`, `-=`, `*=`, `/=`, `%=`, `|=`, `&=`, `^=`, `<<=`, `>>=`, `s>>=`, `s/=`, `s%=`)",
                ));
            }
        };
        self.pos += 1;
        let src = self.operand(width, "immediate")?;
        self.finish()?;
        Ok(Stmt::Insn(
            Insn::Alu {
                op,
                width,
                dst,
                src,
            },
            None,
        ))
    }

    /// Everything after `rD =`.
    fn assign_rhs(&mut self, dst: Reg, width: Width, dcol: usize) -> Result<Stmt<'a>, AsmError> {
        const WHAT: &str = "a register, a number, a memory operand or an operation";
        let Some(t) = self.peek() else {
            return Err(self.expected(WHAT));
        };
        let insn = match t.text {
            "*" => return self.load(dst, width, dcol),
            "(" => {
                // Sign-extending move: `(s8)w3`.
                self.pos += 1;
                let bits = match self.peek().map(|t| t.text) {
                    Some("s8") => SxBits::B8,
                    Some("s16") => SxBits::B16,
                    Some("s32") if width == Width::W64 => SxBits::B32,
                    Some("s32") => {
                        return Err(self.syntax(
                            self.col(),
                            "`(s32)` needs a 64-bit destination (`rN`)".into(),
                        ));
                    }
                    _ => return Err(self.expected("`s8`, `s16` or `s32`")),
                };
                self.pos += 1;
                self.expect(")")?;
                let src = self.reg_w(width)?;
                Insn::MovSx {
                    width,
                    dst,
                    src,
                    bits,
                }
            }
            "-" if self.peek_n(1).is_some_and(|t| t.is_reg()) => {
                self.pos += 1;
                let (src, sw, scol) = self.reg()?;
                if sw != width {
                    return Err(self.width_error(scol, width, src));
                }
                if src != dst {
                    return Err(self.syntax(
                        scol,
                        format!(
                            "negation works in place: expected `{}`, found `{}`",
                            reg_name(width, dst),
                            reg_name(width, src)
                        ),
                    ));
                }
                Insn::Neg { width, dst }
            }
            "+" | "-" => return self.assign_number(dst, width, dcol),
            _ if t.is_number() => return self.assign_number(dst, width, dcol),
            _ if t.is_reg() => {
                let src = self.reg_w(width)?;
                Insn::Alu {
                    op: AluOp::Mov,
                    width,
                    dst,
                    src: Operand::Reg(src),
                }
            }
            "map" | "btf_id" | "func" => {
                self.check_r64(dcol, dst, width, "ld_imm64")?;
                return self.pseudo(dst);
            }
            "addr_space_cast" => {
                self.check_r64(dcol, dst, width, "addr_space_cast")?;
                self.pos += 1;
                self.expect("(")?;
                let src = self.reg_w(Width::W64)?;
                self.expect(",")?;
                let a = self.number("an address space")?;
                let dst_as = self.to_u16(a, "address space")?;
                self.expect(",")?;
                let b = self.number("an address space")?;
                let src_as = self.to_u16(b, "address space")?;
                self.expect(")")?;
                if !matches!((dst_as, src_as), (0, 1) | (1, 0)) {
                    return Err(self.syntax(
                        a.col,
                        format!(
                            "addr_space_cast converts between address spaces 0 and 1 only, found {dst_as}, {src_as}"
                        ),
                    ));
                }
                Insn::AddrSpaceCast {
                    dst,
                    src,
                    dst_as,
                    src_as,
                }
            }
            "load_acquire" => {
                self.pos += 1;
                self.expect("(")?;
                let (size, _) = self.ucast()?;
                let (src, off) = self.addr()?;
                self.expect(")")?;
                self.check_sized(dcol, dst, width, size)?;
                Insn::LoadAcquire {
                    size,
                    dst,
                    src,
                    off,
                }
            }
            name => {
                if let Some(insn) = self.endian(name, dst, width, dcol)? {
                    insn
                } else if let Some(insn) = self.fetch(name, dst, width, dcol)? {
                    insn
                } else {
                    return Err(self.expected(WHAT));
                }
            }
        };
        self.finish()?;
        Ok(Stmt::Insn(insn, None))
    }

    /// `rD = N`, `rD = 0x..`, `rD = N ll`.
    fn assign_number(&mut self, dst: Reg, width: Width, dcol: usize) -> Result<Stmt<'a>, AsmError> {
        let n = self.number("a number")?;
        let ll = self.eat("ll");
        self.finish()?;
        let insn = if ll || (n.hex && width == Width::W64) {
            self.check_r64(dcol, dst, width, "ld_imm64")?;
            Insn::LdImm64 {
                dst,
                imm: Imm64::Imm(self.to_u64_bits(n, "ld_imm64 constant")?),
            }
        } else {
            let what = if width == Width::W64 {
                "immediate (write `ll` or hex for a 64-bit constant)"
            } else {
                "immediate"
            };
            Insn::Alu {
                op: AluOp::Mov,
                width,
                dst,
                src: Operand::Imm(self.to_i32_bits(n, what)?),
            }
        };
        Ok(Stmt::Insn(insn, None))
    }

    /// `map[fd:N]`, `map[fd:N][0]+off`, `map[idx:N]...`, `btf_id[N]`,
    /// `btf_id[N][fd:M]`, `func pc+N`, `func label`.
    fn pseudo(&mut self, dst: Reg) -> Result<Stmt<'a>, AsmError> {
        let Some(t) = self.bump() else {
            return Err(self.expected("`map`, `btf_id` or `func`"));
        };
        let mut fix = None;
        let imm = match t.text {
            "func" => {
                let (off, f) = self.target32("function offset")?;
                fix = f;
                Imm64::Func(off)
            }
            "btf_id" => {
                self.expect("[")?;
                let n = self.number("a BTF id")?;
                let id = self.to_i32_bits(n, "BTF id")?;
                self.expect("]")?;
                let btf_fd = if self.eat("[") {
                    self.expect("fd")?;
                    self.expect(":")?;
                    let n = self.number("a BTF fd")?;
                    let fd = self.to_i32_bits(n, "BTF fd")?;
                    self.expect("]")?;
                    fd
                } else {
                    0
                };
                Imm64::BtfId { id, btf_fd }
            }
            _ => {
                self.expect("[")?;
                let by_fd = match self.peek().map(|t| t.text) {
                    Some("fd") => true,
                    Some("idx") => false,
                    _ => return Err(self.expected("`fd` or `idx`")),
                };
                self.pos += 1;
                self.expect(":")?;
                let n = self.number("a number")?;
                self.expect("]")?;
                let value_off = if self.eat("[") {
                    let z = self.number("`0`")?;
                    if z.val != 0 {
                        return Err(self.syntax(z.col, format!("expected `0`, found `{z}`")));
                    }
                    self.expect("]")?;
                    self.expect("+")?;
                    let o = self.number("a value offset")?;
                    Some(self.to_u32(o, "map value offset")?)
                } else {
                    None
                };
                match (by_fd, value_off) {
                    (true, None) => Imm64::MapFd(self.to_i32_bits(n, "map fd")?),
                    (true, Some(off)) => Imm64::MapValue {
                        fd: self.to_i32_bits(n, "map fd")?,
                        off,
                    },
                    (false, None) => Imm64::MapIdx(self.to_u32(n, "map index")?),
                    (false, Some(off)) => Imm64::MapIdxValue {
                        idx: self.to_u32(n, "map index")?,
                        off,
                    },
                }
            }
        };
        self.finish()?;
        Ok(Stmt::Insn(Insn::LdImm64 { dst, imm }, fix))
    }

    /// `rD = *(uN *)(rS +off)`, `*(sN *)...`, `r0 = *(uN *)skb[...]`.
    fn load(&mut self, dst: Reg, width: Width, dcol: usize) -> Result<Stmt<'a>, AsmError> {
        self.pos += 1;
        let (size, signed, tcol) = self.cast()?;
        if self.eat("skb") {
            if signed {
                return Err(self.syntax(
                    tcol,
                    format!(
                        "expected an unsigned type for a packet load, found `{}`",
                        size.stype()
                    ),
                ));
            }
            if size == Size::DW {
                return Err(self.syntax(tcol, "packet loads take `u8`, `u16` or `u32`".into()));
            }
            if dst != Reg::R0 || width != Width::W64 {
                return Err(self.syntax(
                    dcol,
                    format!("packet loads write `r0`, found `{}`", reg_name(width, dst)),
                ));
            }
            self.expect("[")?;
            let insn = if self.peek().is_some_and(|t| t.is_reg()) {
                let src = self.reg_w(Width::W64)?;
                let imm = if self.eat("+") || self.peek_is("-") {
                    let n = self.number("a number")?;
                    self.to_i32_bits(n, "packet offset")?
                } else {
                    0
                };
                Insn::LdInd { size, src, imm }
            } else {
                let n = self.number("a register or a number")?;
                Insn::LdAbs {
                    size,
                    imm: self.to_i32_bits(n, "packet offset")?,
                }
            };
            self.expect("]")?;
            self.finish()?;
            return Ok(Stmt::Insn(insn, None));
        }
        let (src, off) = self.addr()?;
        self.finish()?;
        let insn = if signed {
            if width == Width::W32 {
                return Err(self.syntax(
                    dcol,
                    format!(
                        "sign-extending loads write a 64-bit register (`rN`), found `w{}`",
                        dst.num()
                    ),
                ));
            }
            Insn::LoadSx {
                size,
                dst,
                src,
                off,
            }
        } else {
            self.check_sized(dcol, dst, width, size)?;
            Insn::Load {
                size,
                dst,
                src,
                off,
            }
        };
        Ok(Stmt::Insn(insn, None))
    }

    /// `rD = le16 rD`, `be32`, `bswap64`, ...
    fn endian(
        &mut self,
        name: &str,
        dst: Reg,
        width: Width,
        dcol: usize,
    ) -> Result<Option<Insn>, AsmError> {
        let (order, bits) = if let Some(b) = name.strip_prefix("bswap") {
            (ByteOrder::Swap, b)
        } else if let Some(b) = name.strip_prefix("le") {
            (ByteOrder::Le, b)
        } else if let Some(b) = name.strip_prefix("be") {
            (ByteOrder::Be, b)
        } else {
            return Ok(None);
        };
        let bits = match bits {
            "16" => SwapBits::B16,
            "32" => SwapBits::B32,
            "64" => SwapBits::B64,
            _ => return Ok(None),
        };
        self.check_r64(dcol, dst, width, "a byte-order conversion")?;
        self.pos += 1;
        let (src, sw, scol) = self.reg()?;
        if sw != Width::W64 {
            return Err(self.width_error(scol, Width::W64, src));
        }
        if src != dst {
            return Err(self.syntax(
                scol,
                format!("byte-order conversions work in place: expected `{dst}`, found `{src}`"),
            ));
        }
        Ok(Some(Insn::Endian { order, bits, dst }))
    }

    /// `rS = atomic[64]_fetch_add((u64 *)(rD +off), rS)`, `_xchg`,
    /// `r0 = atomic[64]_cmpxchg((u64 *)(rD +off), r0, rS)`, and LLVM's
    /// `xchg_64(rD + off, rS)`, `xchg32_32`, `cmpxchg_64`, `cmpxchg32_32`.
    fn fetch(
        &mut self,
        name: &str,
        res: Reg,
        rw: Width,
        rcol: usize,
    ) -> Result<Option<Insn>, AsmError> {
        // (operation, size fixed by an LLVM name, `atomic64_` prefix)
        let (op, fixed, is64) = match name {
            "xchg_64" => (AtomicOp::Xchg, Some(Size::DW), false),
            "xchg32_32" => (AtomicOp::Xchg, Some(Size::W), false),
            "cmpxchg_64" => (AtomicOp::Cmpxchg, Some(Size::DW), false),
            "cmpxchg32_32" => (AtomicOp::Cmpxchg, Some(Size::W), false),
            _ => {
                let (is64, rest) = if let Some(r) = name.strip_prefix("atomic64_") {
                    (true, r)
                } else if let Some(r) = name.strip_prefix("atomic_") {
                    (false, r)
                } else {
                    return Ok(None);
                };
                let op = match rest {
                    "fetch_add" => AtomicOp::FetchAdd,
                    "fetch_or" => AtomicOp::FetchOr,
                    "fetch_and" => AtomicOp::FetchAnd,
                    "fetch_xor" => AtomicOp::FetchXor,
                    "xchg" => AtomicOp::Xchg,
                    "cmpxchg" => AtomicOp::Cmpxchg,
                    _ => return Ok(None),
                };
                (op, None, is64)
            }
        };
        self.pos += 1;
        self.expect("(")?;
        let (size, dst, off) = if let Some(size) = fixed {
            let (dst, off) = self.base_off()?;
            (size, dst, off)
        } else {
            let (size, tcol) = self.ucast()?;
            self.atomic_size(size, tcol)?;
            if is64 && size != Size::DW {
                return Err(self.syntax(
                    tcol,
                    format!("`{name}` takes `(u64 *)`, found `({} *)`", size.utype()),
                ));
            }
            let (dst, off) = self.addr()?;
            (size, dst, off)
        };
        self.expect(",")?;
        self.check_sized(rcol, res, rw, size)?;
        if op == AtomicOp::Cmpxchg {
            if res != Reg::R0 {
                return Err(self.syntax(
                    rcol,
                    format!(
                        "compare-and-exchange returns in `{}`, found `{}`",
                        reg_name(rw, Reg::R0),
                        reg_name(rw, res)
                    ),
                ));
            }
            let (r, w, col) = self.reg()?;
            self.check_sized(col, r, w, size)?;
            if r != Reg::R0 {
                return Err(self.syntax(
                    col,
                    format!(
                        "compare-and-exchange compares with `{}`, found `{}`",
                        reg_name(w, Reg::R0),
                        reg_name(w, r)
                    ),
                ));
            }
            self.expect(",")?;
        }
        let (src, sw, scol) = self.reg()?;
        self.check_sized(scol, src, sw, size)?;
        if op != AtomicOp::Cmpxchg && src != res {
            return Err(self.syntax(
                rcol,
                format!(
                    "`{name}` returns the old value in its value register: expected `{}`, found `{}`",
                    reg_name(rw, src),
                    reg_name(rw, res)
                ),
            ));
        }
        self.expect(")")?;
        Ok(Some(Insn::Atomic {
            op,
            size,
            dst,
            src,
            off,
        }))
    }
}

fn reg_name(width: Width, r: Reg) -> String {
    match width {
        Width::W64 => format!("r{}", r.num()),
        Width::W32 => format!("w{}", r.num()),
    }
}

// ---------------------------------------------------------------------------
// Two passes: parse lines, then resolve labels and validate.

struct Item<'a> {
    insn: Insn,
    fix: Option<Fixup<'a>>,
    line: usize,
    col: usize,
}

struct Parsed<'a> {
    items: Vec<Item<'a>>,
    labels: HashMap<&'a str, usize>,
}

fn parse(text: &str) -> Result<Parsed<'_>, AsmError> {
    let mut items = Vec::new();
    let mut labels: HashMap<&str, usize> = HashMap::new();
    let mut toks = Vec::new();
    let mut line_labels = Vec::new();
    let mut slot = 0usize;
    let mut tail_ok = false;
    for (i, line) in text.lines().enumerate() {
        let ln = i.saturating_add(1);
        let eol = tokenize(line, ln, &mut toks)?;
        let mut p = Parser {
            toks: &toks,
            pos: 0,
            line: ln,
            eol,
        };
        line_labels.clear();
        let prefix = p.head(&mut line_labels)?;
        for &(name, col) in &line_labels {
            if labels.contains_key(name) {
                return Err(AsmError::DuplicateLabel {
                    line: ln,
                    column: col,
                    label: name.to_owned(),
                });
            }
            labels.insert(name, slot);
        }
        if p.at_end() {
            if prefix.is_some() {
                return Err(p.expected("an instruction"));
            }
            continue;
        }
        let col = p.col();
        match p.stmt()? {
            Stmt::Tail => {
                if !tail_ok {
                    return Err(p.syntax(
                        col,
                        "`(ld_imm64 second slot)` must directly follow an ld_imm64".into(),
                    ));
                }
                tail_ok = false;
            }
            Stmt::Insn(insn, fix) => {
                if let Some((code, pcol)) = prefix {
                    let actual = insn.opcode();
                    if actual != code {
                        return Err(p.syntax(
                            pcol,
                            format!(
                                "opcode prefix ({code:02x}) does not match the instruction's opcode ({actual:02x})"
                            ),
                        ));
                    }
                }
                tail_ok = matches!(insn, Insn::LdImm64 { .. });
                slot = slot.saturating_add(insn.slots());
                items.push(Item {
                    insn,
                    fix,
                    line: ln,
                    col,
                });
            }
        }
    }
    Ok(Parsed { items, labels })
}

fn link(parsed: Parsed<'_>) -> Result<Program, AsmError> {
    let Parsed { items, labels } = parsed;
    let mut insns = Vec::with_capacity(items.len());
    let mut slot_lines = Vec::with_capacity(items.len());
    for item in items {
        let mut insn = item.insn;
        if let Some(fix) = item.fix {
            resolve(&mut insn, fix, insns.len(), item.line, &labels)?;
        }
        insns.push(insn);
        slot_lines.push(item.line);
        if insn.slots() == 2 {
            insns.push(Insn::LdImm64Tail);
            slot_lines.push(item.line);
        }
    }
    Program::from_raw(&encode(&insns)).map_err(|source| AsmError::Decode {
        line: source
            .insn_idx()
            .and_then(|i| slot_lines.get(i).copied())
            .unwrap_or(0),
        source,
    })
}

/// Patch the label reference of the instruction at `slot`.
fn resolve(
    insn: &mut Insn,
    fix: Fixup<'_>,
    slot: usize,
    line: usize,
    labels: &HashMap<&str, usize>,
) -> Result<(), AsmError> {
    let Some(&target) = labels.get(fix.label) else {
        if let Insn::Call(t) = insn
            && let Some(id) = helper_id(fix.label)
        {
            *t = CallTarget::Helper(id);
            return Ok(());
        }
        return Err(AsmError::UnknownLabel {
            line,
            column: fix.col,
            label: fix.label.to_owned(),
        });
    };
    // usize -> i128 is lossless.
    let off = target as i128 - slot as i128 - 1;
    let out_of_range = |range: &str| AsmError::OutOfRange {
        line,
        column: fix.col,
        message: format!(
            "offset {off} to label `{}` out of range {range}",
            shorten(fix.label)
        ),
    };
    match insn {
        Insn::Ja { off: o } | Insn::Jump { off: o, .. } | Insn::MayGoto { off: o } => {
            *o = i16::try_from(off).map_err(|_| out_of_range(I16_RANGE))?;
        }
        Insn::Gotol { imm } => {
            *imm = i32::try_from(off).map_err(|_| out_of_range(I32_RANGE))?;
        }
        Insn::Call(t) => {
            *t = CallTarget::Local(i32::try_from(off).map_err(|_| out_of_range(I32_RANGE))?);
        }
        Insn::LdImm64 { imm, .. } => {
            *imm = Imm64::Func(i32::try_from(off).map_err(|_| out_of_range(I32_RANGE))?);
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(line: &str) -> Vec<&str> {
        let mut v = Vec::new();
        tokenize(line, 1, &mut v).unwrap();
        v.iter().map(|t| t.text).collect()
    }

    #[test]
    fn tokenizer_splits_and_merges() {
        assert_eq!(
            toks("if w1 s< w2 goto pc-1"),
            ["if", "w1", "s<", "w2", "goto", "pc", "-", "1"]
        );
        assert_eq!(toks("r1 s>>= 3 ; comment"), ["r1", "s>>=", "3"]);
        assert_eq!(toks("call foo#1 # comment"), ["call", "foo", "#", "1"]);
        assert_eq!(toks("# all comment"), Vec::<&str>::new());
        assert_eq!(toks("r1 = s <= // x"), ["r1", "=", "s", "<="]);
        assert_eq!(
            toks("*(u32*)(r1+4)"),
            ["*", "(", "u32", "*", ")", "(", "r1", "+", "4", ")"]
        );
    }

    #[test]
    fn end_of_line_column_is_after_last_token() {
        let mut v = Vec::new();
        assert_eq!(tokenize("  goto   ; x", 1, &mut v), Ok(7));
        assert_eq!(tokenize("", 1, &mut v), Ok(1));
    }

    #[test]
    fn numbers_show_as_written() {
        let n = Num {
            val: -255,
            hex: true,
            col: 1,
        };
        assert_eq!(n.to_string(), "-0xff");
    }
}
