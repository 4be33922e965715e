// Signature checks with WebCrypto (`crypto.subtle`): Workers, Node >= 20, browsers.
// The core picks the key and the algorithm (never the token); this only verifies.

/**
 * What the core asks the host to verify. `keyId` is the core's stable id of the key (the
 * same for the same JWK): cache imported keys under it. `jwk` is the public JWK as JSON text;
 * it is absent only in inline checks (`verifySignatureSync`) for a `keyId` seen before.
 * @typedef {{ algorithm: string, keyId?: number, jwk?: string, signingInput: string | Uint8Array, signature: Uint8Array }} SignatureCheck
 */

/** WebCrypto parameters per JWS algorithm: [import params, verify params]. */
const ALGORITHMS = {
  RS256: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
  RS384: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, { name: "RSASSA-PKCS1-v1_5" }],
  RS512: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, { name: "RSASSA-PKCS1-v1_5" }],
  PS256: [
    { name: "RSA-PSS", hash: "SHA-256" },
    { name: "RSA-PSS", saltLength: 32 },
  ],
  PS384: [
    { name: "RSA-PSS", hash: "SHA-384" },
    { name: "RSA-PSS", saltLength: 48 },
  ],
  PS512: [
    { name: "RSA-PSS", hash: "SHA-512" },
    { name: "RSA-PSS", saltLength: 64 },
  ],
  ES256: [
    { name: "ECDSA", namedCurve: "P-256" },
    { name: "ECDSA", hash: "SHA-256" },
  ],
  ES384: [
    { name: "ECDSA", namedCurve: "P-384" },
    { name: "ECDSA", hash: "SHA-384" },
  ],
  EdDSA: [{ name: "Ed25519" }, { name: "Ed25519" }],
};

/** Imported keys are kept: importing costs more than verifying. */
const MAX_CACHED_KEYS = 64;

/**
 * A verifier backed by `crypto.subtle`, with a cache of imported keys.
 * @param {SubtleCrypto} [subtle]
 * @returns {(check: SignatureCheck) => Promise<boolean>}
 */
export function webCryptoVerifier(subtle = globalThis.crypto.subtle) {
  /** @type {Map<string, Promise<CryptoKey>>} */
  const keys = new Map();
  const encoder = new TextEncoder();
  return async function verifySignature({ algorithm, keyId, jwk, signingInput, signature }) {
    const params = ALGORITHMS[/** @type {keyof typeof ALGORITHMS} */ (algorithm)];
    if (!params) return false;
    // Keys are imported per algorithm (the import parameters differ).
    const cacheKey = `${algorithm}\n${keyId ?? jwk}`;
    let key = keys.get(cacheKey);
    if (!key) {
      if (jwk === undefined) return false;
      if (keys.size >= MAX_CACHED_KEYS) keys.clear();
      key = subtle.importKey("jwk", JSON.parse(jwk), params[0], false, ["verify"]);
      keys.set(cacheKey, key);
      key.catch(() => keys.delete(cacheKey));
    }
    const data = typeof signingInput === "string" ? encoder.encode(signingInput) : signingInput;
    return subtle.verify(params[1], await key, signature, data);
  };
}
