// Ceiling: get-order through the same libraries with nothing of ours, in two processes like the
// real path. `server` is a grpc-js server of the order service's GetOrder (the generated
// definition) that reads the order with the driver's findOne by _id; `gateway` is a Fastify route
// that calls it over grpc-js and answers the order as JSON. No tracing, admission, policies,
// validation, metrics or logging: what our layers add is the real get-order's cost above this one.
import Fastify from 'fastify';
import {
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  status,
  type ServiceError,
} from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import {
  OrderServiceService,
  orderStatusFromJSON,
  orderStatusToJSON,
  type GetOrderRequest,
  type Order,
} from '@oms/contracts';

interface StoredOrder extends Omit<Order, 'status' | 'history' | 'createdAt' | 'updatedAt'> {
  _id: string;
  status: string;
  history: { status: string; at: Date }[];
  createdAt: Date;
  updatedAt: Date;
}

const statusOf = (name: string) => orderStatusFromJSON(`ORDER_STATUS_${name.toUpperCase()}`);
const statusName = (value: Order['status']) =>
  orderStatusToJSON(value)
    .replace(/^ORDER_STATUS_/, '')
    .toLowerCase();
const announce = (info: Record<string, string>) => process.stdout.write(`${JSON.stringify(info)}\n`);

async function serveOrders(mongoUrl: string, database: string): Promise<void> {
  const client = new MongoClient(mongoUrl, { maxPoolSize: 10, retryWrites: false });
  await client.connect();
  const orders = client.db(database).collection<StoredOrder>('orders');
  const getOrder = async ({ orderId, customerId }: GetOrderRequest): Promise<Order | undefined> => {
    const doc = await orders.findOne({ _id: orderId }, { projection: { outbox: 0 } });
    if (!doc || doc.customerId !== customerId) return undefined;
    // The order store's mapping, written again: the ceiling runs none of our code.
    return {
      id: doc._id,
      customerId: doc.customerId,
      status: statusOf(doc.status),
      items: doc.items,
      totalCents: doc.totalCents,
      currency: doc.currency,
      paymentUrl: doc.paymentUrl ?? undefined,
      history: doc.history.map((step) => ({ status: statusOf(step.status), at: step.at.toISOString() })),
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString(),
    };
  };
  const unimplemented = (_call: unknown, callback: (error: Partial<ServiceError>) => void) =>
    callback({ code: status.UNIMPLEMENTED });
  const server = new Server();
  server.addService(OrderServiceService, {
    createOrder: unimplemented,
    listOrders: unimplemented,
    cancelOrder: unimplemented,
    getOrder: (
      call: { request: GetOrderRequest },
      callback: (e: Partial<ServiceError> | null, o?: Order) => void,
    ) =>
      getOrder(call.request).then(
        (order) => (order ? callback(null, order) : callback({ code: status.NOT_FOUND })),
        (error: unknown) => callback({ code: status.INTERNAL, details: String(error) }),
      ),
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    announce({ target: `127.0.0.1:${port}` });
  });
}

type GetOrderCall = (
  request: GetOrderRequest,
  options: { deadline: number },
  callback: (error: ServiceError | null, order?: Order) => void,
) => void;

async function serveHttp(target: string): Promise<void> {
  const Client = makeGenericClientConstructor(OrderServiceService, 'order');
  const client = new Client(target, credentials.createInsecure()) as unknown as { getOrder: GetOrderCall };
  const app = Fastify({ logger: false });
  app.get<{ Params: GetOrderRequest }>('/v1/customers/:customerId/orders/:orderId', (request, reply) => {
    client.getOrder(request.params, { deadline: Date.now() + 5000 }, (error, order) => {
      if (error || !order)
        return reply.code(error?.code === status.NOT_FOUND ? 404 : 500).send({ error: 'failed' });
      return reply.send({
        ...order,
        status: statusName(order.status),
        history: order.history.map((step) => ({ status: statusName(step.status), at: step.at })),
        paymentUrl: order.paymentUrl ?? null,
      });
    });
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  announce({ url: address });
}

const [role, ...args] = process.argv.slice(2);
if (role === 'server') void serveOrders(args[0]!, args[1]!);
else if (role === 'gateway') void serveHttp(args[0]!);
else throw new Error('usage: ceiling-get-order.ts server <mongoUrl> <database> | gateway <grpcTarget>');
