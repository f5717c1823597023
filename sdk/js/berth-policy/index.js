// berth-policy: native tests for Berth policies written in JavaScript.
//
// The contract's types are read from the project's WIT (wit.js) and, for
// editors, generated as TypeScript by `node berth-policy/scripts/types.js`
// (jco); fixtures run through the host's chain rules (chain.js). The
// policy itself needs nothing from here: componentize-js builds policy.js
// alone.

export { Contract, ConvertError } from "./convert.js";
export { parseWit } from "./wit.js";
export * as chain from "./chain.js";
export * as fixtures from "./fixtures.js";
export { contractOf, runFixtures, settingsOf } from "./testing.js";
