//! Every map type and the standard helpers, driven by programs.

mod common;

use common::{rt, vm};
use ebpf_runtime::{
    BPF_ANY, BPF_EXIST, BPF_NOEXIST, Clock, Config, MapDef, MapId, MapType, Runtime, Trap,
};

const ENOENT: u64 = (-2i64) as u64;
const E2BIG: u64 = (-7i64) as u64;
const EEXIST: u64 = (-17i64) as u64;
const EINVAL: u64 = (-22i64) as u64;

/// Key (u32) at r10-4, value (u64) at r10-16, r1 = map 0, r2 = &key,
/// r3 = &value, r4 = flags.
fn kv(key: u32, value: u64, flags: u64) -> String {
    format!(
        "stw [%r10-4], {key}\nlddw %r9, {value:#x}\nstxdw [%r10-16], %r9\n\
         lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\n\
         mov %r4, {flags}\n"
    )
}

fn one(rt: &mut Runtime, text: &str) -> Result<u64, Trap> {
    vm(text).run(rt, &mut [])
}

fn update(rt: &mut Runtime, key: u32, value: u64, flags: u64) -> u64 {
    one(rt, &format!("{}call 2\nexit", kv(key, value, flags))).unwrap()
}

fn delete(rt: &mut Runtime, key: u32) -> u64 {
    one(rt, &format!("{}call 3\nexit", kv(key, 0, 0))).unwrap()
}

/// Look `key` up; r0 = the value, or `u64::MAX - 1` if absent.
fn lookup(rt: &mut Runtime, key: u32) -> u64 {
    let text = format!(
        "{}call 1\njeq %r0, 0, none\nldxdw %r0, [%r0+0]\nexit\nnone:\nmov %r0, -2\nexit",
        kv(key, 0, 0)
    );
    one(rt, &text).unwrap()
}

fn map(t: MapType, key: u32, value: u32, max: u32) -> (Runtime, MapId) {
    let mut rt = rt();
    let id = rt
        .maps_mut()
        .create(MapDef::new("m", t, key, value, max))
        .unwrap();
    (rt, id)
}

#[test]
fn array_maps() {
    for t in [MapType::ARRAY, MapType::PERCPU_ARRAY] {
        let (mut rt, id) = map(t, 4, 8, 4);
        assert_eq!(update(&mut rt, 1, 42, BPF_ANY), 0);
        assert_eq!(lookup(&mut rt, 1), 42);
        assert_eq!(lookup(&mut rt, 0), 0);
        assert_eq!(lookup(&mut rt, 4), u64::MAX - 1);
        assert_eq!(update(&mut rt, 4, 1, BPF_ANY), E2BIG);
        assert_eq!(update(&mut rt, 1, 1, BPF_NOEXIST), EEXIST);
        assert_eq!(update(&mut rt, 1, 43, BPF_EXIST), 0);
        assert_eq!(update(&mut rt, 1, 1, 9), EINVAL);
        assert_eq!(delete(&mut rt, 1), EINVAL);
        assert_eq!(
            rt.maps().lookup(id, &1u32.to_le_bytes()).unwrap(),
            Some(&43u64.to_le_bytes()[..])
        );
        // Writes through the value pointer are the map's storage.
        let text = format!("{}call 1\nstdw [%r0+0], 7\nmov %r0, 0\nexit", kv(2, 0, 0));
        assert_eq!(one(&mut rt, &text), Ok(0));
        assert_eq!(
            rt.maps().lookup(id, &2u32.to_le_bytes()).unwrap(),
            Some(&7u64.to_le_bytes()[..])
        );
        // The value pointer is the map's address plus the element offset.
        let text = format!("{}call 1\nexit", kv(3, 0, 0));
        assert_eq!(one(&mut rt, &text), Ok(id.addr() + 24));
    }
}

