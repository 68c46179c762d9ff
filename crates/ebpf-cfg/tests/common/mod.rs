//! A generator of large, realistic programs, shared by `tests/big.rs` and
//! `benches/build.rs`: a main program calling several subprograms and
//! handing a callback to `bpf_loop`, each made of straight-line code,
//! if/else, switch-like compare chains, counted loops, `may_goto` loops
//! (nested up to three deep), map lookups with null checks and `ld_imm64`.
//! Deterministic for a given seed.

use ebpf_isa::{AluOp, CallTarget, Imm64, Insn, JmpCond, Operand, Program, Reg, Size, Width};

/// Subprograms besides the main program and the callback.
pub(crate) const FUNCS: usize = 8;

struct Gen {
    out: Vec<Insn>,
    rng: u64,
}

fn reg(n: u64) -> Reg {
    Reg::new(n as u8).unwrap_or(Reg::R0)
}

impl Gen {
    fn rnd(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.rnd() % n
    }
    fn here(&self) -> usize {
        self.out.len()
    }
    fn alu(&mut self, op: AluOp, dst: Reg, src: Operand) {
        self.out.push(Insn::Alu {
            op,
            width: Width::W64,
            dst,
            src,
        });
    }
    fn straight(&mut self, n: u64) {
        for _ in 0..n {
            let dst = reg(self.below(6));
            let src = reg(self.below(6));
            let slot = -8 * (1 + self.below(8) as i16);
            match self.below(8) {
                0 => {
                    let k = self.below(100) as i32;
                    self.alu(AluOp::Add, dst, Operand::Imm(k));
                }
                1 => self.alu(AluOp::Mov, dst, Operand::Reg(src)),
                2 => self.out.push(Insn::Store {
                    size: Size::DW,
                    dst: Reg::R10,
                    off: slot,
                    src: Operand::Reg(src),
                }),
                3 => self.out.push(Insn::Load {
                    size: Size::DW,
                    dst,
                    src: Reg::R10,
                    off: slot,
                }),
                4 => self.alu(AluOp::Xor, dst, Operand::Reg(src)),
                5 => self.alu(AluOp::Lsh, dst, Operand::Imm(3)),
                6 => self.alu(AluOp::And, dst, Operand::Imm(0xff)),
                _ => self.alu(AluOp::Mul, dst, Operand::Imm(7)),
            }
        }
    }
    fn cond(&mut self, cond: JmpCond, dst: Reg, imm: i32) -> usize {
        self.out.push(Insn::Jump {
            cond,
            width: Width::W64,
            dst,
            src: Operand::Imm(imm),
            off: 0,
        });
        self.here() - 1
    }
    fn ja(&mut self) -> usize {
        self.out.push(Insn::Ja { off: 0 });
        self.here() - 1
    }
    /// Point the jump at `at` to `target`.
    fn patch(&mut self, at: usize, target: usize) {
        let off = i16::try_from(target as i64 - at as i64 - 1).expect("offset fits i16");
        match &mut self.out[at] {
            Insn::Jump { off: o, .. } | Insn::Ja { off: o } | Insn::MayGoto { off: o } => *o = off,
            other => panic!("not a jump: {other:?}"),
        }
    }
    fn small(&mut self, depth: u32) -> usize {
        let budget = 3 + self.below(if depth == 0 { 40 } else { 12 }) as usize;
        self.body(depth + 1, budget);
        budget
    }
    fn body(&mut self, depth: u32, budget: usize) {
        let end = self.here() + budget;
        while self.here() < end {
            match self.below(14) {
                4 | 5 if depth < 4 => {
                    // if / else
                    let r = reg(1 + self.below(5));
                    let k = self.below(50) as i32;
                    let j = self.cond(JmpCond::Gt, r, k);
                    self.small(depth);
                    if self.below(2) == 0 {
                        let g = self.ja();
                        let at = self.here();
                        self.patch(j, at);
                        self.small(depth);
                        let at = self.here();
                        self.patch(g, at);
                    } else {
                        let at = self.here();
                        self.patch(j, at);
                    }
                }
                6 if depth < 3 => {
                    // counted loop
                    let r = reg(6 + u64::from(depth));
                    let n = 2 + self.below(30) as i32;
                    self.alu(AluOp::Mov, r, Operand::Imm(n));
                    let head = self.here();
                    self.small(depth);
                    self.alu(AluOp::Sub, r, Operand::Imm(1));
                    let back = self.cond(JmpCond::Ne, r, 0);
                    self.patch(back, head);
                }
                7 if depth < 3 => {
                    // may_goto loop
                    let head = self.here();
                    self.out.push(Insn::MayGoto { off: 0 });
                    let m = head;
                    self.small(depth);
                    let back = self.ja();
                    self.patch(back, head);
                    let at = self.here();
                    self.patch(m, at);
                }
                8 => {
                    // map lookup with a null check
                    let map = self.below(4) as u32;
                    self.out.push(Insn::LdImm64 {
                        dst: Reg::R1,
                        imm: Imm64::MapIdx(map),
                    });
                    self.out.push(Insn::LdImm64Tail);
                    self.alu(AluOp::Mov, Reg::R2, Operand::Reg(Reg::R10));
                    self.alu(AluOp::Add, Reg::R2, Operand::Imm(-8));
                    self.out.push(Insn::Call(CallTarget::Helper(1)));
                    let j = self.cond(JmpCond::Eq, Reg::R0, 0);
                    self.out.push(Insn::Load {
                        size: Size::W,
                        dst: Reg::R3,
                        src: Reg::R0,
                        off: 0,
                    });
                    let n = 1 + self.below(3);
                    self.straight(n);
                    let at = self.here();
                    self.patch(j, at);
                }
                9 => {
                    let v = self.rnd();
                    let dst = reg(self.below(6));
                    self.out.push(Insn::LdImm64 {
                        dst,
                        imm: Imm64::Imm(v),
                    });
                    self.out.push(Insn::LdImm64Tail);
                }
                10 if depth < 4 => {
                    // switch: a compare chain, cases, a default
                    let n = 3 + self.below(4);
                    let jumps: Vec<usize> = (0..n)
                        .map(|i| self.cond(JmpCond::Eq, Reg::R1, i as i32))
                        .collect();
                    let default = self.ja();
                    let mut ends = Vec::new();
                    for j in jumps {
                        let at = self.here();
                        self.patch(j, at);
                        let n = 1 + self.below(4);
                        self.straight(n);
                        ends.push(self.ja());
                    }
                    let at = self.here();
                    self.patch(default, at);
                    let n = 1 + self.below(3);
                    self.straight(n);
                    let at = self.here();
                    for e in ends {
                        self.patch(e, at);
                    }
                }
                _ => {
                    let n = 1 + self.below(6);
                    self.straight(n);
                }
            }
        }
    }
}

