//! The verifier's benchmark inputs: every program of the loader fixtures
//! (`crates/ebpf-loader/fixtures/build/*.o`), with what a libbpf-style
//! loader gives the verifier (program type, license, maps, frozen
//! `.rodata`, func_info and global-function signatures).

use std::path::{Path, PathBuf};

use ebpf_isa::Program;
use ebpf_loader::{BtfParam, Object};
use ebpf_verifier::LinuxEnv;
use ebpf_verifier::check::{GlobalArg, GlobalFunc, Outcome, VerifierConfig, verify_with};
use ebpf_verifier::platform::{LinuxPlatform, ProgType};
use ebpf_verifier::state::MapMeta;

/// A fixture that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The directory or a file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The loader refuses the object.
    #[error("{file}: the loader refuses it: {message}")]
    Load {
        /// The object's file name.
        file: String,
        /// The loader's message.
        message: String,
    },
}

/// One program of a fixture object, ready for the verifier.
pub struct ObjectProgram {
    /// `file.o/program`.
    pub name: String,
    /// The linked program.
    pub program: Program,
    /// Its program type (from the section name).
    pub prog_type: ProgType,
    /// Expected attach type (0 when none).
    pub attach: u32,
    /// The object's license.
    pub license: String,
    /// The object's maps, inner templates appended.
    pub maps: Vec<MapMeta>,
    /// What the verifier is told besides the log level.
    pub config: VerifierConfig,
}

impl ObjectProgram {
    /// Verify it with `log_level` (see [`VerifierConfig::log_level`]).
    #[must_use]
    pub fn verify(&self, platform: &LinuxPlatform, log_level: u32) -> Outcome {
        let env = LinuxEnv::new(platform, self.prog_type, self.attach, &self.license);
        let config = VerifierConfig {
            log_level,
            ..self.config.clone()
        };
        verify_with(&self.program, &env, &self.maps, &config)
    }
}

/// The loader fixtures' directory.
#[must_use]
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/ebpf-loader/fixtures/build")
}

/// Every program of every loader fixture, in file then program order.
///
/// # Errors
/// A fixture that cannot be read or that the loader refuses.
pub fn object_programs() -> Result<Vec<ObjectProgram>, FixtureError> {
    let dir = fixture_dir();
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| FixtureError::Io { path, source }
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let stem = file.split('.').next().unwrap_or_default();
        let obj = Object::parse_named(&bytes, stem).map_err(|e| FixtureError::Load {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let maps = map_metas(&obj);
        let rodata = rodata(&obj);
        for p in &obj.programs {
            out.push(ObjectProgram {
                name: format!("{file}/{}", p.name),
                program: p.program.clone(),
                prog_type: ProgType(p.prog_type.0),
                attach: p.attach.map_or(0, |a| a.0),
                license: obj.license.clone().unwrap_or_default(),
                maps: maps.clone(),
                config: VerifierConfig {
                    func_info: !p.func_info.is_empty(),
                    map_data: rodata.clone(),
                    global_funcs: global_funcs(&p.funcs),
                    ..VerifierConfig::default()
                },
            });
        }
    }
    Ok(out)
}

/// The object's maps as the verifier sees them, map-in-map inner templates
/// appended.
fn map_metas(obj: &Object) -> Vec<MapMeta> {
    let meta = |m: &ebpf_loader::MapDef| MapMeta {
        map_type: m.map_type.0,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        flags: m.flags,
        inner: None,
        spin_lock_off: m.spin_lock_off,
    };
    let mut out: Vec<MapMeta> = obj.maps.iter().map(meta).collect();
    for (i, m) in obj.maps.iter().enumerate() {
        if let Some(inner) = &m.inner {
            let idx = u32::try_from(out.len()).ok();
            out.push(meta(inner));
            if let Some(slot) = out.get_mut(i) {
                slot.inner = idx;
            }
        }
    }
    out
}

/// The initial bytes of the read-only (frozen) maps, by map index.
fn rodata(obj: &Object) -> Vec<(u32, Vec<u8>)> {
    const BPF_F_RDONLY_PROG: u32 = 0x80;
    (0u32..)
        .zip(&obj.maps)
        .filter(|(_, m)| m.flags & BPF_F_RDONLY_PROG != 0)
        .filter_map(|(i, m)| Some((i, m.data.clone()?)))
        .collect()
}

/// The global functions (BTF linkage global) other than the entry.
fn global_funcs(funcs: &[(usize, ebpf_loader::BtfFunc)]) -> Vec<GlobalFunc> {
    funcs
        .iter()
        .filter(|(slot, f)| *slot != 0 && f.global)
        .map(|(slot, f)| GlobalFunc {
            start: *slot,
            name: f.name.clone(),
            args: f
                .params
                .iter()
                .map(|a| match a {
                    BtfParam::Scalar => GlobalArg::Scalar,
                    BtfParam::Pointer { target, size } => GlobalArg::Pointer {
                        target: target.clone(),
                        size: *size,
                    },
                    _ => GlobalArg::Unsupported,
                })
                .collect(),
            returns_scalar: matches!(f.ret, BtfParam::Scalar),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_program_is_accepted() {
        let platform = LinuxPlatform::new();
        let progs = object_programs().expect("fixtures load");
        assert!(progs.len() >= 48, "{}", progs.len());
        for p in &progs {
            let out = p.verify(&platform, 0);
            assert!(out.result.is_ok(), "{}: {:?}", p.name, out.result);
            assert!(out.stats.insns_processed > 0, "{}", p.name);
        }
    }
}
