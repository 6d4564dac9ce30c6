"""The command lines (the faces layer): one module per command, all sharing
:mod:`hssim.cliutil` (one-line errors, signals, run folders, resource checks).

====================  =====================================  ==========================
command               module                                 entry point
====================  =====================================  ==========================
``hssim``             :mod:`hssim.cli.run`                   ``hssim.cli:main``
``hssim-compare``     :mod:`hssim.cli.compare`               ``hssim.cli.compare:main``
``hssim-polyrisk``    :mod:`hssim.cli.polyrisk`              ``hssim.cli.polyrisk:main``
``hssim-sweep``       :mod:`hssim.cli.sweep`                 ``hssim.cli.sweep:main``
``hssim-sweep-analyse``  :mod:`hssim.cli.sweep`              ``hssim.cli.sweep:analyse_main``
``hssim-dashboard``   :mod:`hssim.dashboard.cli`             ``hssim.dashboard.cli:main``
====================  =====================================  ==========================

``hssim.cli.main`` and ``hssim.cli.RunFolderCallback`` (named in ``configs/config.yaml``)
are the ``hssim`` command's, re-exported here.
"""

from .run import RunFolderCallback, config_dirs, main, precheck, refuse_code_overrides

__all__ = ["main", "precheck", "config_dirs", "refuse_code_overrides", "RunFolderCallback"]
