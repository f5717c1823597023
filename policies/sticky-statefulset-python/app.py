"""sticky-statefulset, in Python: the StatefulSet rule of Berth's default
policy, built with componentize-py against the same WIT contract.

* A StatefulSet pod is bound to `namespace/statefulset/ordinal`, kept after
  DEL until the ordinal is retired, then `holdAfterScaleDown` longer.
* `stableIdentities` extends stickiness to other pods (single-host users
  with stable pod names): `{"ownerKind": "ReplicaSet"}` binds
  `namespace/kind/owner/pod`, `{"podNamePattern": "test-sts-*"}` binds
  `namespace/pod`; held until released, or `retainSecs` after DEL.
* evaluate picks the address that identity holds for the request's
  interface and family in a current pool; otherwise it abstains.

Settings: {"statefulSets": true, "holdAfterScaleDown": "10m",
"stableIdentities": [...]}; unknown keys are refused at load, like the
Rust policy's.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import policy
from wit_world.imports import host, types

NAME = "sticky-statefulset-python"
VERSION = "0.1.0"
CONTRACT = "0.2.0"
KEY_BYTES_MAX = 253
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
U64_MAX = 2**64 - 1


def parse_secs(value):
    """Seconds from 45, "45", "30s", "10m", "2h" or "1d"."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a duration: seconds, or a string like \"10m\"")
    if isinstance(value, int):
        secs = value
    else:
        text = value.strip()
        scale = 1
        if text and text[-1].isalpha():
            if text[-1] not in UNITS:
                raise ValueError(f"invalid duration {text!r}: unknown unit (use s, m, h or d)")
            scale, text = UNITS[text[-1]], text[:-1]
        if not text.isdigit() or not text.isascii():
            raise ValueError(f"invalid duration {value!r}: expected a whole number and a unit")
        secs = int(text) * scale
    if not 0 <= secs <= U64_MAX:
        raise ValueError(f"invalid duration {value!r}: out of range")
    return secs


def parse_rule(i, raw):
    """(ownerKind, podNamePattern, retainSecs or None) of stableIdentities[i]."""
    where = f"stableIdentities[{i}]"
    if not isinstance(raw, dict):
        raise ValueError(f"settings.{where}: expected an object")
    unknown = sorted(set(raw) - {"ownerKind", "podNamePattern", "retainSecs"})
    if unknown:
        raise ValueError(f"settings.{where}: unknown field {unknown[0]!r}")
    kind, pattern = raw.get("ownerKind"), raw.get("podNamePattern")
    for value in (kind, pattern):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"settings.{where}: expected strings")
    if kind is not None and pattern is not None:
        raise ValueError(f"{where}: give either ownerKind or podNamePattern, not both")
    if not (kind or pattern or "").strip():
        raise ValueError(f"{where}: needs a non-empty ownerKind or podNamePattern")
    retain = raw.get("retainSecs")
    if retain is not None:
        try:
            retain = parse_secs(retain)
        except ValueError as error:
            raise ValueError(f"settings.{where}.retainSecs: {error}") from None
    return kind, pattern, retain


def parse_settings(text):
    """(sticky StatefulSets on?, hold after scale-down in seconds, rules)."""
    raw = json.loads(text) if text.strip() else None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValueError("settings: expected a JSON object")
    unknown = sorted(set(raw) - {"statefulSets", "holdAfterScaleDown", "stableIdentities"})
    if unknown:
        raise ValueError(f"settings: unknown field {unknown[0]!r}")
    on = raw.get("statefulSets", True)
    if not isinstance(on, bool):
        raise ValueError("settings.statefulSets: expected true or false")
    try:
        hold = parse_secs(raw.get("holdAfterScaleDown", 0))
    except ValueError as error:
        raise ValueError(f"settings.holdAfterScaleDown: {error}") from None
    rules = raw.get("stableIdentities", [])
    if not isinstance(rules, list):
        raise ValueError("settings.stableIdentities: expected a list")
    return on, hold, [parse_rule(i, r) for i, r in enumerate(rules)]


def glob_matches(pattern, text):
    """`*` matches any run of characters; nothing else is special."""
    parts = pattern.split("*")
    if not text.startswith(parts[0]):
        return False
    rest = text[len(parts[0]):]
    if len(parts) == 1:
        return rest == ""
    for part in parts[1:-1]:
        at = rest.find(part)
        if at < 0:
            return False
        rest = rest[at + len(part):]
    return len(rest) >= len(parts[-1]) and rest.endswith(parts[-1])


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def bounded_key(raw):
    """The key as the Rust policy bounds it: none when empty or with
    whitespace; a long one cut and suffixed with its hash."""
    if not raw or any(c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160 for c in raw):
        host.log(types.LogLevel.WARN, f"no sticky identity for {raw!r}: empty or has whitespace")
        return None
    data = raw.encode()
    if len(data) <= KEY_BYTES_MAX:
        return raw
    kept = data[:KEY_BYTES_MAX - 17].decode(errors="ignore")
    return f"{kept}~{fnv1a(data):016x}"


def identity_of(settings, request):
    on, hold, rules = parse_settings(settings)
    ns, sts, pod = request.namespace, request.stateful_set, request.pod_name
    raw = None
    if on and sts is not None:
        raw = (f"{ns}/{sts.name}/{sts.ordinal}", types.Retention_KeepUntilRetired(hold))
    elif pod:
        for kind, pattern, retain in rules:
            retention = (types.Retention_KeepUntilRetired(0) if retain is None
                         else types.Retention_KeepForSecs(retain))
            if kind is not None:
                owner = request.owner
                if owner is not None and owner.kind == kind:
                    raw = (f"{ns}/{kind}/{owner.name}/{pod}", retention)
                    break
            elif glob_matches(pattern, pod):
                raw = (f"{ns}/{pod}", retention)
                break
    if raw is None:
        return None
    key = bounded_key(raw[0])
    return None if key is None else types.Identity(key, raw[1])


def held_candidate(request):
    pools = {p.name for p in request.pools}
    for c in request.candidates:
        if c.pool not in pools:
            continue
        for b in request.bindings:
            if (b.pool == c.pool and b.address == c.address
                    and b.interface == request.interface and b.family == request.family):
                return c
    return None


class Policy(exports.Policy):
    def metadata(self):
        return policy.PolicyMetadata(NAME, VERSION, CONTRACT)

    def validate_settings(self, settings):
        try:
            parse_settings(settings)
        except ValueError as error:
            raise Err(str(error))

    def identify(self, settings, request):
        try:
            return identity_of(settings, request)
        except ValueError as error:
            host.log(types.LogLevel.ERROR, f"invalid settings: {error}")
            return None

    def evaluate(self, settings, request):
        try:
            ours = identity_of(settings, request)
        except ValueError as error:
            return types.Decision_Reject(f"invalid settings: {error}")
        chain = request.identity
        if ours is None or chain is None or chain.key != ours.key:
            return types.Decision_Abstain()
        held = held_candidate(request)
        if held is None:
            return types.Decision_Abstain()
        host.log(types.LogLevel.DEBUG,
                 f"{request.pod_name}: keeping {held.address} of pool {held.pool}")
        return types.Decision_Pick(held)
