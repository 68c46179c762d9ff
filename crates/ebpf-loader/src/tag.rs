//! The kernel's program tag (`bpf_prog_calc_tag`) and the SHA-1 under it.
//!
//! The kernel hashes the program as it holds it after the loader replaced
//! map references by map fds: every `ld_imm64` with `src_reg` =
//! `BPF_PSEUDO_MAP_FD` (1) or `BPF_PSEUDO_MAP_VALUE` (2) has the `imm` of
//! both its slots zeroed (the fd, and the value offset, which the verifier
//! later overwrites with the map address), so the tag does not depend on fd
//! numbers. The second slot is only zeroed when it is a well-formed
//! `ld_imm64` tail (code, registers and offset all 0). The tag is the first
//! 8 bytes of the hash of the resulting slots in their wire form: SHA-1
//! up to Linux 6.17, SHA-256 since 6.18 (the signed-programs work made the
//! kernel keep a SHA-256 digest of every program; the tag became its
//! prefix). `tests/loader_agreement.rs` in `ebpf-kernel` found this: on
//! 6.18, `r0 = 0; exit` has tag `59f4a931744dcdc6`, the SHA-256 prefix, not
//! the SHA-1 prefix `a04f5eef06a7f555`.
//!
//! Our programs refer to maps by index (`BPF_PSEUDO_MAP_IDX` = 5,
//! `BPF_PSEUDO_MAP_IDX_VALUE` = 6); a libbpf-style loader patches those into
//! 1 and 2 with real fds before loading, so [`prog_tag`] hashes them as 1
//! and 2. SHA-1 and SHA-256 are implemented here (FIPS 180-4), not as
//! dependencies: together about 120 lines, used only for this tag, tested
//! against the standard vectors.

use ebpf_isa::RawInsn;

const BPF_LD_IMM64: u8 = 0x18;
const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_MAP_IDX: u8 = 5;
const PSEUDO_MAP_IDX_VALUE: u8 = 6;

/// The 64-byte blocks of `data` after FIPS 180-4 padding (SHA-1 and
/// SHA-256 pad alike): 0x80, zeros to 56 mod 64, the bit length big-endian.
fn padded_blocks(data: &[u8], mut each: impl FnMut(&[u8])) {
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let body = data.chunks_exact(64);
    let mut tail = Vec::with_capacity(128);
    tail.extend_from_slice(body.remainder());
    tail.push(0x80);
    while tail.len() % 64 != 56 {
        tail.push(0);
    }
    tail.extend_from_slice(&bit_len.to_be_bytes());
    body.chain(tail.chunks_exact(64)).for_each(&mut each);
}

/// The 16 big-endian words of a 64-byte block, extended to `N` words by
/// `extend(w, t)` for `t >= 16`.
fn schedule<const N: usize>(block: &[u8], extend: impl Fn(&[u32; N], usize) -> u32) -> [u32; N] {
    let mut w = [0u32; N];
    for (wi, c) in w.iter_mut().zip(block.chunks_exact(4)) {
        *wi = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for t in 16..N {
        let v = extend(&w, t);
        w[t] = v;
    }
    w
}

/// The SHA-1 digest of `data` (FIPS 180-4).
#[must_use]
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    padded_blocks(data, |block| {
        // t >= 16: the subtractions cannot wrap.
        let w = schedule::<80>(block, |w, t| {
            let at = |back: usize| w[t.wrapping_sub(back)];
            (at(3) ^ at(8) ^ at(14) ^ at(16)).rotate_left(1)
        });
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (t, wt) in w.iter().enumerate() {
            let (f, k) = match t {
                0..20 => ((b & c) | (!b & d), 0x5a82_7999),
                20..40 => (b ^ c ^ d, 0x6ed9_eba1),
                40..60 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wt);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    });
    let mut out = [0u8; 20];
    for (o, v) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&v.to_be_bytes());
    }
    out
}

const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The SHA-256 digest of `data` (FIPS 180-4).
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    padded_blocks(data, |block| {
        // t >= 16: the subtractions cannot wrap.
        let w = schedule::<64>(block, |w, t| {
            let at = |back: usize| w[t.wrapping_sub(back)];
            let s0 = at(15).rotate_right(7) ^ at(15).rotate_right(18) ^ (at(15) >> 3);
            let s1 = at(2).rotate_right(17) ^ at(2).rotate_right(19) ^ (at(2) >> 10);
            at(16).wrapping_add(s0).wrapping_add(at(7)).wrapping_add(s1)
        });
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for (k, wt) in SHA256_K.iter().zip(w) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(*k)
                .wrapping_add(wt);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *hi = hi.wrapping_add(v);
        }
    });
    let mut out = [0u8; 32];
    for (o, v) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&v.to_be_bytes());
    }
    out
}

/// Which hash a kernel's `bpf_prog_calc_tag` uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TagHash {
    /// SHA-256: Linux 6.18 and later (the kernel keeps the full digest for
    /// signed programs and exclusive maps; the tag is its first 8 bytes).
    Sha256,
    /// SHA-1: Linux 4.10 to 6.17.
    Sha1,
}

