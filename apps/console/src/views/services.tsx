import { useEffect, useState } from 'preact/hooks';
import { call, describeError, type Answer } from '../api';
import { percent } from '../format';
import { ColumnHeads } from './column-heads';

type Listing = Answer<'/console/api/services'>;
type Instance = Listing['services'][number]['instances'][number];

/** How often the figures are read: each read is one scrape of every instance's /metrics. */
const REFRESH_MS = 5000;

/** Every instance Consul knows, with its checks, breakers, and request figures from its /metrics. */
export function Services() {
  const [listing, setListing] = useState<Listing | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      call('get', '/console/api/services')
        .then(
          (answer) => {
            setListing(answer);
            setError('');
          },
          (failure: unknown) => setError(describeError(failure)),
        )
        .finally(() => {
          if (!stopped) timer = setTimeout(load, REFRESH_MS);
        });
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return (
    <section aria-labelledby="services-title">
      <h1 id="services-title">Services</h1>
      <p class="help">
        From Consul (every instance, failing ones too) and each instance&apos;s /metrics, read every{' '}
        {REFRESH_MS / 1000} s: request rate, share of server errors and p99 latency over the time since the
        previous read.
      </p>
      {error && <p class="error">{error}</p>}
      {listing && (
        <table class="services">
          <ColumnHeads names={['Service', 'Instance', 'Health', 'Requests/s', 'Errors', 'p99', 'Breakers']} />
          <tbody>
            {listing.services.flatMap(({ name, instances }) =>
              instances.length === 0
                ? [
                    <tr key={name} data-service={name}>
                      <th scope="row">{name}</th>
                      <td colSpan={6}>no instance registered</td>
                    </tr>,
                  ]
                : instances.map((instance) => (
                    <InstanceRow key={instance.id} service={name} instance={instance} />
                  )),
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}

function InstanceRow({ service, instance }: { service: string; instance: Instance }) {
  const { metrics } = instance;
  const failing = instance.checks.filter((check) => check.status !== 'passing');
  return (
    <tr data-service={service} data-health={instance.health}>
      <th scope="row">{service}</th>
      <td>
        <code>{instance.id}</code>
        <span class="meta"> {`${instance.address}:${instance.port}`}</span>
      </td>
      <td>
        <span class={`badge ${instance.health}`}>{instance.health}</span>
        {failing.map((check) => (
          <span key={check.name} class="meta">
            {' '}
            {check.name}: {check.output}
          </span>
        ))}
      </td>
      {metrics ? (
        <>
          <td class="number">{metrics.rate.toFixed(2)}</td>
          <td class="number">{percent(metrics.errorRate)}</td>
          <td class="number">{metrics.p99Ms === null ? '–' : `${metrics.p99Ms.toFixed(1)} ms`}</td>
          <td>
            {metrics.breakers.length === 0
              ? '–'
              : metrics.breakers.map((breaker) => (
                  <span key={breaker.target} class={`badge breaker-${breaker.state}`}>
                    {breaker.target}: {breaker.state.replace('_', ' ')}
                  </span>
                ))}
          </td>
        </>
      ) : (
        <td colSpan={4} class="meta">
          no figures: {instance.metricsError}
        </td>
      )}
    </tr>
  );
}
