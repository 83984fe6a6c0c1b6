"""Log handling for workflow scripts: stdout, stderr and Python warnings of a job go to its
Snakemake log file, and an exception is written there (with traceback, then a one-line
``ERROR: ...`` summary as the last line) before it propagates."""

from __future__ import annotations

import contextlib
import logging
import traceback


@contextlib.contextmanager
def redirect_to_log(path: str):
    with open(path, "a") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        logging.basicConfig(stream=fh, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True)
        logging.captureWarnings(True)
        try:
            yield fh
        except BaseException as exc:
            traceback.print_exc(file=fh)
            # last line of the log: the reason in one line (e.g. which file and frame is broken)
            fh.write(f"ERROR: {type(exc).__name__}: {exc}\n")
            fh.flush()
            raise
