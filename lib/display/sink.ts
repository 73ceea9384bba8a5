/**
 * Where notebook output goes. In a tslab kernel that is tslab's display API (one MIME type per
 * `display_data`); anywhere else (a tsx script, a test) HTML cannot be shown, so the sink prints
 * the plain-text fallback each helper supplies. Tests swap the sink with {@link setDisplaySink}.
 */
import * as tslab from 'tslab';

/** One output that later calls replace in place (progress). */
export interface DisplayHandle {
  update(html: string, text: string): void;
}

export interface DisplaySink {
  /** Shows HTML; `text` is what a terminal shows instead */
  html(html: string, text: string): void;
  /** An output area that each `update` overwrites */
  handle(): DisplayHandle;
}

/**
 * The sink of a tslab kernel. tslab's display throws "Not ready" until its Jupyter server has
 * installed the output writer, i.e. in every process that is not a kernel: then it prints text.
 */
export const tslabSink: DisplaySink = {
  html(html, text) {
    try {
      tslab.display.html(html);
    } catch (e) {
      if (!isNotReady(e)) throw e;
      console.log(text);
    }
  },
  handle() {
    const display = tslab.newDisplay();
    let last = '';
    return {
      update(html, text) {
        try {
          display.html(html);
        } catch (e) {
          if (!isNotReady(e)) throw e;
          // outside a kernel only changes of the text are worth a line
          if (text !== last) console.log(text);
        }
        last = text;
      },
    };
  },
};

function isNotReady(e: unknown): boolean {
  return e instanceof Error && e.message === 'Not ready';
}

let current: DisplaySink = tslabSink;

/** The sink the display helpers write to. */
export function displaySink(): DisplaySink {
  return current;
}

/** Replaces the sink (tests record outputs); returns the previous one. */
export function setDisplaySink(sink: DisplaySink): DisplaySink {
  const previous = current;
  current = sink;
  return previous;
}