impl TagHash {
    /// The hash a kernel `major.minor` uses.
    #[must_use]
    pub fn for_kernel(major: u32, minor: u32) -> TagHash {
        if (major, minor) >= (6, 18) {
            TagHash::Sha256
        } else {
            TagHash::Sha1
        }
    }
}

/// The kernel's tag of the program `slots` (`bpf_prog_info.tag`, what
/// `bpftool prog` prints), assuming map-index `ld_imm64` (`src_reg` 5 and
/// 6) become map-fd ones (1 and 2) when loaded, as libbpf does. `hash` is
/// the kernel's choice ([`TagHash::for_kernel`]).
#[must_use]
pub fn prog_tag(slots: &[RawInsn], hash: TagHash) -> [u8; 8] {
    let mut bytes = Vec::with_capacity(slots.len().saturating_mul(RawInsn::SIZE));
    let mut after_map_load = false;
    for raw in slots {
        let mut s = *raw;
        if !after_map_load && s.code == BPF_LD_IMM64 {
            s.src = match s.src {
                PSEUDO_MAP_IDX => PSEUDO_MAP_FD,
                PSEUDO_MAP_IDX_VALUE => PSEUDO_MAP_VALUE,
                other => other,
            };
        }
        if !after_map_load
            && s.code == BPF_LD_IMM64
            && (s.src == PSEUDO_MAP_FD || s.src == PSEUDO_MAP_VALUE)
        {
            after_map_load = true;
            s.imm = 0;
        } else if after_map_load && s.code == 0 && s.dst == 0 && s.src == 0 && s.off == 0 {
            after_map_load = false;
            s.imm = 0;
        } else {
            after_map_load = false;
        }
        bytes.extend_from_slice(&s.to_bytes());
    }
    let mut tag = [0u8; 8];
    match hash {
        TagHash::Sha256 => tag.copy_from_slice(sha256(&bytes).get(..8).unwrap_or(&[0; 8])),
        TagHash::Sha1 => tag.copy_from_slice(sha1(&bytes).get(..8).unwrap_or(&[0; 8])),
    }
    tag
}

/// A tag as `bpftool` prints it: 16 lowercase hex digits.
#[must_use]
pub fn tag_hex(tag: &[u8; 8]) -> String {
    tag.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_known_vectors() {
        // FIPS 180-2 appendix A and common vectors.
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            hex(&sha1(b"The quick brown fox jumps over the lazy dog")),
            "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha1(&million)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
        // Lengths around the padding boundary (55, 56, 64 bytes).
        assert_eq!(
            hex(&sha1(&[b'a'; 64])),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d"
        );
    }

    #[test]
    fn sha256_known_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha256(&million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn minimal_program_tags() {
        // `r0 = 0; exit`: Linux 6.18 reports the SHA-256 prefix (seen by
        // tests/loader_agreement.rs); the SHA-1 prefix is what kernels
        // before 6.18 report (value from an independent SHA-1).
        let prog = [
            RawInsn::new(0xb7, 0, 0, 0, 0),
            RawInsn::new(0x95, 0, 0, 0, 0),
        ];
        assert_eq!(
            tag_hex(&prog_tag(&prog, TagHash::Sha256)),
            "59f4a931744dcdc6"
        );
        assert_eq!(tag_hex(&prog_tag(&prog, TagHash::Sha1)), "a04f5eef06a7f555");
        assert_eq!(TagHash::for_kernel(6, 18), TagHash::Sha256);
        assert_eq!(TagHash::for_kernel(6, 17), TagHash::Sha1);
        assert_eq!(TagHash::for_kernel(7, 0), TagHash::Sha256);
    }

    #[test]
    fn map_immediates_do_not_change_the_tag() {
        let prog = |src: u8, imm: i32, imm2: i32| {
            vec![
                RawInsn::new(0x18, 1, src, 0, imm),
                RawInsn::new(0, 0, 0, 0, imm2),
                RawInsn::new(0xb7, 0, 0, 0, 0),
                RawInsn::new(0x95, 0, 0, 0, 0),
            ]
        };
        for h in [TagHash::Sha256, TagHash::Sha1] {
            let fd = prog_tag(&prog(PSEUDO_MAP_FD, 7, 0), h);
            assert_eq!(fd, prog_tag(&prog(PSEUDO_MAP_FD, 9, 0), h));
            assert_eq!(fd, prog_tag(&prog(PSEUDO_MAP_IDX, 0, 0), h));
            let value = prog_tag(&prog(PSEUDO_MAP_VALUE, 7, 16), h);
            assert_eq!(value, prog_tag(&prog(PSEUDO_MAP_IDX_VALUE, 2, 0), h));
            assert_ne!(fd, value);
            // A plain 64-bit constant keeps its immediates.
            assert_ne!(prog_tag(&prog(0, 1, 0), h), prog_tag(&prog(0, 2, 0), h));
        }
    }
}
