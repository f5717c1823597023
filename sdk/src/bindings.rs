//! The SDK's one `generate!` of the contract (wasm32 only): the guest
//! bindings every other module (`guest.rs`, `log.rs`, `query.rs`) uses.

wit_bindgen::generate!({
    world: "policy-world",
    path: "wit",
    pub_export_macro: true,
    default_bindings_module: "berth_policy_sdk::__private::bindings",
});
