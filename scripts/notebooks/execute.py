"""Executes notebooks headless with nbclient, cell by cell, and reports each cell as JSON.

Usage: python3 execute.py KERNEL OUT_DIR TIMEOUT_S NOTEBOOK...

For each notebook: starts KERNEL (Jupyter starts it; the kernelspec changes to the project root),
runs the code cells in order, stops at the first cell whose execute_reply is not ok, writes the
executed (or partly executed) notebook to OUT_DIR under the same name and prints one JSON line:
{"notebook", "output", "ok", "seconds", "kernelSeconds", "cells": [{"index", "seconds", "status"}],
 "failed": {"index", "source", "error"} | null}.

Why cell by cell: tslab reports errors on the cell's stderr stream with an empty execute_reply
(no ename/evalue), and it aborts every request that arrives within 200 ms of a failure, so
nbconvert's own message is empty and --allow-errors is useless. The driver reads the failing
cell's stderr itself. Exit status: 0 when every notebook ran cleanly, 1 otherwise.
"""
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def cell_error(cell, exc):
    """The failing cell's stderr (tslab puts errors there), else the exception's text."""
    parts = [o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    parts += ["%s: %s" % (o.get("ename"), o.get("evalue")) for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    text = "".join(parts).strip()
    return text or ("%s: %s" % (type(exc).__name__, exc)).strip()


def run(kernel, path, out_dir, timeout):
    nb = nbformat.read(path, as_version=4)
    root = os.getcwd()
    client = NotebookClient(nb, kernel_name=kernel, timeout=timeout, startup_timeout=120, resources={"metadata": {"path": root}})
    report = {"notebook": path, "output": os.path.join(out_dir, os.path.basename(path)), "cells": [], "failed": None}
    started = time.monotonic()
    try:
        with client.setup_kernel():
            report["kernelSeconds"] = round(time.monotonic() - started, 3)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                t0 = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                    status = "ok"
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
                    status = "timeout" if isinstance(exc, CellTimeoutError) else "error"
                    report["failed"] = {"index": index, "source": cell.source, "error": cell_error(cell, exc)}
                report["cells"].append({"index": index, "seconds": round(time.monotonic() - t0, 3), "status": status})
                if status != "ok":
                    break
    except Exception as exc:  # the kernel did not start, or died between cells
        if report["failed"] is None:
            report["failed"] = {"index": -1, "source": "", "error": "%s: %s" % (type(exc).__name__, exc)}
    report["seconds"] = round(time.monotonic() - started, 3)
    report["ok"] = report["failed"] is None
    os.makedirs(out_dir, exist_ok=True)
    nbformat.write(nb, report["output"])
    return report


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    kernel, out_dir, timeout = argv[1], argv[2], int(argv[3])
    ok = True
    for path in argv[4:]:
        report = run(kernel, path, out_dir, timeout)
        ok = ok and report["ok"]
        print(json.dumps(report), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
