// Fastify with the edge-authz plugin: its onRequest hook authorizes every request before
// the routes (and before a 404), and an allowed one carries request.auth.
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { edgeAuthz } from "edge-authz/fastify";

const config = JSON.parse(readFileSync(new URL("./config.json", import.meta.url), "utf8"));
const app = Fastify();
await app.register(edgeAuthz, { config, policies: new URL("./policies.json", import.meta.url) });
app.get("/pets", async (request) => ({ pets: ["Rex", "Tom"], caller: request.auth.sub, groups: request.auth.groups }));

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? "127.0.0.1" });
console.log(`listening on ${address}`);
