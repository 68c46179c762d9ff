//! Global functions: each call checks the arguments against the function's
//! BTF signature and does not descend; the function is verified once on its
//! own, for any arguments of that signature (a pointer may be `NULL`).
//! Checked against the kernel on `tests/objects/subprogs.c` and `more.c` by
//! `ebpf-kernel`'s `loader_agreement`.

use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::{GlobalArg, GlobalFunc, Outcome, VerifierConfig, verify_with};
use ebpf_verifier::platform::{LinuxPlatform, ProgType};

fn run(asm: &str, args: Vec<GlobalArg>) -> Outcome {
    let prog = ebpf_isa::asm::assemble(asm).expect("assembles");
    let start = prog
        .insns()
        .iter()
        .enumerate()
        .rev()
        .find(|(_, i)| matches!(i, ebpf_isa::Insn::Exit))
        .map(|(pc, _)| pc)
        .expect("exit");
    // The global function is the last two instructions.
    let start = start.saturating_sub(1);
    let platform = LinuxPlatform::new();
    let env = LinuxEnv::new(
        &platform,
        ProgType::from_name("socket_filter").expect("type"),
        0,
        "GPL",
    );
    let config = VerifierConfig {
        global_funcs: vec![GlobalFunc {
            start,
            name: "f".to_owned(),
            args,
            returns_scalar: true,
        }],
        ..VerifierConfig::default()
    };
    verify_with(&prog, &env, &[], &config)
}

fn error(out: &Outcome) -> String {
    match &out.result {
        Ok(()) => "accepted".to_owned(),
        Err(r) => r.message.clone(),
    }
}

const DEREF: &str = "*(u64 *)(r10 -8) = 7
r1 = r10
r1 += -8
call pc+2
r0 = 0
exit
r0 = *(u64 *)(r1 +0)
exit";

#[test]
fn a_pointer_argument_may_be_null_inside() {
    let mem = GlobalArg::Pointer {
        target: String::new(),
        size: Some(8),
    };
    let out = run(DEREF, vec![mem]);
    assert_eq!(error(&out), "R1 invalid mem access 'mem_or_null'");
    // The call itself was fine, and did not descend.
    assert!(
        out.log
            .contains("Func#1 ('f') is global and assumed valid."),
        "{}",
        out.log
    );
    assert!(out.log.contains("Validating f() func#1..."), "{}", out.log);
}

#[test]
fn arguments_must_match_the_signature() {
    let ctx = GlobalArg::Pointer {
        target: "__sk_buff".to_owned(),
        size: Some(192),
    };
    let out = run(DEREF, vec![ctx]);
    assert_eq!(error(&out), "Caller passes invalid args into func#1 ('f')");
    assert!(
        out.log.contains("arg#0 expects pointer to ctx"),
        "{}",
        out.log
    );
    let out = run(DEREF, vec![GlobalArg::Scalar]);
    assert_eq!(error(&out), "Caller passes invalid args into func#1 ('f')");
    assert!(out.log.contains("R1 is not a scalar"), "{}", out.log);
    // Memory too small for the pointee.
    let big = GlobalArg::Pointer {
        target: String::new(),
        size: Some(16),
    };
    let out = run(DEREF, vec![big]);
    assert_eq!(error(&out), "Caller passes invalid args into func#1 ('f')");
}

#[test]
fn a_scalar_argument_is_any_scalar() {
    let prog = "r1 = 5
call pc+2
r0 = 0
exit
r0 = r1
exit";
    let out = run(prog, vec![GlobalArg::Scalar]);
    assert_eq!(error(&out), "accepted", "{}", out.log);
    assert!(
        out.log
            .contains("Func#1 ('f') is safe for any args that match its prototype"),
        "{}",
        out.log
    );
}
