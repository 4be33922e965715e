// The load test's world, generated locally on every run: an RSA signing key and its JWKS, an
// attacker's key, a Cognito-shaped configuration, the group policy, and the request mix —
// each kind of request with the status each authorizer in front of the app must answer
// (`wantFor`). Nothing leaves 127.0.0.1.
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";

export const GROUP = "pet-veterinarian";
// A region no AWS partition has, in the shape aws-jwt-verify's CognitoJwtVerifier requires
// (`xx-name-1`): its JWKS URI is rewritten to the loopback upstream (see aws-jwt-verify.js).
export const POOL = "xx-load-1_LoadPool";
export const ISSUER = `https://cognito-idp.xx-load-1.amazonaws.com/${POOL}`;
export const CLIENT_ID = "load-client";
export const KID = "load-key-1";

/** The seed's pet-veterinarian policy (demo/config.json): petstore/v1/* and GET v2/status, from 127.0.0.0/8 among others. */
export const POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PetStore-API",
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: ["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*", "arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status"],
      Condition: { IpAddress: { "aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24", "127.0.0.0/8"] } },
    },
  ],
};

/** The edge-authz configuration; `policies` as the adapter takes them (KV for the Worker, bundled for Node). */
export function authzConfig(jwksUri, policies) {
  return {
    issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: [CLIENT_ID], jwksUri }],
    api: { region: "local-1", accountId: "000000000000", apiId: "petstore", stage: "load" },
    policies,
  };
}

/**
 * What sits in front of the app: edge-authz (the Worker or the Express middleware, either
 * backend), a verify-only aws-jwt-verify middleware (aws-jwt-verify.js), or nothing.
 * @typedef {"edge-authz" | "aws-jwt-verify" | "none"} Authorizer
 */

/**
 * A kind's expected status per authorizer.
 * - edge-authz: API Gateway's, 401 for missing or malformed credentials, 403 for any token it
 *   does not accept or whose policy does not allow the request.
 * - aws-jwt-verify (verify only, no policy): 200 for any genuine, unexpired token of the pool's
 *   client, whatever its group, route or source address; 401 for anything else.
 * - none: what the route answers; every path in the mix is routed (200).
 * @returns {Record<Authorizer, number>}
 */
const wants = (edgeAuthz, verifyOnly, none = 200) => ({ "edge-authz": edgeAuthz, "aws-jwt-verify": verifyOnly, none });

/**
 * The status `kind` must get behind `authorizer`.
 * @param {{ want: Record<Authorizer, number> }} kind
 * @param {Authorizer} authorizer
 */
export function wantFor(kind, authorizer) {
  const want = kind.want[authorizer];
  if (want === undefined) throw new Error(`no expected status for ${authorizer}`);
  return want;
}

const b64 = (data) => Buffer.from(data).toString("base64url");

