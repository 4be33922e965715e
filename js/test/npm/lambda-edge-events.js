// CloudFront viewer-request events in the shape AWS documents for Lambda@Edge
// ("Lambda@Edge event structure": Records[0].cf.config + cf.request, headers keyed by
// lowercase name, each a list of {key, value}).

/**
 * @param {{ token?: string, clientIp?: string, uri?: string, querystring?: string, method?: string, extraHeaders?: Record<string, string> }} options
 */
export function viewerRequest({
  token,
  clientIp = "203.0.113.178",
  uri = "/petstore/v1/pets",
  querystring = "",
  method = "GET",
  extraHeaders = {},
} = {}) {
  const headers = {
    host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
    "user-agent": [{ key: "User-Agent", value: "curl/8.5.0" }],
    accept: [{ key: "accept", value: "*/*" }],
  };
  if (token !== undefined) headers.authorization = [{ key: "Authorization", value: `Bearer ${token}` }];
  for (const [name, value] of Object.entries(extraHeaders)) headers[name.toLowerCase()] = [{ key: name, value }];
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d111111abcdef8.cloudfront.net",
            distributionId: "EDFDVBD6EXAMPLE",
            eventType: "viewer-request",
            requestId: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
          },
          request: { clientIp, headers, method, querystring, uri },
        },
      },
    ],
  };
}
