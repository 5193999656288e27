"""Entry point of `python -m governance`."""

import os
import sys

from governance.cli import main

try:
    status = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader (for example `| head`) closed the pipe: stop quietly, as Unix
    # tools do, and keep Python from reporting the flush at exit.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    status = 1
sys.exit(status)
