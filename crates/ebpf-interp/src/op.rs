//! The interpreter's internal instruction form.
//!
//! One 8-byte [`Op`] per instruction slot, so an op's index is its slot index
//! (traps report it directly) and the run loop fetches an op with a single
//! 64-bit load. The layout mirrors the wire format (`code`, registers,
//! `off`, `imm`), but `code` is a dense internal opcode naming the
//! *specialised* operation: one per ALU operation x width x operand kind,
//! one per jump condition x width x operand kind, one per access size, and
//! so on, so that dispatch is a single jump-table `match`. Operands are
//! pre-processed where it helps: constant shift amounts are masked,
//! `ld_imm64` keeps the resolved 64-bit value split over its two slots, and
//! atomics carry their operation as an index into [`ATOMIC_OPS`].
//!
//! Jump offsets stay relative (`pc + 1 + off`), exactly as in the program,
//! and are validated at translation; registers are below 11, so indexing a
//! 16-entry register file with a 4-bit nibble needs no bounds check.
//!
//! Code names: `ADD64_K` = 64-bit add of an immediate, `JSLT32_X` = 32-bit
//! signed `<` against a register, and so on.

/// One executable slot.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(C, align(8))]
pub(crate) struct Op {
    /// Internal opcode (the constants below).
    pub(crate) code: u8,
    /// `dst | src << 4`.
    pub(crate) regs: u8,
    /// Offset: memory displacement or relative jump.
    pub(crate) off: i16,
    /// Immediate.
    pub(crate) imm: i32,
}

impl Op {
    pub(crate) const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Op {
        Op {
            code,
            regs: (dst & 15) | (src << 4),
            off,
            imm,
        }
    }
}

/// What an `UNSUPPORTED` op traps with (indexed by its `imm`).
pub(crate) const UNSUPPORTED_WHAT: [&str; 3] = [
    "kfunc call",
    "ld_imm64 of a BTF id",
    "addr_space_cast (arenas)",
];

/// Atomic operations, indexed by an atomic op's `imm`.
pub(crate) const ATOMIC_OPS: [ebpf_isa::AtomicOp; 10] = ebpf_isa::AtomicOp::ALL;

