//! Shared by the round-trip tests: every opcode with a spread of register,
//! offset and immediate values (atomic and endian immediates, the
//! load-acquire/store-release codes, 16/32-bit boundaries, map value offsets
//! above `i32::MAX` in the second `ld_imm64` slot).

use ebpf_isa::RawInsn;

const OFFS: [i16; 9] = [0, 1, -1, 8, 16, 32, i16::MIN, i16::MAX, 0x1234];
const IMMS: [i32; 21] = [
    0,
    1,
    -1,
    16,
    32,
    64,
    0x40,
    0x41,
    0x50,
    0xa1,
    0xe1,
    0xf1,
    0x100,
    0x110,
    0x10000,
    70_000,
    i32::MIN,
    i32::MAX,
    -0x8000,
    -3,
    212,
];

/// Candidate slot sequences (two slots for opcode 0x18), valid or not.
pub(crate) fn candidates() -> impl Iterator<Item = Vec<RawInsn>> {
    (0u8..=255).flat_map(|code| {
        let mut v = Vec::new();
        for dst in [0u8, 1, 10, 11, 15] {
            for src in [0u8, 1, 2, 3, 4, 5, 6, 7, 10, 11] {
                for off in OFFS {
                    for imm in IMMS {
                        let mut slots = vec![RawInsn::new(code, dst, src, off, imm)];
                        if code == 0x18 {
                            slots.push(RawInsn::new(0, 0, 0, 0, imm.wrapping_mul(3)));
                        }
                        v.push(slots);
                    }
                }
            }
        }
        v
    })
}
