import { DAY_MS, isoDate } from '../../lib/core/time-zone.js';
import type { Interval } from '../../lib/data/interval.js';
import { parseBarTime, volumeFromLots } from '../../lib/ib/history-fetch.js';
import { planHistory, type HistorySecType } from '../../lib/ib/history-plan.js';
import { MINUTE_MS, type DerivedInterval } from '../../lib/live/bar-aggregator.js';
import { zoneOf, type Entry, type HistoryRequest, type MarketDataContext } from './instrument-stream.js';
import { aggregateMinutes, type PlainBar } from './market-data-helpers.js';
import { MarketDataError } from './market-data-types.js';

// ---- history --------------------------------------------------------------------------------

/** 1-minute bars closed by `now`, newest sessions first until `count` bars of `interval` are there. */
export async function fetchWarmup(c: MarketDataContext, e: Entry, interval: Interval, count: number, now: number): Promise<PlainBar[]> {
  const maxSessions = c.o.maxHistorySessions ?? 10;
  const spec = e.spec!;
  let requests;
  try {
    requests = planHistory({
      symbol: e.key,
      secType: spec.secType as HistorySecType,
      calendarSymbol: spec.symbol,
      interval: '1m',
      fromDate: isoDate(now - (maxSessions * 2 + 10) * DAY_MS),
      toDate: isoDate(now + DAY_MS),
      whatToShow: 'TRADES',
      useRTH: c.useRTH,
      now,
    }).requests;
  } catch (err) {
    c.report(e, 'history', `no warm start: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
  const byTs = new Map<number, PlainBar>();
  const sorted = () => [...byTs.values()].filter((b) => b.ts + MINUTE_MS <= now).sort((a, b) => a.ts - b.ts);
  let sessions = 0;
  for (let i = requests.length - 1; i >= 0 && sessions < maxSessions; i--, sessions++) {
    const r = requests[i]!;
    try {
      for (const b of await requestHistory(c, e, r.endDateTime, r.duration)) byTs.set(b.ts, b);
    } catch (err) {
      c.report(e, 'history', `warm start ${r.duration} to ${r.endDateTime}: ${err instanceof Error ? err.message : String(err)}`, (err as MarketDataError).ibCode);
      break;
    }
    const have = interval === '1m' ? byTs.size : aggregateMinutes(sorted(), interval as DerivedInterval, now, zoneOf(e)).length;
    if (have >= count) break;
  }
  return sorted();
}

/** One reqHistoricalData of 1-minute TRADES bars; resolves with its bars (none for "no data"). */
export function requestHistory(c: MarketDataContext, e: Entry, endDateTime: string, duration: string): Promise<PlainBar[]> {
  return new Promise<PlainBar[]>((resolve, reject) => {
    const contract = e.contract;
    if (!contract || c.stopped()) return reject(new MarketDataError('not started'));
    const reqId = c.allocateReqId();
    const h: HistoryRequest = {
      entry: e,
      bars: [],
      timer: undefined,
      settle: (error) => {
        if (c.histories.get(reqId) !== h) return;
        c.histories.delete(reqId);
        c.scheduler.clearTimeout(h.timer);
        if (error) reject(error);
        else resolve(h.bars);
      },
    };
    c.histories.set(reqId, h);
    const timeoutMs = c.o.historyTimeoutMs ?? 30_000;
    h.timer = c.scheduler.setTimeout(() => {
      if (c.histories.get(reqId) !== h) return;
      c.session.request((api) => api.cancelHistoricalData(reqId), `cancel history ${e.key}`);
      h.settle(new MarketDataError(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const sent = c.session.request((api) => {
      if (c.histories.get(reqId) !== h) return;
      api.reqHistoricalData(reqId, contract, endDateTime, duration, '1 min' as never, 'TRADES' as never, c.useRTH ? 1 : 0, 2, false);
    }, `history ${e.key} ${duration}`);
    if (!sent) h.settle(new MarketDataError('session not connected'));
  });
}

export function onHistoricalData(c: MarketDataContext, reqId: number, time: string, open: number, high: number, low: number, close: number, volume: number): void {
  const h = c.histories.get(reqId);
  if (!h) return;
  if (typeof time === 'string' && time.startsWith('finished')) return h.settle(undefined);
  const ts = parseBarTime(String(time), zoneOf(h.entry));
  if (!Number.isFinite(ts)) return;
  h.bars.push({ ts, open, high, low, close, volume: volumeFromLots(volume, h.entry.lot) });
}
