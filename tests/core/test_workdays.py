"""Working days follow the official calendar, adjusted working weekends (调休) included."""

from datetime import date

import pytest

from core.models import OfficialDay
from core.workdays import add_working_days, is_workday, seed_official_days, working_days_between

pytestmark = pytest.mark.django_db


def test_the_calendar_is_seeded_by_migrate():
    # 2025 National Day: 1–8 October off; Sunday 28 September and Saturday 11 October worked.
    assert OfficialDay.objects.get(day=date(2025, 10, 3)).name == "国庆节"
    assert is_workday(date(2025, 9, 28)) is True  # a Sunday
    assert is_workday(date(2025, 10, 11)) is True  # a Saturday
    assert is_workday(date(2025, 10, 6)) is False  # a Monday
    assert is_workday(date(2025, 9, 27)) is False  # an ordinary Saturday


def test_a_deadline_counts_across_an_adjusted_weekend():
    # Friday 26 September 2025 + 1 working day = Sunday 28th (调休), not Monday 29th.
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    # + 3: Sun 28, Mon 29, Tue 30; then 1–8 October off; Thu 9th.
    assert add_working_days(date(2025, 9, 26), 4) == date(2025, 10, 9)
    # 7 working days from Tuesday 30 September: 9, 10, 11 (Sat, worked), 13, 14, 15, 16.
    assert add_working_days(date(2025, 9, 30), 7) == date(2025, 10, 16)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 16)) == 7
    assert working_days_between(date(2025, 10, 16), date(2025, 9, 30)) == 0


def test_the_spring_festival_break_is_skipped_whole():
    # 2026: 15–23 February off, Saturday 14 and Saturday 28 February worked.
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_an_admin_adds_a_year_the_package_does_not_know():
    # 2027 is not in the package: ordinary weeks until an admin enters its days.
    assert add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 1)
    OfficialDay.objects.create(day=date(2027, 10, 1), is_workday=False, name="国庆节")
    OfficialDay.objects.create(day=date(2027, 9, 26), is_workday=True, name="国庆节")
    assert add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 4)
    assert is_workday(date(2027, 9, 26)) is True


def test_seeding_again_keeps_an_admins_correction():
    OfficialDay.objects.filter(day=date(2025, 10, 8)).update(is_workday=True, name="更正")
    assert seed_official_days() == 0
    assert OfficialDay.objects.get(day=date(2025, 10, 8)).is_workday is True
