import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { expected, finite, formatPath, issueProblems, oneOf, pattern, section, text } from '../core/config-schema.js';
import { ConfigError } from '../core/errors.js';
import { COMMISSION_MODEL_NAMES } from '../backtest/commission.js';
import { INTERVALS } from '../data/interval.js';
import { OBJECTIVES } from '../walkforward/objective.js';
import { SEMVER_RE } from './semver.js';

/**
 * `strategies/<name>/manifest.yaml`: what a strategy module claims about itself and what its
 * promotion must prove. The params' zod schema stays in the code (the single source of truth);
 * the manifest holds the params promotion evaluates, and the promotion record carries the schema's
 * JSON description generated from the code. Every problem is reported by field path, all at once,
 * in a ConfigError naming the file. Unknown keys are problems: a misspelt gate must never be
 * silently ignored.
 */

export const MANIFEST_FILE = 'manifest.yaml';

/** Gates: each optional; the walk-forward ones judge the stitched out-of-sample curve, the others the full-range backtest. */
export const GATE_DEFINITIONS = {
  minOosSharpe: { kind: 'min', source: 'oos', statistic: 'sharpe', label: 'out-of-sample Sharpe' },
  maxOosDrawdown: { kind: 'max', source: 'oos', statistic: 'maxDrawdown', label: 'out-of-sample max drawdown' },
  minOosTrades: { kind: 'min', source: 'oos', statistic: 'trades', label: 'out-of-sample round trips' },
  minOosReturn: { kind: 'min', source: 'oos', statistic: 'totalReturn', label: 'out-of-sample total return' },
  minSharpe: { kind: 'min', source: 'backtest', statistic: 'sharpe', label: 'backtest Sharpe' },
  maxDrawdown: { kind: 'max', source: 'backtest', statistic: 'maxDrawdown', label: 'backtest max drawdown' },
  minTrades: { kind: 'min', source: 'backtest', statistic: 'trades', label: 'backtest round trips' },
  minReturn: { kind: 'min', source: 'backtest', statistic: 'totalReturn', label: 'backtest total return' },
} as const;
export type GateName = keyof typeof GATE_DEFINITIONS;

const SHA256_RE = /^[0-9a-f]{64}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** A path inside the strategy folder (no absolute paths, no `..`, not under releases/) */
const modulePath = text('a path relative to the strategy folder').refine(
  (p) => !isAbsolute(p) && !normalize(p).startsWith('..') && !/^releases(\/|$)/.test(normalize(p)),
  { error: 'expected a path inside the strategy folder (relative, no .., not under releases/)' },
);

const artifactSchema = section({ path: modulePath, sha256: pattern('a sha256 (64 lowercase hex digits)', SHA256_RE) });

const featuresSchema = section({
  /** Compact list (`sma:10,sma:30`) as `monger features compute --features` takes it */
  list: text('a feature list like sma:10,rsi:14').optional(),
  /** A feature-set YAML file inside the strategy folder */
  file: modulePath.optional(),
  /** The set's content hash (lib/features/feature-set.ts: library version, features, params, normalization) */
  hash: pattern('a sha256 (64 lowercase hex digits)', SHA256_RE),
});

const dataSchema = section({
  /** Bar files (repository-relative) imported into a throwaway store; left out: the --db store */
  files: z.array(text('a repository-relative file path'), { error: expected('a list of bar files') }).min(1).optional(),
  symbols: z.array(text('an instrument key like SPY'), { error: expected('a list of instrument keys') }).min(1, { error: 'expected at least one symbol' }),
  interval: oneOf(INTERVALS),
  kind: oneOf(['trade', 'mid'] as const).default('trade'),
  adjusted: z.boolean({ error: expected('true or false') }).default(false),
  from: pattern('a date YYYY-MM-DD', DATE_RE),
  to: pattern('a date YYYY-MM-DD', DATE_RE),
});

