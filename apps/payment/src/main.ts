import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import Stripe from 'stripe';
import { runService } from '@oms/service-kit';
import { PaymentServiceService } from '@oms/contracts';
import { paymentHandlers } from './handlers';
import { PaymentStore } from './payment-store';

const LOCAL_WEBHOOK_SECRET = 'whsec_oms_local_dev';
const LOCAL_SECRET_KEY = 'sk_test_oms_local';

void runService({
  name: 'payment',
  telemetry,
  config: Type.Object({
    STRIPE_API_URL: Type.String({ pattern: '^https?://[^\\s]+$', default: 'http://127.0.0.1:12111' }),
    STRIPE_SECRET_KEY: Type.String({ pattern: '^sk_(test|live)_\\S+$', default: LOCAL_SECRET_KEY, secret: true }),
    STRIPE_WEBHOOK_SECRET: Type.String({ pattern: '^whsec_\\S+$', default: LOCAL_WEBHOOK_SECRET, secret: true }),
  }),
  localSecrets: { STRIPE_WEBHOOK_SECRET: LOCAL_WEBHOOK_SECRET, STRIPE_SECRET_KEY: LOCAL_SECRET_KEY },
  async setup({ config, database, logger }) {
    const api = new URL(config.STRIPE_API_URL);
    const stripe = new Stripe(config.STRIPE_SECRET_KEY, {
      host: api.hostname,
      port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)),
      protocol: api.protocol === 'https:' ? 'https' : 'http',
      maxNetworkRetries: 0,
    });
    const store = await PaymentStore.open(await database());
    return {
      grpc: [
        {
          definition: PaymentServiceService,
          handlers: paymentHandlers({ stripe, store, webhookSecret: config.STRIPE_WEBHOOK_SECRET, logger }),
        },
      ],
    };
  },
});
