"""The small shared base of the project: the one anion vocabulary (:mod:`.anions`), table I/O
(:mod:`.tables`) and small statistics (:mod:`.stats`: the one Wilson interval, the one bootstrap
family, Pearson r with its Fisher-z interval, binned means, the intraclass correlation). Nothing
here imports another lipsglass package."""
