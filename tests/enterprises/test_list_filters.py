"""The enterprise list's filters: labelled, a region picker of the user's own regions,
plain errors; the bank officer's "your bank" filter; a table that scrolls on a phone."""

import re

import pytest
from django.test import Client

from tests.factories import (
    LUCHENG,
    LUCHENG_STREET,
    PINGYANG,
    PINGYANG_TOWN,
    make_assignment,
    make_credit,
    make_enterprise,
    make_loan,
)

pytestmark = pytest.mark.django_db


def get(user, **params):
    client = Client()
    client.force_login(user)
    return client.get("/enterprises/", params)


def options(html, name):
    start = html.index(f'<select name="{name}"')
    select = html[start : html.index("</select>", start)]
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', select)


def test_every_filter_has_a_label_and_an_all_choice(cast):
    html = get(cast.staff).content.decode()
    labels = re.findall(
        r'<label class="form-label small text-muted mb-0" for="id_(\w+)">([^<]+)</label>', html
    )
    assert labels == [
        ("q", "名称或统一社会信用代码"),
        ("region", "地区"),
        ("entity_type", "主体类型"),
        ("status", "登记状态"),
        ("size", "企业规模"),
    ]
    for name in ("region", "entity_type", "status", "size"):
        assert options(html, name)[0] == ("", "全部")
    assert "---------" not in html
    assert '<button class="btn btn-sm btn-primary">筛选</button>' in html
    assert "过滤器" not in html


def test_the_region_picker_lists_the_users_townships(cast):
    choices = options(get(cast.staff).content.decode(), "region")
    assert choices[1] == (PINGYANG, "平阳县")
    assert (PINGYANG_TOWN, "\u3000昆阳镇") in choices
    assert all(code.startswith("330326") for code, _name in choices[1:])
    assert options(get(cast.township).content.decode(), "region") == [
        ("", "全部"),
        (PINGYANG_TOWN, "昆阳镇"),
    ]


def test_picking_a_township_narrows_the_list(cast):
    mine = make_enterprise(region=PINGYANG_TOWN, name="昆阳企业")
    other = make_enterprise(region="330326101", name="鳌江企业")
    html = get(cast.staff, region=PINGYANG_TOWN).content.decode()
    assert mine.name in html and other.name not in html


def test_an_out_of_scope_region_says_so_and_lists_nothing(cast):
    make_enterprise(region=PINGYANG_TOWN, name="昆阳企业")
    make_enterprise(region=LUCHENG_STREET, name="鹿城企业")
    response = get(cast.staff, region=LUCHENG)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<div>地区: {LUCHENG} 不是您所辖范围内的地区。</div>" in html
    assert "昆阳企业" not in html and "鹿城企业" not in html


def test_a_bank_officer_filters_by_its_tie_to_the_branch(cast):
    assigned = make_enterprise(name="分配企业")
    make_assignment(assigned, cast.bank)
    borrower = make_enterprise(name="贷款企业")
    make_loan(borrower, cast.bank, "100")
    holder = make_enterprise(name="授信企业")
    make_credit(holder, cast.bank, loan_balance="0")
    names = {"assigned": "分配企业", "borrowing": "贷款企业", "credit": "授信企业"}
    for value, name in names.items():
        html = get(cast.officer, bank=value).content.decode()
        shown = [n for n in names.values() if n in html.split("<tbody>")[1]]
        assert shown == [name]
    html = get(cast.officer).content.decode()
    assert options(html, "bank") == [
        ("", "全部"),
        ("assigned", "分配给本机构"),
        ("borrowing", "在本机构有贷款"),
        ("credit", "在本机构有授信"),
    ]
    # The bank officer's picker lists where its enterprises are, not the province.
    assert options(html, "region") == [
        ("", "全部"),
        (PINGYANG, "平阳县"),
        (PINGYANG_TOWN, "\u3000昆阳镇"),
    ]


def test_region_staff_have_no_bank_filter(cast):
    assert '<select name="bank"' not in get(cast.staff).content.decode()


def test_the_table_scrolls_inside_its_card_and_names_keep_whole_words(cast):
    make_enterprise(name="平阳县昆阳镇某某贸易有限公司")
    html = get(cast.staff).content.decode()
    assert (
        '<div class="table-responsive">\n<table class="table table-sm table-hover table-list">'
        in html
    )
    assert re.search(
        r'<td class="name"><a href="/enterprises/\d+/">平阳县昆阳镇某某贸易有限公司</a></td>', html
    )


def test_a_field_built_before_does_not_leak_into_a_request(cast):
    from enterprises.filters import EnterpriseFilter

    for flt in EnterpriseFilter.base_filters.values():
        assert flt.field is not None  # built, as the API schema generator does
    client = Client()
    client.force_login(cast.township)
    html = client.get("/enterprises/").content.decode()
    assert '<option value="" selected>全部</option>' in html
    assert '<option value="330326100">昆阳镇</option>' in html
