// convert.js: every fixture request converts to what componentize-js
// hands a policy and back unchanged; JSON that does not fit is refused
// with its path; a policy's answer is checked as the boundary would.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ConvertError } from "../convert.js";
import { contract, FIXTURES, TEMPLATE_FIXTURES } from "./support.js";

const c = contract();
const requests = [FIXTURES, TEMPLATE_FIXTURES].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), "utf8")).request]),
);

test("every fixture request round-trips", () => {
  assert.ok(requests.length > 10);
  for (const [name, raw] of requests) {
    const request = c.fromJson("request", raw);
    assert.equal(typeof request.freeTotal, "bigint", name);
    assert.equal(typeof request.pools[0].namespaceUsed, "bigint", name);
    assert.equal(request.owner, undefined, name);
    assert.deepEqual(c.toJson("request", request), raw, name);
  }
});

test("variants, enums and options take both serde forms", () => {
  assert.deepEqual(c.fromJson("decision", "Abstain"), { tag: "abstain" });
  assert.deepEqual(c.fromJson("decision", { RestrictPools: ["a"] }), { tag: "restrict-pools", val: ["a"] });
  assert.deepEqual(c.fromJson("retention", { KeepUntilRetired: 30 }), { tag: "keep-until-retired", val: 30n });
  assert.deepEqual(c.toJson("retention", { tag: "release-on-delete" }), "ReleaseOnDelete");
  assert.equal(c.fromJson("log-level", "Debug"), "debug");
  assert.deepEqual(c.fromJson("stateful-set", { name: "s", ordinal: 2 }), { name: "s", ordinal: 2, replicas: undefined });
});

test("JSON that does not fit names its path", () => {
  const raw = requests[0][1];
  for (const [change, message] of [
    [{ pods: [] }, 'unknown field "pods"'],
    [{ family: "v5" }, '$.family: "v5" is not one of v4, v6'],
    [{ seed: "1" }, "$.seed: expected an integer"],
    [{ seed: -1 }, "$.seed: -1 does not fit u64"],
    [{ seed: 2 ** 60 }, "cannot be read exactly from JSON"],
    [{ pools: [{ name: "a" }] }, '$.pools[0]: missing field "subnet"'],
  ]) {
    assert.throws(() => c.fromJson("request", { ...raw, ...change }), (e) => e instanceof ConvertError && e.message.includes(message), message);
  }
  assert.throws(() => c.fromJson("decision", { Choose: 1 }), /"Choose" is not one of Abstain, RestrictPools/);
});

test("a policy's answer is checked and made canonical", () => {
  assert.deepEqual(c.lower("identity", { key: "k", retention: { tag: "keep-for-secs", val: 5 } }), {
    key: "k",
    retention: { tag: "keep-for-secs", val: 5n },
  });
  assert.throws(() => c.lower("decision", { tag: "pick-one" }), /tag one of abstain/);
  assert.throws(() => c.lower("decision", { tag: "reject", val: 3 }), /expected string/);
  assert.throws(() => c.lower("candidate", { pool: "a", address: 1.5 }), /expected string/);
});
