// The core under Node.js: the native addon (napi-rs, signatures by aws-lc-rs) from this
// platform's optional package, or the wasm build, which runs everywhere. Both answer to the
// same `Authorizer` / `Request` contract (src/binding.rs), so `authorizer.js` and every
// adapter above it run on either; `authorizer.backend` says which one runs.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { initSync, Authorizer as WasmAuthorizer, Request as WasmRequest } from "../dist/edge_authz.js";
import { ConfigError, messageOf } from "./errors.js";

/** What `backend` (the option) and `EDGE_AUTHZ_BACKEND` (the environment) accept. */
export const BACKEND_CHOICES = Object.freeze(["auto", "native", "wasm"]);

/** The platform packages built and published, by `process.platform-process.arch-libc`. */
const NATIVE_PACKAGES = Object.freeze({
  "linux-x64-gnu": "@edge-authz/linux-x64-gnu",
  "linux-arm64-gnu": "@edge-authz/linux-arm64-gnu",
});

const require = createRequire(import.meta.url);
/** This package's version, which its platform package must share. */
const VERSION = require("../package.json").version;

/** This process's platform tag (`linux-x64-gnu`, ...), the name its native package carries. */
export function platformTag() {
  const { platform, arch } = process;
  if (platform !== "linux") return `${platform}-${arch}`;
  return `${platform}-${arch}-${isMusl() ? "musl" : "gnu"}`;
}

/**
 * Whether this Linux runs musl (Alpine) rather than glibc. `/usr/bin/ldd` names its libc and
 * reads in microseconds; the process report (a few milliseconds of a cold start, more with
 * many network interfaces) answers only where there is no ldd, as in distroless images. A
 * wrong answer costs nothing but speed: the other libc's addon fails to load, and the wasm runs.
 */
function isMusl() {
  try {
    return readFileSync("/usr/bin/ldd", "latin1").includes("musl");
  } catch {
    // No ldd: ask the process report, which names glibc's version when glibc is loaded.
  }
  const report = process.report;
  if (!report) return false;
  const excludeNetwork = report.excludeNetwork; // the app's setting, restored below
  try {
    report.excludeNetwork = true;
    const header = /** @type {any} */ (report.getReport())?.header;
    return !header?.glibcVersionRuntime;
  } catch {
    return false;
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
}

let wasm = null;
/** @type {{ backend: object | null, error: string | null } | null} */
let native = null;

/** The wasm core, compiled and instantiated from the package's own file once per process. */
function loadWasm() {
  if (!wasm) {
    initSync({ module: readFileSync(new URL("../dist/edge_authz_bg.wasm", import.meta.url)) });
    wasm = Object.freeze({ name: "wasm", Authorizer: WasmAuthorizer, Request: WasmRequest });
  }
  return wasm;
}

/**
 * The native addon: this platform's package, else the one built in this checkout
 * (`make native-build` puts it in the package's folder, js/npm/<tag>/, which the main
 * package's tarball leaves out). Loaded once; why it did not load is kept for the error a
 * forced `native` throws.
 */
function loadNative() {
  if (native) return native;
  const tag = platformTag();
  // Each candidate with its package.json: an addon is loaded only at this package's own
  // version (the contract between the JavaScript and the addon is not versioned apart).
  const candidates = [];
  if (NATIVE_PACKAGES[tag]) candidates.push([NATIVE_PACKAGES[tag], `${NATIVE_PACKAGES[tag]}/package.json`]);
  // A file path, not a URL's pathname: a checkout under `my projects/` has `%20` in the latter.
  const local = fileURLToPath(new URL(`../npm/${tag}/`, import.meta.url));
  candidates.push([`${local}edge-authz.${tag}.node`, `${local}package.json`]);
  const failures = [];
  for (const [candidate, manifest] of candidates) {
    let addon;
    try {
      const { version } = require(manifest);
      if (version !== VERSION) throw new Error(`version ${version}, not edge-authz's ${VERSION}`);
      addon = require(candidate);
    } catch (error) {
      failures.push(`${candidate}: ${firstLine(messageOf(error))}`);
      continue;
    }
    if (typeof addon?.Authorizer !== "function" || typeof addon?.Request !== "function") {
      failures.push(`${candidate}: not an edge-authz addon`);
      continue;
    }
    // The binary's own version too: a package.json can be right around a stale binary.
    if (addon.VERSION !== VERSION) {
      failures.push(`${candidate}: addon version ${addon.VERSION}, not edge-authz's ${VERSION}`);
      continue;
    }
    native = { backend: nativeBackend(addon), error: null };
    return native;
  }
  native = {
    backend: null,
    error: NATIVE_PACKAGES[tag]
      ? `no native binary loaded for ${tag} (${failures.join("; ")})`
      : `no native binary is built for ${tag} (built: ${Object.keys(NATIVE_PACKAGES).join(", ")})`,
  };
  return native;
}

const firstLine = (text) => text.split("\n", 1)[0];

/**
 * The addon's classes under the wasm backend's contract. Only the two calls whose values are
 * JavaScript-shaped differ: a policy or record given as a JSON value crosses as its JSON text
 * (the wasm does the same inside), and one with no JSON text (a function, a BigInt, a cycle)
 * as unreadable, which keeps it invalid, never "none". The hot path (`authorize`, `set`) is
 * the addon's own.
 */
function nativeBackend(addon) {
  class Authorizer extends addon.Authorizer {
    /** @param {string} config @param {Uint8Array} hashKey signatures are verified natively */
    constructor(config, hashKey) {
      super(config, hashKey);
    }

    policyLoaded(group, policy, now) {
      const [text, unreadable] = storedText(policy);
      return super.policyLoaded(group, text, now, unreadable);
    }

    revocationLoaded(key, record, now) {
      const [text, unreadable] = storedText(record);
      return super.revocationLoaded(key, text, now, unreadable);
    }
  }
  return Object.freeze({ name: "native", Authorizer, Request: addon.Request });
}

const NO_JSON_TEXT = "a JavaScript value with no JSON text (a function, a symbol, a BigInt, a cycle)";

/** `[text | null, unreadable | undefined]` for a stored value, as the wasm reads it. */
function storedText(value) {
  if (value === null || value === undefined) return [null, undefined];
  if (typeof value === "string") return [value, undefined];
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    return [null, NO_JSON_TEXT];
  }
  return typeof text === "string" ? [text, undefined] : [null, NO_JSON_TEXT];
}

/**
 * The backend to run: `choice` (the `backend` option) if given, else `EDGE_AUTHZ_BACKEND`,
 * else `auto` (native when this platform's binary loads, the wasm otherwise). `native`
 * without a loadable binary is a `ConfigError` saying why, never a silent fallback.
 * @param {string | undefined} choice
 * @returns {{ name: "native" | "wasm", Authorizer: any, Request: any }}
 */
export function selectBackend(choice) {
  const [wanted, from] =
    choice !== undefined
      ? [choice, "options.backend"]
      : process.env.EDGE_AUTHZ_BACKEND
        ? [process.env.EDGE_AUTHZ_BACKEND, "EDGE_AUTHZ_BACKEND"]
        : ["auto", "default"];
  if (!BACKEND_CHOICES.includes(wanted))
    throw new ConfigError(`${from}: must be one of ${BACKEND_CHOICES.join(", ")}, not ${JSON.stringify(wanted)}`);
  if (wanted === "wasm") return loadWasm();
  const { backend, error } = loadNative();
  if (backend) return backend;
  if (wanted === "native") throw new ConfigError(`${from}: native backend unavailable: ${error}`);
  return loadWasm();
}
