// Module resolution hooks (see register.js): `berth:policy/host@x.y.z`
// resolves to host.js; everything else resolves as Node would.

const HOST = /^berth:policy\/host(@[0-9][0-9A-Za-z.+-]*)?$/;

export async function resolve(specifier, context, next) {
  if (HOST.test(specifier)) {
    return { url: new URL("./host.js", import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
