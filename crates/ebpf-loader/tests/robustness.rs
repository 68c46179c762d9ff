//! Hostile input never panics: every fixture truncated and mutated at many
//! points must parse to `Ok` or a typed `LoadError`.

use std::path::Path;

use ebpf_loader::{LoadError, Object};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/build");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("fixtures/build exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

/// Small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn truncation_never_panics() {
    let mut errors = 0usize;
    for (name, bytes) in fixtures() {
        let full = Object::parse(&bytes);
        assert!(
            full.is_ok() || matches!(full, Err(LoadError::Unsupported { .. })),
            "{name}: {full:?}"
        );
        let step = 1 + bytes.len() / 1500;
        let cuts = (0..bytes.len()).filter(|i| *i < 256 || i % step == 0);
        for cut in cuts {
            if Object::parse(&bytes[..cut]).is_err() {
                errors += 1;
            }
        }
    }
    // Most truncations cut a table that sits at the end of the file.
    assert!(errors > 1000, "only {errors} truncations were rejected");
}

#[test]
fn byte_mutations_never_panic() {
    for (_, bytes) in fixtures() {
        let step = 1 + bytes.len() / 700;
        for pos in (0..bytes.len()).step_by(step) {
            for value in [0x00, 0xff, 0x80, bytes[pos].wrapping_add(1)] {
                let mut m = bytes.clone();
                m[pos] = value;
                let _ = Object::parse(&m);
            }
        }
        // Multi-byte garbage over header fields, section headers and symbols.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64);
        for _ in 0..800 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.next() % 8 {
                let pos = (rng.next() % m.len() as u64) as usize;
                m[pos] = rng.next() as u8;
            }
            let _ = Object::parse(&m);
        }
    }
}

/// Hand-made headers: each property checked before goblin runs.
#[test]
fn header_checks() {
    let (_, good) = &fixtures()[0];
    let with = |off: usize, val: &[u8]| {
        let mut m = good.clone();
        m[off..off + val.len()].copy_from_slice(val);
        m
    };
    let what = |bytes: &[u8]| match Object::parse(bytes) {
        Err(LoadError::Header { what, found }) => (what, found),
        other => panic!("expected a header error, got {other:?}"),
    };
    assert_eq!(what(&good[..10]).1, 10);
    assert_eq!(what(&with(0, b"\x7fELG")).0, "bad magic (not an ELF file)");
    assert_eq!(what(&with(4, &[1])), ("class is not ELFCLASS64", 1));
    assert_eq!(
        what(&with(5, &[2])),
        ("byte order is not little-endian (ELFDATA2LSB)", 2)
    );
    assert_eq!(
        what(&with(16, &[2, 0])),
        ("type is not ET_REL (relocatable object)", 2)
    );
    assert_eq!(
        what(&with(18, &[62, 0])),
        ("machine is not EM_BPF (247)", 62)
    );
    assert_eq!(
        what(&with(56, &[1, 0])),
        ("relocatable object has program headers", 1)
    );
}

/// Dense mutations of the `.BTF` section of a BTF-maps fixture: every
/// byte of the header and the first types, several values each.
#[test]
fn btf_mutations_never_panic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/build/xdp_parser.v3.o");
    let bytes = std::fs::read(path).expect("fixture");
    let elf = goblin::elf::Elf::parse(&bytes).expect("valid fixture");
    let btf = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".BTF"))
        .expect(".BTF");
    let start = btf.sh_offset as usize;
    let end = start + (btf.sh_size as usize).min(600);
    let mut rejected = 0usize;
    for pos in start..end {
        for value in [0x00, 0x01, 0x7f, 0xff, bytes[pos] ^ 0x10] {
            let mut m = bytes.clone();
            m[pos] = value;
            if Object::parse(&m).is_err() {
                rejected += 1;
            }
        }
    }
    assert!(
        rejected > 100,
        "only {rejected} BTF mutations were rejected"
    );
}

/// Dense mutations of `.BTF.ext` (header, record sizes, section name
/// offsets, counts, `insn_off`, string offsets): every byte of the first
/// 200 and every 4th after, several values each. Always `Ok` or a typed
/// error, and the header fields give [`LoadError::BtfExt`].
#[test]
fn btf_ext_mutations_never_panic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/build/compute.v3.o");
    let bytes = std::fs::read(path).expect("fixture");
    let elf = goblin::elf::Elf::parse(&bytes).expect("valid fixture");
    let ext = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".BTF.ext"))
        .expect(".BTF.ext");
    let start = ext.sh_offset as usize;
    let end = start + ext.sh_size as usize;
    let mut rejected = 0usize;
    for pos in (start..end).filter(|p| p - start < 200 || p % 4 == 0) {
        for value in [0x00, 0x01, 0x7f, 0xff, bytes[pos] ^ 0x10, bytes[pos] ^ 0x04] {
            let mut m = bytes.clone();
            m[pos] = value;
            match Object::parse(&m) {
                Ok(_) => {}
                Err(LoadError::BtfExt { .. }) => rejected += 1,
                Err(e) => panic!("mutation at {pos:#x} = {value:#x}: unexpected {e}"),
            }
        }
    }
    assert!(
        rejected > 300,
        "only {rejected} .BTF.ext mutations were rejected"
    );
    // Specific header faults.
    let with = |off: usize, b: &[u8]| {
        let mut m = bytes.clone();
        m[start + off..start + off + b.len()].copy_from_slice(b);
        Object::parse(&m).unwrap_err()
    };
    let what = |e: LoadError| match e {
        LoadError::BtfExt {
            subsection, what, ..
        } => (subsection, what),
        other => panic!("{other}"),
    };
    assert_eq!(
        what(with(0, &[0x9f, 0xec])),
        ("header", "bad magic (expected 0xeb9f little-endian)")
    );
    assert_eq!(what(with(2, &[2])), ("header", "version is not 1"));
    // func_info_len past the section.
    assert_eq!(
        what(with(12, &[0xff, 0xff, 0, 0])),
        ("func_info", "subsection extends past the section")
    );
}
