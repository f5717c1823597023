// Shared by the package's tests: the repository's contract (sdk/wit) and
// fixtures (sdk/fixtures).

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Contract } from "../convert.js";

export const SDK = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const WIT_DIR = join(SDK, "wit");
export const FIXTURES = join(SDK, "fixtures");
export const TEMPLATE_FIXTURES = join(SDK, "..", "host", "policy-cli", "templates", "fixtures");
export const contract = () => Contract.fromFile(join(WIT_DIR, "policy.wit"));

// scripts/types.js finds jco in the pinned toolchains
// (scripts/setup-policy-toolchains) when the caller names none.
process.env.BERTH_POLICY_TOOLCHAINS ??= join(SDK, "..", ".tools", "policy-toolchains");
