// Express with edge-authz in front of every route: a request reaches a route only if the
// caller's token is valid and a policy of one of their groups allows it.
import { readFileSync } from "node:fs";
import express from "express";
import { edgeAuthz } from "edge-authz/express";

const config = JSON.parse(readFileSync(new URL("./config.json", import.meta.url), "utf8"));
const app = express();
app.use(edgeAuthz({ config, policies: new URL("./policies.json", import.meta.url) }));
app.get("/pets", (req, res) => res.json({ pets: ["Rex", "Tom"], caller: req.auth.sub, groups: req.auth.groups }));

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});
