"""A realistic, deterministic demo county: import files in the contract's formats, and users.

The files are written exactly as partner departments would send them (Chinese headers,
import-formats.md) and then loaded through the import pipeline, so the demo exercises the
same code a real deployment does.
"""

import csv
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _
from faker import Faker
from stdnum.cn import uscc as stdnum_uscc

from accounts.choices import Role
from accounts.models import User

SEED = 20261124
COUNTY = "330326"  # 平阳县
OTHER_COUNTY_TOWN = "330302006"  # 鹿城区 五马街道: a few entities outside the demo county
DEMO_PASSWORD = "rongxie-demo-2026"

# (code, name, parent code, level, service regions, visit capacity)
BANKS = [
    ("ICBC", "中国工商银行", "", "法人机构", "", ""),
    ("ICBC-WZ-LC", "工商银行温州鹿城支行", "ICBC", "支行", "330302", "200"),
    ("ICBC-PY", "工商银行平阳支行", "ICBC", "支行", COUNTY, "300"),
    ("CZB", "浙商银行", "", "法人机构", "", ""),
    ("CZB-WZ", "浙商银行温州分行", "CZB", "分行", "330302;330303;330304", "300"),
    ("WZB", "温州银行", "", "法人机构", "", ""),
    ("WZB-PY", "温州银行平阳支行", "WZB", "支行", COUNTY, "400"),
    ("RARCB", "瑞安农商银行", "", "法人机构", "330381;330326", "250"),
    ("PYRCB", "平阳农商银行", "", "法人机构", COUNTY, "600"),
    ("ABC-PY", "农业银行平阳支行", "", "支行", COUNTY, "300"),
    ("CCB-PY", "建设银行平阳支行", "", "支行", COUNTY, "300"),
]
LENDING_BANKS = ["ICBC-PY", "CZB-WZ", "WZB-PY", "RARCB", "PYRCB", "ABC-PY", "CCB-PY"]

HEADERS = {
    "banks": ["银行机构代码", "机构名称", "上级机构代码", "机构层级", "服务区域", "走访容量"],
    "registry": [
        "统一社会信用代码",
        "主体名称",
        "主体类型",
        "法定代表人",
        "联系电话",
        "成立日期",
        "注册资本（万元）",
        "登记状态",
        "行业代码",
        "所在地区划代码",
        "经营地址",
        "从业人数",
        "企业规模",
    ],
    "census": [
        "统一社会信用代码",
        "主体名称",
        "普查年度",
        "是否活跃",
        "营业收入（万元）",
        "从业人数",
    ],
    "tax": [
        "统一社会信用代码",
        "纳税年度",
        "纳税信用等级",
        "实缴税额（万元）",
        "出口退税额（万元）",
        "应税销售收入（万元）",
    ],
    "credit": [
        "统一社会信用代码",
        "银行机构代码",
        "数据日期",
        "授信金额（万元）",
        "贷款余额（万元）",
        "首次贷款日期",
    ],
    "negative": ["统一社会信用代码", "名单类型", "列入日期", "移出日期", "来源部门", "说明"],
    "loans": [
        "统一社会信用代码",
        "银行机构代码",
        "借据号",
        "放款日期",
        "到期日期",
        "放款金额（万元）",
        "贷款余额（万元）",
        "产品类型",
        "担保方式",
        "年利率（%）",
        "是否无还本续贷",
        "原借据号",
    ],
}
# The order a deployment loads them: banks and the register first, then what refers to them.
IMPORT_ORDER = ["banks", "registry", "census", "tax", "credit", "negative", "loans"]

INDUSTRIES = [
    "C3429",
    "C1811",
    "C2927",
    "C3311",
    "C3851",
    "F5123",
    "F5261",
    "H6210",
    "E4790",
    "A0141",
    "C1951",
    "C3824",
    "I6513",
    "L7212",
    "O8010",
    "C2319",
]
NEGATIVE_TYPES = ["失信被执行人", "经营异常名录", "严重违法失信", "僵尸企业", "空壳企业"]


