// The fixtures, natively: policy.js through the host's chain rules
// (berth-policy), with the contract read from wit/policy.wit. Run from the
// project directory:
//
//   node --import ./berth-policy/register.js --test test/

import assert from "node:assert/strict";
import { test } from "node:test";
import { runFixtures } from "../berth-policy/testing.js";
import { policy } from "../policy.js";

test("the fixtures pass", () => {
  for (const [path, wrong] of runFixtures(policy, "fixtures")) {
    assert.deepEqual(wrong, [], `${path}:\n  ${wrong.join("\n  ")}`);
  }
});

test("settings without pools are refused", () => {
  assert.throws(() => policy.validateSettings('{"pools": []}'), /must not be empty/);
});
