"""The paper's claims (config/paper_claims.yaml) decided against this study's outputs, and the
reproduction scorecard that gathers them.

One decision rule for all (:mod:`lipsglass.claims.verdict`): an interval on each claim's estimand
against a region fixed in advance in the config's ``claims`` section; one module per claim
family (``transport``: C1, C2; ``classifier``: C3; ``softness``: C4-C6, C8; ``structure``: C7,
C13; ``neb``: C9, C10; ``homology``: C11, C12); the scorecard and each claim's detail in
:mod:`lipsglass.claims.scorecard`; every test's error rates in :mod:`lipsglass.claims.calibration`
(docs/claims.md).
"""

from lipsglass.claims.scorecard import (CLAIM_COLUMNS, STRUCTURED_COLUMNS, VERDICT_COLOURS, load_json,  # noqa: F401
                                        read_claim_rows, read_claim_texts, scorecard, study_summary, verdict_counts,
                                        write_claim_rows, write_scorecard)
from lipsglass.claims.verdict import (VERDICTS, Interval, Region, Scale, Verdict, combine, decide,  # noqa: F401
                                      decide_parts, se_interval, t_interval, union_level)
