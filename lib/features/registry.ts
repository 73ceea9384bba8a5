import { ConfigError } from '../core/errors.js';
import type { FeatureDefinition } from './feature-definition.js';
import { DIRECTIONAL_FEATURES } from './kernels/directional.js';
import { MOVING_AVERAGE_FEATURES } from './kernels/moving-averages.js';
import { OSCILLATOR_FEATURES } from './kernels/oscillators.js';
import { REGIME_FEATURES } from './kernels/regime.js';
import { RETURN_FEATURES } from './kernels/returns.js';
import { ROLLING_STAT_FEATURES } from './kernels/rolling-stats.js';
import { VOLATILITY_FEATURES } from './kernels/volatility.js';
import { VOLUME_FEATURES } from './kernels/volume.js';

/** Every per-instrument feature by its spec name (`sma`, `macd`, …), in catalogue order. */
export const FEATURES: ReadonlyMap<string, FeatureDefinition> = new Map(
  [
    ...RETURN_FEATURES,
    ...MOVING_AVERAGE_FEATURES,
    ...ROLLING_STAT_FEATURES,
    ...VOLATILITY_FEATURES,
    ...OSCILLATOR_FEATURES,
    ...DIRECTIONAL_FEATURES,
    ...VOLUME_FEATURES,
    ...REGIME_FEATURES,
  ].map((f) => [f.name, f]),
);

export function featureNames(): string[] {
  return [...FEATURES.keys()];
}

export function getFeature(name: string, where = 'feature'): FeatureDefinition {
  const f = FEATURES.get(name);
  if (f === undefined) throw new ConfigError(where, [`unknown feature '${name}'; known: ${featureNames().join(', ')}`]);
  return f;
}
