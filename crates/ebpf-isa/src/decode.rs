//! Validating decoder: wire slots to [`Insn`].
//!
//! Decoding rejects exactly the encodings the kernel rejects before it even
//! looks at program semantics: unknown opcodes, non-zero reserved fields,
//! register numbers above 10, bad `ld_imm64` pairs. Every error names the slot
//! index. Semantic rules (division by a constant zero, shift ranges, jump
//! targets, r10 writes) belong to later layers and are not checked here.

use crate::insn::*;
use crate::opcode::*;

/// Which field of an instruction an error is about.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Field {
    /// The `dst` register nibble.
    Dst,
    /// The `src` register nibble.
    Src,
    /// The 16-bit offset.
    Off,
    /// The 32-bit immediate.
    Imm,
}

impl core::fmt::Display for Field {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Field::Dst => "dst",
            Field::Src => "src",
            Field::Off => "off",
            Field::Imm => "imm",
        })
    }
}

/// Why an instruction could not be decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The byte length is not a multiple of 8.
    #[error("program length {len} is not a multiple of 8 bytes")]
    Truncated {
        /// Length in bytes.
        len: usize,
    },
    /// No instruction has this opcode (or this opcode with these fields).
    #[error("insn {idx}: unknown opcode {code:#04x}")]
    UnknownOpcode {
        /// Slot index.
        idx: usize,
        /// Opcode byte.
        code: u8,
    },
    /// A field the instruction does not use is not zero.
    #[error("insn {idx}: opcode {code:#04x} uses reserved field {field} (must be 0, is {value})")]
    ReservedField {
        /// Slot index.
        idx: usize,
        /// Opcode byte.
        code: u8,
        /// The field.
        field: Field,
        /// Its value.
        value: i32,
    },
    /// A register field names r11..r15.
    #[error("insn {idx}: invalid register r{reg} in {field}")]
    InvalidRegister {
        /// Slot index.
        idx: usize,
        /// `Dst` or `Src`.
        field: Field,
        /// The nibble value.
        reg: u8,
    },
    /// A field has a value outside the set the instruction allows.
    #[error("insn {idx}: opcode {code:#04x} has invalid {field} {value}: {reason}")]
    InvalidField {
        /// Slot index.
        idx: usize,
        /// Opcode byte.
        code: u8,
        /// The field.
        field: Field,
        /// Its value.
        value: i32,
        /// What the instruction allows.
        reason: &'static str,
    },
    /// `ld_imm64` is the last slot.
    #[error("insn {idx}: ld_imm64 is missing its second slot")]
    LdImm64Truncated {
        /// Slot index of the first half.
        idx: usize,
    },
    /// The second slot of `ld_imm64` has a non-zero code, registers or offset.
    #[error("insn {idx}: invalid bpf_ld_imm64 insn: second slot must be zero except imm")]
    LdImm64Malformed {
        /// Slot index of the first half.
        idx: usize,
    },
    /// `ld_imm64` with a `src` pseudo value that does not exist.
    #[error("insn {idx}: unrecognized bpf_ld_imm64 insn (src {src})")]
    LdImm64UnknownPseudo {
        /// Slot index.
        idx: usize,
        /// The `src` value.
        src: u8,
    },
}

impl DecodeError {
    /// The slot index the error is about, if any.
    #[must_use]
    pub const fn insn_idx(&self) -> Option<usize> {
        match *self {
            DecodeError::Truncated { .. } => None,
            DecodeError::UnknownOpcode { idx, .. }
            | DecodeError::ReservedField { idx, .. }
            | DecodeError::InvalidRegister { idx, .. }
            | DecodeError::InvalidField { idx, .. }
            | DecodeError::LdImm64Truncated { idx }
            | DecodeError::LdImm64Malformed { idx }
            | DecodeError::LdImm64UnknownPseudo { idx, .. } => Some(idx),
        }
    }
}

/// Field checks over one slot, carrying the index for errors.
struct Slot {
    idx: usize,
    raw: RawInsn,
}

