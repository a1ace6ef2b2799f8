"""Each log line is printed once (the autoreloader's lines were printed twice)."""

import logging


def console_handlers(name):
    """The plain console handlers a record of logger ``name`` reaches (pytest's own left out)."""
    found, logger = [], logging.getLogger(name)
    while logger is not None:
        found += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        if not logger.propagate:
            break
        logger = logger.parent
    return found


def test_django_lines_reach_one_console_handler():
    for name in ("django.utils.autoreload", "django.request", "core.jobs", "celery.worker"):
        assert len(console_handlers(name)) == 1, name
