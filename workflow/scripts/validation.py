from pathlib import Path

from lipsglass.validation import validate_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    counts = validate_job(str(Path(snakemake.output.csv).parent), snakemake.params.ariga_dir)
    print(counts)
