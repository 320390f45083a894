import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayStore } from '../generation/ledgerStore';

/**
 * The gateway's Prometheus metrics (GET /metrics, text format 0.0.4). Counts are this replica's; the month's spend and
 * what the cap leaves are read from the shared store at scrape time, so every replica reports the team's month.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'endpoint' | 'route' | 'outcome'>;
  readonly latency: Histogram<'endpoint' | 'outcome'>;
  readonly spend: Counter<'backend'>;

  constructor(store: GatewayStore) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'routet2i_gateway_requests_total',
      help: 'Requests by endpoint, route (edge, cloud, none) and outcome (ok or the error code).',
      labelNames: ['endpoint', 'route', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'routet2i_gateway_request_duration_seconds',
      help: 'Time from the request to the end of the reply, backends included.',
      labelNames: ['endpoint', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.spend = new Counter({
      name: 'routet2i_gateway_spend_usd_total',
      help: 'USD booked by this replica (real costs, and estimates of calls that may have been charged).',
      labelNames: ['backend'],
      registers,
    });
    const month = async () => store.ledger.status();
    new Gauge({
      name: 'routet2i_month_spent_usd',
      help: "USD spent this month by every replica (the ledger's figure).",
      registers,
      async collect() {
        this.set((await month()).spent);
      },
    });
    new Gauge({
      name: 'routet2i_month_reserved_usd',
      help: 'USD reserved by calls in flight on every replica.',
      registers,
      async collect() {
        this.set((await month()).reserved);
      },
    });
    new Gauge({
      name: 'routet2i_month_cap_left_usd',
      help: 'USD the monthly cap still allows (absent without a cap).',
      registers,
      async collect() {
        const m = await month();
        if (m.cap === null) this.reset();
        else this.set(m.left);
      },
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
