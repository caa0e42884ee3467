/* Helpers for this library's tests against the real broker and database; not exported by index.ts. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, type Channel, type ConfirmChannel } from 'amqplib';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { pino, type Logger } from 'pino';
import { ensureStack, stackAddresses } from '@oms/testing';
import { MessageBus, type MessageBusOptions } from '../src/message-bus';
import { eventsExchangeName, subscriptionQueues } from '../src/topology';

const run = promisify(execFile);

/** Silent unless TEST_LOG_LEVEL is set (e.g. `TEST_LOG_LEVEL=debug`). */
export function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export async function brokerAndDatabase(): Promise<{ amqpUrl: string; mongoUrl: string }> {
  await ensureStack();
  const addresses = await stackAddresses();
  return { amqpUrl: addresses.AMQP_URL!, mongoUrl: addresses.MONGO_URL! };
}

/** A real tracer provider with an in-memory exporter, registered globally like the services' SDK does. */
export function recordSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return exporter;
}

/** Buses of one test deployment, closed and their broker objects deleted afterwards. */
export class TestBuses {
  private readonly buses: MessageBus[] = [];
  private readonly subscriptions: { service: string; eventType: string }[] = [];

  constructor(
    readonly amqpUrl: string,
    readonly deployment: string,
    readonly retryDelaysMs = [100, 200],
  ) {}

  create(service: string, options: Partial<MessageBusOptions> = {}): MessageBus {
    const bus = new MessageBus({
      url: this.amqpUrl,
      deployment: this.deployment,
      service,
      logger: testLogger(),
      retryDelaysMs: this.retryDelaysMs,
      ...options,
    });
    const subscribe = bus.subscribe.bind(bus);
    bus.subscribe = (eventType, handler) => {
      this.subscriptions.push({ service, eventType });
      subscribe(eventType, handler);
    };
    this.buses.push(bus);
    return bus;
  }

  queues(service: string, eventType: string): ReturnType<typeof subscriptionQueues> {
    return subscriptionQueues(this.deployment, service, eventType, this.retryDelaysMs);
  }

  async cleanUp(): Promise<void> {
    await Promise.all(this.buses.map((bus) => bus.close()));
    const connection = await connect(this.amqpUrl);
    try {
      const channel = await connection.createChannel();
      for (const { service, eventType } of this.subscriptions) {
        const queues = this.queues(service, eventType);
        for (const queue of [queues.work, ...queues.retries.map((tier) => tier.queue), queues.dead])
          await channel.deleteQueue(queue);
      }
      await channel.deleteExchange(eventsExchangeName(this.deployment));
    } finally {
      await connection.close();
    }
  }
}

/** Opens a plain channel for what a test does behind the bus's back (queue checks, deletions). */
export async function withRawChannel<T>(amqpUrl: string, work: (channel: Channel) => Promise<T>): Promise<T> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    // A failed operation (e.g. checkQueue of a missing queue) closes the channel: let the call reject instead of crashing.
    channel.on('error', () => undefined);
    return await work(channel);
  } finally {
    await connection.close();
  }
}

/** Like withRawChannel, with publisher confirms: raw publishes the test must know arrived. */
export async function withRawConfirmChannel<T>(
  amqpUrl: string,
  work: (channel: ConfirmChannel) => Promise<T>,
): Promise<T> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    return await work(channel);
  } finally {
    await connection.close();
  }
}

/** The broker-side ids of the connections the bus opened under `name` (`<deployment>.<service>`). */
export async function brokerConnectionsNamed(name: string): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0]!);
}

/** Closes a connection from the broker's side, as an operator or a broker shutdown would. */
export async function closeBrokerConnection(pid: string): Promise<void> {
  await run('rabbitmqctl', ['-q', 'close_connection', pid, 'test: connection killed by the broker']);
}

/** A promise with its resolve exposed: lets a test hold a handler mid-flight. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
