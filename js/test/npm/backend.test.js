// The backend choice (`backend` option, `EDGE_AUTHZ_BACKEND`), the test matrix's own check
// that it runs the backend it names, and a differential test: the native addon (aws-lc-rs)
// and the wasm (node:crypto) decide alike for every JWS algorithm, on valid signatures and on
// every kind of broken one.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createAuthorizer, ConfigError, RequestError } from "../../src/node.js";
import { platformTag } from "../../src/backend.js";

const tag = platformTag();
const nativeBuilt = existsSync(new URL(`../../npm/${tag}/edge-authz.${tag}.node`, import.meta.url));
const NOW = 1767225600;
const ISSUER = "https://issuer.test/";
const JWKS_URI = "https://issuer.test/jwks.json";

test("the test matrix runs the backend it names", () => {
  const wanted = process.env.EDGE_AUTHZ_BACKEND;
  const authorizer = createAuthorizer(config(), { log: false });
  if (wanted === "native" || wanted === "wasm") assert.equal(authorizer.backend, wanted);
  else assert.equal(authorizer.backend, nativeBuilt ? "native" : "wasm");
});

test("the platform tag names this machine's libc as the process report does, and leaves the report's settings", () => {
  const header = /** @type {any} */ (process.report.getReport()).header;
  const libc = header.glibcVersionRuntime ? "gnu" : "musl";
  const before = process.report.excludeNetwork;
  assert.equal(platformTag(), `${process.platform}-${process.arch}-${libc}`);
  assert.equal(process.report.excludeNetwork, before);
});

test(
  "the checkout's own addon loads from a folder whose path has a space",
  { skip: !nativeBuilt && `no addon built for ${tag}` },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "edge authz "));
    try {
      const pkg = join(dir, "js");
      mkdirSync(join(pkg, "npm"), { recursive: true });
      for (const part of ["src", "dist", "package.json"])
        cpSync(new URL(`../../${part}`, import.meta.url), join(pkg, part), { recursive: true });
      cpSync(new URL(`../../npm/${tag}`, import.meta.url), join(pkg, "npm", tag), { recursive: true });
      const script = `import("./src/backend.js").then((m) => console.log(m.selectBackend("native").name))`;
      const out = execFileSync(process.execPath, ["-e", script], {
        cwd: pkg,
        encoding: "utf8",
        env: { ...process.env, EDGE_AUTHZ_BACKEND: "" },
      });
      assert.equal(out.trim(), "native");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("the backend option wins over the environment; bad values are refused with their source", () => {
  assert.equal(createAuthorizer(config(), { log: false, backend: "wasm" }).backend, "wasm");
  assert.throws(
    () => createAuthorizer(config(), { log: false, backend: "fast" }),
    (error) =>
      error instanceof ConfigError &&
      error.code === "invalid_config" &&
      error.message === 'options.backend: must be one of auto, native, wasm, not "fast"',
  );
  assert.throws(() => createAuthorizer(config(), { log: false, backend: null }), /options\.backend/);
});

test(
  "the native backend is not asked for signature checks and loads stored values as the wasm does",
  {
    skip: !nativeBuilt && `no addon built for ${tag}`,
  },
  async () => {
    const decide = async (backend, policy) => {
      const a = createAuthorizer(config({ bundled: false }), {
        log: false,
        backend,
        now: () => NOW,
        jwks: { [JWKS_URI]: jwks },
        policies: async () => new Map([["readers", policy]]),
      });
      const token = tokenFor(KEYS.RS256, { "cognito:groups": ["readers"] });
      const d = await a.authorize({ method: "GET", path: "/books", headers: { authorization: `Bearer ${token}` } });
      return [d.outcome, d.reason, d.status];
    };
    const allowRead = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: "arn:aws:execute-api:*:*:*/*/GET/books" }],
    };
    const cycle = {};
    cycle.self = cycle;
    for (const policy of [
      allowRead,
      JSON.stringify(allowRead),
      null,
      "{not json",
      cycle,
      { toJSON: () => undefined },
    ]) {
      assert.deepEqual(await decide("native", policy), await decide("wasm", policy), JSON.stringify(String(policy)));
    }
    assert.deepEqual(await decide("native", allowRead), ["allow", "allowed", 200]);
    assert.deepEqual(await decide("native", cycle), ["forbidden", "invalid_policy", 403]);
  },
);

