"""moto's TransactWriteItems, rolled back item by item.

moto 5.2 backs up every table a transaction touches with `copy.deepcopy`
before it writes (`DynamoDBBackend.transact_write_items`), so a two-item
transaction costs as much as copying the whole table: on this machine one
fell from ~60/s to ~7/s after 1,600 items. DynamoDB's cost does not grow with
the table. This patch snapshots only the items the transaction names (a
deep copy of each, or "absent") and, if moto cancels the transaction, puts
exactly those back. moto's own table copy is skipped while it runs.

Self-contained (moto only), so it can be offered upstream as a change to
`transact_write_items`. Callers must not run two requests on one table at
once (moto is not thread-safe); `local/moto_support.py` guarantees that.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_skip_table_copy = threading.local()
_installed = False


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto's DynamoDB backend: while a
    transaction runs on this thread, 'copying' a Table returns the table
    itself; everything else is copied as usual."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if getattr(_skip_table_copy, "active", False) and isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash value, range value) of every item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = []
    for entry in transact_items:
        for kind, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            key = op["Item"] if kind == "Put" else op.get("Key", {})
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            keys.append((table, hash_value, range_value))
    return keys


def _snapshot(keys: list[tuple[Any, Any, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    return [(table, h, r, copy.deepcopy(_current(table, h, r))) for table, h, r in keys]


def _current(table: Any, hash_value: Any, range_value: Any) -> Any:
    if range_value is None:
        return table.items.get(hash_value)
    return table.items.get(hash_value, {}).get(range_value)


def _restore(snapshot: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, before in reversed(snapshot):
        if range_value is None:
            if before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before
            continue
        if before is None:
            table.items.get(hash_value, {}).pop(range_value, None)
            if hash_value in table.items and not table.items[hash_value]:
                del table.items[hash_value]
        else:
            table.items[hash_value][range_value] = before


def install() -> None:
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models.table import Table

    backend_module.copy = _CopyWithoutTables(Table)
    original = backend_module.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):  # noqa: ANN001 - moto's signature
        snapshot = _snapshot(_keys(self, transact_items))
        _skip_table_copy.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            _restore(snapshot)  # moto's own "rollback" put the very same tables back
            raise
        finally:
            _skip_table_copy.active = False

    backend_module.DynamoDBBackend.transact_write_items = transact_write_items
    _installed = True
