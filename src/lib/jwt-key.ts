const keys = new Map<string, Promise<CryptoKey>>();

/**
 * The HS256 key as a CryptoKey, imported once per secret: hono/jwt would otherwise import the
 * raw secret again on every sign and verify, which shows up on the hot path of every request.
 */
export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keys.set(secret, key);
  }
  return key;
}
