import { Type } from '@sinclair/typebox';

/** The gateway's variables beyond the shared ones (GATEWAY_PORT / GATEWAY_HOST come from the bootstrap). */
export const GatewayConfig = Type.Object({
  ADMIN_TOKEN: Type.String({
    minLength: 1,
    default: 'oms-local-admin',
    secret: true,
    description: 'admin bearer token',
  }),
  GATEWAY_READ_LATENCY_TARGET_MS: Type.Integer({
    minimum: 1,
    maximum: 60_000,
    default: 1000,
    description: 'admission: GETs slower than this shrink the number served at once',
  }),
  GATEWAY_WRITE_LATENCY_TARGET_MS: Type.Integer({
    minimum: 1,
    maximum: 60_000,
    default: 5000,
    description: 'admission: other requests slower than this shrink the number served at once',
  }),
  GATEWAY_NICE: Type.Integer({
    minimum: -20,
    maximum: 19,
    default: -10,
    description:
      "scheduling priority of the gateway's event loop, so that it answers (and refuses) promptly on a saturated shared host; below 0 needs CAP_SYS_NICE",
  }),
  JAEGER_QUERY_URL: Type.String({
    pattern: '^https?://[^\\s]+$',
    default: 'http://127.0.0.1:16686',
    description: "console: Jaeger's query API, read for an order's traces",
  }),
  JAEGER_UI_URL: Type.String({
    pattern: '^(https?://[^\\s]+)?$',
    default: '',
    description:
      "console: Jaeger's own UI as a browser reaches it; empty: JAEGER_QUERY_URL when it serves the real UI",
  }),
  STRIPE_WEBHOOK_SECRET: Type.String({
    minLength: 1,
    default: 'whsec_oms_local_dev',
    secret: true,
    description: "console, development only: signs the pay and expire actions' webhooks (payment's secret)",
  }),
  CONSOLE_DIR: Type.String({
    default: '',
    description: 'console: the built bundle (empty: dist/apps/console beside the gateway bundle)',
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