#[test]
fn hash_maps() {
    for t in [MapType::HASH, MapType::PERCPU_HASH] {
        let (mut rt, id) = map(t, 4, 8, 2);
        assert_eq!(lookup(&mut rt, 5), u64::MAX - 1);
        assert_eq!(update(&mut rt, 5, 50, BPF_NOEXIST), 0);
        assert_eq!(update(&mut rt, 5, 51, BPF_NOEXIST), EEXIST);
        assert_eq!(update(&mut rt, 6, 60, BPF_EXIST), ENOENT);
        assert_eq!(update(&mut rt, 6, 60, BPF_ANY), 0);
        assert_eq!(update(&mut rt, 7, 70, BPF_ANY), E2BIG);
        assert_eq!(update(&mut rt, 5, 52, BPF_EXIST), 0);
        assert_eq!(lookup(&mut rt, 5), 52);
        assert_eq!(update(&mut rt, 5, 1, 4), EINVAL);
        assert_eq!(delete(&mut rt, 5), 0);
        assert_eq!(delete(&mut rt, 5), ENOENT);
        assert_eq!(lookup(&mut rt, 5), u64::MAX - 1);
        assert_eq!(rt.maps().count(id).unwrap(), 1);
        assert_eq!(
            rt.maps().keys(id).unwrap(),
            vec![6u32.to_le_bytes().to_vec()]
        );
        // A value pointer stays inside the map's region after delete.
        let text = format!(
            "{}call 1\nmov %r6, %r0\n{}call 3\nldxdw %r0, [%r6+0]\nexit",
            kv(6, 0, 0),
            kv(6, 0, 0)
        );
        assert_eq!(one(&mut rt, &text), Ok(60));
    }
}

#[test]
fn lru_hash_maps_evict() {
    for t in [MapType::LRU_HASH, MapType::LRU_PERCPU_HASH] {
        let (mut rt, id) = map(t, 4, 8, 2);
        assert_eq!(update(&mut rt, 1, 10, BPF_ANY), 0);
        assert_eq!(update(&mut rt, 2, 20, BPF_ANY), 0);
        // A program-side lookup of 1 makes 2 the least recently used.
        assert_eq!(lookup(&mut rt, 1), 10);
        assert_eq!(update(&mut rt, 3, 30, BPF_ANY), 0);
        let keys = rt.maps().keys(id).unwrap();
        assert!(keys.contains(&1u32.to_le_bytes().to_vec()));
        assert!(keys.contains(&3u32.to_le_bytes().to_vec()));
        assert!(!keys.contains(&2u32.to_le_bytes().to_vec()));
    }
}

/// r1 = map 0, value at r10-8 (`push`) / destination at r10-16 (`pop`/`peek`).
fn queue_op(rt: &mut Runtime, op: &str, value: u64, flags: u64) -> (u64, u64) {
    let call = match op {
        "push" => 87,
        "pop" => 88,
        _ => 89,
    };
    let text = format!(
        "lddw %r9, {value:#x}\nstxdw [%r10-8], %r9\nstdw [%r10-16], -1\nlddw %r1, map_idx 0\n\
         mov %r2, %r10\nadd %r2, {}\nmov %r3, {flags}\ncall {call}\nldxdw %r1, [%r10-16]\n\
         stxdw [%r10-24], %r1\nexit",
        if call == 87 { -8 } else { -16 }
    );
    let r0 = one(rt, &text).unwrap();
    let s = rt.stack();
    let at = s.len() - 24;
    (r0, u64::from_le_bytes(s[at..at + 8].try_into().unwrap()))
}

