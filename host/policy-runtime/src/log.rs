//! The guest's `host.log` import: bounded per call, tagged with the policy
//! name, emitted through `tracing` under the target `berth::policy`.
//!
//! A guest controls the text, so messages are cut to a byte budget and
//! control characters are escaped (no forged log lines).
//!
//! The import is linked by hand rather than through the generated `Host`
//! trait: taking the message as a `WasmStr` leaves it in guest memory, so
//! a message over budget costs nothing (a guest logging 10,000 × 10 KiB
//! would otherwise make the host copy 100 MB and blow its own deadline).

use crate::bindings::wit::LogLevel;
use crate::log_budget::sanitize;
use crate::sandbox::PolicyState;
use wasmtime::component::{Linker, WasmStr};
use wasmtime::StoreContextMut;

/// Links `berth:policy/host.log` for 0.2.x guests and, unchanged, for
/// 0.1.x ones (semver-compatible patches match each name).
pub(crate) fn add_to_linker(linker: &mut Linker<PolicyState>) -> wasmtime::Result<()> {
    for name in ["berth:policy/host@0.2.0", "berth:policy/host@0.1.0"] {
        link_log(linker, name)?;
    }
    Ok(())
}

fn link_log(linker: &mut Linker<PolicyState>, name: &str) -> wasmtime::Result<()> {
    linker.instance(name)?.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, PolicyState>, (level, message): (LogLevel, WasmStr)| {
            if !store.data_mut().log.has_room() {
                return Ok(());
            }
            let max = store.data().log.message_bytes();
            let text = sanitize(&message.to_str(&store)?, max);
            store.data_mut().log.emit(level, &text);
            Ok(())
        },
    )
}
