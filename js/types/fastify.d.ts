import type { AuthorizerOptions, ContextValue, EdgeAuthzConfig, NodeAuthorizer } from "./index.js";

export interface FastifyEdgeAuthzOptions extends AuthorizerOptions {
  config?: EdgeAuthzConfig | object | string;
  /** An authorizer from `createAuthorizer`, instead of `config`. */
  authorizer?: NodeAuthorizer;
  /** Default `request.ip` (set Fastify's `trustProxy` behind a proxy). */
  sourceIp?: (request: any) => string | null | undefined;
  /** Default `x-authz-`: incoming headers with it (any case, `-` and `_` alike) are removed before the app sees them, and so are method-override headers. */
  identityHeaderPrefix?: string;
}

/** Fastify plugin: an `onRequest` hook on the registering instance; `request.auth` on allow. */
export declare function edgeAuthz(fastify: any, options: FastifyEdgeAuthzOptions): Promise<void>;
export default edgeAuthz;

export type EdgeAuthzIdentity = Record<string, ContextValue> | null;
