import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Options } from 'amqplib';

/** Marks a mandatory publish so a broker `basic.return` can be matched to its confirm. */
const PUBLISH_ID_HEADER = 'x-oms-publish-id';

/**
 * Publishing on a confirm channel as a promise: resolves once the broker has taken responsibility
 * for the message, rejects when it nacks, when the channel dies first, or — for `mandatory`
 * publishes — when no queue accepted it (RabbitMQ confirms unroutable messages too, after returning them).
 */
export class ConfirmPublisher {
  private readonly returned = new Set<string>();

  constructor(private readonly channel: ConfirmChannel) {
    // RabbitMQ sends basic.return before the basic.ack of the same message, so the id is here in time.
    channel.on('return', (message) => {
      const publishId: unknown = message.properties.headers?.[PUBLISH_ID_HEADER];
      if (typeof publishId === 'string') this.returned.add(publishId);
    });
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
    { mandatory = false } = {},
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const publishId = mandatory ? randomUUID() : undefined;
      const headers = publishId ? { ...options.headers, [PUBLISH_ID_HEADER]: publishId } : options.headers;
      try {
        this.channel.publish(
          exchange,
          routingKey,
          content,
          { ...options, headers, mandatory },
          (error: unknown) => {
            if (error) reject(error instanceof Error ? error : new Error(String(error)));
            else if (publishId && this.returned.delete(publishId))
              reject(
                new Error(
                  `no queue accepted the message (exchange '${exchange}', routing key '${routingKey}')`,
                ),
              );
            else resolve();
          },
        );
      } catch (error) {
        // amqplib throws synchronously once the channel is closed.
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }
}