def _uscc(prefix, region, serial):
    body = f"{prefix}{region[:6]}{serial:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def _money(value):
    return f"{Decimal(value).quantize(Decimal('0.01'))}"


def generate_files(directory, townships, entities=20_000):
    """Write the demo import files into ``directory``; returns {kind: path}."""
    rng = random.Random(SEED)
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows = {kind: [] for kind in HEADERS}

    rows["banks"] = [list(bank) for bank in BANKS]

    entity_list = []
    for serial in range(1, entities + 1):
        kind_roll = rng.random()
        if kind_roll < 0.55:
            prefix, type_label = "91", "企业"
            name = fake.company()
        elif kind_roll < 0.95:
            prefix, type_label = "92", "个体工商户"
            name = f"平阳县{fake.last_name()}{rng.choice(['记五金店', '氏小吃店', '家服装店', '记汽修部', '氏鞋业加工厂', '家超市'])}"
        else:
            prefix, type_label = "93", "农民专业合作社"
            name = (
                f"平阳县{fake.city_name()}{rng.choice(['茶叶', '水果', '蔬菜', '水产'])}专业合作社"
            )
        region = OTHER_COUNTY_TOWN if serial % 50 == 0 else rng.choice(townships)
        code = _uscc(prefix, region, serial)
        established = date(2000, 1, 1) + timedelta(days=rng.randrange(0, 9300))
        status = rng.choices(["存续", "在业", "停业", "吊销", "注销"], [60, 30, 3, 4, 3])[0]
        size = (
            ""
            if prefix == "92"
            else rng.choices(["微型", "小型", "中型", "大型"], [55, 35, 8, 2])[0]
        )
        employees = rng.randint(1, 9) if prefix != "91" else rng.randint(3, 300)
        rows["registry"].append(
            [
                code,
                name,
                type_label if serial % 7 else "",
                fake.name(),
                fake.phone_number(),
                established.isoformat(),
                _money(rng.choice([10, 50, 100, 200, 500, 1000])),
                status,
                rng.choice(INDUSTRIES),
                region,
                fake.street_address(),
                employees,
                size,
            ]
        )
        entity_list.append((code, name, status, prefix))

    for code, name, status, _prefix in entity_list:
        operating = status in ("存续", "在业")
        if operating and rng.random() < 0.6:
            rows["census"].append(
                [
                    code,
                    name,
                    2023,
                    "是" if rng.random() < 0.9 else "否",
                    _money(rng.uniform(5, 5000)),
                    rng.randint(1, 200),
                ]
            )
        for year in (2024, 2025):
            if operating and rng.random() < 0.7:
                paid = rng.uniform(0, 80) if rng.random() < 0.85 else 0
                rebate = rng.uniform(5, 60) if rng.random() < 0.05 else 0
                rows["tax"].append(
                    [
                        code,
                        year,
                        rng.choices("ABMCD", [25, 40, 20, 10, 5])[0],
                        _money(paid),
                        _money(rebate) if rebate else "",
                        _money(paid * rng.uniform(8, 30)),
                    ]
                )

    loan_serial = 0
    for code, _name, status, _prefix in entity_list:
        if status not in ("存续", "在业"):
            continue
        roll = rng.random()
        if roll < 0.05:
            listed = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1300))
            removed = listed + timedelta(days=rng.randrange(30, 400))
            is_removed = rng.random() < 0.3 and removed < date(2026, 11, 1)
            rows["negative"].append(
                [
                    code,
                    rng.choice(NEGATIVE_TYPES),
                    listed.isoformat(),
                    removed.isoformat() if is_removed else "",
                    rng.choice(["市场监管局", "人民法院", "税务局"]),
                    "",
                ]
            )
        if rng.random() < 0.35:  # has borrowed: credit snapshot and ledger loans
            banks = rng.sample(LENDING_BANKS, rng.choices([1, 2, 3, 4], [60, 25, 10, 5])[0])
            first = date(2018, 1, 1) + timedelta(days=rng.randrange(0, 3200))
            for bank in banks:
                balance = rng.uniform(10, 800)
                rows["credit"].append(
                    [
                        code,
                        bank,
                        "2026-10-31",
                        _money(balance * 1.5),
                        _money(balance),
                        first.isoformat(),
                    ]
                )
                start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1000))
                loan_serial += 1
                loan_no = f"{bank}-{loan_serial:07d}"
                amount = Decimal(_money(rng.uniform(10, 500)))
                matures = start + timedelta(days=365)
                guarantee = rng.choices(["信用", "保证", "抵押", "质押"], [30, 35, 30, 5])[0]
                rows["loans"].append(
                    [
                        code,
                        bank,
                        loan_no,
                        start.isoformat(),
                        matures.isoformat(),
                        _money(amount),
                        _money(amount * Decimal("0.8")),
                        rng.choice(["流动资金贷款", "固定资产贷款", "银行承兑汇票"]),
                        guarantee,
                        f"{rng.uniform(3.2, 5.8):.2f}",
                        "否",
                        "",
                    ]
                )
                if matures < date(2026, 11, 1) and rng.random() < 0.3:
                    loan_serial += 1
                    rows["loans"].append(
                        [
                            code,
                            bank,
                            f"{bank}-{loan_serial:07d}",
                            matures.isoformat(),
                            (matures + timedelta(days=365)).isoformat(),
                            _money(amount),
                            _money(amount),
                            "流动资金贷款",
                            guarantee,
                            f"{rng.uniform(3.0, 5.0):.2f}",
                            "是",
                            loan_no,
                        ]
                    )
        elif rng.random() < 0.04:  # a first loan this year
            bank = rng.choice(LENDING_BANKS)
            loan_serial += 1
            start = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 300))
            amount = Decimal(_money(rng.uniform(10, 100)))
            rows["loans"].append(
                [
                    code,
                    bank,
                    f"{bank}-{loan_serial:07d}",
                    start.isoformat(),
                    (start + timedelta(days=365)).isoformat(),
                    _money(amount),
                    "",
                    "流动资金贷款",
                    "信用",
                    f"{rng.uniform(3.2, 4.5):.2f}",
                    "否",
                    "",
                ]
            )

    paths = {}
    for kind in IMPORT_ORDER:
        path = directory / f"demo-{kind}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS[kind])
            writer.writerows(rows[kind])
        paths[kind] = path
    return paths


