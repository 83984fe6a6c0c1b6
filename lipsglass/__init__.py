"""lipsglass: science code of the glassy Li2S-P2S5 conduction study.

Everything the Snakemake workflow computes lives here as pure, importable functions;
``workflow/scripts/*.py`` only read the ``snakemake`` object and call into this package.
"""

__version__ = "0.1.0"
