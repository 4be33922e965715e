// Loopback HTTP servers the tests start: a JWKS origin and a petstore upstream that echoes
// what it received. Ports are chosen by the OS.
import { createServer } from "node:http";

/** @param {import("node:http").RequestListener} handler */
async function listen(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return { server, url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Serves `state.body` at any path; `state.down` answers 500; counts fetches. */
export async function startJwksServer(body) {
  const state = { body, down: false, fetches: 0 };
  const { url, close } = await listen((request, response) => {
    state.fetches++;
    if (state.down) {
      response.writeHead(500, { "content-type": "text/plain" }).end("down");
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(state.body);
  });
  return { state, url: `${url}/.well-known/jwks.json`, close };
}

/** Answers 200 with `{method, path, headers}` as received. */
export async function startPetstore() {
  const received = [];
  const { url, close } = await listen((request, response) => {
    const echo = { method: request.method, path: request.url, headers: request.headers };
    received.push(echo);
    response.writeHead(200, { "content-type": "application/json", "x-upstream": "petstore" }).end(JSON.stringify(echo));
  });
  return { url, received, close };
}
