//! Interpreter throughput on small hand-built programs.
//!
//! Each benchmark reports its throughput in executed instruction slots
//! (criterion's "elements"), so `1 / throughput` is the time per executed
//! instruction. `empty` measures entering and leaving a run.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebpf_interp::Interpreter;
use ebpf_isa::{AluOp, CallTarget, Insn, JmpCond, Operand, Program, Reg, Size, Width};
use ebpf_runtime::{Config, Invocation, Runtime};

const R0: Reg = Reg::R0;
const R1: Reg = Reg::R1;
const R2: Reg = Reg::R2;
const R3: Reg = Reg::R3;
const R4: Reg = Reg::R4;
const R5: Reg = Reg::R5;
const R6: Reg = Reg::R6;
const R7: Reg = Reg::R7;
const R10: Reg = Reg::R10;

fn alu(op: AluOp, dst: Reg, src: Operand) -> Insn {
    Insn::Alu {
        op,
        width: Width::W64,
        dst,
        src,
    }
}
fn k(v: i32) -> Operand {
    Operand::Imm(v)
}
fn x(r: Reg) -> Operand {
    Operand::Reg(r)
}
fn jmp(cond: JmpCond, dst: Reg, src: Operand, off: i16) -> Insn {
    Insn::Jump {
        cond,
        width: Width::W64,
        dst,
        src,
        off,
    }
}

/// `r0 = 0; r1 = n; loop { r0 += r1; r0 ^= 0x55; r1 -= 1 } while r1 != 0`.
fn counted_loop(n: i32) -> Program {
    Program::from_insns([
        alu(AluOp::Mov, R0, k(0)),
        alu(AluOp::Mov, R1, k(n)),
        alu(AluOp::Add, R0, x(R1)),
        alu(AluOp::Xor, R0, k(0x55)),
        alu(AluOp::Sub, R1, k(1)),
        jmp(JmpCond::Ne, R1, k(0), -4),
        Insn::Exit,
    ])
}

/// Sum the input as u64 words: `for (p = r1; p < r1 + r2; p += 8) r0 += *p`.
fn sum_buffer() -> Program {
    Program::from_insns([
        alu(AluOp::Mov, R0, k(0)),
        alu(AluOp::Mov, R3, x(R1)),
        alu(AluOp::Add, R3, x(R2)),
        Insn::Load {
            size: Size::DW,
            dst: R4,
            src: R1,
            off: 0,
        },
        alu(AluOp::Add, R0, x(R4)),
        alu(AluOp::Add, R1, k(8)),
        jmp(JmpCond::Lt, R1, x(R3), -4),
        Insn::Exit,
    ])
}

/// FNV-1a over the input, a byte at a time (serial multiply chain).
fn fnv() -> Program {
    Program::from_insns([
        Insn::LdImm64 {
            dst: R0,
            imm: ebpf_isa::Imm64::Imm(0xcbf2_9ce4_8422_2325),
        },
        Insn::LdImm64 {
            dst: R5,
            imm: ebpf_isa::Imm64::Imm(0x100_0000_01b3),
        },
        alu(AluOp::Mov, R3, x(R1)),
        alu(AluOp::Add, R3, x(R2)),
        Insn::Load {
            size: Size::B,
            dst: R4,
            src: R1,
            off: 0,
        },
        alu(AluOp::Xor, R0, x(R4)),
        alu(AluOp::Mul, R0, x(R5)),
        alu(AluOp::Add, R1, k(1)),
        jmp(JmpCond::Lt, R1, x(R3), -5),
        Insn::Exit,
    ])
}

/// Stack traffic: store and reload through r10 in a loop.
fn stack_loop(n: i32) -> Program {
    Program::from_insns([
        alu(AluOp::Mov, R0, k(0)),
        alu(AluOp::Mov, R1, k(n)),
        Insn::Store {
            size: Size::DW,
            dst: R10,
            off: -8,
            src: x(R1),
        },
        Insn::Load {
            size: Size::DW,
            dst: R2,
            src: R10,
            off: -8,
        },
        alu(AluOp::Add, R0, x(R2)),
        alu(AluOp::Sub, R1, k(1)),
        jmp(JmpCond::Sgt, R1, k(0), -5),
        Insn::Exit,
    ])
}

/// bpf-to-bpf calls in a loop: `for n times r0 += f(r1)` with `f` = `r0 = r1 + 1`.
fn call_loop(n: i32) -> Program {
    Program::from_insns([
        alu(AluOp::Mov, R6, k(n)),
        alu(AluOp::Mov, R7, k(0)),
        alu(AluOp::Mov, R1, x(R6)),
        Insn::Call(CallTarget::Local(4)),
        alu(AluOp::Add, R7, x(R0)),
        alu(AluOp::Sub, R6, k(1)),
        jmp(JmpCond::Ne, R6, k(0), -5),
        alu(AluOp::Mov, R0, x(R7)),
        Insn::Exit,
        // f:
        alu(AluOp::Mov, R0, x(R1)),
        alu(AluOp::Add, R0, k(1)),
        Insn::Exit,
    ])
}

fn bench_prog(c: &mut Criterion, name: &str, prog: &Program, input: &mut [u8]) {
    let vm = Interpreter::new(prog).unwrap();
    let mut rt = Runtime::with_config(Config {
        insn_budget: u64::MAX,
        ..Config::default()
    });
    let insns = vm.invoke(&mut rt, Invocation::new(input)).unwrap().insns;
    let mut g = c.benchmark_group("interp");
    g.throughput(Throughput::Elements(insns));
    g.bench_function(name, |b| {
        b.iter(|| vm.invoke(&mut rt, Invocation::new(input)).unwrap().r0)
    });
    g.finish();
    eprintln!("{name}: {insns} instructions per run");
}

fn benches(c: &mut Criterion) {
    let mut buf: Vec<u8> = (0..2048u32).map(|i| (i * 7 + 3) as u8).collect();
    let empty = Program::from_insns([alu(AluOp::Mov, R0, k(0)), Insn::Exit]);
    bench_prog(c, "empty", &empty, &mut []);
    bench_prog(c, "counted_loop", &counted_loop(10_000), &mut []);
    bench_prog(c, "sum_2k", &sum_buffer(), &mut buf);
    bench_prog(c, "fnv_2k", &fnv(), &mut buf);
    bench_prog(c, "stack_loop", &stack_loop(10_000), &mut []);
    bench_prog(c, "call_loop", &call_loop(10_000), &mut []);
}

criterion_group!(interp, benches);
criterion_main!(interp);
