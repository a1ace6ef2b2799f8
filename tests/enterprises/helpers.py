"""Helpers for import tests: write CSV / .xlsx files of any kind."""

import csv

from openpyxl import Workbook

from tests.factories import PINGYANG_TOWN, make_uscc

REGISTRY_HEADER = ["统一社会信用代码", "主体名称", "成立日期", "登记状态", "所在地区划代码"]


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, header, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def registry_rows(count, region=PINGYANG_TOWN, start=None, status="存续"):
    return [
        [make_uscc(region=region), f"企业{i}有限公司", "2020-01-15", status, region]
        for i in range(count)
    ]
