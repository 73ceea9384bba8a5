/**
 * Fixed-size rings for the streaming forms of windowed features. Sums run oldest to newest, the
 * order batch kernels use over `values[i-n+1..i]`, so batch and stream agree bit for bit.
 */

/** Writes x at `head` and returns the next head (the oldest slot once the ring is full). */
export function ringPush(ring: Float64Array, head: number, x: number): number {
  ring[head] = x;
  return head + 1 === ring.length ? 0 : head + 1;
}

/** Chronological sum of a full ring whose oldest slot is `head`. */
export function ringSum(ring: Float64Array, head: number): number {
  let s = 0;
  for (let j = head; j < ring.length; j++) s += ring[j]!;
  for (let j = 0; j < head; j++) s += ring[j]!;
  return s;
}

/** Max of a ring (order-free); Math.max propagates NaN, so a NaN bar masks its windows. */
export function ringMax(ring: Float64Array): number {
  let m = -Infinity;
  for (let j = 0; j < ring.length; j++) m = Math.max(m, ring[j]!);
  return m;
}

/** Min of a ring (order-free), NaN-propagating like `ringMax`. */
export function ringMin(ring: Float64Array): number {
  let m = Infinity;
  for (let j = 0; j < ring.length; j++) m = Math.min(m, ring[j]!);
  return m;
}

/** Max of values[from..to] inclusive, NaN-propagating. */
export function windowMax(values: Float64Array, from: number, to: number): number {
  let m = -Infinity;
  for (let j = from; j <= to; j++) m = Math.max(m, values[j]!);
  return m;
}

/** Min of values[from..to] inclusive, NaN-propagating. */
export function windowMin(values: Float64Array, from: number, to: number): number {
  let m = Infinity;
  for (let j = from; j <= to; j++) m = Math.min(m, values[j]!);
  return m;
}

/** Sum of values[from..to] inclusive, oldest first. */
export function windowSum(values: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let j = from; j <= to; j++) s += values[j]!;
  return s;
}
