import type { LrScheduleKind } from './ppo-config.js';

/**
 * Learning rate at `progress` in [0, 1] (the fraction of training done when an update starts):
 * constant; linear from `initial` to `initial * finalFraction`; or a half cosine between the same
 * two values (flat at both ends).
 */
export function learningRateAt(kind: LrScheduleKind, initial: number, finalFraction: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  const final = initial * finalFraction;
  switch (kind) {
    case 'constant':
      return initial;
    case 'linear':
      return initial + (final - initial) * p;
    case 'cosine':
      return final + (initial - final) * 0.5 * (1 + Math.cos(Math.PI * p));
  }
}