pub(crate) const ADD64_K: u8 = 0;
pub(crate) const ADD64_X: u8 = 1;
pub(crate) const SUB64_K: u8 = 2;
pub(crate) const SUB64_X: u8 = 3;
pub(crate) const MUL64_K: u8 = 4;
pub(crate) const MUL64_X: u8 = 5;
pub(crate) const DIV64_K: u8 = 6;
pub(crate) const DIV64_X: u8 = 7;
pub(crate) const SDIV64_K: u8 = 8;
pub(crate) const SDIV64_X: u8 = 9;
pub(crate) const OR64_K: u8 = 10;
pub(crate) const OR64_X: u8 = 11;
pub(crate) const AND64_K: u8 = 12;
pub(crate) const AND64_X: u8 = 13;
pub(crate) const LSH64_K: u8 = 14;
pub(crate) const LSH64_X: u8 = 15;
pub(crate) const RSH64_K: u8 = 16;
pub(crate) const RSH64_X: u8 = 17;
pub(crate) const MOD64_K: u8 = 18;
pub(crate) const MOD64_X: u8 = 19;
pub(crate) const SMOD64_K: u8 = 20;
pub(crate) const SMOD64_X: u8 = 21;
pub(crate) const XOR64_K: u8 = 22;
pub(crate) const XOR64_X: u8 = 23;
pub(crate) const MOV64_K: u8 = 24;
pub(crate) const MOV64_X: u8 = 25;
pub(crate) const ARSH64_K: u8 = 26;
pub(crate) const ARSH64_X: u8 = 27;
pub(crate) const ADD32_K: u8 = 28;
pub(crate) const ADD32_X: u8 = 29;
pub(crate) const SUB32_K: u8 = 30;
pub(crate) const SUB32_X: u8 = 31;
pub(crate) const MUL32_K: u8 = 32;
pub(crate) const MUL32_X: u8 = 33;
pub(crate) const DIV32_K: u8 = 34;
pub(crate) const DIV32_X: u8 = 35;
pub(crate) const SDIV32_K: u8 = 36;
pub(crate) const SDIV32_X: u8 = 37;
pub(crate) const OR32_K: u8 = 38;
pub(crate) const OR32_X: u8 = 39;
pub(crate) const AND32_K: u8 = 40;
pub(crate) const AND32_X: u8 = 41;
pub(crate) const LSH32_K: u8 = 42;
pub(crate) const LSH32_X: u8 = 43;
pub(crate) const RSH32_K: u8 = 44;
pub(crate) const RSH32_X: u8 = 45;
pub(crate) const MOD32_K: u8 = 46;
pub(crate) const MOD32_X: u8 = 47;
pub(crate) const SMOD32_K: u8 = 48;
pub(crate) const SMOD32_X: u8 = 49;
pub(crate) const XOR32_K: u8 = 50;
pub(crate) const XOR32_X: u8 = 51;
pub(crate) const MOV32_K: u8 = 52;
pub(crate) const MOV32_X: u8 = 53;
pub(crate) const ARSH32_K: u8 = 54;
pub(crate) const ARSH32_X: u8 = 55;
pub(crate) const JEQ64_K: u8 = 56;
pub(crate) const JEQ64_X: u8 = 57;
pub(crate) const JNE64_K: u8 = 58;
pub(crate) const JNE64_X: u8 = 59;
pub(crate) const JGT64_K: u8 = 60;
pub(crate) const JGT64_X: u8 = 61;
pub(crate) const JGE64_K: u8 = 62;
pub(crate) const JGE64_X: u8 = 63;
pub(crate) const JLT64_K: u8 = 64;
pub(crate) const JLT64_X: u8 = 65;
pub(crate) const JLE64_K: u8 = 66;
pub(crate) const JLE64_X: u8 = 67;
pub(crate) const JSGT64_K: u8 = 68;
pub(crate) const JSGT64_X: u8 = 69;
pub(crate) const JSGE64_K: u8 = 70;
pub(crate) const JSGE64_X: u8 = 71;
pub(crate) const JSLT64_K: u8 = 72;
pub(crate) const JSLT64_X: u8 = 73;
pub(crate) const JSLE64_K: u8 = 74;
pub(crate) const JSLE64_X: u8 = 75;
pub(crate) const JSET64_K: u8 = 76;
pub(crate) const JSET64_X: u8 = 77;
pub(crate) const JEQ32_K: u8 = 78;
pub(crate) const JEQ32_X: u8 = 79;
pub(crate) const JNE32_K: u8 = 80;
pub(crate) const JNE32_X: u8 = 81;
pub(crate) const JGT32_K: u8 = 82;
pub(crate) const JGT32_X: u8 = 83;
pub(crate) const JGE32_K: u8 = 84;
pub(crate) const JGE32_X: u8 = 85;
pub(crate) const JLT32_K: u8 = 86;
pub(crate) const JLT32_X: u8 = 87;
pub(crate) const JLE32_K: u8 = 88;
pub(crate) const JLE32_X: u8 = 89;
pub(crate) const JSGT32_K: u8 = 90;
pub(crate) const JSGT32_X: u8 = 91;
pub(crate) const JSGE32_K: u8 = 92;
pub(crate) const JSGE32_X: u8 = 93;
pub(crate) const JSLT32_K: u8 = 94;
pub(crate) const JSLT32_X: u8 = 95;
pub(crate) const JSLE32_K: u8 = 96;
pub(crate) const JSLE32_X: u8 = 97;
pub(crate) const JSET32_K: u8 = 98;
pub(crate) const JSET32_X: u8 = 99;
pub(crate) const NEG64: u8 = 100;
pub(crate) const NEG32: u8 = 101;
pub(crate) const MOVSX8_64: u8 = 102;
pub(crate) const MOVSX16_64: u8 = 103;
pub(crate) const MOVSX32_64: u8 = 104;
pub(crate) const MOVSX8_32: u8 = 105;
pub(crate) const MOVSX16_32: u8 = 106;
pub(crate) const ZEXT16: u8 = 107;
pub(crate) const ZEXT32: u8 = 108;
pub(crate) const BSWAP16: u8 = 109;
pub(crate) const BSWAP32: u8 = 110;
pub(crate) const BSWAP64: u8 = 111;
pub(crate) const NOP: u8 = 112;
pub(crate) const LDX8: u8 = 113;
pub(crate) const LDX16: u8 = 114;
pub(crate) const LDX32: u8 = 115;
pub(crate) const LDX64: u8 = 116;
pub(crate) const LDXS8: u8 = 117;
pub(crate) const LDXS16: u8 = 118;
pub(crate) const LDXS32: u8 = 119;
pub(crate) const ST8: u8 = 120;
pub(crate) const ST16: u8 = 121;
pub(crate) const ST32: u8 = 122;
pub(crate) const ST64: u8 = 123;
pub(crate) const STX8: u8 = 124;
pub(crate) const STX16: u8 = 125;
pub(crate) const STX32: u8 = 126;
pub(crate) const STX64: u8 = 127;
pub(crate) const ATOMIC32: u8 = 128;
pub(crate) const ATOMIC64: u8 = 129;
pub(crate) const LDIMM64: u8 = 130;
pub(crate) const LDABS8: u8 = 131;
pub(crate) const LDABS16: u8 = 132;
pub(crate) const LDABS32: u8 = 133;
pub(crate) const LDIND8: u8 = 134;
pub(crate) const LDIND16: u8 = 135;
pub(crate) const LDIND32: u8 = 136;
pub(crate) const JA: u8 = 137;
pub(crate) const GOTOL: u8 = 138;
pub(crate) const CALL: u8 = 139;
pub(crate) const CALL_BAD: u8 = 140;
pub(crate) const CALL_LOCAL: u8 = 141;
pub(crate) const CALLX: u8 = 142;
pub(crate) const EXIT: u8 = 143;
pub(crate) const MAY_GOTO: u8 = 144;
pub(crate) const GOTOX: u8 = 145;
pub(crate) const UNSUPPORTED: u8 = 146;
pub(crate) const TAIL: u8 = 147;
/// Appended once after all programs: the fast loop bails on it (fetching
/// past every program ends there).
pub(crate) const SENTINEL: u8 = 148;

