// The Cloudflare Worker (workerd). Options and bindings: js/README.md.
import type { ConfigInput } from "./index.js";
export { AuthzError, ConfigError, JwksError, PolicyLoadError, RequestError, UnconfiguredError } from "./index.js";

export interface WorkerEnv {
  /** The edge-authz configuration (README, "Configuration reference"), as JSON text or an object. */
  AUTHZ_CONFIG: ConfigInput;
  /** Revocation records (`edge-authz revoke --format kv`): required when AUTHZ_CONFIG has a `revocation` section (external store). */
  REVOCATIONS?: { get(key: string, type: "text"): Promise<string | null> };
  /** Default "5000": a REVOCATIONS read slower than this counts as failed. */
  REVOCATIONS_TIMEOUT_MS?: string;
  [binding: string]: unknown;
}

export interface WorkerOptions {
  now?: () => number;
  log?: (event: Record<string, unknown>) => void;
}

export interface EdgeAuthzWorker {
  fetch(request: Request, env: WorkerEnv, ctx: { waitUntil(promise: Promise<unknown>): void }): Promise<Response>;
}

export declare function createWorker(options?: WorkerOptions): EdgeAuthzWorker;
export declare function headerName(key: string): string;
export declare function headerValue(value: string | number | boolean): string;
declare const worker: EdgeAuthzWorker;
export default worker;
