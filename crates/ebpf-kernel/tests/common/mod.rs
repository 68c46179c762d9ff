//! What the tests that ask the kernel about `ebpf-progen` programs share.

use ebpf_isa::RawInsn;
use ebpf_kernel::{Kernel, LogLevel, MapCreate, MapFd, MapType, ProgLoad, ProgType};
use ebpf_progen::{GenProgType, Generated};

/// The kernel's program type for a generated program.
pub(crate) fn kernel_type(g: &Generated) -> ProgType {
    match g.prog_type {
        GenProgType::SocketFilter => ProgType::SOCKET_FILTER,
        GenProgType::Xdp => ProgType::XDP,
    }
}

/// Load `g` as a loader would (its maps created, `map[idx:N]` patched to
/// their fds): the kernel's `processed N insns` when it accepts, its error
/// line when it refuses.
pub(crate) fn kernel_verdict(k: &Kernel, g: &Generated) -> Result<u64, String> {
    let maps: Vec<MapFd> = g
        .maps
        .iter()
        .map(|m| {
            k.map_create(MapCreate {
                map_type: MapType(m.map_type),
                key_size: m.key_size,
                value_size: m.value_size,
                max_entries: m.max_entries,
                ..MapCreate::default()
            })
            .expect("map_create")
        })
        .collect();
    let mut raw: Vec<RawInsn> = g.program.to_raw();
    for s in &mut raw {
        if s.code == 0x18 && s.src == 5 {
            let idx = usize::try_from(s.imm).expect("map index");
            s.src = 1;
            s.imm = maps[idx].imm();
        }
    }
    k.prog_load(ProgLoad {
        prog_type: kernel_type(g),
        insns: &raw,
        log_level: LogLevel::LEVEL1,
        ..ProgLoad::default()
    })
    .map(|p| p.log().stats().map_or(0, |s| s.insns_processed))
    .map_err(|e| e.error_line().unwrap_or("(no error line)").to_owned())
}
