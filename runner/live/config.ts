/**
 * `runner.yaml`: the live runner's configuration (issue 6).
 *
 * Loaded with the yaml package, then `IB_HOST`, `IB_PORT` and `IB_CLIENT_ID` from the environment
 * replace `ib.host`, `ib.port` and `ib.clientId` (an empty variable counts as unset), then every
 * section is validated by its zod schema and the sections are checked against each other. A wrong
 * config is one `ConfigError` naming the file and listing EVERY problem by path, e.g.
 * `trading.symbols.SPY.maxPosition: expected a positive number, got -5`; a value that came from
 * the environment names the variable (`ib.port (IB_PORT): …`). Unknown keys are problems too: a
 * misspelt limit must never be silently ignored.
 *
 * Nothing dangerous has a default: the mode, the port and client id of a paper/live session, the
 * live account, position sizes, account loss limits and every pre-trade risk limit must be written
 * down. Defaults exist only where they are safe (session guard 15/5 minutes, 100 market-data
 * lines, 30 s staleness, shorting off, `127.0.0.1`). Relative paths are relative to the working
 * directory, like every other `monger` path.
 *
 * Sections (see runner/examples/*.yaml):
 * - `mode`: paper | live | replay (required).
 * - `ib`: host (127.0.0.1), port (required for paper/live), clientId (required for paper/live: a
 *   restarted runner must come back as the same client to see its own orders), account (required
 *   for live). IB's default ports are checked against the mode: 7496 (TWS) and 4001 (Gateway)
 *   trade real money, 7497 and 4002 are paper; account ids starting with D (DU1234567) are paper,
 *   others (U1234567) live. A mismatch is refused either way.
 * - `strategy`: name (in STRATEGIES), version (semver; when given it must equal the code's, so a
 *   deploy of different code is noticed), params (validated by the strategy's own schema), interval,
 *   warmup (bars; default the strategy's `warmup(params)`).
 * - `universe`: symbols (tickers), secType / exchange / currency for all of them (STK, SMART, USD).
 * - `trading`: `defaults` and per-symbol `symbols.SYM` overrides of the trading parameters (see
 *   TradingParams); `resolveTradingParams(config, symbol)` merges them.
 * - `account`: maxLossPerTrade, maxCumulativeLoss (currency, required), clipActivation and
 *   clipStopLoss (together or not at all; see AccountLimits).
 * - `risk`: pre-trade limits (required; `toRiskLimits()` maps those the engine's RiskEngine
 *   enforces, the runner enforces the rest).
 * - `session`, `data`, `health`, `journal`, `logging`: operational settings with safe defaults.
 * - `replay` (required with mode replay, refused otherwise): what the TWS simulator plays. `db` is
 *   the store (or `:memory:`), `import` lists bar files/folders imported into it first (so the
 *   bundled data replays on a fresh clone), `from` / `to` (a date = 00:00 UTC, or an ISO instant
 *   with a zone; `to` defaults to the end of the data), `speed` (simulated seconds per real second),
 *   `duration` (90s, 30m, 2h of simulated time). The runner starts the simulator itself on
 *   `simulator.port` (0 = a free port) claiming `simulator.serverVersion` (193), and `ib.port`
 *   must then be absent; `connect: true` instead connects to a simulator already running at
 *   ib.host:ib.port. IB's live ports and live account ids are refused in replay.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../lib/core/errors.js';
import { symbolProblem } from '../../lib/data/instrument.js';
import type { RiskLimits } from '../../lib/engine/risk-engine.js';
import { validateStrategyParams } from '../../lib/engine/strategy-params.js';
import { STRATEGIES, strategyNames } from '../../strategies/index.js';

export const MODES = ['paper', 'live', 'replay'] as const;
export type RunnerMode = (typeof MODES)[number];

/**
 * Strategy bar intervals the live runner can deliver: 1-minute bars aggregated from IB's 5-second
 * bars, minute multiples dividing 30 minutes derived from them (every bucket then starts on the
 * hour grid and on the 09:30 open, as the stored/IB bars are labelled), and daily bars.
 */
export const LIVE_INTERVALS = ['1m', '2m', '3m', '5m', '10m', '15m', '30m', '1d'] as const;
export type LiveInterval = (typeof LIVE_INTERVALS)[number];

