import { passingInstances } from '@oms/testing';

/**
 * A steady stream of create-then-get requests through the gateway instances that Consul lists as
 * passing, one request at a time per worker; every answer other than 201/200 (or no answer) counts
 * as failed, with what it was.
 */
export class Traffic {
  created = 0;
  read = 0;
  readonly failures: string[] = [];
  private gateways: string[] = [];
  private stopped = false;
  private running: Promise<void>[] = [];

  constructor(
    private readonly consulUrl: string,
    private readonly deployment: string,
    private readonly itemId: string,
  ) {}

  async start(workers: number): Promise<void> {
    await this.refreshGateways();
    this.running = [this.keepGatewaysFresh(), ...Array.from({ length: workers }, (_, i) => this.worker(i))];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  get total(): number {
    return this.created + this.read;
  }

  private async refreshGateways(): Promise<void> {
    const found = await passingInstances(this.consulUrl, 'gateway', this.deployment);
    this.gateways = found.map((g) => `http://${g.address}:${g.port}`);
  }

  private async keepGatewaysFresh(): Promise<void> {
    while (!this.stopped) {
      await this.refreshGateways().catch(() => undefined); // keep the last list while Consul is busy
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private async worker(index: number): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      const gateway = this.gateways[n % Math.max(1, this.gateways.length)];
      if (!gateway) {
        this.failures.push('no passing gateway in Consul');
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      const customer = `nomad-${index}`;
      const created = await this.call(`POST ${gateway}`, 201, () =>
        fetch(`${gateway}/v1/customers/${customer}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: [{ itemId: this.itemId, quantity: 1 }] }),
          signal: AbortSignal.timeout(15_000),
        }),
      );
      if (!created) continue;
      this.created++;
      const { id } = (await created.json()) as { id: string };
      const got = await this.call(`GET ${gateway}`, 200, () =>
        fetch(`${gateway}/v1/customers/${customer}/orders/${id}`, { signal: AbortSignal.timeout(15_000) }),
      );
      if (got) {
        await got.body?.cancel();
        this.read++;
      }
    }
  }

  private async call(
    label: string,
    expected: number,
    send: () => Promise<Response>,
  ): Promise<Response | undefined> {
    try {
      const response = await send();
      if (response.status === expected) return response;
      this.failures.push(`${label} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    } catch (error) {
      this.failures.push(`${label} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
  }
}
