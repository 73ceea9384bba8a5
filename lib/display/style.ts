/**
 * CSS of notebook outputs. Every rule is scoped under `.monger-output`, so it styles only our
 * outputs and never the notebook page (the HTML reports' stylesheet sets `body` and `table` and
 * cannot be reused here). Alignment is `!important`: the notebook front ends right-align every
 * cell with more specific selectors (`:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`).
 * Each output carries it: outputs stay right when reordered, exported or reopened (under 3 KB).
 */
export const OUTPUT_CSS = `<style>
.monger-output { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121; }
.monger-output table.monger-table, .monger-output table.stats, .monger-output table.trades, .monger-output table.folds { border-collapse: collapse; border: none; margin: 4px 0 8px; width: auto; }
.monger-output th, .monger-output td { padding: 3px 10px !important; border: none; border-bottom: 1px solid #eceff1; vertical-align: top; background: transparent; }
.monger-output thead th { font-weight: 600; text-align: left !important; border-bottom: 1px solid #b0bec5; white-space: nowrap; }
.monger-output tbody tr:nth-child(odd) { background: #fafbfc; }
.monger-output tbody tr:hover { background: #eef3f8; }
.monger-output td { text-align: left !important; font-variant-numeric: tabular-nums; }
.monger-output td.num, .monger-output th.num { text-align: right !important; white-space: nowrap; }
.monger-output td.na { color: #b0bec5; text-align: center !important; }
.monger-output td.pos { color: #2e7d32; } .monger-output td.neg { color: #c62828; }
.monger-output td.idx { color: #90a4ae; text-align: right !important; }
.monger-output tr.omitted td { text-align: center !important; color: #78909c; font-style: italic; background: #f5f7f8; }
.monger-output caption { caption-side: top; text-align: left !important; font-weight: 600; padding: 2px 0 4px; color: #37474f; }
.monger-output .note { color: #607d8b; margin: 2px 0; }
.monger-output .stats-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px; }
.monger-output .stats { width: 100%; } .monger-output .stats td { text-align: right !important; } .monger-output .stats th { font-weight: normal; color: #455a64; text-align: left !important; }
.monger-output .trades td:nth-child(n+4), .monger-output .folds td { text-align: right !important; white-space: nowrap; }
.monger-output .folds td:first-child, .monger-output .folds td.params { text-align: left !important; }
.monger-output .trades tr.win td:nth-child(11) { color: #2e7d32; } .monger-output .trades tr.loss td:nth-child(11) { color: #c62828; }
.monger-output .monger-progress { display: flex; align-items: center; gap: 10px; }
.monger-output .monger-progress .bar { width: 260px; height: 10px; background: #eceff1; border-radius: 5px; overflow: hidden; flex: none; }
.monger-output .monger-progress .fill { height: 100%; background: #1565c0; }
.monger-output .monger-progress.done .fill { background: #2e7d32; }
.monger-output .monger-progress .label { font-weight: 600; }
.monger-output .monger-progress .info { color: #546e7a; }
.monger-output .monger-plot-missing { color: #c62828; padding: 8px; border: 1px dashed #ef9a9a; }
</style>`;

/** Wraps HTML in the scoped container with its stylesheet. */
export function outputHtml(body: string): string {
  return `${OUTPUT_CSS}<div class="monger-output">${body}</div>`;
}
