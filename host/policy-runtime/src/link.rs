//! Linking a checked component once, into the `InstancePre` every
//! evaluation instantiates.
//!
//! The runtime's linker backs every allowed import except `wasi:http`,
//! which componentize-js imports for `fetch` whether a policy uses it or
//! not. Such a component is linked against a copy of the linker in which
//! each function of those interfaces traps: the component loads unchanged,
//! and a guest that reaches for the network fails its call (its
//! `failurePolicy` applies). Only components the allow-list passed get
//! here, and only interfaces it marks as trapped get stubs.

use crate::imports::{is_trapped, Backing};
use crate::sandbox::PolicyState;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Linker, ResourceType};
use wasmtime::Engine;

pub(crate) fn instantiate_pre(
    linker: &Linker<PolicyState>,
    engine: &Engine,
    component: &Component,
    backing: Backing,
) -> wasmtime::Result<InstancePre<PolicyState>> {
    match backing {
        Backing::Linked => linker.instantiate_pre(component),
        Backing::WithTraps => {
            let mut linker = linker.clone();
            define_traps(&mut linker, engine, component)?;
            linker.instantiate_pre(component)
        }
    }
}

/// A resource of a trapped interface that no guest can ever hold (its
/// constructors trap).
struct Unavailable;

fn define_traps(
    linker: &mut Linker<PolicyState>,
    engine: &Engine,
    component: &Component,
) -> wasmtime::Result<()> {
    let ty = component.component_type();
    // Resources a trapped interface only re-uses (`use wasi:io/poll.{pollable}`)
    // are the linked interfaces' own: they must not be defined again.
    let mut defined: Vec<ResourceType> = Vec::new();
    for (name, import) in ty.imports(engine) {
        if let (false, ComponentItem::ComponentInstance(instance)) = (is_trapped(name), import.ty) {
            for (_, export) in instance.exports(engine) {
                if let ComponentItem::Resource(resource) = export.ty {
                    defined.push(resource);
                }
            }
        }
    }
    for (name, import) in ty.imports(engine) {
        if !is_trapped(name) {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            wasmtime::bail!("{name} is not an interface");
        };
        let mut stub = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    let what = format!("{name}#{export}");
                    stub.func_new(export, move |_, _, _, _| {
                        wasmtime::bail!(
                            "{what}: policies have no network (wasi:http is not available)"
                        )
                    })?;
                }
                ComponentItem::Resource(resource) if !defined.contains(&resource) => {
                    defined.push(resource);
                    stub.resource(export, ResourceType::host::<Unavailable>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}
