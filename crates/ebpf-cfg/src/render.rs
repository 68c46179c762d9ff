//! Text and Graphviz renderings of a [`Cfg`]. Both print instructions with
//! `Display for Insn` (the kernel's syntax).

use core::fmt::{self, Write as _};
use std::collections::HashSet;

use crate::cfg::{Block, Cfg, Edge, EdgeKind, Terminator};
use crate::ids::BlockId;

fn join_blocks(blocks: &[BlockId]) -> String {
    let mut s = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b}");
    }
    s
}

impl Cfg {
    fn edge_note(&self, e: &Edge, irreducible: &HashSet<&Edge>) -> &'static str {
        if self.is_loop_back_edge(e) {
            " (loop back-edge)"
        } else if irreducible.contains(e) {
            " (irreducible)"
        } else {
            ""
        }
    }

    fn block_heading(&self, b: &Block) -> String {
        let mut s = format!("{} [{}..{})", b.id, b.start, b.end);
        if let Some(d) = self.idom(b.id) {
            let _ = write!(s, " idom {d}");
        }
        if let Some(l) = self.loop_of(b.id) {
            if self.is_loop_header(b.id) {
                let _ = write!(s, " header of {l}");
            } else {
                let _ = write!(s, " in {l}");
            }
        }
        if !self.is_reachable(b.id) {
            s.push_str(" unreachable from entry");
        }
        if b.terminator == Terminator::IndirectJump && !self.jump_tables_known() {
            s.push_str(" gotox targets unknown");
        }
        s
    }

    /// The graph in Graphviz DOT: one cluster per subprogram, one box per
    /// block listing its instructions in kernel syntax (`slot: insn`),
    /// edges styled by kind (taken branches green, calls and function
    /// references blue and dashed), loop headers with a double red border,
    /// loop back-edges red and dashed, irreducible edges orange and dashed,
    /// blocks only a `gotox` reaches grey and dashed.
    ///
    /// Render with `dot -Tsvg`.
    #[must_use]
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        out.push_str("digraph cfg {\n");
        out.push_str("\tnode [shape=box, fontname=\"monospace\"];\n");
        out.push_str("\tedge [fontname=\"monospace\"];\n");
        for sp in self.subprogs() {
            let _ = writeln!(out, "\tsubgraph cluster_{} {{", sp.id.index());
            let _ = writeln!(out, "\t\tlabel=\"{} [{}..{})\";", sp.id, sp.start, sp.end);
            for b in self.subprog_blocks(sp.id) {
                let mut label = dot_escape(&self.block_heading(b));
                label.push_str("\\l");
                for (slot, insn) in self.block_insns(b.id) {
                    label.push_str(&dot_escape(&format!("{slot}: {insn}")));
                    label.push_str("\\l");
                }
                let mut attrs = format!("label=\"{label}\"");
                if self.is_loop_header(b.id) {
                    attrs.push_str(", peripheries=2, color=red");
                }
                if !self.is_reachable(b.id) {
                    attrs.push_str(", style=dashed, color=grey");
                }
                let _ = writeln!(out, "\t\t{} [{attrs}];", b.id);
            }
            out.push_str("\t}\n");
        }
        let irreducible: HashSet<&Edge> = self.irreducible_edges().iter().collect();
        for e in self.edges() {
            let (base, mut color, mut style) = match e.kind {
                EdgeKind::FallThrough | EdgeKind::Jump => ("", "", ""),
                EdgeKind::Branch => ("taken", "darkgreen", ""),
                EdgeKind::Call => ("call", "blue", "dashed"),
                EdgeKind::PseudoFunc => ("func", "blue", "dotted"),
                EdgeKind::Indirect => ("gotox", "purple", ""),
                EdgeKind::AbnormalReturn => ("abnormal", "grey", "dotted"),
            };
            let mut label = base.to_owned();
            if self.is_loop_back_edge(e) {
                (color, style) = ("red", "dashed");
                label = if label.is_empty() {
                    "back-edge".to_owned()
                } else {
                    format!("{label}, back-edge")
                };
            } else if irreducible.contains(e) {
                (color, style) = ("orange", "dashed");
                label = if label.is_empty() {
                    "irreducible".to_owned()
                } else {
                    format!("{label}, irreducible")
                };
            }
            let mut attrs = Vec::new();
            if !label.is_empty() {
                attrs.push(format!("label=\"{}\"", dot_escape(&label)));
            }
            if !color.is_empty() {
                attrs.push(format!("color={color}"));
            }
            if !style.is_empty() {
                attrs.push(format!("style={style}"));
            }
            if attrs.is_empty() {
                let _ = writeln!(out, "\t{} -> {};", e.from, e.to);
            } else {
                let _ = writeln!(out, "\t{} -> {} [{}];", e.from, e.to, attrs.join(", "));
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Escape text for a double-quoted DOT string: backslashes and quotes,
/// and line breaks as left-justified breaks.
pub(crate) fn dot_escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\l"),
            '\r' => {}
            c => s.push(c),
        }
    }
    s
}

