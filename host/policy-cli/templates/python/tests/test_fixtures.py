"""The fixtures, natively: app.py through the host's chain rules
(berth_policy), with the types generated from wit/policy.wit. Run from the
project directory: `python -m unittest` (the Python that has
componentize-py, from requirements.txt)."""

import unittest

from berth_policy import testing


class Fixtures(unittest.TestCase):
    def test_the_fixtures_pass(self):
        policy = testing.load_policy()
        testing.assert_fixtures(self, policy, "fixtures/*.json", testing.settings_of())

    def test_settings_without_pools_are_refused(self):
        policy = testing.load_policy()
        from componentize_py_types import Err

        with self.assertRaises(Err) as refused:
            policy.validate_settings('{"pools": []}')
        self.assertIn("must not be empty", refused.exception.value)


if __name__ == "__main__":
    unittest.main()
