"""`python -m ipcatlas_analysis COMMAND ...`: what `ipcatlas plot|thresholds|compare|history|report` runs."""
import os
import sys

from .cli import main

sys.exit(main(prog=os.environ.get("IPCATLAS_PROG", "ipcatlas")))
