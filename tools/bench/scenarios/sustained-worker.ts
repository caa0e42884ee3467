// The entry of the sustained scenario's generator thread (see driveOnGeneratorThread).
import { parentPort, workerData } from 'node:worker_threads';
import { raiseThreadPriority } from '@oms/testing';
import { drive, type DriveSettings } from './sustained-clients';

/** The priority the chaos suite's generator runs at, for the same reason. */
const GENERATOR_NICE = -10;

const port = parentPort;
if (!port) throw new Error('sustained-worker.ts runs as a worker thread (driveOnGeneratorThread)');
const generatorPriority = raiseThreadPriority(GENERATOR_NICE);
void drive(workerData as DriveSettings).then((phase) => port.postMessage({ ...phase, generatorPriority }));
