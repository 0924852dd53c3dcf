"""Sacred's ``sacred.observers.sql_bases``: the SQL tables, as SQLAlchemy models.

The models live in :mod:`sacredlite.formats.sql` (the one home of the schema); this module
re-exports them under Sacred's path. Importing it needs SQLAlchemy 2.
"""

from __future__ import annotations

from ..formats.sql import Artifact as Artifact
from ..formats.sql import Base as Base
from ..formats.sql import Dependency as Dependency
from ..formats.sql import Experiment as Experiment
from ..formats.sql import Host as Host
from ..formats.sql import Repository as Repository
from ..formats.sql import Resource as Resource
from ..formats.sql import Run as Run
from ..formats.sql import Source as Source
from ..formats.sql import experiment_dependency_association as experiment_dependency_association
from ..formats.sql import experiment_repository_association as experiment_repository_association
from ..formats.sql import experiment_source_association as experiment_source_association
from ..formats.sql import run_resource_association as run_resource_association

__all__ = [
    "Artifact",
    "Base",
    "Dependency",
    "Experiment",
    "Host",
    "Repository",
    "Resource",
    "Run",
    "Source",
    "experiment_dependency_association",
    "experiment_repository_association",
    "experiment_source_association",
    "run_resource_association",
]
