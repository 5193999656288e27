"""Make the layers' Python packages importable, as Lambda does from /opt/python."""

from __future__ import annotations

import sys

from tests.conftest import PROJECT_DIR

for directory in sorted((PROJECT_DIR / "layers").glob("*/python")):
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
