//! Random but plausible eBPF programs, for asking two verifiers (the
//! kernel's and ours) the same question.
//!
//! Uniformly random bytes are almost all rejected at the first instruction,
//! so they say little about a verifier. [`generate`] instead writes programs
//! the way people do: the context saved in `r6`, packet pointers in `r7`
//! and `r8` with `data_end` checks before packet reads (XDP), map lookups
//! with a key on the stack and a `NULL` check, stack spills and fills,
//! if/else diamonds, bounded loops, helper and bpf-to-bpf calls, 32- and
//! 64-bit ALU. It tracks what a careful author would know (which registers
//! hold a value, which stack slots were written, how much packet was
//! checked, the value size of each map) so that most programs are valid,
//! and with [`GenConfig::bug_per_mille`] it plants one mistake of the kinds
//! verifiers exist to catch (a missing `NULL` check, a read one byte past a
//! checked packet range, an index mask one bit too wide, an uninitialised
//! register, a shift by the width, ...). [`Generated::bugs`] names what was
//! planted; whether the program is really unsafe is for the verifiers to
//! say.
//!
//! The program is kernel-syntax assembly with labels ([`Generated::text`]),
//! assembled with `ebpf_isa::asm`; map references are `map[idx:N]` into
//! [`Generated::maps`]. The same seed gives the same program.
//!
//! ```
//! use ebpf_progen::{generate, GenConfig, GenProgType};
//!
//! let g = generate(7, &GenConfig::default());
//! assert!(matches!(g.prog_type, GenProgType::SocketFilter | GenProgType::Xdp));
//! assert!(g.program.len() > 2);
//! assert_eq!(generate(7, &GenConfig::default()).text, g.text);
//! ```
//!
//! **Not here:** running the programs or judging them (`ebpf-kernel`'s
//! tests ask the kernel; the verifier's differential tests ask both), and
//! program types other than socket filters and XDP.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

use ebpf_isa::Program;

/// The program type a generated program is written for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GenProgType {
    /// `BPF_PROG_TYPE_SOCKET_FILTER` (`__sk_buff` context, no direct
    /// packet access).
    SocketFilter,
    /// `BPF_PROG_TYPE_XDP` (`xdp_md`: packet pointers at offsets 0 and 4).
    Xdp,
}

/// A map a generated program uses: `map[idx:N]` is `maps[N]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MapSpec {
    /// `BPF_MAP_TYPE_ARRAY` (2) or `BPF_MAP_TYPE_HASH` (1).
    pub map_type: u32,
    /// Key size in bytes (4).
    pub key_size: u32,
    /// Value size in bytes (a multiple of 8).
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
}

/// How programs are generated.
#[derive(Clone, Copy, Debug)]
pub struct GenConfig {
    /// Statements in the main body, at most (at least 1).
    pub max_stmts: u32,
    /// Chance, per mille, that a program gets one planted mistake.
    pub bug_per_mille: u32,
    /// Largest loop trip count.
    pub max_loop: u32,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            max_stmts: 12,
            bug_per_mille: 400,
            max_loop: 12,
        }
    }
}

/// One generated program.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The seed it came from.
    pub seed: u64,
    /// Its program type.
    pub prog_type: GenProgType,
    /// The maps it refers to by index.
    pub maps: Vec<MapSpec>,
    /// Kernel-syntax assembly with labels.
    pub text: String,
    /// `text`, assembled.
    pub program: Program,
    /// The mistakes planted, by name (empty: written to be valid).
    pub bugs: Vec<&'static str>,
}

/// SplitMix64: small, fast, good enough, and the same everywhere.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }

    fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }
}

/// Registers the generator computes in (`r6` = ctx, `r7`/`r8` = packet
/// pointers in XDP, `r10` = frame pointer are reserved).
const SCRATCH: [u8; 7] = [0, 1, 2, 3, 4, 5, 9];

/// What the author knows at a point of the program.
#[derive(Clone, Debug)]
struct Knowledge {
    /// Registers holding a scalar, by number.
    init: [bool; 11],
    /// 8-byte stack slots written (slot `k` is `r10 - 8 * (k + 1)`).
    stack: [bool; 64],
}

