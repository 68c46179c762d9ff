//! What does the running kernel support? Program types, map types,
//! instruction-set extensions, and the fixed cost of `BPF_PROG_TEST_RUN`.
//!
//! ```text
//! cargo run -p ebpf-kernel --example probe
//! ```

use std::os::fd::AsFd;

use ebpf_isa::asm::assemble;
use ebpf_kernel::{
    AttachType, Kernel, LogLevel, MapCreate, MapFlags, MapType, ProgFlags, ProgLoad, ProgType,
};

fn main() {
    let kernel = match Kernel::probe() {
        Ok(k) => k,
        Err(reason) => {
            println!("bpf() unavailable: {reason}");
            return;
        }
    };
    println!(
        "kernel {}: bpf() works, privileged program types load",
        kernel.release()
    );

    println!("\nprogram types (loading `r0 = 0; exit`):");
    for &prog_type in ProgType::ALL {
        if prog_type == ProgType::UNSPEC {
            continue;
        }
        println!(
            "  {:<40} {}",
            prog_type.to_string(),
            prog_support(&kernel, prog_type)
        );
    }

    println!("\nmap types:");
    for &map_type in MapType::ALL {
        if map_type == MapType::UNSPEC {
            continue;
        }
        println!(
            "  {:<40} {}",
            map_type.to_string(),
            map_support(&kernel, map_type)
        );
    }

    println!("\ninstruction set (as an XDP program):");
    for (what, src) in ISA_PROBES {
        println!("  {what:<40} {}", isa_support(&kernel, src));
    }

    println!("\nBPF_PROG_TEST_RUN fixed cost (empty XDP program, 64-byte packet):");
    for repeat in [1, 1000, 100_000] {
        match kernel.test_run_overhead(repeat, 10) {
            Ok(o) => println!(
                "  repeat {repeat:>6}: kernel {:>4} ns/run; wall {:>10.0} ns/call = {:>8.1} ns/run",
                o.kernel_ns_per_run, o.wall_ns_per_call, o.wall_ns_per_run
            ),
            Err(e) => println!("  repeat {repeat}: {e}"),
        }
    }
}

/// Program types that need an `expected_attach_type` to load at all.
fn attach_type_for(prog_type: ProgType) -> AttachType {
    match prog_type {
        ProgType::CGROUP_SOCK => AttachType::CGROUP_INET_SOCK_CREATE,
        ProgType::CGROUP_SOCK_ADDR => AttachType::CGROUP_INET4_CONNECT,
        ProgType::CGROUP_SOCKOPT => AttachType::CGROUP_GETSOCKOPT,
        ProgType::SK_LOOKUP => AttachType::SK_LOOKUP,
        ProgType::NETFILTER => AttachType::NETFILTER,
        ProgType::SK_REUSEPORT => AttachType::SK_REUSEPORT_SELECT,
        _ => AttachType::default(),
    }
}

fn prog_support(kernel: &Kernel, prog_type: ProgType) -> String {
    if matches!(
        prog_type,
        ProgType::TRACING | ProgType::STRUCT_OPS | ProgType::EXT | ProgType::LSM
    ) {
        return "not probed (needs a BTF attach target)".to_string();
    }
    let insns = [
        ebpf_isa::RawInsn::new(0xb7, 0, 0, 0, 0),
        ebpf_isa::RawInsn::new(0x95, 0, 0, 0, 0),
    ];
    let load = ProgLoad {
        prog_type,
        expected_attach_type: attach_type_for(prog_type),
        insns: &insns,
        log_level: LogLevel::LEVEL1,
        // Syscall programs must say they may sleep.
        prog_flags: if prog_type == ProgType::SYSCALL {
            ProgFlags::SLEEPABLE
        } else {
            ProgFlags::NONE
        },
        ..ProgLoad::default()
    };
    match kernel.prog_load(load) {
        Ok(_) => "yes".to_string(),
        Err(e) => format!(
            "no: {} {}",
            e.errno()
                .map_or_else(|| "-".to_string(), |n| format!("{n:?}")),
            e.error_line()
                .unwrap_or("(no verifier log: type not built into this kernel?)")
        ),
    }
}

