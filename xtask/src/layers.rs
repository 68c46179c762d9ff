//! The crate layering check: every dependency edge between workspace
//! packages must be allowed by the table below.
//!
//! The layers (from `shared/DESIGN.md`, "Crates and layers"):
//!
//! ```text
//! layer 0  ebpf-isa
//! layer 1  ebpf-cfg, ebpf-loader, ebpf-runtime, ebpf-progen     (each: isa)
//! layer 2  ebpf-verifier (isa, cfg, progen), ebpf-interp (isa, runtime),
//!          ebpf-jit-x86 (isa, runtime)
//! layer 3  ebpf (anything below), ebpf-cli (anything below + ebpf),
//!          ebpf-kernel (isa, cfg, loader, runtime, interp, verifier, progen),
//!          ebpf-conformance (isa, runtime, interp, jit-x86)
//! ```
//!
//! Rules, in the order they are checked:
//!
//! 1. Every workspace package except `xtask` must have a row in [`LAYERS`];
//!    a new crate is a visible, reviewed change to this file.
//! 2. A normal or build dependency must be in the row's `may_use` list.
//! 3. A dev-dependency is allowed when rule 2 would allow it, or when it is
//!    listed in [`DEV_EDGES`] with the reason it exists. Dev edges may point
//!    sideways (tests compare engines), but each one is named here.
//!
//! `xtask` is exempt: it is a developer tool that nothing depends on.
//! [`check`] is a pure function over parsed metadata, so it is unit-tested on
//! synthetic graphs; [`run`] applies it to the real workspace.

use crate::error::Error;
use crate::metadata::{DepKind, Package};

/// One row of the layer table.
#[derive(Debug)]
pub(crate) struct Layer {
    /// Package name.
    pub(crate) name: &'static str,
    /// Layer number; everything in `may_use` is in a lower layer.
    pub(crate) layer: u8,
    /// Workspace packages it may depend on (normal, build or dev).
    pub(crate) may_use: &'static [&'static str],
}

const ISA: &str = "ebpf-isa";
const CFG: &str = "ebpf-cfg";
const LOADER: &str = "ebpf-loader";
const RUNTIME: &str = "ebpf-runtime";
const VERIFIER: &str = "ebpf-verifier";
const INTERP: &str = "ebpf-interp";
const JIT: &str = "ebpf-jit-x86";
const FACADE: &str = "ebpf";

/// The layer table. Add a row when adding a crate.
pub(crate) const LAYERS: &[Layer] = &[
    Layer {
        name: ISA,
        layer: 0,
        may_use: &[],
    },
    Layer {
        name: CFG,
        layer: 1,
        may_use: &[ISA],
    },
    Layer {
        name: LOADER,
        layer: 1,
        may_use: &[ISA],
    },
    Layer {
        name: RUNTIME,
        layer: 1,
        may_use: &[ISA],
    },
    Layer {
        name: "ebpf-progen",
        layer: 1,
        may_use: &[ISA],
    },
    Layer {
        name: VERIFIER,
        layer: 2,
        may_use: &[ISA, CFG, "ebpf-progen"],
    },
    Layer {
        name: INTERP,
        layer: 2,
        may_use: &[ISA, RUNTIME],
    },
    Layer {
        name: JIT,
        layer: 2,
        may_use: &[ISA, RUNTIME],
    },
    Layer {
        name: FACADE,
        layer: 3,
        may_use: &[ISA, CFG, LOADER, RUNTIME, VERIFIER, INTERP, JIT],
    },
    Layer {
        name: "ebpf-cli",
        layer: 3,
        may_use: &[ISA, CFG, LOADER, RUNTIME, VERIFIER, INTERP, JIT, FACADE],
    },
    Layer {
        name: "ebpf-kernel",
        layer: 3,
        may_use: &[ISA, CFG, LOADER, RUNTIME, INTERP, VERIFIER, "ebpf-progen"],
    },
    Layer {
        name: "ebpf-conformance",
        layer: 3,
        may_use: &[ISA, RUNTIME, INTERP, JIT],
    },
    Layer {
        name: "ebpf-benches",
        layer: 3,
        may_use: &[ISA, LOADER, RUNTIME, INTERP, JIT, VERIFIER, "ebpf-kernel"],
    },
];

/// A dev-dependency edge that the layer table alone would forbid.
#[derive(Debug)]
pub(crate) struct DevEdge {
    /// The package whose tests use `to`.
    pub(crate) from: &'static str,
    /// The package used by the tests.
    pub(crate) to: &'static str,
    /// Why the tests need it.
    pub(crate) why: &'static str,
}

/// Dev-only edges, each with its reason. Keep it short: every line here is a
/// test that reaches sideways or upwards.
pub(crate) const DEV_EDGES: &[DevEdge] = &[
    DevEdge {
        from: VERIFIER,
        to: INTERP,
        why: "soundness tests: a program the verifier accepts must run in the \
              checked interpreter without faulting",
    },
    DevEdge {
        from: JIT,
        to: INTERP,
        why: "differential tests: JIT and interpreter must agree on r0, memory and traps",
    },
];

