//! Print the program of a seed: `cargo run -p ebpf-progen --example show -- SEED`.

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let g = ebpf_progen::generate(seed, &ebpf_progen::GenConfig::default());
    println!(
        "; seed {seed}: {:?}, maps {:?}, planted {:?}",
        g.prog_type, g.maps, g.bugs
    );
    for (pc, insn) in g.program.iter() {
        println!("{pc}: {insn}");
    }
}