impl Knowledge {
    fn scalars(&self) -> Vec<u8> {
        SCRATCH
            .iter()
            .copied()
            .filter(|r| self.init[*r as usize])
            .collect()
    }

    /// A helper or bpf-to-bpf call: `r1..=r5` are clobbered, `r0` set.
    fn after_call(&mut self) {
        for r in 1..=5 {
            self.init[r] = false;
        }
        self.init[0] = true;
    }

    /// What holds after either of two paths.
    fn meet(&mut self, other: &Knowledge) {
        for (a, b) in self.init.iter_mut().zip(other.init) {
            *a &= b;
        }
        for (a, b) in self.stack.iter_mut().zip(other.stack) {
            *a &= b;
        }
    }
}

struct Gen<'c> {
    rng: Rng,
    cfg: &'c GenConfig,
    ty: GenProgType,
    maps: Vec<MapSpec>,
    out: String,
    labels: u32,
    /// A mistake may still be planted (at most one per program).
    bug_budget: bool,
    bugs: Vec<&'static str>,
    /// Subprograms to append after the main program's `exit`.
    subprogs: Vec<String>,
    /// Nesting depth of diamonds and loops.
    depth: u32,
    /// Bytes of packet proven readable from `r7` (XDP).
    pkt_checked: u32,
}

