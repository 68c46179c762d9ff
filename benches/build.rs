//! Link the native reference build of the benchmark programs
//! (`fixtures/native/libbench_native.a`, made by `cargo xtask fixtures`
//! with clang-19 `-O2 -fPIC`), so `reference::Native` can call it.

fn main() {
    let dir = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("fixtures/native");
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=bench_native");
    println!("cargo:rerun-if-changed=fixtures/native/libbench_native.a");
}
