import pytest

from tests.factories import (
    LUCHENG_STREET,
    PINGYANG_TOWN,
    make_assignment,
    make_enterprise,
    make_loan,
)

OTHER_TOWN = "330326101"  # 鳌江镇, another township of 平阳县


class World:
    """Enterprises around the cast: which role may visit which.

    - mine: 昆阳镇, lead bank = cast.bank (the officer's branch)
    - town_other_bank: 昆阳镇, lead bank = other_bank
    - borrower: 昆阳镇, only a loan at cast.bank (not assigned to it)
    - other_town: 鳌江镇 (平阳县), lead bank = cast.bank's backup standing by
    - other_county: 鹿城区
    """


@pytest.fixture
def world(cast):
    w = World()
    w.mine = make_enterprise(PINGYANG_TOWN, name="平阳鑫达五金有限公司")
    make_assignment(w.mine, cast.bank, role="lead")
    w.town_other_bank = make_enterprise(PINGYANG_TOWN, name="平阳宏远包装有限公司")
    make_assignment(w.town_other_bank, cast.other_bank, role="lead")
    w.borrower = make_enterprise(PINGYANG_TOWN, name="平阳借款未分配有限公司")
    make_loan(w.borrower, cast.bank)
    w.other_town = make_enterprise(OTHER_TOWN, name="鳌江备选待命有限公司")
    make_assignment(w.other_town, cast.other_bank, role="lead")
    standby = make_assignment(w.other_town, cast.bank, role="backup")
    standby.status = "waiting"
    standby.save()
    w.other_county = make_enterprise(LUCHENG_STREET, name="鹿城远方贸易有限公司")
    return w
