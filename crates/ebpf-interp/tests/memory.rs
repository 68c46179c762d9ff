//! Loads, stores, atomics, regions, traps, `ld_imm64` references and legacy
//! packet loads.

mod common;

use common::{asm, check, rt, run, run_with, vm};
use ebpf_interp::{InterpError, Interpreter};
use ebpf_runtime::{
    Access, INPUT_BASE, Invocation, MapDef, MapId, MapType, PACKET_BASE, RODATA_BASE, RegionInfo,
    RegionKind, STACK_BASE, STACK_SIZE, Trap, flags, layout,
};

#[test]
fn loads_and_stores_on_input() {
    let mut input = [1u8, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xfe];
    let p = "ldxdw %r0, [%r1+0]\nexit";
    assert_eq!(run_with(p, &mut input), Ok(0x0807_0605_0403_0201));
    assert_eq!(
        run_with("ldxw %r0, [%r1+4]\nexit", &mut input),
        Ok(0x0807_0605)
    );
    assert_eq!(run_with("ldxh %r0, [%r1+8]\nexit", &mut input), Ok(0xfeff));
    assert_eq!(run_with("ldxb %r0, [%r1+9]\nexit", &mut input), Ok(0xfe));
    // Sign-extending loads.
    assert_eq!(
        run_with("ldxsb %r0, [%r1+9]\nexit", &mut input),
        Ok((-2i64) as u64)
    );
    assert_eq!(
        run_with("ldxsh %r0, [%r1+8]\nexit", &mut input),
        Ok((-257i64) as u64)
    );
    assert_eq!(
        run_with("ldxsw %r0, [%r1+6]\nexit", &mut input),
        Ok(0xffff_ffff_feff_0807)
    );
    // Stores write through to the caller's buffer; r2 is the length.
    let p = "stxb [%r1+0], %r2\nsth [%r1+2], -1\nstw [%r1+4], 0x01020304\nmov %r0, 0\nexit";
    assert_eq!(run_with(p, &mut input), Ok(0));
    assert_eq!(input[..8], [10, 2, 0xff, 0xff, 4, 3, 2, 1]);
    let mut buf = [0u8; 8];
    assert_eq!(
        run_with("stdw [%r1+0], -2\nldxdw %r0, [%r1+0]\nexit", &mut buf),
        Ok(u64::MAX - 1)
    );
    // Load-acquire and store-release are plain accesses.
    check(
        "mov %r1, 77\nstreldw [%r10-8], %r1\nldacqdw %r0, [%r10-8]\nexit",
        77,
    );
    check(
        "mov %r1, 0x1ff\nstrelb [%r10-1], %r1\nldacqb %r0, [%r10-1]\nexit",
        0xff,
    );
}

#[test]
fn entry_registers() {
    let mut input = [0u8; 5];
    assert_eq!(run_with("mov %r0, %r1\nexit", &mut input), Ok(INPUT_BASE));
    assert_eq!(run_with("mov %r0, %r2\nexit", &mut input), Ok(5));
    // No input: r1 = 0 (as uBPF passes NULL).
    check("mov %r0, %r1\nexit", 0);
    check("mov %r0, %r10\nexit", layout::frame_pointer(0));
    check("mov %r0, %r3\nor %r0, %r9\nexit", 0);
    // Explicit r1..r5.
    let mut rt = rt();
    let out = vm("mov %r0, %r5\nadd %r0, %r1\nexit")
        .invoke(&mut rt, Invocation::empty().args([1, 2, 3, 4, 5]))
        .unwrap();
    assert_eq!(out.r0, 6);
    assert_eq!(out.insns, 3);
}

fn input_region(len: u64) -> RegionInfo {
    RegionInfo {
        kind: RegionKind::Input,
        name: "input".into(),
        start: INPUT_BASE,
        len,
        writable: true,
    }
}

fn stack_region() -> RegionInfo {
    RegionInfo {
        kind: RegionKind::Stack,
        name: "stack".into(),
        start: STACK_BASE,
        len: STACK_SIZE as u64,
        writable: true,
    }
}

