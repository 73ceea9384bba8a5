import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { loadEpisodes, saveEpisodes } from './metrics.js';
import type { EpisodeMetrics } from './types.js';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function episode(i: number): EpisodeMetrics {
  return {
    envIndex: i % 2, seed: 100 + i, steps: 252 - i, rewardSum: 1.5 * i - 2, sharpe: 0.5 + i, sortino: 0.7 + i, maxDrawdown: 0.1 * (i + 1),
    turnover: 3.25, exposureUtilization: 0.8, winRatio: 0.55, finalEquity: 101_000 + i,
    episode: i, startTs: Date.UTC(2020, 0, 2 + i), endTs: Date.UTC(2021, 0, 2 + i), symbols: ['SPY', 'QQQ'], totalReturn: 0.01 + i / 1000, feesPaid: 12.5, ended: 'step-limit',
  };
}

describe('saveEpisodes', () => {
  it('stores episodes in rl_episodes and numbers later batches after earlier ones', async () => {
    const store = await Store.open(':memory:');
    stores.push(store);
    expect(await saveEpisodes(store, 'run-1', [episode(0), episode(1)])).toBe(2);
    expect(await saveEpisodes(store, 'run-1', [episode(2)])).toBe(1);
    expect(await saveEpisodes(store, 'run-2', [episode(3)])).toBe(1);
    expect(await saveEpisodes(store, 'run-2', [])).toBe(0);
    const back = await loadEpisodes(store, 'run-1');
    expect(back.map((e) => e.episode)).toEqual([0, 1, 2]);
    expect(back[2]).toMatchObject({ ...episode(2), episode: 2, runId: 'run-1' });
    const run2 = await loadEpisodes(store, 'run-2');
    expect(run2).toHaveLength(1);
    expect(run2[0]!.episode).toBe(0);
    expect(run2[0]!.sharpe).toBe(3.5);
  });

  it('the migration also creates rl_training_runs for the trainer', async () => {
    const store = await Store.open(':memory:');
    stores.push(store);
    await store.run(
      `INSERT INTO rl_training_runs (run_id, env_config_hash, feature_set_hash, seed, steps, metrics, checkpoint_path) VALUES ('r', 'e', 'f', 1, 1000000, '{"reward": 1}', 'x/ckpt')`,
    );
    const rows = await store.all<{ steps: number; reward: number }>(`SELECT steps, CAST(metrics->>'reward' AS DOUBLE) AS reward FROM rl_training_runs`);
    expect(rows).toEqual([{ steps: 1_000_000, reward: 1 }]);
  });
});
