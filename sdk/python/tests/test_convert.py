"""berth_policy.convert against the types componentize-py generates from
the repository's WIT: every fixture request converts and converts back
unchanged, and JSON that does not fit the contract is refused with its path."""

import glob
import json
import os
import unittest

from tests import support

support.bindings()

from berth_policy.convert import ConvertError, from_json, to_json  # noqa: E402
from wit_world.imports import types  # noqa: E402


def fixture_requests():
    for directory in (support.FIXTURES, support.TEMPLATE_FIXTURES):
        for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
            with open(path, encoding="utf-8") as f:
                yield path, json.load(f)["request"]


class ConvertTest(unittest.TestCase):
    def test_every_fixture_request_round_trips(self):
        seen = 0
        for path, raw in fixture_requests():
            with self.subTest(fixture=path):
                request = from_json(types.Request, raw)
                self.assertIsInstance(request.pools[0].family, types.IpFamily)
                self.assertEqual(to_json(request), raw)
                seen += 1
        self.assertGreater(seen, 10)

    def test_variants_in_both_serde_forms(self):
        self.assertEqual(from_json(types.Decision, "Abstain"), types.Decision_Abstain())
        pick = from_json(types.Decision, {"Pick": {"pool": "a", "address": "10.0.0.1"}})
        self.assertEqual(pick, types.Decision_Pick(types.Candidate("a", "10.0.0.1")))
        self.assertEqual(to_json(pick), {"Pick": {"pool": "a", "address": "10.0.0.1"}})
        keep = from_json(types.Retention, {"KeepUntilRetired": 30})
        self.assertEqual(keep, types.Retention_KeepUntilRetired(30))
        self.assertEqual(to_json(types.Retention_ReleaseOnDelete()), "ReleaseOnDelete")

    def test_a_missing_option_is_none_as_in_serde(self):
        owner = {"name": "sts", "ordinal": 2}
        self.assertEqual(from_json(types.StatefulSet, owner), types.StatefulSet("sts", 2, None))

    def test_json_that_does_not_fit_names_its_path(self):
        request = next(fixture_requests())[1]
        for change, message in (
            ({"pods": []}, "unknown field 'pods'"),
            ({"family": "v5"}, "$.family: 'v5' is not one of v4, v6"),
            ({"seed": "1"}, "$.seed: expected an integer"),
            ({"seed": True}, "$.seed: expected an integer"),
            ({"pools": [{"name": "a"}]}, "$.pools[0]: missing field 'subnet'"),
        ):
            with self.subTest(change=change):
                with self.assertRaises(ConvertError) as caught:
                    from_json(types.Request, {**request, **change})
                self.assertIn(message, str(caught.exception))
        with self.assertRaises(ConvertError) as caught:
            from_json(types.Decision, {"Choose": "x"})
        self.assertIn("'Choose' is not one of Abstain, RestrictPools", str(caught.exception))
        with self.assertRaises(ConvertError):
            from_json(types.Decision, {"Reject": "a", "Pick": "b"})


if __name__ == "__main__":
    unittest.main()