/** IB's default API ports and what they trade */
export const LIVE_PORTS: Readonly<Record<number, string>> = { 7496: 'TWS live-trading', 4001: 'IB Gateway live-trading' };
export const PAPER_PORTS: Readonly<Record<number, string>> = { 7497: 'TWS paper-trading', 4002: 'IB Gateway paper-trading' };

/** IB account ids: U1234567 (individual), F…/I… (advisor, institution); a leading D marks a paper account */
const ACCOUNT_RE = /^D?[UFI]\d{4,10}$/;
const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
/** A date (00:00 UTC) or an instant with an explicit zone: a bare local time would depend on the machine */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const DURATION_RE = /^([1-9]\d*)(s|m|h)$/;
const DURATION_UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** The market-data lines an IB account has without booster packs */
export const DEFAULT_LINE_BUDGET = 100;
/** Positions are flat at least this many minutes before the close, whatever the config says */
export const MIN_FLATTEN_MINUTES = 5;

export const ENV_OVERRIDES = { IB_HOST: 'host', IB_PORT: 'port', IB_CLIENT_ID: 'clientId' } as const;

// ---------------------------------------------------------------------------------------------
// Messages: `expected <what>, got <value>`, or `required (<what>)` when the key is missing

function show(v: unknown): string {
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

interface IssueLike {
  code?: string;
  input?: unknown;
}

function expected(what: string): (iss: IssueLike) => string {
  return (iss) => (iss.input === undefined ? `required (${what})` : `expected ${what}, got ${show(iss.input)}`);
}

const finite = (what: string, ok: (n: number) => boolean) => z.number({ error: expected(what) }).refine((n) => Number.isFinite(n) && ok(n), { error: expected(what) });
const positive = (what = 'a positive number') => finite(what, (n) => n > 0);
const nonNegative = (what = 'a number >= 0') => finite(what, (n) => n >= 0);
const integer = (what: string, ok: (n: number) => boolean) => finite(what, (n) => Number.isInteger(n) && ok(n));
const positiveInt = (what = 'a positive integer') => integer(what, (n) => n > 0);
const port = (what = 'a TCP port (integer 1..65535)', min = 1) => integer(what, (n) => n >= min && n <= 65535);
const bool = () => z.boolean({ error: expected('true or false') });
const text = (what: string) => z.string({ error: expected(what) }).refine((s) => s.trim() !== '', { error: expected(what) });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: expected(`one of ${values.join(', ')}`) });
const pattern = (what: string, re: RegExp) => z.string({ error: expected(what) }).refine((s) => re.test(s), { error: expected(what) });
const percent = (what: string, max: number) => finite(what, (n) => n > 0 && n < max);

/** A mapping with exactly these keys; an unknown key is reported by its own path (see issueProblems) */
function section<S extends z.ZodRawShape>(shape: S, what = 'a mapping') {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss: IssueLike) => (iss.code === 'unrecognized_keys' ? `unknown setting; expected one of ${known}` : expected(what)(iss)),
  });
}

const symbol = () =>
  z.string({ error: expected('a ticker symbol') }).superRefine((s, ctx) => {
    const problem = symbolProblem(s);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: s });
  });

// ---------------------------------------------------------------------------------------------
// Sections

const ibSchema = section({
  host: text('a host name or IP address').default('127.0.0.1'),
  port: port().optional(),
  clientId: integer('a client id (integer 0..2147483647)', (n) => n >= 0 && n <= 2_147_483_647).optional(),
  account: pattern('an IB account id like U1234567 (live) or DU1234567 (paper)', ACCOUNT_RE).optional(),
});

const strategySchema = section({
  name: text('a strategy name'),
  version: pattern('a semver version like 1.0.0', SEMVER_RE).optional(),
  params: z.record(z.string(), z.unknown(), { error: expected('a mapping of strategy parameters') }).default({}),
  interval: oneOf(LIVE_INTERVALS),
  warmup: integer('a number of bars (integer >= 0)', (n) => n >= 0).optional(),
});

const SEC_TYPES = ['STK', 'FUT', 'CASH'] as const;

