"""{{name}}: keeps only the candidate pools listed in `pools`, in the
request's order; rejects a request none of them serves.

Built with componentize-py against wit/policy.wit (the Berth contract):
`berth-policy build`, then `berth-policy test fixtures/*.json`; natively,
`python -m unittest` (tests/, with berth_policy's fixture runner).
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import policy

from berth_policy import types


def parse_settings(text):
    raw = json.loads(text) if text.strip() else {}
    if not isinstance(raw, dict):
        raise ValueError("settings: expected a JSON object")
    unknown = sorted(set(raw) - {"pools"})
    if unknown:
        raise ValueError(f"settings: unknown field {unknown[0]!r}")
    pools = raw.get("pools", [])
    if not isinstance(pools, list) or not all(isinstance(p, str) for p in pools):
        raise ValueError("settings.pools: expected a list of pool names")
    if not pools:
        raise ValueError("pools: must not be empty")
    return pools


class Policy(exports.Policy):
    def metadata(self):
        return policy.PolicyMetadata("{{name}}", "0.1.0", "0.1.0")

    def validate_settings(self, settings):
        try:
            parse_settings(settings)
        except ValueError as error:
            raise Err(str(error))

    def identify(self, settings, request):
        return None

    def evaluate(self, settings, request):
        try:
            wanted = parse_settings(settings)
        except ValueError as error:
            return types.Decision_Reject(f"invalid settings: {error}")
        keep = [p.name for p in request.pools if p.name in wanted]
        if not keep:
            return types.Decision_Reject(f"none of {wanted} is a candidate pool")
        return types.Decision_RestrictPools(keep)
