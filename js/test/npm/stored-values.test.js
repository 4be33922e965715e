// A policy store (the user's function, a URL document, KV) may hand back any JavaScript
// value. Only JSON text, a JSON document and null/undefined mean something; everything else
// must keep the group invalid (403 invalid_policy, loaded once) — never "no policy", which
// would drop the group's Deny statements and let its members through on their other groups.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthorizer } from "../../src/node.js";
import { jwksDocument } from "../support/suite.js";
import { NOW, VET_POLICY, accessToken, keys, poolConfig } from "./fixtures.js";

const JWKS_URL = "https://issuer.test/jwks";
const DENY = { Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "execute-api:Invoke", Resource: "*" }] };
const cyclic = { ...DENY };
cyclic.self = cyclic;

const ODD_VALUES = {
  function: () => DENY,
  symbol: Symbol("policy"),
  "toJSON → undefined": { toJSON: () => undefined },
  "toJSON → null": { toJSON: () => null },
  NaN: NaN,
  number: 5,
  boolean: true,
  array: [DENY],
  BigInt: 10n,
  'text "null"': "null",
  "String object": new String(JSON.stringify(DENY)),
  cyclic,
  Date: new Date(0),
};

for (const [name, value] of Object.entries(ODD_VALUES)) {
  test(`a stored ${name} keeps its group invalid: denied, loaded once`, async () => {
    let loads = 0;
    const authorizer = createAuthorizer(poolConfig(JWKS_URL), {
      jwks: { [JWKS_URL]: JSON.parse(jwksDocument(keys, ["suite-rsa-1"])) },
      policies: async () => {
        loads++;
        return { "pet-veterinarian": VET_POLICY, blocked: value };
      },
      now: () => NOW,
      log: false,
    });
    const token = accessToken({ groups: ["pet-veterinarian", "blocked"] });
    const decision = await authorizer.authorize({
      method: "GET",
      path: "/petstore/v1/pets",
      headers: { authorization: `Bearer ${token}` },
      sourceIp: "192.0.2.10",
    });
    assert.deepEqual([decision.status, decision.reason], [403, "invalid_policy"]);
    assert.equal(loads, 1);
  });
}

test("null, undefined and a missing group mean no policy: the other group's allow holds", async () => {
  for (const value of [null, undefined]) {
    const authorizer = createAuthorizer(poolConfig(JWKS_URL), {
      jwks: { [JWKS_URL]: JSON.parse(jwksDocument(keys, ["suite-rsa-1"])) },
      policies: async () => ({ "pet-veterinarian": VET_POLICY, blocked: value }),
      now: () => NOW,
      log: false,
    });
    const token = accessToken({ groups: ["pet-veterinarian", "blocked"] });
    const decision = await authorizer.authorize({
      method: "GET",
      path: "/petstore/v1/pets",
      headers: { authorization: `Bearer ${token}` },
      sourceIp: "192.0.2.10",
    });
    assert.equal(decision.reason, "allowed", String(value));
  }
});
