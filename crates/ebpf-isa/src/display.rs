//! `Display for Insn`: the kernel's syntax, as the verifier log and
//! `bpftool prog dump xlated` print it (without the `(code)` prefix; see
//! [`Insn::kernel_log`] for that form).
//!
//! Where the kernel prints a number that hides what an instruction refers to
//! (`ld_imm64` of a map, a kfunc), we print a symbolic form the assembler reads
//! back (`map[fd:3]`, `map[idx:0][0]+8`, `kernel-function#1234`), so that the
//! text round-trips to the same bytes.

use core::fmt;

use crate::helpers::helper_name;
use crate::insn::*;

fn reg(width: Width, r: Reg) -> impl fmt::Display {
    struct R(char, u8);
    impl fmt::Display for R {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}{}", self.0, self.1)
        }
    }
    R(if width == Width::W32 { 'w' } else { 'r' }, r.num())
}

/// `%+d` as the kernel's printf renders it.
struct Signed(i64);
impl fmt::Display for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+}", self.0)
    }
}

impl fmt::Display for Imm64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Imm64::Imm(v) => write!(f, "{v:#x}"),
            Imm64::MapFd(fd) => write!(f, "map[fd:{fd}]"),
            Imm64::MapValue { fd, off } => write!(f, "map[fd:{fd}][0]+{off}"),
            Imm64::BtfId { id, btf_fd: 0 } => write!(f, "btf_id[{id}]"),
            Imm64::BtfId { id, btf_fd } => write!(f, "btf_id[{id}][fd:{btf_fd}]"),
            Imm64::Func(off) => write!(f, "func pc{}", Signed(off.into())),
            Imm64::MapIdx(idx) => write!(f, "map[idx:{idx}]"),
            Imm64::MapIdxValue { idx, off } => write!(f, "map[idx:{idx}][0]+{off}"),
        }
    }
}

impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Insn::Alu {
                op,
                width,
                dst,
                src,
            } => match src {
                Operand::Reg(s) => write!(
                    f,
                    "{} {} {}",
                    reg(width, dst),
                    op.kernel_op(),
                    reg(width, s)
                ),
                Operand::Imm(imm) => write!(f, "{} {} {imm}", reg(width, dst), op.kernel_op()),
            },
            Insn::Neg { width, dst } => write!(f, "{} = -{}", reg(width, dst), reg(width, dst)),
            Insn::MovSx {
                width,
                dst,
                src,
                bits,
            } => {
                write!(
                    f,
                    "{} = (s{}){}",
                    reg(width, dst),
                    bits.bits(),
                    reg(width, src)
                )
            }
            Insn::AddrSpaceCast {
                dst,
                src,
                dst_as,
                src_as,
            } => {
                write!(f, "{dst} = addr_space_cast({src}, {dst_as}, {src_as})")
            }
            Insn::Endian { order, bits, dst } => {
                let name = match order {
                    ByteOrder::Le => "le",
                    ByteOrder::Be => "be",
                    ByteOrder::Swap => "bswap",
                };
                write!(f, "{dst} = {name}{} {dst}", bits.bits())
            }
            Insn::Load {
                size,
                dst,
                src,
                off,
            } => {
                write!(
                    f,
                    "{dst} = *({} *)({src} {})",
                    size.utype(),
                    Signed(off.into())
                )
            }
            Insn::LoadSx {
                size,
                dst,
                src,
                off,
            } => {
                write!(
                    f,
                    "{dst} = *({} *)({src} {})",
                    size.stype(),
                    Signed(off.into())
                )
            }
            Insn::Store {
                size,
                dst,
                off,
                src,
            } => {
                write!(f, "*({} *)({dst} {}) = ", size.utype(), Signed(off.into()))?;
                match src {
                    Operand::Reg(s) => write!(f, "{s}"),
                    Operand::Imm(imm) => write!(f, "{imm}"),
                }
            }
            Insn::Atomic {
                op,
                size,
                dst,
                src,
                off,
            } => {
                let ty = size.utype();
                let off = Signed(off.into());
                let bits = if size == Size::DW { "64" } else { "" };
                match op {
                    AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {
                        let o = op.alu().map_or("?", AluOp::kernel_op);
                        write!(f, "lock *({ty} *)({dst} {off}) {o} {src}")
                    }
                    AtomicOp::FetchAdd
                    | AtomicOp::FetchOr
                    | AtomicOp::FetchAnd
                    | AtomicOp::FetchXor => {
                        let name = match op {
                            AtomicOp::FetchAdd => "add",
                            AtomicOp::FetchOr => "or",
                            AtomicOp::FetchAnd => "and",
                            _ => "xor",
                        };
                        write!(
                            f,
                            "{src} = atomic{bits}_fetch_{name}(({ty} *)({dst} {off}), {src})"
                        )
                    }
                    AtomicOp::Xchg => {
                        write!(f, "{src} = atomic{bits}_xchg(({ty} *)({dst} {off}), {src})")
                    }
                    AtomicOp::Cmpxchg => {
                        write!(
                            f,
                            "r0 = atomic{bits}_cmpxchg(({ty} *)({dst} {off}), r0, {src})"
                        )
                    }
                }
            }
            Insn::LoadAcquire {
                size,
                dst,
                src,
                off,
            } => {
                write!(
                    f,
                    "{dst} = load_acquire(({} *)({src} {}))",
                    size.utype(),
                    Signed(off.into())
                )
            }
            Insn::StoreRelease {
                size,
                dst,
                src,
                off,
            } => {
                write!(
                    f,
                    "store_release(({} *)({dst} {}), {src})",
                    size.utype(),
                    Signed(off.into())
                )
            }
            Insn::LdAbs { size, imm } => write!(f, "r0 = *({} *)skb[{imm}]", size.utype()),
            Insn::LdInd { size, src, imm } => {
                write!(f, "r0 = *({} *)skb[{src} + {imm}]", size.utype())
            }
            Insn::LdImm64 { dst, imm } => write!(f, "{dst} = {imm}"),
            Insn::LdImm64Tail => f.write_str("(ld_imm64 second slot)"),
            Insn::Ja { off } => write!(f, "goto pc{}", Signed(off.into())),
            Insn::Gotol { imm } => write!(f, "gotol pc{}", Signed(imm.into())),
            Insn::Jump {
                cond,
                width,
                dst,
                src,
                off,
            } => {
                write!(f, "if {} {} ", reg(width, dst), cond.kernel_op())?;
                match src {
                    Operand::Reg(s) => write!(f, "{}", reg(width, s))?,
                    Operand::Imm(imm) => write!(f, "{:#x}", imm as u32)?,
                }
                write!(f, " goto pc{}", Signed(off.into()))
            }
            Insn::Call(CallTarget::Helper(id)) => {
                write!(f, "call {}#{id}", helper_name(id).unwrap_or("unknown"))
            }
            Insn::Call(CallTarget::Local(off)) => write!(f, "call pc{}", Signed(off.into())),
            Insn::Call(CallTarget::Kfunc { btf_id, module: 0 }) => {
                write!(f, "call kernel-function#{btf_id}")
            }
            Insn::Call(CallTarget::Kfunc { btf_id, module }) => {
                write!(f, "call kernel-function#{btf_id}@{module}")
            }
            Insn::Callx { reg } => write!(f, "callx {reg}"),
            Insn::Exit => f.write_str("exit"),
            Insn::MayGoto { off } => write!(f, "may_goto pc{}", Signed(off.into())),
            Insn::Gotox { reg } => write!(f, "gotox {reg}"),
        }
    }
}

impl Insn {
    /// The instruction as one line of the kernel's verifier log:
    /// `(bf) r6 = r1`, with the opcode byte in front.
    #[must_use]
    pub fn kernel_log(&self) -> String {
        format!("({:02x}) {self}", self.opcode())
    }
}
