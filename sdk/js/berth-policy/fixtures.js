// `berth-policy test` fixtures, run natively against a JavaScript policy.
//
// A fixture file (the format `berth-policy test` reads, see
// host/policy-cli/src/fixture.rs) holds a request, settings, the host's
// state and what the run must end in:
//
//   {"description": "...", "settings": {...}, "request": {...},
//    "bindings": [...], "free": [...],
//    "expect": {"outcome": "allocated", "reason": "...", "identity": null,
//               "decision": {"RestrictPools": ["b"]}, "picked": null}}
//
// Every `expect` key given is checked; `null` for identity or picked checks
// that there was none. `check` returns how the run differs (empty: passed).

import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import * as chain from "./chain.js";

const FIXTURE_KEYS = new Set(["description", "settings", "request", "bindings", "free", "expect"]);
const EXPECT_KEYS = new Set(["outcome", "reason", "identity", "decision", "picked"]);
const OUTCOMES = ["allocated", "rejected", "failed"];

function checkKeys(obj, allowed, what) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error(`${what}: expected a JSON object`);
  const unknown = Object.keys(obj).filter((k) => !allowed.has(k)).sort();
  if (unknown.length > 0) throw new Error(`${what}: unknown field "${unknown[0]}"`);
}

/** The fixture in the file at `path`, as parsed JSON. */
export function load(path) {
  const fixture = JSON.parse(readFileSync(path, "utf8"));
  checkKeys(fixture, FIXTURE_KEYS, "fixture");
  checkKeys(fixture.expect, EXPECT_KEYS, "expect");
  if (!OUTCOMES.includes(fixture.expect.outcome)) throw new Error(`expect.outcome: expected one of ${OUTCOMES.join(", ")}`);
  return fixture;
}

/** Runs `fixture` against `policy` (a module's `policy` export); the list of mismatches. */
export function check(contract, policy, fixture, defaultSettings) {
  const settings = chain.settingsText(fixture.settings ?? defaultSettings);
  const refused = chain.validate(policy, settings);
  if (refused !== null) return [`the host refused the policy: ${refused}`];
  const request = contract.fromJson("request", fixture.request, "$.request");
  const list = (type, key) => (fixture[key] ?? []).map((v, i) => contract.fromJson(type, v, `$.${key}[${i}]`));
  const got = chain.run(contract, policy, settings, request, list("binding", "bindings"), list("candidate", "free"));
  return mismatches(contract, fixture.expect, got);
}

/** How `got` (from `chain.run`) differs from `want` (a fixture's `expect`). */
export function mismatches(contract, want, got) {
  const wrong = [];
  if (got.outcome !== want.outcome) {
    wrong.push(`outcome: expected ${want.outcome}, got ${got.outcome} (${JSON.stringify(got.reason)})`);
  }
  if (want.reason !== undefined && want.reason !== null && !(got.reason ?? "").includes(want.reason)) {
    wrong.push(`reason: expected one containing ${JSON.stringify(want.reason)}, got ${JSON.stringify(got.reason)}`);
  }
  if (got.outcome !== "allocated") return wrong;
  for (const [key, type] of [["identity", "identity"], ["decision", "decision"], ["picked", "candidate"]]) {
    if (!(key in want)) continue;
    const expected = want[key] === null ? undefined : contract.fromJson(type, want[key], `$.expect.${key}`);
    const actual = got[key];
    if (!isDeepStrictEqual(expected, actual)) {
      const show = (v) => JSON.stringify(v === undefined ? null : contract.toJson(type, v));
      wrong.push(`${key}: expected ${show(expected)}, got ${show(actual)}`);
    }
  }
  return wrong;
}
