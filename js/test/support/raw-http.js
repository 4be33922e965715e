// A raw HTTP/1.1 client for the path tests: the request line goes on the wire exactly as
// written (no URL parsing or normalisation by a client library), one connection per request.
import { connect } from "node:net";

/** Longest a raw exchange may take before it counts as failed. */
const TIMEOUT_MS = 5000;

/**
 * Sends `METHOD target HTTP/1.1` with `headers` (in order, names as given) and reads the
 * response until the server closes the connection (`Connection: close` is sent).
 * @param {string} base `http://127.0.0.1:PORT`
 * @param {{ method?: string, target: string, headers?: Array<[string, string]> }} request
 * @returns {Promise<{ status: number, headers: Record<string, string>, body: string, raw: string }>}
 *   status 0: the server closed the connection without a response
 */
export function rawRequest(base, { method = "GET", target, headers = [] }) {
  const { hostname, port } = new URL(base);
  const lines = [
    `${method} ${target} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    ...headers.map(([name, value]) => `${name}: ${value}`),
    "Connection: close",
  ];
  // latin1: every char of the target is one byte on the wire (UTF-8 targets are given as bytes).
  const message = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks = [];
    const timer = setTimeout(
      () => socket.destroy(new Error(`no response to ${method} ${target.slice(0, 80)} within ${TIMEOUT_MS} ms`)),
      TIMEOUT_MS,
    );
    socket.on("connect", () => socket.end(message));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      // A reset after a complete response (the server closing early) is still an answer.
      if (chunks.length && error.code === "ECONNRESET") resolve(parseResponse(Buffer.concat(chunks)));
      else reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks)));
    });
  });
}

/** Status, headers (lower-case names, repeated ones comma-joined) and body (de-chunked). */
function parseResponse(buffer) {
  const raw = buffer.toString("latin1");
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: {}, body: "", raw };
  const [statusLine, ...headerLines] = raw.slice(0, end).split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  /** @type {Record<string, string>} */
  const headers = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let body = buffer.subarray(Buffer.byteLength(raw.slice(0, end + 4), "latin1"));
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = dechunk(body);
  return { status, headers, body: body.toString("utf8"), raw };
}

function dechunk(buffer) {
  const parts = [];
  let at = 0;
  for (let guard = 0; guard < 100000 && at < buffer.length; guard++) {
    const lineEnd = buffer.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = parseInt(buffer.subarray(at, lineEnd).toString("latin1"), 16);
    if (!(size > 0)) break;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
