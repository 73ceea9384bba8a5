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
import { EventName, type BarSizeSetting, type Contract, type IBApi, type WhatToShow } from '@stoqey/ib';
import { calendarForInstrument, type ExchangeCalendar } from '../calendar/index.js';
import { ConfigError, WorkbenchError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { CHICAGO, NEW_YORK, parseIsoDate, zonedWallToUtc } from '../core/time-zone.js';
import type { BarSeries } from '../data/bar-series.js';
import { futureKey, type InstrumentSpec } from '../data/instrument.js';
import { intervalMs, isIntraday, type BarKind, type Interval } from '../data/interval.js';
import { writeBars } from '../store/bar-writer.js';
import { finishRun, recordFailedRun, startRun } from '../store/ingest-runs.js';
import { upsertInstruments } from '../store/instruments.js';
import { addCounts, zeroCounts, type MergeCounts } from '../store/merge.js';
import type { Store } from '../store/store.js';
import { ContractResolver, toIbContract, type ContractQuery, type ResolvedContract } from './contract-resolver.js';
import { planHistory, type HistorySecType, type HistoryWhatToShow, type PlannedRequest, type PlanUnit } from './history-plan.js';
import { HistoryScheduler, type HistorySchedulerOptions } from './history-scheduler.js';
import { realScheduler, type IbSession, type SessionScheduler } from './ib-session.js';
import type { SessionTransition } from './session-state.js';

/** The part of IbSession the fetcher uses. */
export type HistorySession = Pick<IbSession, 'request' | 'on' | 'ready' | 'api'>;

/** The part of ContractResolver the fetcher uses. */
export interface HistoryContractResolver {
  resolve(query: ContractQuery): Promise<ResolvedContract[]>;
}

/** whatToShow values the store has columns for (BID_ASK's time-averaged bars have none). */
export const FETCHABLE_WHAT_TO_SHOW = ['TRADES', 'BID', 'ASK', 'MIDPOINT'] as const;
export type FetchWhatToShow = (typeof FETCHABLE_WHAT_TO_SHOW)[number];

const KIND_OF: Record<FetchWhatToShow, BarKind> = { TRADES: 'trade', BID: 'bid', ASK: 'ask', MIDPOINT: 'mid' };

export interface FetchProgress {
  phase: 'planned' | 'request' | 'waiting' | 'done';
  /** Requests planned */
  total: number;
  /** Requests finished (answered, empty or given up) */
  done: number;
  /** Bars written so far */
  bars: number;
  symbol?: string;
  /** Request label: symbol, end and duration */
  request?: string;
  status?: 'ok' | 'empty' | 'expired' | 'pacing' | 'retry' | 'failed';
  /** Pacing wait ahead, ms (phase 'waiting') */
  waitMs?: number;
}

export interface FetchHistoryOptions {
  /** A started session (fetchHistory waits for it to be ready) */
  session: HistorySession;
  /** The target store */
  store: Store;
  /** Default: a ContractResolver over `session`, persisting answers in `store` */
  resolver?: HistoryContractResolver;
  /** Stocks: `SPY`; futures: `ES-201312` (root-YYYYMM); cash: `EUR.USD` */
  symbols: readonly string[];
  /** Default STK */
  secType?: HistorySecType;
  /** Default SMART for stocks, the future's exchange (required for FUT), IDEALPRO for cash */
  exchange?: string;
  /** Default USD */
  currency?: string;
  interval: Interval;
  /** First and last trading date, YYYY-MM-DD, inclusive */
  from: string;
  to: string;
  /** Default TRADES */
  whatToShow?: FetchWhatToShow;
  /** Default false: stocks' extended hours included (as the bundled LEAN minute data is) */
  useRTH?: boolean;
  /** Ask again for units an earlier run recorded as empty (default false) */
  retryEmpty?: boolean;
  /**
   * Intraday: a stored session counts as present only when its regular-hours bars are complete
   * (as many as the exchange calendar expects, the audit's coverage rule), so gaps the audit finds
   * are fetched again; the merge keeps the bars already stored. Default false: any stored bar counts.
   */
  fillGaps?: boolean;
  /** Shares per reported volume unit (default 100 for STK, 1 otherwise) */
  volumeLot?: number;
  /** Pacing rules and backoff; `now` defaults to the fetcher's clock */
  pacing?: Omit<HistorySchedulerOptions, 'now'>;
  /** Requests open at once (default 4; IB allows 50) */
  maxInFlight?: number;
  /** Per request, from sending to the end event (default 60 s); then cancelled and retried */
  requestTimeoutMs?: number;
  /** Waiting for the session to be usable (default 30 s) */
  readyTimeoutMs?: number;
  onProgress?: (p: FetchProgress) => void;
  /** Epoch ms (default Date.now) */
  now?: () => number;
  /** Pacing waits (default: real, cancellable timers) */
  sleep?: (ms: number) => Promise<void>;
  /** Timers for request timeouts (default real timers) */
  timers?: SessionScheduler;
  logger?: Logger;
}

export interface FetchSymbolSummary {
  symbol: string;
  conId: number;
  /** Units (sessions or slices) in the range */
  units: number;
  skippedStored: number;
  skippedEmpty: number;
  requests: number;
  bars: number;
  /** Units answered without data in this run */
  empty: number;
  failed: number;
  /** First and last bar written (epoch ms), if any */
  first?: number;
  last?: number;
}

export interface FetchFailure {
  symbol: string;
  request: string;
  code: number | undefined;
  message: string;
}

export interface FetchHistoryResult {
  /** Planned requests sent (retries not counted) */
  requested: number;
  /** Bars received inside the planned units and written */
  bars: number;
  written: MergeCounts;
  /** Units not asked for because an earlier run recorded them empty or expired */
  skippedEmpty: number;
  /** Units not asked for because their bars are stored */
  skippedStored: number;
  /** Units answered without data in this run (recorded, not asked again) */
  empty: number;
  /** Times the fetcher waited for the pacing rules or a backoff, and how long in all */
  pacingWaits: number;
  pacingWaitMs: number;
  /** 162 pacing violations received (each backed off and retried) */
  pacingViolations: number;
  /** Re-sends after violations, timeouts or lost connections */
  retries: number;
  failed: FetchFailure[];
  symbols: FetchSymbolSummary[];
  runIds: number[];
  elapsedMs: number;
}

export type IbHistoryErrorCode = 'IB_HISTORY_CONTRACT' | 'IB_HISTORY_ABORTED';

/** A fetch that cannot go on (a contract that does not resolve to one, a store failure). */
export class IbHistoryError extends WorkbenchError {
  readonly code: IbHistoryErrorCode;
  constructor(code: IbHistoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

// ---- answers ----

/** What one request ended with. */
export type HistoryOutcome =
  | { kind: 'bars'; bars: RawBar[] }
  | { kind: 'empty'; code?: number; message: string }
  | { kind: 'expired'; code: number; message: string }
  | { kind: 'pacing'; code: number; message: string }
  | { kind: 'retry'; code?: number; message: string }
  | { kind: 'failed'; code: number; message: string };

/** A bar as stoqey emits it. */
export interface RawBar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Codes IBApiNext also treats as warnings for a request (tws-protocol.md §2 error routing). */
const WARNING_CODES = new Set([10090, 10167, 399, 492]);

/**
 * An IB error for a historical request -> what to do: `ignore` (a warning), or an outcome.
 * 162 carries several answers: pacing violation, no data, cancelled, and refusals.
 */
export function classifyHistoryError(code: number, message: string): HistoryOutcome | 'ignore' {
  if ((code >= 2100 && code <= 2999) || WARNING_CODES.has(code) || /^Warning:/i.test(message)) return 'ignore';
  if (code === 162 || code === 165) {
    if (/pacing violation/i.test(message)) return { kind: 'pacing', code, message };
    if (/expired/i.test(message)) return { kind: 'expired', code, message };
    if (/returned no data|no data/i.test(message)) return { kind: 'empty', code, message };
    if (/query cancelled/i.test(message)) return { kind: 'retry', code, message };
  }
  // 366: no such query (an answer raced a cancel); 504: not connected; 1100-ish link loss
  if (code === 504 || code === 1100) return { kind: 'retry', code, message };
  return { kind: 'failed', code, message };
}

/** IB zone names in bar dates -> IANA. */
const IB_ZONES: Record<string, string> = { 'US/Eastern': NEW_YORK, 'US/Central': CHICAGO, EST: NEW_YORK, EDT: NEW_YORK, CST: CHICAGO, CDT: CHICAGO, GMT: 'UTC', UTC: 'UTC' };

/**
 * A bar date -> epoch ms of the bar start. `yyyyMMdd` (bars of a day or longer) -> 00:00 UTC of
 * that date; digits only -> epoch seconds (formatDate 2); `yyyyMMdd HH:mm:ss [zone]` -> that wall
 * time in the zone (default `zone`). NaN when unreadable.
 */
export function parseBarTime(text: string, zone: string): number {
  const t = text.trim();
  if (/^\d{8}$/.test(t)) return Date.UTC(Number(t.slice(0, 4)), Number(t.slice(4, 6)) - 1, Number(t.slice(6, 8)));
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const m = /^(\d{4})(\d{2})(\d{2})[ -]+(\d{2}):(\d{2}):(\d{2})(?:\s+(\S+))?$/.exec(t);
  if (!m) return NaN;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const z = m[7] === undefined ? zone : (IB_ZONES[m[7]] ?? m[7]);
  try {
    return zonedWallToUtc(z, wall);
  } catch {
    return NaN;
  }
}

/** Shares from a volume reported in lots; float noise from the division is rounded away. */
export function volumeFromLots(reported: number, lot: number): number {
  if (!(reported >= 0)) return 0;
  const shares = reported * lot;
  const whole = Math.round(shares);
  return Math.abs(shares - whole) <= 1e-9 * Math.max(1, Math.abs(shares)) ? whole : shares;
}

// ---- contracts and instruments ----

interface Target {
  /** The symbol as asked */
  symbol: string;
  contract: ResolvedContract;
  ibContract: Contract;
  spec: InstrumentSpec;
  instrumentId: number;
  secType: HistorySecType;
  zone: string;
  summary: FetchSymbolSummary;
}

function queryFor(symbol: string, secType: HistorySecType, exchange: string | undefined, currency: string): ContractQuery {
  if (secType === 'FUT') {
    const m = /^([A-Z0-9]+)-(\d{6}|\d{8})$/.exec(symbol);
    if (!m) throw new ConfigError('ib history fetch', [`futures are named ROOT-YYYYMM (e.g. ES-201312), was '${symbol}'`]);
    if (!exchange) throw new ConfigError('ib history fetch', [`futures need an exchange (e.g. CME) for ${symbol}`]);
    return { symbol: m[1]!, secType, exchange, currency, lastTradeDateOrContractMonth: m[2]!, includeExpired: true };
  }
  if (secType === 'CASH') {
    const [base, quote] = symbol.split('.');
    return { symbol: base!, secType, exchange: exchange ?? 'IDEALPRO', currency: quote ?? currency };
  }
  return { symbol, secType, exchange: exchange ?? 'SMART', currency };
}

function instrumentSpec(symbol: string, secType: HistorySecType, c: ResolvedContract): InstrumentSpec {
  const tickSize = c.minTick > 0 ? c.minTick : 0.01;
  if (secType === 'FUT') {
    const month = c.contractMonth || c.lastTradeDate.slice(0, 6);
    const expiry = c.lastTradeDate ? `${c.lastTradeDate.slice(0, 4)}-${c.lastTradeDate.slice(4, 6)}-${c.lastTradeDate.slice(6, 8)}` : undefined;
    return { key: futureKey(c.symbol, month), symbol: c.symbol, secType, exchange: c.exchange, currency: c.currency, multiplier: c.multiplier, tickSize, contractMonth: month, expiry, localSymbol: c.localSymbol || undefined, conId: c.conId };
  }
  if (secType === 'CASH') {
    return { key: `${c.symbol}.${c.currency}`, symbol: c.symbol, secType, exchange: c.exchange, currency: c.currency, multiplier: 1, tickSize, localSymbol: c.localSymbol || undefined, conId: c.conId };
  }
  return { key: symbol, symbol: c.symbol || symbol, secType, exchange: c.primaryExch || c.exchange || 'SMART', currency: c.currency || 'USD', multiplier: 1, tickSize, localSymbol: c.localSymbol || undefined, conId: c.conId };
}

// ---- store ----

interface RangeMark {
  /** 'ok': bars were stored (provenance); 'empty' / 'expired': IB had nothing, not asked again */
  status: 'ok' | 'empty' | 'expired';
}

async function loadMarks(store: Store, instrumentId: number, interval: Interval, what: string, useRTH: boolean): Promise<Map<number, RangeMark>> {
  const rows = await store.all<{ start: number; status: RangeMark['status'] }>(
    `SELECT CAST(epoch_ms(range_start) AS DOUBLE) AS start, status FROM ib_fetch_ranges
     WHERE instrument_id = $1 AND interval = $2 AND what_to_show = $3 AND use_rth = $4`,
    [instrumentId, interval, what, useRTH],
  );
  return new Map(rows.map((r) => [Number(r.start), { status: r.status }]));
}

/**
 * Starts of the units whose regular session holds every bar the calendar expects (bars in
 * [open, close) counted against `expectedBarCount`); units without a session count as complete.
 */
async function completeUnits(store: Store, instrumentId: number, interval: Interval, kind: BarKind, units: readonly PlanUnit[], calendar: ExchangeCalendar): Promise<Set<number>> {
  const complete = new Set<number>();
  const step = intervalMs(interval);
  for (const u of units) {
    const session = calendar.session(u.date);
    if (session === undefined) {
      complete.add(u.start);
      continue;
    }
    const [row] = await store.all<{ n: number }>(
      `SELECT CAST(count(*) AS DOUBLE) AS n FROM bars WHERE instrument_id = $1 AND interval = $2 AND kind = $3
         AND ts >= make_timestamp(CAST($4 AS BIGINT)) AND ts < make_timestamp(CAST($5 AS BIGINT))`,
      [instrumentId, interval, kind, session.open * 1000, session.close * 1000],
    );
    if ((row?.n ?? 0) >= calendar.expectedBarCount(session, step)) complete.add(u.start);
  }
  return complete;
}

/** Starts of the units that hold at least one stored bar of the interval and kind. */
async function unitsWithBars(store: Store, instrumentId: number, interval: Interval, kind: BarKind, units: readonly PlanUnit[]): Promise<Set<number>> {
  if (units.length === 0) return new Set();
  const rows = await store.all<{ s: number }>(
    `WITH u AS (SELECT unnest(from_json($1, '["BIGINT"]')) AS s, unnest(from_json($2, '["BIGINT"]')) AS e)
     SELECT CAST(u.s AS DOUBLE) AS s FROM u
     WHERE EXISTS (SELECT 1 FROM bars b WHERE b.instrument_id = $3 AND b.interval = $4 AND b.kind = $5
                   AND b.ts >= make_timestamp(u.s * 1000) AND b.ts < make_timestamp(u.e * 1000))`,
    [JSON.stringify(units.map((u) => u.start)), JSON.stringify(units.map((u) => u.end)), instrumentId, interval, kind],
  );
  return new Set(rows.map((r) => Number(r.s)));
}

async function recordRanges(
  store: Store,
  t: Target,
  o: { interval: Interval; what: string; useRTH: boolean },
  units: readonly { unit: PlanUnit; status: RangeMark['status']; bars: number }[],
  detail: string | undefined,
  runId: number | undefined,
  at: number,
): Promise<void> {
  for (const { unit, status, bars } of units) {
    if (unit.open) continue;
    await store.run(
      `INSERT OR REPLACE INTO ib_fetch_ranges (instrument_id, interval, what_to_show, use_rth, range_start, range_end, session_date, status, bars, detail, run_id, fetched_at)
       VALUES ($1, $2, $3, $4, make_timestamp(CAST($5 AS BIGINT)), make_timestamp(CAST($6 AS BIGINT)), CAST($7 AS DATE), $8, $9, $10, $11, make_timestamp(CAST($12 AS BIGINT)))`,
      [t.instrumentId, o.interval, o.what, o.useRTH, unit.start * 1000, unit.end * 1000, unit.date, status, bars, detail ?? null, runId ?? null, Math.round(at) * 1000],
    );
  }
}

// ---- request ids and listeners ----

const REQ_ID_FROM = 700_000;
const REQ_ID_TO = 799_999;
let nextReqId = REQ_ID_FROM;

interface Active {
  reqId: number;
  job: Job;
  bars: RawBar[];
  timer: unknown;
  settle: (o: HistoryOutcome) => void;
}

interface Job extends PlannedRequest {
  target: Target;
  label: string;
}

/** Routes historicalData / error events of every connection to the open requests. */
class HistoryRouter {
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

function allocateReqId(active: Map<number, Active>): number {
  for (let i = 0; i <= REQ_ID_TO - REQ_ID_FROM; i++) {
    const id = nextReqId;
    nextReqId = id >= REQ_ID_TO ? REQ_ID_FROM : id + 1;
    if (!active.has(id)) return id;
  }
  throw new ConfigError('ib history fetch', ['no free request id']);
}

/** Round-robin over symbols, so consecutive requests rarely hit one contract's burst limit. */
function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

function checkOptions(o: FetchHistoryOptions): string[] {
  const problems: string[] = [];
  if (o.symbols.length === 0) problems.push('symbols: expected at least one');
  for (const [name, d] of [
    ['from', o.from],
    ['to', o.to],
  ] as const) {
    try {
      parseIsoDate(d);
    } catch {
      problems.push(`${name} must be a date YYYY-MM-DD, was '${d}'`);
    }
  }
  const what: string = o.whatToShow ?? 'TRADES';
  if (!(FETCHABLE_WHAT_TO_SHOW as readonly string[]).includes(what)) {
    problems.push(`whatToShow must be one of ${FETCHABLE_WHAT_TO_SHOW.join(', ')}, was '${what}'${what === 'BID_ASK' ? ' (BID_ASK bars are time averages the store has no columns for: fetch BID and ASK, same pacing cost)' : ''}`);
  }
  for (const [name, v] of [
    ['maxInFlight', o.maxInFlight],
    ['requestTimeoutMs', o.requestTimeoutMs],
    ['readyTimeoutMs', o.readyTimeoutMs],
    ['volumeLot', o.volumeLot],
  ] as const) {
    if (v !== undefined && !(v > 0)) problems.push(`${name} must be positive, was ${v}`);
  }
  return problems;
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
  const ownResolver = options.resolver ? undefined : new ContractResolver({ session, store, logger: options.logger, scheduler: timers, now });
  const resolver: HistoryContractResolver = options.resolver ?? ownResolver!;
  const targets: Target[] = [];
  try {
    for (const raw of options.symbols) {
      const symbol = raw.trim().toUpperCase();
      const query = queryFor(symbol, secType, options.exchange, currency);
      const found = await resolver.resolve(query);
      if (found.length !== 1) {
        const list = found.map((c) => `${c.localSymbol || c.symbol}@${c.exchange} (${c.conId})`).join(', ');
        throw new IbHistoryError('IB_HISTORY_CONTRACT', found.length === 0 ? `no IB contract for ${symbol} (${secType} ${query.exchange} ${query.currency})` : `${symbol} matches ${found.length} contracts: ${list}`);
      }
      const contract = found[0]!;
      const ibContract: Contract = toIbContract(contract);
      if (secType === 'FUT') ibContract.includeExpired = true;
      const spec = instrumentSpec(symbol, secType, contract);
      const zone = calendarForInstrument(secType, contract.symbol || symbol).timeZone;
      targets.push({
        symbol: spec.key,
        contract,
        ibContract,
        spec,
        instrumentId: 0,
        secType,
        zone,
        summary: { symbol: spec.key, conId: contract.conId, units: 0, skippedStored: 0, skippedEmpty: 0, requests: 0, bars: 0, empty: 0, failed: 0 },
      });
    }
  } finally {
    if (ownResolver) {
      await ownResolver.flush();
      ownResolver.close();
    }
  }
  const ids = await store.transaction(() => upsertInstruments(store, targets.map((t) => t.spec), 'ib'));
  for (const t of targets) t.instrumentId = ids.get(t.spec.key)!;

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

/** The answer's bars inside the request's units, in our columns and sorted by start. */
function toSeries(job: Job, raw: readonly RawBar[], lot: number, what: FetchWhatToShow): BarSeries {
  const t = job.target;
  const rows: { ts: number; bar: RawBar }[] = [];
  const daily = !isIntraday(job.interval);
  for (const bar of raw) {
    const ts = parseBarTime(bar.time, t.zone);
    if (!Number.isFinite(ts)) continue;
    // daily bars always stamped 00:00 UTC of their date, whatever form the date came in
    const stamp = daily ? Date.UTC(new Date(ts).getUTCFullYear(), new Date(ts).getUTCMonth(), new Date(ts).getUTCDate()) : ts;
    if (job.units.some((u) => stamp >= u.start && stamp < u.end)) rows.push({ ts: stamp, bar });
  }
  rows.sort((a, b) => a.ts - b.ts);
  // a repeated start (never expected from IB) keeps the last bar
  const unique = rows.filter((r, i) => i + 1 >= rows.length || rows[i + 1]!.ts !== r.ts);
  const n = unique.length;
  const col = () => new Float64Array(n);
  const s: BarSeries = { instrumentKey: t.spec.key, interval: job.interval, kind: KIND_OF[what], file: job.label, length: n, ts: col(), open: col(), high: col(), low: col(), close: col(), volume: col() };
  unique.forEach((r, i) => {
    s.ts[i] = r.ts;
    s.open[i] = r.bar.open;
    s.high[i] = r.bar.high;
    s.low[i] = r.bar.low;
    s.close[i] = r.bar.close;
    s.volume[i] = what === 'TRADES' ? volumeFromLots(r.bar.volume, lot) : 0;
  });
  return s;
}
