"""Helpers for Berth allocation policies written in Python.

The request and decision types are not defined here: componentize-py
generates them from the contract (`wit/policy.wit`) as the `wit_world`
package, both when it builds the component and, for native tests, through
`berth_policy.testing.bindings()`. `berth_policy.types` re-exports them, so
a new contract version reaches policies without a release of this package.

* `berth_policy.types`    the generated request/decision types
* `berth_policy.convert`  fixture JSON (the Rust SDK's serde form) <-> those types
* `berth_policy.chain`    the host's chain rules for one policy, natively
* `berth_policy.query`    the host's query answers for a fixture, natively
* `berth_policy.fixtures` runs a `berth-policy test` fixture file natively
* `berth_policy.testing`  generates the bindings and loads a policy for tests

Only `types` and `convert` are meant to be imported by the policy itself
(inside the component); the rest are for tests on the developer's machine.
"""
