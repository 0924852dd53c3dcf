"""The rule for values a store cannot hold, for the MongoDB observer modules (internal).

It lives in :mod:`sacredlite.formats._json` (issue 10); these names are re-exported for
the modules that still import them from here.
"""

from ..formats._json import MAX_WALK_DEPTH as MAX_WALK_DEPTH
from ..formats._json import Warn as Warn
from ..formats._json import Warner as Warner
from ..formats._json import brief as brief
from ..formats._json import json_data as json_data
from ..formats._json import json_item as json_item
from ..formats._json import text_form as text_form

__all__ = ["MAX_WALK_DEPTH", "Warn", "Warner", "brief", "json_data", "json_item", "text_form"]
