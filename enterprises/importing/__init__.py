"""Data import (issue 3): readers, normalisation, per-kind specs and the pipeline.

The one entry point is ``import_file(kind, path, *, user=None, file_name=None, dry_run=False,
force=False, job=None, skip_bad_rows=False) -> ImportBatch``; the UI, the API, the CLI and the
demo loader all use it. The kinds are specs registered by the apps owning their tables
(``specs.SPECS``; ``enterprises/imports.py``, ``loans/imports.py``, ``banks/imports.py``).
"""

from .pipeline import import_file
from .readers import FileRejected

__all__ = ["FileRejected", "import_file"]