/// A program of exactly `len` slots (at least 10,000).
pub(crate) fn realistic(len: usize, seed: u64) -> Program {
    assert!(len >= 10_000);
    let mut g = Gen {
        out: Vec::new(),
        rng: seed | 1,
    };
    // Subprograms 1..=FUNCS, then the callback, each about 1/10 of `len`.
    let per = len / (FUNCS + 2);
    let mut funcs: Vec<Vec<Insn>> = Vec::new();
    for _ in 0..FUNCS {
        g.out.clear();
        g.body(0, per - 2);
        g.alu(AluOp::Mov, Reg::R0, Operand::Imm(0));
        g.out.push(Insn::Exit);
        funcs.push(std::mem::take(&mut g.out));
    }
    g.out.clear();
    g.body(0, 200);
    g.alu(AluOp::Mov, Reg::R0, Operand::Imm(0));
    g.out.push(Insn::Exit);
    funcs.push(std::mem::take(&mut g.out));

    // Main: calls, the bpf_loop callback, a body, padding, exit.
    let mut main = Vec::new();
    let mut calls = Vec::new(); // (slot in main, function index)
    for f in 0..FUNCS {
        calls.push((main.len(), f));
        main.push(Insn::Call(CallTarget::Local(0)));
    }
    main.push(Insn::Alu {
        op: AluOp::Mov,
        width: Width::W64,
        dst: Reg::R1,
        src: Operand::Imm(16),
    });
    calls.push((main.len(), FUNCS));
    main.push(Insn::LdImm64 {
        dst: Reg::R2,
        imm: Imm64::Func(0),
    });
    main.push(Insn::LdImm64Tail);
    main.push(Insn::Call(CallTarget::Helper(181)));
    let rest: usize = funcs.iter().map(Vec::len).sum();
    let main_body = len - rest - main.len() - 2 - 64;
    g.out = main;
    g.body(0, main_body);
    while g.here() < len - rest - 2 {
        g.alu(AluOp::Add, Reg::R0, Operand::Imm(1));
    }
    g.alu(AluOp::Mov, Reg::R0, Operand::Imm(0));
    g.out.push(Insn::Exit);
    let mut insns = std::mem::take(&mut g.out);
    let mut starts = Vec::new();
    for f in &funcs {
        starts.push(insns.len());
        insns.extend_from_slice(f);
    }
    assert_eq!(insns.len(), len);
    for (at, f) in calls {
        let off = (starts[f] as i64 - at as i64 - 1) as i32;
        match &mut insns[at] {
            Insn::Call(CallTarget::Local(o))
            | Insn::LdImm64 {
                imm: Imm64::Func(o),
                ..
            } => *o = off,
            other => panic!("not a call: {other:?}"),
        }
    }
    Program::from_insns(insns)
}
