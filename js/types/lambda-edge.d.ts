import type { AuthorizerOptions, ConfigInput } from "./index.js";

export interface CloudFrontHeaders {
  [name: string]: Array<{ key?: string; value: string }>;
}

export interface CloudFrontRequest {
  clientIp: string;
  headers: CloudFrontHeaders;
  method: string;
  querystring: string;
  uri: string;
  [member: string]: unknown;
}

export interface CloudFrontRequestEvent {
  Records: Array<{ cf: { config?: Record<string, unknown>; request: CloudFrontRequest } }>;
}

export interface CloudFrontResultResponse {
  status: string;
  statusDescription: string;
  headers: CloudFrontHeaders;
  body: string;
}

export interface LambdaEdgeBundle extends AuthorizerOptions {
  config: ConfigInput;
  /** Default `x-authz-`; incoming headers with it (any case, `-` and `_` alike) and method-override headers are removed before identity headers are added. */
  identityHeaderPrefix?: string;
  /** Default true; false removes `Authorization` from the forwarded request. */
  forwardAuthorization?: boolean;
}

/** Throws (`invalid_config`) at init on any configuration problem: the function then never allows. */
export declare function createHandler(
  bundle: LambdaEdgeBundle,
): (event: CloudFrontRequestEvent) => Promise<CloudFrontRequest | CloudFrontResultResponse>;
