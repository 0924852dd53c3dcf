"""``python -m sacredlite.as_sacred (SCRIPT | -m MODULE) ARGS...`` (see the package)."""

import sys

from sacredlite.as_sacred import main

if __name__ == "__main__":
    sys.exit(main())
