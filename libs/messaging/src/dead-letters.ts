import type { ChannelModel, GetMessage } from 'amqplib';
import type { ConfirmPublisher } from './confirm-publisher';
import { decodeEvent } from './event';
import { copyOptions, failedAttempts, lastError, REPLAY_HEADERS } from './message-copy';
import { traceIdFromHeaders } from './tracing';

export interface DeadLetter {
  eventId: string;
  type: string;
  lastError: string;
  attempts: number;
  traceId: string;
}

export interface DeadLetterQueueReport {
  queue: string;
  count: number;
  newest: DeadLetter[];
}

/** AMQP cannot peek, so listing takes messages without acking them and hands them back; this bounds the walk. */
const MAX_MESSAGES_SCANNED = 10_000;

/**
 * Lists a dead-letter queue: its length and its newest `limit` messages, newest first. Messages are
 * fetched unacked and return to the queue, in their order, when the browsing channel closes.
 */
export async function inspectDeadLetters(
  connection: ChannelModel,
  queue: string,
  limit: number,
): Promise<DeadLetterQueueReport> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined); // a closed channel rejects the pending call, which we report
  try {
    const { messageCount } = await channel.checkQueue(queue);
    const newest: DeadLetter[] = [];
    for (let scanned = 0; scanned < Math.min(messageCount, MAX_MESSAGES_SCANNED); scanned++) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      newest.push(describe(message));
      if (newest.length > limit) newest.shift();
    }
    return { queue, count: messageCount, newest: newest.reverse() };
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Moves the messages present now from `deadQueue` back to `workQueue`, attempts reset, each acked
 * only after the broker confirmed its copy (a failure leaves it in the dead letters, never lost).
 * Messages that fail again and come back meanwhile are not moved twice: the walk stops at the
 * count taken at the start.
 */
export async function moveDeadLetters(
  connection: ChannelModel,
  publisher: ConfirmPublisher,
  deadQueue: string,
  workQueue: string,
): Promise<number> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    const { messageCount } = await channel.checkQueue(deadQueue);
    let moved = 0;
    while (moved < messageCount) {
      const message = await channel.get(deadQueue, { noAck: false });
      if (!message) break;
      await publisher.publish('', workQueue, message.content, copyOptions(message, REPLAY_HEADERS), {
        mandatory: true,
      });
      channel.ack(message);
      moved++;
    }
    return moved;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

function describe(message: GetMessage): DeadLetter {
  const headers = message.properties.headers;
  let eventId = typeof message.properties.messageId === 'string' ? message.properties.messageId : '';
  let type = typeof message.properties.type === 'string' ? message.properties.type : '';
  try {
    ({ id: eventId, type } = decodeEvent(message.content));
  } catch {
    // a malformed body: the message properties are all we have
  }
  return {
    eventId,
    type,
    lastError: lastError(headers),
    attempts: failedAttempts(headers),
    traceId: traceIdFromHeaders(headers),
  };
}
