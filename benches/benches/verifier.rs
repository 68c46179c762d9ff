//! Criterion benchmarks of `ebpf-verifier` on every program of the loader
//! fixtures (`crates/ebpf-loader/fixtures/build/*.o`), verified as a
//! libbpf-style loader would have the kernel verify them, without a log.
//!
//! Throughput is in processed instructions (criterion's "elements"), so
//! `1 / throughput` is the time per processed instruction: the kernel
//! spends 0.4–1.4 µs on each; `cargo xtask bench` prints ours next to the
//! kernel's own `verification time` for every program.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebpf_benches::verifier::object_programs;
use ebpf_verifier::platform::LinuxPlatform;

fn benches(c: &mut Criterion) {
    let platform = LinuxPlatform::new();
    let mut g = c.benchmark_group("verify");
    for p in object_programs().expect("loader fixtures load") {
        let first = p.verify(&platform, 0);
        assert!(first.result.is_ok(), "{}: {:?}", p.name, first.result);
        g.throughput(Throughput::Elements(first.stats.insns_processed));
        g.bench_function(&p.name, |b| {
            b.iter(|| p.verify(&platform, 0).stats.insns_processed)
        });
    }
    g.finish();
}

criterion_group! {
    name = verifier;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(200))
        .measurement_time(std::time::Duration::from_millis(500))
        .sample_size(20);
    targets = benches
}
criterion_main!(verifier);
