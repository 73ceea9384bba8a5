/**
 * `replay` (required with mode replay, refused otherwise): what the TWS simulator plays. `db` is the
 * store (or `:memory:`), `import` lists bar files/folders imported into it first, `from` / `to` (a
 * date = 00:00 UTC, or an ISO instant with a zone; a bare `to` date includes its whole UTC day),
 * `speed` (simulated seconds per real second), `duration` (90s, 30m, 2h of simulated time), and the
 * simulator the runner starts (`simulator.port`, `serverVersion`) unless `connect: true`, and how
 * that simulator fills orders: `fillModel` quote (default: at the replayed bid/ask the moment an
 * order arrives, as a live venue) or backtest (on the stored bars as the backtest does, next bar's
 * open, runner/tws-sim/backtest-fills.ts), with `commission` (ib-fixed) and, for backtest fills,
 * `slippageBps` (0).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { COMMISSION_MODEL_NAMES } from '../../lib/backtest/commission.js';
import { FILL_MODELS } from '../tws-sim/backtest-fills.js';
import { bool, expected, nonNegative, oneOf, pattern, port, positive, section, text } from './config-schema-util.js';
import type { RunnerMode } from './config-schema-ib.js';
import type { Validation } from './config-validation.js';

/** A date (00:00 UTC) or an instant with an explicit zone: a bare local time would depend on the machine */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const DURATION_RE = /^([1-9]\d*)(s|m|h)$/;
const DURATION_UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

const simulatorSchema = section({
  port: port('a TCP port (integer 0..65535; 0 picks a free one)', 0).default(0),
  serverVersion: z.union([z.literal(193), z.literal(176)], { error: expected('193 or 176') }).default(193),
});

export const replaySchema = section({
  db: text('a DuckDB store path (or :memory:)'),
  import: z.array(text('a file or folder path'), { error: expected('a list of bar files or folders') }).optional(),
  from: pattern('YYYY-MM-DD or an ISO instant with a zone (2013-10-08T13:30:00Z)', INSTANT_RE),
  to: pattern('YYYY-MM-DD or an ISO instant with a zone (2013-10-08T20:00:00Z)', INSTANT_RE).optional(),
  speed: positive('a positive number (simulated seconds per real second)'),
  duration: pattern('a duration like 90s, 30m or 2h', DURATION_RE).optional(),
  connect: bool().default(false),
  simulator: simulatorSchema.default({ port: 0, serverVersion: 193 }),
  fillModel: oneOf(FILL_MODELS).default('quote'),
  commission: oneOf(COMMISSION_MODEL_NAMES).default('ib-fixed'),
  slippageBps: nonNegative('a number of basis points >= 0').default(0),
});

export type ReplaySettings = z.output<typeof replaySchema> & {
  /** `from` / `to` as epoch ms (`to` of a bare date: the end of that UTC day) */
  fromMs: number;
  toMs?: number;
  durationMs?: number;
};

/** The resolved replay settings (mode replay only); problems recorded */
export function checkReplay(mode: RunnerMode | undefined, replay: z.output<typeof replaySchema> | undefined, doc: Record<string, unknown>, v: Validation): ReplaySettings | undefined {
  if (mode === undefined) return undefined;
  if (mode !== 'replay') {
    if (doc.replay !== undefined) v.problem(['replay'], `only allowed with mode: replay (mode is ${mode}); remove it`);
    return undefined;
  }
  if (doc.replay === undefined) {
    v.problem(['replay'], 'required with mode: replay (db, from, speed: the stored data the simulator plays)');
    return undefined;
  }
  if (replay === undefined) return undefined;
  const fromMs = instantMs(replay.from, 'from');
  const toMs = replay.to === undefined ? undefined : instantMs(replay.to, 'to');
  if (Number.isNaN(fromMs)) v.problem(['replay', 'from'], `'${replay.from}' is not a real date`);
  if (toMs !== undefined && Number.isNaN(toMs)) v.problem(['replay', 'to'], `'${replay.to}' is not a real date`);
  else if (toMs !== undefined && toMs <= fromMs) v.problem(['replay', 'to'], `${replay.to} is not after replay.from ${replay.from}`);
  const rawReplay = doc.replay as Record<string, unknown>;
  if (replay.connect && rawReplay.simulator !== undefined) {
    v.problem(['replay', 'simulator'], 'only used when the runner starts the simulator (replay.connect: false)');
  }
  for (const [i, p] of (replay.import ?? []).entries()) {
    if (!existsSync(resolve(p))) v.problem(['replay', 'import', i], `no such file or folder '${p}'`);
  }
  if (replay.import === undefined && replay.db !== ':memory:' && !replay.connect && !existsSync(resolve(replay.db))) {
    v.problem(['replay', 'db'], `no such store '${replay.db}'; import data into it first (monger data import) or list bar files under replay.import`);
  }
  const m = replay.duration === undefined ? null : DURATION_RE.exec(replay.duration);
  return {
    ...replay,
    fromMs,
    ...(toMs !== undefined ? { toMs } : {}),
    ...(m ? { durationMs: Number(m[1]) * DURATION_UNIT_MS[m[2]!]! } : {}),
  };
}

/** Epoch ms of a checked instant; a bare `to` date includes that whole UTC day. NaN for 2024-02-30. */
function instantMs(s: string, side: 'from' | 'to'): number {
  const dateOnly = s.length === 10;
  const ms = Date.parse(dateOnly ? `${s}T00:00:00Z` : s);
  // Date.parse rolls 2024-02-30 over to March: the date part must survive the round trip
  if (Number.isNaN(ms) || new Date(Date.parse(`${s.slice(0, 10)}T00:00:00Z`)).toISOString().slice(0, 10) !== s.slice(0, 10)) return NaN;
  return dateOnly && side === 'to' ? ms + 86_400_000 - 1 : ms;
}
