"""sacredlite: reproducible machine-learning experiments, Sacred-compatible.

The names below are Sacred's (``from sacredlite import Experiment, Ingredient``). They are
loaded on first use, so importing a part of sacredlite that does not run experiments
(the board, the store readers) does not load the experiment machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_getattr

__version__ = "0.1.0"
__author__ = "sacredlite developers"
__author_email__ = ""
__url__ = ""

if TYPE_CHECKING:
    from . import observers as observers
    from .commandline_options import cli_option as cli_option
    from .experiment import Experiment as Experiment
    from .info.host import host_info_gatherer as host_info_gatherer
    from .info.host import host_info_getter as host_info_getter
    from .ingredient import Ingredient as Ingredient
    from .settings import SETTINGS as SETTINGS
    from .sweeps.api import sweep as sweep
    from .sweeps.search import tune as tune

__all__ = [
    "Experiment",
    "Ingredient",
    "SETTINGS",
    "__author__",
    "__author_email__",
    "__url__",
    "__version__",
    "cli_option",
    "host_info_gatherer",
    "host_info_getter",
    "observers",
    "sweep",
    "tune",
]

_HOMES = {
    "Experiment": ".experiment",
    "Ingredient": ".ingredient",
    "SETTINGS": ".settings",
    "cli_option": ".commandline_options",
    "host_info_gatherer": ".info.host",
    "host_info_getter": ".info.host",
    "observers": ".observers:",
    "sweep": ".sweeps.api",
    "tune": ".sweeps.search",
}
__getattr__ = lazy_getattr(__name__, globals(), _HOMES)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
