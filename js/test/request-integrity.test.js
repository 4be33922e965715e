// The Worker in workerd (Miniflare listening on 127.0.0.1, raw request lines) in front of real
// origins, for two holes an attacker review of issue 14 found in what it forwards:
//   - identity headers spelt with `_` (`X_Authz_Sub`, `x-authz_groups`) went through: a CGI,
//     WSGI, Rack or PHP origin maps `-` and `_` to the same variable, so a Python wsgiref
//     origin got `HTTP_X_AUTHZ_GROUPS = "keepers,admins"` (the real group and the forged one);
//   - method-override headers went through: the Worker authorized a POST and the origin's
//     `method-override` routed it as the DELETE the policy denies.
// Origins: an Express 5 app honouring the three override headers (Express's
// `method-override` from support/npm-extras.js), and Python's
// wsgiref (skipped without python3).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import express from "express";
import { npmExtras } from "./support/npm-extras.js";
import { rawRequest } from "./support/raw-http.js";
import { startJwksServer } from "./support/servers.js";
import { startMiniflare } from "./support/workerd.js";
import { GROUP, JWKS, NOW, SUB, listenExpress, matrixToken, methodConfig } from "./support/path-matrix.js";

const token = matrixToken();
const extras = await npmExtras();

/** Identity headers forged with `_` for `-` (and one with `-`), in odd cases. */
const FORGED = [
  ["X_Authz_Sub", "forged"],
  ["x-authz_groups", "admins"],
  ["X_AUTHZ-Username", "root"],
  ["x-Authz-Groups", "admins-dash"],
];
/** The three override headers, any case, `-` or `_`. */
const OVERRIDES = [
  "X-HTTP-Method-Override",
  "x-http-method",
  "X-Method-Override",
  "X_HTTP_Method_Override",
  "x_http_method",
  "x-method_override",
];
const overrideHeaders = OVERRIDES.map((name) => [name, "DELETE"]);

/** Names (lower-cased) of identity or method-override headers among `names`, but the Worker's own. */
const OURS = ["sub", "username", "groups", "scope", "client-id", "token-use", "issuer"].map((n) => `x-authz-${n}`);
const suspicious = (names) =>
  names
    .map((n) => n.toLowerCase())
    .filter(
      (n) =>
        (/^x[-_]authz[-_]/.test(n) && !OURS.includes(n)) ||
        /^x[-_](http[-_]method([-_]override)?|method[-_]override)$/.test(n),
    );

/** What Express's `method-override` does with a header getter; the real package when npm-extras has it. */
const { methodOverride } = extras;

/** The origin behind the Worker: honours the override headers, echoes what it received. */
function expressOrigin() {
  const app = express();
  for (const header of ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])
    app.use(methodOverride(header));
  const echo = (route) => (req, res) =>
    res.set("x-route", route).json({ method: req.method, headers: req.headers, rawHeaders: req.rawHeaders });
  app.delete("/petstore/v1/pets", echo("delete"));
  app.post("/petstore/v1/pets", echo("post"));
  app.use(echo("catch-all"));
  return listenExpress(app);
}

/** Python's wsgiref (the reference WSGI server): echoes REQUEST_METHOD and every HTTP_* variable. */
const WSGI_ORIGIN = `
import json
from wsgiref.simple_server import make_server, WSGIRequestHandler
class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass
def app(environ, start_response):
    body = json.dumps({"method": environ["REQUEST_METHOD"], "environ": {k: v for k, v in environ.items() if k.startswith("HTTP_")}}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("X-Route", "wsgi")])
    return [body]
server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
`;

const python = spawnSync("python3", ["-c", "import wsgiref.simple_server"], { stdio: "ignore" }).status === 0;

