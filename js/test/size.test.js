// The wasm budget: at most 150 KB gzipped after wasm-opt.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 150 * 1024;

test("the wasm is within 150 KB gzipped", () => {
  const wasm = readFileSync(new URL("../dist/edge_authz_bg.wasm", import.meta.url));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  console.log(`wasm: ${wasm.length} bytes, ${gzipped} bytes gzipped (budget ${BUDGET_BYTES})`);
  assert.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped exceeds ${BUDGET_BYTES}`);
});

test("the wasm imports only what wasm-bindgen provides", () => {
  const module = new WebAssembly.Module(readFileSync(new URL("../dist/edge_authz_bg.wasm", import.meta.url)));
  const foreign = WebAssembly.Module.imports(module).filter(
    (i) => i.module !== "./edge_authz_bg.js" && i.module !== "wbg",
  );
  assert.deepEqual(foreign, []);
});
