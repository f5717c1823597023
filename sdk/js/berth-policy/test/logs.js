// Imports the host as a policy does (any contract version: register.js
// maps them all to host.js), for fixtures.test.js.

import { log } from "berth:policy/host@0.9.1";

export function shout(message) {
  log("warn", message);
}
