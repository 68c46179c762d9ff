//! Fuzz target `decode`: arbitrary bytes through `Program::from_bytes`.
//!
//! Checks, for every input the decoder accepts:
//! * encoding gives back exactly the input bytes (the decoder rejects every
//!   non-canonical form, so decode/encode is a bijection on valid programs);
//! * every instruction prints as non-empty kernel syntax;
//! * the whole-program queries (`Display`, `cpu_version`, `groups`) do not panic.
//!
//! Rejected inputs only have to not panic.
#![no_main]

use ebpf_isa::Program;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(prog) = Program::from_bytes(data) else {
        return;
    };
    assert_eq!(
        prog.to_bytes(),
        data,
        "encode(decode(bytes)) != bytes for {prog:?}"
    );
    for (idx, insn) in prog.iter() {
        assert!(
            !insn.to_string().is_empty(),
            "slot {idx}: empty Display for {insn:?}"
        );
    }
    assert_eq!(prog.to_string().lines().count(), prog.iter().count());
    let _ = (prog.cpu_version(), prog.groups());
});
