/**
 * A trading signal: a model's number for a ticker at a time, and when it became known.
 *
 * Point in time: a signal is visible only from `availableAt`, its publication time, which is
 * never before `ts` (the time the signal is about: the model's as-of time). A provider row
 * without a publication time is visible at `ts`. Backtests deliver each signal at `availableAt`
 * and live runs when it is polled, so a model published with a lag (computed from the 16:00 close,
 * written at 16:20) is traded at 16:20 in both: never on data the strategy could not have had.
 *
 * Identity: (symbol, ts) names a signal; it is immutable. A revised number is a new signal with a
 * later ts (rewriting history would be lookahead). Providers refuse or skip duplicates.
 */
import { WorkbenchError } from '../core/errors.js';
import { symbolProblem } from '../data/instrument.js';

export interface Signal {
  /** Epoch ms: the time the signal is about (the model's as-of time) */
  ts: number;
  /** Ticker symbol as the model names it (`AAPL`, `BRK.B`); resolved to an instrument by the universe */
  symbol: string;
  /** The model's number; the trading rules read its sign and size (threshold, unit per signal) */
  value: number;
  /** Epoch ms when it was published: visible from then on; >= ts */
  availableAt: number;
  /** Provenance: `file.csv:12`, a table name, a model name */
  source?: string;
}

/** A signal on its way to a strategy: the universe resolved its symbol to an engine instrument */
export interface RoutedSignal extends Signal {
  /** The engine's instrument key (`AAPL`, `ES-202412`) for ctx.signal, ctx.history, … */
  instrument: string;
}

export type SignalErrorCode = 'SIGNAL_INVALID' | 'SIGNAL_PROVIDER' | 'SIGNAL_FILE';

/** A provider failed (query, connection) or a row broke the signal contract */
export class SignalError extends WorkbenchError {
  readonly code: SignalErrorCode;
  constructor(code: SignalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Why a signal breaks the contract, or undefined when it is fine */
export function signalProblem(s: Pick<Signal, 'ts' | 'symbol' | 'value' | 'availableAt'>): string | undefined {
  if (typeof s.symbol !== 'string') return `symbol: expected a ticker symbol, got ${JSON.stringify(s.symbol)}`;
  const bad = symbolProblem(s.symbol);
  if (bad !== undefined) return `symbol: ${bad}`;
  if (!Number.isFinite(s.ts)) return `ts: expected a time, got ${String(s.ts)}`;
  if (!Number.isFinite(s.value)) return `value: expected a finite number, got ${String(s.value)}`;
  if (!Number.isFinite(s.availableAt)) return `available_at: expected a time, got ${String(s.availableAt)}`;
  if (s.availableAt < s.ts) return `available_at: ${iso(s.availableAt)} is before ts ${iso(s.ts)}: a signal cannot be published before the time it is about`;
  return undefined;
}

/** Delivery order: by publication time, then as-of time, then symbol (a strict total order on identities) */
export function compareSignals(a: Pick<Signal, 'availableAt' | 'ts' | 'symbol'>, b: Pick<Signal, 'availableAt' | 'ts' | 'symbol'>): number {
  if (a.availableAt !== b.availableAt) return a.availableAt - b.availableAt;
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
}

/** The identity of a signal (dedup keys) */
export function signalKey(s: Pick<Signal, 'symbol' | 'ts'>): string {
  return `${s.symbol}@${s.ts}`;
}

export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