/// The package exempt from the check.
const EXEMPT: &str = "xtask";

/// Where the tables live, for messages.
const TABLE_FILE: &str = "xtask/src/layers.rs";

fn row(name: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.name == name)
}

fn allowed_list(layer: &Layer) -> String {
    if layer.may_use.is_empty() {
        "nothing in the workspace".to_owned()
    } else {
        layer.may_use.join(", ")
    }
}

/// Check every edge of `packages` against [`LAYERS`] and [`DEV_EDGES`].
/// Returns one message per violation, in package order (empty = pass).
pub(crate) fn check(packages: &[Package]) -> Vec<String> {
    let mut violations = Vec::new();
    for pkg in packages {
        if pkg.name == EXEMPT {
            continue;
        }
        let Some(layer) = row(&pkg.name) else {
            violations.push(format!(
                "layering: unknown crate {}: add it to the layer table in {TABLE_FILE}",
                pkg.name
            ));
            continue;
        };
        for dep in &pkg.deps {
            if layer.may_use.contains(&dep.name.as_str()) {
                continue;
            }
            let why = format!(
                "{} is layer {} and may depend on {}",
                pkg.name,
                layer.layer,
                allowed_list(layer)
            );
            match dep.kind {
                DepKind::Normal => violations.push(format!(
                    "layering: {} -> {} is not allowed ({why})",
                    pkg.name, dep.name
                )),
                DepKind::Build => violations.push(format!(
                    "layering: {} -> {} (build-dependency) is not allowed ({why})",
                    pkg.name, dep.name
                )),
                DepKind::Dev => {
                    let listed = DEV_EDGES
                        .iter()
                        .any(|e| e.from == pkg.name && e.to == dep.name);
                    if !listed {
                        violations.push(format!(
                            "layering: {} -> {} (dev-dependency) is not allowed ({why}; \
                             a dev-only edge must be listed in DEV_EDGES in {TABLE_FILE} \
                             with its reason)",
                            pkg.name, dep.name
                        ));
                    }
                }
            }
        }
    }
    violations
}

