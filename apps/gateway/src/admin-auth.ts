import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-errors';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>` against the admin token. Both sides are hashed first so
 * the comparison takes the same time whatever the length or content of what was sent.
 */
export function createAdminAuth(adminToken: string): (authorization: string | undefined) => void {
  const expected = digest(adminToken);
  return (authorization) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    const given = digest(match?.[1] ?? '');
    // Compare even when the header is absent or malformed: no early exit to time.
    const equal = timingSafeEqual(given, expected);
    if (!match || !equal) {
      throw new HttpError(401, 'unauthenticated', 'a valid admin bearer token is required', undefined, {
        'www-authenticate': 'Bearer realm="oms-admin"',
      });
    }
  };
}
