/**
 * Episode metrics in the store (`rl_episodes`, migration 9): `saveEpisodes` appends a batch of
 * finished episodes to a run in one transaction, numbering them after the run's last stored one.
 */
import type { Store } from '../store/store.js';
import type { EpisodeMetrics } from './types.js';

export interface StoredEpisode extends EpisodeMetrics {
  runId: string;
  /** Order within the run (0-based), as stored */
  episode: number;
}

/** Non-finite numbers have no JSON or sensible DOUBLE meaning here: stored as 0 (the metrics are finite by construction) */
function num(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/** Appends episodes to run `runId`; returns how many were stored. */
export async function saveEpisodes(store: Store, runId: string, episodes: readonly EpisodeMetrics[]): Promise<number> {
  if (episodes.length === 0) return 0;
  return store.transaction(async () => {
    const rows = await store.all<{ n: number | null }>(`SELECT max(episode) AS n FROM rl_episodes WHERE run_id = $1`, [runId]);
    const first = rows[0]?.n === null || rows[0]?.n === undefined ? 0 : rows[0].n + 1;
    const payload = episodes.map((m, k) => ({
      episode: first + k,
      env_index: m.envIndex,
      seed: m.seed,
      steps: m.steps,
      reward_sum: num(m.rewardSum),
      sharpe: num(m.sharpe),
      sortino: num(m.sortino),
      max_drawdown: num(m.maxDrawdown),
      turnover: num(m.turnover),
      exposure_utilization: num(m.exposureUtilization),
      win_ratio: num(m.winRatio),
      final_equity: num(m.finalEquity),
      details: JSON.stringify({
        envEpisode: m.episode,
        startTs: m.startTs,
        endTs: m.endTs,
        symbols: m.symbols,
        totalReturn: m.totalReturn,
        feesPaid: m.feesPaid,
        ended: m.ended,
      }),
    }));
    // JSON in chunks: one statement per ~20k rows keeps the string size bounded
    for (let i = 0; i < payload.length; i += 20_000) {
      await store.run(
        `INSERT INTO rl_episodes (run_id, episode, env_index, seed, steps, reward_sum, sharpe, sortino, max_drawdown, turnover,
                                  exposure_utilization, win_ratio, final_equity, details)
         SELECT $1, episode, env_index, seed, steps, reward_sum, sharpe, sortino, max_drawdown, turnover,
                exposure_utilization, win_ratio, final_equity, CAST(details AS JSON)
         FROM (SELECT unnest(from_json($2, '[{"episode":"INTEGER","env_index":"INTEGER","seed":"BIGINT","steps":"INTEGER","reward_sum":"DOUBLE","sharpe":"DOUBLE","sortino":"DOUBLE","max_drawdown":"DOUBLE","turnover":"DOUBLE","exposure_utilization":"DOUBLE","win_ratio":"DOUBLE","final_equity":"DOUBLE","details":"VARCHAR"}]'), recursive := true))`,
        [runId, JSON.stringify(payload.slice(i, i + 20_000))],
      );
    }
    return episodes.length;
  });
}

/** A run's stored episodes in order. */
export async function loadEpisodes(store: Store, runId: string): Promise<StoredEpisode[]> {
  const rows = await store.all<Record<string, number | string>>(
    `SELECT episode, env_index, CAST(seed AS DOUBLE) AS seed, steps, reward_sum, sharpe, sortino, max_drawdown, turnover,
            exposure_utilization, win_ratio, final_equity, CAST(details AS VARCHAR) AS details
     FROM rl_episodes WHERE run_id = $1 ORDER BY episode`,
    [runId],
  );
  return rows.map((r) => {
    const d = r.details ? (JSON.parse(String(r.details)) as Partial<EpisodeMetrics>) : {};
    return {
      ...d,
      runId,
      episode: Number(r.episode),
      envIndex: Number(r.env_index),
      seed: Number(r.seed),
      steps: Number(r.steps),
      rewardSum: Number(r.reward_sum),
      sharpe: Number(r.sharpe),
      sortino: Number(r.sortino),
      maxDrawdown: Number(r.max_drawdown),
      turnover: Number(r.turnover),
      exposureUtilization: Number(r.exposure_utilization),
      winRatio: Number(r.win_ratio),
      finalEquity: Number(r.final_equity),
    };
  });
}
