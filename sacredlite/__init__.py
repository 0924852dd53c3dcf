"""sacredlite: reproducible machine-learning experiments, Sacred-compatible."""

from .experiment import Experiment as Experiment
from .info.host import host_info_gatherer as host_info_gatherer
from .info.host import host_info_getter as host_info_getter
from .ingredient import Ingredient as Ingredient
from .commandline_options import cli_option as cli_option
from .settings import SETTINGS as SETTINGS

__version__ = "0.1.0"

__all__ = [
    "Experiment",
    "Ingredient",
    "SETTINGS",
    "__version__",
    "cli_option",
    "host_info_gatherer",
    "host_info_getter",
]