const universeSchema = section({
  symbols: z.array(symbol(), { error: expected('a list of ticker symbols') }).min(1, { error: 'expected at least one symbol' }),
  secType: oneOf(SEC_TYPES).default('STK'),
  exchange: text('an exchange (SMART, NYSE, CME…)').default('SMART'),
  currency: pattern('a currency code like USD', /^[A-Z]{3}$/).default('USD'),
});

const STOP_KINDS = ['static', 'trailing'] as const;
const SPREADS = ['best', 'mid', 'offset'] as const;

/**
 * Trading parameters of one symbol (after merging defaults and overrides).
 * - unitSize: shares (contracts) per entry; maxPosition: largest absolute position in shares.
 * - tradeThreshold: smallest absolute signal that trades (0 = every signal).
 * - maxHoldMinutes: a position older than this is closed; takeProfitPct / stopLossPct: exit
 *   targets in percent of the entry price (2 = 2 %); `stop`: the stop-loss stays at entry price
 *   -/+ stopLossPct (`static`) or trails the best price since entry by it (`trailing`).
 * - spread: the limit price of an order: `best` = the far touch (buy at the ask, sell at the bid:
 *   fills at once), `mid` = the midpoint, `offset` = the near touch improved by `offsetTicks` ticks
 *   towards the far one (buy at bid + n ticks).
 * - invertSignals: buy on sell signals and the reverse.
 */
export interface TradingParams {
  unitSize: number;
  maxPosition: number;
  tradeThreshold: number;
  maxHoldMinutes?: number;
  takeProfitPct?: number;
  stopLossPct?: number;
  stop: (typeof STOP_KINDS)[number];
  spread: (typeof SPREADS)[number];
  offsetTicks?: number;
  invertSignals: boolean;
}

/** The safe built-in defaults under `trading.defaults`; sizes have none */
export const TRADING_DEFAULTS = { tradeThreshold: 0, stop: 'static', spread: 'mid', invertSignals: false } as const satisfies Partial<TradingParams>;

const tradingFields = {
  unitSize: positive('a positive number of shares').optional(),
  maxPosition: positive().optional(),
  tradeThreshold: nonNegative().optional(),
  maxHoldMinutes: positive('a positive number of minutes').optional(),
  takeProfitPct: positive('a positive percentage').optional(),
  stopLossPct: percent('a percentage above 0 and below 100', 100).optional(),
  stop: oneOf(STOP_KINDS).optional(),
  spread: oneOf(SPREADS).optional(),
  offsetTicks: positiveInt('a positive number of ticks').optional(),
  invertSignals: bool().optional(),
};
const tradingOverrides = section(tradingFields);
export type TradingOverrides = z.output<typeof tradingOverrides>;

const tradingSchema = section({
  defaults: tradingOverrides.default({}),
  symbols: z.record(z.string(), tradingOverrides, { error: expected('a mapping of symbol -> trading overrides') }).default({}),
});

/**
 * Account-level limits, in the account currency.
 * - maxLossPerTrade: a position whose loss reaches this is closed.
 * - maxCumulativeLoss: realized + unrealized loss of the session at which the runner flattens and
 *   halts new entries.
 * - clip: once the account's unrealized gain exceeds `clipActivation`, a stop is armed at
 *   `clipStopLoss` (a fraction in (0, 1)) of the highest unrealized gain since; when the gain falls
 *   back to that level the positions are closed, keeping that share of the gain.
 */
const accountSchema = section({
  maxLossPerTrade: positive('a positive amount'),
  maxCumulativeLoss: positive('a positive amount'),
  clipActivation: positive('a positive amount').optional(),
  clipStopLoss: finite('a fraction above 0 and below 1', (n) => n > 0 && n < 1).optional(),
});

/**
 * Pre-trade risk (all required but maxNetLeverage and allowShort).
 * maxPositionNotionalPerSymbol is the per-symbol allocation; leverages are exposure / equity;
 * drawdownHaltPct: a drawdown of the equity from its peak (percent) that halts new entries.
 */
const riskSchema = section({
  maxOrderQuantity: positive(),
  maxOrderNotional: positive('a positive amount'),
  maxPositionNotionalPerSymbol: positive('a positive amount'),
  maxGrossLeverage: positive(),
  maxNetLeverage: positive().optional(),
  maxOpenOrders: positiveInt(),
  drawdownHaltPct: percent('a percentage above 0 and below 100', 100),
  allowShort: bool().default(false),
});

