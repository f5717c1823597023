"""A policy that does what its settings say, to drive the shared fixtures
(sdk/fixtures) through every rule of the chain, natively here and in the
real host runtime by `berth-policy test`. Its settings:

    {"identify": <Identity>, "decide": <Decision>, "pickFirst": true,
     "raise": "text"}

in the fixtures' serde JSON, converted with berth_policy.convert inside the
component too (so the package is proven to work under componentize-py).
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import policy

from berth_policy import convert, types

KEYS = {"identify", "decide", "pickFirst", "raise"}


def parse(settings):
    raw = json.loads(settings)
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    return raw


class Policy(exports.Policy):
    def metadata(self):
        return policy.PolicyMetadata("scripted", "0.1.0", "0.1.0")

    def validate_settings(self, settings):
        try:
            parse(settings)
        except ValueError as error:
            raise Err(str(error))

    def identify(self, settings, request):
        found = parse(settings).get("identify")
        return None if found is None else convert.from_json(types.Identity, found)

    def evaluate(self, settings, request):
        script = parse(settings)
        if "raise" in script:
            raise RuntimeError(script["raise"])
        if script.get("pickFirst"):
            return types.Decision_Pick(request.candidates[0])
        return convert.from_json(types.Decision, script.get("decide", "Abstain"))