impl Slot {
    fn unknown(&self) -> DecodeError {
        DecodeError::UnknownOpcode {
            idx: self.idx,
            code: self.raw.code,
        }
    }
    fn zero(&self, field: Field) -> Result<(), DecodeError> {
        let value = match field {
            Field::Dst => i32::from(self.raw.dst),
            Field::Src => i32::from(self.raw.src),
            Field::Off => i32::from(self.raw.off),
            Field::Imm => self.raw.imm,
        };
        if value == 0 {
            Ok(())
        } else {
            Err(DecodeError::ReservedField {
                idx: self.idx,
                code: self.raw.code,
                field,
                value,
            })
        }
    }
    fn zeros(&self, fields: &[Field]) -> Result<(), DecodeError> {
        fields.iter().try_for_each(|&f| self.zero(f))
    }
    fn reg(&self, field: Field) -> Result<Reg, DecodeError> {
        let n = if field == Field::Dst {
            self.raw.dst
        } else {
            self.raw.src
        };
        Reg::new(n).ok_or(DecodeError::InvalidRegister {
            idx: self.idx,
            field,
            reg: n,
        })
    }
    fn dst(&self) -> Result<Reg, DecodeError> {
        self.reg(Field::Dst)
    }
    fn src(&self) -> Result<Reg, DecodeError> {
        self.reg(Field::Src)
    }
    fn invalid(&self, field: Field, reason: &'static str) -> DecodeError {
        let value = match field {
            Field::Dst => i32::from(self.raw.dst),
            Field::Src => i32::from(self.raw.src),
            Field::Off => i32::from(self.raw.off),
            Field::Imm => self.raw.imm,
        };
        DecodeError::InvalidField {
            idx: self.idx,
            code: self.raw.code,
            field,
            value,
            reason,
        }
    }
    /// `src` operand: register for `BPF_X` (imm must be 0), immediate for
    /// `BPF_K` (src must be 0).
    fn operand(&self) -> Result<Operand, DecodeError> {
        if self.raw.opcode().source() == BPF_X {
            self.zero(Field::Imm)?;
            Ok(Operand::Reg(self.src()?))
        } else {
            self.zero(Field::Src)?;
            Ok(Operand::Imm(self.raw.imm))
        }
    }
}

/// Decode the instruction starting at `slots[idx]`.
///
/// Returns the instruction; an `ld_imm64` consumes `slots[idx + 1]` as well
/// (see [`Insn::slots`]).
pub fn decode_at(slots: &[RawInsn], idx: usize) -> Result<Insn, DecodeError> {
    let Some(&raw) = slots.get(idx) else {
        return Err(DecodeError::Truncated {
            len: slots.len().saturating_mul(RawInsn::SIZE),
        });
    };
    let s = Slot { idx, raw };
    let op = raw.opcode();
    match op.class() {
        BPF_ALU | BPF_ALU64 => decode_alu(&s),
        BPF_JMP | BPF_JMP32 => decode_jmp(&s),
        BPF_LD => decode_ld(&s, slots.get(idx.wrapping_add(1))),
        BPF_LDX => {
            s.zero(Field::Imm)?;
            let size = Size::from_bits(op.size());
            let (dst, src, off) = (s.dst()?, s.src()?, raw.off);
            match op.mode() {
                BPF_MEM => Ok(Insn::Load {
                    size,
                    dst,
                    src,
                    off,
                }),
                BPF_MEMSX if size != Size::DW => Ok(Insn::LoadSx {
                    size,
                    dst,
                    src,
                    off,
                }),
                _ => Err(s.unknown()),
            }
        }
        BPF_ST => {
            if op.mode() != BPF_MEM {
                return Err(s.unknown());
            }
            s.zero(Field::Src)?;
            let size = Size::from_bits(op.size());
            Ok(Insn::Store {
                size,
                dst: s.dst()?,
                off: raw.off,
                src: Operand::Imm(raw.imm),
            })
        }
        _ => decode_stx(&s),
    }
}

fn decode_stx(s: &Slot) -> Result<Insn, DecodeError> {
    let op = s.raw.opcode();
    let size = Size::from_bits(op.size());
    let (off, imm) = (s.raw.off, s.raw.imm);
    match op.mode() {
        BPF_MEM => {
            s.zero(Field::Imm)?;
            Ok(Insn::Store {
                size,
                dst: s.dst()?,
                off,
                src: Operand::Reg(s.src()?),
            })
        }
        BPF_ATOMIC => {
            let (dst, src) = (s.dst()?, s.src()?);
            if imm == BPF_LOAD_ACQ {
                return Ok(Insn::LoadAcquire {
                    size,
                    dst,
                    src,
                    off,
                });
            }
            if imm == BPF_STORE_REL {
                return Ok(Insn::StoreRelease {
                    size,
                    dst,
                    src,
                    off,
                });
            }
            let Some(aop) = AtomicOp::from_imm(imm) else {
                return Err(s.invalid(Field::Imm, "not an atomic operation"));
            };
            if !matches!(size, Size::W | Size::DW) {
                return Err(s.unknown());
            }
            Ok(Insn::Atomic {
                op: aop,
                size,
                dst,
                src,
                off,
            })
        }
        _ => Err(s.unknown()),
    }
}