async function wsgiOrigin() {
  const child = spawn("python3", ["-c", WSGI_ORIGIN], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("exit", (code) => reject(new Error(`wsgiref origin exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      child.kill();
      await exited;
    },
  };
}

let jwks;
before(async () => {
  jwks = await startJwksServer(JWKS);
});
after(() => jwks.close());

/** The Worker in front of `origin`, with the method policy (POST allowed, DELETE denied). */
async function workerFor(origin) {
  const mf = await startMiniflare(
    "test/support/worker-under-test.js",
    { AUTHZ_CONFIG: JSON.stringify(methodConfig(jwks.url)), UPSTREAM: origin.url },
    { kv: false, host: "127.0.0.1", port: 0, handleRuntimeStdio: () => {} },
  );
  return { mf, url: (await mf.ready).href };
}

const send = (url, method, extra = []) =>
  rawRequest(url, {
    method,
    target: "/petstore/v1/pets",
    headers: [["Authorization", `Bearer ${token}`], ["X-Test-Clock", String(NOW)], ["Content-Length", "0"], ...extra],
  });

describe("the Worker in front of Express 5 + method-override", () => {
  let origin;
  let worker;
  before(async () => {
    origin = await expressOrigin();
    worker = await workerFor(origin);
  });
  after(async () => {
    await worker?.mf.dispose();
    await origin?.close();
  });

  test("the policy denies DELETE", async () => {
    const response = await send(worker.url, "DELETE");
    assert.equal(response.status, 403);
    assert.equal(response.headers["x-route"], undefined);
  });

  test("an authorized POST reaches the origin as a POST: no override header is forwarded", async () => {
    for (const extra of [...overrideHeaders.map((h) => [h]), overrideHeaders]) {
      const what = extra.map(([name]) => name).join(", ");
      const response = await send(worker.url, "POST", extra);
      assert.equal(response.status, 200, what);
      assert.equal(response.headers["x-route"], "post", `${what}: the origin routed ${response.headers["x-route"]}`);
      const echo = JSON.parse(response.body);
      assert.equal(echo.method, "POST", what);
      assert.deepEqual(suspicious(Object.keys(echo.headers)), [], what);
    }
  });

  test("identity headers spelt with `_` never reach the origin; the Worker's own are there, with `-`", async () => {
    const response = await send(worker.url, "GET", FORGED);
    assert.equal(response.status, 200);
    const echo = JSON.parse(response.body);
    const names = echo.rawHeaders.filter((_, i) => i % 2 === 0);
    assert.deepEqual(suspicious(names), []);
    assert.equal(echo.headers["x-authz-sub"], SUB);
    assert.equal(echo.headers["x-authz-groups"], GROUP);
    assert.equal(names.filter((n) => n.toLowerCase() === "x-authz-groups").length, 1);
  });
});

describe(
  "the Worker in front of a Python wsgiref origin (CGI-style variables)",
  { skip: python ? false : "python3 with wsgiref is not available" },
  () => {
    let origin;
    let worker;
    before(async () => {
      origin = await wsgiOrigin();
      worker = await workerFor(origin);
    });
    after(async () => {
      await worker?.mf.dispose();
      await origin?.close();
    });

    test("HTTP_X_AUTHZ_* hold the Worker's identity alone, whatever the client spelt", async () => {
      const response = await send(worker.url, "GET", FORGED);
      assert.equal(response.status, 200);
      assert.equal(response.headers["x-route"], "wsgi");
      const { environ } = JSON.parse(response.body);
      assert.equal(environ.HTTP_X_AUTHZ_GROUPS, GROUP);
      assert.equal(environ.HTTP_X_AUTHZ_SUB, SUB);
      assert.equal(environ.HTTP_X_AUTHZ_USERNAME, "keeper");
    });

    test("no HTTP_X_HTTP_METHOD_OVERRIDE, HTTP_X_HTTP_METHOD or HTTP_X_METHOD_OVERRIDE reaches it", async () => {
      const response = await send(worker.url, "POST", overrideHeaders);
      assert.equal(response.status, 200);
      const { method, environ } = JSON.parse(response.body);
      assert.equal(method, "POST");
      assert.deepEqual(
        Object.keys(environ).filter((k) => /^HTTP_X_(HTTP_METHOD(_OVERRIDE)?|METHOD_OVERRIDE)$/.test(k)),
        [],
      );
    });
  },
);