# username, role, region, bank, label
DEMO_USERS = [
    ("admin", Role.ADMIN, None, None),
    ("taskforce", Role.TASK_FORCE, COUNTY, None),
    ("taskforce2", Role.TASK_FORCE, COUNTY, None),  # the second member (maker-checker)
    ("city", Role.TASK_FORCE, "330300", None),
    ("township", Role.TOWNSHIP_WORKER, "330326100", None),
    ("banker", Role.BANK_OFFICER, None, "WZB-PY"),
    ("regulator", Role.REGULATOR, COUNTY, None),
    ("partner", Role.PARTNER, COUNTY, None),
]


def create_users():
    """One demo login per role (same password); returns the users."""
    users = []
    for username, role, region, bank in DEMO_USERS:
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={
                "role": role,
                "region_id": region,
                "bank_id": bank,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
                "api_scopes": "view" if role == Role.PARTNER else "",
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        users.append(user)
    return users


def import_demo_file(kind, path):
    """Load one generated file through the import pipeline; returns a one-line summary."""
    from enterprises.importing import import_file

    batch = import_file(kind, path, file_name=Path(path).name, force=True)
    if batch.status != "applied":
        raise RuntimeError(f"demo {kind} import not applied: {batch.message}")
    return _(
        "{status} · read {read}, created {created}, updated {updated}, errors {errors}"
    ).format(
        status=batch.get_status_display(),
        read=batch.rows_read,
        created=batch.rows_created,
        updated=batch.rows_updated,
        errors=batch.rows_failed,
    )


# Bank matching: focus areas and task-force contacts of the demo branches (the banks file
# carries service regions and capacities), and the island township 南麂镇, served by the local
# rural bank only, so the demo shows enterprises that cannot get a backup of another institution.
BANK_PROFILES = {
    "ICBC-WZ-LC": (["manufacturing"], "周建国 13857700101"),
    "ICBC-PY": (["manufacturing", "foreign_trade"], "陈晓东 13857700102"),
    "CZB-WZ": (["foreign_trade", "technology"], "林海燕 13857700103"),
    "WZB-PY": (["inclusive", "foreign_trade"], "黄丽娟 13857700104"),
    "RARCB": (["agriculture", "inclusive"], "郑志强 13857700105"),
    "PYRCB": (["agriculture", "inclusive"], "王建平 13857700106"),
    "ABC-PY": (["agriculture"], "吴海波 13857700107"),
    "CCB-PY": (["technology", "manufacturing"], "李秀英 13857700108"),
}
ISLAND_TOWNSHIP = "330326119"  # 南麂镇
ISLAND_BANK = "PYRCB"
DEMO_BATCH = ("第一批：第一层级 A 级有贷户", {"tiers": [1], "ratings": ["A"], "loan": "has_loan"})


def set_up_bank_matching():
    """Profiles of the demo branches, one visit batch cut by the task force, and one
    allocation of it (a job, as from the batch page). Returns the allocation job."""
    from banks.models import Bank
    from banks.services.batches import create_visit_batch
    from core import jobs
    from enterprises.models import Region

    for code, (focus, contact) in BANK_PROFILES.items():
        Bank.objects.filter(code=code).update(focus_areas=focus, contact=contact)
    townships = list(
        Region.objects.filter(parent_id=COUNTY)
        .exclude(code=ISLAND_TOWNSHIP)
        .values_list("code", flat=True)
    )
    for bank in Bank.objects.filter(service_regions=COUNTY).exclude(code=ISLAND_BANK):
        bank.service_regions.remove(COUNTY)
        bank.service_regions.add(*townships)
    staff = User.objects.get(username="taskforce")
    county = Region.objects.get(code=COUNTY)
    name, criteria = DEMO_BATCH
    batch = create_visit_batch(staff, county, name, criteria)
    job = jobs.run_now("banks.allocate", user=staff, region=county, params={"batch": batch.pk})
    answer_some_assignments()
    return job


# The demo banker's first answers, and a few leads whose feedback time has run out, so the
# workspace, the hand-off and 待关注 show something on a fresh demo.
DEMO_ANSWERS = [
    ("contacted", "", {}),
    ("credited", "", {"credit_amount": 200, "credit_product": "working_capital"}),
    ("declined", "抵押物不足，暂不符合授信条件", {"decline_reason": "insufficient_collateral"}),
]
DEMO_OVERDUE = 3


def answer_some_assignments():
    """The banker answers three of its leads (one declined, handed to the backup at once);
    three other leads are made overdue (as if allocated weeks ago) and the daily hand-off runs."""
    from banks.models import BankAssignment
    from banks.services.feedback import record_feedback
    from banks.services.handoff import hand_off
    from core.history import acting_as

    banker = User.objects.get(username="banker")
    leads = BankAssignment.objects.filter(
        bank_id=banker.bank_id, role="lead", status="pending"
    ).order_by("pk")
    answered = list(leads[: len(DEMO_ANSWERS)])
    with acting_as(banker, via="demo"):
        for assignment, (status, reason, extra) in zip(answered, DEMO_ANSWERS, strict=False):
            record_feedback(banker, assignment, status, reason, **extra)
    overdue = (
        BankAssignment.objects.filter(role="lead", status="pending")
        .exclude(bank_id=banker.bank_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:DEMO_OVERDUE]
    )
    BankAssignment.objects.filter(pk__in=list(overdue)).update(due_on=date(2025, 1, 2))
    hand_off()
