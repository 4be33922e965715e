// A CloudFront viewer-request function. Lambda@Edge has no environment variables: the
// configuration and the policies travel in the zip, read once per instance.
import { readFileSync } from "node:fs";
import { createHandler } from "edge-authz/lambda-edge";

const config = JSON.parse(readFileSync(new URL("./config.json", import.meta.url), "utf8"));
export const handler = createHandler({
  config,
  policies: new URL("./policies.json", import.meta.url),
  // The zip carries the WebAssembly core (the native addon would not fit the 1 MB limit).
  backend: "wasm",
});
