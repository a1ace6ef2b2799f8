"""The loans app's services: plain functions, the user first, writing through core.writes.

- records.py: ``record_approval``, ``record_loan``, ``validate_renewal``, ``delete_loan`` …
- stages.py: first loans and the stage path 无贷户 → 首贷户 → 伙伴客户, set-based.
- watch.py: the maturity watch (到期前一个月未联系) and renewal contacts.
- chains.py: renewal chains and balances counted once; ``time_to_loan``.
"""

from .chains import outstanding_balance, renewal_chains, time_to_loan
from .records import (
    delete_approval,
    delete_loan,
    record_approval,
    record_loan,
    validate_renewal,
)
from .stages import recompute_stages
from .watch import record_contact, refresh_watch

__all__ = [
    "delete_approval",
    "delete_loan",
    "outstanding_balance",
    "recompute_stages",
    "record_approval",
    "record_contact",
    "record_loan",
    "refresh_watch",
    "renewal_chains",
    "time_to_loan",
    "validate_renewal",
]