#[test]
fn out_of_bounds_traps() {
    let mut input = [0u8; 8];
    assert_eq!(
        run_with("mov %r0, 0\nldxdw %r0, [%r1+4]\nexit", &mut input),
        Err(Trap::OutOfBounds {
            pc: 1,
            addr: INPUT_BASE + 4,
            size: 8,
            access: Access::Read,
            region: input_region(8),
        })
    );
    assert_eq!(
        run_with("stw [%r1+8], 1\nexit", &mut input),
        Err(Trap::OutOfBounds {
            pc: 0,
            addr: INPUT_BASE + 8,
            size: 4,
            access: Access::Write,
            region: input_region(8),
        })
    );
    // Above the top of the stack: the address is still in the stack's tag.
    assert_eq!(
        run("stxdw [%r10+0], %r1\nexit"),
        Err(Trap::OutOfBounds {
            pc: 0,
            addr: STACK_BASE + STACK_SIZE as u64,
            size: 8,
            access: Access::Write,
            region: stack_region(),
        })
    );
    // Below the bottom of the stack: the address wraps into tag 0, and the
    // base register names the nearest region.
    let addr = STACK_BASE.wrapping_sub(8);
    assert_eq!(
        run("mov %r1, %r10\nsub %r1, 4096\nldxdw %r0, [%r1-8]\nexit"),
        Err(Trap::OutOfBounds {
            pc: 2,
            addr,
            size: 8,
            access: Access::Read,
            region: stack_region(),
        })
    );
    // NULL: no region anywhere, the input is reported.
    assert_eq!(
        run("mov %r1, 0\nldxb %r0, [%r1+0]\nexit"),
        Err(Trap::OutOfBounds {
            pc: 1,
            addr: 0,
            size: 1,
            access: Access::Read,
            region: input_region(0),
        })
    );
    // An offset that overflows the 32-bit region offset.
    let t = run("lddw %r1, 0x2ffffffff\nldxw %r0, [%r1+0]\nexit").unwrap_err();
    assert!(
        matches!(
            t,
            Trap::OutOfBounds {
                pc: 2,
                addr: 0x2_ffff_ffff,
                size: 4,
                ..
            }
        ),
        "{t}"
    );
    // Code addresses are never accessible.
    let t = run("lddw %r1, func +2\nldxb %r0, [%r1+0]\nexit\nexit").unwrap_err();
    assert!(
        matches!(t, Trap::ReadOnly { .. } | Trap::OutOfBounds { .. }),
        "{t}"
    );
}

#[test]
fn read_only_regions() {
    let mut rt = rt();
    rt.set_rodata(vec![1, 2, 3, 4]);
    let ro = rt
        .maps_mut()
        .create(MapDef::new("ro", MapType::ARRAY, 4, 8, 2).with_flags(flags::BPF_F_RDONLY_PROG))
        .unwrap();
    assert_eq!(ro, MapId(0));
    let read = vm(&format!(
        "lddw %r1, {RODATA_BASE:#x}\nldxw %r0, [%r1+0]\nexit"
    ));
    assert_eq!(read.run(&mut rt, &mut []), Ok(0x0403_0201));
    let write = vm(&format!("lddw %r1, {RODATA_BASE:#x}\nstb [%r1+1], 0\nexit"));
    assert_eq!(
        write.run(&mut rt, &mut []),
        Err(Trap::ReadOnly {
            pc: 2,
            addr: RODATA_BASE + 1,
            size: 1,
            region: RegionInfo {
                kind: RegionKind::Rodata,
                name: "rodata".into(),
                start: RODATA_BASE,
                len: 4,
                writable: false,
            },
        })
    );
    let map_write = vm("lddw %r1, map_idx 0\nstw [%r1+8], 1\nexit");
    assert_eq!(
        map_write.run(&mut rt, &mut []),
        Err(Trap::ReadOnly {
            pc: 2,
            addr: ro.addr() + 8,
            size: 4,
            region: RegionInfo {
                kind: RegionKind::Map(0),
                name: "map 'ro'".into(),
                start: ro.addr(),
                len: 16,
                writable: false,
            },
        })
    );
    // Atomics are writes, even a cmpxchg that does not store.
    let t = vm("lddw %r1, map_idx 0\nmov %r0, 1\nlock cmpxchg [%r1+0], %r0\nexit")
        .run(&mut rt, &mut [])
        .unwrap_err();
    assert!(matches!(t, Trap::ReadOnly { pc: 3, .. }), "{t}");
}

