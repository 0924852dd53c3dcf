"""Sacred's ``sacred.dependencies`` names (a thin re-export of :mod:`sacredlite.info`)."""

from .info.packages import PackageDependency as PackageDependency
from .info.sources import Source as Source
from .info.sources import gather_sources_and_dependencies as gather_sources_and_dependencies
from .info.sources import get_digest as get_digest
from .info.sources import is_local_source as is_local_source

__all__ = [
    "PackageDependency",
    "Source",
    "gather_sources_and_dependencies",
    "get_digest",
    "is_local_source",
]
