import { status, up, type StackComponent } from '@oms/local-stack';
import type { RabbitNode, RunningService, TestSystem } from '@oms/testing';
import { sleep } from './http';
import { describeFault, seededRandom, type ChaosService, type Fault } from './schedule';

/** What happened to one fault: when it began, and how long until its part was whole again. */
export interface FaultRecord {
  at: number;
  name: string;
  /** Seconds from the fault's start until the broken part answered again (restarted, continued). */
  recoverySeconds?: number;
  error?: string;
}

/**
 * Injects faults into a running chaos system: its service instances (each restarted after a
 * SIGKILL, continued after a SIGSTOP), its own RabbitMQ node, and the local stack's MongoDB-wire
 * server, Consul and stripe-mock (stopped and brought back through the stack).
 */
export class FaultInjector {
  private readonly random: () => number;
  private readonly busy = new Map<string, Promise<FaultRecord>>();

  constructor(
    private readonly system: TestSystem,
    private readonly broker: RabbitNode,
    private readonly serviceEnv: Record<string, string>,
    seed: number,
  ) {
    this.random = seededRandom(seed ^ 0xfa17);
  }

  /**
   * Faults on one part take turns (a stripe-mock already stopped cannot be stopped again): one
   * whose time comes while its part is still down begins once the part is back.
   */
  inject(fault: Fault, startedAt: number): Promise<FaultRecord> {
    const part = fault.kind === 'kill' || fault.kind === 'pause' ? `service ${fault.service}` : fault.kind;
    const turn = (this.busy.get(part) ?? Promise.resolve()).then(() => this.injectNow(fault, startedAt));
    this.busy.set(part, turn);
    return turn;
  }

  private async injectNow(fault: Fault, startedAt: number): Promise<FaultRecord> {
    const record: FaultRecord = { at: (Date.now() - startedAt) / 1000, name: describeFault(fault) };
    const began = Date.now();
    try {
      await this.run(fault);
      record.recoverySeconds = (Date.now() - began) / 1000;
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    }
    return record;
  }

  private run(fault: Fault): Promise<void> {
    switch (fault.kind) {
      case 'kill':
        return this.killAndRestart(fault.service);
      case 'pause':
        return this.pause(fault.service, fault.seconds);
      case 'restart-broker':
        return this.restartBroker();
      case 'restart-database':
        return this.stopComponent('mongo', 0);
      case 'stop-consul':
        return this.stopComponent('consul', fault.seconds);
      case 'stop-stripe':
        return this.stopComponent('stripe-mock', fault.seconds);
    }
  }

  private victim(service: ChaosService): RunningService {
    const running = this.system.running(service);
    const victim = running[Math.floor(this.random() * running.length)];
    if (!victim) throw new Error(`no ${service} instance running`);
    return victim;
  }

  private async killAndRestart(service: ChaosService): Promise<void> {
    await this.victim(service).stop('SIGKILL');
    // A restart races the other faults (the broker or Consul may be away): give it time.
    await this.system.add(service, this.serviceEnv, { timeoutMs: 90_000 });
  }

  /** A gray failure: the process keeps its sockets open and answers nothing. */
  private async pause(service: ChaosService, seconds: number): Promise<void> {
    const victim = this.victim(service);
    process.kill(victim.pid, 'SIGSTOP');
    try {
      await sleep(seconds * 1000);
    } finally {
      process.kill(victim.pid, 'SIGCONT');
    }
  }

  private async restartBroker(): Promise<void> {
    await this.broker.stop();
    await this.broker.start();
  }

  /** Stops a component the stack started, waits, and brings it back through the stack. */
  private async stopComponent(name: StackComponent, downSeconds: number): Promise<void> {
    const view = (await status({ quiet: true })).components.find((c) => c.name === name);
    if (!view?.pid || view.mode !== 'started')
      throw new Error(`${name} was not started by the local stack here; it cannot be stopped`);
    process.kill(view.pid, 'SIGKILL');
    await waitForExit(view.pid);
    await sleep(downSeconds * 1000);
    await up({ quiet: true, only: [name] });
  }
}

async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`process ${pid} did not exit`);
}