// One key per JWS algorithm the core accepts.
const KEYS = Object.fromEntries(
  [
    ["RS256", "rsa", { modulusLength: 2048 }],
    ["RS384", "rsa", { modulusLength: 2048 }],
    ["RS512", "rsa", { modulusLength: 3072 }],
    ["PS256", "rsa", { modulusLength: 2048 }],
    ["PS384", "rsa", { modulusLength: 2048 }],
    ["PS512", "rsa", { modulusLength: 2048 }],
    ["ES256", "ec", { namedCurve: "P-256" }],
    ["ES384", "ec", { namedCurve: "P-384" }],
    ["EdDSA", "ed25519", {}],
  ].map(([alg, type, options]) => {
    const { publicKey, privateKey } = generateKeyPairSync(type, options);
    return [
      alg,
      { alg, kid: `k-${alg}`, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid: `k-${alg}`, alg } },
    ];
  }),
);
const jwks = JSON.stringify({ keys: Object.values(KEYS).map((k) => k.jwk) });

const DIGEST = { 256: "sha256", 384: "sha384", 512: "sha512" };
function signature(alg, privateKey, input) {
  if (alg === "EdDSA") return sign(null, input, privateKey);
  const digest = DIGEST[alg.slice(2)];
  if (alg.startsWith("PS"))
    return sign(digest, input, {
      key: privateKey,
      padding: 6 /* RSA_PKCS1_PSS_PADDING */,
      saltLength: Number(alg.slice(2)) / 8,
    });
  if (alg.startsWith("ES")) return sign(digest, input, { key: privateKey, dsaEncoding: "ieee-p1363" });
  return sign(digest, input, privateKey);
}

const b64 = (data) => Buffer.from(data).toString("base64url");
function tokenFor(key, claims = {}, { header = {}, mutate } = {}) {
  const head = b64(JSON.stringify({ alg: key.alg, typ: "JWT", kid: key.kid, ...header }));
  const body = b64(
    JSON.stringify({ iss: ISSUER, sub: "user-1", aud: "api", iat: NOW - 60, exp: NOW + 600, ...claims }),
  );
  let sig = signature(key.alg, key.privateKey, Buffer.from(`${head}.${body}`));
  if (mutate) sig = mutate(Buffer.from(sig));
  return `${head}.${body}.${b64(sig)}`;
}

function config({ bundled = true } = {}) {
  return {
    issuers: [{ issuer: ISSUER, jwksUri: JWKS_URI, audience: "api", groupsClaim: "cognito:groups" }],
    ...(bundled ? { policies: { groups: {} } } : {}),
  };
}

test(
  "native and wasm decide alike for every algorithm, valid or broken signatures",
  {
    skip: !nativeBuilt && `no addon built for ${tag}`,
  },
  async () => {
    const make = (backend) =>
      createAuthorizer(config(), { log: false, backend, now: () => NOW, jwks: { [JWKS_URI]: jwks } });
    const native = make("native");
    const wasm = make("wasm");
    const flip = (at) => (sig) => {
      sig[at(sig.length)] ^= 0x01;
      return sig;
    };
    const variants = {
      valid: {},
      "first byte flipped": { mutate: flip(() => 0) },
      "last byte flipped": { mutate: flip((n) => n - 1) },
      "middle byte flipped": { mutate: flip((n) => n >> 1) },
      truncated: { mutate: (sig) => sig.subarray(0, sig.length - 1) },
      extended: { mutate: (sig) => Buffer.concat([sig, Buffer.from([0])]) },
      empty: { mutate: () => Buffer.alloc(0) },
      "all zero": { mutate: (sig) => Buffer.alloc(sig.length) },
    };
    let decided = 0;
    for (const key of Object.values(KEYS)) {
      for (const [name, variant] of Object.entries(variants)) {
        const token = tokenFor(key, {}, variant);
        const request = { method: "GET", path: "/books", headers: { authorization: `Bearer ${token}` } };
        const [n, w] = [await native.authorize(request), await wasm.authorize(request)];
        const label = `${key.alg} ${name}`;
        assert.deepEqual([n.outcome, n.reason, n.status, n.context], [w.outcome, w.reason, w.status, w.context], label);
        // A valid signature reaches the policies (no group: implicit deny); a broken one is a
        // 401 (an empty signature is not even a JWS).
        const expected = { valid: "implicit_deny", empty: "malformed" }[name] ?? "bad_signature";
        assert.equal(n.reason, expected, label);
        decided++;
      }
      // The header names another algorithm than the key's: refused alike, never verified with it.
      for (const other of ["RS256", "ES256", "PS256", "HS256", "none"]) {
        if (other === key.alg) continue;
        const token = tokenFor(key, {}, { header: { alg: other } });
        const request = { method: "GET", path: "/books", headers: { authorization: `Bearer ${token}` } };
        const [n, w] = [await native.authorize(request), await wasm.authorize(request)];
        assert.deepEqual([n.reason, n.status], [w.reason, w.status], `${key.alg} key, header ${other}`);
        // Refused before the policies: the key's own `alg` does not allow it.
        assert.equal(n.reason, "alg_not_allowed", `${key.alg} key, header ${other}`);
      }
    }
    assert.equal(decided, Object.keys(KEYS).length * Object.keys(variants).length);
  },
);

