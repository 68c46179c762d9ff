//! `ebpf-loader` against the running kernel: every program of every
//! committed loader fixture (`crates/ebpf-loader/fixtures/build/*.o`) is
//! loaded the way libbpf (`bpftool prog loadall`) would load it, and must
//! be accepted, with the kernel's tag equal to `ObjProgram::tag`.
//!
//! Loading like libbpf: the object's BTF (`Object::btf`) is loaded with
//! `BPF_BTF_LOAD`; each map the loader found is created with `map_create`
//! (global data maps get their initial bytes at key 0, a map-in-map gets a
//! template inner map from its `values` type, and slots the object fills
//! (`MapDef::init`) get the inner map's fd); `ld_imm64` map references by
//! index (`BPF_PSEUDO_MAP_IDX`/`_IDX_VALUE`) are patched into
//! `BPF_PSEUDO_MAP_FD`/`_VALUE` with the real fds; every program is loaded
//! with its `func_info` and `line_info` (which `bpf_loop` callbacks need),
//! the program type and expected attach type from the loader's section
//! mapping and the license from the object; program arrays then get the
//! fds of the programs the object names in them.
//!
//! `return_values_and_maps_match_the_interpreter` then runs the programs
//! whose result depends only on maps, globals and arithmetic (`COMPARED`:
//! array, hash, LRU, ring buffer, map-in-map and tail-call fixtures) with
//! `BPF_PROG_TEST_RUN` and in `ebpf-interp` (the object's whole program set,
//! maps created in an `ebpf-runtime` from the loader's map definitions and
//! filled the same way), several times in a row, and compares `r0` and the
//! array and hash maps after each run. The other fixture programs are
//! listed in `NOT_COMPARED` with the reason and print a SKIP line.
//!
//! `bpftool_loadall_reports_our_tags` loads each fixture with `bpftool
//! prog loadall` (libbpf, with BTF and `.BTF.ext`) and checks the tags it
//! shows are ours too, which checks our subprogram layout against
//! libbpf's. It needs `bpftool` and `unshare` (it mounts a bpffs in a
//! private mount namespace) and prints a SKIP line without them; libbpf
//! 1.0+ refuses the legacy `maps` fixture.
//!
//! Each test calls `probe_or_skip`, which prints `SKIP: <test>: <reason>`
//! and returns when `bpf()` is unavailable (`EBPF_KERNEL_REQUIRED=1` makes
//! that a failure).

use std::io::Write;
use std::path::{Path, PathBuf};

use ebpf_isa::RawInsn;
use std::os::fd::{AsFd, AsRawFd};

use ebpf_kernel::{
    AttachType, BpfFuncInfo, BpfLineInfo, BtfFd, Kernel, LoadFailure, LoadedProg, LogLevel,
    MapCreate, MapFd, MapFlags, MapType, ProgLoad, ProgType, UpdateFlags, probe_or_skip,
};
use ebpf_loader::{MapDef, MapInit, ObjProgram, Object, TagHash, prog_tag, tag_hex};
use ebpf_runtime::ctx::{CtxKind, CtxSpec, convert_ctx_access};

/// Writes past libtest's capture, like `probe_or_skip`'s SKIP line.
fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-loader/fixtures/build")
}

/// Every fixture object, parsed with libbpf's object name (file name up to
/// its first `.`), sorted by file name.
fn fixtures() -> Vec<(String, Object)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("loader fixtures exist")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no loader fixtures");
    paths
        .iter()
        .map(|p| {
            let file = p.file_name().and_then(|f| f.to_str()).expect("utf-8 name");
            let name = file.split('.').next().unwrap_or_default();
            let bytes = std::fs::read(p).expect("read fixture");
            let obj = Object::parse_named(&bytes, name)
                .unwrap_or_else(|e| panic!("{file}: loader rejects a fixture: {e}"));
            (file.to_owned(), obj)
        })
        .collect()
}

/// `BPF_F_RDONLY_PROG`: programs may only read the map.
const BPF_F_RDONLY_PROG: u32 = 0x80;

/// The kernel accepts at most 15 bytes of name.
fn kernel_name(name: &str) -> &str {
    name.get(..name.len().min(15)).unwrap_or_default()
}

