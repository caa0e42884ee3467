// Health probes: each makes a real connection to the component and answers true/false (never throws).
import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export async function httpGet(url, { headers, timeoutMs = 2_000 } = {}) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, body };
  } catch (error) {
    return { status: 0, body: '', error };
  }
}

export function tcpOpen(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Consul: the agent answers and a leader is elected. */
export async function consulHealthy(consulUrl) {
  const { status, body } = await httpGet(new URL('/v1/status/leader', consulUrl));
  if (status !== 200) return false;
  try {
    return typeof JSON.parse(body) === 'string' && JSON.parse(body).length > 0;
  } catch {
    return false;
  }
}

/** RabbitMQ: a full AMQP handshake (login included), then a clean close. Returns the broker version. */
export async function amqpHealthy(amqpUrl, timeoutMs = 2_000) {
  const amqp = require('amqplib');
  try {
    const conn = await amqp.connect(amqpUrl, { timeout: timeoutMs });
    conn.on('error', () => {});
    const version = String(conn.connection.serverProperties?.version ?? 'unknown');
    await conn.close().catch(() => {});
    return { version };
  } catch {
    return false;
  }
}

/** MongoDB wire protocol: `ping`, then `buildInfo` to tell mongod from FerretDB. */
export async function mongoHealthy(mongoUrl, timeoutMs = 2_000) {
  // a closed port answers at once; server selection would wait out its whole timeout
  const single = /^mongodb:\/\/(?:[^@/]*@)?([^/,?]+)(?:[/?]|$)/.exec(mongoUrl);
  if (single) {
    const { hostname, port } = new URL(`mongodb://${single[1]}`);
    if (!(await tcpOpen(hostname.replace(/^\[|\]$/g, ''), Number(port || 27017), timeoutMs))) return false;
  }
  const { MongoClient } = require('mongodb');
  const client = new MongoClient(mongoUrl, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    maxPoolSize: 1,
    monitorCommands: false,
  });
  try {
    await client.connect();
    const admin = client.db('admin');
    await admin.command({ ping: 1 });
    const info = await admin.command({ buildInfo: 1 }).catch(() => ({}));
    const server = info.ferretdbVersion
      ? `ferretdb ${info.ferretdbVersion}`
      : info.version
        ? `mongod ${info.version}`
        : 'unknown';
    return { server };
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

/** Jaeger: the query API answers and the OTLP gRPC receiver accepts connections. */
export async function jaegerHealthy(queryUrl, otlpEndpoint) {
  const { status } = await httpGet(new URL('/api/services', queryUrl));
  if (status !== 200) return false;
  const { hostname, port } = new URL(otlpEndpoint);
  return tcpOpen(hostname, port || 4317);
}

/** stripe-mock: an authenticated API call returns the fixture list. */
export async function stripeHealthy(stripeUrl) {
  const { status } = await httpGet(new URL('/v1/customers', stripeUrl), {
    headers: { Authorization: 'Bearer sk_test_123' },
  });
  return status === 200;
}
