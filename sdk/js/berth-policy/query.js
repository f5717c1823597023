// Native answers to the host's queries (`berth:policy/query`, contract
// 0.2.0: `isFree`, `freeInRange`, `releasedAt`), as `berth-policy test`
// answers them for a fixture: an address is free when it is one of the
// request's sampled candidates or listed in the fixture's `free`; no
// release time is known. Bounds and "nonsense means nothing free" follow
// the SDK's sdk/src/chain/query.rs. hooks.js maps the import here, and
// chain.js says which addresses are free for the run in progress.

import { isIP } from "node:net";

// sdk/src/limits.rs
const QUERY_RANGE_RESULTS_MAX = 256;
const QUERY_RANGE_SCAN_MAX = 65536n;
const QUERY_STRING_BYTES_MAX = 256;

let free = []; // {pool, family, n} of the run in progress

/** Answers queries from `assignable` (candidates) while `body` runs. */
export function serving(assignable, body) {
  const before = free;
  free = assignable.map((c) => ({ pool: c.pool, ...parse(c.pool, c.address) })).filter((a) => a.family);
  try {
    return body();
  } finally {
    free = before;
  }
}

export function isFree(pool, address) {
  const a = parse(pool, address);
  return a.family !== undefined && free.some((f) => f.pool === pool && f.family === a.family && f.n === a.n);
}

export function freeInRange(pool, first, last, limit) {
  const [a, b] = [parse(pool, first), parse(pool, last)];
  if (a.family === undefined || a.family !== b.family || a.n > b.n) return [];
  // A fixture host walks at most QUERY_RANGE_SCAN_MAX addresses from `first`.
  const end = b.n < a.n + QUERY_RANGE_SCAN_MAX - 1n ? b.n : a.n + QUERY_RANGE_SCAN_MAX - 1n;
  const found = [...new Set(free.filter((f) => f.pool === pool && f.family === a.family && f.n >= a.n && f.n <= end).map((f) => f.n))];
  found.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return found.slice(0, Math.min(limit, QUERY_RANGE_RESULTS_MAX)).map((n) => format(a.family, n));
}

export function releasedAt(pool, address) {
  return undefined;
}

/** {family: 4 | 6, n: BigInt}, or {} for what is not an address. */
function parse(pool, address) {
  if (Buffer.byteLength(pool) > QUERY_STRING_BYTES_MAX || Buffer.byteLength(address) > QUERY_STRING_BYTES_MAX) return {};
  const text = address.trim();
  const family = isIP(text);
  if (family === 4) return { family, n: text.split(".").reduce((n, part) => (n << 8n) + BigInt(part), 0n) };
  if (family !== 6) return {};
  const [head, tail = ""] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (s) => (s ? s.split(":") : []);
  let parts = groups(head);
  if (tail !== undefined && text.includes("::")) {
    const back = groups(tail);
    parts = [...parts, ...Array(8 - parts.length - back.length).fill("0"), ...back];
  }
  if (parts.length !== 8 || parts.some((p) => p.includes("."))) return {}; // embedded IPv4: not in fixtures
  return { family, n: parts.reduce((n, p) => (n << 16n) + BigInt(`0x${p}`), 0n) };
}

function format(family, n) {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
  const groups = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((n >> s) & 0xffffn).toString(16));
  // The canonical form (RFC 5952): the longest run of zero groups becomes "::".
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best[1] && j - i > 1) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best[0] < 0) return groups.join(":");
  return `${groups.slice(0, best[0]).join(":")}::${groups.slice(best[0] + best[1]).join(":")}`;
}