#[test]
fn map_references_in_ld_imm64() {
    let mut rt = rt();
    let a = rt
        .maps_mut()
        .create(MapDef::new("a", MapType::ARRAY, 4, 8, 4))
        .unwrap();
    let b = rt
        .maps_mut()
        .create(MapDef::new("b", MapType::ARRAY, 4, 8, 4))
        .unwrap();
    rt.maps_mut()
        .update(b, &1u32.to_le_bytes(), &42u64.to_le_bytes(), 0)
        .unwrap();
    for text in ["lddw %r0, map_idx 1\nexit", "lddw %r0, map_fd 1\nexit"] {
        assert_eq!(vm(text).run(&mut rt, &mut []), Ok(b.addr()));
    }
    for text in [
        "lddw %r1, map_idx_value 1, 8\nldxdw %r0, [%r1+0]\nexit",
        "lddw %r1, map_value 1, 8\nldxdw %r0, [%r1+0]\nexit",
    ] {
        assert_eq!(vm(text).run(&mut rt, &mut []), Ok(42));
    }
    assert_ne!(a.addr(), b.addr());
    // A reference to a map the runtime does not have is only an address:
    // using it traps.
    let t = vm("lddw %r1, map_idx 7\nldxdw %r0, [%r1+0]\nexit")
        .run(&mut rt, &mut [])
        .unwrap_err();
    assert!(matches!(t, Trap::OutOfBounds { pc: 2, .. }), "{t}");
    // Negative fds cannot name a map.
    assert_eq!(
        Interpreter::new(&asm("lddw %r1, map_fd -1\nexit")).unwrap_err(),
        InterpError::InvalidMapReference {
            prog: 0,
            pc: 0,
            value: -1
        }
    );
    // BTF ids and arena casts are not supported at run time.
    assert_eq!(
        run("mov %r0, 0\nlddw %r1, btf_id 5, 0\nexit"),
        Err(Trap::Unsupported {
            pc: 1,
            what: "ld_imm64 of a BTF id"
        })
    );
    assert_eq!(
        run("addr_space_cast %r0, %r1, 0, 1\nexit"),
        Err(Trap::Unsupported {
            pc: 0,
            what: "addr_space_cast (arenas)"
        })
    );
    // A function address is in the code region.
    // `pc + 1 + imm`: slot 2, the first `exit`.
    check("lddw %r0, func +1\nexit\nexit", layout::CODE_BASE + 2);
}

fn atomic(op: &str, init: u64, val: u64, r0: u64) -> (u64, u64, u64) {
    let text = format!(
        "lddw %r2, {init:#x}\nstxdw [%r10-8], %r2\nlddw %r1, {val:#x}\nlddw %r0, {r0:#x}\n\
         lock {op} [%r10-8], %r1\nstxdw [%r10-16], %r1\nexit"
    );
    let mut rt = rt();
    let r0 = vm(&text).run(&mut rt, &mut []).unwrap();
    let s = rt.stack();
    let top = s.len();
    let word = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    (word(top - 8), word(top - 16), r0)
}