impl Gen<'_> {
    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn label(&mut self) -> String {
        self.labels += 1;
        format!("l{}", self.labels)
    }

    /// Plant a mistake now? At most one per program, at the configured rate
    /// spread over the statements.
    fn plant(&mut self, name: &'static str) -> bool {
        if !self.bug_budget || !self.rng.chance(120) {
            return false;
        }
        self.bug_budget = false;
        self.bugs.push(name);
        true
    }

    /// A scalar register, written first if none is.
    fn scalar(&mut self, k: &mut Knowledge) -> u8 {
        let have = k.scalars();
        if have.is_empty() || self.rng.chance(150) {
            let r = *self.rng.pick(&SCRATCH);
            let v = self.imm();
            self.line(&format!("r{r} = {v}"));
            k.init[r as usize] = true;
            return r;
        }
        *self.rng.pick(&have)
    }

    fn imm(&mut self) -> i64 {
        match self.rng.below(5) {
            0 => i64::from(self.rng.below(16)),
            1 => -i64::from(self.rng.below(256)),
            2 => i64::from(self.rng.below(1 << 16)),
            3 => i64::from(self.rng.next() as i32),
            _ => i64::from(self.rng.below(4096)),
        }
    }

    fn stmt(&mut self, k: &mut Knowledge) {
        let kinds: &[u32] = if self.depth >= 2 {
            &[0, 0, 1, 1, 2, 5]
        } else {
            &[0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7]
        };
        match *self.rng.pick(kinds) {
            0 => self.alu(k),
            1 => self.stack_op(k),
            2 => self.map_access(k),
            3 => self.diamond(k),
            4 => self.bounded_loop(k),
            5 => self.helper_call(k),
            6 => self.subprog_call(k),
            _ => self.packet_access(k),
        }
    }

    fn alu(&mut self, k: &mut Knowledge) {
        const OPS: [&str; 11] = [
            "+=", "-=", "*=", "&=", "|=", "^=", "<<=", ">>=", "s>>=", "/=", "%=",
        ];
        let dst = self.scalar(k);
        let op = *self.rng.pick(&OPS);
        let w32 = self.rng.chance(300);
        let reg = if w32 { 'w' } else { 'r' };
        let width = if w32 { 32 } else { 64 };
        let shift = op.contains("<<") || op.contains(">>");
        if self.rng.chance(500) {
            let src = self.scalar(k);
            if shift {
                // A register shift amount the verifier can bound.
                self.line(&format!("{reg}{src} &= {}", width - 1));
            }
            self.line(&format!("{reg}{dst} {op} {reg}{src}"));
        } else {
            let v = if shift {
                if self.plant("shift by the operand width") {
                    i64::from(width)
                } else {
                    i64::from(self.rng.below(width))
                }
            } else if op == "/=" || op == "%=" {
                i64::from(self.rng.below(100)) + 1
            } else {
                self.imm()
            };
            self.line(&format!("{reg}{dst} {op} {v}"));
        }
    }

    fn stack_op(&mut self, k: &mut Knowledge) {
        let slot = self.rng.below(64) as usize;
        let off = -8 * (slot as i64 + 1);
        let written: Vec<usize> = (0..64).filter(|s| k.stack[*s]).collect();
        if written.is_empty() || self.rng.chance(450) {
            if self.rng.chance(300) {
                let v = self.imm() as i32;
                self.line(&format!("*(u64 *)(r10 {off}) = {v}"));
            } else {
                let src = self.scalar(k);
                self.line(&format!("*(u64 *)(r10 {off}) = r{src}"));
            }
            k.stack[slot] = true;
        } else {
            let from = if self.plant("read of a stack slot never written") {
                (0..64).find(|s| !k.stack[*s]).unwrap_or(slot)
            } else {
                *self.rng.pick(&written)
            };
            let dst = *self.rng.pick(&SCRATCH);
            self.line(&format!(
                "r{dst} = *(u64 *)(r10 {})",
                -8 * (from as i64 + 1)
            ));
            k.init[dst as usize] = true;
        }
    }

    fn map_access(&mut self, k: &mut Knowledge) {
        let idx = self.rng.below(self.maps.len() as u32);
        let m = self.maps[idx as usize];
        let key_slot = self.rng.below(64) as usize;
        let key_off = -8 * (key_slot as i64 + 1);
        let key = self.rng.below(m.max_entries.saturating_add(2));
        self.line(&format!("*(u32 *)(r10 {key_off}) = {key}"));
        self.line(&format!("*(u32 *)(r10 {}) = 0", key_off + 4));
        k.stack[key_slot] = true;
        self.line("r2 = r10");
        self.line(&format!("r2 += {key_off}"));
        self.line(&format!("r1 = map[idx:{idx}]"));
        self.line("call bpf_map_lookup_elem#1");
        k.after_call();
        k.init[0] = false;
        let skip = self.label();
        if !self.plant("map value used without a NULL check") {
            self.line(&format!("if r0 == 0 goto {skip}"));
        }
        let words = m.value_size / 8;
        match self.rng.below(3) {
            0 => {
                let w = if self.plant("map value read past value_size") {
                    words
                } else {
                    self.rng.below(words)
                };
                let dst = *self.rng.pick(&[1u8, 2, 3, 4, 5, 9]);
                self.line(&format!("r{dst} = *(u64 *)(r0 +{})", w * 8));
            }
            1 => {
                let w = self.rng.below(words);
                let src = *self.rng.pick(&[1u8, 2, 3, 4, 5, 9]);
                let v = self.rng.below(1000);
                self.line(&format!("r{src} = {v}"));
                self.line(&format!("*(u64 *)(r0 +{}) = r{src}", w * 8));
            }
            _ => {
                // A variable index, masked to stay inside the value.
                let idx_reg = *self.rng.pick(&[1u8, 2, 3, 4, 5, 9]);
                self.line(&format!("r{idx_reg} = *(u64 *)(r0 +0)"));
                // The largest power of two of words that fits, as a mask.
                let fit = 1u32 << (31 - words.max(1).leading_zeros());
                let mask = if self.plant("variable index mask one bit too wide") {
                    2 * fit - 1
                } else {
                    fit - 1
                };
                self.line(&format!("r{idx_reg} &= {mask}"));
                self.line(&format!("r{idx_reg} <<= 3"));
                self.line(&format!("r0 += r{idx_reg}"));
                self.line("r0 = *(u64 *)(r0 +0)");
            }
        }
        self.line(&format!("{skip}:"));
        // r0 is NULL or a map value here; the author forgets it.
        self.line("r0 = 0");
        k.init[0] = true;
        for r in [1, 2, 3, 4, 5, 9] {
            k.init[r] = false;
        }
    }

    fn packet_access(&mut self, k: &mut Knowledge) {
        if self.ty != GenProgType::Xdp {
            return self.alu(k);
        }
        let len = 1 + self.rng.below(64);
        let out = self.label();
        let before = k.clone();
        let tmp = *self.rng.pick(&[1u8, 2, 3, 4, 5]);
        self.line(&format!("r{tmp} = r7"));
        self.line(&format!("r{tmp} += {len}"));
        self.line(&format!("if r{tmp} > r8 goto {out}"));
        let saved = self.pkt_checked;
        self.pkt_checked = self.pkt_checked.max(len);
        for _ in 0..1 + self.rng.below(3) {
            let (size, bytes) = *self.rng.pick(&[("u8", 1u32), ("u16", 2), ("u32", 4)]);
            if bytes > self.pkt_checked {
                continue;
            }
            let off = if self.plant("packet read one byte past the checked range") {
                self.pkt_checked
            } else {
                self.rng.below(self.pkt_checked - bytes + 1)
            };
            let dst = *self.rng.pick(&[0u8, 1, 2, 3, 4, 5, 9]);
            self.line(&format!("r{dst} = *({size} *)(r7 +{off})"));
            k.init[dst as usize] = true;
        }
        self.line(&format!("{out}:"));
        self.pkt_checked = saved;
        // The reads inside the guarded block may not have happened, and
        // `tmp` holds a packet pointer, not a scalar.
        *k = before;
        k.init[tmp as usize] = false;
    }

    fn diamond(&mut self, k: &mut Knowledge) {
        const CONDS: [&str; 10] = ["==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<="];
        let r = self.scalar(k);
        let cond = *self.rng.pick(&CONDS);
        let v = self.imm();
        let (other, end) = (self.label(), self.label());
        self.line(&format!("if r{r} {cond} {v} goto {other}"));
        self.depth += 1;
        let mut then_k = k.clone();
        for _ in 0..1 + self.rng.below(3) {
            self.stmt(&mut then_k);
        }
        self.line(&format!("goto {end}"));
        self.line(&format!("{other}:"));
        let mut else_k = k.clone();
        for _ in 0..self.rng.below(3) {
            self.stmt(&mut else_k);
        }
        self.line(&format!("{end}:"));
        self.depth -= 1;
        then_k.meet(&else_k);
        *k = then_k;
    }

    fn bounded_loop(&mut self, k: &mut Knowledge) {
        let counter = 9u8;
        let n = 1 + self.rng.below(self.cfg.max_loop.max(1));
        let head = self.label();
        self.line(&format!("r{counter} = 0"));
        self.line(&format!("{head}:"));
        self.depth += 1;
        let mut body = k.clone();
        body.init[counter as usize] = true;
        for _ in 0..1 + self.rng.below(2) {
            let dst = *self.rng.pick(&[0u8, 1, 2, 3, 4, 5]);
            if !body.init[dst as usize] {
                self.line(&format!("r{dst} = 1"));
                body.init[dst as usize] = true;
            }
            self.line(&format!("r{dst} += r{counter}"));
        }
        self.depth -= 1;
        if self.plant("loop whose counter never moves") {
            self.line(&format!("if r{counter} < {n} goto {head}"));
        } else {
            self.line(&format!("r{counter} += 1"));
            self.line(&format!("if r{counter} < {n} goto {head}"));
        }
        // The body ran at least once.
        *k = body;
    }

    fn helper_call(&mut self, k: &mut Knowledge) {
        let (name, id) = *self.rng.pick(&[
            ("bpf_ktime_get_ns", 5),
            ("bpf_get_prandom_u32", 7),
            ("bpf_get_smp_processor_id", 8),
        ]);
        self.line(&format!("call {name}#{id}"));
        k.after_call();
        if self.plant("register read after a call clobbered it") {
            self.line("r0 = r3");
        }
    }

    fn subprog_call(&mut self, k: &mut Knowledge) {
        let arg = self.scalar(k);
        if arg != 1 {
            self.line(&format!("r1 = r{arg}"));
        }
        let name = format!("sub{}", self.subprogs.len());
        let mut body = format!("{name}:\nr0 = r1\n");
        for _ in 0..1 + self.rng.below(3) {
            let v = self.rng.below(100) + 1;
            let op = *self.rng.pick(&["+=", "*=", "^=", "/="]);
            let _ = writeln!(body, "r0 {op} {v}");
        }
        if self.plant("subprogram returns without setting r0") {
            body = format!("{name}:\nr1 += 1\n");
        }
        body.push_str("exit\n");
        self.subprogs.push(body);
        self.line(&format!("call {name}"));
        k.after_call();
    }
}

