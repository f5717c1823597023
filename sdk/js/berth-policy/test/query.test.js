// query.js: the native answers to the host's queries, as the SDK's
// fixture host gives them (sdk/src/chain/query.rs); the import resolves
// to them for any contract version (register.js).

import assert from "node:assert/strict";
import { test } from "node:test";
import { freeInRange, isFree, releasedAt, serving } from "../query.js";
import { ask } from "./queries.js";

const FREE = [
  { pool: "a", address: "10.1.0.9" },
  { pool: "a", address: "10.1.0.3" },
  { pool: "a", address: "10.1.0.5" },
  { pool: "b", address: "10.1.0.4" },
  { pool: "a", address: "fd00::2" },
  { pool: "a", address: "fd00:0:0:1::" },
];

test("isFree knows the run's free addresses only", () => {
  serving(FREE, () => {
    assert.equal(isFree("a", "10.1.0.3"), true);
    assert.equal(isFree("a", "fd00:0::2"), true);
    assert.equal(isFree("b", "10.1.0.3"), false);
    assert.equal(isFree("a", "not an address"), false);
    assert.equal(isFree("a".repeat(300), "10.1.0.3"), false);
  });
  assert.equal(isFree("a", "10.1.0.3"), false, "nothing is free outside a run");
});

test("freeInRange is ascending, bounded, in family and canonical", () => {
  serving(FREE, () => {
    assert.deepEqual(freeInRange("a", "10.1.0.1", "10.1.0.9", 10), ["10.1.0.3", "10.1.0.5", "10.1.0.9"]);
    assert.deepEqual(freeInRange("a", "10.1.0.1", "10.1.0.9", 2), ["10.1.0.3", "10.1.0.5"]);
    assert.deepEqual(freeInRange("a", "10.1.0.9", "10.1.0.1", 10), [], "backwards");
    assert.deepEqual(freeInRange("a", "10.1.0.1", "fd00::9", 10), [], "across families");
    assert.deepEqual(freeInRange("a", "fd00::", "fd00::9", 10), ["fd00::2"]);
    assert.deepEqual(freeInRange("a", "fd00::", "fd00:0:0:1::ffff", 10), ["fd00::2"], "walked at most 65536 addresses");
    assert.deepEqual(freeInRange("a", "fd00:0:0:1::", "fd00:0:0:1::1", 10), ["fd00:0:0:1::"]);
    assert.equal(releasedAt("a", "10.1.0.3"), undefined);
  });
});

test("a policy importing the query interface gets these answers", () => {
  assert.deepEqual(serving(FREE, () => ask("a", "10.1.0.3", "10.1.0.5")), { firstFree: true, range: ["10.1.0.3", "10.1.0.5"] });
  assert.deepEqual(serving(FREE, () => ask("a", "10.1.0.4", "10.1.0.4")), { firstFree: false, range: [] });
});
