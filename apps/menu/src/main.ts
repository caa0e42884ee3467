import { telemetry } from './instrument';
import { runGrpcService } from '@oms/service-kit';
import { MenuServiceService } from '@oms/contracts';
import { menuHandlers } from './handlers';
import { MenuStore } from './menu-store';

void runGrpcService({
  name: 'menu',
  telemetry,
  async setup({ database }) {
    const store = await MenuStore.open(await database());
    return { grpc: [{ definition: MenuServiceService, handlers: menuHandlers(store) }] };
  },
});
