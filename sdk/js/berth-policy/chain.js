// The host's chain rules for a chain of one policy, natively.
//
// `berth-policy test` runs a component in the real host runtime; this runs
// the policy module's `policy` object directly, for a quick edit-test loop.
// It applies the rules host/core/src/chain.rs applies, with the same
// messages, so a fixture that passes here passes there: the identify phase
// sees no candidates, the identity's bindings are fetched and its held
// addresses put first, and every decision is checked (a pick must be a
// current candidate, or a free address of a current pool while nothing was
// narrowed). The Berth repository runs sdk/fixtures both ways, so this copy
// of the rules cannot drift from the host's unnoticed.

import { serving } from "./query.js";

// host/core/src/limits.rs
const IDENTITY_KEY_BYTES_MAX = 253;
const DECISION_CANDIDATES_MAX = 256;
const DECISION_STRING_BYTES_MAX = 256;
const CHAIN_BINDINGS_MAX = 16;
const U64_MAX = 2n ** 64n - 1n;

class Illegal extends Error {}

const bytes = (text) => Buffer.byteLength(text, "utf8");
const same = (a, b) => a.pool === b.pool && a.address === b.address;
const has = (list, c) => list.some((x) => same(x, c));

/** The settings as the host hands them to a policy: compact JSON. */
export const settingsText = (settings) => JSON.stringify(settings ?? {});

/** The load-time settings check: an error message, or null. */
export function validate(policy, settings) {
  try {
    policy.validateSettings(settings);
    return null;
  } catch (error) {
    // componentize-js makes a thrown value the `err` of the WIT result.
    return `invalid settings: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Runs `policy` over `request` as a one-policy chain; `bindings` are what a
 * stated identity holds, `assignable` free addresses outside the sample.
 * Returns {outcome, reason, identity, decision, picked}.
 */
export function run(contract, policy, settings, request, bindings = [], assignable = []) {
  const sample = [...request.candidates];
  // The host's queries see the fixture host's free addresses.
  return serving([...sample, ...assignable], () => runServed(contract, policy, settings, request, sample, bindings, assignable));
}

function runServed(contract, policy, settings, request, sample, bindings, assignable) {
  let found;
  try {
    found = contract.lower({ kind: "option", of: { kind: "ref", name: "identity" } }, policy.identify(settings, { ...request, candidates: [], identity: undefined, bindings: [] }));
    checkIdentity(found);
  } catch (error) {
    return failed("identify", error);
  }
  const state = new State(request, sample);
  let held = [];
  if (found !== undefined) {
    held = bindings.slice(0, CHAIN_BINDINGS_MAX);
    state.putHeldFirst(held, request);
  }
  const freeTotal = request.pools.reduce((sum, p) => sum + p.free, 0n);
  const shown = {
    ...request,
    identity: found,
    bindings: held,
    candidates: [...state.candidates],
    freeTotal: freeTotal > U64_MAX ? U64_MAX : freeTotal,
  };
  let decision;
  try {
    decision = contract.lower("decision", policy.evaluate(settings, shown));
    state.apply(decision, (c) => has(sample, c) || has(assignable, c));
  } catch (error) {
    return { ...failed("evaluate", error), identity: found };
  }
  if (decision.tag === "reject") {
    const reason = decision.val.trim() ? decision.val : "(the policy gave no reason)";
    return { outcome: "rejected", reason, identity: found, decision };
  }
  return { outcome: "allocated", reason: null, identity: found, decision, picked: state.picked };
}

function failed(phase, error) {
  if (error instanceof Illegal) return { outcome: "failed", reason: `invalid: ${error.message}` };
  // The host reports an uncaught error as a trap quoting the guest's
  // stderr, where componentize-js prints the error's message.
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: "failed", reason: `trap: ${phase}: ${message}` };
}

function checkIdentity(found) {
  if (found === undefined) return;
  const size = bytes(found.key);
  if (size === 0 || size > IDENTITY_KEY_BYTES_MAX) {
    throw new Illegal(`identity key must be 1..=${IDENTITY_KEY_BYTES_MAX} bytes, got ${size}`);
  }
  if (/[\s\p{Cc}]/u.test(found.key)) throw new Illegal("identity key contains whitespace or control characters");
}

class State {
  constructor(request, sample) {
    this.pools = request.pools.map((p) => p.name);
    this.candidates = [...sample];
    this.picked = undefined;
    this.narrowed = request.requested !== undefined;
  }

  putHeldFirst(bindings, request) {
    const held = bindings
      .filter((b) => b.interface === request.interface && b.family === request.family)
      .filter((b) => this.pools.includes(b.pool))
      .filter((b) => request.requested === undefined || request.requested === b.address)
      .map((b) => ({ pool: b.pool, address: b.address }));
    if (held.length > 0) this.candidates = [...held, ...this.candidates.filter((c) => !has(held, c))];
  }

  apply(decision, assignable) {
    switch (decision.tag) {
      case "abstain":
      case "reject":
        return;
      case "restrict-pools":
        return this.restrict(decision.val);
      case "narrow": {
        const listed = this.knownSubset(decision.val, "narrow");
        if (listed.length === 0) throw new Illegal("narrow to no candidates; reject with a reason instead");
        this.candidates = listed;
        this.narrowed = true;
        return;
      }
      case "reorder": {
        const front = this.knownSubset(decision.val, "reorder");
        this.candidates = [...front, ...this.candidates.filter((c) => !has(front, c))];
        return;
      }
      case "pick":
        return this.pick(decision.val, assignable);
      default:
        throw new Illegal(`not a decision: ${decision.tag}`);
    }
  }

  restrict(names) {
    const seen = new Set();
    for (const name of names) {
      if (!this.pools.includes(name)) throw new Illegal(`restrict-pools names ${JSON.stringify(name)}, not a current pool`);
      if (seen.has(name)) throw new Illegal(`restrict-pools names ${JSON.stringify(name)} twice`);
      seen.add(name);
    }
    if (names.length === 0) throw new Illegal("restrict-pools to no pools; reject with a reason instead");
    this.pools = [...names];
    this.candidates = this.candidates.filter((c) => names.includes(c.pool));
  }

  knownSubset(list, what) {
    if (list.length > DECISION_CANDIDATES_MAX) {
      throw new Illegal(`${what} lists ${list.length} candidates, more than ${DECISION_CANDIDATES_MAX}`);
    }
    const seen = [];
    for (const c of list) {
      if (!has(this.candidates, c)) throw new Illegal(`${what} names ${c.pool}/${c.address}, not a current candidate`);
      if (has(seen, c)) throw new Illegal(`${what} names ${c.address} twice`);
      seen.push(c);
    }
    return [...list];
  }

  pick(c, assignable) {
    if (bytes(c.address) > DECISION_STRING_BYTES_MAX || bytes(c.pool) > DECISION_STRING_BYTES_MAX) {
      throw new Illegal("pick has an oversized pool or address");
    }
    const listed = has(this.candidates, c);
    const legalUnlisted = !this.narrowed && this.pools.includes(c.pool) && assignable(c);
    if (!(listed || legalUnlisted)) throw new Illegal(`pick ${c.pool}/${c.address} is not a legal candidate`);
    this.picked = c;
    this.candidates = [c];
    this.narrowed = true;
  }
}
