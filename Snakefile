# Lithium conduction in glassy Li2S-P2S5 electrolytes: a reproduction of
# Chen et al., ACS Energy Lett. 8 (2023) 1969. See README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/build.smk"
include: "workflow/rules/md.smk"
include: "workflow/rules/glass_transition.smk"
include: "workflow/rules/structure.smk"
include: "workflow/rules/transport.smk"
include: "workflow/rules/softness.smk"
include: "workflow/rules/homology.smk"
include: "workflow/rules/neb.smk"
include: "workflow/rules/summary.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
