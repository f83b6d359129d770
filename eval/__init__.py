"""eval: score the question-answering pipeline against a gold Q&A file.

The gold format and the scoring rules live in ``docs/GOLD_FORMAT.md``; this package
implements them and nothing more. Modules, each usable on its own:

- ``gold``: read and validate a gold JSON Lines file into ``GoldItem`` values.
- ``metrics``: ``norm``, relevance, article matching and the metric arithmetic (pure).
- ``check``: verify a gold file against the indexed passages (verbatim evidence,
  articles, unanswerable terms).
- ``baseline``: the naive fixed-size-chunk configuration compared against.
- ``harness``: run configurations over a gold file and write the results.
- ``stats``: bootstrap intervals and paired randomization tests over questions (numpy).
- ``columns``: the per-question values of every metric, their intervals and comparisons.
- ``trec``: TREC run and qrels files; the ranking figures computed by ir-measures.
- ``runs``: run.json (what produced a run), saved runs read back and compared.
- ``report``: ``report.md`` and the PNG plots.

Left out: no command line here (``ragqa eval`` in ``ragqa/cli.py`` calls
``harness.run_eval`` and ``check.check_gold``), no language-model judging of answers.
Importing the package imports nothing heavy; numpy, faiss and matplotlib load only
with the modules that need them.
"""
