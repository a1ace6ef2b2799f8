"""Bulk inserts of rows built in Python: COPY on PostgreSQL, bulk_create elsewhere."""

import json

from django.db import connection, models


def bulk_insert(model, fields, rows, batch_size=5000):
    """Insert ``rows`` (tuples of values in the order of ``fields``, attribute names such as
    ``bank_id``) into ``model``'s table. No signals, no per-object save; JSON fields take
    Python objects."""
    columns = [model._meta.get_field(name.removesuffix("_id")) for name in fields]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=batch_size
        )
        return
    as_json = [isinstance(column, models.JSONField) for column in columns]
    names = ", ".join(connection.ops.quote_name(column.column) for column in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    json.dumps(value, ensure_ascii=False)
                    if is_json and value is not None
                    else value
                    for value, is_json in zip(row, as_json, strict=True)
                ]
            )
