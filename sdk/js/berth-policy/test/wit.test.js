// wit.js reads the WIT itself; this holds it to what jco (the generator
// componentize-js uses) makes of the same file: every record's fields in
// order, which are optional and which are BigInt, every enum's and every
// variant's cases. A contract change that wit.js misreads fails here.

import assert from "node:assert/strict";
import { test } from "node:test";
import { generate } from "../scripts/types.js";
import { camel } from "../wit.js";
import { contract, WIT_DIR } from "./support.js";

const pascal = (name) => camel(name).replace(/^./, (c) => c.toUpperCase());

function declarations(text) {
  const body = text.replace(/\/\*\*[\s\S]*?\*\//g, "");
  const interfaces = {};
  for (const [, name, fields] of body.matchAll(/export interface (\w+) \{([^}]*)\}/g)) {
    interfaces[name] = [...fields.matchAll(/'?([\w]+)'?(\??): ([^,]+),/g)].map(([, field, optional, type]) => ({
      field,
      optional: optional === "?",
      bigint: /\bbigint\b/.test(type),
      type: type.trim(),
    }));
  }
  const unions = {};
  for (const [, name, union] of body.matchAll(/export type (\w+) = ([^;]+);/g)) unions[name] = union.trim();
  return { interfaces, unions };
}

function wide(c, type) {
  const t = c.resolve(type);
  if (t.kind === "prim") return t.name === "u64" || t.name === "s64";
  if (t.kind === "option" || t.kind === "list") return wide(c, t.of);
  return false;
}

test("wit.js reads the contract's types as jco does", async () => {
  const files = await generate(WIT_DIR);
  const dts = declarations(Object.values(files).join("\n"));
  const c = contract();
  let checked = 0;
  for (const [name, def] of Object.entries(c.types)) {
    const ts = pascal(name);
    if (def.kind === "record") {
      const want = dts.interfaces[ts];
      assert.ok(want, `jco has no interface ${ts}`);
      const got = def.fields.map((f) => ({
        field: camel(f.name),
        optional: c.resolve(f.type).kind === "option",
        bigint: wide(c, f.type),
      }));
      assert.deepEqual(got, want.map(({ field, optional, bigint }) => ({ field, optional, bigint })), ts);
    } else if (def.kind === "enum") {
      assert.equal(dts.unions[ts], def.cases.map((x) => `'${x}'`).join(" | "), ts);
    } else if (def.kind === "variant") {
      for (const kase of def.cases) {
        const want = dts.interfaces[ts + pascal(kase.name)];
        assert.ok(want, `jco has no case ${ts}${pascal(kase.name)}`);
        assert.equal(want[0].type, `'${kase.name}'`, `${ts}.${kase.name} tag`);
        assert.equal(want.length, kase.type === null ? 1 : 2, `${ts}.${kase.name} payload`);
        if (kase.type !== null) assert.equal(want[1].bigint, wide(c, kase.type), `${ts}.${kase.name} BigInt`);
      }
    } else continue;
    checked++;
  }
  assert.ok(checked >= 12, `only ${checked} types checked`);
});

test("wit.js refuses what it does not understand", async () => {
  const { parseWit } = await import("../wit.js");
  assert.throws(() => parseWit("package a:b; interface i { flags f { x } }"), /flags is not supported/);
  assert.throws(() => parseWit("package a:b; interface i { record r { x u32 } }"), /expected :/);
});
