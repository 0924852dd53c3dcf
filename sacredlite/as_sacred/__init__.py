"""Run unmodified Sacred programs on sacredlite: ``import sacred`` loads sacredlite.

``sacredlite run-as-sacred SCRIPT ARGS...`` and ``python -m sacredlite.as_sacred
(SCRIPT | -m MODULE) ARGS...`` run a program with ``sacred`` and every ``sacred.x`` routed
to ``sacredlite`` and ``sacredlite.x`` (the same module objects), inside that process only.
Installing sacredlite adds no ``sacred`` package, no ``.pth`` file and no global hook, so a
real Sacred installed beside it is untouched; ``import sacredlite`` does not load this
package.

In-process use::

    from sacredlite.as_sacred import install, uninstall
    install()      # from here on, import sacred gives sacredlite
    ...
    uninstall()    # the finder and the sacred names it created are gone

.. versionadded:: 0.1
"""

from ._hook import SacredAliasFinder as SacredAliasFinder
from ._hook import install as install
from ._hook import is_installed as is_installed
from ._hook import uninstall as uninstall
from ._run import USAGE as USAGE
from ._run import main as main
from ._run import run_module as run_module
from ._run import run_script as run_script

__all__ = [
    "USAGE",
    "SacredAliasFinder",
    "install",
    "is_installed",
    "main",
    "run_module",
    "run_script",
    "uninstall",
]
