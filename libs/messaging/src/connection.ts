import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from '@oms/logging';

/**
 * One AMQP connection that heals itself: amqplib's built-in recovery reconnects with exponential
 * backoff and jitter after any loss (broker restart, network, a connection closed by an operator)
 * and runs `onConnect` on every fresh connection, so channels, topology and consumers come back too.
 */
export interface BrokerConnectionOptions {
  url: string;
  /** Shown by the broker (`rabbitmqctl list_connections client_properties`), to find who is who. */
  name: string;
  logger: Logger;
  /** Builds everything on a fresh connection. If it throws, that connection is closed and retried. */
  onConnect: (connection: ChannelModel) => Promise<void>;
}

/** 250 ms, 500 ms, 1 s ... capped at 10 s, each ±30 % so a fleet does not reconnect in lockstep. */
export const RECONNECT_BACKOFF = { initialDelay: 250, maxDelay: 10_000, factor: 2, jitter: 0.3 } as const;

/** Heartbeats detect a dead peer (a broker host gone without closing the socket) in ~2 × this. */
const HEARTBEAT_SECONDS = 15;

export async function openBrokerConnection(
  options: BrokerConnectionOptions,
): Promise<RecoveringChannelModel> {
  const { logger } = options;
  const connection = await connect(withDefaultHeartbeat(options.url), {
    clientProperties: { connection_name: options.name },
    recovery: {
      ...RECONNECT_BACKOFF,
      // Resolve at once, so close() can stop a first connection that never succeeds.
      waitForConnect: false,
      setup: (fresh: ChannelModel) => setUp(fresh, options),
    },
  });
  connection.on('connect', () => logger.info({ connection: options.name }, 'connected to RabbitMQ'));
  connection.on('disconnect', (error: Error) =>
    logger.warn({ err: error, connection: options.name }, 'lost the RabbitMQ connection'),
  );
  connection.on('connect-failed', (error: Error) =>
    logger.warn({ err: error, connection: options.name }, 'could not connect to RabbitMQ'),
  );
  connection.on('reconnect-scheduled', (info: { attempt: number; delay: number }) =>
    logger.info({ attempt: info.attempt, delayMs: info.delay }, 'reconnecting to RabbitMQ'),
  );
  // Without a listener an 'error' event would crash the process; the 'disconnect' that follows recovers.
  connection.on('error', (error: Error) => logger.warn({ err: error }, 'RabbitMQ connection error'));
  connection.on('blocked', (reason: string) =>
    logger.warn({ reason }, 'RabbitMQ blocked publishing (resource alarm)'),
  );
  connection.on('unblocked', () => logger.info('RabbitMQ unblocked publishing'));
  return connection;
}

/**
 * Runs `onConnect` on a fresh connection. amqplib (2.3) listens for a fresh connection's errors only
 * once its setup has succeeded: a socket error during setup (the broker restarting meanwhile)
 * would be an 'error' event nobody listens to, which ends the process. It is logged here instead;
 * the setup then fails and amqplib connects again.
 */
async function setUp(
  fresh: ChannelModel,
  { name, logger, onConnect }: BrokerConnectionOptions,
): Promise<void> {
  let settingUp = true;
  fresh.on('error', (error: Error) => {
    if (settingUp)
      logger.warn({ err: error, connection: name }, 'RabbitMQ connection error while setting up');
  });
  try {
    await onConnect(fresh);
  } finally {
    settingUp = false;
  }
}

function withDefaultHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
  return parsed.toString();
}
