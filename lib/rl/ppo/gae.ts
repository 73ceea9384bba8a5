/**
 * Generalized Advantage Estimation (Schulman et al. 2016) over one rollout, env-major layout:
 * element (i, t) of env i at step t is at i * steps + t.
 *
 * done[i, t] = 1 when the episode ended after the action at step t (terminal or truncated).
 * Truncated (time-limit) ends are bootstrapped by the caller, which adds gamma * V(final obs) to
 * that step's reward, so both kinds of end stop the recursion here. `lastValues[i]` is V of the
 * observation after the rollout's last step (bootstraps the unfinished episode).
 *
 *   delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t
 *   A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
 *   R_t     = A_t + V_t            (the value target, the lambda-return)
 */
export function computeGae(
  rewards: Float32Array,
  values: Float32Array,
  dones: Uint8Array,
  lastValues: Float32Array,
  numEnvs: number,
  steps: number,
  gamma: number,
  lambda: number,
  outAdvantages: Float32Array,
  outReturns: Float32Array,
): void {
  for (let i = 0; i < numEnvs; i++) {
    const base = i * steps;
    let next = 0;
    let nextValue = lastValues[i]!;
    for (let t = steps - 1; t >= 0; t--) {
      const k = base + t;
      const notDone = dones[k] === 0 ? 1 : 0;
      const delta = rewards[k]! + gamma * nextValue * notDone - values[k]!;
      next = delta + gamma * lambda * notDone * next;
      outAdvantages[k] = next;
      outReturns[k] = next + values[k]!;
      nextValue = values[k]!;
    }
  }
}
