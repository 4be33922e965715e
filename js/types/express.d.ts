import type { AuthorizerOptions, ContextValue, EdgeAuthzConfig, NodeAuthorizer } from "./index.js";

export interface MiddlewareOptions extends AuthorizerOptions {
  config: EdgeAuthzConfig | object | string;
  /** Default `req.ip ?? req.socket.remoteAddress` (set Express's `trust proxy` behind a proxy). */
  sourceIp?: (req: any) => string | null | undefined;
  /** Default `x-authz-`: incoming headers with it (any case, `-` and `_` alike) are removed before the app sees them, and so are method-override headers. */
  identityHeaderPrefix?: string;
}

/** Express/Connect middleware; on allow `req.auth` is the caller's identity. */
export declare function edgeAuthz(
  options: MiddlewareOptions | NodeAuthorizer,
): (req: any, res: any, next: (error?: unknown) => void) => void;
export default edgeAuthz;

declare global {
  namespace Express {
    interface Request {
      auth?: Record<string, ContextValue>;
    }
  }
}