const sessionSchema = section({
  noNewEntriesMinutesBeforeClose: nonNegative('a number of minutes >= 0').default(15),
  flattenMinutesBeforeClose: finite(`a number of minutes >= ${MIN_FLATTEN_MINUTES} (positions are flat at least ${MIN_FLATTEN_MINUTES} minutes before the close)`, (n) => n >= MIN_FLATTEN_MINUTES).default(MIN_FLATTEN_MINUTES),
  tradeOutsideSessions: bool().default(false),
});

const dataSchema = section({
  lineBudget: positiveInt('a positive number of market-data lines').default(DEFAULT_LINE_BUDGET),
  allowMoreLines: bool().default(false),
  staleSeconds: positive('a positive number of seconds').default(30),
  depth: z.array(symbol(), { error: expected('a list of symbols wanting market depth (L2)') }).default([]),
  realtimeBars: bool().default(true),
});

/** GET /health on host:port (no port: no endpoint; 0: a free port); degradation thresholds */
const healthSchema = section({
  host: text('a host name or IP address').default('127.0.0.1'),
  port: port('a TCP port (integer 0..65535; 0 picks a free one)', 0).optional(),
  eventLoopLagMs: positive('a positive number of milliseconds').default(200),
  memoryMb: positive('a positive number of megabytes').optional(),
});

const journalSchema = section({ path: text('a file path').default('data/journal.duckdb') });

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const loggingSchema = section({
  level: oneOf(LOG_LEVELS).default('info'),
  maxLinesPerSecond: positiveInt('a positive number of lines').default(200),
});

const simulatorSchema = section({
  port: port('a TCP port (integer 0..65535; 0 picks a free one)', 0).default(0),
  serverVersion: z.union([z.literal(193), z.literal(176)], { error: expected('193 or 176') }).default(193),
});

const replaySchema = section({
  db: text('a DuckDB store path (or :memory:)'),
  import: z.array(text('a file or folder path'), { error: expected('a list of bar files or folders') }).optional(),
  from: pattern('YYYY-MM-DD or an ISO instant with a zone (2013-10-08T13:30:00Z)', INSTANT_RE),
  to: pattern('YYYY-MM-DD or an ISO instant with a zone (2013-10-08T20:00:00Z)', INSTANT_RE).optional(),
  speed: positive('a positive number (simulated seconds per real second)'),
  duration: pattern('a duration like 90s, 30m or 2h', DURATION_RE).optional(),
  connect: bool().default(false),
  simulator: simulatorSchema.default({ port: 0, serverVersion: 193 }),
});

const SECTIONS = {
  mode: oneOf(MODES),
  ib: ibSchema,
  strategy: strategySchema,
  universe: universeSchema,
  trading: tradingSchema,
  account: accountSchema,
  risk: riskSchema,
  session: sessionSchema,
  data: dataSchema,
  health: healthSchema,
  journal: journalSchema,
  logging: loggingSchema,
  replay: replaySchema,
} as const;
type Sections = { [K in keyof typeof SECTIONS]: z.output<(typeof SECTIONS)[K]> };
/** Sections that may be left out entirely (all their settings have defaults) */
const OPTIONAL_SECTIONS = new Set<string>(['ib', 'session', 'data', 'health', 'journal', 'logging']);

// ---------------------------------------------------------------------------------------------
// The resolved configuration

export type IbSettings = Sections['ib'];
export type AccountLimits = Sections['account'];
export type RiskSettings = Sections['risk'];
export type SessionSettings = Sections['session'];
export type DataSettings = Sections['data'];
export type HealthSettings = Sections['health'];
export type JournalSettings = Sections['journal'];
export type LoggingSettings = Sections['logging'];
export type UniverseSettings = Sections['universe'];

export interface StrategySettings {
  name: string;
  /** The code's version (equal to the config's pin when it has one) */
  version: string;
  /** Validated by the strategy's schema, defaults filled in */
  params: Record<string, unknown>;
  interval: LiveInterval;
  /** Bars of history loaded before the first live bar */
  warmup: number;
}