/// Generate the program of `seed`.
#[must_use]
pub fn generate(seed: u64, cfg: &GenConfig) -> Generated {
    let mut rng = Rng(seed);
    let ty = if rng.chance(500) {
        GenProgType::Xdp
    } else {
        GenProgType::SocketFilter
    };
    let maps = (0..1 + rng.below(2))
        .map(|_| MapSpec {
            map_type: if rng.chance(500) { 2 } else { 1 },
            key_size: 4,
            value_size: 8 * (1 + rng.below(8)),
            max_entries: 1 + rng.below(16),
        })
        .collect();
    let bug_budget = rng.chance(cfg.bug_per_mille);
    let mut g = Gen {
        rng,
        cfg,
        ty,
        maps,
        out: String::new(),
        labels: 0,
        bug_budget,
        bugs: Vec::new(),
        subprogs: Vec::new(),
        depth: 0,
        pkt_checked: 0,
    };
    let mut k = Knowledge {
        init: [false; 11],
        stack: [false; 64],
    };
    g.line("r6 = r1");
    k.init[6] = true;
    if ty == GenProgType::Xdp {
        g.line("r7 = *(u32 *)(r6 +0)");
        g.line("r8 = *(u32 *)(r6 +4)");
    }
    let n = 1 + g.rng.below(cfg.max_stmts.max(1));
    for _ in 0..n {
        g.stmt(&mut k);
    }
    if k.init[0] || !g.plant("exit with r0 never written") {
        let v = g.rng.below(3);
        g.line(&format!("r0 = {v}"));
    }
    g.line("exit");
    for s in std::mem::take(&mut g.subprogs) {
        g.out.push_str(&s);
    }
    let program = match ebpf_isa::asm::assemble(&g.out) {
        Ok(p) => p,
        // Every line above is valid assembly; a failure here is a bug in
        // this generator, shown with the text that caused it.
        Err(e) => panic!(
            "ebpf-progen: seed {seed}: generated assembly does not assemble: {e}\n{}",
            g.out
        ),
    };
    Generated {
        seed,
        prog_type: ty,
        maps: g.maps,
        text: g.out,
        program,
        bugs: g.bugs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_assembles() {
        let cfg = GenConfig::default();
        for seed in 0..2000 {
            let a = generate(seed, &cfg);
            let b = generate(seed, &cfg);
            assert_eq!(a.text, b.text, "seed {seed}");
            assert!(a.program.len() >= 3, "seed {seed}");
            assert!(a.bugs.len() <= 1, "seed {seed}");
        }
    }

    #[test]
    fn variety() {
        let cfg = GenConfig::default();
        let gens: Vec<Generated> = (0..500).map(|s| generate(s, &cfg)).collect();
        let xdp = gens
            .iter()
            .filter(|g| g.prog_type == GenProgType::Xdp)
            .count();
        assert!((150..350).contains(&xdp), "{xdp} XDP programs of 500");
        let buggy = gens.iter().filter(|g| !g.bugs.is_empty()).count();
        assert!(
            (50..300).contains(&buggy),
            "{buggy} programs with a planted bug"
        );
        for needle in ["call bpf_map_lookup_elem#1", "goto l", "call sub", "r7 +"] {
            assert!(
                gens.iter().any(|g| g.text.contains(needle)),
                "no program contains {needle:?}"
            );
        }
    }
}
