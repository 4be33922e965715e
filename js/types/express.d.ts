import type { AuthorizerOptions, ConfigInput, ContextValue, NodeAuthorizer } from "./index.js";

export interface MiddlewareOptions extends AuthorizerOptions {
  config?: ConfigInput;
  /** An authorizer from `createAuthorizer`, instead of `config` (its options go there). */
  authorizer?: NodeAuthorizer;
  /** Default `req.ip ?? req.socket.remoteAddress` (set Express's `trust proxy` behind a proxy). */
  sourceIp?: (req: any) => string | null | undefined;
  /** Default `x-authz-`: incoming headers with it (any case, `-` and `_` alike) are removed before the app sees them, and so are method-override headers. */
  identityHeaderPrefix?: string;
}

/** The caller's identity: sub, username, groups, scope, clientId, tokenUse, issuer, configured claims. */
export type EdgeAuthzIdentity = Record<string, ContextValue>;

/** Express/Connect middleware; on allow `req.auth` is the caller's identity. */
export declare function edgeAuthz(
  options: MiddlewareOptions | NodeAuthorizer,
): (req: any, res: any, next: (error?: unknown) => void) => void;
export default edgeAuthz;

declare global {
  namespace Express {
    interface Request {
      /**
       * The caller's identity, set by `edgeAuthz` on allow: a request it denies never reaches
       * the handlers after it. Mount `edgeAuthz` first; in a handler mounted before it, or
       * outside the app it guards, `auth` is not set.
       */
      auth: EdgeAuthzIdentity;
    }
  }
}
