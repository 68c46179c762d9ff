//! The committed platform table (`crates/ebpf-verifier/src/platform/
//! linux-6.18.txt`, which `ebpf-verifier` embeds) against the running
//! kernel: a sample of its probes is run again — every helper for XDP and
//! socket filters, a few helpers for every other type, every context
//! offset of `struct xdp_md` and of the first 64 bytes of the other
//! contexts — and each answer must be the table's. A different kernel
//! shows up here as a failure listing the disagreements; regenerate with
//! `cargo run -p ebpf-kernel --bin probe_platform -- --write` (as root)
//! and review the diff.
//!
//! The probing code is the `probe_platform` binary's, included as a
//! module. Gated on `probe_or_skip` like the other tests here.

#[allow(dead_code)]
#[path = "../src/bin/probe_platform.rs"]
mod probe;

use ebpf_kernel::{ProgType, probe_or_skip};

const COMMITTED: &str = include_str!("../../ebpf-verifier/src/platform/linux-6.18.txt");

fn committed() -> (String, probe::Table) {
    match probe::parse(COMMITTED) {
        Ok(t) => t,
        Err(e) => panic!("linux-6.18.txt does not parse: {e}"),
    }
}

/// The table's answer for one helper: `no` when it is not listed.
fn table_helper(t: &probe::Table, prog_type: ProgType, id: i32) -> probe::HelperFact {
    t.helpers
        .get(&(probe::type_name(prog_type), id))
        .copied()
        .unwrap_or(probe::HelperFact {
            verdict: probe::HelperVerdict::Unavailable,
            gpl_only: false,
        })
}

fn table_ctx(t: &probe::Table, prog_type: ProgType, write: bool, off: i16, size: u8) -> bool {
    t.ctx
        .get(&(probe::type_name(prog_type), write, size))
        .is_some_and(|offs| offs.contains(&off))
}

/// Disagreements fail the test on the kernel build the table was probed
/// on; another build (same release, other configuration: this machine's
/// kernel has changed under us once, `bpf_xdp_adjust_meta` went missing
/// from XDP) gets them printed as a visible note instead.
fn fail_if_any(what: &str, release: &str, probed_on: &str, mismatches: &[String]) {
    if release != probed_on && release.starts_with("6.18") {
        if !mismatches.is_empty() {
            eprintln!(
                "platform_tables: NOTE: this kernel ({release}) is not the build linux-6.18.txt                  was probed on ({probed_on}); {} {what} facts differ:\n{}",
                mismatches.len(),
                mismatches.join("\n")
            );
        }
        return;
    }
    assert!(
        mismatches.is_empty(),
        "the kernel ({release}) disagrees with linux-6.18.txt (probed on {probed_on}) about \
         {what} in {} cases:\n{}\nregenerate with `cargo run -p ebpf-kernel --bin probe_platform \
         -- --write` and review the diff",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn committed_table_parses_and_round_trips() {
    let (release, table) = committed();
    assert!(release.starts_with("6.18"), "{release}");
    assert_eq!(table.limits.len(), probe::PROBED.len());
    // Rendering the parsed table gives the committed text back.
    assert_eq!(probe::render(&release, &table), COMMITTED);
}

#[test]
fn helpers_agree_with_the_kernel() {
    let Some(k) = probe_or_skip("helpers_agree_with_the_kernel") else {
        return;
    };
    let (probed_on, table) = committed();
    let mut mismatches = Vec::new();
    let mut check = |prog_type: ProgType, id: i32| {
        let kernel = probe::probe_helper(&k, prog_type, id);
        let ours = table_helper(&table, prog_type, id);
        if kernel != ours {
            mismatches.push(format!(
                "helper {} {id} ({}): kernel {kernel:?}, table {ours:?}",
                probe::type_name(prog_type),
                ebpf_isa::helper_name(id).unwrap_or("?")
            ));
        }
    };
    for prog_type in [ProgType::XDP, ProgType::SOCKET_FILTER] {
        for id in 1..=probe::MAX_HELPER_ID {
            check(prog_type, id);
        }
    }
    for &(prog_type, _) in probe::PROBED {
        if prog_type == ProgType::XDP || prog_type == ProgType::SOCKET_FILTER {
            continue;
        }
        for id in [1, 6, 12, 23, 25, 26, 27, 35, 131, 148, 173, 191] {
            check(prog_type, id);
        }
    }
    fail_if_any("helpers", k.release(), &probed_on, &mismatches);
}

#[test]
fn context_accesses_agree_with_the_kernel() {
    let Some(k) = probe_or_skip("context_accesses_agree_with_the_kernel") else {
        return;
    };
    let (probed_on, table) = committed();
    let mut mismatches = Vec::new();
    for &(prog_type, limit) in probe::PROBED {
        let end = if prog_type == ProgType::XDP {
            limit
        } else {
            limit.min(64)
        };
        for write in [false, true] {
            for size in [1u8, 2, 4, 8] {
                for off in 0..end {
                    let kernel = probe::probe_ctx(&k, prog_type, write, off, size);
                    let ours = table_ctx(&table, prog_type, write, off, size);
                    if kernel.is_ok() != ours {
                        mismatches.push(format!(
                            "ctx {} {} off={off} size={size}: kernel {kernel:?}, table {}",
                            probe::type_name(prog_type),
                            if write { "write" } else { "read" },
                            if ours { "ok" } else { "refused" }
                        ));
                    }
                }
            }
        }
    }
    fail_if_any("context accesses", k.release(), &probed_on, &mismatches);
}
