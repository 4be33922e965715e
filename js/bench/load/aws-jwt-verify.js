// The peer in the load test's Express rows: the middleware an app writes with aws-jwt-verify
// (https://github.com/awslabs/aws-jwt-verify) when all it wants is "a genuine access token of
// our pool and client" — verification only, no policy, no route or group check, no source
// address. 401 for a missing, malformed, expired or forged token, as API Gateway's Cognito
// authorizer answers; `req.auth` the token's payload otherwise.
//
// `verify()` (async), not `verifySync`: it is what aws-jwt-verify's own Express example uses,
// and the only one that fetches the JWKS itself (on the first token, and again for a kid the
// cached JWKS lacks, at most once per 10 s: its SimplePenaltyBox) — the conditions edge-authz
// runs under here, which fetches the same document from the same loopback upstream and
// refetches for an unknown kid under its own rate limit. `verifySync` needs the JWKS handed in
// beforehand (`cacheJwks`) and never refetches.
//
// aws-jwt-verify derives the JWKS URI from the pool ID (https://cognito-idp.<region>...) and
// fetches over https only: its JWKS cache gets a fetcher that answers that URI, and no other,
// from the loopback upstream's http JWKS URL (`jwksUrl`). Nothing leaves 127.0.0.1.
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";

/** A fetcher for aws-jwt-verify's JWKS cache: `cognitoUri` is served from `jwksUrl`. */
function loopbackFetcher(cognitoUri, jwksUrl) {
  return {
    async fetch(uri) {
      if (uri !== cognitoUri) throw new Error(`aws-jwt-verify asked for ${uri}, not ${cognitoUri}`);
      const response = await fetch(jwksUrl);
      if (!response.ok) throw new Error(`${jwksUrl}: ${response.status}`);
      return response.arrayBuffer();
    },
  };
}

/**
 * @param {{ userPoolId: string, clientId: string, jwksUrl: string }} options
 * @returns {(req: any, res: any, next: () => void) => void}
 */
export function awsJwtVerify({ userPoolId, clientId, jwksUrl }) {
  const { jwksUri } = CognitoJwtVerifier.parseUserPoolId(userPoolId);
  const jwksCache = new SimpleJwksCache({ fetcher: loopbackFetcher(jwksUri, jwksUrl) });

  // The middleware proper: what an app writes.
  const verifier = CognitoJwtVerifier.create({ userPoolId, tokenUse: "access", clientId }, { jwksCache });
  const unauthorized = (res) => res.status(401).json({ message: "Unauthorized" });
  return function awsJwtVerifyMiddleware(req, res, next) {
    const [scheme, token] = (req.headers.authorization ?? "").split(" ");
    if (scheme !== "Bearer" || !token) return unauthorized(res);
    verifier.verify(token).then(
      (payload) => {
        req.auth = payload;
        next();
      },
      () => unauthorized(res),
    );
  };
}