// Superinstructions: only in the fast loop's copy of the op array
// (`Interpreter::fast`), each replacing the first op of a pair (or triple)
// whose other ops stay in place (so a jump onto one still runs it alone).
// Each does what its ops do in order, reading every register when its op
// would (a later op may read what an earlier one wrote). The slow path
// always runs the original op of a slot, one slot at a time. They were
// picked by counting adjacent op pairs over the benchmark fixtures
// (`benches/fixtures`); `compile::fuse` lists the shapes.

/// `if <cond> goto +1; goto off`: conditional jump codes `JEQ64_K..=JSET32_X`
/// shifted by this amount. The fused op keeps the condition's registers and
/// immediate; `off` is the `goto`'s offset (relative to the slot after it).
pub(crate) const JCC_SKIP_JA_SHIFT: u8 = 93;

/// The fused `if <cond> goto +1; goto off` codes, one per condition.
pub(crate) const JEQ64_K_JA: u8 = JEQ64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JEQ64_X_JA: u8 = JEQ64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JNE64_K_JA: u8 = JNE64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JNE64_X_JA: u8 = JNE64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JGT64_K_JA: u8 = JGT64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JGT64_X_JA: u8 = JGT64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JGE64_K_JA: u8 = JGE64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JGE64_X_JA: u8 = JGE64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JLT64_K_JA: u8 = JLT64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JLT64_X_JA: u8 = JLT64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JLE64_K_JA: u8 = JLE64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JLE64_X_JA: u8 = JLE64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGT64_K_JA: u8 = JSGT64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGT64_X_JA: u8 = JSGT64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGE64_K_JA: u8 = JSGE64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGE64_X_JA: u8 = JSGE64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLT64_K_JA: u8 = JSLT64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLT64_X_JA: u8 = JSLT64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLE64_K_JA: u8 = JSLE64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLE64_X_JA: u8 = JSLE64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSET64_K_JA: u8 = JSET64_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSET64_X_JA: u8 = JSET64_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JEQ32_K_JA: u8 = JEQ32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JEQ32_X_JA: u8 = JEQ32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JNE32_K_JA: u8 = JNE32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JNE32_X_JA: u8 = JNE32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JGT32_K_JA: u8 = JGT32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JGT32_X_JA: u8 = JGT32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JGE32_K_JA: u8 = JGE32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JGE32_X_JA: u8 = JGE32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JLT32_K_JA: u8 = JLT32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JLT32_X_JA: u8 = JLT32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JLE32_K_JA: u8 = JLE32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JLE32_X_JA: u8 = JLE32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGT32_K_JA: u8 = JSGT32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGT32_X_JA: u8 = JSGT32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGE32_K_JA: u8 = JSGE32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSGE32_X_JA: u8 = JSGE32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLT32_K_JA: u8 = JSLT32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLT32_X_JA: u8 = JSLT32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLE32_K_JA: u8 = JSLE32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSLE32_X_JA: u8 = JSLE32_X + JCC_SKIP_JA_SHIFT;
pub(crate) const JSET32_K_JA: u8 = JSET32_K + JCC_SKIP_JA_SHIFT;
pub(crate) const JSET32_X_JA: u8 = JSET32_X + JCC_SKIP_JA_SHIFT;