const fn terminator_name(t: Terminator) -> &'static str {
    match t {
        Terminator::FallThrough => "fallthrough",
        Terminator::Jump => "jump",
        Terminator::Branch => "branch",
        Terminator::Call => "call",
        Terminator::PseudoFunc => "func",
        Terminator::AbnormalReturn => "abnormal return",
        Terminator::IndirectJump => "gotox",
        Terminator::Exit => "exit",
    }
}

/// A plain-text listing: per subprogram its reverse postorder and blocks
/// (heading with immediate dominator and innermost loop, instructions with
/// `check_cfg`'s marks, outgoing edges), then the loops (header, depth,
/// parent, latches, number of blocks), `check_cfg`'s back-edges and the
/// irreducible edges. Linear in the size of the graph.
impl fmt::Display for Cfg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let irreducible: HashSet<&Edge> = self.irreducible_edges().iter().collect();
        for sp in self.subprogs() {
            write!(f, "{} [{}..{}) entry {}", sp.id, sp.start, sp.end, sp.entry)?;
            if let Some(e) = sp.exit_idx {
                write!(f, " exit_idx {e}")?;
            }
            writeln!(f)?;
            writeln!(f, "  rpo: {}", join_blocks(self.rpo(sp.id)))?;
            for b in self.subprog_blocks(sp.id) {
                writeln!(f, "  {}", self.block_heading(b))?;
                for (slot, insn) in self.block_insns(b.id) {
                    let marks = self.marks(slot);
                    if marks.is_empty() {
                        writeln!(f, "      {slot}: {insn}")?;
                    } else {
                        writeln!(f, "      {slot}: {insn}  ; {marks}")?;
                    }
                }
                write!(f, "    {}", terminator_name(b.terminator))?;
                for (i, e) in self.succs(b.id).iter().enumerate() {
                    let sep = if i == 0 { " -> " } else { ", " };
                    let note = self.edge_note(e, &irreducible);
                    write!(f, "{sep}{} {}{note}", e.to, e.kind.name())?;
                }
                writeln!(f)?;
            }
        }
        if self.loops().is_empty() {
            writeln!(f, "loops: none")?;
        } else {
            // Body sizes bottom-up (children have larger ids than their
            // parent), so that printing stays linear however deep the
            // nesting; each block's heading names its innermost loop.
            let mut size = vec![0usize; self.loops().len()];
            for b in self.blocks() {
                if let Some(n) = self.loop_of(b.id).and_then(|l| size.get_mut(l.index())) {
                    *n += 1;
                }
            }
            for l in self.loops().iter().rev() {
                let own = size.get(l.id.index()).copied().unwrap_or(0);
                if let Some(n) = l.parent.and_then(|p| size.get_mut(p.index())) {
                    *n += own;
                }
            }
            writeln!(f, "loops:")?;
            for l in self.loops() {
                write!(f, "  {} header {} depth {}", l.id, l.header, l.depth)?;
                if let Some(p) = l.parent {
                    write!(f, " parent {p}")?;
                }
                writeln!(
                    f,
                    " latches {} size {}",
                    join_blocks(&l.latches),
                    size.get(l.id.index()).copied().unwrap_or(0)
                )?;
            }
        }
        if self.back_edges().is_empty() {
            writeln!(f, "check_cfg back-edges: none")?;
        } else {
            writeln!(f, "check_cfg back-edges:")?;
            for e in self.back_edges() {
                writeln!(f, "  {} -> {}", e.from, e.to)?;
            }
        }
        if !self.irreducible_edges().is_empty() {
            writeln!(f, "irreducible edges:")?;
            for e in self.irreducible_edges() {
                writeln!(f, "  {} -> {} {}", e.from, e.to, e.kind.name())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::dot_escape;

    #[test]
    fn escapes_quotes_backslashes_and_newlines() {
        assert_eq!(dot_escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(dot_escape("x\ny"), "x\\ly");
        assert_eq!(
            dot_escape("*(u32 *)(r1 +4) <> {} |"),
            "*(u32 *)(r1 +4) <> {} |"
        );
    }
}
