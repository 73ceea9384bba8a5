import type { RunStatistics } from '../backtest/result-types.js';
import type { FileDigest } from './content-hash.js';
import { PromotionError } from './errors.js';
import type { GateResult } from './gates.js';
import type { Manifest } from './manifest.js';
import type { PromotionDataInfo } from './promotion-data.js';
import type { StrategyTestSummary } from './strategy-tests.js';
import { SEMVER_RE } from './semver.js';

/**
 * The promotion record: everything needed to know what was promoted and to verify it later. Frozen
 * three times with the same content: in the annotated tag's message (the authority the runner
 * verifies against: it travels with the commit), in `strategies/<name>/releases/X.Y.Z.json` (to
 * read and commit), and in the store's `strategy_promotions`.
 */
export interface ReleaseRecord {
  schema: 1;
  name: string;
  version: string;
  description: string;
  tag: string;
  /** ISO instant of the promotion */
  promotedAt: string;
  git: {
    /** The promoted commit: the tag points to it */
    commit: string;
    /** Its tree id: git's own content hash of the whole repository at that commit */
    tree: string;
  };
  code: {
    /** treeHash of strategies/<name>/ without releases/ (content-hash.ts) */
    contentHash: string;
    files: FileDigest[];
    /** treeHash of lib/ (the code the module imports, materialized with it) */
    lib: string;
    libFiles: number;
    /** sha256 of package.json and package-lock.json at the commit: the third-party code it ran on */
    packageJson: string | null;
    packageLock: string | null;
  };
  artifacts: FileDigest[];
  /** The manifest's params after the code's schema (defaults filled in) */
  params: Record<string, unknown>;
  /** JSON Schema of the params, generated from the code's zod schema */
  paramsSchema: unknown;
  features: { list?: string; file?: string; hash: string; columns: string[] } | null;
  data: PromotionDataInfo;
  tests: StrategyTestSummary;
  backtest: { runId: number | null; configHash: string; orders: number; finalValue: number; statistics: RunStatistics };
  walkforward: {
    runId: number | null;
    configHash: string;
    points: number;
    backtests: number;
    folds: { fold: number; train: [string, string]; test: [string, string]; params: Record<string, unknown>; testSharpe: number; testTrades: number }[];
    statistics: RunStatistics;
  };
  gates: GateResult[];
  /** Repository-relative paths of the HTML reports */
  reports: { backtest: string; walkforward: string };
  manifest: Manifest;
}

export const TAG_PREFIX = 'strategy/';

/** `strategy/<name>/v<version>` */
export function strategyTag(name: string, version: string): string {
  return `${TAG_PREFIX}${name}/v${version}`;
}

export function parseStrategyTag(tag: string): { name: string; version: string } | undefined {
  const m = /^strategy\/([^/]+)\/v(.+)$/.exec(tag);
  return m && SEMVER_RE.test(m[2]!) ? { name: m[1]!, version: m[2]! } : undefined;
}

/** Pretty JSON with NaN and ±Infinity as null (JSON has neither) */
export function recordJson(record: ReleaseRecord): string {
  return `${JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/** The tag message: a subject line, a blank line, the record */
export function tagMessage(record: ReleaseRecord): string {
  const s = record.walkforward.statistics;
  return `${record.name} ${record.version}: OOS Sharpe ${fmt(s.sharpe)}, ${s.trades} OOS trades; content ${record.code.contentHash.slice(0, 12)}\n\n${recordJson(record)}`;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));

/** The record inside a tag message; a PromotionError when the tag carries none (not made by promote) */
export function parseTagMessage(message: string, tag: string): ReleaseRecord {
  const start = message.indexOf('\n{');
  let record: Partial<ReleaseRecord>;
  try {
    if (start < 0) throw new Error('no JSON record');
    // a signed tag carries its signature after the record
    const end = message.lastIndexOf('\n}');
    record = JSON.parse(message.slice(start + 1, end + 2)) as Partial<ReleaseRecord>;
  } catch (e) {
    throw new PromotionError('STRATEGY_NOT_PROMOTED', `tag ${tag} carries no promotion record (${(e as Error).message}); it was not made by monger promote`);
  }
  const missing = (['schema', 'name', 'version', 'tag', 'git', 'code', 'artifacts'] as const).filter((k) => record[k] === undefined);
  if (missing.length > 0 || record.schema !== 1) {
    throw new PromotionError('STRATEGY_NOT_PROMOTED', `tag ${tag}: the promotion record is incomplete or of an unknown schema (missing ${missing.join(', ') || 'nothing'}, schema ${String(record.schema)})`);
  }
  if (record.tag !== tag) throw new PromotionError('STRATEGY_HASH_MISMATCH', `tag ${tag} carries the record of ${record.tag}`);
  return record as ReleaseRecord;
}
