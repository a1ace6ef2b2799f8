"""Signals other apps listen to (screening rebuilds its lists after an applied import)."""

from django.dispatch import Signal

# Sent after an import batch has been applied and committed: sender=ImportBatch, batch=…
batch_applied = Signal()
