"""Everything that starts LAMMPS: the model setup, MD protocols and their runner, energy minimisation."""
