// Generates TypeScript declarations of the contract from a WIT directory
// with jco (the one componentize-js depends on), for editors and for
// test/wit.test.js:
//
//   node berth-policy/scripts/types.js [wit-dir] [out-dir]     (default: wit types)
//
// jco 1.35's own `jco types` cannot read the WIT on Node 20 (its WASI shim
// starts with no preopened directory), so this calls its type generator
// with the filesystem root preopened.

import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const TRANSPILE = "@bytecodealliance/jco-transpile";

/** The node_modules holding jco-transpile: the project's, else the pinned toolchain's. */
export function jcoModules() {
  const places = [
    process.env.JCO_NODE_MODULES,
    join(process.cwd(), "node_modules"),
    process.env.BERTH_POLICY_TOOLCHAINS && join(process.env.BERTH_POLICY_TOOLCHAINS, "js", "node_modules"),
  ].filter(Boolean);
  const found = places.find((p) => existsSync(join(p, TRANSPILE, "dist", "typegen.js")));
  if (found === undefined) {
    throw new Error(`${TRANSPILE} not found in ${places.join(", ")} (run npm ci, or set BERTH_POLICY_TOOLCHAINS)`);
  }
  return found;
}

/** {relative path: text} of the declarations jco generates for `witDir`. */
export async function generate(witDir) {
  const base = join(jcoModules(), TRANSPILE);
  const shim = join(base, "node_modules", "@bytecodealliance", "preview2-shim", "dist", "nodejs", "filesystem.js");
  const fs = await import(pathToFileURL(existsSync(shim) ? shim : join(base, "..", "preview2-shim", "dist", "nodejs", "filesystem.js")).href);
  fs._setPreopens({ "/": "/" });
  const { generateGuestTypes } = await import(pathToFileURL(join(base, "dist", "typegen.js")).href);
  const files = await generateGuestTypes(resolve(witDir), { worldName: "policy-world" });
  const decoder = new TextDecoder();
  return Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, decoder.decode(bytes)]));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [witDir = "wit", outDir = "types"] = process.argv.slice(2);
  for (const [name, text] of Object.entries(await generate(witDir))) {
    const path = join(outDir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    console.log(path);
  }
}
