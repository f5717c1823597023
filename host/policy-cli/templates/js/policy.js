// {{name}}: keeps only the candidate pools listed in `pools`, in the
// request's order; rejects a request none of them serves.
//
// Built with componentize-js against wit/policy.wit (the Berth contract):
// `berth-policy build`, then `berth-policy test fixtures/*.json`.

function parseSettings(text) {
  const raw = text.trim() ? JSON.parse(text) : {};
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error("settings: expected a JSON object");
  for (const key of Object.keys(raw)) {
    if (key !== "pools") throw new Error(`settings: unknown field "${key}"`);
  }
  const pools = raw.pools ?? [];
  if (!Array.isArray(pools) || !pools.every((p) => typeof p === "string")) {
    throw new Error("settings.pools: expected a list of pool names");
  }
  if (pools.length === 0) throw new Error("pools: must not be empty");
  return pools;
}

export const policy = {
  metadata() {
    return { name: "{{name}}", version: "0.1.0", contract: "0.1.0" };
  },
  validateSettings(settings) {
    // A thrown string becomes the `err` of the WIT result.
    try {
      parseSettings(settings);
    } catch (e) {
      throw e.message;
    }
  },
  identify(settings, request) {
    return undefined;
  },
  evaluate(settings, request) {
    let wanted;
    try {
      wanted = parseSettings(settings);
    } catch (e) {
      return { tag: "reject", val: `invalid settings: ${e.message}` };
    }
    const keep = request.pools.map((p) => p.name).filter((name) => wanted.includes(name));
    if (keep.length === 0) return { tag: "reject", val: `none of ${JSON.stringify(wanted)} is a candidate pool` };
    return { tag: "restrict-pools", val: keep };
  },
};
