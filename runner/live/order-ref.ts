/**
 * The reference every strategy order carries to IB (IB's `orderRef`):
 *
 *     <strategy>@<version>#<decisionId>[/<leg>]
 *
 * - strategy: the engine's strategy id (`Order.strategyId`), letters, digits, `.`, `_`, `-`.
 * - version: the strategy version the runner was configured with (letters, digits, `.`, `_`, `+`, `-`).
 * - decisionId: who decided. Taken from the order's tag when it carries `decision=<id>` (or
 *   `decision:<id>`), else the order's clientOrderId (`<strategyId>-<engine order id>`). The
 *   decision id must be unique across restarts for idempotent submission to be safe: a restarted
 *   engine that reuses an id for a different decision would adopt the old order. The runner
 *   provides that for client order ids (`<strategyId>-<run>.<restarts>-<id>`, run-resume.ts), the
 *   strategy for decision ids in tags. Letters, digits, `.`, `_`, `:`, `-`.
 * - leg: one decision can place several orders (a bracket's entry and exits share the bracket's
 *   tag). The k-th order (k >= 2) of the same decision seen by one client gets `/k`. A restarted
 *   engine replays a decision's orders in the same sequence, so the legs match again.
 *
 * The reference is the key of idempotent submission and of reconciliation: an IB order whose
 * reference parses with a strategy and version this runner runs is ours; anything else is external.
 */

export interface OrderRefParts {
  strategy: string;
  version: string;
  decisionId: string;
  /** 1 for the first order of the decision */
  leg: number;
}

const STRATEGY_RE = /^[A-Za-z0-9._-]+$/;
const VERSION_RE = /^[A-Za-z0-9._+-]+$/;
const DECISION_RE = /^[A-Za-z0-9._:-]+$/;
const REF_RE = /^([A-Za-z0-9._-]+)@([A-Za-z0-9._+-]+)#([A-Za-z0-9._:-]+)(?:\/([1-9][0-9]*))?$/;
const TAG_DECISION_RE = /(?:^|[\s,;])decision[=:]([^\s,;]+)/;

/** Why the parts cannot form a reference, or undefined. */
export function orderRefProblem(parts: Pick<OrderRefParts, 'strategy' | 'version' | 'decisionId'>): string | undefined {
  if (!STRATEGY_RE.test(parts.strategy)) return `strategy id '${parts.strategy}' cannot be used in an orderRef (letters, digits, '.', '_', '-')`;
  if (!VERSION_RE.test(parts.version)) return `version '${parts.version}' cannot be used in an orderRef (letters, digits, '.', '_', '+', '-')`;
  if (!DECISION_RE.test(parts.decisionId)) return `decision id '${parts.decisionId}' cannot be used in an orderRef (letters, digits, '.', '_', ':', '-')`;
  return undefined;
}

/** `<strategy>@<version>#<decisionId>[/<leg>]`; throws on parts orderRefProblem refuses. */
export function formatOrderRef(parts: OrderRefParts): string {
  const problem = orderRefProblem(parts);
  if (problem !== undefined) throw new RangeError(problem);
  if (!(Number.isInteger(parts.leg) && parts.leg >= 1)) throw new RangeError(`leg must be an integer >= 1, was ${parts.leg}`);
  const base = `${parts.strategy}@${parts.version}#${parts.decisionId}`;
  return parts.leg === 1 ? base : `${base}/${parts.leg}`;
}

/** The parts of a reference this runner wrote, or undefined for anything else (manual orders, other tools). */
export function parseOrderRef(ref: string | undefined): OrderRefParts | undefined {
  const m = REF_RE.exec(ref ?? '');
  if (!m) return undefined;
  return { strategy: m[1]!, version: m[2]!, decisionId: m[3]!, leg: m[4] === undefined ? 1 : Number(m[4]) };
}

/** The decision id of an order: `decision=<id>` in its tag, else its clientOrderId. */
export function decisionIdOf(order: { readonly tag: string; readonly clientOrderId: string }): string {
  const m = TAG_DECISION_RE.exec(order.tag ?? '');
  return m ? m[1]! : order.clientOrderId;
}
