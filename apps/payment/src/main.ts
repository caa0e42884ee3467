import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import Stripe from 'stripe';
import { runGrpcService } from '@oms/service-kit';
import { EventTypes, isOrderCreated, PaymentServiceService } from '@oms/contracts';
import { captureTraceContext } from '@oms/telemetry';
import { Checkout, stripeConnection } from './checkout';
import { paymentHandlers } from './handlers';
import { newPayment, PaymentStore } from './payment-store';
import { SESSION_RETRY_IDLE_MS, SessionCreator } from './session-creator';
import { StripeEventHandler } from './stripe-events';

const LOCAL_WEBHOOK_SECRET = 'whsec_oms_local_dev';
const LOCAL_SECRET_KEY = 'sk_test_omslocal';

void runGrpcService({
  name: 'payment',
  telemetry,
  config: Type.Object({
    STRIPE_API_URL: Type.String({ pattern: '^https?://[^\\s]+$', default: 'http://127.0.0.1:12111' }),
    STRIPE_SECRET_KEY: Type.String({
      pattern: '^sk_(test|live)_\\S+$',
      default: LOCAL_SECRET_KEY,
      secret: true,
    }),
    STRIPE_WEBHOOK_SECRET: Type.String({
      pattern: '^whsec_\\S+$',
      default: LOCAL_WEBHOOK_SECRET,
      secret: true,
    }),
    CHECKOUT_SUCCESS_URL: Type.String({ default: 'http://127.0.0.1:8080/paid?order={ORDER_ID}' }),
    CHECKOUT_CANCEL_URL: Type.String({ default: 'http://127.0.0.1:8080/cancelled?order={ORDER_ID}' }),
    PAYMENT_RETRY_SWEEP_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
  }),
  localSecrets: { STRIPE_WEBHOOK_SECRET: LOCAL_WEBHOOK_SECRET, STRIPE_SECRET_KEY: LOCAL_SECRET_KEY },
  async setup({ config, database, logger, messaging, every }) {
    const api = new URL(config.STRIPE_API_URL);
    const stripe = new Stripe(config.STRIPE_SECRET_KEY, {
      ...stripeConnection(api),
      maxNetworkRetries: 0, // our policy retries, with the same idempotency key
      timeout: 5000,
    });
    const db = await database();
    const store = await PaymentStore.open(db, messaging.relayOutbox);
    const checkout = new Checkout(stripe, {
      apiUrl: api,
      successUrl: config.CHECKOUT_SUCCESS_URL,
      cancelUrl: config.CHECKOUT_CANCEL_URL,
    });
    const events = await StripeEventHandler.open(db, store, logger);
    const bus = await messaging.bus();
    const intervalMs = config.PAYMENT_RETRY_SWEEP_MS;
    const retries = every(
      'checkout session retries',
      { minMs: intervalMs, maxMs: SESSION_RETRY_IDLE_MS },
      () => sessions.retryDue(),
    );
    const sessions = new SessionCreator(store, checkout, logger, { intervalMs, loop: retries }, bus);

    // A repeat asks Stripe again under the same idempotency key and finds the payment recorded
    // (its _id is the order's): it changes nothing, so this consumer needs no inbox.
    bus.on(
      EventTypes.orderCreated,
      isOrderCreated,
      (order) => sessions.firstAttempt(newPayment(order, captureTraceContext())),
      { idempotentWrite: true },
    );

    return {
      grpc: [
        {
          definition: PaymentServiceService,
          handlers: paymentHandlers({ stripe, store, events, webhookSecret: config.STRIPE_WEBHOOK_SECRET }),
        },
      ],
    };
  },
});