/// Create one map as libbpf would (no BTF), with its initial data; a
/// map-in-map gets a template inner map created from its `values` type.
fn create_map(k: &Kernel, def: &MapDef, btf: Option<&BtfFd>) -> MapFd {
    let create = |def: &MapDef, inner: Option<&MapFd>| {
        // A value with a spin lock is described by the object's BTF, as
        // libbpf does (the kernel needs it to find the lock).
        let btf = btf.filter(|_| def.spin_lock_off.is_some());
        k.map_create(MapCreate {
            map_type: MapType(def.map_type.0),
            key_size: def.key_size,
            value_size: def.value_size,
            // libbpf sizes a perf event array without max_entries to the
            // number of possible CPUs.
            max_entries: if def.map_type.0 == 4 && def.max_entries == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
            } else {
                def.max_entries
            },
            map_flags: MapFlags(def.flags),
            name: kernel_name(&def.name),
            inner_map_fd: inner.map(AsFd::as_fd),
            btf_fd: btf.map(AsFd::as_fd),
            btf_key_type_id: if btf.is_some() {
                def.btf_key_type_id
            } else {
                0
            },
            btf_value_type_id: if btf.is_some() {
                def.btf_value_type_id
            } else {
                0
            },
            ..MapCreate::default()
        })
        .unwrap_or_else(|e| panic!("map {}: map_create failed: {e}", def.name))
    };
    let template = def.inner.as_deref().map(|inner| create(inner, None));
    let map = create(def, template.as_ref());
    if let Some(data) = &def.data {
        k.map_update(&map, &0u32.to_le_bytes(), data, UpdateFlags::ANY)
            .unwrap_or_else(|e| panic!("map {}: initial data: {e}", def.name));
    }
    // libbpf freezes read-only data (`.rodata`) once it is filled.
    if def.flags & BPF_F_RDONLY_PROG != 0 {
        k.map_freeze(&map)
            .unwrap_or_else(|e| panic!("map {}: freeze: {e}", def.name));
    }
    map
}

/// An object in the kernel the way libbpf puts it there: its BTF, its maps
/// (map-in-map slots filled from the object), every program loaded with
/// `func_info`/`line_info`, program arrays filled with the programs the
/// object names.
struct Loaded {
    maps: Vec<MapFd>,
    /// One result per [`Object::programs`] entry.
    progs: Vec<Result<LoadedProg, LoadFailure>>,
    _btf: Option<BtfFd>,
}

fn load_object(k: &Kernel, file: &str, obj: &Object) -> Loaded {
    load_object_at(
        k,
        file,
        obj,
        ProgLoad::default().log_level | LogLevel::STATS,
    )
}

/// [`load_object`] with the programs' log at `level`.
fn load_object_at(k: &Kernel, file: &str, obj: &Object, level: LogLevel) -> Loaded {
    let btf = obj.btf.as_ref().map(|b| {
        k.btf_load(b)
            .unwrap_or_else(|e| panic!("{file}: the kernel refuses the object's BTF: {e}"))
    });
    let maps: Vec<MapFd> = obj
        .maps
        .iter()
        .map(|m| create_map(k, m, btf.as_ref()))
        .collect();
    for (def, fd) in obj.maps.iter().zip(&maps) {
        for (slot, init) in &def.init {
            if let MapInit::Map(idx) = init {
                let inner = maps.get(*idx).expect("map index in range");
                let value = inner.as_raw_fd().cast_unsigned().to_le_bytes();
                k.map_update(fd, &slot.to_le_bytes(), &value, UpdateFlags::ANY)
                    .unwrap_or_else(|e| panic!("{file}: {}[{slot}]: {e}", def.name));
            }
        }
    }
    let progs: Vec<_> = obj
        .programs
        .iter()
        .map(|p| load(k, obj, p, &maps, btf.as_ref(), level))
        .collect();
    for (def, fd) in obj.maps.iter().zip(&maps) {
        for (slot, init) in &def.init {
            if let MapInit::Program(name) = init {
                let i = obj
                    .programs
                    .iter()
                    .position(|p| p.name == *name)
                    .unwrap_or_else(|| panic!("{file}: {}[{slot}]: no program {name}", def.name));
                let Some(Ok(prog)) = progs.get(i) else {
                    continue;
                };
                let value = prog.as_raw_fd().cast_unsigned().to_le_bytes();
                k.map_update(fd, &slot.to_le_bytes(), &value, UpdateFlags::ANY)
                    .unwrap_or_else(|e| panic!("{file}: {}[{slot}]: {e}", def.name));
            }
        }
    }
    Loaded {
        maps,
        progs,
        _btf: btf,
    }
}

/// The program's slots with map indices replaced by the maps' fds.
fn patch_fds(prog: &ObjProgram, maps: &[MapFd]) -> Vec<RawInsn> {
    let mut raw = prog.program.to_raw();
    for s in &mut raw {
        if s.code != 0x18 || !(s.src == 5 || s.src == 6) {
            continue;
        }
        let idx = usize::try_from(s.imm).expect("map index");
        s.src = if s.src == 5 { 1 } else { 2 };
        s.imm = maps.get(idx).expect("map index in range").imm();
    }
    raw
}

