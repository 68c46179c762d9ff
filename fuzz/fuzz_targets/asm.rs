//! Fuzz target `asm`: arbitrary UTF-8 through both assemblers,
//! `ebpf_isa::asm::assemble` (kernel syntax) and `ebpf_isa::ubpf::assemble`
//! (the conformance suite's dialect).
//!
//! Checks, for every program an assembler accepts:
//! * its bytes decode back to the same program, and re-encode to the same
//!   bytes;
//! * each instruction's kernel-syntax `Display`, assembled on its own,
//!   gives back that instruction's bytes (so the verifier log, the
//!   disassembler and error messages print text we can read back);
//! * the whole listing (`Display for Program`) re-assembles to the same
//!   program;
//! * for uBPF input, `ubpf::disassemble` re-assembles to the same program.
//!
//! Rejected inputs only have to not panic (`ubpf::assemble_raw` included).
#![no_main]

use ebpf_isa::{Program, asm, ubpf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(prog) = asm::assemble(text) {
        check(&prog);
    }
    if let Ok(prog) = ubpf::assemble(text) {
        check(&prog);
        let listing = ubpf::disassemble(&prog);
        assert_eq!(
            ubpf::assemble(&listing).as_ref(),
            Ok(&prog),
            "ubpf::disassemble does not re-assemble:\n{listing}"
        );
    }
    let _ = ubpf::assemble_raw(text);
});

fn check(prog: &Program) {
    let bytes = prog.to_bytes();
    let back = Program::from_bytes(&bytes);
    assert_eq!(back.as_ref(), Ok(prog), "decode(encode(p)) != p");
    for (idx, insn) in prog.iter() {
        let line = insn.to_string();
        let alone = Program::from_insns([*insn]).to_bytes();
        let again = asm::assemble(&line).map(|p| p.to_bytes());
        assert_eq!(
            again.as_ref(),
            Ok(&alone),
            "slot {idx}: `{line}` ({insn:?}) does not re-assemble to its bytes"
        );
    }
    let listing = prog.to_string();
    assert_eq!(
        asm::assemble(&listing).as_ref(),
        Ok(prog),
        "Display for Program does not re-assemble:\n{listing}"
    );
}
