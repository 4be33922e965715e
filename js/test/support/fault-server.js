// A loopback HTTP origin whose behaviour a fault test switches: healthy, down (the port
// refuses connections), slow, an error status, or a garbage body. Used as a JWKS endpoint
// and as a policy document URL; the fault matrices (test/faults.test.js,
// test/npm/faults.test.js) drive it. Ports are chosen by the OS and kept across down/up.
import { createHash } from "node:crypto";
import { createServer } from "node:http";

/**
 * @typedef {{ kind: "up" }
 *   | { kind: "down" }
 *   | { kind: "slow", ms: number }
 *   | { kind: "status", status: number, body?: string, headers?: Record<string, string> }
 *   | { kind: "garbage", body: string }} Fault
 */

/** Keep-alive sockets would outlive a "down": every response closes its connection. */
const CLOSE = { "content-type": "application/json", connection: "close" };

/** The faults, by name, as the matrices use them. */
export const faults = {
  up: () => ({ kind: "up" }),
  down: () => ({ kind: "down" }),
  slow: (ms) => ({ kind: "slow", ms }),
  status: (status, body = "", headers = {}) => ({ kind: "status", status, body, headers }),
  garbage: (body) => ({ kind: "garbage", body }),
};

/**
 * Starts an origin answering `healthy(request)` → `{status?, headers?, body}` while up.
 * `hits` counts requests that reached it (faulty or not).
 * @param {(request: import("node:http").IncomingMessage) => { status?: number, headers?: Record<string, string>, body: string }} healthy
 */
export async function startFaultServer(healthy) {
  const timers = new Set();
  let fault = faults.up();
  let hits = 0;
  const server = createServer((request, response) => {
    hits++;
    const current = fault;
    const answer = () => {
      if (response.destroyed) return;
      const { status = 200, headers = {}, body } = healthy(request);
      response.writeHead(status, { ...CLOSE, ...headers }).end(body);
    };
    switch (current.kind) {
      case "slow": {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, current.ms);
        timers.add(timer);
        return;
      }
      case "status":
        response.writeHead(current.status, { ...CLOSE, ...current.headers }).end(current.body);
        return;
      case "garbage":
        response.writeHead(200, CLOSE).end(current.body);
        return;
      default:
        answer();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  const origin = `http://127.0.0.1:${port}`;

  const stopListening = () =>
    new Promise((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.close(() => resolve(undefined));
      server.closeAllConnections();
    });

  return {
    origin,
    url: (path = "/") => `${origin}${path}`,
    get hits() {
      return hits;
    },
    get fault() {
      return fault;
    },
    /** Switches the behaviour; `down` closes the port, leaving `down` reopens it. @param {Fault} next */
    async set(next) {
      const wasDown = fault.kind === "down";
      fault = next;
      if (next.kind === "down" && !wasDown) await stopListening();
      if (next.kind !== "down" && wasDown) await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
      // A pending slow answer must not land after the fault is cleared.
      if (next.kind !== "slow") {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
      }
    },
    close: () => (fault.kind === "down" ? Promise.resolve() : stopListening()),
  };
}

/** A JWKS endpoint: serves `state.body` (settable, for rotation). */
export async function startJwksOrigin(body) {
  const state = { body };
  const origin = await startFaultServer(() => ({ body: state.body }));
  return Object.assign(origin, { state, jwksUrl: origin.url("/.well-known/jwks.json") });
}

/** A policy document origin: serves `state.document` with a content ETag, answers 304 to a match. */
export async function startPolicyOrigin(document) {
  const state = { document };
  const origin = await startFaultServer((request) => {
    const body = JSON.stringify(state.document);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"`;
    if (request.headers["if-none-match"] === etag) return { status: 304, headers: { etag }, body: "" };
    return { headers: { etag }, body };
  });
  return Object.assign(origin, { state, policiesUrl: origin.url("/policies.json") });
}