fn map_support(kernel: &Kernel, map_type: MapType) -> String {
    let plain = MapCreate {
        map_type,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
        ..MapCreate::default()
    };
    let create = match map_type {
        MapType::PROG_ARRAY
        | MapType::PERF_EVENT_ARRAY
        | MapType::CGROUP_ARRAY
        | MapType::DEVMAP
        | MapType::DEVMAP_HASH
        | MapType::SOCKMAP
        | MapType::SOCKHASH
        | MapType::CPUMAP
        | MapType::XSKMAP
        | MapType::REUSEPORT_SOCKARRAY => MapCreate {
            value_size: 4,
            ..plain
        },
        MapType::LPM_TRIE => MapCreate {
            key_size: 8,
            map_flags: MapFlags::NO_PREALLOC,
            ..plain
        },
        MapType::CGROUP_STORAGE | MapType::PERCPU_CGROUP_STORAGE => MapCreate {
            key_size: 8,
            max_entries: 0,
            ..plain
        },
        MapType::QUEUE | MapType::STACK | MapType::BLOOM_FILTER => MapCreate {
            key_size: 0,
            value_size: 4,
            ..plain
        },
        MapType::RINGBUF | MapType::USER_RINGBUF => MapCreate {
            key_size: 0,
            value_size: 0,
            max_entries: 4096,
            ..plain
        },
        MapType::ARENA => MapCreate {
            key_size: 0,
            value_size: 0,
            max_entries: 1,
            map_flags: MapFlags::MMAPABLE,
            ..plain
        },
        MapType::SK_STORAGE
        | MapType::INODE_STORAGE
        | MapType::TASK_STORAGE
        | MapType::CGRP_STORAGE
        | MapType::STRUCT_OPS => return "not probed (needs BTF)".to_string(),
        _ => plain,
    };
    let result = if matches!(map_type, MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS) {
        let inner = kernel.map_create(MapCreate {
            map_type: MapType::ARRAY,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            ..MapCreate::default()
        });
        match inner {
            Ok(inner) => kernel.map_create(MapCreate {
                value_size: 4,
                inner_map_fd: Some(inner.as_fd()),
                ..create
            }),
            Err(e) => Err(e),
        }
    } else {
        kernel.map_create(create)
    };
    match result {
        Ok(_) => "yes".to_string(),
        Err(e) => format!("no: {e}"),
    }
}

const ISA_PROBES: &[(&str, &str)] = &[
    ("v1 (base)", "r0 = 0\nexit"),
    (
        "v2 (jlt, jle, jslt, jsle)",
        "r0 = 0\nif r0 < 1 goto +0\nexit",
    ),
    ("v3 (jmp32)", "w0 = 0\nif w0 < 1 goto +0\nexit"),
    (
        "v4 (sdiv/smod, movsx, bswap, gotol)",
        "r0 = 7\nr0 s/= 2\nr0 s%= 2\nr1 = (s8)r0\nr1 = bswap32 r1\ngotol +0\nexit",
    ),
    (
        "v4 (ldsx)",
        "r0 = -1\n*(u64 *)(r10 -8) = r0\nr0 = *(s8 *)(r10 -8)\nexit",
    ),
    ("may_goto", "r0 = 0\nmay_goto +0\nexit"),
    (
        "load_acquire / store_release",
        "r0 = 0\n*(u64 *)(r10 -8) = r0\nr0 = load_acquire((u64 *)(r10 -8))\n\
         store_release((u64 *)(r10 -8), r0)\nexit",
    ),
];

fn isa_support(kernel: &Kernel, src: &str) -> String {
    let insns = match assemble(src) {
        Ok(p) => p.to_raw(),
        Err(e) => return format!("cannot assemble: {e}"),
    };
    match kernel.prog_load(ProgLoad {
        prog_type: ProgType::XDP,
        insns: &insns,
        ..ProgLoad::default()
    }) {
        Ok(_) => "yes".to_string(),
        Err(e) => format!("no: {e}"),
    }
}