#[test]
fn queue_and_stack_maps() {
    for (t, order) in [(MapType::QUEUE, [1, 2, 3]), (MapType::STACK, [3, 2, 1])] {
        let (mut rt, _) = map(t, 0, 8, 3);
        assert_eq!(queue_op(&mut rt, "pop", 0, 0).0, ENOENT);
        for v in 1..=3 {
            assert_eq!(queue_op(&mut rt, "push", v, 0).0, 0);
        }
        assert_eq!(queue_op(&mut rt, "push", 4, 0).0, E2BIG);
        assert_eq!(queue_op(&mut rt, "push", 4, 1).0, EINVAL);
        assert_eq!(queue_op(&mut rt, "peek", 0, 0), (0, order[0]));
        for want in order {
            assert_eq!(queue_op(&mut rt, "pop", 0, 0), (0, want));
        }
        assert_eq!(queue_op(&mut rt, "peek", 0, 0).0, ENOENT);
        // BPF_EXIST on a full map drops the oldest element.
        for v in 1..=3 {
            queue_op(&mut rt, "push", v, 0);
        }
        assert_eq!(queue_op(&mut rt, "push", 4, BPF_EXIST).0, 0);
        let first = queue_op(&mut rt, "pop", 0, 0).1;
        assert_eq!(first, if t == MapType::QUEUE { 2 } else { 4 });
        // Lookup-style helpers are not for queues.
        let t = one(&mut rt, &format!("{}call 2\nexit", kv(0, 0, 0))).unwrap_err();
        assert!(matches!(t, Trap::HelperError { helper: 2, .. }), "{t}");
    }
}

#[test]
fn ring_buffers() {
    let mut rt = rt();
    let id = rt
        .maps_mut()
        .create(MapDef::new("rb", MapType::RINGBUF, 0, 0, 4096))
        .unwrap();
    // bpf_ringbuf_output of 8 bytes from the stack.
    let output = "lddw %r9, 0x0807060504030201\nstxdw [%r10-8], %r9\nlddw %r1, map_idx 0\n\
                  mov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\nexit";
    assert_eq!(one(&mut rt, output), Ok(0));
    // reserve 4, write, submit; reserve 4, discard; reserve with flags fails.
    let reserve = "lddw %r1, map_idx 0\nmov %r2, 4\nmov %r3, 0\ncall 131\njeq %r0, 0, fail\n\
                   stw [%r0+0], 0x64636261\nmov %r1, %r0\nmov %r2, 0\ncall 132\n\
                   lddw %r1, map_idx 0\nmov %r2, 4\nmov %r3, 0\ncall 131\nmov %r1, %r0\n\
                   mov %r2, 0\ncall 133\nlddw %r1, map_idx 0\nmov %r2, 4\nmov %r3, 1\ncall 131\n\
                   exit\nfail:\nmov %r0, -1\nexit";
    assert_eq!(one(&mut rt, reserve), Ok(0));
    let records = rt.maps_mut().ringbuf_drain(id).unwrap();
    assert_eq!(
        records,
        vec![vec![1, 2, 3, 4, 5, 6, 7, 8], b"abcd".to_vec()]
    );
    assert!(rt.maps_mut().ringbuf_drain(id).unwrap().is_empty());
    // Too big: NULL; bad flags for output: -EINVAL.
    let big = "lddw %r1, map_idx 0\nmov %r2, 8192\nmov %r3, 0\ncall 131\nexit";
    assert_eq!(one(&mut rt, big), Ok(0));
    let bad = output.replace("mov %r4, 0", "mov %r4, 8");
    assert_eq!(one(&mut rt, &bad), Ok(EINVAL));
    // Submitting something that is not a reservation traps.
    let t = one(&mut rt, "mov %r1, %r10\nmov %r2, 0\ncall 132\nexit").unwrap_err();
    assert!(
        matches!(
            t,
            Trap::HelperError {
                pc: 2,
                helper: 132,
                ..
            }
        ),
        "{t}"
    );
    let rogue = format!(
        "lddw %r1, {:#x}\nmov %r2, 0\ncall 133\nexit",
        id.addr() + 64
    );
    let t = one(&mut rt, &rogue).unwrap_err();
    assert!(
        matches!(
            t,
            Trap::HelperError {
                pc: 3,
                helper: 133,
                ..
            }
        ),
        "{t}"
    );
    // A ring buffer holds back records after one still reserved.
    let hold = "lddw %r1, map_idx 0\nmov %r2, 4\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit";
    assert_eq!(one(&mut rt, hold), Ok(0));
    assert_eq!(one(&mut rt, output), Ok(0));
    assert!(rt.maps_mut().ringbuf_drain(id).unwrap().is_empty());
}