export interface TradingSettings {
  defaults: TradingOverrides;
  symbols: Record<string, TradingOverrides>;
}

export type ReplaySettings = Sections['replay'] & {
  /** `from` / `to` as epoch ms (`to` of a bare date: the end of that UTC day) */
  fromMs: number;
  toMs?: number;
  durationMs?: number;
};

export interface RunnerConfig {
  /** The file it was loaded from */
  source: string;
  mode: RunnerMode;
  ib: IbSettings;
  strategy: StrategySettings;
  universe: UniverseSettings;
  trading: TradingSettings;
  account: AccountLimits;
  risk: RiskSettings;
  session: SessionSettings;
  data: DataSettings;
  health: HealthSettings;
  journal: JournalSettings;
  logging: LoggingSettings;
  /** Present exactly when mode is replay */
  replay?: ReplaySettings;
}

// ---------------------------------------------------------------------------------------------
// Loading

type Env = Readonly<Record<string, string | undefined>>;

/** Reads, overrides from the environment and validates `path`; a ConfigError lists every problem. */
export function loadRunnerConfig(path: string, env: Env = process.env): RunnerConfig {
  let textContent: string;
  try {
    textContent = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`cannot read the runner config: ${(e as Error).message}`]);
  }
  return parseRunnerConfig(textContent, path, env);
}

/** `loadRunnerConfig` on YAML text already read; `source` names it in errors. */
export function parseRunnerConfig(yamlText: string, source: string, env: Env = {}): RunnerConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return validateRunnerConfig(doc.toJS() as unknown, source, env);
}

/** Validates an already parsed YAML value (after applying the environment overrides). */
export function validateRunnerConfig(raw: unknown, source: string, env: Env = {}): RunnerConfig {
  const v = new Validation(env);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [`(root): expected a mapping of settings (mode, ib, strategy, …), got ${show(raw ?? null)}`]);
  }
  const doc = applyEnvOverrides(raw as Record<string, unknown>, env, v);

  const known = Object.keys(SECTIONS);
  for (const key of Object.keys(doc)) if (!known.includes(key)) v.problem([key], `unknown section; expected one of ${known.join(', ')}`);

  const s: Partial<Sections> = {};
  for (const name of known as (keyof Sections)[]) {
    if (name === 'replay' && doc.replay === undefined) continue;
    const value = doc[name] === undefined && OPTIONAL_SECTIONS.has(name) ? {} : doc[name];
    const parsed = SECTIONS[name].safeParse(value);
    if (parsed.success) (s as Record<string, unknown>)[name] = parsed.data;
    else v.issues([name], parsed.error.issues);
  }

  checkIb(s, doc, v);
  const strategy = checkStrategy(s, v);
  checkUniverse(s, v);
  checkTrading(s, doc, v);
  checkLimits(s, v);
  checkSessionAndData(s, v);
  const replay = checkReplay(s, doc, v);

  if (v.problems.length > 0) throw new ConfigError(source, v.problems);
  return {
    source,
    mode: s.mode!,
    ib: s.ib!,
    strategy: strategy!,
    universe: s.universe!,
    trading: s.trading!,
    account: s.account!,
    risk: s.risk!,
    session: s.session!,
    data: s.data!,
    health: s.health!,
    journal: s.journal!,
    logging: s.logging!,
    ...(replay ? { replay } : {}),
  };
}

/** Collects problems; paths whose value came from the environment name the variable. */
class Validation {
  readonly problems: string[] = [];
  readonly fromEnv = new Map<string, string>();

  constructor(readonly env: Env) {}

  problem(path: readonly PropertyKey[], message: string): void {
    const p = formatPath(path);
    const variable = this.fromEnv.get(p);
    this.problems.push(`${p}${variable ? ` (${variable})` : ''}: ${message}`);
  }

