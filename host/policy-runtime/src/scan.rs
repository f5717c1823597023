//! A look at a component's binary before anything compiles it: its
//! top-level imports, and the structure that sizes its instances (core
//! module instantiations, defined linear memories and their initial size).
//!
//! Compiling is the expensive step of a load (seconds for a Python or
//! JavaScript component), so everything that can refuse a module from its
//! bytes alone does so here: a module importing a forbidden interface is
//! never compiled. The scan only reads section headers and the import,
//! instance and memory sections; code is skipped, and wasmtime validates
//! everything when it compiles.

use wasmparser::{ComponentTypeRef, Instance, Parser, Payload};

/// One top-level import of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    /// `wasi:io/poll@0.2.6`, `berth:policy/host@0.1.0`, ...
    pub name: String,
    /// The import is a whole interface (a component instance), not a bare
    /// function, module, value or type.
    pub is_interface: bool,
    /// The interface an `(implements ...)` annotation names, if any.
    pub implements: Option<String>,
}

/// What the bytes say about a component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    pub imports: Vec<Import>,
    /// Core module instantiations written in the binary, at any nesting
    /// depth. A lower bound of what wasmtime instantiates: it adds adapter
    /// modules between nested components (a componentize-py component
    /// writes 14, wasmtime makes 38 of them).
    pub core_instances: u32,
    /// Linear memories the component's modules define (not import).
    pub memories: u32,
    /// Sum of those memories' initial sizes, in bytes.
    pub initial_memory_bytes: u64,
    /// Where the bytes stopped making sense, if they did. What was read
    /// before stays: a forbidden import ahead of the damage is still the
    /// reason given.
    pub malformed: Option<String>,
}

/// Bytes of a WebAssembly page.
const PAGE_BYTES: u64 = 64 * 1024;

/// Scans `bytes`. `Err` is a binary that is not a component at all;
/// damage after the header is `malformed`. A module that scans fine may
/// still fail to compile.
pub(crate) fn scan(bytes: &[u8]) -> Result<Scan, String> {
    let mut scan = Scan::default();
    if let Err(error) = scan_into(&mut scan, bytes) {
        if scan.imports.is_empty() && scan.core_instances == 0 && scan.memories == 0 {
            return Err(error);
        }
        scan.malformed = Some(error);
    }
    Ok(scan)
}

fn scan_into(scan: &mut Scan, bytes: &[u8]) -> Result<(), String> {
    // Each header (`Version`) opens a module or component, each `End`
    // closes one: depth 1 is the outer component.
    let mut depth = 0usize;
    let mut headers = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != wasmparser::Encoding::Component {
                    return Err("a core module, not a component (build a component: \
                                wasm32-wasip2, componentize-py or componentize-js)"
                        .to_owned());
                }
                depth += 1;
                headers += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| e.to_string())?;
                    scan.imports.push(Import {
                        name: import.name.name.to_owned(),
                        is_interface: matches!(import.ty, ComponentTypeRef::Instance(_)),
                        implements: import.name.implements.map(str::to_owned),
                    });
                }
            }
            Payload::InstanceSection(reader) => {
                for instance in reader {
                    if let Instance::Instantiate { .. } = instance.map_err(|e| e.to_string())? {
                        scan.core_instances = scan.core_instances.saturating_add(1);
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(|e| e.to_string())?;
                    scan.memories = scan.memories.saturating_add(1);
                    let bytes = memory.initial.saturating_mul(PAGE_BYTES);
                    scan.initial_memory_bytes = scan.initial_memory_bytes.saturating_add(bytes);
                }
            }
            _ => {}
        }
    }
    if headers == 0 {
        return Err("empty: no WebAssembly header".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_module_is_not_a_component() {
        // `\0asm`, version 1, no sections: the smallest core module.
        let module = b"\0asm\x01\0\0\0";
        let error = scan(module).expect_err("not a component");
        assert!(error.contains("core module"), "{error}");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(scan(b"not wasm at all").is_err());
        assert!(scan(b"").is_err());
    }
}
