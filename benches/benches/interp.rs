//! Criterion benchmarks of `ebpf-interp` on every fixture of
//! `benches/fixtures/` and on the hand-written loops.
//!
//! Each benchmark checks its result once before timing and reports its
//! throughput in executed instruction slots (criterion's "elements"), so
//! `1 / throughput` is the time per executed instruction. `fixture/empty`
//! is the cost of entering and leaving a run through `Interpreter::invoke`
//! (a session per run), `vm/empty` through a prepared entry (`Vm::run`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebpf_benches::{asm_loops, check, fixtures, prepare, run_once, runtime};
use ebpf_runtime::Invocation;

fn benches(c: &mut Criterion) {
    let mut rt = runtime();
    let mut g = c.benchmark_group("fixture");
    for f in fixtures().expect("fixtures decode") {
        let vm = prepare(f.name, &f.program).expect("fixture prepares");
        let mut input = f.input.clone();
        let insns = check(&f, &vm, &mut rt, &mut input).expect("fixture result");
        g.throughput(Throughput::Elements(insns));
        g.bench_function(f.name, |b| {
            b.iter(|| {
                vm.invoke(&mut rt, Invocation::new(&mut input))
                    .map_or(u64::MAX, |o| o.r0)
            })
        });
    }
    g.finish();

    // The same fixtures through a prepared entry (`Interpreter::prepare`,
    // `Vm::run`): `vm/empty` is the cost of entering and leaving a run.
    let mut g = c.benchmark_group("vm");
    for f in fixtures().expect("fixtures decode") {
        let interp = prepare(f.name, &f.program).expect("fixture prepares");
        let mut input = f.input.clone();
        let insns = check(&f, &interp, &mut rt, &mut input).expect("fixture result");
        let mut vm = interp.prepare(&mut rt);
        g.throughput(Throughput::Elements(insns));
        g.bench_function(f.name, |b| {
            b.iter(|| vm.run(&mut input).map_or(u64::MAX, |o| o.r0))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("loop");
    for l in asm_loops().expect("loops assemble") {
        let vm = prepare(l.name, &l.program).expect("loop prepares");
        let mut input = l.input.clone();
        let (_, insns) = run_once(l.name, &vm, &mut rt, &mut input).expect("loop runs");
        g.throughput(Throughput::Elements(insns));
        g.bench_function(l.name, |b| {
            b.iter(|| {
                vm.invoke(&mut rt, Invocation::new(&mut input))
                    .map_or(u64::MAX, |o| o.r0)
            })
        });
    }
    g.finish();
}

criterion_group!(interp, benches);
criterion_main!(interp);
