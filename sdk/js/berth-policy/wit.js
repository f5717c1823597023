// Reads the contract's types from its WIT text, so fixtures convert to
// the values componentize-js hands a policy (camelCase fields, kebab-case
// tags, BigInt for 64-bit integers) with nothing copied by hand: a field
// added to the WIT is converted without a change here.
//
// A parser of the WIT subset the contract uses (records, variants, enums,
// lists, options, results, tuples, type aliases, `use`); anything else is
// refused loudly rather than guessed. test/wit.test.js checks what it reads
// against the TypeScript jco generates from the same file.

const PRIMITIVES = new Set([
  "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
  "f32", "f64", "bool", "char", "string",
]);

function tokenize(text) {
  const stripped = text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  const tokens = stripped.match(/%?[A-Za-z_][A-Za-z0-9_-]*|->|[0-9]+(?:\.[0-9]+)*(?:-[A-Za-z0-9.]+)?|[{}()<>,:;=.\/@*_]/g);
  return tokens ?? [];
}

class Parser {
  constructor(tokens) {
    this.tokens = tokens;
    this.at = 0;
  }
  peek() {
    return this.tokens[this.at];
  }
  next() {
    const token = this.tokens[this.at++];
    if (token === undefined) throw new Error("WIT: unexpected end of file");
    return token;
  }
  expect(want) {
    const got = this.next();
    if (got !== want) throw new Error(`WIT: expected ${want}, got ${got} (token ${this.at})`);
  }
  name() {
    return this.next().replace(/^%/, "");
  }
  // Skips a balanced block or up to the next `;` at this depth.
  skipItem() {
    let depth = 0;
    for (;;) {
      const token = this.next();
      if (token === "{") depth++;
      if (token === "}" && --depth === 0) return;
      if (token === ";" && depth === 0) return;
    }
  }
  type() {
    const head = this.name();
    if (PRIMITIVES.has(head)) return { kind: "prim", name: head };
    if (head === "list" || head === "option") {
      this.expect("<");
      const of = this.type();
      this.expect(">");
      return { kind: head, of };
    }
    if (head === "tuple") {
      this.expect("<");
      const of = [this.type()];
      while (this.peek() === ",") {
        this.next();
        of.push(this.type());
      }
      this.expect(">");
      return { kind: "tuple", of };
    }
    if (head === "result") {
      if (this.peek() !== "<") return { kind: "result", ok: null, err: null };
      this.next();
      const ok = this.peek() === "_" ? (this.next(), null) : this.type();
      let err = null;
      if (this.peek() === ",") {
        this.next();
        err = this.type();
      }
      this.expect(">");
      return { kind: "result", ok, err };
    }
    return { kind: "ref", name: head };
  }
  // `{ a, b(type), }` or `{ a: type, }` bodies.
  members(withType, optionalPayload) {
    this.expect("{");
    const out = [];
    while (this.peek() !== "}") {
      const name = this.name();
      let type = null;
      if (withType) {
        this.expect(":");
        type = this.type();
      } else if (optionalPayload && this.peek() === "(") {
        this.next();
        type = this.type();
        this.expect(")");
      }
      out.push({ name, type });
      if (this.peek() === ",") this.next();
    }
    this.expect("}");
    return out;
  }
}

/** The named types of every interface in `text`: `{ "<interface>": { "<type>": def } }`. */
export function parseWit(text) {
  const p = new Parser(tokenize(text));
  const interfaces = {};
  let pkg = null;
  while (p.peek() !== undefined) {
    const token = p.next();
    if (token === "package") {
      pkg = [];
      while (p.peek() !== ";") pkg.push(p.next());
      p.next();
      pkg = pkg.join("");
    } else if (token === "interface") {
      const iface = p.name();
      interfaces[iface] = parseInterface(p);
    } else if (token === "world") {
      p.name();
      p.skipItem();
    } else {
      throw new Error(`WIT: unexpected ${token} at the top level`);
    }
  }
  return { package: pkg, interfaces };
}

function parseInterface(p) {
  const types = {};
  p.expect("{");
  while (p.peek() !== "}") {
    const token = p.next();
    if (token === "record") types[p.name()] = { kind: "record", fields: p.members(true) };
    else if (token === "variant") types[p.name()] = { kind: "variant", cases: p.members(false, true) };
    else if (token === "enum") types[p.name()] = { kind: "enum", cases: p.members(false).map((c) => c.name) };
    else if (token === "type") {
      const name = p.name();
      p.expect("=");
      types[name] = { kind: "alias", of: p.type() };
      p.expect(";");
    } else if (token === "use") {
      while (p.next() !== ";");
    }
    else if (token === "flags" || token === "resource") throw new Error(`WIT: ${token} is not supported`);
    else {
      // `name: func(...) -> ...;`
      p.expect(":");
      p.skipItem();
    }
  }
  p.next();
  return types;
}

/** `namespace-used` -> `namespaceUsed`, as componentize-js names fields. */
export const camel = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
/** `namespace-used` -> `namespace_used`, as the Rust SDK's serde names them. */
export const snake = (name) => name.replace(/-/g, "_");
