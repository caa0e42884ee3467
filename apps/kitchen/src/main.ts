import { telemetry } from './instrument';
import { runService } from '@oms/service-kit';
import { KitchenServiceService } from '@oms/contracts';
import { kitchenHandlers } from './handlers';
import { TicketStore } from './ticket-store';

void runService({
  name: 'kitchen',
  telemetry,
  async setup({ database }) {
    const store = await TicketStore.open(await database());
    return { grpc: [{ definition: KitchenServiceService, handlers: kitchenHandlers(store) }] };
  },
});
