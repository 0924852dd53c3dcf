"""Sacred's ``sacred.dependencies`` names (a thin re-export of :mod:`sacredlite.info.sources`)."""

from .info.sources import PackageDependency as PackageDependency
from .info.sources import Source as Source
from .info.sources import gather_sources_and_dependencies as gather_sources_and_dependencies
from .info.sources import get_digest as get_digest

__all__ = ["PackageDependency", "Source", "gather_sources_and_dependencies", "get_digest"]
