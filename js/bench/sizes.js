// Sizes, with the budgets of their tests: the wasm after wasm-bindgen + wasm-opt (≤ 150 KB
// gzipped, level 9, as js/test/size.test.js measures it) and a Lambda@Edge deployment zip
// (≤ 300 KB, as js/test/npm/lambda-edge.test.js checks). The zip is built beforehand by
// `make lambda-edge-zip` (make bench: CONFIG=demo/config.json); this only measures it.
// Usage: node js/bench/sizes.js [--zip FILE] [--zip-from TEXT]   Results: target/bench/sizes.json.
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { budgetExit, writeResults } from "./results.js";

const WASM_BUDGET_GZIP_BYTES = 150 * 1024;
const ZIP_BUDGET_BYTES = 300 * 1024;

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const zipPath = option("--zip");
const zipFrom = option("--zip-from");

const wasmPath = new URL("../dist/edge_authz_bg.wasm", import.meta.url);
const wasm = readFileSync(wasmPath);
const wasmGzip = gzipSync(wasm, { level: 9 }).length;
const zip = zipPath
  ? { path: zipPath, from: zipFrom ?? null, bytes: statSync(zipPath).size, budget_bytes: ZIP_BUDGET_BYTES }
  : null;

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(
  `wasm (js/dist/edge_authz_bg.wasm): ${wasm.length} bytes, ${wasmGzip} bytes gzipped = ${kb(wasmGzip)} (budget ${kb(WASM_BUDGET_GZIP_BYTES)}) ${wasmGzip <= WASM_BUDGET_GZIP_BYTES ? "ok" : "OVER BUDGET"}`,
);
if (zip)
  console.log(
    `Lambda@Edge zip (${zip.path}): ${zip.bytes} bytes = ${kb(zip.bytes)} (budget ${kb(ZIP_BUDGET_BYTES)}) ${zip.bytes <= ZIP_BUDGET_BYTES ? "ok" : "OVER BUDGET"}`,
  );

const missed = [];
if (wasmGzip > WASM_BUDGET_GZIP_BYTES) missed.push("wasm_gzip");
if (zip && zip.bytes > ZIP_BUDGET_BYTES) missed.push("lambda_edge_zip");
const path = writeResults("sizes", {
  command: "node js/bench/sizes.js",
  wasm: {
    path: "js/dist/edge_authz_bg.wasm",
    bytes: wasm.length,
    gzip_bytes: wasmGzip,
    gzip_level: 9,
    budget_gzip_bytes: WASM_BUDGET_GZIP_BYTES,
  },
  lambda_edge_zip: zip,
  missed,
});
console.log(`results: ${path}`);
budgetExit(missed);
