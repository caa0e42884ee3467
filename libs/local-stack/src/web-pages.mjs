// The pages `npm start` prints: each one opens something useful in a browser (the console's
// browser test opens every one of them). A component without a web page of its own is printed as
// an address, not as a URL.
import { componentAddresses } from './components.mjs';
import { httpGet } from './probes.mjs';

/** What a Jaeger built from its Go module serves instead of its UI (the UI's assets are not in the module). */
const JAEGER_PLACEHOLDER = 'This is not the Jaeger UI you are looking for';

/**
 * @param {{ gatewayUrl: string, env?: NodeJS.ProcessEnv }} options
 * @returns {Promise<{ name: string, url: string | null, address?: string, note: string, shows: string }[]>}
 *   `shows`: text the page has once loaded; `url` null: not a web page (`address` says where it is).
 */
export async function webPages({ gatewayUrl, env = process.env }) {
  const addresses = componentAddresses(env);
  const gateway = gatewayUrl.replace(/\/+$/, '');
  const jaeger = addresses.JAEGER_QUERY_URL.replace(/\/+$/, '');
  const jaegerPage = await httpGet(`${jaeger}/search`, { timeoutMs: 2_000 });
  const jaegerUi = jaegerPage.status === 200 && !jaegerPage.body.includes(JAEGER_PLACEHOLDER);
  const amqp = new URL(addresses.AMQP_URL);
  const management = `http://${amqp.hostname}:15672`;
  const managed = (await httpGet(management, { timeoutMs: 1_000 })).status === 200;
  return [
    { name: 'Console', url: `${gateway}/console/`, note: 'admin token: oms-local-admin', shows: 'OMS' },
    { name: 'Gateway', url: `${gateway}/v1/menu`, note: 'the menu with live stock (JSON)', shows: '"items"' },
    { name: 'OpenAPI', url: `${gateway}/openapi.json`, note: 'the API contract', shows: '"openapi"' },
    jaegerUi
      ? { name: 'Jaeger', url: `${jaeger}/search`, note: 'search by tag order.id=<orderId>', shows: 'Jaeger' }
      : {
          name: 'Traces',
          url: `${gateway}/console/traces`,
          note: "the console's trace view (this Jaeger has its API only; Docker's has a UI)",
          shows: 'Traces',
        },
    {
      name: 'Jaeger API',
      url: `${jaeger}/api/services`,
      note: 'services that sent traces (JSON)',
      shows: '"data"',
    },
    {
      name: 'Consul',
      url: `${addresses.CONSUL_URL.replace(/\/+$/, '')}/ui/`,
      note: 'services and health',
      shows: 'Consul',
    },
    managed
      ? { name: 'RabbitMQ', url: management, note: 'management, guest / guest', shows: 'RabbitMQ' }
      : {
          name: 'RabbitMQ',
          url: null,
          address: `${amqp.hostname}:${amqp.port || 5672}`,
          note: 'AMQP; this broker has no management UI (queues and dead letters: the console)',
          shows: '',
        },
  ];
}
