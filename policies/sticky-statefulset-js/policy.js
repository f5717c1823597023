// sticky-statefulset, in JavaScript: the StatefulSet rule of Berth's
// default policy, built with componentize-js against the same WIT contract.
//
// * A StatefulSet pod is bound to `namespace/statefulset/ordinal`, kept
//   after DEL until the ordinal is retired, then `holdAfterScaleDown` longer.
// * `stableIdentities` extends stickiness to other pods (single-host users
//   with stable pod names): `{"ownerKind": "ReplicaSet"}` binds
//   `namespace/kind/owner/pod`, `{"podNamePattern": "test-sts-*"}` binds
//   `namespace/pod`; held until released, or `retainSecs` after DEL.
// * evaluate picks the address that identity holds for the request's
//   interface and family in a current pool; otherwise it abstains.
//
// Settings: {"statefulSets": true, "holdAfterScaleDown": "10m",
// "stableIdentities": [...]}; unknown keys are refused at load, like the
// Rust policy's.

import { log } from "berth:policy/host@0.2.0";

const NAME = "sticky-statefulset-js";
const VERSION = "0.1.0";
const CONTRACT = "0.2.0";
const KEY_BYTES_MAX = 253;
const UNITS = { s: 1n, m: 60n, h: 3600n, d: 86400n };
const U64_MAX = (1n << 64n) - 1n;

// Seconds (a BigInt: WIT u64) from 45, "45", "30s", "10m", "2h" or "1d".
function parseSecs(value) {
  let secs;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`invalid duration ${value}`);
    secs = BigInt(value);
  } else if (typeof value === "string") {
    let text = value.trim();
    let scale = 1n;
    const unit = text.slice(-1);
    if (/[a-z]/i.test(unit)) {
      if (!(unit in UNITS)) throw new Error(`invalid duration "${text}": unknown unit (use s, m, h or d)`);
      scale = UNITS[unit];
      text = text.slice(0, -1);
    }
    if (!/^[0-9]+$/.test(text)) throw new Error(`invalid duration "${value}": expected a whole number and a unit`);
    secs = BigInt(text) * scale;
  } else {
    throw new Error('expected a duration: seconds, or a string like "10m"');
  }
  if (secs < 0n || secs > U64_MAX) throw new Error(`invalid duration "${value}": out of range`);
  return secs;
}

function parseRule(i, raw) {
  const where = `stableIdentities[${i}]`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`settings.${where}: expected an object`);
  for (const key of Object.keys(raw)) {
    if (!["ownerKind", "podNamePattern", "retainSecs"].includes(key)) throw new Error(`settings.${where}: unknown field "${key}"`);
  }
  const kind = raw.ownerKind ?? undefined;
  const pattern = raw.podNamePattern ?? undefined;
  for (const value of [kind, pattern]) {
    if (value !== undefined && typeof value !== "string") throw new Error(`settings.${where}: expected strings`);
  }
  if (kind !== undefined && pattern !== undefined) throw new Error(`${where}: give either ownerKind or podNamePattern, not both`);
  if (!(kind ?? pattern ?? "").trim()) throw new Error(`${where}: needs a non-empty ownerKind or podNamePattern`);
  let retain;
  if (raw.retainSecs !== undefined && raw.retainSecs !== null) {
    try {
      retain = parseSecs(raw.retainSecs);
    } catch (e) {
      throw new Error(`settings.${where}.retainSecs: ${e.message}`);
    }
  }
  return { kind, pattern, retain };
}

function parseSettings(text) {
  let raw = text.trim() ? JSON.parse(text) : null;
  if (raw === null) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error("settings: expected a JSON object");
  for (const key of Object.keys(raw)) {
    if (!["statefulSets", "holdAfterScaleDown", "stableIdentities"].includes(key)) throw new Error(`settings: unknown field "${key}"`);
  }
  const on = raw.statefulSets ?? true;
  if (typeof on !== "boolean") throw new Error("settings.statefulSets: expected true or false");
  let hold;
  try {
    hold = parseSecs(raw.holdAfterScaleDown ?? 0);
  } catch (e) {
    throw new Error(`settings.holdAfterScaleDown: ${e.message}`);
  }
  const rules = raw.stableIdentities ?? [];
  if (!Array.isArray(rules)) throw new Error("settings.stableIdentities: expected a list");
  return { on, hold, rules: rules.map((r, i) => parseRule(i, r)) };
}

