import { ConfigError } from '../core/errors.js';

/**
 * How the history is cut into folds, in sessions (trading days), so a split means the same on
 * daily and intraday data.
 * - rolling: every fold trains on the `train` sessions before its test window;
 * - anchored: every fold trains from the first session (expanding window), the first fold on `train`.
 * Sessions in `embargo` between the end of train (or validation) and the start of test are not used
 * at all: the purge gap that keeps labels or positions spanning the boundary out of the test.
 */
export interface SplitSpec {
  mode: 'anchored' | 'rolling';
  folds: number;
  /** Sessions in the (first) train window (default: twice the automatic test length) */
  train?: number;
  /** Sessions after train used to choose among the best train points (0: none) */
  validation?: number;
  /** Sessions per test window (default: the rest of the history divided by `folds`) */
  test?: number;
  /** Sessions skipped between train/validation and test */
  embargo?: number;
}

/** A window of sessions, inclusive, by index into the session list and by trading date. */
export interface SessionWindow {
  first: number;
  last: number;
  /** Trading dates (00:00 UTC) of the first and last session */
  from: number;
  to: number;
}

export interface Fold {
  index: number;
  train: SessionWindow;
  validation?: SessionWindow;
  test: SessionWindow;
}

/**
 * Cuts `sessions` (sorted trading dates) into folds whose test windows are contiguous and
 * non-overlapping, ending at the last session, so their stitched out-of-sample curve is continuous.
 *
 * @throws ConfigError naming each field that cannot fit the history
 */
export function makeFolds(sessions: Float64Array | readonly number[], spec: SplitSpec): Fold[] {
  const n = sessions.length;
  const validation = spec.validation ?? 0;
  const embargo = spec.embargo ?? 0;
  const train = spec.train ?? Math.floor(((n - validation - embargo) * 2) / (spec.folds + 2));
  const problems: string[] = [];
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) problems.push(`${name}: expected an integer >= ${min}, was ${v}`);
  };
  int('folds', spec.folds, 1);
  int('train', train, 1);
  int('validation', validation, 0);
  int('embargo', embargo, 0);
  if (spec.test !== undefined) int('test', spec.test, 1);
  if (problems.length) throw new ConfigError('walk-forward split', problems);
  const head = train + validation + embargo;
  const test = spec.test ?? Math.floor((n - head) / spec.folds);
  if (test < 1 || head + test * spec.folds > n) {
    throw new ConfigError('walk-forward split', [
      `${n} sessions cannot hold train ${train} + validation ${validation} + embargo ${embargo} + ${spec.folds} folds x test ${spec.test ?? '(auto)'} sessions`,
    ]);
  }
  const window = (first: number, last: number): SessionWindow => ({ first, last, from: sessions[first]!, to: sessions[last]! });
  const folds: Fold[] = [];
  // test windows are laid out backwards from the last session, then numbered forwards
  const firstTest = n - test * spec.folds;
  for (let k = 0; k < spec.folds; k++) {
    const testFirst = firstTest + k * test;
    const trainLast = testFirst - embargo - validation - 1;
    const trainFirst = spec.mode === 'anchored' ? 0 : trainLast - train + 1;
    folds.push({
      index: k,
      train: window(trainFirst, trainLast),
      validation: validation > 0 ? window(trainLast + 1, trainLast + validation) : undefined,
      test: window(testFirst, testFirst + test - 1),
    });
  }
  return folds;
}
