//! Codegen snapshots: one program per instruction class, compiled hardened
//! (with a fixed blinding key, so blinded immediates show as
//! `mov r10, imm ^ key; xor r10, key`) and trusted, listed at a fixed
//! address with iced-x86, each BPF instruction above its x86 code.

use ebpf_isa::Program;
use ebpf_jit_x86::{Emitted, Jit, JitConfig};
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

const BASE: u64 = 0x1000_0000;
const KEY: u32 = 0x5a5a_1234;

/// The listing of program 0's code (prologue and stubs left out, except
/// in [`prologue_and_stubs`]).
fn listing(prog: &Program, e: &Emitted, whole: bool) -> String {
    let start = if whole { 0 } else { e.entries[0] };
    let mut heads: Vec<(usize, String)> = prog
        .iter()
        .filter_map(|(pc, insn)| e.slots[pc].map(|o| (o, format!("{pc}: {insn}"))))
        .collect();
    heads.sort_by_key(|h| h.0);
    let mut decoder = Decoder::with_ip(64, &e.code, BASE, DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    fmt.options_mut().set_first_operand_char_index(8);
    let mut out = String::new();
    let mut text = String::new();
    let mut h = 0;
    for ins in &mut decoder {
        let off = (ins.ip() - BASE) as usize;
        while let Some((o, head)) = heads.get(h) {
            if *o > off {
                break;
            }
            if off >= start {
                out.push_str(&format!("; {head}\n"));
            }
            h += 1;
        }
        if off < start {
            continue;
        }
        text.clear();
        fmt.format(&ins, &mut text);
        out.push_str(&format!("{:08x}  {text}\n", ins.ip()));
    }
    out
}

fn both(name: &str, text: &str) {
    let prog = ebpf_isa::asm::assemble(text).unwrap();
    let hardened = Jit::emit(
        core::slice::from_ref(&prog),
        &JitConfig::hardened().with_blinding_key(KEY),
        BASE,
    )
    .unwrap();
    let trusted = Jit::emit(core::slice::from_ref(&prog), &JitConfig::trusted(), BASE).unwrap();
    insta::assert_snapshot!(format!("{name}_hardened"), listing(&prog, &hardened, false));
    insta::assert_snapshot!(format!("{name}_trusted"), listing(&prog, &trusted, false));
    // Deterministic for a fixed key; a different key changes the code.
    let again = Jit::emit(
        core::slice::from_ref(&prog),
        &JitConfig::hardened().with_blinding_key(KEY),
        BASE,
    )
    .unwrap();
    assert_eq!(again, hardened);
}

#[test]
fn alu64() {
    both(
        "alu64",
        "r0 = 7\nr1 = r0\nr1 += 100\nr1 -= r0\nr1 *= -3\nr1 |= 0x10\nr1 &= r2\nr1 ^= 5\nr1 = -r1\nexit",
    );
}

#[test]
fn alu32() {
    both(
        "alu32",
        "w0 = 7\nw1 = w0\nw1 += 100\nw1 -= w0\nw1 *= -3\nw1 |= 0x10\nw1 &= w2\nw1 ^= 5\nw1 = -w1\nr0 = (s8)r1\nw0 = (s16)w1\nr0 = (s32)r1\nexit",
    );
}

#[test]
fn division() {
    both("division", "r1 /= r2\nw1 %= 3\nr0 s/= r4\nw3 s%= -1\nexit");
}

#[test]
fn shifts() {
    both(
        "shifts",
        "r1 <<= 3\nw1 >>= w4\nr4 s>>= r2\nw0 <<= w4\nr4 <<= r4\nexit",
    );
}

#[test]
fn byte_order() {
    both(
        "byte_order",
        "r0 = le16 r0\nr0 = le32 r0\nr0 = be16 r0\nr0 = be32 r0\nr0 = bswap64 r0\nexit",
    );
}

#[test]
fn jumps() {
    both(
        "jumps",
        "r0 = 0\nl: r0 += 1\nif r0 < 10 goto l\nif w0 s> w1 goto +1\nif r0 & 0x100 goto +0\ngoto +0\nmay_goto +0\nexit",
    );
}

#[test]
fn memory() {
    both(
        "memory",
        "r0 = *(u8 *)(r1 +0)\nr0 = *(s16 *)(r1 +2)\n*(u32 *)(r10 -8) = 0x1234\n*(u64 *)(r10 -16) = r1\nr0 = *(u64 *)(r10 -516)\nexit",
    );
}

#[test]
fn atomics() {
    both(
        "atomics",
        "lock *(u64 *)(r10 -8) += r1\nr1 = atomic64_fetch_or((u64 *)(r10 -8), r1)\nw1 = atomic_xchg((u32 *)(r10 -8), w1)\nr0 = atomic_cmpxchg((u64 *)(r10 -8), r0, r1)\nexit",
    );
}

#[test]
fn calls() {
    both(
        "calls",
        "call bpf_ktime_get_ns\ncallx r0\ncall f\nexit\nf: r0 = 1\nexit",
    );
}

#[test]
fn ld_imm64_and_packet() {
    both(
        "ld_imm64_and_packet",
        "r0 = 0x1122334455667788 ll\nr1 = map[idx:0]\nr0 = *(u16 *)skb[12]\nr0 = *(u32 *)skb[r1 + 4]\nexit",
    );
}

#[test]
fn prologue_and_stubs() {
    let prog = ebpf_isa::asm::assemble("r0 = *(u8 *)(r1 +0)\nexit").unwrap();
    let e = Jit::emit(
        core::slice::from_ref(&prog),
        &JitConfig::hardened().with_blinding_key(KEY),
        BASE,
    )
    .unwrap();
    insta::assert_snapshot!(listing(&prog, &e, true));
}

#[test]
fn blinding_hides_immediates() {
    let prog = ebpf_isa::asm::assemble("r0 = 0x3c909090\nr0 += 0x3c909090\nexit").unwrap();
    let plain = 0x3c90_9090u32.to_le_bytes();
    let contains = |code: &[u8]| code.windows(4).any(|w| w == plain);
    let hardened = Jit::emit(core::slice::from_ref(&prog), &JitConfig::hardened(), BASE).unwrap();
    let trusted = Jit::emit(core::slice::from_ref(&prog), &JitConfig::trusted(), BASE).unwrap();
    assert!(!contains(&hardened.code));
    assert!(contains(&trusted.code));
    // Two compiles use different random keys.
    let again = Jit::emit(core::slice::from_ref(&prog), &JitConfig::hardened(), BASE).unwrap();
    assert_ne!(again.code, hardened.code);
}
