"""Screening: rebuild the lists of a county as one atomic, versioned run.

``rebuild(region)`` runs every county inside ``region``; ``rebuild_region(county)`` one county.
PostgreSQL computes everything set-based (``sql.py``); a portable ORM path (``portable.py``)
serves SQLite and is tested against the same rules.
"""

from .runs import (  # noqa: F401
    RunOverlap,
    counties_for,
    failed_message,
    first_loan_period,
    rebuild,
    rebuild_region,
)
