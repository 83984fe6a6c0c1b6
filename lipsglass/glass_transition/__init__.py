"""Glass transition temperature from melt-quench ramps, and glass/liquid labels of production runs,
one concept per module:

* :mod:`.ramp`: a quench's cooling ramp from its thermo.csv (temperature axis, V, H).
* :mod:`.two_line`: the two-line (hinge) fit of Tg with errors for correlated noise.
* :mod:`.tg`: Tg of a replica, of the replica-averaged ramp and of a composition.
* :mod:`.density`: glass densities, their mean over replicas, references, thermal expansion.
* :mod:`.phase`: the anion-centre MSD plateau test and the glass/liquid label of a run.
* :mod:`.settings`: ``GlassTransitionSettings``, the config section parsed once.

Units throughout: temperatures in K, times in ps, volumes in A^3, specific volumes in cm^3/g,
densities in g/cm^3, energies and enthalpies in kcal/mol (whole cell, LAMMPS ``units real``),
pressures in atm, MSD in A^2, diffusion coefficients in cm^2/s, scan rates in K/ps.

The names below are re-exported for ``from lipsglass import glass_transition``; code inside the
project imports them from their modules.
"""

from lipsglass.glass_transition.density import glass_density_g_cm3
from lipsglass.glass_transition.phase import anion_msd, msd_plateau, phase_label
from lipsglass.glass_transition.ramp import ATM_A3_TO_KCAL_MOL, QUANTITY_UNITS, bin_in_temperature, load_ramp
from lipsglass.glass_transition.settings import GlassTransitionSettings
from lipsglass.glass_transition.tg import combine_tg, pooled_ramp_fit, tg_from_thermo
from lipsglass.glass_transition.two_line import autocorrelation_time, hinge, two_line_fit

__all__ = [
    "ATM_A3_TO_KCAL_MOL", "two_line_fit", "hinge", "autocorrelation_time", "load_ramp", "bin_in_temperature",
    "tg_from_thermo", "pooled_ramp_fit", "combine_tg", "glass_density_g_cm3", "anion_msd", "msd_plateau",
    "phase_label", "QUANTITY_UNITS", "GlassTransitionSettings",
]
