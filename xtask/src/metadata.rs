//! The part of `cargo metadata --format-version 1` that xtask needs: the
//! workspace packages, their dependency edges to each other, and their
//! targets.

use serde_json::Value;

use crate::error::Error;
use crate::process::{cargo_command, run_capture};

/// Which table of `Cargo.toml` declared a dependency.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum DepKind {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`.
    Dev,
}

/// A dependency of one workspace package on another.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct Dep {
    /// Package name of the dependency (not its `rename`).
    pub(crate) name: String,
    /// Which table declared it.
    pub(crate) kind: DepKind,
}

/// A target of a package (`lib`, `bin`, `test`, ...).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Target {
    /// Target name.
    pub(crate) name: String,
    /// Its kinds as cargo reports them (`["bin"]`, `["lib"]`, ...).
    pub(crate) kinds: Vec<String>,
}

/// A workspace member.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Package {
    /// Package name.
    pub(crate) name: String,
    /// Dependencies on other workspace members, sorted, without duplicates.
    pub(crate) deps: Vec<Dep>,
    /// Its targets.
    pub(crate) targets: Vec<Target>,
}

impl Package {
    /// Whether the package has a bin target called `name`.
    pub(crate) fn has_bin(&self, name: &str) -> bool {
        self.targets
            .iter()
            .any(|t| t.name == name && t.kinds.iter().any(|k| k == "bin"))
    }
}

/// Run `cargo metadata --format-version 1 --no-deps` in the workspace root and
/// parse it. `--no-deps` still lists every declared dependency of every
/// member (all kinds, all targets, optional ones too); it only skips
/// resolving the registry graph, which the layering check does not need.
pub(crate) fn load() -> Result<Vec<Package>, Error> {
    let json = run_capture(&mut cargo_command([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))?;
    parse(&json)
}

fn missing(what: &str) -> Error {
    Error::Metadata {
        what: what.to_owned(),
    }
}

fn str_field<'a>(value: &'a Value, key: &str, context: &str) -> Result<&'a str, Error> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| missing(&format!("{context} has no string `{key}`")))
}

fn array_field<'a>(value: &'a Value, key: &str, context: &str) -> Result<&'a [Value], Error> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| missing(&format!("{context} has no array `{key}`")))
}

