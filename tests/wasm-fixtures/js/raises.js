// JavaScript policy whose evaluate throws: the host's error must carry the
// error's message (componentize-js prints it to stderr, then traps).

function lookup(table, key) {
  if (!(key in table)) throw new TypeError(`no pool for ${key}`);
  return table[key];
}

export const policy = {
  metadata() {
    return { name: "hostile-js-raises", version: "0.1.0", contract: "0.1.0" };
  },
  validateSettings(settings) {},
  identify(settings, request) {
    return undefined;
  },
  evaluate(settings, request) {
    return lookup({}, request.podName);
  },
};
