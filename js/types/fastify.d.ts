import type { FastifyPluginAsync } from "fastify";
import type { AuthorizerOptions, ConfigInput, ContextValue, NodeAuthorizer } from "./index.js";

export interface FastifyEdgeAuthzOptions extends AuthorizerOptions {
  config?: ConfigInput;
  /** An authorizer from `createAuthorizer`, instead of `config` (its options go there). */
  authorizer?: NodeAuthorizer;
  /** Default `request.ip` (set Fastify's `trustProxy` behind a proxy). */
  sourceIp?: (request: any) => string | null | undefined;
  /** Default `x-authz-`: incoming headers with it (any case, `-` and `_` alike) are removed before the app sees them, and so are method-override headers. */
  identityHeaderPrefix?: string;
}

/** The caller's identity: sub, username, groups, scope, clientId, tokenUse, issuer, configured claims. */
export type EdgeAuthzIdentity = Record<string, ContextValue>;

/** Fastify plugin: an `onRequest` hook on the registering instance; `request.auth` on allow. */
export declare const edgeAuthz: FastifyPluginAsync<FastifyEdgeAuthzOptions>;
export default edgeAuthz;

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The caller's identity, set by the plugin's `onRequest` hook on allow: a request it
     * denies never reaches a route of the instance it is registered on. (`null` outside it.)
     */
    auth: EdgeAuthzIdentity;
  }
}