const backtestSchema = section({
  cash: finite('a positive amount', (n) => n > 0),
  fill: oneOf(['next-open', 'close', 'quote'] as const).default('next-open'),
  commission: oneOf(COMMISSION_MODEL_NAMES).default('none'),
  slippageBps: finite('a number of basis points >= 0', (n) => n >= 0).default(0),
  seed: finite('an integer', Number.isInteger).default(1),
});

const count = (what: string, min: number) => finite(`${what} (integer >= ${min})`, (n) => Number.isInteger(n) && n >= min);
const walkforwardSchema = section({
  /** Parameter grid as `monger walkforward --grid` takes it; the manifest's params fill the rest */
  grid: text('a grid like fast=5..20:5,slow=20..60:10'),
  mode: oneOf(['rolling', 'anchored'] as const).default('rolling'),
  folds: count('a number of folds', 1),
  train: count('sessions', 1).optional(),
  validation: count('sessions', 0).default(0),
  test: count('sessions', 1).optional(),
  embargo: count('sessions', 0).default(0),
  objective: oneOf(OBJECTIVES).default('sharpe'),
  minTrades: count('round trips', 0).default(1),
  topK: count('points', 1).default(5),
});

const gateShape = Object.fromEntries(
  Object.entries(GATE_DEFINITIONS).map(([name, g]) => [
    name,
    (g.statistic === 'trades' ? count('round trips', 0) : g.statistic === 'maxDrawdown' ? finite('a fraction in (0, 1] (0.2 = 20 %)', (n) => n > 0 && n <= 1) : finite('a number', () => true)).optional(),
  ]),
) as { [K in GateName]: z.ZodOptional<z.ZodNumber> };

export const manifestSchema = section({
  name: pattern('the strategy name (its folder name)', /^[a-z0-9][a-z0-9._-]*$/),
  version: pattern('a semver version like 1.0.0', SEMVER_RE),
  description: text('a one-line description'),
  params: z.record(z.string(), z.unknown(), { error: expected('a mapping of strategy parameters') }).default({}),
  features: featuresSchema.optional(),
  artifacts: z.array(artifactSchema, { error: expected('a list of { path, sha256 }') }).default([]),
  data: dataSchema,
  backtest: backtestSchema,
  walkforward: walkforwardSchema,
  gates: section(gateShape).refine((g) => Object.values(g).some((v) => v !== undefined), { error: `expected at least one gate (${Object.keys(GATE_DEFINITIONS).join(', ')})` }),
});

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestGates = Manifest['gates'];

/** Reads and validates `<strategyDir>/manifest.yaml`; `display` names the file in errors. */
export function loadManifest(strategyDir: string, display = join(strategyDir, MANIFEST_FILE)): Manifest {
  const file = join(strategyDir, MANIFEST_FILE);
  if (!existsSync(file)) throw new ConfigError(display, ['no manifest: a promotable strategy module has strategies/<name>/manifest.yaml']);
  return parseManifest(readFileSync(file, 'utf8'), display);
}

export function parseManifest(yamlText: string, source: string): Manifest {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const parsed = manifestSchema.safeParse(doc.toJS());
  const problems: string[] = [];
  if (!parsed.success) {
    for (const { path, message } of issueProblems(parsed.error.issues)) problems.push(`${formatPath(path)}: ${message}`);
    throw new ConfigError(source, problems);
  }
  const m = parsed.data;
  if (m.data.to < m.data.from) problems.push(`data.to: ${m.data.to} is before data.from ${m.data.from}`);
  if (m.features !== undefined && (m.features.list === undefined) === (m.features.file === undefined)) problems.push('features: expected exactly one of list or file');
  m.artifacts.forEach((a, i, all) => {
    if (all.findIndex((b) => normalize(b.path) === normalize(a.path)) !== i) problems.push(`artifacts[${i}].path: '${a.path}' is listed twice`);
  });
  if (problems.length > 0) throw new ConfigError(source, problems);
  return m;
}