/// `dst = a; dst <op>= b` (64-bit, `b` a register other than `dst`):
/// `regs` = `dst | a << 4`, `imm` = `b`.
pub(crate) const MOVX_ADD_X: u8 = 193;
pub(crate) const MOVX_SUB_X: u8 = 194;
pub(crate) const MOVX_MUL_X: u8 = 195;
pub(crate) const MOVX_AND_X: u8 = 196;
pub(crate) const MOVX_OR_X: u8 = 197;
pub(crate) const MOVX_XOR_X: u8 = 198;
pub(crate) const MOVX_LSH_X: u8 = 199;
pub(crate) const MOVX_RSH_X: u8 = 200;
pub(crate) const MOVX_ARSH_X: u8 = 201;
/// `dst = a; dst <op>= k` (64-bit): `regs` = `dst | a << 4`, `imm` = `k`
/// (shift amounts already masked).
pub(crate) const MOVX_ADD_K: u8 = 202;
pub(crate) const MOVX_SUB_K: u8 = 203;
pub(crate) const MOVX_MUL_K: u8 = 204;
pub(crate) const MOVX_AND_K: u8 = 205;
pub(crate) const MOVX_OR_K: u8 = 206;
pub(crate) const MOVX_XOR_K: u8 = 207;
pub(crate) const MOVX_LSH_K: u8 = 208;
pub(crate) const MOVX_RSH_K: u8 = 209;
pub(crate) const MOVX_ARSH_K: u8 = 210;

/// `dst *= a; dst += b` (64-bit, `b` other than `dst`): `regs` =
/// `dst | a << 4`, `imm` = `b`.
pub(crate) const MULX_ADDX: u8 = 211;
/// `dst <<= k; dst |= b` (64-bit, `b` other than `dst`; the second half of
/// a rotate): `regs` = `dst | b << 4`, `imm` = `k` (masked).
pub(crate) const LSHK_ORX: u8 = 212;

/// `dst += a; if dst <cond> k goto off` (64-bit add or subtract of a
/// constant, then a 64-bit conditional jump on the same register): code
/// `ADDK_JCC_K + (jcc - JEQ64_K) / 2` for the jump's `JEQ64_K..=JSET64_K`
/// code `jcc`, one per condition. `regs` = `dst`, `off` = the jump's offset
/// (relative to the slot after the jump), `imm` = `a as i16 as u16 |
/// k << 16` (both fit in 16 signed bits).
pub(crate) const ADDK_JCC_K: u8 = 213;
/// The same against a register: `regs` = `dst | src << 4`, `imm` = `a`.
pub(crate) const ADDK_JCC_X: u8 = ADDK_JCC_K + 11;

