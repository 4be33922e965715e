// The whole Worker: edge-authz's, configured by wrangler.toml's [vars] and bindings.
export { default } from "edge-authz/worker";

// To log elsewhere, or wrap it:
//   import { createWorker } from "edge-authz/worker";
//   export default createWorker({ log: (event) => console.log(JSON.stringify(event)) });
