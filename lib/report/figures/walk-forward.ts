import type { WalkForwardResult } from '../../walkforward/walk-forward.js';
import { COLORS, DIVERGING_SCALE, axis, baseLayout, plainNumbers, plotlyDates, type Figure } from './figure.js';

/** `fast=5 slow=20`: a grid point as a short label */
export function pointLabel(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/**
 * Growth of 1 in sample and out of sample: each fold's train run with its chosen parameters
 * (dotted, rebased to 1 at its start) and the stitched out-of-sample curve (solid, rebased to 1).
 * The gap between them is what the search over-fitted.
 */
export function inOutSampleEquityFigure(r: WalkForwardResult): Figure {
  const traces = r.folds.map((f, k) => ({
    type: 'scatter',
    mode: 'lines',
    name: `fold ${k} in sample`,
    legendgroup: 'is',
    showlegend: k === 0,
    x: plotlyDates(f.trainDaily.ts),
    y: plainNumbers(rebase(f.trainDaily.equity, r.config.cash as number)),
    line: { color: '#90a4ae', width: 1, dash: 'dot' },
    hovertemplate: `fold ${k} IS %{y:.3f}<extra></extra>`,
  }));
  traces.push({
    type: 'scatter',
    mode: 'lines',
    name: 'out of sample (stitched)',
    legendgroup: 'oos',
    showlegend: true,
    x: plotlyDates(r.oos.daily.ts),
    y: plainNumbers(rebase(r.oos.daily.equity, r.config.cash as number)),
    line: { color: COLORS.equity, width: 2, dash: 'solid' },
    hovertemplate: 'OOS %{y:.3f}<extra></extra>',
  });
  return {
    data: traces,
    layout: baseLayout('In-sample vs out-of-sample equity (growth of 1)', { hovermode: 'closest', xaxis: axis({ type: 'date' }), yaxis: axis({ title: { text: 'Growth of 1' } }) }),
  };
}

/** Train vs test value of the objective per fold: the chosen point's in- and out-of-sample score. */
export function foldObjectiveFigure(r: WalkForwardResult): Figure {
  const x = r.folds.map((f) => `fold ${f.fold.index}`);
  const stat = r.objective;
  return {
    data: [
      { type: 'bar', name: `train ${stat}`, x, y: plainNumbers(r.folds.map((f) => f.train[stat])), marker: { color: '#90a4ae' } },
      { type: 'bar', name: `test ${stat}`, x, y: plainNumbers(r.folds.map((f) => f.test[stat])), marker: { color: COLORS.equity } },
    ],
    layout: baseLayout(`${stat} in sample vs out of sample, per fold`, { barmode: 'group', xaxis: axis({}), yaxis: axis({ title: { text: stat } }) }),
  };
}

/**
 * Parameter stability: the train objective of every grid point (rows) on every fold (columns),
 * with the chosen point of each fold marked. A stable strategy shows a broad plateau whose
 * chosen points stay put; a lone bright cell that moves fold to fold is noise.
 */
export function parameterStabilityHeatmap(r: WalkForwardResult): Figure {
  const folds = r.folds.map((f) => `fold ${f.fold.index}`);
  const labels = r.points.map(pointLabel);
  const z: (number | null)[][] = r.points.map(() => folds.map(() => null));
  for (const s of r.scores) z[s.point]![s.fold] = Number.isFinite(s.objective) ? s.objective : null;
  return {
    data: [
      { type: 'heatmap', x: folds, y: labels, z, colorscale: DIVERGING_SCALE, zmid: 0, colorbar: { title: { text: r.objective } }, hovertemplate: '%{y}<br>%{x}: %{z:.3f}<extra></extra>' },
      {
        type: 'scatter',
        mode: 'markers',
        name: 'chosen',
        x: folds,
        y: r.folds.map((f) => labels[f.chosen]),
        marker: { symbol: 'x', size: 10, color: '#212121' },
        hovertemplate: 'chosen on %{x}: %{y}<extra></extra>',
      },
    ],
    layout: baseLayout(`Parameter stability: train ${r.objective} per point and fold`, {
      height: Math.min(1400, Math.max(420, 16 * labels.length + 140)),
      hovermode: 'closest',
      xaxis: axis({ side: 'top' }),
      yaxis: axis({ autorange: 'reversed', type: 'category' }),
      margin: { l: 140, r: 24, t: 100, b: 24 },
    }),
  };
}

export function walkForwardFigures(r: WalkForwardResult): Figure[] {
  return [inOutSampleEquityFigure(r), foldObjectiveFigure(r), parameterStabilityHeatmap(r)];
}

function rebase(equity: Float64Array, base: number): Float64Array {
  const out = new Float64Array(equity.length);
  for (let i = 0; i < equity.length; i++) out[i] = equity[i]! / base;
  return out;
}