/// The `ADDK_JCC_K`/`ADDK_JCC_X` codes, one per condition.
pub(crate) const ADDK_JEQ_K: u8 = ADDK_JCC_K;
pub(crate) const ADDK_JNE_K: u8 = ADDK_JCC_K + 1;
pub(crate) const ADDK_JGT_K: u8 = ADDK_JCC_K + 2;
pub(crate) const ADDK_JGE_K: u8 = ADDK_JCC_K + 3;
pub(crate) const ADDK_JLT_K: u8 = ADDK_JCC_K + 4;
pub(crate) const ADDK_JLE_K: u8 = ADDK_JCC_K + 5;
pub(crate) const ADDK_JSGT_K: u8 = ADDK_JCC_K + 6;
pub(crate) const ADDK_JSGE_K: u8 = ADDK_JCC_K + 7;
pub(crate) const ADDK_JSLT_K: u8 = ADDK_JCC_K + 8;
pub(crate) const ADDK_JSLE_K: u8 = ADDK_JCC_K + 9;
pub(crate) const ADDK_JSET_K: u8 = ADDK_JCC_K + 10;
pub(crate) const ADDK_JEQ_X: u8 = ADDK_JCC_X;
pub(crate) const ADDK_JNE_X: u8 = ADDK_JCC_X + 1;
pub(crate) const ADDK_JGT_X: u8 = ADDK_JCC_X + 2;
pub(crate) const ADDK_JGE_X: u8 = ADDK_JCC_X + 3;
pub(crate) const ADDK_JLT_X: u8 = ADDK_JCC_X + 4;
pub(crate) const ADDK_JLE_X: u8 = ADDK_JCC_X + 5;
pub(crate) const ADDK_JSGT_X: u8 = ADDK_JCC_X + 6;
pub(crate) const ADDK_JSGE_X: u8 = ADDK_JCC_X + 7;
pub(crate) const ADDK_JSLT_X: u8 = ADDK_JCC_X + 8;
pub(crate) const ADDK_JSLE_X: u8 = ADDK_JCC_X + 9;
pub(crate) const ADDK_JSET_X: u8 = ADDK_JCC_X + 10;

