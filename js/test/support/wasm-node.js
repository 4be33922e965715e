// The wasm build loaded in Node (the same js/dist files the Worker bundles).
import { readFileSync } from "node:fs";
import { initSync, Authorizer, Request } from "../../dist/edge_authz.js";

initSync({ module: readFileSync(new URL("../../dist/edge_authz_bg.wasm", import.meta.url)) });

export const wasm = { Authorizer, Request };
