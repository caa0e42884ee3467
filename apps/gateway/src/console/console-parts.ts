import { resolve } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { Static } from '@sinclair/typebox';
import type { BaseServiceConfigType } from '@oms/config';
import { MessageBus, type DomainEvent } from '@oms/messaging';
import { RpcError } from '@oms/rpc';
import type { ServiceContext } from '@oms/service-kit';
import type { Backends } from '../backends';
import type { GatewayConfig } from '../config';
import { toOrderJson } from '../mappers';
import type { ConsoleContext } from './console-context';
import { jaegerUiUrl } from './jaeger';
import { OrderBoard } from './order-board';
import { ServiceHealth } from './service-health';
import { streamPasses } from './stream-pass';

type GatewayContext = ServiceContext<BaseServiceConfigType & Static<typeof GatewayConfig>>;

/** The events the board and the kitchen view follow while someone watches them. */
export const WATCHED_EVENTS = ['order.*', 'payment.*', 'kitchen.*'];
/**
 * What the board follows while nobody watches: the events that name a new or a paid order's
 * customer, enough to know which orders to read when a watcher comes. Every gateway instance gets
 * its own copy of each event it follows, so following all of them unwatched cost the broker and
 * every gateway six deliveries per paid order, for a console nobody had open.
 */
export const UNWATCHED_EVENTS = ['order.created', 'order.paid'];
/** How long a stream pass admits a new stream (a stream already open stays open). */
const STREAM_PASS_LIFETIME_MS = 10 * 60_000;
/** How long the answer to "is Jaeger's own UI there?" is reused. */
const JAEGER_UI_CHECK_MS = 60_000;

/**
 * The console's parts in a running gateway: the board fed by watches on the bus (broadcast queues
 * of this instance's own, so every instance sees every event it follows), Consul for the services
 * view, Jaeger for traces. `close` stops the board and its bus.
 */
export function consoleParts(
  context: GatewayContext,
  backends: Backends,
): { parts: ConsoleContext; close: () => Promise<void> } {
  const { config, logger } = context;
  // A bus of its own that only watches: it connects (and reconnects) in the background, so the
  // gateway serves without RabbitMQ, and closing it never waits for a connection that never came.
  const bus = new MessageBus({
    url: config.AMQP_URL,
    deployment: config.OMS_ENV,
    service: 'gateway',
    logger,
  });
  const toBoard = (event: DomainEvent) => board.onEvent(event);
  // The unwatched feed stays on while the full one comes and goes, so no new order is missed while
  // they change over; the board takes an event that comes by both only once.
  bus.watch(UNWATCHED_EVENTS, toBoard);
  let stopWatchedFeed: (() => Promise<void>) | undefined;
  const board = new OrderBoard({
    readOrder: async (customerId, orderId) => {
      try {
        return toOrderJson(await backends.order.getOrder({ customerId, orderId }));
      } catch (error) {
        if (error instanceof RpcError && error.code === status.NOT_FOUND) return undefined;
        throw error;
      }
    },
    onError: (error, orderId) => logger.warn({ err: error, orderId }, 'console board: order not read'),
    onWatchedChange: (watched) => {
      if (watched) {
        stopWatchedFeed ??= bus.watch(WATCHED_EVENTS, toBoard);
        return;
      }
      void stopWatchedFeed?.();
      stopWatchedFeed = undefined;
    },
  });
  bus.start().catch((error: unknown) => logger.warn({ err: error }, 'console board: no live updates'));
  const health = new ServiceHealth(config.CONSUL_URL, `env-${config.OMS_ENV}`);
  let uiCheck: { at: number; url: Promise<string | null> } | undefined;
  const parts: ConsoleContext = {
    board,
    passes: streamPasses(config.ADMIN_TOKEN, STREAM_PASS_LIFETIME_MS),
    services: () => health.services(),
    jaeger: {
      queryUrl: config.JAEGER_QUERY_URL,
      uiUrl: () => {
        if (!uiCheck || Date.now() - uiCheck.at > JAEGER_UI_CHECK_MS)
          uiCheck = { at: Date.now(), url: jaegerUiUrl(config.JAEGER_UI_URL, config.JAEGER_QUERY_URL) };
        return uiCheck.url;
      },
    },
    development: config.NODE_ENV !== 'production',
    webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    // The gateway runs as dist/apps/gateway/main.js; the console is built beside it.
    bundleDir: config.CONSOLE_DIR ? resolve(config.CONSOLE_DIR) : resolve(__dirname, '../console'),
  };
  return {
    parts,
    close: async () => {
      board.close();
      await bus.close();
    },
  };
}
