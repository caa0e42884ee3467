// Ceiling: the cheapest JSON handler in the gateway's framework, in its own process.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/ceiling', async () => ({ ok: true }));
// The cheapest refusal: what the sustained scenario's clients measure when nothing is admitted.
app.post('/refuse', async (_request, reply) =>
  reply
    .code(503)
    .header('retry-after', String(1 + Math.floor(Math.random() * 3)))
    .send({ error: { code: 'unavailable', message: 'ceiling: refused' } }),
);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url: `${address}/ceiling` })}\n`);
