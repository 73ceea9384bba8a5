/**
 * The simulated time of a TWS simulator the runner connects to (`replay.connect: true`), which
 * started its accelerated clock earlier, in another process: a runner that started its own clock at
 * `replay.from` would run minutes of simulated time behind it (and a restarted runner, far behind).
 *
 * IB answers reqCurrentTime in whole seconds, and at `speed` x one real millisecond of round trip is
 * `speed` simulated milliseconds, so one answer is coarse. Every answer bounds the clock: if the
 * simulator read `s` seconds at some real instant between asking (`sentAt`) and hearing
 * (`receivedAt`), its time at a reference real instant r0 lies in
 *   [s*1000 - (receivedAt - r0) * speed, s*1000 + 1000 - (sentAt - r0) * speed).
 * The intersection over a few round trips is the estimate; its middle is the clock used.
 */

export interface TimeSample {
  /** Real ms when reqCurrentTime was sent and its answer arrived */
  sentAt: number;
  receivedAt: number;
  /** The answer: simulated epoch seconds (truncated) */
  seconds: number;
}

export interface ReplayClockEstimate {
  /** Real ms the estimate refers to */
  realAt: number;
  /** Simulated ms at `realAt` */
  simAt: number;
  /** Half the width of the interval the samples allow (simulated ms) */
  uncertaintyMs: number;
  /** False when the samples contradict each other (wrong speed?): the median sample was used */
  consistent: boolean;
}

/** Pure: the simulated clock the samples imply for a simulator running `speed` x real time. */
export function estimateReplayClock(samples: readonly TimeSample[], speed: number): ReplayClockEstimate {
  if (samples.length === 0) throw new RangeError('estimateReplayClock: no samples');
  const r0 = samples[0]!.sentAt;
  let lo = -Infinity;
  let hi = Infinity;
  const mids: number[] = [];
  for (const s of samples) {
    const a = s.seconds * 1000 - (s.receivedAt - r0) * speed;
    const b = s.seconds * 1000 + 1000 - (s.sentAt - r0) * speed;
    lo = Math.max(lo, a);
    hi = Math.min(hi, b);
    mids.push((a + b) / 2);
  }
  if (lo <= hi) return { realAt: r0, simAt: (lo + hi) / 2, uncertaintyMs: (hi - lo) / 2, consistent: true };
  mids.sort((x, y) => x - y);
  return { realAt: r0, simAt: mids[Math.floor(mids.length / 2)]!, uncertaintyMs: NaN, consistent: false };
}
