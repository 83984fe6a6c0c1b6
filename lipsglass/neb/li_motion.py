"""Li motion around each anion type over a trajectory window (paper Fig. 4D, claim C10): per Li
its nearest anion type at the first frame, net displacement, path length and whether it hopped;
the window of a trajectory; and the seeded choice of the Li whose traces Fig. 4D draws.

Units: lengths A, time ps (timestep fs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.lammpsio import iter_dump
from lipsglass.softness.environment import ANION_TYPES, anion_environment


@dataclass
class LiMotion:
    """Motion of each Li over a trajectory window, and its summary per nearest anion type.

    nearest_anion: anion type of the S nearest to the Li at the first frame ("" if no S within
    radius_A); displacement_A: |r(last) - r(first)| (unwrapped); path_length_A: sum of the
    frame-to-frame displacements; hopped: displacement_A > hop_distance_A.
    by_anion[type] = {"n", "hopped_fraction", "mean_displacement_A", "mean_path_length_A"}.
    """

    li_ids: np.ndarray
    nearest_anion: np.ndarray
    displacement_A: np.ndarray
    path_length_A: np.ndarray
    hopped: np.ndarray
    hop_distance_A: float
    by_anion: dict = field(default_factory=dict)


def li_motion_by_anion(frames: Sequence, li_ids: np.ndarray, s_anion_labels: np.ndarray,
                       hop_distance_A: float, radius_A: float = 5.0) -> LiMotion:
    """Per Li: nearest anion type at the first frame, net displacement, path length and whether
    it hopped (net displacement > hop_distance_A), plus the fractions per anion type.

    frames: ``lammpsio.DumpFrame`` sequence (same atom ids in every frame, unwrapped coordinates
    or image flags available); li_ids: atom ids of the Li to follow; s_anion_labels: one label
    per atom of the frames (id order): the anion type of each S atom, "" for other atoms.
    """
    if len(frames) < 2:
        raise ValueError("need at least two frames")
    if not hop_distance_A > 0:
        raise ValueError(f"hop_distance_A must be positive, got {hop_distance_A}")
    ids0 = frames[0].ids
    labels = np.asarray(s_anion_labels).astype(str)
    if labels.shape != ids0.shape:
        raise ValueError(f"s_anion_labels has {labels.shape} entries, frames have {len(ids0)} atoms")
    li_ids = np.asarray(li_ids, np.int64)
    pos_of = {int(a): k for k, a in enumerate(ids0)}
    missing = [int(a) for a in li_ids if int(a) not in pos_of]
    if missing:
        raise ValueError(f"Li ids {missing[:5]} are not in the frames")
    centres = np.array([pos_of[int(a)] for a in li_ids], np.int64)
    traj = []
    for f in frames:
        if not np.array_equal(f.ids, ids0):
            raise ValueError(f"frame at step {f.timestep} holds different atom ids")
        traj.append(f.unwrapped_positions()[centres])
    traj = np.stack(traj)  # (T, N_Li, 3)
    env = anion_environment(frames[0].box, frames[0].positions(), centres, labels, radius=radius_A)
    disp = np.linalg.norm(traj[-1] - traj[0], axis=1)
    path = np.linalg.norm(np.diff(traj, axis=0), axis=2).sum(axis=0)
    hopped = disp > hop_distance_A
    by_anion = {}
    for a in ANION_TYPES:
        m = env.nearest == a
        by_anion[a] = {"n": int(m.sum()),
                       "hopped_fraction": float(hopped[m].mean()) if m.any() else float("nan"),
                       "mean_displacement_A": float(disp[m].mean()) if m.any() else float("nan"),
                       "mean_path_length_A": float(path[m].mean()) if m.any() else float("nan")}
    return LiMotion(li_ids, env.nearest, disp, path, hopped, float(hop_distance_A), by_anion)


def trajectory_window(trajectory: str | Path, duration_ps: float, timestep_fs: float) -> list:
    """The frames of the first ``duration_ps`` of a trajectory (time from the first frame's
    timestep). Raises ValueError when the trajectory is shorter than the window."""
    if not duration_ps > 0:
        raise ValueError(f"duration_ps must be positive, got {duration_ps}")
    frames, t0 = [], None
    for f in iter_dump(trajectory):
        t0 = f.timestep if t0 is None else t0
        t = (f.timestep - t0) * timestep_fs / 1000.0
        if t > duration_ps + 1e-9:
            break
        frames.append(f)
    if t0 is None:
        raise ValueError(f"{trajectory}: no frames")
    span = (frames[-1].timestep - t0) * timestep_fs / 1000.0
    if span < duration_ps - 1e-9:
        raise ValueError(f"{trajectory} spans {span:g} ps, shorter than the {duration_ps:g} ps window")
    return frames


def traced_li(motion_rows: Sequence[Mapping], settings: Mapping, anions: Sequence[str]) -> list[int]:
    """Atom ids of the Li traced in Fig. 4D: for each of ``anions`` in turn, ``traces_per_anion``
    Li (fewer if fewer exist) drawn without replacement, by one generator seeded with
    ``settings["seed"]``, from the rows of ``li_motion.csv`` (``motion_rows``: ``id``,
    ``nearest_anion``) whose nearest anion is that type; ids of each anion sorted."""
    rng = np.random.default_rng(int(settings["seed"]))
    chosen = []
    for a in anions:
        members = sorted(int(r["id"]) for r in motion_rows if r["nearest_anion"] == a)
        k = min(int(settings["traces_per_anion"]), len(members))
        chosen += sorted(rng.choice(members, size=k, replace=False).tolist()) if k else []
    return chosen
