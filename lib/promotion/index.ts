/**
 * Versioned strategy modules: promotion by tag and running exactly what was promoted (issue 7).
 *
 *     import { promote, loadStrategy } from './lib/promotion/index.js';
 *     await promote({ name: 'sma-cross', version: '1.1.0', store });          // = monger promote
 *     const { definition, provenance } = await loadStrategy('sma-cross@1.1.0', { mode: 'backtest' });
 */
export { promote, type PromoteOptions, type PromotionResult } from './promote.js';
export { loadStrategy, parseStrategySpec, formatStrategySpec, devVersion, type LoadedStrategy, type LoadStrategyOptions, type StrategyProvenance, type StrategySpec, type LoadMode } from './load-strategy.js';
export { materializeRelease, verifyMaterialized, readRelease, promotedVersions, defaultStrategyCache, type MaterializedRelease } from './materialize.js';
export { listStrategies, lastRunsFromJournal, strategyModuleNames, type StrategyListing, type PromotedVersion, type LastRun } from './catalog.js';
export { loadManifest, parseManifest, GATE_DEFINITIONS, MANIFEST_FILE, type Manifest, type GateName } from './manifest.js';
export { evaluateGates, type GateResult } from './gates.js';
export { listPromotions, type PromotionRow } from './promotion-store.js';
export { strategyTag, parseStrategyTag, type ReleaseRecord } from './release-record.js';
export { PromotionError, type PromotionErrorCode, type GateFailure } from './errors.js';