/// `cargo xtask layers`: check the real workspace and print the verdict.
pub(crate) fn run() -> Result<(), Error> {
    let packages = crate::metadata::load()?;
    let violations = check(&packages);
    if violations.is_empty() {
        for pkg in &packages {
            for dep in pkg.deps.iter().filter(|d| d.kind == DepKind::Dev) {
                if let Some(edge) = DEV_EDGES
                    .iter()
                    .find(|e| e.from == pkg.name && e.to == dep.name)
                {
                    println!(
                        "layering: dev edge {} -> {} allowed: {}",
                        edge.from, edge.to, edge.why
                    );
                }
            }
        }
        let edges: usize = packages.iter().map(|p| p.deps.len()).sum();
        println!(
            "layering: ok ({} workspace packages, {edges} internal edge(s))",
            packages.len()
        );
        return Ok(());
    }
    for v in &violations {
        eprintln!("{v}");
    }
    Err(Error::Layering {
        count: violations.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::parse;
    use crate::metadata::tests::{FakePackage, fake_metadata};

    fn check_json(packages: &[FakePackage<'_>]) -> Vec<String> {
        check(&parse(&fake_metadata(packages)).unwrap())
    }

    fn pkg<'a>(
        name: &'a str,
        deps: &'a [(&'a str, Option<&'a str>, Option<&'a str>)],
    ) -> FakePackage<'a> {
        FakePackage {
            name,
            deps,
            bins: &[],
        }
    }

    /// The full intended graph, every crate using everything it may, plus
    /// the listed dev edges, a redundant dev edge and xtask using everything.
    #[test]
    fn allowed_graph_passes() {
        let all: Vec<(&str, Option<&str>, Option<&str>)> = LAYERS
            .iter()
            .map(|l| (l.name, None, None))
            .chain([("thiserror", None, Some("registry+x"))])
            .collect();
        let packages = [
            pkg(ISA, &[("thiserror", None, Some("registry+x"))]),
            pkg(CFG, &[(ISA, None, None), (ISA, Some("dev"), None)]),
            pkg(LOADER, &[(ISA, None, None)]),
            pkg(RUNTIME, &[(ISA, Some("build"), None)]),
            pkg(
                VERIFIER,
                &[
                    (ISA, None, None),
                    (CFG, None, None),
                    (INTERP, Some("dev"), None),
                ],
            ),
            pkg(INTERP, &[(ISA, None, None), (RUNTIME, None, None)]),
            pkg(
                JIT,
                &[
                    (ISA, None, None),
                    (RUNTIME, None, None),
                    (INTERP, Some("dev"), None),
                ],
            ),
            pkg(
                FACADE,
                &[
                    (ISA, None, None),
                    (CFG, None, None),
                    (LOADER, None, None),
                    (RUNTIME, None, None),
                    (VERIFIER, None, None),
                    (INTERP, None, None),
                    (JIT, None, None),
                ],
            ),
            pkg("ebpf-cli", &[(FACADE, None, None), (ISA, None, None)]),
            pkg("ebpf-kernel", &[(ISA, None, None), (LOADER, None, None)]),
            pkg(
                "ebpf-conformance",
                &[
                    (INTERP, None, None),
                    (JIT, None, None),
                    (RUNTIME, None, None),
                ],
            ),
            pkg("xtask", &all),
        ];
        assert_eq!(check_json(&packages), Vec::<String>::new());
    }

    #[test]
    fn climbing_edge_fails() {
        let packages = [
            pkg(ISA, &[(INTERP, None, None)]),
            pkg(INTERP, &[(ISA, None, None)]),
            pkg(CFG, &[(VERIFIER, Some("build"), None)]),
            pkg(VERIFIER, &[(CFG, None, None)]),
        ];
        assert_eq!(
            check_json(&packages),
            vec![
                "layering: ebpf-isa -> ebpf-interp is not allowed (ebpf-isa is layer 0 and \
                 may depend on nothing in the workspace)",
                "layering: ebpf-cfg -> ebpf-verifier (build-dependency) is not allowed \
                 (ebpf-cfg is layer 1 and may depend on ebpf-isa)",
            ]
        );
    }

    #[test]
    fn sideways_edge_fails() {
        let packages = [pkg(INTERP, &[(JIT, None, None)]), pkg(JIT, &[])];
        assert_eq!(
            check_json(&packages),
            vec![
                "layering: ebpf-interp -> ebpf-jit-x86 is not allowed (ebpf-interp is \
                 layer 2 and may depend on ebpf-isa, ebpf-runtime)"
            ]
        );
    }

    #[test]
    fn unknown_crate_fails() {
        let packages = [
            pkg(ISA, &[]),
            pkg("ebpf-btf", &[(ISA, None, None)]),
            pkg(FACADE, &[(ISA, None, None), ("ebpf-btf", None, None)]),
        ];
        assert_eq!(
            check_json(&packages),
            vec![
                "layering: unknown crate ebpf-btf: add it to the layer table in \
                 xtask/src/layers.rs",
                "layering: ebpf -> ebpf-btf is not allowed (ebpf is layer 3 and may depend \
                 on ebpf-isa, ebpf-cfg, ebpf-loader, ebpf-runtime, ebpf-verifier, \
                 ebpf-interp, ebpf-jit-x86)",
            ]
        );
    }

    #[test]
    fn unlisted_dev_edge_fails() {
        let packages = [
            pkg(LOADER, &[(ISA, None, None), (RUNTIME, Some("dev"), None)]),
            pkg(RUNTIME, &[(ISA, None, None)]),
            pkg(ISA, &[]),
        ];
        assert_eq!(
            check_json(&packages),
            vec![
                "layering: ebpf-loader -> ebpf-runtime (dev-dependency) is not allowed \
                 (ebpf-loader is layer 1 and may depend on ebpf-isa; a dev-only edge must \
                 be listed in DEV_EDGES in xtask/src/layers.rs with its reason)"
            ]
        );
    }

    #[test]
    fn nothing_may_depend_on_xtask() {
        let packages = [pkg(ISA, &[("xtask", Some("dev"), None)]), pkg("xtask", &[])];
        assert_eq!(check_json(&packages).len(), 1);
    }

    /// The table itself: unique rows, arrows never point up, the graph is
    /// acyclic (ebpf-cli -> ebpf is the one same-layer arrow), dev edges name
    /// known crates and are not already allowed by the table.
    #[test]
    fn tables_are_consistent() {
        for (i, layer) in LAYERS.iter().enumerate() {
            assert!(
                LAYERS[..i].iter().all(|l| l.name != layer.name),
                "{} listed twice",
                layer.name
            );
            for dep in layer.may_use {
                let target = row(dep).unwrap_or_else(|| panic!("{dep} has no row"));
                assert!(
                    target.layer <= layer.layer,
                    "{} (layer {}) may use {dep} (layer {})",
                    layer.name,
                    layer.layer,
                    target.layer
                );
            }
        }
        // Acyclic: repeatedly peel off rows whose may_use is all peeled.
        let mut done: Vec<&str> = Vec::new();
        while done.len() < LAYERS.len() {
            let before = done.len();
            for layer in LAYERS {
                if !done.contains(&layer.name) && layer.may_use.iter().all(|d| done.contains(d)) {
                    done.push(layer.name);
                }
            }
            assert!(done.len() > before, "cycle among rows not in {done:?}");
        }
        for edge in DEV_EDGES {
            let from = row(edge.from).unwrap_or_else(|| panic!("{} has no row", edge.from));
            assert!(row(edge.to).is_some(), "{} has no row", edge.to);
            assert!(
                !from.may_use.contains(&edge.to),
                "{} -> {} is already allowed",
                edge.from,
                edge.to
            );
            assert!(!edge.why.is_empty());
        }
    }
}
