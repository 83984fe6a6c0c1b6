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


# Light jobs (figures, claim tables, collections of small JSON/CSV files: seconds, little memory)
# run in the main Snakemake process instead of going through the cluster's queue. Never the
# rendered structures (fig1c, fig3a, fig3c, fig4d): OVITO needs a Vulkan driver, which a login
# node may lack and a user cannot install there (tests/test_slurm.py checks this list).
localrules:
    all,
    tg_composition,
    tg_figure,
    fig1b_ternary,
    fig1d_partial_rdf,
    sq_fsdp_figure,
    structure_claims,
    transport_replica,
    transport_composition,
    fig2a_arrhenius,
    fig2b_conductivity,
    msd_figure,
    transport_claims,
    softness_correlations,
    softness_claims,
    classifier_claims,
    figS1_accuracy,
    fig3b_softness_distributions,
    fig3d_lis_gr_soft_hard,
    fig3e_softness_by_anion,
    fig3f_pe_voronoi_vs_softness,
    homology_claims,
    persistence_diagrams_h1,
    ring_sizes_figure,
    figS4_rings_fsdp,
    figS5_softness_by_ring_size,
    neb_collect,
    neb_summary,
    neb_claims,
    fig4b_neb_paths,
    fig4c_barriers,
    figS3_barriers_all_classes,
    scorecard,
    overview_figure,


onsuccess:
    print_study_summary()


rule all:
    default_target: True
    input:
        all_outputs(),
