// The Node side of the load test, in a process of its own (so its RSS is its own): an Express
// app behind the edge-authz middleware (js/src/express.js, as `edge-authz/express` resolves for
// ESM), answering the petstore routes itself. Started by run.js with `fork`; the configuration
// comes in LOAD_AUTHZ_CONFIG and LOAD_POLICIES (JSON), the port goes back over IPC.
import express from "express";
import { edgeAuthz } from "../../src/express.js";

const config = JSON.parse(process.env.LOAD_AUTHZ_CONFIG ?? "null");
const policies = JSON.parse(process.env.LOAD_POLICIES ?? "null");
if (!config || !policies)
  throw new Error("node-server.js: LOAD_AUTHZ_CONFIG and LOAD_POLICIES are required (run it through run.js)");

const PETS = {
  pets: [
    { id: 1, name: "Birds" },
    { id: 2, name: "Cats" },
    { id: 3, name: "Dogs" },
    { id: 4, name: "Fish" },
  ],
};

const app = express();
// The client address as behind a proxy on loopback (X-Forwarded-For), so the mix can present
// a caller from outside the policy's ranges; `req.ip` is what the middleware reads.
app.set("trust proxy", "loopback");
app.set("etag", false);
app.set("x-powered-by", false);
app.use(edgeAuthz({ config, policies }));
app.get("/petstore/v1/pets", (req, res) => res.json(PETS));
app.get("/petstore/v2/pets", (req, res) => res.json(PETS));
app.get("/petstore/v2/status", (req, res) => res.json({ status: "ok", caller: req.auth.sub }));

const server = app.listen(0, "127.0.0.1", () => {
  process.send?.({ port: server.address().port });
});
process.on("disconnect", () => server.close(() => process.exit(0)));
process.on("SIGTERM", () => process.exit(0));
