"""Li transport from MD trajectories, one concept per module:

* :mod:`.trajectory`: reading the species' unwrapped positions, the whole-system centre of mass
  and the charge displacement from a LAMMPS dump.
* :mod:`.msd`: the all-origins FFT MSD, its log-log slopes and straight-line fits.
* :mod:`.diffusion`: the tracer D with its fit window, block and bootstrap standard errors and
  the diffusive check (linearity, motion past the cage); its knobs are a ``DiffusionFit``.
* :mod:`.conductivity`: Nernst-Einstein and collective (Einstein) conductivities, the measured
  Haven ratio.
* :mod:`.analysis`: the whole analysis of one run (``analyse_trajectory``) and its msd.csv.
* :mod:`.arrhenius`: the Arrhenius fit, which runs enter it, the extrapolation to T.
* :mod:`.composition`: the replicas of a composition combined, and the run length that would
  resolve its glassy temperatures.
* :mod:`.settings`: ``TransportSettings``, the config section ``transport`` parsed once.
* :mod:`.runs` and :mod:`.tables`: the stored per-run results and the diffusion.csv tables.

Units throughout: positions in Angstrom, times in ps, MSD in A^2, D in cm^2/s (A^2/ps only
inside the fits), temperatures in K, activation energies in eV, conductivities in S/cm,
charges in units of e, volumes in A^3.

The names below are re-exported for ``from lipsglass import transport``; code inside the
project imports them from their modules.
"""

from lipsglass.transport.analysis import analyse_trajectory, write_msd_csv
from lipsglass.transport.arrhenius import ArrheniusFit, arrhenius_fit
from lipsglass.transport.conductivity import (ConductivitySettings, collective_conductivity_S_cm,
                                              einstein_conductivity, measured_haven_ratio,
                                              nernst_einstein_conductivity)
from lipsglass.transport.diffusion import (DiffusionFit, DiffusionResult, choose_fit_window, diffusion_A2ps_to_cm2s,
                                           diffusion_from_positions)
from lipsglass.transport.msd import fit_msd_line, local_loglog_slope, loglog_slope, msd_fft
from lipsglass.transport.settings import TransportSettings, analysis_options
from lipsglass.transport.trajectory import (SpeciesTrajectory, center_of_mass, parse_charges, parse_type_map,
                                            read_species_trajectory)

__all__ = [
    "msd_fft", "center_of_mass", "local_loglog_slope", "loglog_slope", "choose_fit_window",
    "fit_msd_line", "diffusion_A2ps_to_cm2s", "DiffusionFit", "DiffusionResult", "diffusion_from_positions",
    "SpeciesTrajectory", "read_species_trajectory", "analyse_trajectory", "analysis_options",
    "TransportSettings", "ConductivitySettings", "measured_haven_ratio", "ArrheniusFit", "arrhenius_fit",
    "nernst_einstein_conductivity", "collective_conductivity_S_cm", "einstein_conductivity", "parse_type_map",
    "parse_charges", "write_msd_csv",
]
