import type { AuthorizerOptions, ContextValue, NodeAuthorizer } from "./index.js";

export interface MiddlewareOptions extends AuthorizerOptions {
  config: object | string;
  /** Default `req.ip ?? req.socket.remoteAddress` (set Express's `trust proxy` behind a proxy). */
  sourceIp?: (req: any) => string | null | undefined;
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
