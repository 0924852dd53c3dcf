"""Sacred's ``sacred.host_info`` names (a thin re-export of :mod:`sacredlite.info.host`).

``host_info_gatherers`` is the same dict object, so registering through either path is
seen by both.
"""

from .info.host import HostInfoGetter as HostInfoGetter
from .info.host import IgnoreHostInfo as IgnoreHostInfo
from .info.host import check_additional_host_info as check_additional_host_info
from .info.host import get_host_info as get_host_info
from .info.host import host_info_gatherer as host_info_gatherer
from .info.host import host_info_gatherers as host_info_gatherers
from .info.host import host_info_getter as host_info_getter

__all__ = [
    "HostInfoGetter",
    "IgnoreHostInfo",
    "check_additional_host_info",
    "get_host_info",
    "host_info_gatherer",
    "host_info_gatherers",
    "host_info_getter",
]
