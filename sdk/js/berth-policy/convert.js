// Fixture JSON (the Rust SDK's serde form) <-> the values componentize-js
// passes a policy, for every type of the contract, read from its WIT.
//
// serde: records with snake_case keys, enums as strings ("v4"), variants
// externally tagged ("Abstain", {"Pick": {...}}), options as null, 64-bit
// integers as numbers. componentize-js: camelCase keys, enums as kebab-case
// strings, variants as {tag, val}, options as undefined, 64-bit integers as
// BigInt. `lower` checks a policy's answer the way the component boundary
// would (an answer that does not fit the WIT traps there, and fails here).

import { readFileSync } from "node:fs";
import { camel, parseWit, snake } from "./wit.js";

const INTS = { u8: [0n, 255n], u16: [0n, 65535n], u32: [0n, 4294967295n], u64: [0n, 2n ** 64n - 1n],
  s8: [-128n, 127n], s16: [-32768n, 32767n], s32: [-2147483648n, 2147483647n], s64: [-(2n ** 63n), 2n ** 63n - 1n] };
const WIDE = new Set(["u64", "s64"]);

export class ConvertError extends Error {}

/** Compares names across spellings: `V4`/`v4`, `RestrictPools`/`restrict-pools`. */
const norm = (name) => String(name).replace(/[-_]/g, "").toLowerCase();
const pascal = (name) => camel(name).replace(/^./, (c) => c.toUpperCase());
const fail = (path, message) => {
  throw new ConvertError(`${path}: ${message}`);
};
const show = (value) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v));

export class Contract {
  /** The contract in the WIT file at `path` (a project's `wit/policy.wit`). */
  static fromFile(path) {
    return new Contract(parseWit(readFileSync(path, "utf8")));
  }

  constructor(parsed) {
    this.package = parsed.package;
    this.types = {};
    for (const iface of Object.values(parsed.interfaces)) Object.assign(this.types, iface);
  }

  resolve(type) {
    if (typeof type === "string") type = { kind: "ref", name: type };
    while (type.kind === "ref" || type.kind === "alias") {
      const next = type.kind === "ref" ? this.types[type.name] : type.of;
      if (next === undefined) throw new ConvertError(`the WIT has no type ${type.name}`);
      type = next;
    }
    return type;
  }

  /** The componentize-js value of WIT type `type` that serde JSON `json` describes. */
  fromJson(type, json, path = "$") {
    const t = this.resolve(type);
    switch (t.kind) {
      case "prim":
        return prim(t.name, json, path, true);
      case "list":
        if (!Array.isArray(json)) fail(path, `expected a list, got ${show(json)}`);
        return json.map((v, i) => this.fromJson(t.of, v, `${path}[${i}]`));
      case "option":
        return json === null || json === undefined ? undefined : this.fromJson(t.of, json, path);
      case "enum": {
        const found = t.cases.find((c) => norm(c) === norm(json));
        if (typeof json !== "string" || found === undefined) fail(path, `${show(json)} is not one of ${t.cases.join(", ")}`);
        return found;
      }
      case "record":
        return this.record(t, json, path, (f, v, p) => this.fromJson(f.type, v, p), snake, camel, true);
      case "variant": {
        let name = json;
        let payload;
        if (json !== null && typeof json === "object" && !Array.isArray(json) && Object.keys(json).length === 1) {
          [[name, payload]] = Object.entries(json);
        } else if (typeof json !== "string") fail(path, `expected a variant ("Case" or {"Case": value}), got ${show(json)}`);
        const c = t.cases.find((c) => norm(c.name) === norm(name));
        if (c === undefined) fail(path, `${show(name)} is not one of ${t.cases.map((c) => pascal(c.name)).join(", ")}`);
        if (c.type === null) return { tag: c.name };
        if (payload === undefined) fail(path, `${name} needs a value`);
        return { tag: c.name, val: this.fromJson(c.type, payload, `${path}.${name}`) };
      }
      default:
        return fail(path, `no fixture form for a WIT ${t.kind}`);
    }
  }

  /** `value` (a policy's answer) as the component boundary would take it. */
  lower(type, value, path = "$") {
    const t = this.resolve(type);
    switch (t.kind) {
      case "prim":
        return prim(t.name, value, path, false);
      case "list":
        if (!Array.isArray(value)) fail(path, `expected an array, got ${show(value)}`);
        return value.map((v, i) => this.lower(t.of, v, `${path}[${i}]`));
      case "option":
        return value === null || value === undefined ? undefined : this.lower(t.of, value, path);
      case "enum":
        if (!t.cases.includes(value)) fail(path, `${show(value)} is not one of ${t.cases.join(", ")}`);
        return value;
      case "record":
        return this.record(t, value, path, (f, v, p) => this.lower(f.type, v, p), camel, camel, false);
      case "variant": {
        const c = value && t.cases.find((c) => c.name === value.tag);
        if (c === undefined) fail(path, `expected {tag, val} with tag one of ${t.cases.map((c) => c.name).join(", ")}, got ${show(value)}`);
        if (c.type === null) return { tag: c.name };
        return { tag: c.name, val: this.lower(c.type, value.val, `${path}.val`) };
      }
      default:
        return fail(path, `cannot check a WIT ${t.kind}`);
    }
  }

  /** The serde JSON form of a componentize-js value (for messages). */
  toJson(type, value) {
    const t = this.resolve(type);
    switch (t.kind) {
      case "prim":
        return typeof value === "bigint" ? Number(value) : value;
      case "list":
        return value.map((v) => this.toJson(t.of, v));
      case "option":
        return value === undefined || value === null ? null : this.toJson(t.of, value);
      case "enum":
        return value;
      case "record":
        return Object.fromEntries(t.fields.map((f) => [snake(f.name), this.toJson(f.type, value[camel(f.name)])]));
      case "variant": {
        const c = t.cases.find((c) => c.name === value.tag);
        return c.type === null ? pascal(c.name) : { [pascal(c.name)]: this.toJson(c.type, value.val) };
      }
      default:
        return value;
    }
  }

  record(t, obj, path, convert, keyIn, keyOut, strict) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) fail(path, `expected an object, got ${show(obj)}`);
    if (strict) {
      const known = new Set(t.fields.map((f) => keyIn(f.name)));
      const unknown = Object.keys(obj).filter((k) => !known.has(k)).sort();
      if (unknown.length > 0) fail(path, `unknown field "${unknown[0]}"`);
    }
    const out = {};
    for (const f of t.fields) {
      const key = keyIn(f.name);
      const optional = this.resolve(f.type).kind === "option";
      // serde reads a missing `Option` field as None; so do we.
      if (!(key in obj) && !optional) fail(path, `missing field "${key}"`);
      out[keyOut(f.name)] = convert(f, obj[key], `${path}.${key}`);
    }
    return out;
  }
}

function prim(name, value, path, fromJson) {
  if (name in INTS) {
    const integral = typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
    if (!integral) fail(path, `expected an integer (${name}), got ${show(value)}`);
    const big = BigInt(value);
    const [lo, hi] = INTS[name];
    if (big < lo || big > hi) fail(path, `${big} does not fit ${name}`);
    if (fromJson && typeof value === "number" && !Number.isSafeInteger(value)) {
      fail(path, `${value} is past 2^53 and cannot be read exactly from JSON`);
    }
    return WIDE.has(name) ? big : Number(big);
  }
  const want = name === "bool" ? "boolean" : name === "f32" || name === "f64" ? "number" : "string";
  if (typeof value !== want) fail(path, `expected ${want} (${name}), got ${show(value)}`);
  return value;
}
