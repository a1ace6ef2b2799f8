"""Signals other apps listen to (screening rebuilds its lists after an applied import)."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import Signal


class MutableSignal(Signal):
    """A signal that a bulk loader can silence while it sends many batches in a row."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._muted = ContextVar(f"muted-{id(self)}", default=False)

    def send(self, sender, **named):
        if self._muted.get():
            return []
        return super().send(sender, **named)

    @contextmanager
    def muted(self):
        token = self._muted.set(True)
        try:
            yield
        finally:
            self._muted.reset(token)


# Sent after an import batch has been applied and committed: sender=ImportBatch, batch=…
batch_applied = MutableSignal()
