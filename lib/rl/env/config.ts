/**
 * The trading environment's configuration: YAML validated by zod, every problem reported as
 * `<file>: <field path>: <message>`. A config is plain JSON (it goes into checkpoints and worker
 * threads); relative paths in it (db, featureSet, watchlist) are resolved against the working
 * directory when the data is loaded, i.e. the project root, as everywhere in monger.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { COMMISSION_MODEL_NAMES } from '../../backtest/commission.js';
import { INTERVALS } from '../../data/interval.js';
import type { EnvConfig } from '../types.js';

const finite = () => z.number().refine(Number.isFinite, 'expected a finite number');
const date = () => z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

/** Bars and features from the DuckDB store through a feature set (cached in the store) */
export const storeDataSchema = z
  .object({
    kind: z.literal('store'),
    /** Store file; default the store's own default (MONGER_DB or data/monger.duckdb) */
    db: z.string().min(1).optional(),
    symbols: z.array(z.string().min(1)).min(1).optional(),
    /** A watchlist file (one symbol per line), instead of `symbols` */
    watchlist: z.string().min(1).optional(),
    /** What to do with universe symbols the store does not know */
    missing: z.enum(['error', 'skip']).default('error'),
    interval: z.enum(INTERVALS).default('1d'),
    /** Split/dividend adjusted prices: no fake returns at splits */
    adjusted: z.boolean().default(true),
    from: date().optional(),
    to: date().optional(),
    featureSet: z.string().min(1),
    /** Subset of the feature set's columns, in this order (default: all) */
    columns: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((d) => (d.symbols === undefined) !== (d.watchlist === undefined), { message: 'give exactly one of symbols or watchlist', path: ['symbols'] });

export const SYNTHETIC_PROCESSES = ['random-walk', 'trend', 'signal', 'mean-revert'] as const;

/**
 * Seeded synthetic markets whose optimal policy is known (see synthetic.ts): feature 0 is the
 * process's state (the signal, the deviation from the mean), feature 1 the last return in units of
 * volatility, the rest independent noise.
 */
export const syntheticDataSchema = z
  .object({
    kind: z.literal('synthetic'),
    seed: z.number().int().default(1),
    symbols: z.number().int().min(1).max(1024).default(4),
    bars: z.number().int().min(16).default(2520),
    process: z.enum(SYNTHETIC_PROCESSES).default('signal'),
    /** Per-bar log-return standard deviation */
    volatility: finite().refine((v) => v > 0, 'expected > 0').default(0.01),
    /** Per-bar log drift (trend: each symbol's drift is +drift or -drift, by the seed) */
    drift: finite().default(0.0005),
    /** signal: correlation between feature 0 at t and the return from t to t+1 */
    signalStrength: z.number().min(0).max(1).default(0.3),
    /** signal: AR(1) persistence of the latent signal */
    persistence: z.number().min(0).max(0.999).default(0.9),
    /** mean-revert: fraction of the log-price deviation closed per bar */
    reversion: z.number().min(0).max(1).default(0.05),
    features: z.number().int().min(1).max(4096).default(8),
    /** Bars are the calendar's sessions from `start` on */
    calendar: z.string().default('XNYS'),
    start: date().default('2000-01-03'),
  })
  .strict();

const universeSchema = z
  .object({
    /** Observation slots (symbols per episode); default: the whole universe (or `sample`) */
    slots: z.number().int().min(1).optional(),
    /** Random subset of this many symbols per episode (the mask shows which slots hold one) */
    sample: z.number().int().min(1).optional(),
    /** Fewest symbols an episode may have (starts are redrawn until enough have data) */
    minSymbols: z.number().int().min(1).default(1),
  })
  .strict();

const episodeSchema = z
  .object({
    /** Decision steps per episode (ends `truncated`), or 'to-end': until the data ends (`terminal`) */
    length: z.union([z.number().int().min(1), z.literal('to-end')]).default(252),
    /** Bars of history in each observation */
    window: z.number().int().min(1).default(32),
    /** random: a seeded start per episode; first: the first bar with a full window and data */
    start: z.enum(['random', 'first']).default('random'),
  })
  .strict();

const portfolioSchema = z
  .object({
    cash: finite().refine((v) => v > 0, 'expected > 0').default(100_000),
    commission: z.enum(COMMISSION_MODEL_NAMES).default('ib-fixed'),
    slippageBps: z.number().min(0).default(1),
    /** Trade whole shares (rounded toward zero) or fractions */
    wholeShares: z.boolean().default(true),
    /** A slot is not traded when the trade's value is below this fraction of equity (0: any change trades) */
    rebalanceBand: z.number().min(0).max(1).default(0),
  })
  .strict();

const volTargetAction = z
  .object({
    kind: z.literal('volatility-target'),
    /** Annualized volatility an exposure of 1 is scaled to */
    volTarget: finite().refine((v) => v > 0, 'expected > 0').default(0.15),
    /** Bars of log returns in the realized volatility */
    volWindow: z.number().int().min(2).default(20),
    maxLeverage: finite().refine((v) => v > 0, 'expected > 0').default(1),
    /** Largest |weight| of one symbol, as a fraction of equity */
    maxAllocation: finite().refine((v) => v > 0, 'expected > 0').default(0.5),
    longOnly: z.boolean().default(false),
  })
  .strict();

const discreteAction = z
  .object({
    kind: z.literal('discrete'),
    /** Weight a buy goes to (and a sell to its negative, or 0 when long-only) */
    maxAllocation: finite().refine((v) => v > 0, 'expected > 0').default(0.25),
    maxLeverage: finite().refine((v) => v > 0, 'expected > 0').default(1),
    volWindow: z.number().int().min(2).default(20),
    longOnly: z.boolean().default(false),
  })
  .strict();

const rewardSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('risk-aware'),
      drawdownPenalty: z.number().min(0).default(1),
      turnoverPenalty: z.number().min(0).default(0.001),
      /** Half-life in steps of the EMA of squared returns that scales the return */
      volHalfLife: z.number().positive().default(20),
      /** Floor of that per-step volatility, so early steps are not divided by ~0 */
      volFloor: z.number().positive().default(0.005),
    })
    .strict(),
  z.object({ kind: z.literal('pnl') }).strict(),
  z.object({ kind: z.literal('position-returns') }).strict(),
]);

