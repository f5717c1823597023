"""berth_policy.fixtures and .chain: the shared fixtures (sdk/fixtures,
also run through the real host by berth-policy-cli's `packages` test)
pass natively, and a wrong expectation fails, saying what differs."""

import copy
import glob
import os
import unittest

from tests import support

support.bindings()

from berth_policy import fixtures, testing  # noqa: E402


class FixturesTest(unittest.TestCase):
    def setUp(self):
        self.policy = support.scripted()

    def test_the_shared_fixtures_pass(self):
        pattern = os.path.join(support.FIXTURES, "*.json")
        self.assertGreaterEqual(len(glob.glob(pattern)), 12)
        testing.assert_fixtures(self, self.policy, pattern)

    def test_a_wrong_expectation_fails_with_what_differs(self):
        fixture = fixtures.load(os.path.join(support.FIXTURES, "held-first.json"))
        for key, value, message in (
            ("outcome", "rejected", "outcome: expected rejected, got allocated"),
            ("picked", {"pool": "a", "address": "10.1.0.10"}, 'picked: expected {"pool": "a"'),
            ("identity", None, "identity: expected null, got {\"key\": \"default/web/0\""),
            ("decision", "Abstain", 'decision: expected "Abstain", got {"Pick"'),
        ):
            with self.subTest(key=key):
                wrong = copy.deepcopy(fixture)
                wrong["expect"][key] = value
                found = fixtures.check(self.policy, wrong)
                self.assertEqual(len(found), 1, found)
                self.assertIn(message, found[0])

    def test_the_reason_of_an_exception_is_its_text(self):
        fixture = fixtures.load(os.path.join(support.FIXTURES, "raises.json"))
        fixture["expect"]["reason"] = "another text"
        (found,) = fixtures.check(self.policy, fixture)
        self.assertIn("RuntimeError: scripted failure 31", found)

    def test_settings_the_policy_refuses_fail_every_fixture(self):
        fixture = fixtures.load(os.path.join(support.FIXTURES, "abstain.json"))
        fixture["settings"] = {"decidee": "Abstain"}
        self.assertEqual(
            fixtures.check(self.policy, fixture),
            ["the host refused the policy: invalid settings: unknown field 'decidee'"],
        )

    def test_a_malformed_fixture_is_refused(self):
        path = os.path.join(support.HERE, "..", "build", "bad.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write('{"request": {}, "expect": {"outcome": "allocated"}, "expected": 1}')
        with self.assertRaisesRegex(ValueError, "unknown field 'expected'"):
            fixtures.load(path)


if __name__ == "__main__":
    unittest.main()
