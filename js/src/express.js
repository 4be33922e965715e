// Express / Connect middleware: `app.use(edgeAuthz({config, policies}))`. On allow,
// `req.auth` is the caller's identity and the next handler runs; otherwise the response is
// ended with the configured status and JSON body. Configuration errors throw here, at
// construction.
import { authorizerFrom, denial, splitOptions } from "./http.js";

/**
 * @param {object} options `{config, ...createAuthorizer options, sourceIp?}` or an authorizer
 * @returns {(req: any, res: any, next: (error?: unknown) => void) => void}
 */
export function edgeAuthz(options) {
  const { authorizer: given, sourceIp } = splitOptions(options);
  const authorizer = authorizerFrom(given, "edgeAuthz (express)");
  const ipOf = sourceIp ?? ((req) => req.ip ?? req.socket?.remoteAddress);
  return function edgeAuthzMiddleware(req, res, next) {
    let decided;
    try {
      decided = authorizer.authorize({ method: req.method, path: req.originalUrl ?? req.url, headers: req.headers, sourceIp: ipOf(req) });
    } catch (error) {
      decided = Promise.reject(error);
    }
    decided.then(
      (decision) => {
        if (decision.outcome === "allow") {
          req.auth = decision.context;
          next();
        } else {
          send(res, denial(decision));
        }
      },
      () => send(res, denial(null)),
    );
  };
}

function send(res, { status, headers, body }) {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(body);
}

export default edgeAuthz;
