// Stands in for the host's `berth:policy/host` import when a policy runs
// natively (register.js maps the import here): messages are kept in LOG,
// [level, message] pairs, for tests to read.

export const LOG = [];

export function log(level, message) {
  LOG.push([level, message]);
}
