/**
 * The fetcher's open requests: request ids from its own range, and the routing of every
 * connection's historicalData and error events to the request they answer (stoqey ends an answer
 * with a synthetic `finished-…` bar).
 */
import { EventName, type IBApi } from '@stoqey/ib';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { classifyHistoryError, type HistoryOutcome, type RawBar } from './history-bars.js';
import type { Job } from './history-targets.js';

const REQ_ID_FROM = 700_000;
const REQ_ID_TO = 799_999;
let nextReqId = REQ_ID_FROM;

/** A request sent and not yet answered. */
export interface Active {
  reqId: number;
  job: Job;
  bars: RawBar[];
  timer: unknown;
  settle: (o: HistoryOutcome) => void;
}

/** Routes historicalData / error events of every connection to the open requests. */
export class HistoryRouter {
  private readonly apis = new Map<IBApi, { data: (...a: unknown[]) => void; error: (e: Error, code: number, reqId: number) => void }>();

  constructor(
    private readonly active: Map<number, Active>,
    private readonly log: Logger,
  ) {}

  attach(api: IBApi): void {
    if (this.apis.has(api)) return;
    const data = (...a: unknown[]) => {
      const [reqId, time, open, high, low, close, volume] = a as [number, string, number, number, number, number, number];
      const r = this.active.get(reqId);
      if (!r) return;
      if (typeof time === 'string' && time.startsWith('finished')) r.settle({ kind: 'bars', bars: r.bars });
      else r.bars.push({ time: String(time), open, high, low, close, volume });
    };
    const error = (e: Error, code: number, reqId: number) => {
      const r = this.active.get(reqId);
      if (!r) return;
      const message = e?.message ?? String(e);
      const outcome = classifyHistoryError(code, message);
      if (outcome === 'ignore') this.log.debug('history warning', { reqId, code, message });
      else r.settle(outcome);
    };
    api.on(EventName.historicalData, data as never);
    api.on(EventName.error, error);
    this.apis.set(api, { data, error });
  }

  detach(): void {
    for (const [api, l] of this.apis) {
      api.off(EventName.historicalData, l.data as never);
      api.off(EventName.error, l.error);
    }
    this.apis.clear();
  }
}

export function allocateReqId(active: Map<number, Active>): number {
  for (let i = 0; i <= REQ_ID_TO - REQ_ID_FROM; i++) {
    const id = nextReqId;
    nextReqId = id >= REQ_ID_TO ? REQ_ID_FROM : id + 1;
    if (!active.has(id)) return id;
  }
  throw new ConfigError('ib history fetch', ['no free request id']);
}
