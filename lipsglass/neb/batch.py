"""Batches of hops: how many batch jobs a glass gets (fixed by the config, so the workflow's
DAG is known before the selection runs), which hops a batch runs, and running them in order with
the finished ones reused (``lipsglass.neb.hop.cached_result``), so a killed batch resumes with
its unfinished hops only. Each hop's start and end and the batch's time left are logged.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.neb.hop import cached_result, run_hop
from lipsglass.neb.selection import hops_requested
from lipsglass.neb.settings import NEBSettings

log = logging.getLogger(__name__)


def n_batches(settings: Mapping) -> int:
    """Batch jobs per glass: ceil(hops requested / batch_size), from the config alone."""
    n = sum(hops_requested(settings).values())
    return math.ceil(n / int(settings["batch_size"]))


def batch_slice(rows: Sequence, batch: int, batch_size: int) -> list:
    """Hops of batch ``batch`` (0-based): rows batch*batch_size ... (batch+1)*batch_size - 1."""
    if batch < 0 or batch_size < 1:
        raise ValueError(f"need batch >= 0 and batch_size >= 1, got {batch}, {batch_size}")
    return list(rows[batch * batch_size:(batch + 1) * batch_size])


def run_batch(hops: Iterable[Mapping], glass_data: str | Path, ff: ForceField, settings: NEBSettings,
              workdir: str | Path, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> list[dict]:
    """Run every hop not already finished (see ``lipsglass.neb.hop.cached_result``), in order; a killed batch
    rerun resumes where it stopped. Returns the results in hop order. ``launcher``: MPI
    launcher of the NEB runs (``lipsglass.neb.band.neb_launch_command``)."""
    hops = list(hops)
    results = []
    seen = set()
    computed_s = []   # wall time of each hop computed by this job (finished ones are reused)
    for k, hop in enumerate(hops):
        if hop["hop_id"] in seen:
            raise ValueError(f"hop_id {hop['hop_id']} appears twice")
        seen.add(hop["hop_id"])
        res = cached_result(hop, glass_data, ff, settings, workdir)
        label = f"hop {k + 1}/{len(hops)} (id {hop['hop_id']}, {hop['class']}, Li {hop['from_id']} -> site of Li {hop['to_id']})"
        if res is not None:
            log.info("%s: finished earlier, %s", label, res["status"])
        else:
            log.info("%s: started", label)
            started = time.perf_counter()
            res = run_hop(hop, glass_data, ff, settings, workdir, launcher, runtime=runtime)
            computed_s.append(time.perf_counter() - started)
            barrier = res.get("forward_barrier_eV")
            log.info("%s: %s%s in %.0f s; %s", label, res["status"],
                     "" if barrier is None else f", forward barrier {barrier:.3f} eV", computed_s[-1],
                     batch_time_left(computed_s, len(hops) - k - 1))
        results.append(res)
    return results


def batch_time_left(hop_wall_s: Sequence[float], hops_left: int) -> str:
    """The time the rest of a batch needs at the mean wall time of its hops so far (hops differ
    by 100x: a rejected hop costs its minimisations, a split one several bands)."""
    if hops_left == 0:
        return "batch done"
    mean_s = sum(hop_wall_s) / len(hop_wall_s)
    return f"{hops_left} hops left, about {hops_left * mean_s / 60:.0f} min at {mean_s / 60:.1f} min per hop so far"
