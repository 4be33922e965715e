// The conformance suite's keys and tokens, signed with node:crypto (as tests/support/mod.rs
// does in Rust), and the scenario files.
import { createPrivateKey, sign } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const casesDir = fileURLToPath(new URL("../../../tests/cases/", import.meta.url));

/** @returns {Map<string, { alg: string, jwk: Record<string, string>, key: import("node:crypto").KeyObject }>} */
export function suiteKeys() {
  const { keys } = JSON.parse(readFileSync(`${casesDir}keys.json`, "utf8"));
  return new Map(
    keys.map((jwk) => [jwk.kid, { alg: jwk.alg, jwk, key: createPrivateKey({ key: jwk, format: "jwk" }) }]),
  );
}

/** Every scenario file but keys.json, sorted. */
export function scenarios() {
  return readdirSync(casesDir)
    .filter((name) => name.endsWith(".json") && name !== "keys.json")
    .sort()
    .map((file) => ({ file, ...JSON.parse(readFileSync(`${casesDir}${file}`, "utf8")) }));
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi"];

/** A JWKS document publishing the public members of `kids`. */
export function jwksDocument(keys, kids) {
  return JSON.stringify({
    keys: kids.map((kid) =>
      Object.fromEntries(Object.entries(keys.get(kid).jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name))),
    ),
  });
}

const b64 = (data) => Buffer.from(data).toString("base64url");

function signWith({ alg, key }, message) {
  switch (alg) {
    case "RS256":
      return sign("sha256", message, key);
    case "ES256":
      return sign("sha256", message, { key, dsaEncoding: "ieee-p1363" });
    case "EdDSA":
      return sign(null, message, key);
    default:
      throw new Error(`suite key algorithm ${alg} not handled`);
  }
}

/** A case's token (`token.raw`, or signed with `token.key`; `tamper: "payload"` swaps the payload). */
export function tokenOf(spec, keys) {
  if (spec.raw !== undefined) return spec.raw;
  const key = keys.get(spec.key);
  if (!key) throw new Error(`no suite key ${spec.key}`);
  const header = { alg: key.alg, typ: "JWT", kid: spec.key };
  for (const [name, value] of Object.entries(spec.header ?? {})) {
    if (value === null) delete header[name];
    else header[name] = value;
  }
  const claims = spec.claims ?? {};
  const encodedHeader = b64(JSON.stringify(header));
  const signingInput = `${encodedHeader}.${b64(JSON.stringify(claims))}`;
  const signature = b64(signWith(key, Buffer.from(signingInput)));
  if (spec.tamper === "payload")
    return `${encodedHeader}.${b64(JSON.stringify({ ...claims, sub: "someone-else" }))}.${signature}`;
  if (spec.tamper !== undefined) throw new Error(`unknown tamper ${spec.tamper}`);
  return `${signingInput}.${signature}`;
}

/** The request headers of a case: `{token}` substituted, `Authorization: Bearer` by default. */
export function caseHeaders(testCase, token) {
  const headers = Object.entries(testCase.request.headers ?? {}).map(([name, value]) => [
    name,
    value.replaceAll("{token}", token ?? ""),
  ]);
  if (token !== undefined && !headers.some(([name]) => name.toLowerCase() === "authorization"))
    headers.push(["authorization", `Bearer ${token}`]);
  return headers;
}

/** A scenario's configuration with every issuer's JWKS pointed at `jwksUrl`. */
export function withJwksUrl(config, jwksUrl) {
  return { ...config, issuers: config.issuers.map((issuer) => ({ ...issuer, jwksUri: jwksUrl })) };
}
