"""The one unit-conversion table of the project.

LAMMPS ``units real``: length Angstrom, time fs, energy kcal/mol, charge e, temperature K,
pressure atm, mass g/mol. Analyses report D in cm^2/s, barriers in eV, conductivity in S/cm.
"""

# CODATA 2018 exact / recommended values
AVOGADRO = 6.02214076e23            # 1/mol
BOLTZMANN_J_K = 1.380649e-23        # J/K
ELEMENTARY_CHARGE_C = 1.602176634e-19  # C
BOLTZMANN_EV_K = BOLTZMANN_J_K / ELEMENTARY_CHARGE_C  # eV/K = 8.617333262e-5

KCAL_MOL_TO_EV = 4184.0 / AVOGADRO / ELEMENTARY_CHARGE_C  # 1 kcal/mol in eV = 0.0433641...
EV_TO_KCAL_MOL = 1.0 / KCAL_MOL_TO_EV

ANGSTROM_CM = 1e-8
ANGSTROM2_PS_TO_CM2_S = 1e-16 / 1e-12   # 1 A^2/ps = 1e-4 cm^2/s
ANGSTROM3_TO_CM3 = 1e-24
FS_PER_PS = 1000.0

AMU_G = 1.0 / AVOGADRO               # g per g/mol unit


def density_g_cm3(total_mass_g_mol: float, volume_A3: float) -> float:
    """Mass density from the total mass (g/mol, as in a LAMMPS Masses table) and volume (A^3)."""
    return total_mass_g_mol * AMU_G / (volume_A3 * ANGSTROM3_TO_CM3)
