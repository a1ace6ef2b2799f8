"""Working days of the Chinese official calendar: weekends, public holidays and 调休.

A day is a working day when it is Monday–Friday, unless ``OfficialDay`` says otherwise (a
holiday on a weekday, or a weekend day made a working day). Deadlines such as "feedback within
7 working days" are computed here, once per batch of records, and stored as dates, so set-based
SQL can compare them with today.
"""

from datetime import timedelta

# The chinese-calendar package names holidays in English; the table keeps the official names.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

# Longer than any run of consecutive days off (Spring Festival: 9 days).
_LOOKAHEAD_PER_DAY = 2
_LOOKAHEAD_MIN = 31


def seed_official_days():
    """Add the days the chinese-calendar package knows; days already in the table are kept
    (an admin's correction wins). Returns the number of days added."""
    import chinese_calendar

    from .models import OfficialDay

    days = [
        OfficialDay(day=day, is_workday=False, name=HOLIDAY_NAMES.get(name, name or ""))
        for day, name in chinese_calendar.holidays.items()
    ] + [
        OfficialDay(day=day, is_workday=True, name=HOLIDAY_NAMES.get(name, name or ""))
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5  # only weekends made working days differ from the rule
    ]
    before = OfficialDay.objects.count()
    OfficialDay.objects.bulk_create(days, ignore_conflicts=True, batch_size=1000)
    return OfficialDay.objects.count() - before


def _exceptions(start, end):
    from .models import OfficialDay

    return dict(
        OfficialDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "is_workday")
    )


def _is_workday(day, exceptions):
    return exceptions.get(day, day.weekday() < 5)


def is_workday(day):
    """Whether ``day`` is a working day of the official calendar."""
    return _is_workday(day, _exceptions(day, day))


def add_working_days(start, days):
    """The date ``days`` working days after ``start`` (``start`` itself is not counted).

    ``add_working_days(Friday, 1)`` is the next Monday, or an adjusted working Sunday.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    if days == 0:
        return start
    horizon = start + timedelta(days=max(_LOOKAHEAD_MIN, days * _LOOKAHEAD_PER_DAY))
    exceptions = _exceptions(start, horizon)
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if day > horizon:  # a very long run of holidays: widen the window
            return add_working_days(day - timedelta(days=1), left)
        if _is_workday(day, exceptions):
            left -= 1
    return day


def working_days_between(start, end):
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    exceptions = _exceptions(start, end)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += _is_workday(day, exceptions)
    return count


def working_days_until(start, ends):
    """{end: working_days_between(start, end)} for many dates, reading the calendar once."""
    ends = {end for end in ends if end is not None}
    if not ends:
        return {}
    last = max(ends)
    exceptions = _exceptions(start, last) if last > start else {}
    counts, count, day = {}, 0, start
    for end in sorted(ends):
        while day < end:
            day += timedelta(days=1)
            count += _is_workday(day, exceptions)
        counts[end] = count if end > start else 0
    return counts
