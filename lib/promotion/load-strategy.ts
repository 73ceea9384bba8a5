import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { StrategyDefinition } from '../engine/strategy.js';
import { digestDirectory, isModuleExcluded, treeHash } from './content-hash.js';
import { PromotionError } from './errors.js';
import { repoRoot } from './git.js';
import { defaultStrategyCache, materializeRelease, promotedVersions } from './materialize.js';
import { importStrategyDefinition } from './module-import.js';
import type { ReleaseRecord } from './release-record.js';
import { SEMVER_RE } from './semver.js';

export type LoadMode = 'backtest' | 'replay' | 'paper' | 'live';

/** `name` (the working tree) or `name@X.Y.Z` (a promoted version) */
export interface StrategySpec {
  name: string;
  version?: string;
}

export function parseStrategySpec(text: string): StrategySpec {
  const m = /^([a-z0-9][a-z0-9._-]*)(?:@(.+))?$/.exec(text.trim());
  if (!m) throw new ConfigError('--strategy', [`expected name or name@X.Y.Z (e.g. sma-cross@1.0.0), was '${text}'`]);
  if (m[2] !== undefined && !SEMVER_RE.test(m[2])) throw new ConfigError('--strategy', [`'${m[2]}' is not a semver version (name@X.Y.Z, e.g. sma-cross@1.0.0)`]);
  return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, version: m[2] };
}

export function formatStrategySpec(spec: StrategySpec): string {
  return spec.version === undefined ? spec.name : `${spec.name}@${spec.version}`;
}

/** Where the running code came from: journaled with the run, shown in logs and order references */
export interface StrategyProvenance {
  name: string;
  /** The version orders and the journal carry: X.Y.Z when promoted, `<code version>-dev` for working-tree code */
  version: string;
  source: 'tag' | 'working-tree';
  /** Working-tree code run with --dev */
  dev: boolean;
  /** Content hash of the module as loaded (content-hash.ts) */
  contentHash: string;
  /** The module file imported */
  moduleFile: string;
  tag?: string;
  commit?: string;
  promotedAt?: string;
  /** The materialized release folder */
  cacheDir?: string;
}

export interface LoadedStrategy {
  definition: StrategyDefinition;
  provenance: StrategyProvenance;
  /** The promotion record (source tag) */
  record?: ReleaseRecord;
}

export interface LoadStrategyOptions {
  /** What the strategy will do: live accepts only promoted versions */
  mode: LoadMode;
  /** Allow working-tree code in paper and replay (marked `-dev` everywhere) */
  dev?: boolean;
  /** Any folder inside the repository (default: the working directory) */
  repo?: string;
  /** Cache of materialized releases (default ~/.cache/monger/strategies) */
  cacheDir?: string;
}

/** The version working-tree code runs under: never equal to a promoted one */
export function devVersion(codeVersion: string): string {
  return `${codeVersion}-dev`;
}

/**
 * Loads the strategy a runner (or a backtest) will run.
 * - `name@X.Y.Z`: the promoted release, materialized from its tag into the cache and verified
 *   against the tag's record (materialize.ts), then imported from there. Any mode.
 * - `name`: the working tree's module. Refused for live (only promoted code trades real money);
 *   paper and replay need `dev: true` and run as `<version>-dev`; backtests may always use it.
 * Nothing connects anywhere before this returns: a refusal happens before any order could.
 */
export async function loadStrategy(spec: string | StrategySpec, o: LoadStrategyOptions): Promise<LoadedStrategy> {
  const s = typeof spec === 'string' ? parseStrategySpec(spec) : spec;
  const start = resolve(o.repo ?? process.cwd());
  if (s.version !== undefined) {
    const repo = repoRoot(start);
    if (o.dev) throw new ConfigError('--dev', [`--dev runs the working tree; it cannot be combined with a promoted version (${formatStrategySpec(s)}): drop one of them`]);
    const m = materializeRelease(repo, s.name, s.version, o.cacheDir ?? defaultStrategyCache());
    const definition = await importStrategyDefinition(m.moduleFile, s.name);
    if (definition.version !== s.version) throw new PromotionError('STRATEGY_HASH_MISMATCH', `${m.moduleFile} is version ${definition.version}, its tag says ${s.version}`);
    return {
      definition,
      record: m.record,
      provenance: {
        name: s.name,
        version: s.version,
        source: 'tag',
        dev: false,
        contentHash: m.record.code.contentHash,
        moduleFile: m.moduleFile,
        tag: m.record.tag,
        commit: m.commit,
        promotedAt: m.record.promotedAt,
        cacheDir: m.dir,
      },
    };
  }
  // working-tree code needs no repository (a deployment copy may have none): only the hint does
  let repo = start;
  let inGit = true;
  try {
    repo = repoRoot(start);
  } catch {
    inGit = false;
  }
  const promoted = () => {
    const v = inGit ? promotedVersions(repo, s.name) : [];
    return v.length ? `promoted versions of ${s.name}: ${v.join(', ')}` : `${s.name} has no promoted version yet (monger promote ${s.name} --version X.Y.Z)`;
  };
  if (o.mode === 'live') {
    throw new PromotionError(
      'STRATEGY_LIVE_REFUSED',
      `live trading runs only promoted code: '${s.name}' names the working tree (unpromoted or modified)${o.dev ? ', and --dev is for paper and replay only' : ''}; run --strategy ${s.name}@X.Y.Z (${promoted()})`,
    );
  }
  if ((o.mode === 'paper' || o.mode === 'replay') && !o.dev) {
    throw new PromotionError(
      'STRATEGY_DEV_REQUIRED',
      `${o.mode} runs working-tree code only with --dev (then every log line and order reference says <version>-dev); otherwise name a promoted version: --strategy ${s.name}@X.Y.Z (${promoted()})`,
    );
  }
  const moduleDir = join(repo, 'strategies', s.name);
  const moduleFile = join(moduleDir, 'index.ts');
  if (!existsSync(moduleFile)) throw new PromotionError('STRATEGY_NOT_FOUND', `no strategy module strategies/${s.name}/index.ts in ${repo}`);
  const definition = await importStrategyDefinition(moduleFile, s.name);
  return {
    definition,
    provenance: {
      name: s.name,
      version: devVersion(definition.version),
      source: 'working-tree',
      dev: true,
      contentHash: treeHash(digestDirectory(moduleDir, isModuleExcluded)),
      moduleFile,
    },
  };
}
