// node:http and the Node API: authorizer.authorize() decides each request; the server
// answers a denial itself, with the decision's status and JSON body.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createAuthorizer } from "edge-authz";

const config = JSON.parse(readFileSync(new URL("./config.json", import.meta.url), "utf8"));
// Once per process: it caches keys, verified tokens and decisions.
const authorizer = createAuthorizer(config, { policies: new URL("./policies.json", import.meta.url) });

const server = createServer(async (req, res) => {
  const decision = await authorizer.authorize({
    method: req.method ?? "",
    path: req.url ?? "",
    headers: req.headers,
    sourceIp: req.socket.remoteAddress,
  });
  if (decision.outcome !== "allow") {
    const headers = { "content-type": "application/json", "cache-control": "no-store" };
    if (decision.status === 401) headers["www-authenticate"] = "Bearer";
    res.writeHead(decision.status, headers).end(decision.body);
    return;
  }
  // decision.path is the canonical path that was authorized: route on it, not on req.url.
  if (decision.path === "/pets") {
    const body = { pets: ["Rex", "Tom"], caller: decision.context.sub, groups: decision.context.groups };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  } else {
    res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
  }
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});
