//! Building the CFG of a realistic program of 1,000,000 instructions (the
//! kernel's limit): about 286,000 blocks, 414,000 edges, 22,000 loops
//! (nested up to three deep), 10 subprograms. See `tests/common/mod.rs`
//! for the generator.
//!
//! Run with `cargo bench -p ebpf-cfg`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebpf_cfg::{Cfg, MAX_INSNS};

#[path = "../tests/common/mod.rs"]
mod common;

fn build(c: &mut Criterion) {
    let prog = common::realistic(MAX_INSNS, 42);
    let cfg = Cfg::build(&prog).expect("the generated program passes the checks");
    assert_eq!(cfg.subprogs().len(), common::FUNCS + 2);
    let mut group = c.benchmark_group("cfg");
    group.sample_size(20);
    group.throughput(Throughput::Elements(prog.len() as u64));
    group.bench_function("build_1m_insns", |b| {
        b.iter(|| Cfg::build(std::hint::black_box(&prog)));
    });
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
