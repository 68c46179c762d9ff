//! Integration tests against the running kernel. Each test calls
//! `probe_or_skip`, which prints `SKIP: <test>: <reason>` and returns when
//! `bpf()` is unavailable (set `EBPF_KERNEL_REQUIRED=1` to make that a
//! failure instead).

use ebpf_isa::RawInsn;
use ebpf_isa::asm::assemble;
use ebpf_kernel::{
    Cmd, Errno, Error, Kernel, LoadFailure, LogLevel, MapCreate, MapType, ProgLoad, ProgType,
    TestRun, UpdateFlags, XdpAction, probe_or_skip,
};

fn asm(src: &str) -> Vec<RawInsn> {
    match assemble(src) {
        Ok(p) => p.to_raw(),
        Err(e) => panic!("test program does not assemble: {e}\n{src}"),
    }
}

fn kernel(test: &str) -> Option<Kernel> {
    probe_or_skip(test)
}

fn load_xdp(
    k: &Kernel,
    src: &str,
    log_level: LogLevel,
) -> Result<ebpf_kernel::LoadedProg, LoadFailure> {
    let insns = asm(src);
    k.prog_load(ProgLoad {
        prog_type: ProgType::XDP,
        insns: &insns,
        log_level,
        ..ProgLoad::default()
    })
}

/// A 64-byte packet with distinct bytes.
fn packet() -> Vec<u8> {
    (0u8..64).collect()
}

#[test]
fn probe_succeeds() {
    let Some(k) = kernel("probe_succeeds") else {
        return;
    };
    assert!(!k.release().is_empty());
    let (major, _minor) = k.version().expect("release has a version");
    assert!(major >= 5, "release {}", k.release());
}

#[test]
fn xdp_pass_runs_and_returns_packet() {
    let Some(k) = kernel("xdp_pass_runs_and_returns_packet") else {
        return;
    };
    let prog = load_xdp(&k, "r0 = 2\nexit", LogLevel::LEVEL1).expect("loads");
    let data = packet();
    let run = k
        .prog_test_run(
            &prog,
            TestRun {
                data_in: &data,
                data_out_capacity: 256,
                ..TestRun::default()
            },
        )
        .expect("runs");
    assert_eq!(run.retval, XdpAction::PASS.0);
    assert_eq!(run.data_out, data);
    assert!(run.ctx_out.is_empty());
}

#[test]
fn xdp_returns_packet_length() {
    let Some(k) = kernel("xdp_returns_packet_length") else {
        return;
    };
    // r0 = data_end - data (pointer subtraction: privileged only).
    let prog = load_xdp(
        &k,
        "r2 = *(u32 *)(r1 +4)
         r1 = *(u32 *)(r1 +0)
         r0 = r2
         r0 -= r1
         exit",
        LogLevel::LEVEL1,
    )
    .expect("loads");
    for len in [14usize, 64, 100, 1500] {
        let data = vec![0xabu8; len];
        let run = k
            .prog_test_run(
                &prog,
                TestRun {
                    data_in: &data,
                    repeat: 3,
                    ..TestRun::default()
                },
            )
            .expect("runs");
        assert_eq!(run.retval as usize, len);
    }
}

