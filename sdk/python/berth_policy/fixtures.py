"""`berth-policy test` fixtures, run natively against a Python policy.

A fixture file (the format `berth-policy test` reads, see
host/policy-cli/src/fixture.rs) holds a request, settings, the host's state
and what the run must end in:

    {"description": "...", "settings": {...}, "request": {...},
     "bindings": [...], "free": [...],
     "expect": {"outcome": "allocated", "reason": "...", "identity": null,
                "decision": {"RestrictPools": ["b"]}, "picked": null}}

Every `expect` key given is checked; `null` for identity or picked checks
that there was none. `check` returns how the run differs (empty: it passed).
"""

import json

from wit_world.imports import types

from . import chain
from .convert import from_json, to_json

FIXTURE_KEYS = {"description", "settings", "request", "bindings", "free", "expect"}
EXPECT_KEYS = {"outcome", "reason", "identity", "decision", "picked"}
OUTCOMES = ("allocated", "rejected", "failed")


def load(path):
    """The fixture in the file at `path`, as parsed JSON."""
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    _check_keys(fixture, FIXTURE_KEYS, "fixture")
    _check_keys(fixture["expect"], EXPECT_KEYS, "expect")
    if fixture["expect"].get("outcome") not in OUTCOMES:
        raise ValueError(f"expect.outcome: expected one of {', '.join(OUTCOMES)}")
    return fixture


def check(policy, fixture, default_settings=None):
    """Runs `fixture` (from `load`) against `policy` (an instance of the
    app's `Policy` class); returns the list of mismatches."""
    settings = fixture.get("settings")
    settings = chain.settings_text(default_settings if settings is None else settings)
    refused = chain.validate(policy, settings)
    if refused is not None:
        return [f"the host refused the policy: {refused}"]
    request = from_json(types.Request, fixture["request"], "$.request")
    bindings = [
        from_json(types.Binding, b, f"$.bindings[{i}]")
        for i, b in enumerate(fixture.get("bindings", []))
    ]
    free = [
        from_json(types.Candidate, c, f"$.free[{i}]") for i, c in enumerate(fixture.get("free", []))
    ]
    got = chain.run(policy, settings, request, bindings, free)
    return mismatches(fixture["expect"], got)


def mismatches(want, got):
    """How the outcome `got` (a `chain.Outcome`) differs from `want`."""
    wrong = []
    if got.outcome != want["outcome"]:
        wrong.append(f"outcome: expected {want['outcome']}, got {got.outcome} ({got.reason!r})")
    text = want.get("reason")
    if text is not None and (got.reason is None or text not in got.reason):
        wrong.append(f"reason: expected one containing {text!r}, got {got.reason!r}")
    if got.outcome != "allocated":
        return wrong
    for key, hint in (
        ("identity", types.Identity),
        ("decision", types.Decision),
        ("picked", types.Candidate),
    ):
        if key not in want:
            continue
        expected = None if want[key] is None else from_json(hint, want[key], f"$.expect.{key}")
        actual = getattr(got, key)
        if expected != actual:
            wrong.append(
                f"{key}: expected {json.dumps(to_json(expected))}, "
                f"got {json.dumps(to_json(actual))}"
            )
    return wrong


def _check_keys(obj, allowed, what):
    if not isinstance(obj, dict):
        raise ValueError(f"{what}: expected a JSON object")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown field {unknown[0]!r}")
