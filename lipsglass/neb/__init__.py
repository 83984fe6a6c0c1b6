"""Li migration barriers by the nudged elastic band (NEB) method (paper Fig. 4B, 4C, S3) and the Li
motion around each anion type (Fig. 4D): one module per concept, importable on its own.

Pipeline for one hop of Li ``from_id`` to the site of Li ``to_id`` (5-10 A away):

* :mod:`.settings` -- ``NEBSettings`` (every knob of a hop calculation, from the ``neb`` config
  section: ``neb_settings``) and the MPI size of the largest band (``max_band_ranks``);
* :mod:`.selection` -- the seeded hop sample by class (``select_hops``) from the configuration
  the softness describes (``li_of_configuration``), and ``hops.csv``;
* :mod:`.endstates` -- 1. end states from the glass's inherent structure (one vacancy scheme)
  and 2. the checks that reject a hop (``prepare_end_states``, ``end_state_rejection``);
* :mod:`.paths` -- 3. the IDPP starting path (``idpp_path``) and the refined band's start;
* :mod:`.band` -- 4. the LAMMPS band: command line, input, climbing image, refinement test and
  the split of a band at its basins (``converged_band``);
* :mod:`.analysis` -- 5. a finished band read and analysed apart from running it: its log
  (``parse_neb_log``), its barriers (``path_barriers``) and its verdict (``neb_summary``);
* :mod:`.hop` -- one hop from end to end and its ``result.json`` (``run_hop``, ``cached_result``,
  ``run_single_hop``);
* :mod:`.batch` -- batches of hops with the finished ones reused (``run_batch``, ``n_batches``);
* :mod:`.results` -- statuses, collected results, ``barriers.csv``/``paths.csv``/``barriers.json``;
* :mod:`.barrier_statistics` -- barrier statistics by hop class (``neb_summary.csv``);
* :mod:`.li_motion` -- Li motion by nearest anion over a trajectory window (Fig. 4D, C10).

Claims C9 and C10 are decided in :mod:`lipsglass.claims.neb`; the workflow's jobs are in
:mod:`lipsglass.stages.neb`; one hop on any data file: ``python -m lipsglass neb``
(:mod:`lipsglass.cli`).

Units: lengths A, energies reported in eV (LAMMPS real: kcal/mol, converted with
``lipsglass.units``), forces eV/A in settings (converted to kcal/mol/A for LAMMPS).
"""
