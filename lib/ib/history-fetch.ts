/**
 * Fetches historical bars from TWS / IB Gateway into the store, resumably:
 *
 * 1. contracts are resolved (ContractResolver; one contract per symbol) and registered as
 *    instruments;
 * 2. the range is planned (history-plan.ts) against what is already there: a unit (session) with
 *    stored bars of the same interval and kind, from any source, is skipped, and so is one an
 *    earlier fetch recorded in `ib_fetch_ranges` as 'empty' or 'expired' (unless `retryEmpty`),
 *    so a second run asks only for what is missing;
 * 3. requests are paced (history-scheduler.ts) and sent through `session.request` (the message
 *    budget); each answer is the single historicalData message plus stoqey's synthetic
 *    `finished-…` end event (tws-protocol.md §2), dates as epoch seconds (formatDate 2) or
 *    `yyyyMMdd` for daily bars;
 * 4. each answered request is written in ONE transaction: its bars (ts = bar start, epoch ms;
 *    daily bars at 00:00 UTC of the session date, as lib/ingest/lean stores them), an ingest run
 *    with format 'ib' and the ranges it covered. A 162 "HMDS query returned no data" marks the
 *    units 'empty'; they are not asked again. A 162 pacing violation backs off and retries.
 *
 * US stock volume: IB (and the simulator, `stockVolumeInLots`) reports historical stock volume
 * in lots of 100 shares; `volumeLot` (default 100 for STK, 1 otherwise) converts back to shares.
 * Quote bars (BID, ASK, MIDPOINT) carry no volume (IB sends -1): stored as 0.
 */
