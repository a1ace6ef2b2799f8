"""Fixtures of the banks tests."""

from datetime import date

import pytest
from django.utils import timezone


@pytest.fixture
def frozen_today(monkeypatch):
    """Freeze "today" (timezone.localdate) for the services, the pages and the API.

    The deadline tests of test_feedback.py pass fixed dates to hand_off(); pages and
    record_feedback read timezone.localdate(), so it is frozen here. Returns a setter:
    ``frozen_today(date(2025, 7, 1))`` moves the day.
    """
    state = {"today": date(2025, 6, 2)}  # a Monday

    def localdate(value=None, timezone_=None):
        return state["today"]

    monkeypatch.setattr(timezone, "localdate", localdate)

    def set_today(day):
        state["today"] = day
        return day

    set_today.today = lambda: state["today"]
    return set_today