  issues(prefix: readonly PropertyKey[], issues: readonly z.core.$ZodIssue[]): void {
    for (const i of issues) {
      if (i.code === 'unrecognized_keys') for (const key of i.keys) this.problem([...prefix, ...i.path, key], i.message);
      else this.problem([...prefix, ...i.path], i.message);
    }
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s === '' ? String(k) : `.${String(k)}`;
  return s || '(root)';
}

function applyEnvOverrides(doc: Record<string, unknown>, env: Env, v: Validation): Record<string, unknown> {
  const entries = Object.entries(ENV_OVERRIDES).filter(([name]) => (env[name] ?? '').trim() !== '');
  if (entries.length === 0) return doc;
  const ib = doc.ib;
  // a malformed ib section is reported as it is; the environment cannot repair it
  if (ib !== undefined && (ib === null || typeof ib !== 'object' || Array.isArray(ib))) return doc;
  const merged: Record<string, unknown> = { ...(ib as Record<string, unknown> | undefined) };
  for (const [name, key] of entries) {
    const value = env[name]!.trim();
    // numbers stay strings when they are not plain integers, so the problem shows what was given
    merged[key] = key === 'host' ? value : /^-?\d+$/.test(value) ? Number(value) : value;
    v.fromEnv.set(`ib.${key}`, name);
  }
  return { ...doc, ib: merged };
}

// ---------------------------------------------------------------------------------------------
// Cross-section checks (each runs only on sections that parsed)

function checkIb(s: Partial<Sections>, doc: Record<string, unknown>, v: Validation): void {
  const { mode, ib } = s;
  if (mode === undefined || ib === undefined) return;
  const livePort = ib.port !== undefined ? LIVE_PORTS[ib.port] : undefined;
  const paperPort = ib.port !== undefined ? PAPER_PORTS[ib.port] : undefined;
  const paperAccount = ib.account?.startsWith('D');
  if (mode === 'paper' || mode === 'live') {
    if (ib.port === undefined) {
      v.problem(['ib', 'port'], mode === 'paper' ? 'required for mode paper (the API port of a paper session: 7497 TWS, 4002 IB Gateway)' : 'required for mode live (the API port of a live session: 7496 TWS, 4001 IB Gateway)');
    }
    if (ib.clientId === undefined) v.problem(['ib', 'clientId'], `required for mode ${mode} (a fixed client id lets a restarted runner see and manage its own open orders)`);
  }
  if (mode === 'paper') {
    if (livePort) v.problem(['ib', 'port'], `${ib.port} is the ${livePort} port but mode is paper; use 7497 (TWS paper) or 4002 (IB Gateway paper), or set mode: live to trade real money`);
    if (ib.account !== undefined && !paperAccount) v.problem(['ib', 'account'], `${ib.account} is a live-trading account but mode is paper; paper account ids start with D (DU1234567)`);
  }
  if (mode === 'live') {
    if (paperPort) v.problem(['ib', 'port'], `${ib.port} is the ${paperPort} port but mode is live; use 7496 (TWS live) or 4001 (IB Gateway live), or set mode: paper`);
    if (ib.account === undefined) v.problem(['ib', 'account'], 'required for mode live (the account id the runner trades, e.g. U1234567)');
    else if (paperAccount) v.problem(['ib', 'account'], `${ib.account} is a paper-trading account (ids starting with D) but mode is live; use the live account id (U1234567) or set mode: paper`);
  }
  if (mode === 'replay') {
    if (livePort) v.problem(['ib', 'port'], `${ib.port} is the ${livePort} port; replay connects only to the TWS simulator`);
    if (ib.account !== undefined && !paperAccount) v.problem(['ib', 'account'], `${ib.account} is a live-trading account; replay runs against the simulator with a paper account id (DU1234567)`);
    const connect = mappingAt(doc, 'replay')?.connect === true;
    if (connect && ib.port === undefined) v.problem(['ib', 'port'], 'required with replay.connect: true (the port of the running simulator)');
    if (!connect && ib.port !== undefined && !livePort) {
      v.problem(['ib', 'port'], 'not used in replay mode: the runner starts the simulator on replay.simulator.port; set replay.connect: true to connect to a running simulator at ib.host:ib.port instead');
    }
  }
}

function checkStrategy(s: Partial<Sections>, v: Validation): StrategySettings | undefined {
  const st = s.strategy;
  if (st === undefined) return undefined;
  const definition = STRATEGIES[st.name];
  if (definition === undefined) {
    v.problem(['strategy', 'name'], `unknown strategy '${st.name}'; known: ${strategyNames().join(', ')}`);
    return undefined;
  }
  if (st.version !== undefined && st.version !== definition.version) {
    v.problem(['strategy', 'version'], `the config pins ${st.name} ${st.version} but the code is ${definition.version}; deploy that version or update the pin`);
  }
  let params: Record<string, unknown>;
  try {
    params = validateStrategyParams(definition, st.params);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) v.problems.push(p.startsWith('(root): ') ? `strategy.params: ${p.slice(8)}` : `strategy.params.${p}`);
    return undefined;
  }
  const warmup = st.warmup ?? definition.warmup?.(params) ?? 0;
  return { name: st.name, version: definition.version, params, interval: st.interval, warmup };
}

