//! An x86-64 JIT for eBPF over the [`ebpf_runtime`] ABI (work in progress).