import type { BarSizeSetting, WhatToShow } from '@stoqey/ib';
import { calendarForInstrument } from '../calendar/index.js';
import { ConfigError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { isIntraday } from '../data/interval.js';
import { writeBars } from '../store/bar-writer.js';
import { finishRun, recordFailedRun, startRun } from '../store/ingest-runs.js';
import { addCounts, zeroCounts } from '../store/merge.js';
import { toSeries, type HistoryOutcome } from './history-bars.js';
import { checkOptions, IbHistoryError, KIND_OF, type FetchHistoryOptions, type FetchHistoryResult, type FetchProgress, type FetchWhatToShow } from './history-fetch-options.js';
import { planHistory, type HistoryWhatToShow, type PlanUnit } from './history-plan.js';
import { HistoryScheduler } from './history-scheduler.js';
import { allocateReqId, HistoryRouter, type Active } from './history-requests.js';
import { completeUnits, loadMarks, recordRanges, unitsWithBars, type RangeMark } from './history-store.js';
import { resolveTargets, type Job } from './history-targets.js';
import { realScheduler } from './ib-session.js';
import type { SessionTransition } from './session-state.js';

export { classifyHistoryError, parseBarTime, volumeFromLots, type HistoryOutcome, type RawBar } from './history-bars.js';
export {
  FETCHABLE_WHAT_TO_SHOW,
  IbHistoryError,
  type FetchFailure,
  type FetchHistoryOptions,
  type FetchHistoryResult,
  type FetchProgress,
  type FetchSymbolSummary,
  type FetchWhatToShow,
  type HistoryContractResolver,
  type HistorySession,
  type IbHistoryErrorCode,
} from './history-fetch-options.js';

/** Round-robin over symbols, so consecutive requests rarely hit one contract's burst limit. */
function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

/**
 * Fetches `interval` bars of `symbols` for the trading dates [from, to] into `store`; see the
 * module comment. Resolves with what was done; failures of single requests are reported in
 * `failed`, not thrown. Throws ConfigError (bad options), IbHistoryError (a contract that does
 * not resolve to exactly one, or a store failure, which aborts) and session errors.
 */
export async function fetchHistory(options: FetchHistoryOptions): Promise<FetchHistoryResult> {
  const problems = checkOptions(options);
  if (problems.length) throw new ConfigError('ib history fetch', problems);
  const { session, store, interval } = options;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? realScheduler;
  const log = (options.logger ?? silentLogger).child({ component: 'history-fetch' });
  const secType = options.secType ?? 'STK';
  const what = (options.whatToShow ?? 'TRADES') as FetchWhatToShow;
  const kind = KIND_OF[what];
  const useRTH = options.useRTH ?? false;
  const currency = options.currency ?? 'USD';
  const lot = options.volumeLot ?? (secType === 'STK' ? 100 : 1);
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const maxInFlight = options.maxInFlight ?? 4;
  const started = now();
  const progress = options.onProgress ?? (() => undefined);

  await session.ready(readyTimeoutMs);

  // 1. contracts -> instruments
  const targets = await resolveTargets(options, { secType, currency, timers, now });

  // 2. plan against what is stored and what earlier runs marked
  const result: FetchHistoryResult = {
    requested: 0,
    bars: 0,
    written: zeroCounts(),
    skippedEmpty: 0,
    skippedStored: 0,
    empty: 0,
    pacingWaits: 0,
    pacingWaitMs: 0,
    pacingViolations: 0,
    retries: 0,
    failed: [],
    symbols: targets.map((t) => t.summary),
    runIds: [],
    elapsedMs: 0,
  };
  const perSymbol: Job[][] = [];
  const planNow = now();
  for (const t of targets) {
    const spec = {
      symbol: t.symbol,
      secType,
      calendarSymbol: t.contract.symbol || t.symbol,
      interval,
      fromDate: options.from,
      toDate: options.to,
      whatToShow: what as HistoryWhatToShow,
      useRTH,
      now: planNow,
      pacingKey: `${t.contract.conId}@${t.contract.exchange}:${what}`,
    };
    const marks = await loadMarks(store, t.instrumentId, interval, what, useRTH);
    const units = planHistory(spec).units;
    let stored = await unitsWithBars(store, t.instrumentId, interval, kind, units.filter((u) => !u.open));
    if (options.fillGaps && isIntraday(interval)) {
      stored = await completeUnits(store, t.instrumentId, interval, kind, units.filter((u) => stored.has(u.start)), calendarForInstrument(secType, spec.calendarSymbol));
    }
    // stored bars are the truth ('ok' marks are provenance: bars deleted since are fetched again)
    const knownEmpty = (u: PlanUnit) => !options.retryEmpty && (marks.get(u.start)?.status ?? 'ok') !== 'ok';
    const plan = planHistory(spec, (u) => stored.has(u.start) || knownEmpty(u));
    t.summary.units = plan.units.length;
    for (const u of plan.units) {
      if (u.open) continue;
      if (stored.has(u.start)) t.summary.skippedStored++;
      else if (knownEmpty(u)) t.summary.skippedEmpty++;
    }
    result.skippedStored += t.summary.skippedStored;
    result.skippedEmpty += t.summary.skippedEmpty;
    perSymbol.push(
      plan.requests.map((r) => ({ ...r, target: t, label: `${t.symbol} ${r.barSize} ${r.whatToShow} ${r.duration} to ${r.endDateTime}` })),
    );
  }
  const jobs = interleave(perSymbol);
  const total = jobs.length;
  let done = 0;
  log.info('history planned', { symbols: targets.length, requests: total, skippedStored: result.skippedStored, skippedEmpty: result.skippedEmpty });
  progress({ phase: 'planned', total, done, bars: 0 });

  // 3. send under the pacing rules, write each answer in a transaction
  const scheduler = new HistoryScheduler<Job>({ ...options.pacing, now, limits: { ...options.pacing?.limits, maxInFlight: Math.min(maxInFlight, options.pacing?.limits?.maxInFlight ?? 50) } });
  scheduler.add(jobs);
  const active = new Map<number, Active>();
  const router = new HistoryRouter(active, log);
  const sentOnce = new Set<string>();
  let fatal: unknown;
  let writes: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const signalled = () => new Promise<void>((resolve) => (wake = resolve));

  const unsubscribe = [
    session.on('connection', (c) => {
      router.attach(c.api);
      if (c.reconnect) for (const a of [...active.values()]) a.settle({ kind: 'retry', message: 'connection replaced' });
    }),
    session.on('transition', (t: SessionTransition) => {
      if (t.to === 'connected' || t.to === 'degraded') return;
      for (const a of [...active.values()]) a.settle({ kind: 'retry', message: `connection lost (${t.to}: ${t.reason})` });
    }),
  ];
  if (session.api) router.attach(session.api);

  const finish = (job: Job, status: FetchProgress['status']) => {
    done++;
    progress({ phase: 'request', total, done, bars: result.bars, symbol: job.target.symbol, request: job.label, status });
  };

  const fail = (job: Job, outcome: { code?: number; message: string }) => {
    job.target.summary.failed++;
    result.failed.push({ symbol: job.target.symbol, request: job.label, code: outcome.code, message: outcome.message });
    log.warn('history request failed', { request: job.label, code: outcome.code, message: outcome.message });
    finish(job, 'failed');
  };

  const write = (job: Job, op: () => Promise<void>) => {
    writes = writes.then(async () => {
      if (fatal) return;
      try {
        await op();
      } catch (e) {
        fatal = e;
        notify();
      }
    });
  };

  const onOutcome = (job: Job, outcome: HistoryOutcome, sentAt: number) => {
    const t = job.target;
    switch (outcome.kind) {
      case 'bars': {
        const series = toSeries(job, outcome.bars, lot, what);
        const counts = job.units.map((unit) => ({ unit, bars: 0, status: 'empty' as RangeMark['status'] }));
        let u = 0;
        for (let i = 0; i < series.length; i++) {
          const ts = series.ts[i]!;
          while (u < counts.length && counts[u]!.unit.end <= ts) u++;
          if (u < counts.length && ts >= counts[u]!.unit.start) counts[u]!.bars++;
        }
        for (const c of counts) if (c.bars > 0) c.status = 'ok';
        const emptyUnits = counts.filter((c) => c.status === 'empty' && !c.unit.open).length;
        if (series.length === 0) scheduler.empty(job);
        else scheduler.answered(job);
        write(job, async () => {
          const startedAt = new Date(sentAt);
          try {
            const written = await store.transaction(async () => {
              const runId = await startRun(store, 'ib', [job.label], startedAt);
              const merged = await writeBars(store, [series], new Map([[t.spec.key, t.instrumentId]]), 'ib', runId);
              await recordRanges(store, t, { interval, what, useRTH }, counts, undefined, runId, now());
              await finishRun(store, {
                runId,
                files: 1,
                rowsRead: outcome.bars.length,
                bars: merged,
                ticks: zeroCounts(),
                corporateActions: zeroCounts(),
                instruments: [t.spec.key],
                series: [],
                notes: series.length < outcome.bars.length ? [`${outcome.bars.length - series.length} bars outside the requested sessions not written`] : [],
                durationMs: now() - sentAt,
              });
              return { runId, merged };
            });
            result.runIds.push(written.runId);
            addCounts(result.written, written.merged);
          } catch (e) {
            await recordFailedRun(store, 'ib', [job.label], startedAt, e instanceof Error ? e.message : String(e)).catch(() => undefined);
            throw new IbHistoryError('IB_HISTORY_ABORTED', `writing ${job.label} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
          }
          result.bars += series.length;
          result.empty += emptyUnits;
          t.summary.bars += series.length;
          t.summary.empty += emptyUnits;
          if (series.length > 0) {
            t.summary.first = Math.min(t.summary.first ?? Infinity, series.ts[0]!);
            t.summary.last = Math.max(t.summary.last ?? -Infinity, series.ts[series.length - 1]!);
          }
          finish(job, series.length > 0 ? 'ok' : 'empty');
        });
        return;
      }
      case 'empty':
      case 'expired': {
        scheduler.empty(job);
        const status = outcome.kind;
        write(job, async () => {
          await store.transaction(() =>
            recordRanges(store, t, { interval, what, useRTH }, job.units.map((unit) => ({ unit, status, bars: 0 })), `${outcome.code ?? ''} ${outcome.message}`.trim(), undefined, now()),
          );
          const n = job.units.filter((x) => !x.open).length;
          result.empty += n;
          t.summary.empty += n;
          finish(job, status);
        });
        return;
      }
      case 'pacing': {
        result.pacingViolations++;
        const d = scheduler.pacingViolation(job);
        log.warn('pacing violation', { request: job.label, attempts: d.attempts, resumeInMs: d.resumeAt - now(), retry: d.retry });
        progress({ phase: 'request', total, done, bars: result.bars, symbol: t.symbol, request: job.label, status: 'pacing' });
        if (!d.retry) fail(job, { code: outcome.code, message: `${outcome.message} (gave up after ${d.attempts} attempts)` });
        return;
      }
      case 'retry': {
        const d = scheduler.failed(job, true);
        log.info('history request retried', { request: job.label, reason: outcome.message, attempts: d.attempts });
        if (!d.retry) fail(job, { code: outcome.code, message: `${outcome.message} (gave up after ${d.attempts} attempts)` });
        else progress({ phase: 'request', total, done, bars: result.bars, symbol: t.symbol, request: job.label, status: 'retry' });
        return;
      }
      case 'failed':
        scheduler.failed(job, false);
        fail(job, outcome);
        return;
    }
  };

  const send = (job: Job) => {
    const reqId = allocateReqId(active);
    const sentAt = now();
    scheduler.sent(job);
    if (!sentOnce.has(job.id)) {
      sentOnce.add(job.id);
      result.requested++;
      job.target.summary.requests++;
    }
    let settled = false;
    const entry: Active = {
      reqId,
      job,
      bars: [],
      timer: undefined,
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        timers.clearTimeout(entry.timer);
        active.delete(reqId);
        try {
          onOutcome(job, outcome, sentAt);
        } catch (e) {
          fatal = e;
        }
        notify();
      },
    };
    active.set(reqId, entry);
    entry.timer = timers.setTimeout(() => {
      session.request((api) => api.cancelHistoricalData(reqId), `cancel history ${reqId}`);
      entry.settle({ kind: 'retry', message: `no answer within ${requestTimeoutMs} ms` });
    }, requestTimeoutMs);
    log.debug('reqHistoricalData', { reqId, request: job.label });
    const accepted = session.request((api) => {
      if (settled) return;
      router.attach(api);
      api.reqHistoricalData(reqId, job.target.ibContract, job.endDateTime, job.duration, job.barSize as BarSizeSetting, job.whatToShow as WhatToShow, job.useRTH ? 1 : 0, 2, false);
    }, `history ${job.label}`);
    if (!accepted) entry.settle({ kind: 'retry', message: 'session not connected' });
  };

  const pause = (ms: number): { promise: Promise<void>; cancel: () => void } => {
    if (options.sleep) return { promise: options.sleep(ms), cancel: () => undefined };
    let handle: unknown;
    let resolveFn: () => void = () => undefined;
    const promise = new Promise<void>((resolve) => {
      resolveFn = resolve;
      handle = timers.setTimeout(resolve, ms);
    });
    return {
      promise,
      cancel: () => {
        timers.clearTimeout(handle);
        resolveFn();
      },
    };
  };

  let lastWait = '';
  try {
    while (!scheduler.idle && !fatal) {
      const slot = scheduler.next();
      if (!slot) {
        await signalled();
        continue;
      }
      const wait = slot.at - now();
      if (wait > 0) {
        const key = `${slot.request.id}@${slot.at}`;
        if (key !== lastWait) {
          lastWait = key;
          result.pacingWaits++;
          log.debug('pacing wait', { request: slot.request.label, waitMs: wait, rule: slot.reason });
          progress({ phase: 'waiting', total, done, bars: result.bars, symbol: slot.request.target.symbol, request: slot.request.label, waitMs: wait });
        }
        const t0 = now();
        const p = pause(wait);
        await Promise.race([p.promise, signalled()]);
        p.cancel();
        result.pacingWaitMs += Math.max(0, now() - t0);
        continue;
      }
      if (!session.api) {
        try {
          await session.ready(readyTimeoutMs);
        } catch (e) {
          fatal = e;
          break;
        }
      }
      send(slot.request);
    }
  } finally {
    // only after an abort is anything still open: tell TWS to stop working on it
    for (const a of [...active.values()]) {
      timers.clearTimeout(a.timer);
      active.delete(a.reqId);
      session.request((api) => api.cancelHistoricalData(a.reqId), `cancel history ${a.reqId}`);
    }
    scheduler.clear();
    await writes;
    router.detach();
    for (const u of unsubscribe) u();
  }
  if (fatal) throw fatal;
  result.retries = scheduler.stats.retries;
  result.elapsedMs = now() - started;
  progress({ phase: 'done', total, done, bars: result.bars });
  log.info('history fetched', { requested: result.requested, bars: result.bars, empty: result.empty, pacingWaits: result.pacingWaits, violations: result.pacingViolations, failed: result.failed.length, elapsedMs: result.elapsedMs });
  return result;
}
