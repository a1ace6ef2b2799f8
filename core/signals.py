"""Signals of core, for the apps above it (core imports none of them)."""

from django.dispatch import Signal

# Sent when running jobs are marked failed because their worker stopped reporting (a killed
# worker, a restart): sender=None, job_ids=[…]. An app settles the rows those jobs were
# running, e.g. an import batch that would otherwise stay "running".
jobs_lost = Signal()
