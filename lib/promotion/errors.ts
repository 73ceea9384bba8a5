import { WorkbenchError } from '../core/errors.js';

export type PromotionErrorCode =
  /** The working tree has uncommitted changes: a promotion must name exactly one commit */
  | 'PROMOTE_DIRTY_TREE'
  /** The tag of this version already exists: a promoted version is immutable */
  | 'PROMOTE_TAG_EXISTS'
  /** The manifest, the code and the --version disagree, or an artifact / feature hash is wrong */
  | 'PROMOTE_MISMATCH'
  /** The strategy's own tests failed (or it has none) */
  | 'PROMOTE_TESTS_FAILED'
  /** At least one gate of the manifest failed: `failures` says which and by how much */
  | 'PROMOTE_GATES_FAILED'
  /** A git command failed (not a repository, no identity for the tag, …) */
  | 'GIT_FAILED'
  /** No tag for the asked version, or the tag does not carry a valid promotion record */
  | 'STRATEGY_NOT_PROMOTED'
  /** Materialized code, artifacts or tag disagree with the promotion record */
  | 'STRATEGY_HASH_MISMATCH'
  /** Live trading asked for code that was not promoted (a working-tree or --dev run) */
  | 'STRATEGY_LIVE_REFUSED'
  /** A working-tree strategy asked for without --dev, or --dev with a version */
  | 'STRATEGY_DEV_REQUIRED'
  /** The module does not export the strategy the spec names */
  | 'STRATEGY_NOT_FOUND';

/** One failed gate, as the refusal explains it */
export interface GateFailure {
  gate: string;
  threshold: number;
  actual: number;
  /** How far the actual value is on the wrong side of the threshold (NaN when the statistic is undefined) */
  shortfall: number;
  message: string;
}

/** Promotion and strategy-loading failures; `failures` is set for PROMOTE_GATES_FAILED. */
export class PromotionError extends WorkbenchError {
  readonly code: PromotionErrorCode;
  readonly failures: readonly GateFailure[];
  constructor(code: PromotionErrorCode, message: string, options?: { cause?: unknown; failures?: readonly GateFailure[] }) {
    super(message, options);
    this.code = code;
    this.failures = options?.failures ?? [];
  }
}
