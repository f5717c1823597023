// Imports the query interface as a 0.2 policy does, for query.test.js.

import { freeInRange, isFree } from "berth:policy/query@0.2.0";

export function ask(pool, first, last) {
  return { firstFree: isFree(pool, first), range: freeInRange(pool, first, last, 5) };
}