/// Load `prog` as libbpf would, with `maps` created for its object and,
/// with `btf`, its `func_info` and `line_info`.
fn load(
    k: &Kernel,
    obj: &Object,
    prog: &ObjProgram,
    maps: &[MapFd],
    btf: Option<&BtfFd>,
    level: LogLevel,
) -> Result<LoadedProg, LoadFailure> {
    let raw = patch_fds(prog, maps);
    let slot = |i: usize| u32::try_from(i).expect("slot fits u32");
    let func_info: Vec<BpfFuncInfo> = prog
        .func_info
        .iter()
        .map(|&(i, type_id)| BpfFuncInfo {
            insn_off: slot(i),
            type_id,
        })
        .collect();
    let line_info: Vec<BpfLineInfo> = prog
        .line_info
        .iter()
        .map(|l| BpfLineInfo {
            insn_off: slot(l.insn_idx),
            file_name_off: l.file_name_off,
            line_off: l.line_off,
            line_col: l.line << 10 | l.col,
        })
        .collect();
    let with_btf = btf.is_some();
    let load = ProgLoad {
        prog_type: ProgType(prog.prog_type.0),
        expected_attach_type: AttachType(prog.attach.map_or(0, |a| a.0)),
        insns: &raw,
        license: obj.license.as_deref().unwrap_or(""),
        prog_name: kernel_name(&prog.name),
        kern_version: obj.kernel_version.unwrap_or(0),
        prog_btf_fd: btf.map(AsFd::as_fd),
        func_info: if with_btf { &func_info } else { &[] },
        line_info: if with_btf { &line_info } else { &[] },
        // EBPF_KERNEL_LOG=<program> shows the kernel's level-2 log of it.
        log_level: if std::env::var("EBPF_KERNEL_LOG").is_ok_and(|n| n == prog.name) {
            LogLevel::LEVEL2
        } else {
            level
        },
        ..ProgLoad::default()
    };
    let out = k.prog_load(load);
    if std::env::var("EBPF_KERNEL_LOG").is_ok_and(|n| n == prog.name) {
        let log = match &out {
            Ok(p) => p.log().text().to_owned(),
            Err(e) => e.log().map(|l| l.text().to_owned()).unwrap_or_default(),
        };
        note(&format!("kernel log of {}:\n{log}", prog.name));
    }
    out
}

#[test]
fn every_fixture_program_loads_with_our_tag() {
    let Some(k) = probe_or_skip("every_fixture_program_loads_with_our_tag") else {
        return;
    };
    let (major, minor) = k.version().expect("kernel release has a version");
    let hash = TagHash::for_kernel(major, minor);
    let mut checked = 0;
    for (file, obj) in fixtures() {
        let loaded = load_object(&k, &file, &obj);
        for (prog, result) in obj.programs.iter().zip(&loaded.progs) {
            let loaded = result.as_ref().unwrap_or_else(|e| {
                panic!(
                    "{file}: {} ({}): the kernel rejects a program the loader produced: {e}\n{}",
                    prog.name,
                    prog.section,
                    e.log().map_or("", |l| l.text())
                )
            });
            let info = k.prog_get_info(loaded).expect("prog_get_info");
            let ours = prog_tag(&prog.program.to_raw(), hash);
            assert_eq!(
                info.tag_hex(),
                tag_hex(&ours),
                "{file}: {}: kernel tag differs from the loader's ({hash:?})",
                prog.name
            );
            if hash == TagHash::Sha256 {
                assert_eq!(ours, prog.tag, "{file}: {}: ObjProgram::tag", prog.name);
            }
            checked += 1;
        }
    }
    note(&format!(
        "loader_agreement: {checked} fixture programs (every one) load with BTF, func_info and \
         line_info, and the kernel's tag is ours ({hash:?})"
    ));
    assert!(checked >= 20, "only {checked} programs checked");
}

/// Fixture programs whose result depends on their context (or whose type
/// has no `BPF_PROG_TEST_RUN`), so their return values are not compared
/// with the interpreter, each with the reason. Every fixture program must be
/// here or in [`COMPARED`], so a new fixture forces a decision.
const NOT_COMPARED: &[(&str, &str)] = &[
    (
        "count_open",
        "kprobe: BPF_PROG_TEST_RUN is not supported for kprobes",
    ),
    (
        "remember_exec",
        "tracepoint: BPF_PROG_TEST_RUN is not supported for tracepoints",
    ),
];

/// Fixture programs compared run by run: the interpreter runs the object's
/// whole program set (tail calls included, program arrays filled from the
/// object like the kernel's), its context loads converted by
/// `ebpf_runtime::ctx` and its context built as `BPF_PROG_TEST_RUN` builds
/// it for the same packet.
const COMPARED: &[&str] = &[
    "tc_compute",
    "xdp_compute",
    "socket_compute",
    "xdp_lru",
    "xdp_ringbuf",
    "tc_sum",
    "tc_loop",
    "keep_long",
    "xdp_count",
    "core_len",
    "socket_inner",
    "tc_entry",
    "tc_stage1",
    "tc_stage2",
];

