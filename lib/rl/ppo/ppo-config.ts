import { existsSync, readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';

/**
 * PPO hyperparameters. Defaults follow Stable-Baselines3's where throughput does not argue
 * otherwise: minibatches of 512 (tfjs pays per op, so small minibatches waste most of a step) with
 * a learning rate raised to match, 4 epochs, and relu hidden layers (tfjs-wasm's tanh kernel costs
 * about 5x relu; learning on the synthetic envs was the same). Serializable: they go into
 * checkpoints and the store.
 */
export const LR_SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type LrScheduleKind = (typeof LR_SCHEDULES)[number];

const positive = (what: string) => z.number({ error: `expected ${what}` }).refine((v) => Number.isFinite(v) && v > 0, `expected ${what}`);
const int = (min: number) => z.number({ error: `expected an integer >= ${min}` }).int(`expected an integer >= ${min}`).min(min, `expected an integer >= ${min}`);
const fraction = z.number({ error: 'expected a number in [0, 1]' }).min(0, 'expected a number in [0, 1]').max(1, 'expected a number in [0, 1]');

export const ppoConfigSchema = z
  .object({
    /** Environments stepped together (split over the rollout workers) */
    numEnvs: int(1).default(16),
    /** Steps per environment per rollout; a rollout is numEnvs * rolloutSteps samples */
    rolloutSteps: int(1).default(256),
    /** Passes over each rollout */
    epochs: int(1).default(4),
    /** Samples per gradient step (the last minibatch of an epoch may be smaller) */
    minibatchSize: int(1).default(512),
    gamma: fraction.default(0.99),
    gaeLambda: fraction.default(0.95),
    /** Clip range of the probability ratio */
    clipRange: positive('a positive number').default(0.2),
    valueCoef: z.number().min(0).default(0.5),
    entropyCoef: z.number().min(0).default(0),
    learningRate: positive('a positive learning rate').default(1e-3),
    lrSchedule: z.enum(LR_SCHEDULES).default('linear'),
    /** Learning rate at the end of training, as a fraction of learningRate (linear and cosine) */
    lrFinalFraction: fraction.default(0),
    /** Global gradient-norm clip; 0 = none */
    maxGradNorm: z.number().min(0).default(0.5),
    normalizeAdvantages: z.boolean().default(true),
    /** Stop an update's epochs once the approximate KL exceeds this; 0 = never */
    targetKl: z.number().min(0).default(0),
    adamEpsilon: positive('a positive number').default(1e-5),
    hidden: z.array(int(1)).min(1, 'expected at least one hidden layer').default([64, 64]),
    activation: z.enum(['tanh', 'relu']).default('relu'),
    /** Initial log standard deviation of continuous actions */
    logStdInit: z.number().default(-0.5),
    /**
     * Rows of the env's observation window the policy reads, newest last ('all': the whole
     * observation). The trading env's features already summarize history (returns over 1/5/20
     * bars, RSI, MACD, …), so the newest row plus the mask and weights is a far smaller input.
     */
    inputRows: z.union([int(1), z.literal('all')]).default('all'),
    /**
     * Rewards are multiplied by this before GAE, so value targets (and the value loss, which shares
     * the gradient-norm clip with the policy loss) have a sensible size. 'auto': 1 / RMS of the
     * running discounted return over the first rollout (Stable-Baselines3's VecNormalize statistic,
     * measured once and then fixed, so a run stays reproducible and resumable).
     */
    rewardScale: z.union([positive('a positive number'), z.literal('auto')]).default('auto'),
  })
  .strict();

export type PpoConfig = z.output<typeof ppoConfigSchema>;
export type PpoConfigInput = z.input<typeof ppoConfigSchema>;

/** Defaults filled in; every problem listed by field. */
export function parsePpoConfig(raw: unknown, source = 'ppo config'): PpoConfig {
  const parsed = ppoConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys' ? i.keys.map((k) => `${[...i.path, k].join('.')}: unknown setting`) : [`${i.path.join('.') || '(root)'}: ${i.message}`],
      ),
    );
  }
  return parsed.data;
}

/** Samples per rollout */
export function rolloutSize(c: PpoConfig): number {
  return c.numEnvs * c.rolloutSteps;
}

/** Reads a YAML file of PPO hyperparameters (any subset; the rest default); errors name the file and field or line. */
export function loadPpoConfigFile(path: string): PpoConfig {
  if (!existsSync(path)) throw new ConfigError(path, ['no such PPO config file']);
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(path, 'utf8'), { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return parsePpoConfig(doc.toJS() ?? {}, path);
}
