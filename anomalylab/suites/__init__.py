"""One room per benchmark: ``mixtiles``, ``nab``, ``spike``, ``kdd`` (a subpackage each), holding what is
particular to that benchmark above the shared engine (``datasets``, ``models``, ``evaluation``, ``metrics``,
``reporting``).

A room's ``experiments`` module holds its experiment grids as data (:class:`~anomalylab.evaluation.Experiment`:
a detector spec, seeds and named threshold rules), its named rules and the constants its notebook runs them with;
the room's package exports them (``from anomalylab.suites import mixtiles``; ``mixtiles.RELATIVE``,
``mixtiles.comparison_experiments(cfg)``), and the notebooks choose, run and show these grids. A notebook imports
only the rooms it uses, so editing one room stales only the notebooks that use it. :mod:`.catalogue` lists every
grid by name (``python -m anomalylab experiments`` prints them). The rooms are being filled benchmark by benchmark
(issue 30): today they hold the grids of notebooks 02, 03 and 05; the data loading, protocols and findings of each
benchmark still live in the shared layers (``docs/package.md``).
"""
