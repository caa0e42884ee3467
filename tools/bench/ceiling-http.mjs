// Ceiling: the cheapest JSON handler in the gateway's framework, in its own process.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/ceiling', async () => ({ ok: true }));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url: `${address}/ceiling` })}\n`);
