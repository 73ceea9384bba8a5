/**
 * The history fetcher's options, results and errors, and the checks of its options.
 */
import { WorkbenchError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { parseIsoDate } from '../core/time-zone.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { MergeCounts } from '../store/merge.js';
import type { Store } from '../store/store.js';
import type { ContractQuery, ResolvedContract } from './contract-types.js';
import type { HistorySecType } from './history-plan.js';
import type { HistorySchedulerOptions } from './history-scheduler.js';
import type { IbSession, SessionScheduler } from './ib-session.js';

/** The part of IbSession the fetcher uses. */
export type HistorySession = Pick<IbSession, 'request' | 'on' | 'ready' | 'api'>;

/** The part of ContractResolver the fetcher uses. */
export interface HistoryContractResolver {
  resolve(query: ContractQuery): Promise<ResolvedContract[]>;
}

/** whatToShow values the store has columns for (BID_ASK's time-averaged bars have none). */
export const FETCHABLE_WHAT_TO_SHOW = ['TRADES', 'BID', 'ASK', 'MIDPOINT'] as const;
export type FetchWhatToShow = (typeof FETCHABLE_WHAT_TO_SHOW)[number];

export const KIND_OF: Record<FetchWhatToShow, BarKind> = { TRADES: 'trade', BID: 'bid', ASK: 'ask', MIDPOINT: 'mid' };

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

/** The problems of `o` (empty when there are none). */
export function checkOptions(o: FetchHistoryOptions): string[] {
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
