// Native tests of a JavaScript policy: fixtures through the host's chain
// rules, with the contract read from the project's WIT.
//
//   import { runFixtures } from "./berth-policy/testing.js";
//   import { policy } from "../policy.js";
//   for (const [path, wrong] of await runFixtures(policy, "fixtures")) ...
//
// or from a shell, in the project directory (runs ./policy.js):
//
//   node --import ./berth-policy/register.js ./berth-policy/testing.js fixtures/*.json

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Contract } from "./convert.js";
import * as fixtures from "./fixtures.js";

/** The contract of the project in `dir` (its `wit/policy.wit`). */
export const contractOf = (dir = ".") => Contract.fromFile(join(dir, "wit", "policy.wit"));

/** The project's `settings.json` (used when a fixture gives none), else undefined. */
export function settingsOf(dir = ".") {
  const path = join(dir, "settings.json");
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined;
}

/** The fixture files named by `paths` (files, or directories of *.json), sorted. */
export function fixtureFiles(paths) {
  const files = [];
  for (const path of paths) {
    if (statSync(path).isDirectory()) {
      files.push(...readdirSync(path).filter((f) => f.endsWith(".json")).map((f) => join(path, f)));
    } else files.push(path);
  }
  if (files.length === 0) throw new Error(`no fixture files in ${paths.join(", ")}`);
  return files.sort();
}

/** [[path, mismatches]] for every fixture in `paths` (a path or a list). */
export function runFixtures(policy, paths, { dir = ".", contract = contractOf(dir), settings = settingsOf(dir) } = {}) {
  const list = Array.isArray(paths) ? paths : [paths];
  return fixtureFiles(list).map((path) => [path, fixtures.check(contract, policy, fixtures.load(path), settings)]);
}

/** Prints like `berth-policy test`; the process exit code. */
export async function main(args) {
  const module = await import(pathToFileURL(resolve("policy.js")).href);
  let passed = 0;
  let failed = 0;
  for (const [path, wrong] of runFixtures(module.policy, args.length > 0 ? args : ["fixtures"])) {
    if (wrong.length === 0) {
      passed++;
      console.log(`ok   ${path}`);
    } else {
      failed++;
      console.log(`FAIL ${path}`);
      for (const line of wrong) console.log(`     ${line}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2));
}