#[test]
fn atomics() {
    const H: u64 = 0x1_0000_0000;
    // (op, init, operand, r0) -> (memory, src register after, r0 after)
    type Case = (&'static str, u64, u64, u64, (u64, u64, u64));
    let cases: [Case; 20] = [
        ("add", 10, 3, 0, (13, 3, 0)),
        ("fetch add", 10, 3, 0, (13, 10, 0)),
        ("or", 0b1010, 0b0101, 0, (0b1111, 0b0101, 0)),
        ("fetch or", 0b1010, 0b0101, 0, (0b1111, 0b1010, 0)),
        ("and", 0b1110, 0b0111, 0, (0b0110, 0b0111, 0)),
        ("fetch and", 0b1110, 0b0111, 0, (0b0110, 0b1110, 0)),
        ("xor", 0b1110, 0b0111, 0, (0b1001, 0b0111, 0)),
        ("fetch xor", 0b1110, 0b0111, 0, (0b1001, 0b1110, 0)),
        ("xchg", 5, 9, 0, (9, 5, 0)),
        ("cmpxchg", 5, 9, 5, (9, 9, 5)),
        // 32-bit: the upper half of memory is untouched, results zero-extended.
        ("add32", 7 * H + 0xffff_ffff, 1, 0, (7 * H, 1, 0)),
        (
            "fetch add32",
            7 * H + 0xffff_ffff,
            1,
            0,
            (7 * H, 0xffff_ffff, 0),
        ),
        ("fetch or32", 7 * H + 1, H + 2, 0, (7 * H + 3, 1, 0)),
        ("fetch and32", 7 * H + 3, 6, 0, (7 * H + 2, 3, 0)),
        ("fetch xor32", 7 * H + 3, 6, 0, (7 * H + 5, 3, 0)),
        ("or32", 7 * H + 1, 2, 0, (7 * H + 3, 2, 0)),
        ("xchg32", 7 * H + 5, H + 9, 0, (7 * H + 9, 5, 0)),
        ("cmpxchg32", 7 * H + 5, 9, H + 5, (7 * H + 9, 9, 5)),
        // Failed compare: memory unchanged, r0 = old.
        ("cmpxchg", 5, 9, 6, (5, 9, 5)),
        ("cmpxchg32", 7 * H + 5, 9, 6, (7 * H + 5, 9, 5)),
    ];
    for (op, init, val, r0, want) in cases {
        assert_eq!(atomic(op, init, val, r0), want, "lock {op}");
    }
}

#[test]
fn legacy_packet_loads() {
    let mut rt = rt();
    let mut packet = [0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66];
    let mut ctx = [0u8; 8];
    let mut go = |text: &str, packet: &mut [u8]| {
        vm(text)
            .invoke(&mut rt, Invocation::new(&mut ctx).packet(packet))
            .map(|o| o.r0)
    };
    assert_eq!(go("ldabsw 2\nexit", &mut packet), Ok(0x3344_5566));
    assert_eq!(go("ldabsh 0\nexit", &mut packet), Ok(0x1122));
    assert_eq!(go("ldabsb 5\nexit", &mut packet), Ok(0x66));
    assert_eq!(
        go("mov %r1, 2\nldindh %r1, 1\nexit", &mut packet),
        Ok(0x4455)
    );
    // Out of range (or negative): the program ends with r0 = 0.
    assert_eq!(go("ldabsw 4\nmov %r0, 5\nexit", &mut packet), Ok(0));
    assert_eq!(
        go("mov %r0, 9\nldabsb -1\nmov %r0, 5\nexit", &mut packet),
        Ok(0)
    );
    assert_eq!(
        go("mov %r1, -8\nldindb %r1, 4\nmov %r0, 5\nexit", &mut packet),
        Ok(0)
    );
    assert_eq!(
        go("mov %r1, 6\nldindb %r1, 0\nmov %r0, 5\nexit", &mut packet),
        Ok(0)
    );
    // Without a packet the input is the packet.
    let mut input = [0xaau8, 0xbb];
    assert_eq!(run_with("ldabsh 0\nexit", &mut input), Ok(0xaabb));
    // The packet region by address, XDP style.
    let text = format!("lddw %r1, {PACKET_BASE:#x}\nldxb %r0, [%r1+1]\nexit");
    assert_eq!(go(&text, &mut packet), Ok(0x22));
}
