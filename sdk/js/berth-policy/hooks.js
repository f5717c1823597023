// Module resolution hooks (see register.js): `berth:policy/host@x.y.z`
// resolves to host.js, `berth:policy/query@x.y.z` to query.js; everything
// else resolves as Node would.

const IMPORT = /^berth:policy\/(host|query)(@[0-9][0-9A-Za-z.+-]*)?$/;

export async function resolve(specifier, context, next) {
  const found = IMPORT.exec(specifier);
  if (found) return { url: new URL(`./${found[1]}.js`, import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
