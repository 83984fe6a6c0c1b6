"""Independent implementations the project's results are checked against (not used by the
workflow): e.g. ``lipsglass.oracles.ase_neb``, a climbing-image NEB driven by ASE."""