test("request fields of the wrong type are a RequestError on either backend, never coerced", async () => {
  const backends = nativeBuilt ? ["native", "wasm"] : ["wasm"];
  for (const backend of backends) {
    const a = createAuthorizer(config(), { log: false, backend, now: () => NOW, jwks: { [JWKS_URI]: jwks } });
    const base = { method: "GET", path: "/books", headers: {} };
    for (const [field, value] of [
      // The string "false" was a secure transport to the wasm, and a plain Error to the addon.
      ["secureTransport", "false"],
      ["secureTransport", 0],
      // A number trapped the wasm instance (out-of-bounds access in the string copy).
      ["methodArn", 123],
      ["methodArn", {}],
      ["methodArn", ["x"]],
      // Not an address: the core's invalid_request, typed.
      ["sourceIp", "1.2.3.4%eth0"],
      ["sourceIp", " 1.2.3.4"],
      // Flags are the three MATCHING bits; -1 would have been every relaxation at once.
      ["matching", -1],
      ["matching", 8],
      ["matching", 1.5],
      ["matching", Number.NaN],
    ]) {
      await assert.rejects(
        a.authorize({ ...base, [field]: value }),
        (error) => error instanceof RequestError && error.code === "invalid_request",
        `${backend}: ${field} = ${JSON.stringify(value)}`,
      );
    }
    // The instance still decides afterwards.
    assert.equal((await a.authorize(base)).reason, "no_credentials", backend);
  }
});

test(
  "an RSA-PSS signature without its leading zero byte is refused on both backends",
  {
    skip: !nativeBuilt && `no addon built for ${tag}`,
  },
  async () => {
    // PSS is randomised: sign until the 256-byte signature starts with 0x00 (1 in 256).
    const key = KEYS.PS256;
    let token;
    for (let i = 0; i < 5000 && !token; i++) {
      const candidate = tokenFor(key, { jti: `z${i}` });
      const sig = Buffer.from(candidate.split(".")[2], "base64url");
      if (sig[0] === 0) {
        const [h, p] = candidate.split(".");
        token = [`${h}.${p}.${b64(sig)}`, `${h}.${p}.${b64(sig.subarray(1))}`];
      }
    }
    assert.ok(token, "no signature with a leading zero byte in 5000 tries");
    const [full, short] = token;
    for (const backend of ["native", "wasm"]) {
      const a = createAuthorizer(config(), { log: false, backend, now: () => NOW, jwks: { [JWKS_URI]: jwks } });
      const decide = async (t) =>
        (await a.authorize({ method: "GET", path: "/books", headers: { authorization: `Bearer ${t}` } })).reason;
      assert.equal(await decide(full), "implicit_deny", `${backend}: the full signature is valid`);
      assert.equal(await decide(short), "bad_signature", `${backend}: 255 bytes is another spelling, refused`);
    }
  },
);
