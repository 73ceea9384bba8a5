/**
 * `signals` (where a signal-driven universe's model signals come from, lib/signals) and `control`
 * (the runner's control API: status, operator halts and resumes, add/remove/list symbols while it runs, runner/live/control-api.ts).
 *
 * - `signals.provider`: `duckdb` (a table of a DuckDB store: `db`, `table` default `signals`),
 *   `folder` (a CSV/Parquet drop folder imported into the store `db`), `clickhouse` (`url`,
 *   `database`, `table`, `username`; the password from $MONGER_SIGNALS_PASSWORD, never the file).
 *   In replay mode `db` defaults to the replay store. Polled every `pollSeconds` (engine time: a
 *   replay polls in simulated seconds), rows inserted up to `lateSeconds` behind the watermark are
 *   still delivered once. A signal published more than `maxAgeSeconds` (default 300) before it is
 *   dispatched is dropped, member or not: live signals arrive within a poll (plus the late-row window)
 *   of publication, so only a backlog is older: what a resumed run polls from its journaled watermark
 *   after being down. Five minutes covers the defaults (1 s polls, 60 s late rows) with room for a
 *   slow poll, and a signal older than that would trade at prices it never saw. At least
 *   lateSeconds + pollSeconds (a row inserted lateSeconds late is polled up to a poll after that:
 *   it would be polled and then dropped). In an accelerated replay the limit is at least
 *   10 × speed seconds (signalAgeOptions).
 * - `control`: off unless `enabled`; listens on `host` (loopback only: the API trades) and `port`
 *   (0: a free one, logged and reported); requests carry `Authorization: Bearer <token>`, the token
 *   from `control.token` or $MONGER_CONTROL_TOKEN (at least 16 characters).
 */
import type { z } from 'zod';
import { bool, nonNegative, oneOf, port, positive, section, text } from './config-schema-util.js';
import type { Validation } from './config-validation.js';

export const SIGNAL_PROVIDERS = ['duckdb', 'folder', 'clickhouse'] as const;
export const CONTROL_TOKEN_ENV = 'MONGER_CONTROL_TOKEN';
export const SIGNALS_PASSWORD_ENV = 'MONGER_SIGNALS_PASSWORD';
const MIN_TOKEN_LENGTH = 16;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const signalsSchema = section({
  provider: oneOf(SIGNAL_PROVIDERS),
  db: text('a DuckDB store path').optional(),
  table: text('a table name').optional(),
  folder: text('a folder path').optional(),
  url: text('a ClickHouse HTTP URL like http://127.0.0.1:8123').optional(),
  database: text('a ClickHouse database').optional(),
  username: text('a ClickHouse user').optional(),
  pollSeconds: positive('a positive number of seconds').default(1),
  lateSeconds: nonNegative('a number of seconds >= 0').default(60),
  // a downtime backlog must not trade: see the file comment for the 5 minutes
  maxAgeSeconds: positive('a positive number of seconds').default(300),
});
export type SignalsSettings = z.output<typeof signalsSchema>;

/** Real seconds of slack a replay keeps for a signal's trip from poll to dispatch (see signalAgeOptions) */
export const REPLAY_SIGNAL_SLACK_SECONDS = 10;

/**
 * The universe's maxSignalAgeMs from `signals.maxAgeSeconds` (no signals: none, the universe's
 * default). An accelerated replay (`replaySpeed` > 1) judges age in simulated seconds while the
 * poll, the hand-off and the kernel's queue take real time: at 300x, 300 s is one real second, so a
 * loaded process would drop live signals as a backlog. The limit is then at least
 * REPLAY_SIGNAL_SLACK_SECONDS × speed: 10 real seconds, far above a poll's real latency under load
 * (a few hundred ms) and still short of a real backlog (a replay has no downtime). As the data
 * staleness (live-runner.ts: 2 × speed) is scaled.
 */
export function signalAgeOptions(signals: SignalsSettings | undefined, replaySpeed?: number): { maxSignalAgeMs?: number } {
  if (signals === undefined) return {};
  const speed = replaySpeed !== undefined && replaySpeed > 1 ? replaySpeed : 1;
  const seconds = Math.max(signals.maxAgeSeconds, speed > 1 ? REPLAY_SIGNAL_SLACK_SECONDS * speed : 0);
  return { maxSignalAgeMs: seconds * 1000 };
}

export const controlSchema = section({
  enabled: bool().default(false),
  host: text('a loopback address (127.0.0.1, ::1, localhost)').default('127.0.0.1'),
  port: port('a TCP port (integer 0..65535; 0 picks a free one)', 0).default(0),
  token: text('a secret of at least 16 characters').optional(),
});
/** The resolved control settings: the token from the file or the environment */
export type ControlSettings = z.output<typeof controlSchema>;

export function checkSignalsAndControl(
  signals: SignalsSettings | undefined,
  control: ControlSettings | undefined,
  ctx: { universeMode: string | undefined; mode: string | undefined; hasReplay: boolean },
  v: Validation,
): ControlSettings | undefined {
  if (ctx.universeMode !== undefined && ctx.universeMode !== 'static' && signals === undefined) {
    v.problem(['signals'], `required with universe.mode ${ctx.universeMode} (where the signals that bring tickers in come from)`);
  }
  if (signals !== undefined) {
    const need = (key: keyof SignalsSettings, why: string) => {
      if (signals[key] === undefined) v.problem(['signals', key], `required (${why})`);
    };
    if (signals.provider === 'clickhouse') need('url', 'the ClickHouse HTTP URL');
    else if (!ctx.hasReplay) need('db', 'the DuckDB store holding the signals table');
    if (signals.provider === 'folder') need('folder', 'the drop folder');
    const minAge = signals.lateSeconds + signals.pollSeconds;
    if (signals.maxAgeSeconds < minAge) {
      v.problem(
        ['signals', 'maxAgeSeconds'],
        `expected at least lateSeconds + pollSeconds (${signals.lateSeconds} + ${signals.pollSeconds} = ${minAge}): a row inserted lateSeconds late is polled up to a poll later and would be dropped as stale, got ${signals.maxAgeSeconds}`,
      );
    }
  }
  if (control === undefined || !control.enabled) return control;
  if (!LOOPBACK.has(control.host)) v.problem(['control', 'host'], `'${control.host}' is not a loopback address: the control API trades, it listens on 127.0.0.1, ::1 or localhost only`);
  const token = control.token ?? v.env[CONTROL_TOKEN_ENV]?.trim();
  if (token === undefined || token === '') v.problem(['control', 'token'], `required when the control API is enabled (here or in $${CONTROL_TOKEN_ENV})`);
  else if (token.length < MIN_TOKEN_LENGTH) v.problem(['control', 'token'], `expected at least ${MIN_TOKEN_LENGTH} characters, got ${token.length}`);
  return { ...control, ...(token ? { token } : {}) };
}
