import type { Logger } from '../../lib/core/logger.js';
import { ConfigError, WorkbenchError } from '../../lib/core/errors.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { ContractQuery, ContractResolver } from '../../lib/ib/contract-resolver.js';
import type { IbSession, SessionScheduler } from '../../lib/ib/ib-session.js';
import type { DataSettings } from './config.js';
import type { LineAllocation } from './line-budget.js';
import type { StaleCalendar } from './stale-monitor.js';

// ---------------------------------------------------------------------------------------------
// Public types

/** One universe instrument: its key (the engine's instrument key) and how IB finds it. */
export interface MarketDataInstrument {
  key: string;
  query: ContractQuery;
}

export type MarketDataSession = Pick<IbSession, 'request' | 'on' | 'registerResubscribe' | 'api' | 'ready'>;
export type MarketDataResolver = Pick<ContractResolver, 'resolveOne'>;

export interface L1Quote {
  bid: number;
  ask: number;
  last: number;
  bidSize: number;
  askSize: number;
  lastSize: number;
  /** Session volume as IB reports it (lots for US stocks) */
  volume: number;
  /** Engine time of the last tick (NaN before the first) */
  ts: number;
}

export interface DepthLevel {
  price: number;
  size: number;
  marketMaker?: string;
}

export interface DepthBookView {
  bids: DepthLevel[];
  asks: DepthLevel[];
  ts: number;
}

export type MarketDataStream = 'contract' | 'l1' | 'bars' | 'depth' | 'history' | 'backfill';

/** Something that went wrong for one instrument (never thrown). */
export interface MarketDataIssue {
  instrument: string;
  stream: MarketDataStream;
  /** IB's error code when IB answered with one */
  code?: number;
  message: string;
  at: number;
}

export type StreamState = 'off' | 'pending' | 'requested' | 'active' | 'failed';

export interface InstrumentStatus {
  instrument: string;
  state: 'waiting' | 'resolving' | 'subscribed' | 'failed';
  streams: { l1: StreamState; bars: StreamState; depth: StreamState };
  /** Engine time of the last update (NaN: none yet) */
  lastUpdate: number;
  stale: boolean;
  /** The last issue reported for it */
  issue?: MarketDataIssue;
  /** Minute bars delivered so far (live and backfill) */
  minutes: number;
}

export interface MarketDataStatus {
  /** Lines held or asked for right now (L1 + realtime bars) */
  linesUsed: number;
  /** Lines the plan reserved */
  linesPlanned: number;
  lineBudget: number;
  depthUsed: number;
  maxDepth: number;
  instruments: InstrumentStatus[];
  stale: string[];
  /** Universe instruments without data: waiting for lines, or failed (contract, 101, …) */
  notSubscribed: { instrument: string; reason: string }[];
  allocation: LineAllocation | undefined;
}

export interface IbMarketDataOptions {
  session: MarketDataSession;
  resolver: MarketDataResolver;
  /** The universe in configured order (see `universeInstruments`) */
  instruments: readonly MarketDataInstrument[];
  data: Pick<DataSettings, 'lineBudget' | 'staleSeconds' | 'depth' | 'realtimeBars'>;
  /** Instruments with open positions: their lines come first */
  positions?: Iterable<string>;
  /** Ask for L1 quotes (default true: the execution side prices from them) */
  l1?: boolean;
  /** Regular trading hours only, for realtime and historical bars (default false: as the stored extended-hours bars) */
  useRTH?: boolean;
  /** Depth rows per book (default 5) */
  depthRows?: number;
  /** Depth books at once (default 3, IB's limit) */
  maxDepth?: number;
  /** Lines other clients of the account hold (default 0) */
  reservedLines?: number;
  /** Sessions fetched for a warm start at most (default 10) */
  maxHistorySessions?: number;
  /** Per historical request (default 30 s of scheduler time) */
  historyTimeoutMs?: number;
  /** How long start() waits for the session (default 30 s) */
  readyTimeoutMs?: number;
  /** Flush and stale-check period (default 1000 ms of scheduler time) */
  tickMs?: number;
  /** Wait after a minute's end (plus the observed lag) before flush closes it (default 2000 ms) */
  graceMs?: number;
  /** Shares per reported volume unit (default 100 for STK, 1 otherwise: IB reports stock volume in lots) */
  volumeLot?: (spec: InstrumentSpec) => number;
  /** The exchange calendar staleness is judged by (default calendarForInstrument; undefined: always open) */
  calendar?: (spec: InstrumentSpec) => StaleCalendar | undefined;
  /** Request ids used (default 800_000..899_999) */
  reqIdRange?: { from: number; to: number };
  onStale?: (instrument: string, sinceMs: number) => void;
  onFresh?: (instrument: string) => void;
  onIssue?: (issue: MarketDataIssue) => void;
  /** Engine (TWS) time; default scheduler.now */
  now?: () => number;
  scheduler?: SessionScheduler;
  logger?: Logger;
}

export class MarketDataError extends WorkbenchError {
  readonly code = 'IB_MARKET_DATA';
  constructor(
    message: string,
    readonly ibCode?: number,
  ) {
    super(message);
  }
}

/** Checks the options (ConfigError listing every problem); returns the request id range. */
export function validateOptions(options: IbMarketDataOptions): { from: number; to: number } {
  const problems: string[] = [];
  const keys = options.instruments.map((i) => i.key);
  keys.forEach((k, i) => {
    if (keys.indexOf(k) !== i) problems.push(`instruments: '${k}' is listed twice`);
  });
  if (!(options.data.staleSeconds > 0)) problems.push(`data.staleSeconds must be positive, was ${options.data.staleSeconds}`);
  for (const [name, v] of [
    ['depthRows', options.depthRows],
    ['maxHistorySessions', options.maxHistorySessions],
    ['historyTimeoutMs', options.historyTimeoutMs],
    ['tickMs', options.tickMs],
  ] as const) {
    if (v !== undefined && !(v > 0)) problems.push(`${name} must be positive, was ${v}`);
  }
  const range = options.reqIdRange ?? { from: 800_000, to: 899_999 };
  if (!(Number.isInteger(range.from) && range.from > 0 && range.to >= range.from)) problems.push(`reqIdRange must be positive integers with from <= to, got ${range.from}..${range.to}`);
  for (const d of options.data.depth) if (!keys.includes(d)) problems.push(`data.depth: '${d}' is not an instrument of the universe`);
  if (problems.length) throw new ConfigError('ib market data', problems);
  return range;
}
