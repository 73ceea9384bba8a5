import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../lib/rl/ppo/checkpoint.js';
import { Store } from '../../lib/store/store.js';

// `monger train` as a user runs it: the real CLI on a synthetic env config, a worker thread, a store file
const BIN = resolve('bin/monger.js');
let dir: string;
let db: string;
let env: string;

function monger(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--db', db, ...args], { encoding: 'utf8', env: { ...process.env, MONGER_DB: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'monger-train-'));
  db = join(dir, 'train.duckdb');
  env = join(dir, 'env.yaml');
  writeFileSync(env, 'name: cli-test\ndata: { kind: synthetic, seed: 1, symbols: 2, features: 4, bars: 600 }\nepisode: { window: 1, length: 50 }\n');
  // beside the env config, so train picks it up
  writeFileSync(join(dir, 'ppo.yaml'), 'numEnvs: 4\nrolloutSteps: 128\nhidden: [16, 16]\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monger train', () => {
  it('trains, checkpoints, stores the run and prints a JSON summary as the last line; resume continues it', () => {
    const out = join(dir, 'ckpt');
    const r = monger('train', '--env', env, '--steps', '1024', '--seed', '3', '--workers', '1', '--out', out, '--json');
    expect(r.stderr).toContain(`PPO hyperparameters: ${join(dir, 'ppo.yaml')}`);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const json = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown> & { metrics: Record<string, number> };
    expect(json).toMatchObject({ checkpoint: out, seed: 3, env_steps: 1024, iterations: 2, workers: 1, backend: 'wasm' });
    expect(json.env_config_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(json.feature_set_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(json.metrics.episodes).toBeGreaterThan(0);

    const ckpt = loadCheckpoint(out);
    expect(ckpt.manifest).toMatchObject({ seed: 3, envSteps: 1024, iterations: 2, envConfigHash: json.env_config_hash, featureSetHash: json.feature_set_hash });
    expect(ckpt.manifest.ppo.numEnvs).toBe(4);
    expect(ckpt.weights.spec.hidden).toEqual([16, 16]);

    const resumed = monger('train', '--resume', out, '--steps', '2048', '--workers', '1', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    const again = JSON.parse(resumed.stdout.trim().split('\n').pop()!) as { env_steps: number; iterations: number; checkpoint: string };
    expect(again).toMatchObject({ env_steps: 2048, iterations: 4, checkpoint: out });
    expect(loadCheckpoint(out).manifest.envSteps).toBe(2048);
  });

  it('stored both runs with their episodes', async () => {
    const store = await Store.open(db);
    try {
      const runs = await store.all<{ run_id: string; seed: number; steps: number; checkpoint_path: string }>('SELECT run_id, seed, steps, checkpoint_path FROM rl_training_runs ORDER BY steps');
      expect(runs.map((x) => [Number(x.seed), Number(x.steps)])).toEqual([[3, 1024], [3, 2048]]);
      const episodes = await store.all<{ n: number }>('SELECT count(*) AS n FROM rl_episodes WHERE run_id = $1', [runs[0]!.run_id]);
      expect(Number(episodes[0]!.n)).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it('refuses bad flags by name (exit 2)', () => {
    const r = monger('train', '--env', env, '--steps', 'many', '--seed', '1.5');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--steps: expected an integer >= 1, was 'many'[\s\S]*--seed: expected an integer/);
    const missing = monger('train', '--steps', '10');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--env: required/);
  });
});
