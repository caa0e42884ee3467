import type { KitchenServiceService } from '@oms/contracts';
import { invalidArgument, type UnaryHandlers } from '@oms/rpc';
import { TICKET_STATUSES, type TicketStore } from './ticket-store';

export function kitchenHandlers(store: TicketStore): UnaryHandlers<typeof KitchenServiceService> {
  return {
    async listTickets({ status, orderId }) {
      if (status && !(TICKET_STATUSES as readonly string[]).includes(status)) {
        throw invalidArgument(`status must be one of ${TICKET_STATUSES.join(', ')}`);
      }
      return { tickets: await store.list({ status, orderId }) };
    },
  };
}
