import { Type } from '@sinclair/typebox';

/** The gateway's variables beyond the shared ones (GATEWAY_PORT / GATEWAY_HOST come from the bootstrap). */
export const GatewayConfig = Type.Object({
  ADMIN_TOKEN: Type.String({
    minLength: 1,
    default: 'oms-local-admin',
    secret: true,
    description: 'admin bearer token',
  }),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({
    minimum: 24,
    maximum: 24 * 30,
    default: 24,
    description: 'how long an Idempotency-Key replays its response (the API promises at least 24 h)',
  }),
});

/** Well-known local values that production refuses. */
export const GATEWAY_LOCAL_SECRETS = { ADMIN_TOKEN: 'oms-local-admin' };