function checkUniverse(s: Partial<Sections>, v: Validation): void {
  s.universe?.symbols.forEach((sym, i, all) => {
    if (all.indexOf(sym) !== i) v.problem(['universe', 'symbols', i], `'${sym}' is listed twice`);
  });
}

function checkTrading(s: Partial<Sections>, doc: Record<string, unknown>, v: Validation): void {
  const { trading, universe, risk } = s;
  const symbols = universe?.symbols;
  // read from the file itself, so a stray override is reported even when another one is invalid
  const overridden = mappingAt(mappingAt(doc, 'trading'), 'symbols');
  if (symbols !== undefined && overridden !== undefined) {
    for (const sym of Object.keys(overridden)) {
      if (!symbols.includes(sym)) v.problem(['trading', 'symbols', sym], `overrides a symbol that is not in universe.symbols (${symbols.join(', ')})`);
    }
  }
  if (trading === undefined) return;
  const d = trading.defaults;
  // the level that set a field: the symbol's overrides, else the defaults
  const where = (sym: string, key: keyof TradingOverrides): PropertyKey[] => (trading.symbols[sym]?.[key] !== undefined ? ['trading', 'symbols', sym, key] : ['trading', 'defaults', key]);
  const reported = new Set<string>();
  const once = (path: PropertyKey[], message: string) => {
    const key = `${formatPath(path)}: ${message}`;
    if (!reported.has(key)) {
      reported.add(key);
      v.problem(path, message);
    }
  };
  for (const key of ['unitSize', 'maxPosition'] as const) {
    if (d[key] !== undefined || symbols === undefined) continue;
    const missing = symbols.filter((sym) => trading.symbols[sym]?.[key] === undefined);
    if (missing.length > 0) {
      const what = key === 'unitSize' ? 'shares per entry' : 'the largest absolute position in shares';
      v.problem(['trading', 'defaults', key], `required (${what}) here or in trading.symbols.<SYM> of every symbol; missing for ${missing.join(', ')}`);
    }
  }
  for (const sym of symbols ?? []) {
    const p = mergeTrading(d, trading.symbols[sym]);
    if (p.unitSize !== undefined && p.maxPosition !== undefined && p.unitSize > p.maxPosition) {
      once(where(sym, 'maxPosition'), `${p.maxPosition} is below unitSize ${p.unitSize}${trading.symbols[sym] !== undefined ? ` for ${sym}` : ''}: no entry could ever be made`);
    }
    if (p.spread === 'offset' && p.offsetTicks === undefined) once(where(sym, 'spread').slice(0, -1).concat('offsetTicks'), 'required with spread: offset (ticks from the near touch towards the far one)');
    if (p.stop === 'trailing' && p.stopLossPct === undefined) once(where(sym, 'stop').slice(0, -1).concat('stopLossPct'), 'required with stop: trailing (the trailing distance in percent)');
    if (risk !== undefined && p.unitSize !== undefined && p.unitSize > risk.maxOrderQuantity) {
      once(where(sym, 'unitSize'), `${p.unitSize} exceeds risk.maxOrderQuantity ${risk.maxOrderQuantity}: every entry would be rejected`);
    }
  }
}