/// The object's maps in a fresh interpreter runtime, in loader order (so
/// `MapIdx(i)` is runtime map `i`), global data initialised.
fn runtime_for(obj: &Object) -> ebpf_runtime::Runtime {
    let mut rt = ebpf_runtime::Runtime::new();
    for (i, m) in obj.maps.iter().enumerate() {
        let def = ebpf_runtime::MapDef::new(
            m.name.clone(),
            ebpf_runtime::MapType(m.map_type.0),
            m.key_size,
            m.value_size,
            m.max_entries,
        )
        .with_flags(m.flags);
        let id = rt
            .maps_mut()
            .create(def)
            .unwrap_or_else(|e| panic!("runtime map {}: {e}", m.name));
        assert_eq!(id.index(), i, "runtime map index");
        if let Some(data) = &m.data {
            rt.maps_mut()
                .update(id, &0u32.to_le_bytes(), data, ebpf_runtime::BPF_ANY)
                .unwrap_or_else(|e| panic!("runtime map {}: initial data: {e}", m.name));
        }
    }
    // Slots filled from the object, once every map exists: a program array
    // holds indices into the interpreter's program set (`obj.programs` in
    // order), an array of maps the inner map's runtime id (its index).
    for (i, m) in obj.maps.iter().enumerate() {
        let id = ebpf_runtime::MapId(u32::try_from(i).expect("few maps"));
        for (slot, init) in &m.init {
            let idx = match init {
                MapInit::Map(i) => Some(*i),
                MapInit::Program(name) => obj.programs.iter().position(|p| p.name == *name),
            };
            let idx = u32::try_from(idx.expect("program exists")).expect("few programs");
            rt.maps_mut()
                .update(
                    id,
                    &slot.to_le_bytes(),
                    &idx.to_le_bytes(),
                    ebpf_runtime::BPF_ANY,
                )
                .unwrap_or_else(|e| panic!("runtime map {}[{slot}]: {e}", m.name));
        }
    }
    rt
}

