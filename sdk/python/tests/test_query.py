"""berth_policy.query: the native answers to the host's queries, as the
SDK's fixture host gives them (sdk/src/chain/query.rs)."""

import unittest

from tests import support

support.bindings()

from berth_policy import query  # noqa: E402
from wit_world.imports import types  # noqa: E402

FREE = [
    types.Candidate("a", "10.1.0.9"),
    types.Candidate("a", "10.1.0.3"),
    types.Candidate("a", "10.1.0.5"),
    types.Candidate("b", "10.1.0.4"),
    types.Candidate("a", "fd00::2"),
]


class QueryTest(unittest.TestCase):
    def test_is_free_knows_the_runs_free_addresses_only(self):
        with query.serving(FREE):
            self.assertTrue(query.is_free("a", "10.1.0.3"))
            self.assertTrue(query.is_free("a", "fd00:0::2"))
            self.assertFalse(query.is_free("b", "10.1.0.3"))
            self.assertFalse(query.is_free("a", "not an address"))
            self.assertFalse(query.is_free("a" * 300, "10.1.0.3"))
        self.assertFalse(query.is_free("a", "10.1.0.3"), "nothing is free outside a run")

    def test_free_in_range_is_ascending_bounded_and_in_family(self):
        with query.serving(FREE):
            self.assertEqual(query.free_in_range("a", "10.1.0.1", "10.1.0.9", 10), ["10.1.0.3", "10.1.0.5", "10.1.0.9"])
            self.assertEqual(query.free_in_range("a", "10.1.0.1", "10.1.0.9", 2), ["10.1.0.3", "10.1.0.5"])
            self.assertEqual(query.free_in_range("a", "10.1.0.4", "10.1.0.8", 10), ["10.1.0.5"])
            self.assertEqual(query.free_in_range("a", "10.1.0.9", "10.1.0.1", 10), [], "backwards")
            self.assertEqual(query.free_in_range("a", "10.1.0.1", "fd00::9", 10), [], "across families")
            self.assertEqual(query.free_in_range("a", "fd00::", "fd00::9", 10), ["fd00::2"])
            self.assertIsNone(query.released_at("a", "10.1.0.3"))

    def test_a_range_is_walked_at_most_the_scan_bound(self):
        far = [types.Candidate("a", "10.0.255.255"), types.Candidate("a", "10.1.0.0")]
        with query.serving(far):
            self.assertEqual(query.free_in_range("a", "10.0.0.0", "10.2.0.0", 5), ["10.0.255.255"])


if __name__ == "__main__":
    unittest.main()
