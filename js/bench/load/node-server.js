// The Node side of the load test, in a process of its own (so its RSS is its own): an Express
// app answering the petstore routes itself, behind one authorizer (LOAD_AUTHORIZER):
// - `edge-authz`: the edge-authz middleware (js/src/express.js, as `edge-authz/express`
//   resolves for ESM), `backend` from LOAD_BACKEND (unset: the option is not passed, so
//   EDGE_AUTHZ_BACKEND or `auto` decides); configuration in LOAD_AUTHZ_CONFIG and
//   LOAD_POLICIES (JSON);
// - `aws-jwt-verify`: a verify-only middleware with aws-jwt-verify (aws-jwt-verify.js), the
//   JWKS from LOAD_JWKS_URL;
// - `none`: no middleware at all, what the app costs alone.
// Only the chosen authorizer's modules are loaded. Started by run.js with `fork`; the port and
// the backend that runs go back over IPC.
import express from "express";
import { CLIENT_ID, POOL } from "./mix.js";

const AUTHORIZER = process.env.LOAD_AUTHORIZER ?? "edge-authz";

/** The middleware in front of the routes (null for none) and what runs it. */
async function authorizer() {
  if (AUTHORIZER === "none") return { middleware: null, backend: null };
  if (AUTHORIZER === "aws-jwt-verify") {
    const jwksUrl = process.env.LOAD_JWKS_URL;
    if (!jwksUrl) throw new Error("node-server.js: LOAD_JWKS_URL is required for aws-jwt-verify");
    const { awsJwtVerify } = await import("./aws-jwt-verify.js");
    return { middleware: awsJwtVerify({ userPoolId: POOL, clientId: CLIENT_ID, jwksUrl }), backend: null };
  }
  if (AUTHORIZER !== "edge-authz") throw new Error(`node-server.js: unknown LOAD_AUTHORIZER ${AUTHORIZER}`);
  const config = JSON.parse(process.env.LOAD_AUTHZ_CONFIG ?? "null");
  const policies = JSON.parse(process.env.LOAD_POLICIES ?? "null");
  if (!config || !policies)
    throw new Error("node-server.js: LOAD_AUTHZ_CONFIG and LOAD_POLICIES are required (run it through run.js)");
  const backend = process.env.LOAD_BACKEND || undefined;
  const { edgeAuthz } = await import("../../src/express.js");
  const { selectBackend } = await import("../../src/backend.js");
  // The middleware takes the authorizer's options (`backend` among them) beside `config`;
  // which backend that resolves to is the one selectBackend picks for the same choice in this
  // process (it throws here, before listening, if a forced one is unavailable).
  return { middleware: edgeAuthz({ config, policies, backend }), backend: selectBackend(backend).name };
}

const PETS = {
  pets: [
    { id: 1, name: "Birds" },
    { id: 2, name: "Cats" },
    { id: 3, name: "Dogs" },
    { id: 4, name: "Fish" },
  ],
};

const { middleware, backend } = await authorizer();
const app = express();
// The client address as behind a proxy on loopback (X-Forwarded-For), so the mix can present
// a caller from outside the policy's ranges; `req.ip` is what the edge-authz middleware reads.
app.set("trust proxy", "loopback");
app.set("etag", false);
app.set("x-powered-by", false);
if (middleware) app.use(middleware);
app.get("/petstore/v1/pets", (req, res) => res.json(PETS));
app.get("/petstore/v2/pets", (req, res) => res.json(PETS));
app.get("/petstore/v2/status", (req, res) => res.json({ status: "ok", caller: req.auth?.sub ?? null }));

const server = app.listen(0, "127.0.0.1", () => {
  process.send?.({ port: server.address().port, backend });
});
process.on("disconnect", () => server.close(() => process.exit(0)));
process.on("SIGTERM", () => process.exit(0));
