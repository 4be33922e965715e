// Identity headers sent to the origin, shared by the Worker, Lambda@Edge and Node adapters.

/** `clientId` → `client-id`; anything but letters, digits and dashes → `-`. */
export function headerName(key) {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
}

/** Printable ASCII as is; `%`, controls and non-ASCII percent-encoded (UTF-8), unambiguously. */
export function headerValue(value) {
  return String(value).replace(/[^\x20-\x24\x26-\x7e]+/gu, (run) => encodeURIComponent(run));
}

/** The JSON body answered when the authorizer itself cannot decide. */
export const UNAVAILABLE_BODY = JSON.stringify({ message: "Service Unavailable" });
