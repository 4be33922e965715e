// Fastify plugin: `app.register(edgeAuthz, {config, policies})`. An `onRequest` hook decides
// every request of the instance (the plugin is not encapsulated); `request.auth` is the
// caller's identity. Configuration errors fail the registration (`app.ready()`).
import { authorizerFrom, denial, splitOptions } from "./http.js";

/**
 * @param {any} fastify
 * @param {object} options `{config, ...createAuthorizer options, sourceIp?}` or `{authorizer}`
 */
export async function edgeAuthz(fastify, options) {
  const { authorizer: given, sourceIp } = splitOptions(options);
  const authorizer = authorizerFrom(given, "edgeAuthz (fastify)");
  const ipOf = sourceIp ?? ((request) => request.ip);
  if (!fastify.hasRequestDecorator("auth")) fastify.decorateRequest("auth", null);
  fastify.addHook("onRequest", async (request, reply) => {
    let decision = null;
    try {
      decision = await authorizer.authorize({ method: request.method, path: request.url, headers: request.headers, sourceIp: ipOf(request) });
    } catch {
      decision = null;
    }
    if (decision?.outcome === "allow") {
      request.auth = decision.context;
      return;
    }
    const { status, headers, body } = denial(decision);
    reply.code(status).headers(headers).send(body);
    return reply;
  });
}

// What fastify-plugin does: the hook applies to the registering instance, not a child scope.
Object.defineProperty(edgeAuthz, Symbol.for("skip-override"), { value: true });
Object.defineProperty(edgeAuthz, Symbol.for("fastify.display-name"), { value: "edge-authz" });
Object.defineProperty(edgeAuthz, Symbol.for("plugin-meta"), { value: { name: "edge-authz" } });

export default edgeAuthz;
