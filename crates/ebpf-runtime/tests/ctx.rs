//! The context model end to end without an engine: convert a program, build
//! the test-run context, open a session with the context's invocation, and
//! follow the rewritten loads through the session's memory the way an
//! engine would.

use ebpf_isa::asm::assemble;
use ebpf_isa::{Insn, Reg, Size};
use ebpf_runtime::ctx::{CtxKind, CtxSpec, PacketPtr, convert_ctx_access};
use ebpf_runtime::{INPUT_BASE, PACKET_BASE, Runtime};

fn packet() -> Vec<u8> {
    let mut p: Vec<u8> = (0..64u8).collect();
    p[12] = 0x08; // IPv4
    p[13] = 0x00;
    p
}

/// The 64-bit value an `ldxdw dst, [r1 + off]` gives at entry (`r1` = the
/// invocation's first argument).
fn load_ctx(kind: CtxKind, prog_text: &str) -> Vec<(i16, u64, u8)> {
    let prog = assemble(prog_text).expect("assembles");
    let conv = convert_ctx_access(&prog, kind.layout()).expect("converts");
    let mut run = CtxSpec::new(kind).build(packet()).expect("builds");
    let mut rt = Runtime::new();
    let s = rt.session(run.invocation(), 1);
    let r1 = s.args()[0];
    assert_eq!(r1, INPUT_BASE);
    let mut out = Vec::new();
    for (_, insn) in conv.iter() {
        if let Insn::Load {
            size: Size::DW,
            src,
            off,
            ..
        } = *insn
            && src != Reg::R10
        {
            let addr = r1.wrapping_add_signed(off.into());
            let ptr = s
                .mem
                .load_uint(addr, 8)
                .expect("shadow slot is in the input");
            // The byte the pointer names (data and data_meta), or none
            // (data_end is one past the packet region).
            let byte = s.mem.load_uint(ptr, 1).map_or(0xee, |b| b as u8);
            out.push((off, ptr, byte));
        }
    }
    out
}

#[test]
fn xdp_pointers_name_the_packet() {
    let got = load_ctx(
        CtxKind::Xdp,
        "r2 = *(u32 *)(r1 +0)
         r3 = *(u32 *)(r1 +4)
         r4 = *(u32 *)(r1 +8)
         r0 = 2
         exit",
    );
    assert_eq!(
        got,
        [
            (24, PACKET_BASE, 0),
            (32, PACKET_BASE + 64, 0xee),
            (40, PACKET_BASE, 0)
        ]
    );
}

#[test]
fn tc_pointers_and_scalars() {
    let got = load_ctx(
        CtxKind::SchedCls,
        "r6 = r1
         *(u64 *)(r10 -8) = r6
         r7 = *(u64 *)(r10 -8)
         r2 = *(u32 *)(r7 +76)
         r3 = *(u32 *)(r7 +80)
         r0 = *(u32 *)(r7 +0)
         exit",
    );
    assert_eq!(got, [(192, PACKET_BASE, 0), (200, PACKET_BASE + 64, 0xee)]);
    let run = CtxSpec::new(CtxKind::SchedCls)
        .build(packet())
        .expect("builds");
    assert_eq!(run.field("len"), Some(64));
    assert_eq!(run.field("protocol"), Some(0x0008));
}

#[test]
fn socket_filter_packet_starts_at_the_network_header() {
    let mut run = CtxSpec::new(CtxKind::SocketFilter)
        .build(packet())
        .expect("builds");
    assert_eq!(run.field("len"), Some(50));
    assert_eq!(run.pointer(PacketPtr::DataEnd), PACKET_BASE + 50);
    let mut rt = Runtime::new();
    let s = rt.session(run.invocation(), 1);
    // LD_ABS [0] reads skb->data, the first byte after the Ethernet header.
    assert_eq!(s.mem.load_uint(PACKET_BASE, 1), Some(14));
    assert_eq!(s.mem.load_uint(PACKET_BASE + 49, 1), Some(63));
    assert_eq!(s.mem.load_uint(PACKET_BASE + 50, 1), None);
    // r1 = the context, whose len field is the skb length.
    assert_eq!(s.mem.load_uint(s.args()[0], 4), Some(50));
    assert_eq!(s.args()[1..], [0, 0, 0, 0]);
}

#[test]
fn writes_reach_the_packet_and_context() {
    let mut run = CtxSpec::new(CtxKind::SchedCls)
        .build(packet())
        .expect("builds");
    let mut rt = Runtime::new();
    {
        let mut s = rt.session(run.invocation(), 1);
        s.mem
            .store_uint(PACKET_BASE + 1, 1, 0xaa)
            .expect("packet writable");
        s.mem
            .store_uint(INPUT_BASE + 8, 4, 5)
            .expect("mark writable");
    }
    assert_eq!(run.packet()[1], 0xaa);
    assert_eq!(run.data_out()[1], 0xaa);
    assert_eq!(run.field("mark"), Some(5));
}
