//! A stable text dump of an [`Object`], used by the snapshot tests.

use core::fmt;

use crate::object::Object;

/// Multi-line dump: license, version, maps (with initial data in hex),
/// programs with their linked instructions in kernel syntax, and the
/// other functions' sizes.
impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "object {:?}", self.name)?;
        match &self.license {
            Some(l) => writeln!(f, "license {l:?}")?,
            None => writeln!(f, "license none")?,
        }
        match self.kernel_version {
            Some(v) => writeln!(f, "kernel_version {v:#x}")?,
            None => writeln!(f, "kernel_version none")?,
        }
        writeln!(f, "maps {}", self.maps.len())?;
        for (i, m) in self.maps.iter().enumerate() {
            writeln!(
                f,
                "  map[{i}] {} ({} in {}): type {} key_size {} value_size {} max_entries {} flags {:#x}",
                m.name,
                m.kind,
                m.section,
                m.map_type,
                m.key_size,
                m.value_size,
                m.max_entries,
                m.flags
            )?;
            if m.pinning != 0 {
                writeln!(f, "    pinning {}", m.pinning)?;
            }
            if let Some(inner) = &m.inner {
                writeln!(
                    f,
                    "    inner: type {} key_size {} value_size {} max_entries {} flags {:#x}",
                    inner.map_type,
                    inner.key_size,
                    inner.value_size,
                    inner.max_entries,
                    inner.flags
                )?;
            }
            for (slot, init) in &m.init {
                writeln!(f, "    values[{slot}] = {init}")?;
            }
            if let Some(data) = &m.data {
                for chunk in data.chunks(16) {
                    write!(f, "    data:")?;
                    for b in chunk {
                        write!(f, " {b:02x}")?;
                    }
                    writeln!(f)?;
                }
            }
        }
        writeln!(f, "programs {}", self.programs.len())?;
        for p in &self.programs {
            write!(
                f,
                "  program {} in {:?}: type {}",
                p.name, p.section, p.prog_type
            )?;
            match p.attach {
                Some(a) => write!(f, " attach {a}")?,
                None => write!(f, " attach none")?,
            }
            writeln!(f, " tag {}", crate::tag::tag_hex(&p.tag))?;
            for (idx, insn) in p.program.iter() {
                writeln!(f, "    {idx}: {insn}")?;
            }
        }
        writeln!(f, "functions {}", self.functions.len())?;
        for func in &self.functions {
            writeln!(
                f,
                "  function {} in {:?} ({}): {} slots linked",
                func.name,
                func.section,
                if func.global { "global" } else { "static" },
                func.program.len()
            )?;
        }
        Ok(())
    }
}
