import { status } from '@grpc/grpc-js';
import type { DeadLetterServiceService } from '@oms/contracts';
import type { MessageBus } from '@oms/messaging';
import { RpcError, type UnaryHandlers } from '@oms/rpc';

/** The admin view of a service's dead-letter queues, served by every service that consumes events. */
export function deadLetterHandlers(bus: MessageBus): UnaryHandlers<typeof DeadLetterServiceService> {
  return {
    async listDeadLetters({ limit }) {
      const queues = await bus.listDeadLetters(limit > 0 ? Math.min(limit, 100) : 10);
      return { queues };
    },
    async replayDeadLetters({ queue }) {
      try {
        return { replayed: await bus.replayDeadLetters(queue) };
      } catch (error) {
        if (error instanceof Error && /unknown|not one of|no such/i.test(error.message)) {
          throw new RpcError(status.NOT_FOUND, 'not_found', `no dead-letter queue ${queue} here`);
        }
        throw error;
      }
    },
  };
}
