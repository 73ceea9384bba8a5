import type { Contract } from '@stoqey/ib';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { Interval } from '../../lib/data/interval.js';
import type { LiveSubscription } from '../../lib/engine/live-feed.js';
import { NEW_YORK } from '../../lib/core/time-zone.js';
import type { ContractQuery } from '../../lib/ib/contract-resolver.js';
import type { SessionScheduler } from '../../lib/ib/ib-session.js';
import { DERIVED_INTERVALS, type BarAggregator, type DerivedInterval } from '../../lib/live/bar-aggregator.js';
import type { LineAllocation } from './line-budget.js';
import type { PlainBar } from './market-data-helpers.js';
import type { DepthBookView, IbMarketDataOptions, InstrumentStatus, MarketDataInstrument, L1Quote, MarketDataError, MarketDataIssue, MarketDataSession, MarketDataStatus, MarketDataStream, StreamState } from './market-data-types.js';
import type { StaleMonitor } from './stale-monitor.js';

export type StreamKind = 'l1' | 'bars' | 'depth';

export interface Stream {
  /** The instrument should have it (granted by the plan, or bars subscribed by the kernel) */
  wanted: boolean;
  state: StreamState;
  reqId: number | undefined;
}

/** After a (re)subscription of the bar stream: how its first minutes join the ones delivered. */
export interface Sync {
  phase: 'first-input' | 'first-minute' | 'backfill';
  /** Close of the last minute delivered when the stream (re)started */
  from: number;
  /** Start of the minute the stream joined in the middle of (dropped) */
  partial: number | undefined;
  held: PlainBar[];
}

export interface Entry {
  readonly key: string;
  readonly query: ContractQuery;
  state: InstrumentStatus['state'];
  spec: InstrumentSpec | undefined;
  contract: Contract | undefined;
  resolving: Promise<InstrumentSpec> | undefined;
  lot: number;
  /** The exchange's time zone (derived buckets are aligned from its midnight) */
  zone: string;
  readonly streams: Record<StreamKind, Stream>;
  quote: L1Quote;
  book: DepthBookView | undefined;
  lastUpdate: number;
  issue: MarketDataIssue | undefined;
  /** 5 s bars (or trade ticks) -> minutes */
  minuteAgg: BarAggregator | undefined;
  /** Delivered minutes -> derived bars */
  derivedAgg: BarAggregator | undefined;
  /** Derived bars of buckets starting before this are not delivered (incomplete) */
  derivedFrom: number;
  lastMinuteClose: number;
  minutes: number;
  sync: Sync | undefined;
  /** Start of the newest 5 s bar of the current stream (NaN: none yet) */
  lastBarStart: number;
  /** Recent delivery lags of 5 s bars (ms), a ring */
  lags: Float64Array;
  lagIndex: number;
  /** Inputs (5 s bars, or trades) taken into the minute aggregator, and their count at the last flush tick */
  inputs: number;
  inputsAtTick: number;
  /** A LAST price waiting for its LAST_SIZE (bars from L1) */
  pendingLast: number;
  readonly handles: Map<Interval, LiveSubscription>;
}

export interface Route {
  entry: Entry;
  stream: StreamKind;
}

export interface HistoryRequest {
  entry: Entry;
  bars: PlainBar[];
  timer: unknown;
  settle: (error: MarketDataError | undefined) => void;
}

export const LAG_WINDOW = 24;
export const DERIVED: readonly DerivedInterval[] = DERIVED_INTERVALS;

export function zoneOf(e: Entry): string {
  return e.zone;
}

/** What the stream helpers outside the class need of `IbMarketData`. */
export interface MarketDataContext {
  readonly o: IbMarketDataOptions;
  readonly session: MarketDataSession;
  readonly scheduler: SessionScheduler;
  readonly histories: Map<number, HistoryRequest>;
  readonly graceMs: number;
  readonly realtimeBars: boolean;
  readonly useRTH: boolean;
  now(): number;
  stopped(): boolean;
  allocateReqId(): number;
  report(e: Entry, stream: MarketDataStream, message: string, code?: number): void;
}

export function newEntry(inst: MarketDataInstrument): Entry {
  const stream = (): Stream => ({ wanted: false, state: 'off', reqId: undefined });
  return {
    key: inst.key,
    query: inst.query,
    state: 'waiting',
    spec: undefined,
    contract: undefined,
    resolving: undefined,
    lot: 1,
    zone: NEW_YORK,
    streams: { l1: stream(), bars: stream(), depth: stream() },
    quote: { bid: NaN, ask: NaN, last: NaN, bidSize: NaN, askSize: NaN, lastSize: NaN, volume: NaN, ts: NaN },
    book: undefined,
    lastUpdate: NaN,
    issue: undefined,
    minuteAgg: undefined,
    derivedAgg: undefined,
    derivedFrom: -Infinity,
    lastMinuteClose: -Infinity,
    minutes: 0,
    sync: undefined,
    lastBarStart: NaN,
    lags: new Float64Array(LAG_WINDOW),
    lagIndex: 0,
    inputs: 0,
    inputsAtTick: 0,
    pendingLast: NaN,
    handles: new Map(),
  };
}

/** The status of the instruments' streams (`IbMarketData.status()`). */
export function buildStatus(m: { o: IbMarketDataOptions; entries: ReadonlyMap<string, Entry>; allocation: LineAllocation | undefined; realtimeBars: boolean; stale: StaleMonitor }): MarketDataStatus {
  const instruments: InstrumentStatus[] = [];
  const notSubscribed: MarketDataStatus['notSubscribed'] = [];
  let linesUsed = 0;
  let depthUsed = 0;
  const waiting = new Map((m.allocation?.notSubscribed ?? []).map((w) => [w.symbol, w.reason]));
  for (const e of m.entries.values()) {
    const live = (s: Stream) => s.state === 'requested' || s.state === 'active';
    if (live(e.streams.l1)) linesUsed++;
    if (m.realtimeBars && live(e.streams.bars)) linesUsed++;
    if (live(e.streams.depth)) depthUsed++;
    instruments.push({
      instrument: e.key,
      state: e.state,
      streams: { l1: e.streams.l1.state, bars: e.streams.bars.state, depth: e.streams.depth.state },
      lastUpdate: e.lastUpdate,
      stale: m.stale.isStale(e.key),
      issue: e.issue,
      minutes: e.minutes,
    });
    const w = waiting.get(e.key);
    const wanted = [e.streams.l1, e.streams.bars].filter((st) => st.wanted);
    if (w !== undefined) notSubscribed.push({ instrument: e.key, reason: w });
    else if (e.state === 'failed') notSubscribed.push({ instrument: e.key, reason: e.issue?.message ?? 'failed' });
    else if (wanted.length > 0 && wanted.every((st) => st.state === 'failed')) notSubscribed.push({ instrument: e.key, reason: e.issue?.message ?? 'streams failed' });
  }
  return {
    linesUsed,
    linesPlanned: m.allocation?.linesUsed ?? 0,
    lineBudget: m.o.data.lineBudget,
    depthUsed,
    maxDepth: m.allocation?.maxDepth ?? m.o.maxDepth ?? 3,
    instruments,
    stale: m.stale.staleKeys(),
    notSubscribed,
    allocation: m.allocation,
  };
}