/// Parse `cargo metadata` JSON into the workspace members, in the order cargo
/// lists them. A dependency is an edge between members when it has no
/// `source` (a path dependency) and names a member.
pub(crate) fn parse(json: &str) -> Result<Vec<Package>, Error> {
    let root: Value = serde_json::from_str(json).map_err(|e| Error::Metadata {
        what: format!("invalid JSON: {e}"),
    })?;
    let members = array_field(&root, "workspace_members", "the root object")?
        .iter()
        .map(|id| {
            id.as_str()
                .ok_or_else(|| missing("`workspace_members` holds a non-string"))
        })
        .collect::<Result<Vec<&str>, Error>>()?;
    let mut raw = Vec::new();
    for pkg in array_field(&root, "packages", "the root object")? {
        let id = str_field(pkg, "id", "a package")?;
        if members.contains(&id) {
            raw.push(pkg);
        }
    }
    let names = raw
        .iter()
        .map(|pkg| str_field(pkg, "name", "a package"))
        .collect::<Result<Vec<&str>, Error>>()?;

    let mut packages = Vec::with_capacity(raw.len());
    for (pkg, name) in raw.iter().zip(&names) {
        let context = format!("package {name}");
        let mut deps = Vec::new();
        for dep in array_field(pkg, "dependencies", &context)? {
            let dep_name = str_field(dep, "name", &format!("a dependency of {name}"))?;
            let is_path = dep.get("source").is_none_or(Value::is_null);
            if !is_path || !names.contains(&dep_name) {
                continue;
            }
            let kind = match dep.get("kind").and_then(Value::as_str) {
                None => DepKind::Normal,
                Some("build") => DepKind::Build,
                Some("dev") => DepKind::Dev,
                Some(other) => {
                    return Err(missing(&format!(
                        "dependency {name} -> {dep_name} has unknown kind `{other}`"
                    )));
                }
            };
            deps.push(Dep {
                name: dep_name.to_owned(),
                kind,
            });
        }
        // The same edge can be listed once per `[target.'cfg(..)'.*]` table.
        deps.sort();
        deps.dedup();

        let mut targets = Vec::new();
        for target in array_field(pkg, "targets", &context)? {
            let kinds = array_field(target, "kind", &format!("a target of {name}"))?
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect();
            targets.push(Target {
                name: str_field(target, "name", &format!("a target of {name}"))?.to_owned(),
                kinds,
            });
        }
        packages.push(Package {
            name: (*name).to_owned(),
            deps,
            targets,
        });
    }
    Ok(packages)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One package of a synthetic `cargo metadata` document: its name, its
    /// dependencies as `(name, kind, source)` and its bin targets.
    pub(crate) struct FakePackage<'a> {
        pub(crate) name: &'a str,
        pub(crate) deps: &'a [(&'a str, Option<&'a str>, Option<&'a str>)],
        pub(crate) bins: &'a [&'a str],
    }

    /// Build `cargo metadata` JSON shaped like cargo's (abridged to the
    /// fields xtask reads, plus a few it ignores).
    pub(crate) fn fake_metadata(packages: &[FakePackage<'_>]) -> String {
        let pkgs: Vec<Value> = packages
            .iter()
            .map(|p| {
                let deps: Vec<Value> = p
                    .deps
                    .iter()
                    .map(|(name, kind, source)| {
                        serde_json::json!({
                            "name": name,
                            "source": source,
                            "req": "*",
                            "kind": kind,
                            "rename": null,
                            "optional": false,
                            "target": null,
                        })
                    })
                    .collect();
                let mut targets = vec![serde_json::json!({
                    "kind": ["lib"],
                    "crate_types": ["lib"],
                    "name": p.name.replace('-', "_"),
                    "src_path": "/w/src/lib.rs",
                })];
                targets.extend(p.bins.iter().map(|b| {
                    serde_json::json!({
                        "kind": ["bin"],
                        "crate_types": ["bin"],
                        "name": b,
                        "src_path": "/w/src/main.rs",
                    })
                }));
                serde_json::json!({
                    "name": p.name,
                    "version": "0.1.0",
                    "id": format!("path+file:///w/crates/{}#0.1.0", p.name),
                    "source": null,
                    "dependencies": deps,
                    "targets": targets,
                })
            })
            .collect();
        let members: Vec<String> = packages
            .iter()
            .map(|p| format!("path+file:///w/crates/{}#0.1.0", p.name))
            .collect();
        serde_json::json!({
            "packages": pkgs,
            "workspace_members": members,
            "resolve": null,
            "target_directory": "/w/target",
            "version": 1,
            "workspace_root": "/w",
        })
        .to_string()
    }

    const REGISTRY: Option<&str> = Some("registry+https://github.com/rust-lang/crates.io-index");

    #[test]
    fn keeps_only_path_edges_between_members() {
        let json = fake_metadata(&[
            FakePackage {
                name: "ebpf-isa",
                deps: &[
                    ("thiserror", None, REGISTRY),
                    ("insta", Some("dev"), REGISTRY),
                ],
                bins: &[],
            },
            FakePackage {
                name: "ebpf-cfg",
                deps: &[
                    ("ebpf-isa", None, None),
                    ("ebpf-isa", Some("dev"), None),
                    ("ebpf-isa", None, None),
                    ("ebpf-runtime", Some("build"), None),
                    // A registry crate that happens to share a member's name.
                    ("ebpf-runtime", None, REGISTRY),
                ],
                bins: &["cfg-dot"],
            },
            FakePackage {
                name: "ebpf-runtime",
                deps: &[],
                bins: &[],
            },
        ]);
        let pkgs = parse(&json).unwrap();
        assert_eq!(pkgs.len(), 3);
        assert_eq!(pkgs[0].name, "ebpf-isa");
        assert!(pkgs[0].deps.is_empty());
        assert_eq!(
            pkgs[1].deps,
            vec![
                Dep {
                    name: "ebpf-isa".into(),
                    kind: DepKind::Normal
                },
                Dep {
                    name: "ebpf-isa".into(),
                    kind: DepKind::Dev
                },
                Dep {
                    name: "ebpf-runtime".into(),
                    kind: DepKind::Build
                },
            ]
        );
        assert!(pkgs[1].has_bin("cfg-dot"));
        assert!(!pkgs[1].has_bin("ebpf_cfg"), "a lib target is not a bin");
        assert!(!pkgs[0].has_bin("cfg-dot"));
    }

    #[test]
    fn skips_non_members() {
        let mut value: Value = serde_json::from_str(&fake_metadata(&[FakePackage {
            name: "ebpf-isa",
            deps: &[],
            bins: &[],
        }]))
        .unwrap();
        value["workspace_members"] = serde_json::json!([]);
        assert_eq!(parse(&value.to_string()).unwrap(), Vec::new());
    }

    #[test]
    fn malformed_metadata_is_an_error() {
        let err = parse("{\"packages\": []}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cargo metadata: the root object has no array `workspace_members`"
        );
        assert!(matches!(parse("not json"), Err(Error::Metadata { .. })));
    }

    #[test]
    fn parses_the_real_workspace() {
        let pkgs = load().unwrap();
        assert!(pkgs.iter().any(|p| p.name == "ebpf-isa"));
        assert!(pkgs.iter().any(|p| p.name == "xtask" && p.has_bin("xtask")));
    }
}
