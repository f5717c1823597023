// `node --import ./berth-policy/register.js ...`: lets a policy that
// imports `berth:policy/host@<version>` (as componentize-js expects) load
// in Node, with host.js standing in for the host.

import { register } from "node:module";

register("./hooks.js", import.meta.url);
