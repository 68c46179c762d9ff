//! The eBPF instruction set: every instruction of RFC 9669 plus what clang and
//! the Linux kernel emit today, at two levels.
//!
//! * [`RawInsn`] is the 8-byte wire slot (`code`, `dst`, `src`, `off`, `imm`),
//!   converted to and from bytes losslessly.
//! * [`Insn`] is the decoded, validated instruction. [`decode`] rejects what
//!   the kernel rejects before looking at semantics (unknown opcodes, non-zero
//!   reserved fields, registers above r10, broken `ld_imm64` pairs) with a
//!   [`DecodeError`] naming the slot index. After decoding, consumers match
//!   on enums, never on opcode bytes.
//!
//! [`Program`] holds a decoded sequence indexed by slot, like the kernel's
//! instruction array. `Display for Insn` prints the kernel's syntax
//! (`r0 = *(u32 *)(r1 +4)`, `if r1 > 0x5 goto pc+3`); every tool in the
//! workspace reuses it.
//!
//! ```
//! use ebpf_isa::{Insn, Program};
//!
//! // r0 = 42; exit
//! let bytes = [0xb7, 0x00, 0, 0, 42, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
//! let prog = Program::from_bytes(&bytes)?;
//! assert_eq!(prog.insns()[0].to_string(), "r0 = 42");
//! assert_eq!(prog.insns()[1], Insn::Exit);
//! assert_eq!(prog.to_bytes(), bytes);
//! # Ok::<(), ebpf_isa::DecodeError>(())
//! ```
//!
//! **Not here:** control flow (`ebpf-cfg`), safety (`ebpf-verifier`),
//! execution (`ebpf-interp`, `ebpf-jit-x86`), ELF (`ebpf-loader`). Semantic
//! rules such as "division by constant zero" or "jump out of range" are
//! checked by those layers, not by the decoder.
#![forbid(unsafe_code)]

pub mod asm;
mod asm_error;
mod decode;
mod display;
mod encode;
mod helpers;
mod insn;
pub mod opcode;
mod program;
pub mod ubpf;
mod version;

pub use asm_error::AsmError;
pub use decode::{DecodeError, Field, decode, decode_at};
pub use encode::{encode, encode_bytes, encode_into, encode_one};
pub use helpers::{HELPER_COUNT, helper_id, helper_name};
pub use insn::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Imm64, Insn, JmpCond, Operand, RawInsn, Reg, Size,
    SwapBits, SxBits, Width, raw_from_bytes,
};
pub use opcode::Opcode;
pub use program::Program;
pub use version::{CpuVersion, Group, GroupSet};
