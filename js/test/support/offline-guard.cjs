// Preloaded into the tools a test runs (NODE_OPTIONS="--require .../offline-guard.cjs"):
// wrangler and npm. Every TCP connection (http, https, fetch: all go through
// net.Socket.prototype.connect) and every DNS lookup of a name other than loopback is
// refused before it leaves the machine and recorded, one line each, in $OFFLINE_GUARD_LOG,
// so the test can assert the tool tried none: no login, no update check, no telemetry.
// Unix sockets and loopback pass.
"use strict";
const dns = require("node:dns");
const fs = require("node:fs");
const net = require("node:net");

const logFile = process.env.OFFLINE_GUARD_LOG;
const isLoopback = (host) => /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i.test(String(host));

function record(what) {
  if (logFile) fs.appendFileSync(logFile, `${process.pid} ${process.argv.slice(1, 3).join(" ")}: ${what}\n`);
  return Object.assign(new Error(`offline guard: ${what} refused (the tests run offline)`), { code: "ECONNREFUSED" });
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  // Node calls connect([options, callback]) internally, users connect(options | port, host | path).
  const [options] = Array.isArray(args[0]) ? args[0] : net._normalizeArgs(args);
  if (!options.path && !isLoopback(options.host ?? "localhost")) {
    const error = record(`connect ${options.host}:${options.port}`);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, ...rest) {
  if (isLoopback(hostname)) return lookup.call(this, hostname, ...rest);
  const error = record(`lookup ${hostname}`);
  const callback = rest.at(-1);
  if (typeof callback === "function") process.nextTick(() => callback(error));
  return {};
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = async function guardedLookupPromise(hostname, ...rest) {
  if (isLoopback(hostname)) return lookupPromise.call(this, hostname, ...rest);
  throw record(`lookup ${hostname}`);
};
