// The Worker of js/bench/workerd.js, run in workerd: the Worker's authorization path (the wasm
// core + glue + WebCrypto, as js/src/worker.js builds it) driven in a loop inside one request,
// so that the CPU the driver reads from the workerd process is the authorizations', not HTTP's.
//   POST /setup  {config, jwks}        builds the EdgeAuthorizer (randomness needs a request)
//   POST /tokens {tokens}              the tokens of the next first-seen run
//   POST /run    {mode, now, n}        mode "first_seen": every stored token once;
//                                      "cached": the first stored token n times; "noop": nothing
import wasmModule from "../dist/edge_authz_bg.wasm";
import { initSync, Authorizer, Request as WasmRequest } from "../dist/edge_authz.js";
import { EdgeAuthorizer } from "../src/authorizer.js";
import { webCryptoVerifier } from "../src/webcrypto.js";

let authorizer = null;
let tokens = [];

const request = (token) => ({
  method: "GET",
  path: "/petstore/v1/pets",
  headers: [
    ["authorization", `Bearer ${token}`],
    ["user-agent", "bench/1.0"],
    ["accept", "application/json"],
    ["host", "api.example"],
  ],
  sourceIp: "192.0.2.10",
  secureTransport: true,
});

async function run({ mode, now, n }) {
  let count = 0;
  const decide = async (r) => {
    const decision = await authorizer.authorize(r, now);
    if (decision.outcome !== "allow") throw new Error(`bench request denied: ${decision.reason}`);
    count++;
  };
  if (mode === "first_seen") for (const token of tokens) await decide(request(token));
  else if (mode === "cached") {
    const same = request(tokens[0]);
    for (let i = 0; i < n; i++) await decide(same);
  } else if (mode !== "noop") throw new Error(`unknown mode ${mode}`);
  return count;
}

export default {
  async fetch(incoming) {
    const body = await incoming.json();
    switch (new URL(incoming.url).pathname) {
      case "/setup": {
        initSync({ module: wasmModule });
        const jwks = new TextEncoder().encode(body.jwks);
        authorizer = new EdgeAuthorizer(
          { Authorizer, Request: WasmRequest },
          {
            config: body.config,
            hashKey: crypto.getRandomValues(new Uint8Array(8)),
            io: { fetchJwks: async () => jwks, verifySignature: webCryptoVerifier() },
          },
        );
        return Response.json({ ok: true });
      }
      case "/tokens":
        tokens = body.tokens;
        return Response.json({ ok: true, count: tokens.length });
      case "/run":
        try {
          return Response.json({ ok: true, count: await run(body) });
        } catch (error) {
          return Response.json({ ok: false, error: String(error?.stack ?? error) }, { status: 500 });
        }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
