import { INTERVALS } from '../data/interval.js';

/**
 * Versioned schema migrations, applied in order inside one transaction each and recorded in
 * `schema_migrations`. Never edit a released migration: add the next version.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const enumList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

export const BAR_SOURCES = ['lean', 'yahoo', 'csv', 'parquet', 'ib', 'sim', 'derived'] as const;
export type BarSource = (typeof BAR_SOURCES)[number];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'instruments, bars, ticks, corporate actions, watchlists, ingest runs, audit reports',
    sql: `
CREATE TYPE bar_interval AS ENUM (${enumList(INTERVALS)});
CREATE TYPE bar_kind AS ENUM ('trade', 'bid', 'ask', 'mid');
CREATE TYPE bar_source AS ENUM (${enumList(BAR_SOURCES)});

CREATE SEQUENCE instrument_id_seq START 1;
CREATE TABLE instruments (
  instrument_id  INTEGER PRIMARY KEY DEFAULT nextval('instrument_id_seq'),
  key            VARCHAR NOT NULL UNIQUE,
  symbol         VARCHAR NOT NULL,
  sec_type       VARCHAR NOT NULL CHECK (sec_type IN ('STK', 'FUT', 'CASH')),
  exchange       VARCHAR NOT NULL,
  currency       VARCHAR NOT NULL,
  multiplier     DOUBLE NOT NULL CHECK (multiplier > 0),
  tick_size      DOUBLE NOT NULL CHECK (tick_size > 0),
  contract_month VARCHAR,
  expiry         DATE,
  local_symbol   VARCHAR,
  con_id         BIGINT,
  valid_from     DATE,
  valid_to       DATE,
  created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- ts is the bar START in UTC; daily bars are stamped 00:00 UTC of the session date.
-- No primary key: uniqueness of (instrument_id, interval, kind, ts) is kept by the writer's
-- merge, which is far cheaper than an ART index over millions of rows; the audit checks it.
CREATE TABLE bars (
  instrument_id INTEGER NOT NULL,
  interval      bar_interval NOT NULL,
  kind          bar_kind NOT NULL,
  ts            TIMESTAMP NOT NULL,
  open          DOUBLE NOT NULL,
  high          DOUBLE NOT NULL,
  low           DOUBLE NOT NULL,
  close         DOUBLE NOT NULL,
  volume        DOUBLE NOT NULL,
  source        bar_source NOT NULL,
  run_id        INTEGER NOT NULL
);

CREATE TABLE ticks (
  instrument_id INTEGER NOT NULL,
  kind          VARCHAR NOT NULL CHECK (kind IN ('trade', 'quote')),
  ts            TIMESTAMP NOT NULL,
  seq           INTEGER NOT NULL,
  price         DOUBLE,
  size          DOUBLE,
  bid           DOUBLE,
  bid_size      DOUBLE,
  ask           DOUBLE,
  ask_size      DOUBLE,
  exchange      VARCHAR,
  condition     DOUBLE,
  suspicious    BOOLEAN NOT NULL,
  run_id        INTEGER NOT NULL
);

-- A row's factors apply to bars dated on or before its date and after the previous row's date.
CREATE TABLE corporate_actions (
  instrument_id   INTEGER NOT NULL,
  date            DATE NOT NULL,
  price_factor    DOUBLE NOT NULL CHECK (price_factor > 0),
  split_factor    DOUBLE NOT NULL CHECK (split_factor > 0),
  reference_price DOUBLE,
  run_id          INTEGER NOT NULL,
  PRIMARY KEY (instrument_id, date)
);

CREATE TABLE watchlists (
  name       VARCHAR NOT NULL,
  version    VARCHAR NOT NULL,
  symbols    VARCHAR[] NOT NULL,
  unknown    VARCHAR[] NOT NULL,
  source     VARCHAR,
  created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (name, version)
);

CREATE SEQUENCE run_id_seq START 1;
CREATE TABLE ingest_runs (
  run_id         INTEGER PRIMARY KEY,
  started_at     TIMESTAMP NOT NULL,
  finished_at    TIMESTAMP,
  format         VARCHAR NOT NULL,
  files          VARCHAR[] NOT NULL,
  rows_read      BIGINT NOT NULL DEFAULT 0,
  rows_inserted  BIGINT NOT NULL DEFAULT 0,
  rows_updated   BIGINT NOT NULL DEFAULT 0,
  rows_unchanged BIGINT NOT NULL DEFAULT 0,
  status         VARCHAR NOT NULL CHECK (status IN ('ok', 'failed')),
  error          VARCHAR,
  notes          VARCHAR[] NOT NULL DEFAULT []
);

CREATE SEQUENCE report_id_seq START 1;
CREATE TABLE audit_reports (
  report_id          INTEGER NOT NULL DEFAULT nextval('report_id_seq'),
  created_at         TIMESTAMP NOT NULL DEFAULT current_timestamp,
  instrument_id      INTEGER NOT NULL,
  interval           bar_interval NOT NULL,
  kind               bar_kind NOT NULL,
  calendar           VARCHAR NOT NULL,
  from_ts            TIMESTAMP,
  to_ts              TIMESTAMP,
  sessions           INTEGER NOT NULL,
  expected_bars      BIGINT NOT NULL,
  actual_bars        BIGINT NOT NULL,
  in_session_bars    BIGINT NOT NULL,
  coverage           DOUBLE,
  gaps               INTEGER NOT NULL,
  missing_bars       BIGINT NOT NULL,
  duplicates         INTEGER NOT NULL,
  non_monotonic      INTEGER NOT NULL,
  ohlc_violations    INTEGER NOT NULL,
  nonpositive_prices INTEGER NOT NULL,
  jumps              INTEGER NOT NULL,
  details            JSON
);

-- Adjusted bars: raw x price_factor x split_factor from the first factor row dated on or
-- after the bar's New York trading date; volume / split_factor.
CREATE VIEW bars_adjusted AS
WITH dated AS (
  SELECT b.*, CASE WHEN b.interval >= '1d' THEN CAST(b.ts AS DATE)
                   ELSE CAST(timezone('America/New_York', CAST(b.ts AS TIMESTAMPTZ)) AS DATE) END AS trade_date
  FROM bars b
)
SELECT d.instrument_id, d.interval, d.kind, d.ts,
       d.open  * coalesce(f.price_factor * f.split_factor, 1) AS open,
       d.high  * coalesce(f.price_factor * f.split_factor, 1) AS high,
       d.low   * coalesce(f.price_factor * f.split_factor, 1) AS low,
       d.close * coalesce(f.price_factor * f.split_factor, 1) AS close,
       d.volume / coalesce(f.split_factor, 1) AS volume,
       d.source, d.run_id
FROM dated d ASOF LEFT JOIN corporate_actions f
  ON d.instrument_id = f.instrument_id AND f.date >= d.trade_date;
`,
  },
  {
    version: 2,
    name: 'backtest runs: orders, fills, trades, daily equity, statistics',
    sql: `
CREATE SEQUENCE backtest_run_id_seq START 1;
CREATE TABLE backtest_runs (
  run_id           INTEGER PRIMARY KEY,
  created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
  config_hash      VARCHAR NOT NULL,
  environment      VARCHAR NOT NULL,
  strategy         VARCHAR NOT NULL,
  strategy_version VARCHAR NOT NULL,
  params           JSON NOT NULL,
  config           JSON NOT NULL,
  data_from        TIMESTAMP,
  data_to          TIMESTAMP,
  events           BIGINT NOT NULL,
  final_value      DOUBLE NOT NULL,
  statistics       JSON NOT NULL,
  elapsed_ms       DOUBLE NOT NULL
);
CREATE TABLE backtest_orders (
  run_id INTEGER NOT NULL, order_id INTEGER NOT NULL, client_order_id VARCHAR NOT NULL, instrument VARCHAR NOT NULL,
  side VARCHAR NOT NULL, type VARCHAR NOT NULL, tif VARCHAR NOT NULL, quantity DOUBLE NOT NULL,
  limit_price DOUBLE, stop_price DOUBLE, status VARCHAR NOT NULL, filled_quantity DOUBLE NOT NULL,
  avg_fill_price DOUBLE, commission DOUBLE NOT NULL, parent_id INTEGER NOT NULL, oca_group VARCHAR NOT NULL,
  tag VARCHAR NOT NULL, created_at TIMESTAMP, updated_at TIMESTAMP, reason VARCHAR NOT NULL,
  PRIMARY KEY (run_id, order_id)
);
CREATE TABLE backtest_fills (
  run_id INTEGER NOT NULL, seq INTEGER NOT NULL, order_id INTEGER NOT NULL, client_order_id VARCHAR NOT NULL,
  instrument VARCHAR NOT NULL, side VARCHAR NOT NULL, quantity DOUBLE NOT NULL, price DOUBLE NOT NULL,
  commission DOUBLE NOT NULL, ts TIMESTAMP NOT NULL, liquidity VARCHAR NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE backtest_trades (
  run_id INTEGER NOT NULL, seq INTEGER NOT NULL, instrument VARCHAR NOT NULL, direction VARCHAR NOT NULL,
  quantity DOUBLE NOT NULL, entry_ts TIMESTAMP NOT NULL, exit_ts TIMESTAMP NOT NULL, entry_price DOUBLE NOT NULL,
  exit_price DOUBLE NOT NULL, gross_pnl DOUBLE NOT NULL, commission DOUBLE NOT NULL, net_pnl DOUBLE NOT NULL,
  return_pct DOUBLE NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE backtest_daily (
  run_id INTEGER NOT NULL, date DATE NOT NULL, equity DOUBLE NOT NULL, gross_exposure DOUBLE NOT NULL,
  net_exposure DOUBLE NOT NULL,
  PRIMARY KEY (run_id, date)
);
`,
  },
  {
    version: 3,
    name: 'walk-forward runs and the feature cache',
    sql: `
CREATE SEQUENCE walkforward_run_id_seq START 1;
CREATE TABLE walkforward_runs (
  run_id           INTEGER PRIMARY KEY,
  created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
  config_hash      VARCHAR NOT NULL,
  strategy         VARCHAR NOT NULL,
  strategy_version VARCHAR NOT NULL,
  config           JSON NOT NULL,
  objective        VARCHAR NOT NULL,
  folds            INTEGER NOT NULL,
  points           INTEGER NOT NULL,
  backtests        INTEGER NOT NULL,
  oos_statistics   JSON NOT NULL,
  elapsed_ms       DOUBLE NOT NULL
);
CREATE TABLE walkforward_folds (
  run_id INTEGER NOT NULL, fold INTEGER NOT NULL,
  train_from DATE NOT NULL, train_to DATE NOT NULL, validation_from DATE, validation_to DATE,
  test_from DATE NOT NULL, test_to DATE NOT NULL, params JSON NOT NULL,
  train_objective DOUBLE, validation_objective DOUBLE, train_statistics JSON NOT NULL, test_statistics JSON NOT NULL,
  PRIMARY KEY (run_id, fold)
);
CREATE TABLE walkforward_scores (
  run_id INTEGER NOT NULL, fold INTEGER NOT NULL, point INTEGER NOT NULL, params JSON NOT NULL,
  objective DOUBLE, sharpe DOUBLE NOT NULL, total_return DOUBLE NOT NULL, max_drawdown DOUBLE NOT NULL, trades INTEGER NOT NULL,
  PRIMARY KEY (run_id, fold, point)
);
CREATE TABLE walkforward_equity (
  run_id INTEGER NOT NULL, date DATE NOT NULL, fold INTEGER NOT NULL, equity DOUBLE NOT NULL,
  gross_exposure DOUBLE NOT NULL, net_exposure DOUBLE NOT NULL,
  PRIMARY KEY (run_id, date)
);
CREATE TABLE feature_sets (
  set_hash   VARCHAR PRIMARY KEY,
  name       VARCHAR NOT NULL,
  spec       JSON NOT NULL,
  columns    VARCHAR[] NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- one row per bar: values[i] is feature_sets.columns[i] (NULL during warm-up)
CREATE TABLE feature_values (
  set_hash VARCHAR NOT NULL, instrument_id INTEGER NOT NULL, interval VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  adjusted BOOLEAN NOT NULL, ts TIMESTAMP NOT NULL, "values" DOUBLE[] NOT NULL,
  PRIMARY KEY (set_hash, instrument_id, interval, kind, adjusted, ts)
);
-- what each cached block was computed from: reused only while the bars are unchanged
CREATE TABLE feature_builds (
  set_hash VARCHAR NOT NULL, instrument_id INTEGER NOT NULL, interval VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  adjusted BOOLEAN NOT NULL, bars_fingerprint VARCHAR NOT NULL, rows BIGINT NOT NULL,
  built_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (set_hash, instrument_id, interval, kind, adjusted)
);
`,
  },
  {
    version: 4,
    name: 'IB contract cache and invalid symbols',
    sql: `
-- contractDetails answers by canonical query key (lib/ib/contract-resolver.ts), JSON array of contracts
CREATE TABLE ib_contracts (
  query_key  VARCHAR PRIMARY KEY,
  answer     JSON NOT NULL,
  fetched_at TIMESTAMP NOT NULL
);
-- queries TWS answered with error 200 (no security definition)
CREATE TABLE ib_invalid_symbols (
  query_key   VARCHAR PRIMARY KEY,
  symbol      VARCHAR NOT NULL,
  sec_type    VARCHAR NOT NULL,
  code        INTEGER,
  reason      VARCHAR NOT NULL,
  recorded_at TIMESTAMP NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'IB history fetch ranges',
    sql: `
-- Units of an IB historical fetch (lib/ib/history-fetch.ts): a session (or a slice of one) of an
-- instrument, interval, whatToShow and RTH flag that was answered. 'ok': bars stored; 'empty': IB
-- had no data (162 "HMDS query returned no data" or an empty answer); 'expired': IB no longer
-- serves it. Later fetches skip these units; an open (unfinished) session is never recorded.
CREATE TABLE ib_fetch_ranges (
  instrument_id INTEGER NOT NULL,
  interval      bar_interval NOT NULL,
  what_to_show  VARCHAR NOT NULL,
  use_rth       BOOLEAN NOT NULL,
  range_start   TIMESTAMP NOT NULL,
  range_end     TIMESTAMP NOT NULL,
  session_date  DATE NOT NULL,
  status        VARCHAR NOT NULL CHECK (status IN ('ok', 'empty', 'expired')),
  bars          INTEGER NOT NULL,
  detail        VARCHAR,
  run_id        INTEGER,
  fetched_at    TIMESTAMP NOT NULL,
  PRIMARY KEY (instrument_id, interval, what_to_show, use_rth, range_start)
);
`,
  },
  {
    version: 6,
    name: 'live runner journal: runs and append-only records',
    sql: `
-- One row per journaled run (lib/journal/journal.ts). run_id is chosen by the runner and kept across
-- restarts: a restart after a crash resumes the same run (restarts + 1, host/pid of the new process).
-- ended_at/end_reason are set by a clean close only: a run without them ended in a crash (or is live).
CREATE TABLE journal_runs (
  run_id           VARCHAR PRIMARY KEY,
  started_at       TIMESTAMP NOT NULL,
  mode             VARCHAR NOT NULL,
  strategy         VARCHAR NOT NULL,
  strategy_version VARCHAR NOT NULL,
  config_hash      VARCHAR NOT NULL,
  host             VARCHAR NOT NULL,
  pid              INTEGER NOT NULL,
  restarts         INTEGER NOT NULL DEFAULT 0,
  ended_at         TIMESTAMP,
  end_reason       VARCHAR
);
-- Append-only: a row is committed before the action it describes is taken. seq increases by one per
-- record within a run and never repeats (a resumed run continues after max(seq)). ts is engine time
-- (NULL when there is none), wall_ts the wall clock at append. kind is one of decision, order_intent,
-- order_submitted, order_event, fill, snapshot, reconcile, alert, halt, resume, note (checked by the
-- writer, not here, so a new kind needs no table rebuild); payload is the record's JSON body.
CREATE TABLE journal (
  run_id          VARCHAR NOT NULL,
  seq             BIGINT NOT NULL,
  ts              TIMESTAMP,
  wall_ts         TIMESTAMP NOT NULL,
  kind            VARCHAR NOT NULL,
  decision_id     VARCHAR,
  client_order_id VARCHAR,
  broker_order_id VARCHAR,
  instrument      VARCHAR,
  payload         JSON NOT NULL,
  PRIMARY KEY (run_id, seq)
);
`,
  },
  {
    version: 7,
    name: 'strategy promotions',
    sql: `
-- Every promotion attempt that got as far as its gates (lib/promotion/promote.ts): 'promoted' ones
-- carry the full release record (the same JSON as the annotated tag strategy/<name>/v<version> and
-- strategies/<name>/releases/<version>.json); 'refused' ones the statistics and the gates that failed.
CREATE SEQUENCE strategy_promotion_id_seq START 1;
CREATE TABLE strategy_promotions (
  promotion_id       INTEGER PRIMARY KEY,
  created_at         TIMESTAMP NOT NULL DEFAULT current_timestamp,
  strategy           VARCHAR NOT NULL,
  version            VARCHAR NOT NULL,
  status             VARCHAR NOT NULL CHECK (status IN ('promoted', 'refused')),
  tag                VARCHAR,
  git_commit         VARCHAR NOT NULL,
  content_hash       VARCHAR NOT NULL,
  data_hash          VARCHAR NOT NULL,
  backtest_run_id    INTEGER,
  walkforward_run_id INTEGER,
  statistics         JSON NOT NULL,
  gates              JSON NOT NULL,
  record             JSON
);
`,
  },
  {
    version: 8,
    name: 'signals and signal drop-folder files',
    sql: `
-- Trading signals (lib/signals, schema in lib/signals/README.md). One row per (symbol, ts), immutable
-- (kept by the writer, like bars: no index). ts: the time the signal is about (UTC); available_at:
-- when it was published (>= ts): a backtest sees the signal only from then on; source: provenance
-- (file:line, model); file_id: the drop-folder file it came from.
CREATE TABLE signals (
  ts           TIMESTAMP NOT NULL,
  symbol       VARCHAR NOT NULL,
  value        DOUBLE NOT NULL,
  available_at TIMESTAMP NOT NULL,
  source       VARCHAR,
  file_id      INTEGER,
  inserted_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
  CHECK (available_at >= ts)
);
-- Every CSV/Parquet file the drop-folder provider processed: 'imported' files are never read again;
-- 'failed' ones (error names file and line) again only once their size or mtime changed.
CREATE SEQUENCE signal_file_id_seq START 1;
CREATE TABLE signal_files (
  file_id      INTEGER PRIMARY KEY DEFAULT nextval('signal_file_id_seq'),
  path         VARCHAR NOT NULL,
  size         BIGINT NOT NULL,
  mtime        TIMESTAMP NOT NULL,
  status       VARCHAR NOT NULL CHECK (status IN ('imported', 'failed')),
  rows         INTEGER NOT NULL,
  error        VARCHAR,
  processed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
`,
  },
  {
    version: 9,
    name: 'reinforcement learning episodes and training runs',
    sql: `
-- One row per finished RL environment episode (lib/rl/metrics.ts saveEpisodes). run_id: a training or
-- evaluation run (free text, e.g. rl_training_runs.run_id); episode: order within the run. Metrics are
-- the engine's statistics over the episode's per-step equity (lib/rl/env/episode.ts documents each);
-- details: symbols, start/end bar times, what ended it.
CREATE TABLE rl_episodes (
  run_id               VARCHAR NOT NULL,
  episode              INTEGER NOT NULL,
  created_at           TIMESTAMP NOT NULL DEFAULT current_timestamp,
  env_index            INTEGER NOT NULL,
  seed                 BIGINT NOT NULL,
  steps                INTEGER NOT NULL,
  reward_sum           DOUBLE NOT NULL,
  sharpe               DOUBLE NOT NULL,
  sortino              DOUBLE NOT NULL,
  max_drawdown         DOUBLE NOT NULL,
  turnover             DOUBLE NOT NULL,
  exposure_utilization DOUBLE NOT NULL,
  win_ratio            DOUBLE NOT NULL,
  final_equity         DOUBLE NOT NULL,
  details              JSON,
  PRIMARY KEY (run_id, episode)
);
-- One row per RL training run (lib/rl/ppo): the env config and feature set it trained on (content
-- hashes), its seed, environment steps, final metrics JSON and where its checkpoint is.
CREATE TABLE rl_training_runs (
  run_id          VARCHAR PRIMARY KEY,
  created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
  env_config_hash VARCHAR NOT NULL,
  feature_set_hash VARCHAR NOT NULL,
  seed            BIGINT NOT NULL,
  steps           BIGINT NOT NULL,
  metrics         JSON NOT NULL,
  checkpoint_path VARCHAR
);
`,
  },
];