/// `dst = a; dst += b; x = *(size *)(dst + off)` (an indexed load: three
/// slots, 64-bit move and add, then a load based on `dst`), one code per
/// size from `MOVADD_LDX8`: `regs` = `dst | a << 4`, `off` = the load's,
/// `imm` = `b | x << 4`. A failing load leaves `pc` on it, the add done.
pub(crate) const MOVADD_LDX8: u8 = ADDK_JCC_X + 11;
pub(crate) const MOVADD_LDX16: u8 = MOVADD_LDX8 + 1;
pub(crate) const MOVADD_LDX32: u8 = MOVADD_LDX8 + 2;
pub(crate) const MOVADD_LDX64: u8 = MOVADD_LDX8 + 3;
/// `dst ^= a; dst += b` (64-bit): `regs` = `dst | a << 4`, `imm` = `b`.
pub(crate) const XORX_ADDX: u8 = MOVADD_LDX8 + 4;
/// `dst ^= a; dst *= b` (64-bit), encoded like [`XORX_ADDX`].
pub(crate) const XORX_MULX: u8 = MOVADD_LDX8 + 5;
/// `dst &= a; dst |= b` (64-bit), encoded like [`XORX_ADDX`].
pub(crate) const ANDX_ORX: u8 = MOVADD_LDX8 + 6;
/// `dst += k; dst &= b` (64-bit): `regs` = `dst | b << 4`, `imm` = `k`.
pub(crate) const ADDK_ANDX: u8 = MOVADD_LDX8 + 7;
/// `dst += k; m = s` (64-bit): `regs` = `dst | m << 4`, `off` = `s`,
/// `imm` = `k`.
pub(crate) const ADDK_MOVX: u8 = MOVADD_LDX8 + 8;
/// `dst += k; d2 += k2` (64-bit, `k2` fits 16 signed bits): `regs` =
/// `dst | d2 << 4`, `imm` = `k`, `off` = `k2`.
pub(crate) const ADDK_ADDK: u8 = MOVADD_LDX8 + 9;
/// `dst = s; d2 = s2` (64-bit moves): `regs` = `dst | s << 4`, `imm` =
/// `d2 | s2 << 4`.
pub(crate) const MOVX_MOVX: u8 = MOVADD_LDX8 + 10;
/// `dst = s; dst = -dst` (64-bit): `regs` = `dst | s << 4`.
pub(crate) const MOVX_NEG: u8 = MOVADD_LDX8 + 11;
/// `wdst = ws; wdst += k` (32-bit): `regs` = `dst | s << 4`, `imm` = `k`.
pub(crate) const MOV32X_ADD32K: u8 = MOVADD_LDX8 + 12;
/// `wdst = ws; wdst &= k` (32-bit), encoded like [`MOV32X_ADD32K`].
pub(crate) const MOV32X_AND32K: u8 = MOVADD_LDX8 + 13;
/// `x = *(u64 *)(s + off); x *= b` (64-bit): `regs` = `x | s << 4`, `off`
/// = the load's, `imm` = `b`. A failing load leaves `pc` on it.
pub(crate) const LDX64_MULX: u8 = MOVADD_LDX8 + 14;
/// `dst = imm64 ll; x *= dst` (64-bit, three slots: `ld_imm64` and its
/// tail, then the multiply): `regs` = `dst | x << 4`, `imm` = the low half
/// (the tail slot keeps the high half, as for `LDIMM64`).
pub(crate) const LDIMM64_MULX: u8 = MOVADD_LDX8 + 15;
/// `dst = s; d2 = k` (64-bit moves): `regs` = `dst | s << 4`, `off` = `d2`,
/// `imm` = `k`.
pub(crate) const MOVX_MOVK: u8 = MOVADD_LDX8 + 16;
/// `dst >>= k; dst |= b` (64-bit; the other half of a rotate): `regs` =
/// `dst | b << 4`, `imm` = `k` (masked).
pub(crate) const RSHK_ORX: u8 = MOVADD_LDX8 + 17;

/// Codes of ops the fast loop never runs (it leaves them to the slow tier).
/// `compile::fuse` replaces them by [`SENTINEL`] in the fast loop's array,
/// which frees their values there for more superinstructions (below); the
/// slow tier reads the original array, where they keep their meaning.
pub(crate) const SLOW_ONLY: [u8; 14] = [
    ATOMIC32,
    ATOMIC64,
    LDABS8,
    LDABS16,
    LDABS32,
    LDIND8,
    LDIND16,
    LDIND32,
    CALL,
    CALL_BAD,
    CALLX,
    MAY_GOTO,
    GOTOX,
    UNSUPPORTED,
];