// `*` matches any run of characters; nothing else is special.
function globMatches(pattern, text) {
  const parts = pattern.split("*");
  if (!text.startsWith(parts[0])) return false;
  let rest = text.slice(parts[0].length);
  if (parts.length === 1) return rest === "";
  for (const part of parts.slice(1, -1)) {
    const at = rest.indexOf(part);
    if (at < 0) return false;
    rest = rest.slice(at + part.length);
  }
  const last = parts[parts.length - 1];
  return rest.length >= last.length && rest.endsWith(last);
}

function fnv1a(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & U64_MAX;
  return h;
}

// The key as the Rust policy bounds it: none when empty or with
// whitespace; a long one cut and suffixed with its hash.
function boundedKey(raw) {
  if (!raw || /[\s\u0000-\u001f\u007f-\u009f]/u.test(raw)) {
    log("warn", `no sticky identity for ${JSON.stringify(raw)}: empty or has whitespace`);
    return undefined;
  }
  const bytes = new TextEncoder().encode(raw);
  if (bytes.length <= KEY_BYTES_MAX) return raw;
  let cut = KEY_BYTES_MAX - 17;
  // Back to a UTF-8 character boundary (not a continuation byte).
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut -= 1;
  const kept = new TextDecoder().decode(bytes.slice(0, cut));
  return `${kept}~${fnv1a(bytes).toString(16).padStart(16, "0")}`;
}

function identityOf(settings, request) {
  const { on, hold, rules } = parseSettings(settings);
  const ns = request.namespace;
  const sts = request.statefulSet;
  const pod = request.podName;
  let raw;
  if (on && sts !== undefined) {
    raw = [`${ns}/${sts.name}/${sts.ordinal}`, { tag: "keep-until-retired", val: hold }];
  } else if (pod) {
    for (const rule of rules) {
      const retention =
        rule.retain === undefined ? { tag: "keep-until-retired", val: 0n } : { tag: "keep-for-secs", val: rule.retain };
      if (rule.kind !== undefined) {
        const owner = request.owner;
        if (owner !== undefined && owner.kind === rule.kind) {
          raw = [`${ns}/${rule.kind}/${owner.name}/${pod}`, retention];
          break;
        }
      } else if (globMatches(rule.pattern, pod)) {
        raw = [`${ns}/${pod}`, retention];
        break;
      }
    }
  }
  if (raw === undefined) return undefined;
  const key = boundedKey(raw[0]);
  return key === undefined ? undefined : { key, retention: raw[1] };
}

function heldCandidate(request) {
  const pools = new Set(request.pools.map((p) => p.name));
  return request.candidates.find(
    (c) =>
      pools.has(c.pool) &&
      request.bindings.some(
        (b) =>
          b.pool === c.pool &&
          b.address === c.address &&
          b.interface === request.interface &&
          b.family === request.family,
      ),
  );
}

export const policy = {
  metadata() {
    return { name: NAME, version: VERSION, contract: CONTRACT };
  },
  validateSettings(settings) {
    // A thrown value becomes the `err` of the WIT result.
    try {
      parseSettings(settings);
    } catch (e) {
      throw e.message;
    }
  },
  identify(settings, request) {
    try {
      return identityOf(settings, request);
    } catch (e) {
      log("error", `invalid settings: ${e.message}`);
      return undefined;
    }
  },
  evaluate(settings, request) {
    let ours;
    try {
      ours = identityOf(settings, request);
    } catch (e) {
      return { tag: "reject", val: `invalid settings: ${e.message}` };
    }
    const chain = request.identity;
    if (ours === undefined || chain === undefined || chain.key !== ours.key) return { tag: "abstain" };
    const held = heldCandidate(request);
    if (held === undefined) return { tag: "abstain" };
    log("debug", `${request.podName}: keeping ${held.address} of pool ${held.pool}`);
    return { tag: "pick", val: held };
  },
};