#[test]
fn trace_printk() {
    let mut rt = rt();
    // "v=%d %x\n\0" at r10-16.
    let fmt = b"v=%d %x\n\0\0\0\0\0\0\0\0";
    let lo = u64::from_le_bytes(fmt[..8].try_into().unwrap());
    let hi = u64::from_le_bytes(fmt[8..].try_into().unwrap());
    let text = format!(
        "lddw %r1, {lo:#x}\nstxdw [%r10-16], %r1\nlddw %r1, {hi:#x}\nstxdw [%r10-8], %r1\n\
         mov %r1, %r10\nadd %r1, -16\nmov %r2, 9\nmov %r3, -5\nmov %r4, 255\ncall 6\nexit"
    );
    assert_eq!(one(&mut rt, &text), Ok(8));
    assert_eq!(rt.trace(), ["v=-5 ff\n"]);
    // Not NUL-terminated within the size: -EINVAL, nothing printed.
    let text = text.replace("mov %r2, 9", "mov %r2, 8");
    assert_eq!(one(&mut rt, &text), Ok(EINVAL));
    assert_eq!(rt.take_trace(), vec!["v=-5 ff\n".to_string()]);
    assert!(rt.trace().is_empty());
}

#[test]
fn time_random_cpu() {
    let p = "call 5\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit";
    let mut rt = Runtime::with_config(Config {
        clock: Clock::Fixed {
            start: 100,
            step: 7,
        },
        ..Config::default()
    });
    assert_eq!(one(&mut rt, p), Ok(7));
    assert_eq!(one(&mut rt, "call 5\nexit"), Ok(114));
    let p = "call 7\nmov %r6, %r0\ncall 7\nlsh %r0, 32\nor %r0, %r6\nexit";
    let a = one(&mut common::rt(), p).unwrap();
    let b = one(&mut common::rt(), p).unwrap();
    assert_eq!(a, b);
    assert_ne!(a as u32, (a >> 32) as u32);
    let mut other = Runtime::with_config(Config {
        prng_seed: 1,
        ..Config::deterministic()
    });
    assert_ne!(one(&mut other, p).unwrap(), a);
    assert_eq!(one(&mut common::rt(), "mov %r0, 9\ncall 8\nexit"), Ok(0));
}

#[test]
fn helper_misuse_traps() {
    let (mut rt, _) = map(MapType::ARRAY, 4, 8, 1);
    // Not a map handle.
    let t = one(&mut rt, "mov %r1, %r10\ncall 1\nexit").unwrap_err();
    assert_eq!(
        t,
        Trap::HelperError {
            pc: 1,
            helper: 1,
            message: format!("{:#x} is not a map", ebpf_runtime::layout::frame_pointer(0)),
        }
    );
    // A key pointer outside memory.
    let t = one(&mut rt, "lddw %r1, map_idx 0\nmov %r2, 0\ncall 1\nexit").unwrap_err();
    assert!(
        matches!(
            t,
            Trap::OutOfBounds {
                pc: 3,
                addr: 0,
                size: 4,
                ..
            }
        ),
        "{t}"
    );
    // Tail call through a map that is not a prog array.
    let t = one(&mut rt, "lddw %r2, map_idx 0\nmov %r3, 0\ncall 12\nexit").unwrap_err();
    assert!(
        matches!(
            t,
            Trap::HelperError {
                pc: 3,
                helper: 12,
                ..
            }
        ),
        "{t}"
    );
}
