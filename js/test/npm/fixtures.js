// Shared by the package tests: the Cognito-shaped pool of the conformance suite, its tokens,
// and the seed's pet-veterinarian policy.
import { suiteKeys, tokenOf } from "../support/suite.js";

export const keys = suiteKeys();
export const NOW = 1767225600;
export const POOL = "us-east-1_SuitePool1";
export const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
export const VET_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PetStore-API",
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: ["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*"],
      Condition: { IpAddress: { "aws:SourceIp": ["192.0.2.0/24", "127.0.0.0/8"] } },
    },
  ],
};

/** The edge-authz configuration for the pool, JWKS at `jwksUri`. */
export function poolConfig(jwksUri, extra = {}) {
  return { issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["suite-client"], jwksUri }], ...extra };
}

export function accessToken({
  kid = "suite-rsa-1",
  sub = "a1b2c3d4-0000-4000-8000-000000000001",
  groups = ["pet-veterinarian"],
  exp = NOW + 3600,
  iat = NOW - 60,
} = {}) {
  return tokenOf(
    {
      key: kid,
      claims: {
        iss: ISSUER,
        sub,
        "cognito:groups": groups,
        token_use: "access",
        client_id: "suite-client",
        username: "cognitouser",
        scope: "aws.cognito.signin.user.admin",
        iat,
        exp,
      },
    },
    keys,
  );
}