/// `*(u64 *)(dst + off) = s; x = *(u64 *)(b + off2)` (a store, then an
/// unrelated load): `regs` = `dst | s << 4`, `off` = the store's, `imm` =
/// `x | b << 4 | off2 << 16`. A failing store leaves `pc` on it; a failing
/// load leaves it on the load, the store done. (A fast-array-only code.)
pub(crate) const STX64_LDX64: u8 = SLOW_ONLY[0];
/// `x = *(u64 *)(s + off); x *= a; x += b` (three slots): `regs` =
/// `x | s << 4`, `off` = the load's, `imm` = `a | b << 4`. A failing load
/// leaves `pc` on it. (A fast-array-only code.)
pub(crate) const LDX64_MULX_ADDX: u8 = SLOW_ONLY[1];
/// `dst = s; goto off`: `regs` = `dst | s << 4`, `off` = the `goto`'s
/// (relative to the slot after it). (A fast-array-only code.)
pub(crate) const MOVX_JA: u8 = SLOW_ONLY[2];
/// `dst += a; if wdst != k goto off` (64-bit add of a constant, then a
/// 32-bit `!=` on the same register): encoded like [`ADDK_JCC_K`]. (A
/// fast-array-only code.)
pub(crate) const ADDK_JNE32_K: u8 = SLOW_ONLY[3];
/// `wdst += a; if wdst != k goto off` (both 32-bit): encoded like
/// [`ADDK_JCC_K`]. (A fast-array-only code.)
pub(crate) const ADD32K_JNE32_K: u8 = SLOW_ONLY[4];
/// `*(u64 *)(dst + off) = s; *(u64 *)(d2 + off2) = s2` (two stores, as in a
/// swap): `regs` = `dst | s << 4`, `off` = the first's, `imm` =
/// `d2 | s2 << 4 | off2 << 16`. A failing second store leaves `pc` on it,
/// the first done. (A fast-array-only code.)
pub(crate) const STX64_STX64: u8 = SLOW_ONLY[5];
/// `dst = s; d2 = s2; call off` (moves of arguments, then a bpf-to-bpf
/// call; three slots): `regs` = `dst | s << 4`, `imm` = `d2 | s2 << 4`,
/// `off` = the call's offset (which fits 16 bits). A call that cannot be
/// made leaves `pc` on it, the moves done. (A fast-array-only code.)
pub(crate) const MOVX_MOVX_CALL: u8 = SLOW_ONLY[6];
/// `dst >>= b; dst |= c` (64-bit, registers; the other half of a rotate by
/// a variable amount): `regs` = `dst | b << 4`, `imm` = `c`. (A
/// fast-array-only code.)
pub(crate) const RSHX_ORX: u8 = SLOW_ONLY[7];

/// `x = *(u64 *)(s + off); if a <= b goto joff` (a load, then a 64-bit
/// unsigned `<=` between registers, one of which is usually `x`, as in a
/// compare-and-swap step): `regs` = `x | s << 4`, `off` = the load's, `imm`
/// = `a | b << 4 | joff << 16` (`joff` relative to the slot after the jump).
/// A failing load leaves `pc` on it; a failing jump (the budget) leaves it on
/// the jump, the load done. (A fast-array-only code.)
pub(crate) const LDX64_JLE_X: u8 = SLOW_ONLY[8];
/// The same with an unsigned `>`.
pub(crate) const LDX64_JGT_X: u8 = SLOW_ONLY[9];

/// `dst = s; if a < b goto joff` (a 64-bit move, then a 64-bit unsigned
/// `<` between registers): `regs` = `dst | s << 4`, `off` = the jump's
/// (relative to the slot after it), `imm` = `a | b << 4`. A failing jump
/// (the budget) leaves `pc` on it, the move done. (A fast-array-only code.)
pub(crate) const MOVX_JLT_X: u8 = SLOW_ONLY[10];

/// `dst = s; dst += k; if dst > x goto off` (a packet bounds check: three
/// slots, 64-bit move and add, then a 64-bit unsigned `>` of `dst` against
/// a register): `regs` = `dst | s << 4`, `off` = the jump's (relative to
/// the slot after it), `imm` = `k as i16 as u16 | x << 16`. A failing jump
/// leaves `pc` on it, the move and add done.
pub(crate) const MOVX_ADDK_JGT_X: u8 = RSHK_ORX + 1;

