// The entry of the traffic thread (see TrafficThread): runs Traffic and answers its outcome.
import { parentPort } from 'node:worker_threads';
import { raiseThreadPriority } from '@oms/testing';
import type { FromTraffic, ToTraffic } from './traffic-thread';
import { Traffic } from './traffic';

/** Scheduling priority asked for: the generator must get the CPU it needs before the system does. */
const GENERATOR_NICE = -10;

const port = parentPort;
if (!port) throw new Error('traffic-worker.ts runs as a worker thread (TrafficThread)');
const reply = (message: FromTraffic) => port.postMessage(message);
let gateways: string[] = [];
let traffic: Traffic | undefined;

port.on('message', (message: ToTraffic) => {
  switch (message.kind) {
    case 'start': {
      gateways = message.gateways;
      const priority = raiseThreadPriority(GENERATOR_NICE);
      traffic = new Traffic({ ...message.options, gateways: () => gateways });
      traffic.start();
      reply({ kind: 'started', priority });
      return;
    }
    case 'gateways':
      gateways = message.gateways;
      return;
    case 'stop': {
      const stopped = traffic;
      if (!stopped) throw new Error('stop before start');
      void stopped.stop().then(() => {
        const { orders, seconds, violations, counts } = stopped;
        reply({ kind: 'stopped', orders, seconds, violations, counts });
      });
    }
  }
});