fn decode_alu(s: &Slot) -> Result<Insn, DecodeError> {
    let raw = s.raw;
    let op = raw.opcode();
    let width = if op.class() == BPF_ALU64 {
        Width::W64
    } else {
        Width::W32
    };
    let is_x = op.source() == BPF_X;
    let aop = match op.op() {
        BPF_NEG => {
            if is_x {
                return Err(s.unknown());
            }
            s.zeros(&[Field::Src, Field::Off, Field::Imm])?;
            return Ok(Insn::Neg {
                width,
                dst: s.dst()?,
            });
        }
        BPF_END => {
            let order = match (width, is_x) {
                (Width::W32, false) => ByteOrder::Le,
                (Width::W32, true) => ByteOrder::Be,
                (Width::W64, false) => ByteOrder::Swap,
                (Width::W64, true) => return Err(s.unknown()),
            };
            s.zeros(&[Field::Src, Field::Off])?;
            let bits = match raw.imm {
                16 => SwapBits::B16,
                32 => SwapBits::B32,
                64 => SwapBits::B64,
                _ => return Err(s.invalid(Field::Imm, "byte swap width must be 16, 32 or 64")),
            };
            return Ok(Insn::Endian {
                order,
                bits,
                dst: s.dst()?,
            });
        }
        BPF_MOV if is_x && raw.off != 0 => {
            s.zero(Field::Imm).or_else(|e| {
                if width == Width::W64 && raw.off == BPF_ADDR_SPACE_CAST {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            let (dst, src) = (s.dst()?, s.src()?);
            let bits = match (raw.off, width) {
                (8, _) => SxBits::B8,
                (16, _) => SxBits::B16,
                (32, Width::W64) => SxBits::B32,
                (BPF_ADDR_SPACE_CAST, Width::W64) => {
                    if raw.imm != 1 && raw.imm != 1 << 16 {
                        return Err(s.invalid(
                            Field::Imm,
                            "addr_space_cast insn can only convert between address space 1 and 0",
                        ));
                    }
                    let imm = raw.imm as u32;
                    return Ok(Insn::AddrSpaceCast {
                        dst,
                        src,
                        dst_as: (imm >> 16) as u16,
                        src_as: (imm & 0xffff) as u16,
                    });
                }
                _ => {
                    return Err(s.invalid(Field::Off, "mov offset must be 0, 8, 16 or 32 (64-bit)"));
                }
            };
            return Ok(Insn::MovSx {
                width,
                dst,
                src,
                bits,
            });
        }
        BPF_ADD => AluOp::Add,
        BPF_SUB => AluOp::Sub,
        BPF_MUL => AluOp::Mul,
        BPF_OR => AluOp::Or,
        BPF_AND => AluOp::And,
        BPF_LSH => AluOp::Lsh,
        BPF_RSH => AluOp::Rsh,
        BPF_XOR => AluOp::Xor,
        BPF_MOV => AluOp::Mov,
        BPF_ARSH => AluOp::Arsh,
        BPF_DIV | BPF_MOD => {
            let signed = match raw.off {
                0 => false,
                1 => true,
                _ => return Err(s.invalid(Field::Off, "div/mod offset must be 0 or 1 (signed)")),
            };
            match (op.op() == BPF_DIV, signed) {
                (true, false) => AluOp::Div,
                (true, true) => AluOp::SDiv,
                (false, false) => AluOp::Mod,
                (false, true) => AluOp::SMod,
            }
        }
        _ => return Err(s.unknown()),
    };
    if !matches!(aop, AluOp::SDiv | AluOp::SMod) {
        s.zero(Field::Off)?;
    }
    let src = s.operand()?;
    Ok(Insn::Alu {
        op: aop,
        width,
        dst: s.dst()?,
        src,
    })
}

fn decode_jmp(s: &Slot) -> Result<Insn, DecodeError> {
    let raw = s.raw;
    let op = raw.opcode();
    let jmp32 = op.class() == BPF_JMP32;
    let is_x = op.source() == BPF_X;
    match op.op() {
        BPF_JA => match (jmp32, is_x) {
            (false, false) => {
                s.zeros(&[Field::Dst, Field::Src, Field::Imm])?;
                Ok(Insn::Ja { off: raw.off })
            }
            (true, false) => {
                s.zeros(&[Field::Dst, Field::Src, Field::Off])?;
                Ok(Insn::Gotol { imm: raw.imm })
            }
            (false, true) => {
                s.zeros(&[Field::Src, Field::Off, Field::Imm])?;
                Ok(Insn::Gotox { reg: s.dst()? })
            }
            (true, true) => Err(s.unknown()),
        },
        BPF_CALL if !jmp32 => {
            if is_x {
                s.zeros(&[Field::Src, Field::Off, Field::Imm])?;
                return Ok(Insn::Callx { reg: s.dst()? });
            }
            s.zero(Field::Dst)?;
            match raw.src {
                0 => {
                    s.zero(Field::Off)?;
                    Ok(Insn::Call(CallTarget::Helper(raw.imm)))
                }
                BPF_PSEUDO_CALL => {
                    s.zero(Field::Off)?;
                    Ok(Insn::Call(CallTarget::Local(raw.imm)))
                }
                BPF_PSEUDO_KFUNC_CALL => Ok(Insn::Call(CallTarget::Kfunc {
                    btf_id: raw.imm,
                    module: raw.off,
                })),
                _ => Err(s.invalid(
                    Field::Src,
                    "call src must be 0 (helper), 1 (local) or 2 (kfunc)",
                )),
            }
        }
        BPF_EXIT if !jmp32 && !is_x => {
            s.zeros(&[Field::Dst, Field::Src, Field::Off, Field::Imm])?;
            Ok(Insn::Exit)
        }
        BPF_JCOND if !jmp32 && !is_x => {
            if raw.src != 0 {
                return Err(s.invalid(Field::Src, "the only BPF_JCOND is may_goto (src 0)"));
            }
            s.zeros(&[Field::Dst, Field::Imm])?;
            Ok(Insn::MayGoto { off: raw.off })
        }
        o => {
            let Some(cond) = JmpCond::from_op_bits(o) else {
                return Err(s.unknown());
            };
            let src = s.operand()?;
            let width = if jmp32 { Width::W32 } else { Width::W64 };
            Ok(Insn::Jump {
                cond,
                width,
                dst: s.dst()?,
                src,
                off: raw.off,
            })
        }
    }
}

fn decode_ld(s: &Slot, next: Option<&RawInsn>) -> Result<Insn, DecodeError> {
    let raw = s.raw;
    let op = raw.opcode();
    let size = Size::from_bits(op.size());
    match op.mode() {
        BPF_IMM if size == Size::DW => {
            s.zero(Field::Off)?;
            let dst = s.dst()?;
            let Some(hi) = next else {
                return Err(DecodeError::LdImm64Truncated { idx: s.idx });
            };
            if hi.code != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0 {
                return Err(DecodeError::LdImm64Malformed { idx: s.idx });
            }
            let (lo, hi) = (raw.imm, hi.imm);
            let imm = match raw.src {
                0 => Imm64::Imm((u64::from(hi as u32) << 32) | u64::from(lo as u32)),
                BPF_PSEUDO_MAP_FD | BPF_PSEUDO_MAP_IDX | BPF_PSEUDO_FUNC if hi != 0 => {
                    return Err(DecodeError::LdImm64UnknownPseudo {
                        idx: s.idx,
                        src: raw.src,
                    });
                }
                BPF_PSEUDO_MAP_FD => Imm64::MapFd(lo),
                BPF_PSEUDO_MAP_VALUE => Imm64::MapValue {
                    fd: lo,
                    off: hi as u32,
                },
                BPF_PSEUDO_BTF_ID => Imm64::BtfId { id: lo, btf_fd: hi },
                BPF_PSEUDO_FUNC => Imm64::Func(lo),
                BPF_PSEUDO_MAP_IDX => Imm64::MapIdx(lo as u32),
                BPF_PSEUDO_MAP_IDX_VALUE => Imm64::MapIdxValue {
                    idx: lo as u32,
                    off: hi as u32,
                },
                src => return Err(DecodeError::LdImm64UnknownPseudo { idx: s.idx, src }),
            };
            Ok(Insn::LdImm64 { dst, imm })
        }
        BPF_ABS | BPF_IND if size != Size::DW => {
            s.zeros(&[Field::Dst, Field::Off])?;
            if op.mode() == BPF_ABS {
                s.zero(Field::Src)?;
                Ok(Insn::LdAbs { size, imm: raw.imm })
            } else {
                Ok(Insn::LdInd {
                    size,
                    src: s.src()?,
                    imm: raw.imm,
                })
            }
        }
        _ => Err(s.unknown()),
    }
}

/// Decode a whole sequence of slots into a slot-indexed instruction vector
/// (see [`Insn`] for the `ld_imm64` tail convention).
pub fn decode(slots: &[RawInsn]) -> Result<Vec<Insn>, DecodeError> {
    let mut out = Vec::with_capacity(slots.len());
    let mut idx = 0;
    while idx < slots.len() {
        let insn = decode_at(slots, idx)?;
        out.push(insn);
        if insn.slots() == 2 {
            out.push(Insn::LdImm64Tail);
            idx += 2;
        } else {
            idx += 1;
        }
    }
    Ok(out)
}