const stopperSchema = z
  .object({
    /** End the episode when the drawdown from the peak reaches this fraction (1 = never) */
    maxDrawdown: z.number().positive().max(1).default(0.3),
    /** End it when equity falls to this fraction of the starting cash (0 = never) */
    equityFloor: z.number().min(0).max(1).default(0.5),
    /** Steps at the start of an episode the thresholds are not checked (equity <= 0 always ends it) */
    warmupSteps: z.number().int().min(0).default(0),
  })
  .strict();

const observationSchema = z
  .object({
    /**
     * stacked: [window, slots, features] oldest row first (a copy of the window per step);
     * ring: the same rows in a ring, row r of the episode in slot r mod window (one row written per
     * step; the VecEnv's `ringHead` names the newest slot).
     */
    layout: z.enum(['stacked', 'ring']).default('stacked'),
    /** Append each slot's current weight (position value / equity) */
    includePortfolio: z.boolean().default(true),
    /** Features are clipped to [-clip, clip] (z-scores) */
    clip: z.number().positive().default(5),
  })
  .strict();

export const envConfigSchema = z
  .object({
    name: z.string().min(1).default('trading-env'),
    description: z.string().optional(),
    data: z.discriminatedUnion('kind', [storeDataSchema, syntheticDataSchema]),
    universe: universeSchema.default({ minSymbols: 1 }),
    episode: episodeSchema.default({ length: 252, window: 32, start: 'random' }),
    portfolio: portfolioSchema.default({ cash: 100_000, commission: 'ib-fixed', slippageBps: 1, wholeShares: true, rebalanceBand: 0 }),
    action: z.discriminatedUnion('kind', [volTargetAction, discreteAction]).default({
      kind: 'volatility-target', volTarget: 0.15, volWindow: 20, maxLeverage: 1, maxAllocation: 0.5, longOnly: false,
    }),
    reward: rewardSchema.default({ kind: 'risk-aware', drawdownPenalty: 1, turnoverPenalty: 0.001, volHalfLife: 20, volFloor: 0.005 }),
    stopper: stopperSchema.default({ maxDrawdown: 0.3, equityFloor: 0.5, warmupSteps: 0 }),
    observation: observationSchema.default({ layout: 'stacked', includePortfolio: true, clip: 5 }),
    /** Bars per year, for annualized volatility and episode statistics */
    periodsPerYear: z.number().positive().default(252),
  })
  .strict();

export type TradingEnvConfig = z.output<typeof envConfigSchema>;
export type TradingEnvConfigInput = z.input<typeof envConfigSchema>;
export type StoreDataConfig = z.output<typeof storeDataSchema>;
export type SyntheticDataConfig = z.output<typeof syntheticDataSchema>;
export type ActionConfig = TradingEnvConfig['action'];
export type RewardConfig = TradingEnvConfig['reward'];

/** Validates a parsed config (defaults filled in); a ConfigError naming `source` lists every problem by field. */
export function parseEnvConfig(raw: unknown, source = 'env config'): TradingEnvConfig {
  const parsed = envConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  const c = parsed.data;
  const problems: string[] = [];
  if (c.universe.slots !== undefined && c.universe.sample !== undefined && c.universe.sample > c.universe.slots) {
    problems.push(`universe.sample: ${c.universe.sample} symbols do not fit in universe.slots = ${c.universe.slots}`);
  }
  if (c.universe.sample !== undefined && c.universe.minSymbols > c.universe.sample) {
    problems.push(`universe.minSymbols: ${c.universe.minSymbols} is more than universe.sample = ${c.universe.sample}`);
  }
  if (c.data.kind === 'synthetic' && c.universe.sample !== undefined && c.universe.sample > c.data.symbols) {
    problems.push(`universe.sample: ${c.universe.sample} is more than data.symbols = ${c.data.symbols}`);
  }
  if (problems.length) throw new ConfigError(source, problems);
  return c;
}

/** Reads and validates an env config YAML file; errors name the file and the field (or line and column). */
export function loadEnvConfig(path: string): TradingEnvConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`cannot read the env config: ${(e as Error).message}`]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return parseEnvConfig(doc.toJS() as unknown, path);
}

/** Canonical JSON (keys sorted) of a value, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 of the validated config's canonical JSON: defaults filled in (spelt-out defaults hash
 * alike), name and description left out (they do not change the environment).
 */
export function envConfigHash(config: EnvConfig | TradingEnvConfig): string {
  const { name: _name, description: _description, ...rest } = parseEnvConfig(config);
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
