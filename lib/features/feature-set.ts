import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { FeatureDefinition, FeatureParams } from './feature-definition.js';
import { FEATURES, featureNames } from './registry.js';

/**
 * Bumped whenever a kernel's numbers change (a fix, a convention): cached features computed by an
 * older library then no longer match any set hash and are recomputed.
 */
export const FEATURE_LIBRARY_VERSION = 1;

const normalizeSchema = z.object({ method: z.literal('zscore').default('zscore'), window: z.number().int().min(2) }).strict();
const entrySchema = z.union([
  z.string().min(1),
  z
    .object({
      name: z.string().min(1),
      params: z.union([z.array(z.number()), z.record(z.string(), z.number())]).optional(),
      /** Per-feature override of the set's normalization (false: raw values) */
      normalize: z.union([z.literal(false), normalizeSchema]).optional(),
    })
    .strict(),
]);

/** A feature set as written in YAML/JSON: features (compact `rsi:14` or objects) and normalization. */
export const featureSetSchema = z
  .object({
    name: z.string().min(1).default('features'),
    description: z.string().optional(),
    features: z.array(entrySchema).min(1),
    normalize: normalizeSchema.optional(),
  })
  .strict();

export type FeatureSetSpec = z.input<typeof featureSetSchema>;

export interface ResolvedFeature {
  definition: FeatureDefinition;
  params: FeatureParams;
  /** Rolling z-score window, or 0 for raw values */
  normalizeWindow: number;
  /** Output column names, one per definition output */
  columns: string[];
  /** First index at which every output is defined (feature lookback + normalization) */
  lookback: number;
}

export interface FeatureSet {
  name: string;
  features: ResolvedFeature[];
  columns: string[];
  /** Largest lookback over the features: rows before it have some NaN */
  lookback: number;
  /** sha256 of the canonical content (library version, features, params, normalization); not the name */
  hash: string;
  /** The canonical content the hash covers */
  canonical: string;
}

/**
 * Parses the compact CLI form `sma:30,ema:30,bbands:20:2,macd:12:26:9` (positional params, defaults
 * for the ones left out) into a feature set.
 */
export function parseFeatureList(text: string, name = 'cli'): FeatureSet {
  const entries = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return resolveFeatureSet({ name, features: entries }, '--features');
}

/** Reads a feature-set file (YAML or JSON) and resolves it. Errors name the file and field. */
export function loadFeatureSetFile(path: string): FeatureSet {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(path, [`cannot read feature set: ${(e as Error).message}`]);
  }
  return resolveFeatureSet(raw, path);
}

export function resolveFeatureSet(raw: unknown, source = 'feature set'): FeatureSet {
  const parsed = featureSetSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(source, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const spec = parsed.data;
  const problems: string[] = [];
  const features: ResolvedFeature[] = [];
  /** Entry that first produced each column, so a duplicate names both entries */
  const owner = new Map<string, string>();
  spec.features.forEach((entry, k) => {
    const where = `features.${k}`;
    try {
      const f = resolveEntry(entry, spec.normalize?.window ?? 0, where);
      const dup = f.columns.filter((c) => owner.has(c));
      if (dup.length) problems.push(`${where} '${f.definition.name}': duplicate column(s) ${dup.map((c) => `${c} (also from ${owner.get(c)})`).join(', ')}`);
      for (const c of f.columns) if (!owner.has(c)) owner.set(c, where);
      features.push(f);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  });
  const columns = features.flatMap((f) => f.columns);
  if (problems.length) throw new ConfigError(source, problems);
  const canonical = JSON.stringify({
    library: FEATURE_LIBRARY_VERSION,
    features: features.map((f) => ({ name: f.definition.name, params: f.definition.params.map((p) => f.params[p.name]), normalize: f.normalizeWindow })),
  });
  return {
    name: spec.name,
    features,
    columns,
    lookback: Math.max(0, ...features.map((f) => f.lookback)),
    hash: createHash('sha256').update(canonical).digest('hex'),
    canonical,
  };
}

function resolveEntry(entry: z.output<typeof entrySchema>, setWindow: number, where: string): ResolvedFeature {
  let name: string;
  let given: number[] | Record<string, number> = [];
  let normalizeWindow = setWindow;
  if (typeof entry === 'string') {
    const parts = entry.split(':').map((s) => s.trim());
    name = parts[0]!;
    given = parts.slice(1).map((p) => (p === '' ? NaN : Number(p)));
    if (given.some((v) => Number.isNaN(v))) throw new ConfigError(where, [`${where} '${entry}': parameters must be numbers, e.g. macd:12:26:9`]);
  } else {
    name = entry.name;
    given = entry.params ?? [];
    if (entry.normalize !== undefined) normalizeWindow = entry.normalize === false ? 0 : entry.normalize.window;
  }
  const definition = FEATURES.get(name);
  // The problem names the entry itself: resolveFeatureSet reports problems, not their source
  if (definition === undefined) throw new ConfigError(where, [`${where}: unknown feature '${name}'; known: ${featureNames().join(', ')}`]);
  const specs = definition.params;
  const params: Record<string, number> = {};
  const problems: string[] = [];
  if (Array.isArray(given)) {
    if (given.length > specs.length) problems.push(`${where} '${name}': takes ${specs.length} parameter(s) (${specs.map((p) => p.name).join(', ') || 'none'}), got ${given.length}`);
    specs.forEach((p, i) => (params[p.name] = given[i] ?? p.default));
  } else {
    for (const key of Object.keys(given)) if (!specs.some((p) => p.name === key)) problems.push(`${where}.params.${key}: '${name}' has no parameter '${key}' (has ${specs.map((p) => p.name).join(', ') || 'none'})`);
    for (const p of specs) params[p.name] = given[p.name] ?? p.default;
  }
  for (const p of specs) {
    const v = params[p.name]!;
    if (!Number.isFinite(v) || v < p.min || (p.integer && !Number.isInteger(v))) {
      problems.push(`${where} '${name}' ${p.name}: expected ${p.integer ? 'an integer' : 'a number'} >= ${p.min} (${p.description}), was ${v}`);
    }
  }
  if (problems.length) throw new ConfigError(where, problems);
  const base = [name, ...specs.map((p) => String(params[p.name]))].join('_');
  const suffix = normalizeWindow > 0 ? `_z${normalizeWindow}` : '';
  const columns = definition.outputs(params).map((o) => (o === '' ? base : `${base}_${o}`) + suffix);
  const own = definition.lookback(params);
  return { definition, params, normalizeWindow, columns, lookback: normalizeWindow > 0 ? own + normalizeWindow - 1 : own };
}
