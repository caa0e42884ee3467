import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { ChannelModel } from 'amqplib';
import { waitFor } from '@oms/testing';
import { openBrokerConnection } from './connection';
import { brokerAndDatabase, testLogger } from '../test/test-support';

/** The socket under a fresh connection (amqplib keeps it as `connection.stream`). */
const socketOf = (model: ChannelModel) =>
  (model as unknown as { connection: { stream: Socket } }).connection.stream;

test(
  'a connection that fails while being set up is made again, and the process lives on',
  { timeout: 30_000 },
  async () => {
    const { amqpUrl } = await brokerAndDatabase();
    let setups = 0;
    let connected = 0;
    const connection = await openBrokerConnection({
      url: amqpUrl,
      name: 'setup-failure-test',
      logger: testLogger(),
      onConnect: async (fresh) => {
        setups++;
        if (setups > 1) return;
        // As when the broker goes away mid-setup: the socket fails under amqplib, which has no
        // listener of its own on the fresh connection yet.
        socketOf(fresh).destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
        await fresh.createChannel();
      },
    });
    connection.on('connect', () => connected++);
    try {
      await waitFor('a second setup that succeeds', () => connected === 1, { timeoutMs: 10_000 });
      assert.equal(setups, 2, 'the failed setup, then the one that succeeded');
      const channel = await connection.createChannel();
      await channel.close();
    } finally {
      await connection.close();
    }
  },
);
