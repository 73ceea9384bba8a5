import type * as TF from '@tensorflow/tfjs';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import { computeGae } from '../../lib/rl/ppo/gae.js';
import { loadTf } from '../../lib/rl/ppo/tf-loader.js';
import type { VecEnv } from '../../lib/rl/types.js';

/**
 * The benchmark's baseline: PPO written the obvious tfjs way, in one thread. Every env step runs
 * the tfjs model (a forward per step and a dataSync), and updates use tf.layers models with
 * tfjs's own gradients and `optimizer.minimize` (same loss, same minibatches, same epochs as the
 * real trainer). Returns env steps per second over `iterations` rollouts.
 */
export async function naivePpoStepsPerSecond(env: VecEnv, o: { rolloutSteps: number; iterations: number; hidden: number[]; epochs: number; minibatchSize: number }): Promise<number> {
  const { tf } = await loadTf('wasm');
  const N = env.numEnvs;
  const obsSize = env.observationSize;
  const dim = env.actionSpace.size;
  const mlp = (out: number) => {
    const m = tf.sequential();
    o.hidden.forEach((h, i) => m.add(tf.layers.dense({ units: h, activation: 'relu', ...(i === 0 ? { inputShape: [obsSize] } : {}) })));
    m.add(tf.layers.dense({ units: out }));
    return m;
  };
  const actor = mlp(dim);
  const critic = mlp(1);
  const logStd = tf.variable(tf.fill([dim], -0.5));
  const optimizer = tf.train.adam(1e-3);
  const random = new SeededRandom(1);
  let obs = env.reset(1).slice();
  const T = o.rolloutSteps;
  const t0 = performance.now();
  for (let it = 0; it < o.iterations; it++) {
    const bufObs = new Float32Array(N * T * obsSize);
    const bufAct = new Float32Array(N * T * dim);
    const logp = new Float32Array(N * T);
    const values = new Float32Array(N * T);
    const rewards = new Float32Array(N * T);
    const dones = new Uint8Array(N * T);
    const std = Array.from(tf.exp(logStd).dataSync() as Float32Array);
    const ls = Array.from(logStd.dataSync() as Float32Array);
    const actions = new Float32Array(N * dim);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < N; i++) {
        const row = obs.subarray(i * obsSize, (i + 1) * obsSize);
        // the naive part: one tfjs forward (and a sync) per env per step
        const [mu, v] = tf.tidy(() => {
          const x = tf.tensor2d(row, [1, obsSize]);
          return [(actor.predict(x) as TF.Tensor).dataSync(), (critic.predict(x) as TF.Tensor).dataSync()];
        });
        const k = i * T + t;
        bufObs.set(row, k * obsSize);
        values[k] = v![0]!;
        let lp = 0;
        for (let d = 0; d < dim; d++) {
          const a = mu![d]! + std[d]! * random.normal();
          bufAct[k * dim + d] = a;
          actions[i * dim + d] = Math.max(-1, Math.min(1, a));
          const z = (a - mu![d]!) / std[d]!;
          lp += -0.5 * z * z - ls[d]! - 0.5 * Math.log(2 * Math.PI);
        }
        logp[k] = lp;
      }
      const r = env.step(actions);
      for (let i = 0; i < N; i++) {
        rewards[i * T + t] = r.reward[i]! * 0.05;
        dones[i * T + t] = r.terminal[i]! | r.truncated[i]!;
      }
      obs = r.obs.slice();
    }
    const last = tf.tidy(() => (critic.predict(tf.tensor2d(obs, [N, obsSize])) as TF.Tensor).dataSync() as Float32Array);
    const adv = new Float32Array(N * T);
    const ret = new Float32Array(N * T);
    computeGae(rewards, values, dones, Float32Array.from(last), N, T, 0.99, 0.95, adv, ret);
    const n = N * T;
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let start = 0; start < n; start += o.minibatchSize) {
        const m = Math.min(o.minibatchSize, n - start);
        const cost = optimizer.minimize(() => {
          const x = tf.tensor2d(bufObs.subarray(start * obsSize, (start + m) * obsSize), [m, obsSize]);
          const a = tf.tensor2d(bufAct.subarray(start * dim, (start + m) * dim), [m, dim]);
          const mu = actor.apply(x) as TF.Tensor2D;
          const z = tf.div(tf.sub(a, mu), tf.exp(logStd));
          const lpNew = tf.sum(tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(logStd, 0.5 * Math.log(2 * Math.PI))), 1);
          const ratio = tf.exp(tf.sub(lpNew, tf.tensor1d(logp.subarray(start, start + m))));
          const A = tf.tensor1d(adv.subarray(start, start + m));
          const pl = tf.neg(tf.mean(tf.minimum(tf.mul(ratio, A), tf.mul(tf.clipByValue(ratio, 0.8, 1.2), A))));
          const v = tf.reshape(critic.apply(x) as TF.Tensor, [-1]);
          const vl = tf.mean(tf.square(tf.sub(v, tf.tensor1d(ret.subarray(start, start + m)))));
          return tf.add(pl, tf.mul(0.5, vl)) as TF.Scalar;
        }, true);
        cost?.dataSync();
        cost?.dispose();
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  actor.dispose();
  critic.dispose();
  logStd.dispose();
  optimizer.dispose();
  return (o.iterations * N * T) / seconds;
}
