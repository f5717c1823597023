// fixtures.js and chain.js: the shared fixtures (sdk/fixtures, also run
// through the real host by berth-policy-cli's `packages` test) pass
// natively, and a wrong expectation fails, saying what differs.
// Run with `--import ./register.js` (the host import is stood in for).

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import * as fixtures from "../fixtures.js";
import { LOG } from "../host.js";
import { shout } from "./logs.js";
import { fixtureFiles, runFixtures } from "../testing.js";
import { contract, FIXTURES } from "./support.js";
import { policy } from "./scripted/policy.js";

const options = { contract: contract(), settings: undefined };

test("the shared fixtures pass", () => {
  const results = runFixtures(policy, FIXTURES, options);
  assert.ok(results.length >= 12, `${results.length} fixtures`);
  for (const [path, wrong] of results) assert.deepEqual(wrong, [], path);
});

test("a policy importing the host loads in Node, its messages kept", () => {
  shout("deciding for web-0");
  assert.deepEqual(LOG.at(-1), ["warn", "deciding for web-0"]);
});

test("a wrong expectation fails with what differs", () => {
  const fixture = fixtures.load(join(FIXTURES, "held-first.json"));
  for (const [key, value, message] of [
    ["outcome", "rejected", "outcome: expected rejected, got allocated"],
    ["picked", { pool: "a", address: "10.1.0.10" }, 'picked: expected {"pool":"a"'],
    ["identity", null, 'identity: expected null, got {"key":"default/web/0","retention":{"KeepForSecs":600}}'],
    ["decision", "Abstain", 'decision: expected "Abstain", got {"Pick"'],
  ]) {
    const wrong = structuredClone(fixture);
    wrong.expect[key] = value;
    const found = fixtures.check(options.contract, policy, wrong);
    assert.equal(found.length, 1, `${key}: ${found}`);
    assert.ok(found[0].includes(message), `${key}: ${found[0]}`);
  }
});

test("the reason of an exception is its message", () => {
  const fixture = fixtures.load(join(FIXTURES, "raises.json"));
  fixture.expect.reason = "another text";
  const [found] = fixtures.check(options.contract, policy, fixture);
  assert.ok(found.includes("trap: evaluate: scripted failure 31"), found);
});

test("settings the policy refuses fail the fixture", () => {
  const fixture = fixtures.load(join(FIXTURES, "abstain.json"));
  fixture.settings = { decidee: "Abstain" };
  assert.deepEqual(fixtures.check(options.contract, policy, fixture), [
    "the host refused the policy: invalid settings: unknown field 'decidee'",
  ]);
});

test("an answer that does not fit the WIT fails as at the component boundary", () => {
  const fixture = fixtures.load(join(FIXTURES, "abstain.json"));
  const sloppy = { ...policy, evaluate: () => ({ tag: "pick", val: { pool: "a" } }) };
  const [found] = fixtures.check(options.contract, sloppy, fixture);
  assert.ok(found.includes('trap: evaluate: $.val: missing field'), found);
});

test("fixture files are found in directories, sorted", () => {
  const files = fixtureFiles([FIXTURES]);
  assert.deepEqual(files, [...files].sort());
  assert.ok(files.every((f) => f.endsWith(".json")));
});