#[test]
fn xdp_ctx_in_and_out() {
    let Some(k) = kernel("xdp_ctx_in_and_out") else {
        return;
    };
    // r0 = ctx->ingress_ifindex (struct xdp_md: data, data_end, data_meta,
    // ingress_ifindex, rx_queue_index, egress_ifindex).
    let prog = load_xdp(&k, "r0 = *(u32 *)(r1 +12)\nexit", LogLevel::LEVEL1).expect("loads");
    let data = packet();
    let md: Vec<u8> = [0u32, 64, 0, 1, 0, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let run = k
        .prog_test_run(
            &prog,
            TestRun {
                data_in: &data,
                ctx_in: &md,
                ctx_out_capacity: 64,
                ..TestRun::default()
            },
        )
        .expect("runs");
    assert_eq!(run.retval, 1, "loopback's ifindex");
    assert_eq!(run.ctx_out, md);
    // egress_ifindex is output only.
    let bad: Vec<u8> = [0u32, 64, 0, 1, 0, 1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let err = k
        .prog_test_run(
            &prog,
            TestRun {
                data_in: &data,
                ctx_in: &bad,
                ..TestRun::default()
            },
        )
        .expect_err("rejected");
    assert_eq!(
        err,
        Error::Syscall {
            cmd: Cmd::PROG_TEST_RUN,
            errno: Errno::EINVAL
        }
    );
}

#[test]
fn socket_filter_reads_skb_len() {
    let Some(k) = kernel("socket_filter_reads_skb_len") else {
        return;
    };
    // __sk_buff.len is at offset 0; the test run has already pulled the
    // 14-byte Ethernet header (eth_type_trans), as a socket would see it.
    let insns = asm("r0 = *(u32 *)(r1 +0)\nexit");
    let prog = k
        .prog_load(ProgLoad {
            prog_type: ProgType::SOCKET_FILTER,
            insns: &insns,
            ..ProgLoad::default()
        })
        .expect("loads");
    let data = packet();
    let run = k
        .prog_test_run(
            &prog,
            TestRun {
                data_in: &data,
                ..TestRun::default()
            },
        )
        .expect("runs");
    assert_eq!(run.retval, 64 - 14);
}

#[test]
fn rejects_r0_not_set() {
    let Some(k) = kernel("rejects_r0_not_set") else {
        return;
    };
    let err = load_xdp(&k, "exit", LogLevel::LEVEL1).expect_err("rejected");
    assert_eq!(err.errno(), Some(Errno::EACCES));
    assert_eq!(err.error_line(), Some("R0 !read_ok"));
    let log = err.log().expect("has a log");
    assert!(log.text().contains("0: (95) exit"), "{log}");
    assert_eq!(log.stats().map(|s| s.insns_processed), Some(1));
}

#[test]
fn rejects_uninit_r2() {
    let Some(k) = kernel("rejects_uninit_r2") else {
        return;
    };
    let err = load_xdp(&k, "r0 = r2\nexit", LogLevel::LEVEL1).expect_err("rejected");
    assert_eq!(err.errno(), Some(Errno::EACCES));
    assert_eq!(err.error_line(), Some("R2 !read_ok"));
    assert!(err.to_string().contains("EACCES"), "{err}");
    assert!(err.to_string().contains("R2 !read_ok"), "{err}");
}

#[test]
fn error_line_is_last_of_a_two_line_message() {
    let Some(k) = kernel("error_line_is_last_of_a_two_line_message") else {
        return;
    };
    // Packet read without a bounds check: the kernel prints the access and
    // then the reason; tools report the reason.
    let err = load_xdp(
        &k,
        "r1 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r1 +0)\nexit",
        LogLevel::LEVEL1,
    )
    .expect_err("rejected");
    assert_eq!(err.errno(), Some(Errno::EACCES));
    assert_eq!(err.error_line(), Some("R1 offset is outside of the packet"));
    let log = err.log().expect("has a log");
    assert!(
        log.text()
            .contains("invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0)"),
        "{log}"
    );
}

#[test]
fn einval_from_cfg_check() {
    let Some(k) = kernel("einval_from_cfg_check") else {
        return;
    };
    let err =
        load_xdp(&k, "r0 = 0\ngoto +1\nr0 = 1\nexit", LogLevel::LEVEL1).expect_err("rejected");
    assert_eq!(err.errno(), Some(Errno::EINVAL));
    assert_eq!(err.error_line(), Some("unreachable insn 2"));
    assert_eq!(
        err.log().and_then(|l| l.stats()).map(|s| s.insns_processed),
        Some(0)
    );
}

#[test]
fn log_level_zero_failure_still_has_log() {
    let Some(k) = kernel("log_level_zero_failure_still_has_log") else {
        return;
    };
    let err = load_xdp(&k, "exit", LogLevel::NONE).expect_err("rejected");
    assert_eq!(err.error_line(), Some("R0 !read_ok"));
    // And a successful level-0 load has no log.
    let prog = load_xdp(&k, "r0 = 0\nexit", LogLevel::NONE).expect("loads");
    assert!(prog.log().is_empty());
}

#[test]
fn level2_logs_every_instruction() {
    let Some(k) = kernel("level2_logs_every_instruction") else {
        return;
    };
    let prog = load_xdp(&k, "r0 = 2\nr1 = 3\nexit", LogLevel::LEVEL2).expect("loads");
    let log = prog.log();
    for line in [
        "0: R1=ctx() R10=fp0",
        "0: (b7) r0 = 2",
        "1: (b7) r1 = 3",
        "2: (95) exit",
    ] {
        assert!(
            log.lines().any(|l| l.trim_end().starts_with(line)),
            "missing {line:?} in\n{log}"
        );
    }
    // Level 1 on success prints only the stats line.
    let prog = load_xdp(&k, "r0 = 2\nr1 = 3\nexit", LogLevel::LEVEL1).expect("loads");
    assert_eq!(prog.log().lines().count(), 1, "{}", prog.log());
    assert!(prog.log().error_line().is_none());
}

#[test]
fn stats_parsed_from_real_log() {
    let Some(k) = kernel("stats_parsed_from_real_log") else {
        return;
    };
    // Two paths through a branch, a stack slot: states and stack depth.
    let src = "r0 = 0
               *(u64 *)(r10 -16) = r0
               r2 = *(u32 *)(r1 +4)
               r1 = *(u32 *)(r1 +0)
               if r1 > r2 goto out
               r0 = 1
               out:
               exit";
    let prog = load_xdp(&k, src, LogLevel::LEVEL1 | LogLevel::STATS).expect("loads");
    let stats = prog.log().stats().expect("stats line");
    assert_eq!(stats.insn_limit, 1_000_000);
    assert!(stats.insns_processed >= 7, "{stats:?}");
    assert!(stats.max_states_per_insn.is_some(), "{stats:?}");
    assert!(stats.total_states.is_some(), "{stats:?}");
    assert!(stats.peak_states.is_some(), "{stats:?}");
    assert!(stats.verification_time_usec.is_some(), "{}", prog.log());
    assert_eq!(stats.stack_depth, vec![16], "{}", prog.log());
    // The kernel's own count agrees with the log.
    let info = k.prog_get_info(&prog).expect("info");
    assert_eq!(u64::from(info.verified_insns), stats.insns_processed);
    // Without STATS: no time, no stack depth.
    let prog = load_xdp(&k, src, LogLevel::LEVEL1).expect("loads");
    let stats = prog.log().stats().expect("stats line");
    assert_eq!(stats.verification_time_usec, None);
    assert!(stats.stack_depth.is_empty());
}

#[test]
fn stack_depth_per_subprogram() {
    let Some(k) = kernel("stack_depth_per_subprogram") else {
        return;
    };
    let src = "r1 = 0
               *(u64 *)(r10 -8) = r1
               call f
               exit
               f:
               r1 = 0
               *(u64 *)(r10 -24) = r1
               r0 = 0
               exit";
    let prog = load_xdp(&k, src, LogLevel::LEVEL1 | LogLevel::STATS).expect("loads");
    let stats = prog.log().stats().expect("stats line");
    assert_eq!(stats.stack_depth, vec![8, 24], "{}", prog.log());
}

#[test]
fn small_log_buffer_grows() {
    let Some(k) = kernel("small_log_buffer_grows") else {
        return;
    };
    let mut src = String::new();
    for i in 0..300 {
        src.push_str(&format!("r{} = {i}\n", i % 9 + 1));
    }
    src.push_str("r0 = 0\nexit\n");
    let insns = asm(&src);
    for level in [LogLevel::LEVEL2, LogLevel::LEVEL2 | LogLevel::FIXED] {
        let prog = k
            .prog_load(ProgLoad {
                prog_type: ProgType::XDP,
                insns: &insns,
                log_level: level,
                log_size: 128,
                ..ProgLoad::default()
            })
            .expect("loads");
        let log = prog.log();
        assert!(!log.is_truncated());
        assert!(log.text().len() > 4096, "{}", log.text().len());
        assert!(log.text().contains("0: (b7) r1 = 0"), "head kept");
        assert_eq!(
            log.stats().map(|s| s.insns_processed),
            Some(302),
            "tail kept"
        );
    }
}

#[test]
fn bad_arguments() {
    let Some(k) = kernel("bad_arguments") else {
        return;
    };
    let insns = asm("r0 = 0\nexit");
    let err = k
        .prog_load(ProgLoad {
            prog_type: ProgType::XDP,
            insns: &insns,
            prog_name: "a_name_that_is_too_long",
            ..ProgLoad::default()
        })
        .expect_err("rejected");
    assert!(
        matches!(
            err,
            LoadFailure::BadArgument {
                what: "prog_name",
                ..
            }
        ),
        "{err:?}"
    );
    let err = k
        .prog_load(ProgLoad {
            prog_type: ProgType::XDP,
            insns: &insns,
            license: "GPL\0",
            ..ProgLoad::default()
        })
        .expect_err("rejected");
    assert!(
        matches!(
            err,
            LoadFailure::BadArgument {
                what: "license",
                ..
            }
        ),
        "{err:?}"
    );
    // Characters the kernel refuses in a name: its EINVAL, no verifier log.
    let err = k
        .prog_load(ProgLoad {
            prog_type: ProgType::XDP,
            insns: &insns,
            prog_name: "bad-name",
            ..ProgLoad::default()
        })
        .expect_err("rejected");
    assert_eq!(err.errno(), Some(Errno::EINVAL));
    // An empty program: the kernel checks insn_cnt before anything else.
    let err = k
        .prog_load(ProgLoad {
            prog_type: ProgType::XDP,
            ..ProgLoad::default()
        })
        .expect_err("rejected");
    assert_eq!(err.errno(), Some(Errno::E2BIG));
    assert!(err.log().is_some_and(|l| l.is_empty()));
}

#[test]
fn hash_map_update_lookup_delete() {
    let Some(k) = kernel("hash_map_update_lookup_delete") else {
        return;
    };
    let map = k
        .map_create(MapCreate {
            map_type: MapType::HASH,
            key_size: 4,
            value_size: 8,
            max_entries: 4,
            name: "test_hash",
            ..MapCreate::default()
        })
        .expect("created");
    assert_eq!(map.map_type(), MapType::HASH);
    assert_eq!(
        (map.key_size(), map.value_size(), map.max_entries()),
        (4, 8, 4)
    );
    assert_eq!(map.value_len(), 8);
    assert!(map.id() > 0);

    let key = 7u32.to_le_bytes();
    assert_eq!(k.map_lookup(&map, &key), Ok(None));
    k.map_update(&map, &key, &42u64.to_le_bytes(), UpdateFlags::ANY)
        .expect("updated");
    assert_eq!(
        k.map_lookup(&map, &key),
        Ok(Some(42u64.to_le_bytes().to_vec()))
    );
    assert_eq!(
        k.map_update(&map, &key, &1u64.to_le_bytes(), UpdateFlags::NOEXIST),
        Err(Error::Syscall {
            cmd: Cmd::MAP_UPDATE_ELEM,
            errno: Errno::EEXIST
        })
    );
    assert_eq!(
        k.map_lookup(&map, &[0; 3]),
        Err(Error::KeySize {
            expected: 4,
            got: 3
        })
    );
    assert_eq!(
        k.map_update(&map, &key, &[0; 4], UpdateFlags::ANY),
        Err(Error::ValueSize {
            expected: 8,
            got: 4
        })
    );
    assert_eq!(k.map_delete(&map, &key), Ok(true));
    assert_eq!(k.map_delete(&map, &key), Ok(false));
    assert_eq!(k.map_lookup(&map, &key), Ok(None));
}

#[test]
fn map_create_errors() {
    let Some(k) = kernel("map_create_errors") else {
        return;
    };
    let err = k
        .map_create(MapCreate {
            map_type: MapType::ARRAY,
            key_size: 8, // arrays need 4-byte keys
            value_size: 4,
            max_entries: 1,
            ..MapCreate::default()
        })
        .expect_err("rejected");
    assert_eq!(
        err,
        Error::Syscall {
            cmd: Cmd::MAP_CREATE,
            errno: Errno::EINVAL
        }
    );
    let err = k
        .map_create(MapCreate {
            map_type: MapType::ARRAY,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            name: "name_far_too_long_for_the_kernel",
            ..MapCreate::default()
        })
        .expect_err("rejected");
    assert!(matches!(err, Error::BadName { .. }), "{err:?}");
}

#[test]
fn per_cpu_array_values() {
    let Some(k) = kernel("per_cpu_array_values") else {
        return;
    };
    let map = k
        .map_create(MapCreate {
            map_type: MapType::PERCPU_ARRAY,
            key_size: 4,
            value_size: 4,
            max_entries: 2,
            ..MapCreate::default()
        })
        .expect("created");
    // One 8-byte slot per possible CPU.
    assert!(
        map.value_len() >= 8 && map.value_len() % 8 == 0,
        "{}",
        map.value_len()
    );
    let value: Vec<u8> = (0..map.value_len()).map(|i| (i % 251) as u8).collect();
    // The kernel copies whole 8-byte slots both ways, padding included.
    let key = 1u32.to_le_bytes();
    k.map_update(&map, &key, &value, UpdateFlags::ANY)
        .expect("updated");
    assert_eq!(k.map_lookup(&map, &key), Ok(Some(value)));
    let other = 0u32.to_le_bytes();
    assert_eq!(
        k.map_lookup(&map, &other),
        Ok(Some(vec![0; map.value_len()]))
    );
}

#[test]
fn program_reads_and_writes_a_map() {
    let Some(k) = kernel("program_reads_and_writes_a_map") else {
        return;
    };
    let map = k
        .map_create(MapCreate {
            map_type: MapType::ARRAY,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            ..MapCreate::default()
        })
        .expect("created");
    let key = 0u32.to_le_bytes();
    k.map_update(&map, &key, &40u64.to_le_bytes(), UpdateFlags::ANY)
        .expect("updated");
    // value += 1; return the old value.
    let src = format!(
        "r1 = 0
         *(u32 *)(r10 -4) = r1
         r2 = r10
         r2 += -4
         r1 = map[fd:{}]
         call bpf_map_lookup_elem#1
         if r0 == 0 goto miss
         r1 = *(u64 *)(r0 +0)
         r2 = r1
         r2 += 1
         *(u64 *)(r0 +0) = r2
         r0 = r1
         exit
         miss:
         r0 = 0
         exit",
        map.imm()
    );
    let prog = load_xdp(&k, &src, LogLevel::LEVEL1).expect("loads");
    let info = k.prog_get_info(&prog).expect("info");
    assert_eq!(info.nr_map_ids, 1);
    let data = packet();
    for expect in [40u32, 41, 42] {
        let run = k
            .prog_test_run(
                &prog,
                TestRun {
                    data_in: &data,
                    ..TestRun::default()
                },
            )
            .expect("runs");
        assert_eq!(run.retval, expect);
    }
    assert_eq!(
        k.map_lookup(&map, &key),
        Ok(Some(43u64.to_le_bytes().to_vec()))
    );
}

#[test]
fn fd_array_map_index() {
    let Some(k) = kernel("fd_array_map_index") else {
        return;
    };
    use std::os::fd::AsFd;
    let map = k
        .map_create(MapCreate {
            map_type: MapType::ARRAY,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            ..MapCreate::default()
        })
        .expect("created");
    k.map_update(
        &map,
        &0u32.to_le_bytes(),
        &9u32.to_le_bytes(),
        UpdateFlags::ANY,
    )
    .expect("updated");
    // map[idx:0][0]+0: the value's address through fd_array (BPF_PSEUDO_MAP_IDX_VALUE).
    let insns = asm("r1 = map[idx:0][0]+0\nr0 = *(u32 *)(r1 +0)\nexit");
    let fds = [map.as_fd()];
    let prog = k
        .prog_load(ProgLoad {
            prog_type: ProgType::XDP,
            insns: &insns,
            fd_array: &fds,
            ..ProgLoad::default()
        })
        .expect("loads");
    let data = packet();
    let run = k
        .prog_test_run(
            &prog,
            TestRun {
                data_in: &data,
                ..TestRun::default()
            },
        )
        .expect("runs");
    assert_eq!(run.retval, 9);
}

#[test]
fn prog_tag_and_info() {
    let Some(k) = kernel("prog_tag_and_info") else {
        return;
    };
    let insns = asm("r0 = 2\nexit");
    let load = |name| {
        k.prog_load(ProgLoad {
            prog_type: ProgType::XDP,
            insns: &insns,
            prog_name: name,
            ..ProgLoad::default()
        })
        .expect("loads")
    };
    let a = load("tag_a");
    let b = load("tag_b");
    let ia = k.prog_get_info(&a).expect("info");
    let ib = k.prog_get_info(&b).expect("info");
    assert_eq!(ia.prog_type, ProgType::XDP);
    assert_eq!(ia.name, "tag_a");
    assert_eq!(ia.verified_insns, 2);
    assert!(ia.gpl_compatible);
    assert_eq!(ia.xlated_prog_len, 16);
    assert_ne!(ia.id, ib.id);
    // The tag depends on the instructions only.
    assert_ne!(ia.tag, [0; 8]);
    assert_eq!(ia.tag, ib.tag);
    assert_eq!(ia.tag_hex().len(), 16);
    let other = load_xdp(&k, "r0 = 1\nexit", LogLevel::LEVEL1).expect("loads");
    assert_ne!(k.prog_get_info(&other).expect("info").tag, ia.tag);
    // Nothing to rewrite: the translated program is the program.
    assert_eq!(k.prog_xlated_insns(&a).expect("xlated"), insns);
}

#[test]
fn data_out_too_small() {
    let Some(k) = kernel("data_out_too_small") else {
        return;
    };
    let prog = load_xdp(&k, "r0 = 2\nexit", LogLevel::LEVEL1).expect("loads");
    let data = packet();
    let err = k
        .prog_test_run(
            &prog,
            TestRun {
                data_in: &data,
                data_out_capacity: 10,
                ..TestRun::default()
            },
        )
        .expect_err("too small");
    assert_eq!(
        err,
        Error::OutputTooSmall {
            what: "data_out",
            needed: 64,
            capacity: 10
        }
    );
    // XDP needs at least an Ethernet header.
    let err = k
        .prog_test_run(
            &prog,
            TestRun {
                data_in: &data[..10],
                ..TestRun::default()
            },
        )
        .expect_err("too short");
    assert_eq!(
        err,
        Error::Syscall {
            cmd: Cmd::PROG_TEST_RUN,
            errno: Errno::EINVAL
        }
    );
}

#[test]
fn test_run_overhead_is_measured() {
    let Some(k) = kernel("test_run_overhead_is_measured") else {
        return;
    };
    let o = k.test_run_overhead(1000, 3).expect("measured");
    println!(
        "BPF_PROG_TEST_RUN overhead, empty XDP, repeat 1000: {} ns/run (kernel), \
         {:.0} ns/call (wall)",
        o.kernel_ns_per_run, o.wall_ns_per_call
    );
    assert_eq!(o.repeat, 1000);
    assert!(o.wall_ns_per_call > 0.0);
    // The kernel's per-run time cannot exceed the whole call's.
    assert!(f64::from(o.kernel_ns_per_run) * 1000.0 <= o.wall_ns_per_call);
}
