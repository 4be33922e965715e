// The Cloudflare Worker (workerd). Options and bindings: js/README.md.
import type { ConfigInput, ContextValue } from "./index.js";
export { AuthzError, ConfigError, JwksError, PolicyLoadError, RequestError, UnconfiguredError } from "./index.js";

export interface WorkerEnv {
  /** The edge-authz configuration (README, "Configuration reference"), as JSON text or an object. */
  AUTHZ_CONFIG: ConfigInput;
  /** Revocation records (`edge-authz revoke --format kv`): required when AUTHZ_CONFIG has a `revocation` section (external store). */
  REVOCATIONS?: { get(key: string, type: "text"): Promise<string | null> };
  /** Default "5000": a REVOCATIONS read slower than this counts as failed. */
  REVOCATIONS_TIMEOUT_MS?: string;
  /** A Workers Analytics Engine dataset: one data point per decision (js/README.md, "Metrics and a claim check in the Worker"). */
  METRICS?: { writeDataPoint(point: { blobs?: string[]; doubles?: number[]; indexes?: string[] }): void };
  [binding: string]: unknown;
}

/** What `claimCheck` is given beside the claims: the request as the Worker authorizes it. */
export interface WorkerClaimCheckRequest {
  method: string;
  /**
   * The canonical path authorized and forwarded (`/v1/%61dmin` is `/v1/admin`), without the
   * query: judge this one, as the origin serves it. Lower-cased under the configuration's
   * `request.caseSensitive: false` (`/v1/ADMIN` is `/v1/admin`), as the core matched it.
   */
  path: string;
  /** The path as the Worker received it (`new URL(request.url).pathname`). */
  receivedPath: string;
  headers: Headers;
  query: URLSearchParams;
  /** `CF-Connecting-IP`. */
  sourceIp: string | null;
  secureTransport: boolean;
}

export interface WorkerOptions {
  now?: () => number;
  log?: (event: Record<string, unknown>) => void;
  /**
   * A check of your own, run after the core's rules on allows only: anything but `true`
   * (`false`, a throw, a rejection) answers 403 `claim_check_failed`. `claims` is the
   * identity context (configured `context.claims` included).
   */
  claimCheck?: (
    claims: Record<string, ContextValue>,
    request: WorkerClaimCheckRequest,
    env: WorkerEnv,
  ) => boolean | Promise<boolean>;
}

export interface EdgeAuthzWorker {
  fetch(request: Request, env: WorkerEnv, ctx: { waitUntil(promise: Promise<unknown>): void }): Promise<Response>;
}

export declare function createWorker(options?: WorkerOptions): EdgeAuthzWorker;
export declare function headerName(key: string): string;
export declare function headerValue(value: string | number | boolean): string;
declare const worker: EdgeAuthzWorker;
export default worker;