function jws(privateKey, header, claims) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(sign("sha256", Buffer.from(input), privateKey))}`;
}

/**
 * Keys, JWKS and the request kinds.
 * @param {{ tokens: number }} options distinct tokens per signed kind (distinct callers)
 */
export function buildMix({ tokens }) {
  const issuerKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const attackerKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...issuerKey.publicKey.export({ format: "jwk" }), kid: KID, alg: "RS256", use: "sig" };
  const jwks = JSON.stringify({ keys: [jwk] });

  const now = Math.floor(Date.now() / 1000);
  const claimsOf = (i, { groups = [GROUP], exp = now + 6 * 3600, iat = now - 60 } = {}) => ({
    sub: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    iss: ISSUER,
    client_id: CLIENT_ID,
    token_use: "access",
    scope: "aws.cognito.signin.user.admin",
    auth_time: iat,
    iat,
    exp,
    jti: b64(randomBytes(9)),
    username: `load-user-${i}`,
    "cognito:groups": groups,
  });
  const header = { alg: "RS256", typ: "JWT", kid: KID };
  const range = (f) => Array.from({ length: tokens }, (_, i) => f(i));
  const bearer = (token) => ({ Authorization: `Bearer ${token}` });

  const valid = range((i) => jws(issuerKey.privateKey, header, claimsOf(i)));
  const expired = range((i) => jws(issuerKey.privateKey, header, claimsOf(i, { iat: now - 7200, exp: now - 3600 })));
  // A signature by another key under the published kid.
  const forged = range((i) => jws(attackerKey.privateKey, header, claimsOf(i)));
  // A genuine signature over one payload, presented with another (more groups).
  const tampered = range((i) => {
    const [h, , s] = jws(issuerKey.privateKey, header, claimsOf(i, { groups: ["pet-visitor"] })).split(".");
    return `${h}.${b64(JSON.stringify(claimsOf(i, { groups: [GROUP, "admin"] })))}.${s}`;
  });
  // Signed by a kid the JWKS does not publish: the core may refetch the JWKS (rate-limited).
  const unknownKid = range((i) => jws(attackerKey.privateKey, { ...header, kid: "load-key-unpublished" }, claimsOf(i)));
  // Genuine, but in a group that has no policy.
  const otherGroup = range((i) => jws(issuerKey.privateKey, header, claimsOf(i, { groups: ["pet-visitor"] })));
  const garbage = [
    "aGVhZGVy.Y2xhaW1z.c2lnbmF0dXJl", // the seed article's invalid token
    `${b64(randomBytes(30))}.${b64(randomBytes(60))}.${b64(randomBytes(40))}`,
    `${b64('{"alg":"RS256","kid":"load-key-1"}')}.${b64("not json")}.${b64(randomBytes(256))}`,
    `${b64('{"alg":"none"}')}.${b64(JSON.stringify(claimsOf(0)))}.`,
  ];

  /**
   * Kinds of request: `want` is the status each authorizer must answer (`wants`, read through
   * `wantFor`), `weight` their share of the mix.
   * @type {Array<{ name: string, method: string, path: string, want: Record<Authorizer, number>, weight: number, variants: Array<Record<string, string>> }>}
   */
  const kinds = [
    {
      name: "valid",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(200, 200),
      weight: 5,
      variants: valid.map(bearer),
    },
    {
      name: "valid_v2_status",
      method: "GET",
      path: "/petstore/v2/status",
      want: wants(200, 200),
      weight: 1,
      variants: valid.map(bearer),
    },
    {
      name: "valid_denied_route",
      method: "GET",
      path: "/petstore/v2/pets",
      want: wants(403, 200),
      weight: 1,
      variants: valid.map(bearer),
    },
    {
      name: "valid_wrong_source_ip",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(403, 200),
      weight: 1,
      // The Worker reads CF-Connecting-IP; the Express app trusts X-Forwarded-For from loopback.
      variants: valid.map((t) => ({
        ...bearer(t),
        "CF-Connecting-IP": "203.0.113.5",
        "X-Forwarded-For": "203.0.113.5",
      })),
    },
    {
      name: "expired",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(403, 401),
      weight: 1,
      variants: expired.map(bearer),
    },
    {
      name: "forged_signature",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(403, 401),
      weight: 1,
      variants: forged.map(bearer),
    },
    {
      name: "tampered_payload",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(403, 401),
      weight: 1,
      variants: tampered.map(bearer),
    },
    {
      name: "unknown_kid",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(403, 401),
      weight: 1,
      variants: unknownKid.map(bearer),
    },
    {
      name: "unauthorised_group",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(403, 200),
      weight: 1,
      variants: otherGroup.map(bearer),
    },
    {
      name: "garbage_token",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(403, 401),
      weight: 1,
      variants: garbage.map(bearer),
    },
    {
      name: "basic_credentials",
      method: "GET",
      path: "/petstore/v1/pets",
      want: wants(401, 401),
      weight: 1,
      variants: [{ Authorization: `Basic ${b64("cognitouser:hunter2")}` }],
    },
    { name: "no_token", method: "GET", path: "/petstore/v1/pets", want: wants(401, 401), weight: 1, variants: [{}] },
  ];
  return { jwks, kinds };
}

/** The kinds' indices (1-based, for Lua), spread by weight (smooth weighted round robin). */
export function schedule(kinds) {
  const total = kinds.reduce((sum, k) => sum + k.weight, 0);
  const current = kinds.map(() => 0);
  const slots = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let i = 0; i < kinds.length; i++) {
      current[i] += kinds[i].weight;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    slots.push(best + 1);
  }
  return slots;
}
