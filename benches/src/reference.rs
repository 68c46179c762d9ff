//! What the engines are measured against: the same C compiled natively
//! (clang-19 `-O2`, with and without vectorisation), and the kernel's JIT
//! through `BPF_PROG_TEST_RUN`.
//!
//! The native code is the committed archive
//! `fixtures/native/libbench_native.a` (`cargo xtask fixtures`), linked by
//! this crate's build script; calling it is the one `unsafe` thing here.
//! The kernel side loads `fixtures/X.xdp.bin` (the XDP entry of the same
//! program) as `BPF_PROG_TYPE_XDP` and reads the kernel's own `duration`
//! of `repeat` runs, minus the cost of an empty program measured the same
//! way ([`ebpf_kernel::Kernel::test_run_overhead`]).
#![allow(unsafe_code)]

use ebpf_isa::RawInsn;
use ebpf_kernel::{Kernel, LoadedProg, ProgLoad, ProgType, TestRun};

use crate::{BenchError, Fixture};

/// The signature of every native entry: `u64 bench_X(u8 *mem, u64 len)`.
type NativeFn = unsafe extern "C" fn(*mut u8, u64) -> u64;

// The archive's symbols (see `bench.h`, `ENTRY_NATIVE`).
unsafe extern "C" {
    fn bench_empty(mem: *mut u8, len: u64) -> u64;
    fn bench_sum(mem: *mut u8, len: u64) -> u64;
    fn bench_fnv(mem: *mut u8, len: u64) -> u64;
    fn bench_xxh(mem: *mut u8, len: u64) -> u64;
    fn bench_parse(mem: *mut u8, len: u64) -> u64;
    fn bench_sort(mem: *mut u8, len: u64) -> u64;
    fn bench_collatz(mem: *mut u8, len: u64) -> u64;
    fn bench_calls(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_empty(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_sum(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_fnv(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_xxh(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_parse(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_sort(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_collatz(mem: *mut u8, len: u64) -> u64;
    fn novec_bench_calls(mem: *mut u8, len: u64) -> u64;
}

/// Which native build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NativeBuild {
    /// `clang-19 -O2`.
    Vectorized,
    /// `clang-19 -O2 -fno-vectorize -fno-slp-vectorize`.
    NoVec,
}

/// A benchmark program compiled natively.
#[derive(Clone, Copy, Debug)]
pub struct Native {
    name: &'static str,
    func: NativeFn,
}

impl Native {
    /// The native build of program `name`, if it is one of the fixtures.
    #[must_use]
    pub fn of(name: &str, build: NativeBuild) -> Option<Native> {
        let (name, func): (&'static str, NativeFn) = match (name, build) {
            ("empty", NativeBuild::Vectorized) => ("empty", bench_empty),
            ("sum", NativeBuild::Vectorized) => ("sum", bench_sum),
            ("fnv", NativeBuild::Vectorized) => ("fnv", bench_fnv),
            ("xxh", NativeBuild::Vectorized) => ("xxh", bench_xxh),
            ("parse", NativeBuild::Vectorized) => ("parse", bench_parse),
            ("sort", NativeBuild::Vectorized) => ("sort", bench_sort),
            ("collatz", NativeBuild::Vectorized) => ("collatz", bench_collatz),
            ("calls", NativeBuild::Vectorized) => ("calls", bench_calls),
            ("empty", NativeBuild::NoVec) => ("empty", novec_bench_empty),
            ("sum", NativeBuild::NoVec) => ("sum", novec_bench_sum),
            ("fnv", NativeBuild::NoVec) => ("fnv", novec_bench_fnv),
            ("xxh", NativeBuild::NoVec) => ("xxh", novec_bench_xxh),
            ("parse", NativeBuild::NoVec) => ("parse", novec_bench_parse),
            ("sort", NativeBuild::NoVec) => ("sort", novec_bench_sort),
            ("collatz", NativeBuild::NoVec) => ("collatz", novec_bench_collatz),
            ("calls", NativeBuild::NoVec) => ("calls", novec_bench_calls),
            _ => return None,
        };
        Some(Native { name, func })
    }

    /// The program's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Run on `input`.
    #[inline]
    pub fn run(&self, input: &mut [u8]) -> u64 {
        // SAFETY: `func` is one of the archive's `bench_X` functions, built
        // from `shared/bench-programs` with `ENTRY_NATIVE`: it reads
        // `[mem, mem + len)` only, behind the same explicit bounds checks
        // the BPF build has (which the kernel's verifier proves), writes
        // only its own stack, and returns a value. `mem` and `len` are a
        // live, exclusively borrowed slice and its length.
        unsafe { (self.func)(input.as_mut_ptr(), input.len() as u64) }
    }
}

/// A benchmark program loaded into the kernel as XDP.
#[derive(Debug)]
pub struct KernelProg {
    prog: LoadedProg,
}

/// The XDP build of a fixture (`X.xdp.bin`), as slots.
fn xdp_slots(f: &Fixture) -> Result<Vec<RawInsn>, BenchError> {
    let bytes = f.xdp_bytecode;
    if !bytes.len().is_multiple_of(RawInsn::SIZE) {
        return Err(BenchError::Decode {
            name: f.name,
            message: format!(
                "{}.xdp.bin is {} bytes, not whole slots",
                f.name,
                bytes.len()
            ),
        });
    }
    Ok(bytes
        .chunks_exact(RawInsn::SIZE)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            RawInsn::from_bytes(b)
        })
        .collect())
}

impl KernelProg {
    /// Load fixture `f`'s XDP build.
    pub fn load(k: &Kernel, f: &Fixture) -> Result<KernelProg, BenchError> {
        let slots = xdp_slots(f)?;
        let prog = k
            .prog_load(ProgLoad {
                prog_type: ProgType::XDP,
                insns: &slots,
                prog_name: f.name,
                ..ProgLoad::default()
            })
            .map_err(|e| BenchError::Prepare {
                name: f.name,
                message: format!("kernel: {e}"),
            })?;
        Ok(KernelProg { prog })
    }

    /// `repeat` runs on `input` in one `BPF_PROG_TEST_RUN`: the kernel's
    /// mean ns per run and `r0` (low 32 bits).
    pub fn time(
        &self,
        k: &Kernel,
        name: &'static str,
        input: &[u8],
        repeat: u32,
    ) -> Result<(u32, u32), BenchError> {
        let r = k
            .prog_test_run(
                &self.prog,
                TestRun {
                    data_in: input,
                    repeat,
                    ..TestRun::default()
                },
            )
            .map_err(|e| BenchError::Trap {
                name,
                message: format!("kernel test run: {e}"),
            })?;
        Ok((r.duration_ns, r.retval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_builds_give_the_expected_results() {
        for f in crate::fixtures().expect("fixtures") {
            for build in [NativeBuild::Vectorized, NativeBuild::NoVec] {
                let n = Native::of(f.name, build).expect("native build");
                assert_eq!(n.name(), f.name);
                let mut input = f.input.clone();
                assert_eq!(n.run(&mut input), f.expected, "{} {build:?}", f.name);
            }
        }
        assert!(Native::of("nope", NativeBuild::Vectorized).is_none());
    }

    #[test]
    fn kernel_jit_gives_the_expected_results() {
        let Some(k) = ebpf_kernel::probe_or_skip("kernel_jit_gives_the_expected_results") else {
            return;
        };
        for f in crate::fixtures().expect("fixtures") {
            let prog = KernelProg::load(&k, &f).expect("the kernel accepts the XDP build");
            let (_, r0) = prog.time(&k, f.name, &f.input, 1).expect("test run");
            assert_eq!(u64::from(r0), f.expected & 0xffff_ffff, "{}", f.name);
        }
    }
}
