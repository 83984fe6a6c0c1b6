"""Log handling for workflow scripts: stdout, stderr and Python warnings of a job go to its
Snakemake log file, and an exception is written there (with traceback) before it propagates."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback


@contextlib.contextmanager
def redirect_to_log(path: str):
    with open(path, "a") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        logging.basicConfig(stream=fh, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True)
        logging.captureWarnings(True)
        try:
            yield fh
        except BaseException:
            traceback.print_exc(file=fh)
            fh.flush()
            raise
