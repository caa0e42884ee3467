import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The console's pass to its event stream. A browser's EventSource cannot send an Authorization
 * header, so the console trades its admin token for a short-lived pass in an HttpOnly cookie that
 * is sent only to the stream's path. The pass is `<expiry ms>.<HMAC of it>` under a key derived
 * from the admin token: it needs no storage, works on every gateway instance with the same token,
 * and is void as soon as the token changes.
 */
export const STREAM_COOKIE = 'oms_console_stream';

export interface StreamPasses {
  issue(now?: number): { value: string; expiresAt: number };
  /** Constant-time check of a pass (or of nothing); true only for a pass of ours not yet expired. */
  verify(pass: string | undefined, now?: number): boolean;
}

export function streamPasses(adminToken: string, lifetimeMs: number): StreamPasses {
  const key = createHmac('sha256', adminToken).update('oms console stream pass').digest();
  const sign = (expiresAt: string) => createHmac('sha256', key).update(expiresAt).digest();
  return {
    issue(now = Date.now()) {
      const expiresAt = now + lifetimeMs;
      return { value: `${expiresAt}.${sign(String(expiresAt)).toString('base64url')}`, expiresAt };
    },
    verify(pass, now = Date.now()) {
      const [expiresAt = '', signature = ''] = (pass ?? '').split('.', 2);
      const given = Buffer.from(signature, 'base64url');
      const expected = sign(expiresAt);
      // Always compare (a buffer of the right length when the given one is not): no early exit to time.
      const equal = timingSafeEqual(given.length === expected.length ? given : Buffer.alloc(32), expected);
      return equal && given.length === expected.length && /^\d+$/.test(expiresAt) && Number(expiresAt) > now;
    },
  };
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