/// The packet of run `run`: Ethernet + IPv4 of varying length, protocol and
/// source address (`saddr` = `run`, so per-source hash keys stay small),
/// with an IPv6 frame among them and, for XDP, a truncated IPv4 header
/// (the kernel's skb test runs refuse that one with `EINVAL`).
fn test_packet(run: usize, kind: CtxKind) -> Vec<u8> {
    const LENS: [usize; 8] = [64, 100, 1514, 30, 60, 200, 1600, 78];
    const PROTOS: [u8; 8] = [6, 17, 1, 6, 17, 6, 1, 47];
    let mut len = LENS[run % LENS.len()];
    if len == 30 && kind != CtxKind::Xdp {
        len = 40;
    }
    let mut p = vec![0u8; len];
    p[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    p[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 2]);
    let ipv6 = run % LENS.len() == 4;
    p[12..14].copy_from_slice(if ipv6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    if len >= 34 {
        p[14] = 0x45;
        p[22] = 64;
        p[23] = PROTOS[run % PROTOS.len()];
        p[26] = run as u8;
        p[30..34].copy_from_slice(&[10, 0, 0, 1]);
    }
    for (i, b) in p.iter_mut().enumerate().skip(34) {
        *b = (i as u8).wrapping_mul(7);
    }
    p
}

/// Keys probed in hash and LRU maps with 4-byte keys.
const HASH_KEYS: u32 = 32;

/// Whether map `m` is compared key by key: arrays (every key) and hash
/// and LRU hash maps with 4-byte keys (keys `0..HASH_KEYS`).
fn compared_keys(m: &MapDef) -> Option<u32> {
    match m.map_type.0 {
        2 => Some(m.max_entries),
        1 | 9 if m.key_size == 4 => Some(HASH_KEYS),
        _ => None,
    }
}

/// The values of every compared map ([`compared_keys`]), key by key, in
/// the kernel (`None`: no such key).
fn kernel_arrays(k: &Kernel, obj: &Object, maps: &[MapFd]) -> Vec<Option<Vec<u8>>> {
    let mut out = Vec::new();
    for (m, fd) in obj.maps.iter().zip(maps) {
        for key in 0..compared_keys(m).unwrap_or(0) {
            out.push(k.map_lookup(fd, &key.to_le_bytes()).expect("lookup"));
        }
    }
    out
}

/// The same in the runtime.
fn runtime_arrays(rt: &ebpf_runtime::Runtime, obj: &Object) -> Vec<Option<Vec<u8>>> {
    let mut out = Vec::new();
    for (i, m) in obj.maps.iter().enumerate() {
        let id = ebpf_runtime::MapId(u32::try_from(i).expect("few maps"));
        for key in 0..compared_keys(m).unwrap_or(0) {
            let v = rt.maps().lookup(id, &key.to_le_bytes()).expect("lookup");
            out.push(v.map(<[u8]>::to_vec));
        }
    }
    out
}

#[test]
fn return_values_and_maps_match_the_interpreter() {
    let Some(k) = probe_or_skip("return_values_and_maps_match_the_interpreter") else {
        return;
    };
    const RUNS: usize = 8;
    let mut compared = 0;
    for (file, obj) in fixtures() {
        for prog in &obj.programs {
            if let Some((_, why)) = NOT_COMPARED.iter().find(|(n, _)| *n == prog.name) {
                note(&format!(
                    "SKIP: return_values_and_maps_match_the_interpreter: {file}: {}: {why}",
                    prog.name
                ));
                continue;
            }
            assert!(
                COMPARED.contains(&prog.name.as_str()),
                "{file}: {}: new fixture program: add it to COMPARED or NOT_COMPARED",
                prog.name
            );
            // Fresh maps on both sides, then the same runs in the same order.
            let object = load_object(&k, &file, &obj);
            let maps = &object.maps;
            let index = obj.programs.iter().position(|p| p.name == prog.name);
            let loaded = match index.and_then(|i| object.progs.get(i)) {
                Some(Ok(p)) => p,
                Some(Err(e)) => panic!("{file}: {}: {e}", prog.name),
                None => panic!("{file}: {}: not loaded", prog.name),
            };
            // The whole program set, with context loads converted the way
            // the kernel's verifier converts them (`convert_ctx_access`).
            let kind = CtxKind::from_prog_type(prog.prog_type.0)
                .unwrap_or_else(|| panic!("{file}: {}: no context model", prog.name));
            let set: Vec<ebpf_isa::Program> = obj
                .programs
                .iter()
                .map(|p| {
                    let k = CtxKind::from_prog_type(p.prog_type.0).unwrap_or(kind);
                    convert_ctx_access(&p.program, k.layout())
                        .unwrap_or_else(|e| panic!("{file}: {}: convert_ctx_access: {e}", p.name))
                })
                .collect();
            let vm = ebpf_interp::Interpreter::with_programs(&set)
                .unwrap_or_else(|e| panic!("{file}: {}: interpreter: {e}", prog.name));
            let entry = u32::try_from(index.expect("loaded")).expect("few programs");
            let mut rt = runtime_for(&obj);
            let mut seen = Vec::new();
            for run in 0..RUNS {
                let packet = test_packet(run, kind);
                let kernel = k
                    .prog_test_run(
                        loaded,
                        ebpf_kernel::TestRun {
                            data_in: &packet,
                            ..ebpf_kernel::TestRun::default()
                        },
                    )
                    .unwrap_or_else(|e| {
                        panic!(
                            "{file}: {}: run {run} ({}-byte packet): prog_test_run: {e}",
                            prog.name,
                            packet.len()
                        )
                    });
                let mut ctx = CtxSpec::new(kind)
                    .build(packet.clone())
                    .unwrap_or_else(|e| panic!("{file}: {}: context: {e}", prog.name));
                let ours = vm
                    .invoke(&mut rt, ctx.invocation().entry(entry))
                    .unwrap_or_else(|t| panic!("{file}: {}: run {run}: trap {t}", prog.name))
                    .r0;
                // The kernel reports r0 truncated to 32 bits.
                assert_eq!(
                    kernel.retval,
                    ours as u32,
                    "{file}: {}: run {run} ({}-byte packet): r0 differs",
                    prog.name,
                    packet.len()
                );
                let kernel_maps = kernel_arrays(&k, &obj, maps);
                assert_eq!(
                    kernel_maps,
                    runtime_arrays(&rt, &obj),
                    "{file}: {}: run {run}: map contents differ",
                    prog.name
                );
                seen.push((kernel.retval, kernel_maps));
            }
            seen.sort_unstable();
            seen.dedup();
            assert!(
                seen.len() > 1,
                "{file}: {}: neither r0 nor the maps changed over {RUNS} runs: the \
                 comparison is too weak",
                prog.name
            );
            compared += 1;
        }
    }
    note(&format!(
        "loader_agreement: {compared} fixture programs return the same r0 and leave the same \
         array and hash maps as the kernel over {RUNS} runs"
    ));
    assert!(
        compared >= COMPARED.len(),
        "only {compared} programs compared"
    );
}

/// What `bpftool prog loadall` (libbpf) makes of the object at `path`, in
/// a private mount namespace with its own bpffs on `/sys/fs/bpf` (maps
/// pinned by name need it there): `(program name, tag)` pairs, or the
/// tool's error output.
fn bpftool_tags(path: &Path) -> Result<Vec<(String, String)>, String> {
    const SCRIPT: &str = r#"set -e
mount -t bpf bpf /sys/fs/bpf
mkdir /sys/fs/bpf/progs
bpftool prog loadall "$1" /sys/fs/bpf/progs >/dev/null
for p in /sys/fs/bpf/progs/*; do
  echo "$(basename "$p") $(bpftool prog show pinned "$p" | head -n 1)"
done"#;
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", SCRIPT, "sh"])
        .arg(path)
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| {
            let name = l.split_whitespace().next()?;
            let mut words = l.split_whitespace().skip_while(|w| *w != "tag");
            let tag = words.nth(1)?;
            Some((name.to_owned(), tag.to_owned()))
        })
        .collect())
}

/// Whether `tool arg` runs and succeeds (the tool is installed).
fn have(tool: &str, arg: &str) -> bool {
    std::process::Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn bpftool_loadall_reports_our_tags() {
    let Some(k) = probe_or_skip("bpftool_loadall_reports_our_tags") else {
        return;
    };
    let private_bpffs = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t bpf bpf /sys/fs/bpf"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have("bpftool", "version") || !private_bpffs {
        note(
            "SKIP: bpftool_loadall_reports_our_tags: needs bpftool, and unshare able to \
             mount a bpffs in a private mount namespace",
        );
        return;
    }
    let (major, minor) = k.version().expect("kernel release has a version");
    let hash = TagHash::for_kernel(major, minor);
    let mut checked = 0;
    for (file, obj) in fixtures() {
        let path = fixture_dir().join(&file);
        let tags = match bpftool_tags(&path) {
            Ok(t) => t,
            Err(e) if file.starts_with("legacy_maps") => {
                // libbpf 1.0 dropped the legacy `maps` section.
                assert!(e.contains("legacy map definitions"), "{file}: {e}");
                note(&format!(
                    "SKIP: bpftool_loadall_reports_our_tags: {file}: libbpf 1.0+ refuses legacy maps"
                ));
                continue;
            }
            Err(e) => panic!("{file}: bpftool prog loadall failed:\n{e}"),
        };
        assert_eq!(tags.len(), obj.programs.len(), "{file}: {tags:?}");
        for prog in &obj.programs {
            let (_, tag) = tags
                .iter()
                .find(|(n, _)| *n == prog.name)
                .unwrap_or_else(|| panic!("{file}: bpftool did not load {}", prog.name));
            let ours = tag_hex(&prog_tag(&prog.program.to_raw(), hash));
            assert_eq!(*tag, ours, "{file}: {}: bpftool's tag", prog.name);
            checked += 1;
        }
    }
    note(&format!(
        "loader_agreement: {checked} programs: bpftool prog loadall (libbpf) shows our tag"
    ));
    assert!(checked >= 10, "only {checked} programs checked");
}

/// Fixture programs our verifier cannot judge yet, with the reason; the
/// test fails when one of them starts to pass, so the list stays true.
const VERIFIER_GAPS: &[(&str, &str)] = &[];

/// The object's maps as the verifier sees them: map-in-map inner
/// templates appended after them.
fn verifier_maps(obj: &Object) -> Vec<ebpf_verifier::state::MapMeta> {
    let meta = |m: &MapDef| ebpf_verifier::state::MapMeta {
        map_type: m.map_type.0,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        flags: m.flags,
        inner: None,
        spin_lock_off: m.spin_lock_off,
    };
    let mut out: Vec<_> = obj.maps.iter().map(meta).collect();
    for (i, m) in obj.maps.iter().enumerate() {
        if let Some(inner) = &m.inner {
            let idx = u32::try_from(out.len()).ok();
            out.push(meta(inner));
            out[i].inner = idx;
        }
    }
    out
}

#[test]
fn our_verifier_accepts_what_the_kernel_accepts() {
    let Some(k) = probe_or_skip("our_verifier_accepts_what_the_kernel_accepts") else {
        return;
    };
    let platform = ebpf_verifier::platform::LinuxPlatform::new();
    let (mut agree, mut gaps) = (0, 0);
    let mut timings: Vec<(f64, f64)> = Vec::new();
    for (file, obj) in fixtures() {
        let loaded = load_object(&k, &file, &obj);
        let maps = verifier_maps(&obj);
        for (prog, kernel) in obj.programs.iter().zip(&loaded.progs) {
            assert!(
                kernel.is_ok(),
                "{file}: {}: the kernel refuses it",
                prog.name
            );
            let env = ebpf_verifier::LinuxEnv::new(
                &platform,
                ebpf_verifier::platform::ProgType(prog.prog_type.0),
                prog.attach.map_or(0, |a| a.0),
                obj.license.as_deref().unwrap_or(""),
            );
            let config = ebpf_verifier::check::VerifierConfig {
                func_info: !prog.func_info.is_empty(),
                map_data: rodata(&obj),
                global_funcs: global_funcs(prog),
                ..ebpf_verifier::check::VerifierConfig::default()
            };
            let ours = ebpf_verifier::check::verify_with(&prog.program, &env, &maps, &config);
            // Timing, as the kernel's `verification time` (no log).
            if ours.result.is_ok()
                && let Ok(p) = kernel
                && let Some(k_us) = p.log().stats().and_then(|s| s.verification_time_usec)
            {
                let quiet = ebpf_verifier::check::VerifierConfig {
                    log_level: 0,
                    ..config.clone()
                };
                let mut times: Vec<f64> = (0..7)
                    .map(|_| {
                        let start = std::time::Instant::now();
                        let _ =
                            ebpf_verifier::check::verify_with(&prog.program, &env, &maps, &quiet);
                        start.elapsed().as_secs_f64() * 1e6
                    })
                    .collect();
                times.sort_by(f64::total_cmp);
                let us = times[times.len() / 2];
                let insns = ours.stats.insns_processed.max(1) as f64;
                note(&format!(
                    "verifier timing: {file} {:<16} {:>6} insns: kernel {k_us:>5} us, ours {us:>8.1} us \
                     ({:.2}x, {:.3} us/insn)",
                    prog.name,
                    ours.stats.insns_processed,
                    us / (k_us.max(1) as f64),
                    us / insns
                ));
                timings.push((us, k_us.max(1) as f64));
            }
            let gap = VERIFIER_GAPS.iter().find(|(n, _)| *n == prog.name);
            match (&ours.result, gap) {
                (Ok(()), None) => agree += 1,
                (Err(r), Some((_, why))) => {
                    note(&format!(
                        "SKIP: our_verifier_accepts_what_the_kernel_accepts: {file}: {}: {why} \
                         (ours: {})",
                        prog.name, r.message
                    ));
                    gaps += 1;
                }
                (Ok(()), Some(_)) => panic!(
                    "{file}: {}: now accepted: remove it from VERIFIER_GAPS",
                    prog.name
                ),
                (Err(r), None) => panic!(
                    "{file}: {}: the kernel accepts it, we refuse: {} {} at insn {:?}\n{}",
                    prog.name, r.errno, r.message, r.insn, ours.log
                ),
            }
        }
    }
    note(&format!(
        "loader_agreement: our verifier accepts {agree} fixture programs the kernel accepts \
         ({gaps} known gaps)"
    ));
    if !timings.is_empty() {
        let half = timings.iter().filter(|(o, k)| o * 2.0 <= *k).count();
        let geo =
            (timings.iter().map(|(o, k)| (o / k).ln()).sum::<f64>() / timings.len() as f64).exp();
        note(&format!(
            "verifier timing: ours within half the kernel's verification time on {half}/{} \
             fixture programs; geometric mean of ours/kernel {geo:.2} (debug builds of this \
             test are slower: see cargo xtask bench for release numbers)",
            timings.len()
        ));
    }
    assert!(agree >= 40, "only {agree}");
}

/// `ebpf-verifier`'s real-world-style objects (`tests/objects/*.c`: load
/// balancer, packet editing, tracing, loops, functions, with a few
/// classic bugs), parsed like the fixtures.
fn verifier_objects() -> Vec<(String, Object)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebpf-verifier/tests/objects/build");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("verifier objects exist")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let file = p.file_name().and_then(|f| f.to_str()).expect("utf-8 name");
            let name = file.split('.').next().unwrap_or_default();
            let bytes = std::fs::read(p).expect("read object");
            let obj = Object::parse_named(&bytes, name)
                .unwrap_or_else(|e| panic!("{file}: the loader refuses it: {e}"));
            (file.to_owned(), obj)
        })
        .collect()
}

/// The program's global functions as the verifier takes them (from the
/// loader's BTF signatures; the entry function itself is not one).
fn global_funcs(p: &ObjProgram) -> Vec<ebpf_verifier::check::GlobalFunc> {
    use ebpf_loader::BtfParam;
    use ebpf_verifier::check::{GlobalArg, GlobalFunc};
    p.funcs
        .iter()
        .filter(|(slot, f)| *slot != 0 && f.global)
        .map(|(slot, f)| GlobalFunc {
            start: *slot,
            name: f.name.clone(),
            args: f
                .params
                .iter()
                .map(|a| match a {
                    BtfParam::Scalar => GlobalArg::Scalar,
                    BtfParam::Pointer { target, size } => GlobalArg::Pointer {
                        target: target.clone(),
                        size: *size,
                    },
                    _ => GlobalArg::Unsupported,
                })
                .collect(),
            returns_scalar: matches!(f.ret, BtfParam::Scalar),
        })
        .collect()
}

/// A level-2 log as compared: without the lines we do not print (stack
/// liveness) and the `verification time` line; map names the kernel
/// prints (`map=NAME,`) and the addresses of `ld_imm64` left out.
fn comparable_log(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            !(l.starts_with('(') && l.contains(") frame ")
                || l.contains("live stack update done")
                || l.starts_with("verification time "))
        })
        .map(|l| {
            let mut line = l.to_owned();
            // `map_ptr(map=NAME,ks=4,...)`, `map_value(map=NAME,...)`.
            while let Some(i) = line.find("map=") {
                let end = line[i..].find(',').map_or(line.len(), |j| i + j + 1);
                line.replace_range(i..end, "");
            }
            // `N: (18) r1 = <address or map[idx:N]>`, in the trace and the
            // live table too: the value is not compared.
            if let Some(i) = line.find("(18) r") {
                if let Some(eq) = line[i..].find(" = ") {
                    let start = i + eq + 3;
                    let end = line[start..].find("  ").map_or_else(
                        || line[start..].find(" ;").map_or(line.len(), |j| start + j),
                        |j| start + j,
                    );
                    line.replace_range(start..end, "<value>");
                }
                // The padding after it depends on the value's width.
                if let Some(semi) = line.find(" ;") {
                    let head = line[..semi].trim_end().to_owned();
                    line = format!("{head} ;{}", &line[semi + 2..]);
                }
            }
            line
        })
        .collect()
}

/// Line info as the verifier's log prints it (`text @ file:N`).
fn line_records(lines: &[ebpf_loader::LineInfo]) -> Vec<(usize, String)> {
    lines
        .iter()
        .map(|l| {
            let file = l.file.rsplit('/').next().unwrap_or(&l.file);
            (
                l.insn_idx,
                format!("{} @ {file}:{}", l.source_line_text.trim_start(), l.line),
            )
        })
        .collect()
}

/// The initial bytes of the object's read-only (frozen) maps, by index.
fn rodata(obj: &Object) -> Vec<(u32, Vec<u8>)> {
    (0u32..)
        .zip(&obj.maps)
        .filter(|(_, m)| m.flags & BPF_F_RDONLY_PROG != 0)
        .filter_map(|(i, m)| Some((i, m.data.clone()?)))
        .collect()
}

/// Programs of the objects where our verdict is known to differ from the
/// kernel's, with the reason. The test fails when one of them starts to
/// agree, so the list stays true.
const OBJECT_DIFFERENCES: &[(&str, &str)] = &[];

/// Our verifier against the kernel on every program of the verifier's
/// real-world-style objects: the same verdict, and for a refusal the same
/// error line; never accepting what the kernel refuses. Prints both
/// processed-instruction counts.
#[test]
fn our_verifier_agrees_on_real_world_style_objects() {
    let Some(k) = probe_or_skip("our_verifier_agrees_on_real_world_style_objects") else {
        return;
    };
    let platform = ebpf_verifier::platform::LinuxPlatform::new();
    let (mut agree, mut total, mut unexpected, mut gaps) = (0, 0, Vec::new(), Vec::new());
    let (mut logs_same, mut logs_total) = (0usize, 0usize);
    let show = std::env::var_os("EBPF_SHOW_LOG_DIFF").is_some();
    for (file, obj) in verifier_objects() {
        let loaded = load_object_at(&k, &file, &obj, LogLevel::LEVEL2 | LogLevel::STATS);
        let maps = verifier_maps(&obj);
        for (prog, kernel) in obj.programs.iter().zip(&loaded.progs) {
            total += 1;
            let env = ebpf_verifier::LinuxEnv::new(
                &platform,
                ebpf_verifier::platform::ProgType(prog.prog_type.0),
                prog.attach.map_or(0, |a| a.0),
                obj.license.as_deref().unwrap_or(""),
            );
            let config = ebpf_verifier::check::VerifierConfig {
                func_info: !prog.func_info.is_empty(),
                log_level: 0,
                map_data: rodata(&obj),
                global_funcs: global_funcs(prog),
                ..ebpf_verifier::check::VerifierConfig::default()
            };
            let ours = ebpf_verifier::check::verify_with(&prog.program, &env, &maps, &config);
            // The whole level-2 log, as the kernel's (with source lines).
            let logged = ebpf_verifier::check::VerifierConfig {
                log_level: 2 | 4,
                line_info: line_records(&prog.line_info),
                ..config.clone()
            };
            let our_log =
                ebpf_verifier::check::verify_with(&prog.program, &env, &maps, &logged).log;
            let kernel_text = match kernel {
                Ok(p) => p.log().text().to_owned(),
                Err(e) => e.log().map(|l| l.text().to_owned()).unwrap_or_default(),
            };
            let (a, b) = (comparable_log(&kernel_text), comparable_log(&our_log));
            logs_total += 1;
            if a == b {
                logs_same += 1;
            } else if show {
                let first = a
                    .iter()
                    .zip(&b)
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                note(&format!(
                    "log differs: {file} {}: line {first}: kernel {:?}, ours {:?}",
                    prog.name,
                    a.get(first),
                    b.get(first)
                ));
            }
            let theirs = match kernel {
                Ok(p) => Ok(p.log().stats().map_or(0, |s| s.insns_processed)),
                Err(e) => Err(e.error_line().unwrap_or("(no error line)").to_owned()),
            };
            let mine = match &ours.result {
                Ok(()) => Ok(ours.stats.insns_processed),
                Err(r) => Err(r.message.clone()),
            };
            let same = match (&theirs, &mine) {
                (Ok(_), Ok(_)) => true,
                (Err(a), Err(b)) => a == b,
                _ => false,
            };
            let kernel_text = format!("{theirs:?}");
            note(&format!(
                "verifier objects: {file} {:<22} kernel {kernel_text:<60} ours {mine:?}",
                prog.name
            ));
            let known = OBJECT_DIFFERENCES.iter().find(|(n, _)| *n == prog.name);
            if theirs.is_err() && mine.is_ok() {
                gaps.push(format!(
                    "{file}: {}: soundness gap: the kernel refuses ({theirs:?}), we accept",
                    prog.name
                ));
            }
            match (same, known) {
                (true, None) => agree += 1,
                (false, Some(_)) => {}
                (true, Some(_)) => unexpected.push(format!(
                    "{file}: {}: now agrees: remove it from OBJECT_DIFFERENCES",
                    prog.name
                )),
                (false, None) => unexpected.push(format!(
                    "{file}: {}: kernel {theirs:?}, ours {mine:?}",
                    prog.name
                )),
            }
        }
    }
    note(&format!(
        "verifier objects: {agree}/{total} programs get the kernel's verdict and error line \
         ({} known differences); {logs_same}/{logs_total} level-2 logs equal the kernel's \
         (stack liveness and timing lines aside, map names and addresses normalised)",
        OBJECT_DIFFERENCES.len()
    ));
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}
