//! Fuzz target `loader`: arbitrary bytes through `ebpf_loader::Object::parse`.
//!
//! Checks:
//! * parsing never panics (hostile ELF: bad offsets, sizes, symbol and
//!   relocation indices, BTF);
//! * on success, every program and every linked function re-encodes to
//!   slots that decode back to the same program, and that program's tag is
//!   the object's (`prog_tag` over the re-encoded slots);
//! * every `ld_imm64` map reference names a map of the object;
//! * the text dump (`Display`) does not panic.
#![no_main]

use ebpf_isa::{Imm64, Insn, Program};
use ebpf_loader::{Object, TagHash, prog_tag};
use libfuzzer_sys::fuzz_target;

fn round_trip(what: &str, prog: &Program) {
    let raw = prog.to_raw();
    let again = Program::from_raw(&raw).unwrap_or_else(|e| panic!("{what}: re-decode: {e}"));
    assert_eq!(&again, prog, "{what}: decode(encode(p)) != p");
}

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = Object::parse_named(data, "fuzz") else {
        return;
    };
    for p in &obj.programs {
        round_trip(&p.name, &p.program);
        assert_eq!(prog_tag(&p.program.to_raw(), TagHash::Sha256), p.tag);
        for insn in p.program.insns() {
            if let Insn::LdImm64 {
                imm: Imm64::MapIdx(idx) | Imm64::MapIdxValue { idx, .. },
                ..
            } = insn
            {
                assert!((*idx as usize) < obj.maps.len(), "{}: map {idx}", p.name);
            }
        }
    }
    for f in &obj.functions {
        round_trip(&f.name, &f.program);
    }
    let _ = obj.to_string();
});