/// `x = *(u64 *)(s + off); y = *(u64 *)(s2 + off2)` (two loads, as in
/// reloading spilled values): `regs` = `x | s << 4`, `off` = the first's,
/// `imm` = `y | s2 << 4 | off2 << 16`. A failing first load leaves `pc` on
/// it; a failing second load leaves it on the second, the first done. (A
/// fast-array-only code.)
pub(crate) const LDX64_LDX64: u8 = SLOW_ONLY[11];
/// `x = *(u64 *)(s + off); d += x` (64-bit): `regs` = `x | s << 4`, `off`
/// = the load's, `imm` = `d`. A failing load leaves `pc` on it. (A
/// fast-array-only code.)
pub(crate) const LDX64_ADDX: u8 = SLOW_ONLY[12];
/// `if wdst != k goto off; d2 = k2` (a 32-bit `!=` against a constant, then
/// a 64-bit move of a constant when it is not taken; both constants fit 16
/// signed bits): `regs` = `dst | d2 << 4`, `off` = the jump's, `imm` =
/// `k as i16 as u16 | k2 << 16`. A failing jump (the budget) leaves `pc` on
/// it. (A fast-array-only code.)
pub(crate) const JNE32K_MOVK: u8 = SLOW_ONLY[13];

/// `dst = s; dst >>= k; dst ^= b` (64-bit; three slots, the xor-shift of a
/// hash finaliser): `regs` = `dst | s << 4`, `imm` = `k | b << 8` (`k`
/// masked).
pub(crate) const MOVX_RSHK_XORX: u8 = MOVX_ADDK_JGT_X + 1;

/// `dst *= k; d2 += dst` (64-bit; an `acc = acc * k + x` step):
/// `regs` = `dst | d2 << 4`, `imm` = `k`. The fast array marks
/// `ld_imm64` tail slots (which it never dispatches: `ld_imm64` steps over
/// them and no jump lands on one) with [`SENTINEL`], which frees their
/// code. (A fast-array-only code.)
pub(crate) const MULK_ADDX: u8 = TAIL;
/// `dst <<= k; d2 |= dst` (64-bit; `(hi << k) | lo` into another
/// register): `regs` = `dst | d2 << 4`, `imm` = `k` (masked). (A
/// fast-array-only code.)
pub(crate) const LSHK_ORTO: u8 = 0xff;

// The fused codes sit between the sentinel and 0xff, without overlap.
const _: () = {
    assert!(JEQ64_K_JA == SENTINEL + 1);
    assert!(JSET32_X_JA < MOVX_ADD_X);
    assert!(MOVX_ARSH_K < MULX_ADDX);
    assert!(LSHK_ORX < ADDK_JCC_K);
    assert!(ADDK_JCC_X + 10 < MOVADD_LDX8);
    assert!(MOVX_RSHK_XORX < LSHK_ORTO);
};

/// The fused code for `MOV64_X` followed by the 64-bit ALU op `code`.
pub(crate) const fn movx_fused(code: u8) -> Option<u8> {
    Some(match code {
        ADD64_X => MOVX_ADD_X,
        SUB64_X => MOVX_SUB_X,
        MUL64_X => MOVX_MUL_X,
        AND64_X => MOVX_AND_X,
        OR64_X => MOVX_OR_X,
        XOR64_X => MOVX_XOR_X,
        LSH64_X => MOVX_LSH_X,
        RSH64_X => MOVX_RSH_X,
        ARSH64_X => MOVX_ARSH_X,
        ADD64_K => MOVX_ADD_K,
        SUB64_K => MOVX_SUB_K,
        MUL64_K => MOVX_MUL_K,
        AND64_K => MOVX_AND_K,
        OR64_K => MOVX_OR_K,
        XOR64_K => MOVX_XOR_K,
        LSH64_K => MOVX_LSH_K,
        RSH64_K => MOVX_RSH_K,
        ARSH64_K => MOVX_ARSH_K,
        _ => return None,
    })
}

/// Whether `code` is a `_X` (register operand) ALU code.
pub(crate) const fn is_alu_x(code: u8) -> bool {
    code <= ARSH32_X && code % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alu_x_codes() {
        for c in 0..=ARSH32_X {
            assert_eq!(is_alu_x(c), c % 2 == 1, "{c}");
        }
        assert!(!is_alu_x(JEQ64_X));
    }

    #[test]
    fn op_is_8_bytes() {
        assert_eq!(core::mem::size_of::<super::Op>(), 8);
        assert_eq!(core::mem::align_of::<super::Op>(), 8);
    }
}
