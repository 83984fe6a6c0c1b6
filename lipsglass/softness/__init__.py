"""Softness of Li (Cubuk, Schoenholz et al. PRL 114, 108001 (2015); Schoenholz et al. Nat. Phys.
12, 469 (2016)) as used by Chen et al. (2023): radial structure functions of each Li, a
logistic-regression hyperplane separating mobile from immobile Li (labels from D_cum, see
``lipsglass.d2min``, or from hops), softness = signed distance to that hyperplane, and its links
to the anion environment. One concept a module:

* :mod:`.features`: radial structure functions (the classifier's features);
* :mod:`.windows`: a trajectory cut into windows, each with its dynamics and features;
* :mod:`.labels`: hop indicator p_hop, mobility labels of the configured recipe, their persistence;
* :mod:`.training`: labelled, class-balanced training sets, per glass and pooled;
* :mod:`.classifier`: the classifier (feature filter, scaling, logistic regression), training,
  cross-fitting and accuracy with intervals, with its knobs in ``ClassifierSettings``;
* :mod:`.model`: a trained model (``SoftnessModel``, JSON), scoring within its bound;
* :mod:`.diagnostics`: learning curve and channel-variant accuracies;
* :mod:`.glass_model`: the model of a glass as the stage records it, D2min-cutoff sensitivity;
* :mod:`.environment`: the anion environment of a Li and its links to softness;
* :mod:`.table`: the per-Li softness table and the correlations over such tables;
* :mod:`.settings`: every knob of the stage in one frozen ``SoftnessSettings``.

Units: lengths in Angstrom; RSF values are dimensionless Gaussian-weighted neighbour counts;
softness is a distance in standardised feature space (dimensionless), S > 0 soft (predicted
mobile), S < 0 hard.
"""