function mappingAt(obj: unknown, key: string): Record<string, unknown> | undefined {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const value = (obj as Record<string, unknown>)[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function mergeTrading(defaults: TradingOverrides, overrides: TradingOverrides | undefined): Partial<TradingParams> {
  const out: Record<string, unknown> = { ...TRADING_DEFAULTS };
  for (const layer of [defaults, overrides ?? {}]) for (const [k, val] of Object.entries(layer)) if (val !== undefined) out[k] = val;
  return out as Partial<TradingParams>;
}

function checkLimits(s: Partial<Sections>, v: Validation): void {
  const { account, risk } = s;
  if (account !== undefined) {
    if (account.maxLossPerTrade > account.maxCumulativeLoss) {
      v.problem(['account', 'maxLossPerTrade'], `${account.maxLossPerTrade} exceeds account.maxCumulativeLoss ${account.maxCumulativeLoss}`);
    }
    if ((account.clipActivation === undefined) !== (account.clipStopLoss === undefined)) {
      const [missing, given] = account.clipActivation === undefined ? ['clipActivation', 'clipStopLoss'] : ['clipStopLoss', 'clipActivation'];
      v.problem(['account', missing], `required with account.${given} (the clip needs both: the gain that arms it and the share of that gain its stop keeps)`);
    }
  }
  if (risk !== undefined && risk.maxNetLeverage !== undefined && risk.maxNetLeverage > risk.maxGrossLeverage) {
    v.problem(['risk', 'maxNetLeverage'], `${risk.maxNetLeverage} exceeds risk.maxGrossLeverage ${risk.maxGrossLeverage}; net exposure never exceeds gross, so it could never bind`);
  }
}

function checkSessionAndData(s: Partial<Sections>, v: Validation): void {
  const { session, data, universe } = s;
  if (session !== undefined && session.noNewEntriesMinutesBeforeClose < session.flattenMinutesBeforeClose) {
    v.problem(
      ['session', 'noNewEntriesMinutesBeforeClose'],
      `${session.noNewEntriesMinutesBeforeClose} is less than session.flattenMinutesBeforeClose ${session.flattenMinutesBeforeClose}: entries would open after the positions were flattened`,
    );
  }
  if (data === undefined) return;
  if (data.lineBudget > DEFAULT_LINE_BUDGET && !data.allowMoreLines) {
    v.problem(['data', 'lineBudget'], `${data.lineBudget} is above the ${DEFAULT_LINE_BUDGET} market-data lines of an IB account; set data.allowMoreLines: true if yours has more (quote booster packs)`);
  }
  data.depth.forEach((sym, i, all) => {
    if (universe !== undefined && !universe.symbols.includes(sym)) v.problem(['data', 'depth', i], `'${sym}' is not in universe.symbols`);
    else if (all.indexOf(sym) !== i) v.problem(['data', 'depth', i], `'${sym}' is listed twice`);
  });
}

function checkReplay(s: Partial<Sections>, doc: Record<string, unknown>, v: Validation): ReplaySettings | undefined {
  const { mode, replay } = s;
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

// ---------------------------------------------------------------------------------------------
// Views of a loaded config

/** The trading parameters of one universe symbol: built-in defaults < trading.defaults < trading.symbols.SYM. */
export function resolveTradingParams(config: Pick<RunnerConfig, 'trading' | 'universe'>, symbol: string): TradingParams {
  if (!config.universe.symbols.includes(symbol)) {
    throw new ConfigError('resolveTradingParams', [`'${symbol}' is not in universe.symbols (${config.universe.symbols.join(', ')})`]);
  }
  // validation guarantees unitSize and maxPosition for every universe symbol
  return mergeTrading(config.trading.defaults, config.trading.symbols[symbol]) as TradingParams;
}

/**
 * The limits the engine's RiskEngine enforces: order quantity and notional, gross leverage,
 * shorting, and, as a backstop for every instrument, the largest per-symbol `maxPosition`. The
 * runner checks the rest itself: per-symbol maxPosition and maxPositionNotionalPerSymbol, net
 * leverage, open orders, loss limits, clip and the drawdown breaker (which calls RiskEngine.halt).
 */
export function toRiskLimits(config: Pick<RunnerConfig, 'risk' | 'trading' | 'universe'>): RiskLimits {
  const maxPosition = Math.max(...config.universe.symbols.map((sym) => resolveTradingParams(config, sym).maxPosition));
  return {
    maxOrderQuantity: config.risk.maxOrderQuantity,
    maxOrderNotional: config.risk.maxOrderNotional,
    maxGrossLeverage: config.risk.maxGrossLeverage,
    maxPositionQuantity: maxPosition,
    allowShort: config.risk.allowShort,
  };
}
