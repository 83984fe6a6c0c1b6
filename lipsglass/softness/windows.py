"""Windows of a trajectory: a LAMMPS dump cut into windows of consecutive frames, each analysed
for the rearrangements of its centre atoms (D2min, D_cum, displacement, hops;
``lipsglass.d2min``) and the radial structure functions of those atoms at its first frame.

Units: lengths in Angstrom; D_cum in A^2 (or A^2 per neighbour).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from lipsglass.d2min import DEFAULT_CUTOFF, DEFAULT_MIN_NEIGHBOURS, WindowDynamics, analyse_window
from lipsglass.lammpsio import iter_dump
from lipsglass.softness.features import RSFSettings, count_within, radial_structure_functions


@dataclass
class WindowSample:
    """One window of a trajectory: RSF features of the centre atoms at its first frame and their
    rearrangement statistics over it (``lipsglass.d2min.WindowDynamics``)."""

    start_timestep: int
    end_timestep: int
    ids: np.ndarray
    features: np.ndarray
    dynamics: WindowDynamics
    coordination: np.ndarray | None = None  # number of ``count_species`` atoms within the D2min cutoff
    start_frame: int = 0                    # index of the window's first frame in the trajectory


@dataclass(frozen=True)
class WindowSettings:
    """How ``dump_windows`` cuts and analyses a trajectory.

    frames_per_window: increments per window (frames_per_window + 1 frames); stride: frames
    between window starts (None: ``frames_per_window``, back to back); species: element of the
    centre atoms; cutoff (A), normalise, hop_distance (A), min_neighbours: of the D2min analysis
    (``lipsglass.d2min.analyse_window``); count_species: element counted within ``cutoff`` of each
    centre (the coordination-only baseline; None: not counted); average_frames: frames averaged
    into the analysed structure (1: the window's first frame); max_windows: stop after this many
    (None: all); rsf: the radial structure functions."""

    frames_per_window: int
    stride: int | None = None
    species: str = "Li"
    cutoff: float = DEFAULT_CUTOFF
    normalise: str = "none"
    hop_distance: float = 2.0
    min_neighbours: int = DEFAULT_MIN_NEIGHBOURS
    count_species: str | None = "S"
    average_frames: int = 1
    max_windows: int | None = None
    rsf: RSFSettings = RSFSettings()

    @classmethod
    def of(cls, settings: "WindowSettings | None" = None, **changes) -> "WindowSettings":
        """``settings`` with the fields named in ``changes`` replaced, or built from ``changes``
        alone; a name that is no field raises TypeError."""
        return cls(**changes) if settings is None else dataclasses.replace(settings, **changes)


def dump_windows(path: str | Path, settings: WindowSettings | None = None, labels: np.ndarray | None = None,
                 type_elements: Sequence[str] | None = None, structure=None, on_window=None,
                 **changes) -> list[WindowSample]:
    """Cut a LAMMPS text dump into windows and analyse each (features + D_cum + hops), as set by
    ``settings`` (``WindowSettings``) with the fields named in ``changes`` replaced.

    A window holds ``frames_per_window`` increments (frames_per_window + 1 frames); windows start
    every ``stride`` frames (default ``frames_per_window``: back to back, sharing only their
    boundary frame, so their D_cum sums disjoint increments). Frames are streamed. Unwrapped
    coordinates (xu yu zu or image flags) are used when present. ``labels``: per-atom RSF channel
    labels in id order (default: the elements; see ``channel_labels``); ``type_elements``: element
    of each type in type order for dumps without an element column. ``count_species``: the
    number of atoms of this element within ``cutoff`` of each centre at the window's first frame
    is stored as ``coordination`` (the classifier's coordination-only baseline).
    ``structure``: optional callable (box, wrapped positions, atom ids) -> positions giving the
    structure whose features (RSFs, coordination) are taken, e.g. the inherent structure of the
    first frame (default: the first frame itself). ``average_frames`` > 1: the features are
    taken on the positions averaged over the ``average_frames`` frames ending at the window's
    first frame (past frames only, so the window's own motion does not enter its features;
    fewer at the start of the trajectory; needs unwrapped coordinates). ``on_window``: called
    with each finished window (e.g. to log progress).
    """
    s = WindowSettings.of(settings, **changes)
    frames_per_window, stride, species, cutoff = s.frames_per_window, s.stride, s.species, s.cutoff
    normalise, hop_distance, min_neighbours = s.normalise, s.hop_distance, s.min_neighbours
    count_species, average_frames, max_windows = s.count_species, s.average_frames, s.max_windows
    channels, mu, width, truncation = s.rsf.channels, np.asarray(s.rsf.mu, float), s.rsf.width, s.rsf.truncation
    if frames_per_window < 1:
        raise ValueError("frames_per_window must be >= 1")
    stride = frames_per_window if stride is None else stride
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if average_frames < 1:
        raise ValueError(f"average_frames must be >= 1, got {average_frames}")
    history: deque = deque(maxlen=average_frames)
    start_average = None
    mapping = {k + 1: e for k, e in enumerate(type_elements)} if type_elements else None
    out: list[WindowSample] = []
    buffer: list = []  # (frame index, frame) from the start of the next unfinished window on
    next_start = 0
    ids0 = None
    for index, frame in enumerate(iter_dump(path)):
        if ids0 is None:
            ids0 = frame.ids.copy()
            elements = frame.elements(mapping)
            chan = elements if labels is None else np.asarray(labels).astype(str)
            if chan.shape != ids0.shape:
                raise ValueError(f"labels has {chan.shape} entries for {len(ids0)} atoms")
            centres = np.flatnonzero(elements == species)
            if len(centres) == 0:
                raise ValueError(f"{path}: no {species} atoms")
        elif not np.array_equal(frame.ids, ids0):
            raise ValueError(f"{path}: frame {index} holds different atom ids")
        if average_frames > 1:
            if not (frame.has("xu", "yu", "zu") or frame.has("ix", "iy", "iz")):
                raise ValueError(f"{path}: time-averaged structures need unwrapped coordinates (xu yu zu or image flags)")
            history.append(frame.unwrapped_positions())
            if index == next_start:
                start_average = np.mean(np.array(history), axis=0)
        if index < next_start:
            continue  # a gap between windows (stride > frames_per_window)
        buffer.append((index, frame))
        if index == next_start + frames_per_window:
            frames = [f for _, f in buffer]
            unwrapped = all(f.has("xu", "yu", "zu") or f.has("ix", "iy", "iz") for f in frames)
            pos = np.array([f.unwrapped_positions() if unwrapped else f.box.wrap(f.positions()) for f in frames])
            boxes = [f.box for f in frames]
            dyn = analyse_window(boxes, pos, centres, cutoff, normalise, unwrapped, hop_distance, min_neighbours)
            first = boxes[0].wrap(pos[0] if average_frames == 1 else start_average)
            if structure is not None:
                first = boxes[0].wrap(np.asarray(structure(boxes[0], first, ids0), float))
            feats = radial_structure_functions(boxes[0], first, chan, centres, channels, mu, width, truncation)
            coord = None
            if count_species is not None:
                coord = count_within(boxes[0], first, centres, np.flatnonzero(elements == count_species), cutoff)
            out.append(WindowSample(frames[0].timestep, frames[-1].timestep, ids0[centres], feats, dyn, coord,
                                    start_frame=next_start))
            if on_window is not None:
                on_window(out[-1])
            if max_windows is not None and len(out) >= max_windows:
                break
            next_start += stride
            buffer = [(i, f) for i, f in buffer if i >= next_start]
    return out

