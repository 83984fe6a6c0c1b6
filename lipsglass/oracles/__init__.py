"""Independent implementations the project's kernels are checked against (test and validation
only; never imported by the workflow's science code). Each wrapper imports its package lazily and
says which version it used (e.g. ``lipsglass.oracles.ase_neb``, a climbing-image NEB driven
by ASE)."""
