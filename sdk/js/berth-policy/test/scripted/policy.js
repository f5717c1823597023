// A policy that does what its settings say, to drive the shared fixtures
// (sdk/fixtures) through every rule of the chain, natively here and in the
// real host runtime by `berth-policy test`. Its settings, in the fixtures'
// serde JSON:
//
//   {"identify": <Identity>, "decide": <Decision>, "pickFirst": true, "raise": "text"}
//
// Built alone by componentize-js, so it converts the little serde JSON it
// needs itself (tags to kebab-case, retention seconds to BigInt). It
// imports nothing from the host: the import names the contract's version,
// and this policy must build against whatever sdk/wit says.

const KEYS = ["identify", "decide", "pickFirst", "raise"];

function parse(settings) {
  const raw = JSON.parse(settings);
  const unknown = Object.keys(raw).filter((k) => !KEYS.includes(k)).sort();
  if (unknown.length > 0) throw new Error(`unknown field '${unknown[0]}'`);
  return raw;
}

const kebab = (name) => name.replace(/[A-Z]/g, (c, i) => (i === 0 ? "" : "-") + c.toLowerCase());

function variant(json, payload = (v) => v) {
  if (typeof json === "string") return { tag: kebab(json) };
  const [[name, val]] = Object.entries(json);
  return { tag: kebab(name), val: payload(val) };
}

export const policy = {
  metadata() {
    return { name: "scripted", version: "0.1.0", contract: "0.1.0" };
  },
  validateSettings(settings) {
    try {
      parse(settings);
    } catch (e) {
      throw e.message;
    }
  },
  identify(settings, request) {
    const found = parse(settings).identify;
    if (found === undefined || found === null) return undefined;
    return { key: found.key, retention: variant(found.retention, (secs) => BigInt(secs)) };
  },
  evaluate(settings, request) {
    const script = parse(settings);
    if ("raise" in script) throw new Error(script.raise);
    if (script.pickFirst) return { tag: "pick", val: request.candidates[0] };
    return variant(script.decide ?? "Abstain");
  },
};
