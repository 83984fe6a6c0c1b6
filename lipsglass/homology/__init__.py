"""Persistent homology of the anion network of a glass: alpha-complex persistence diagrams
(H0, H1, H2), rings (H1 representatives), their link to the FSDP and the softness of Li around
rings. One concept a module:

* :mod:`.results`: persistence diagrams, rings, the homology of a structure; ring lengths and
  selections (``RING_DEFINITIONS``, ``RING_LENGTHS``).
* :mod:`.complex`: the (weighted, periodic) alpha complex with gudhi and its persistence diagram.
* :mod:`.rings`: rings as shortest cycles at birth, searched on the periodic cover.
* :mod:`.volumes`: rings as boundaries of optimal / stable volumes (linear programs, HiGHS).
* :mod:`.persistence`: the entry points (``alpha_persistence``, ``structure_homology``,
  ``network_homology``).
* :mod:`.fsdp`: the rings against the first sharp diffraction peak (C11 inputs).
* :mod:`.ring_softness`: Li softness around rings and its spatial shift null (C12 inputs).
* :mod:`.settings`: ``HomologySettings``, the ``homology`` config section.
* :mod:`.outputs`: the stage's files (``pd_h*.csv``, ``fsdp_link.json``,
  ``softness_by_ring_size.json``).

Every filtration value is gudhi's alpha-complex value, a SQUARED radius alpha^2 in A^2. The claim
decisions (C11, C12) are in :mod:`lipsglass.claims.homology`; the stage's jobs in
:mod:`lipsglass.stages.homology`; the command ``python -m lipsglass homology`` in
:mod:`lipsglass.cli`.
"""
