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
 *   TradingParams in lib/trading/trading-params.ts); `resolveTradingParams(config, symbol)` merges
 *   them. The section is the kernel's trading rules: `ctx.signal` trades through them and their
 *   exits (take-profit, stop-loss static/trailing, max hold) protect every position.
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
 *
 * The parts, one purpose each: config-load.ts (YAML, environment, sections, cross checks),
 * config-schema-*.ts (one or two sections each, with their checks), config-schema-util.ts (zod
 * builders and messages), config-validation.ts (problems by path), config-types.ts (RunnerConfig),
 * config-views.ts (what the engine takes from a config). This module re-exports the public API.
 */
export { ENV_OVERRIDES, LIVE_PORTS, MODES, PAPER_PORTS, type IbSettings, type RunnerMode } from './config-schema-ib.js';
export { LIVE_INTERVALS, type LiveInterval, type StrategySettings, type UniverseSettings } from './config-schema-strategy.js';
export { loadTradingRules, type TradingSettings } from './config-schema-trading.js';
export type { AccountLimits, RiskSettings } from './config-schema-limits.js';
export { DEFAULT_LINE_BUDGET, LOG_LEVELS, MIN_FLATTEN_MINUTES, type DataSettings, type HealthSettings, type JournalSettings, type LoggingSettings, type SessionSettings } from './config-schema-ops.js';
export type { ReplaySettings } from './config-schema-replay.js';
export type { RunnerConfig } from './config-types.js';
export { loadRunnerConfig, parseRunnerConfig, validateRunnerConfig, type ConfigOverrides } from './config-load.js';
export { resolveTradingParams, toRiskLimits, tradingRules } from './config-views.js';
export { TRADING_DEFAULTS, type TradingOverrides, type TradingParams } from '../../lib/trading/trading-params.js';
