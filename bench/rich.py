"""The rich data set of `python -m bench --rich`: every email_send event as a busy transactional project sends it.

The emulator's default email_send events are lean: a third carry a short `transactionalData`, none carry
`itblInternal`. Here every event carries both, in Iterable's raw export forms (../shared/iterable-api.md):
- `transactionalData`: a JSON-encoded *string* (~500 bytes: an order with line items, a nested address and an
  `orderDate` in Iterable's timestamp form, which stays a plain string inside the decoded object);
- `itblInternal`: `documentCreatedAt` (the event's own `createdAt` text, so the malformed `….134105.000Z` form
  appears nested too) and `documentUpdatedAt` (a few seconds later; every fifth with milliseconds, every
  eleventh with a `-05:00` offset, which the connector must convert to UTC).
Records are still computed on demand from (seed, index): nothing is held in memory.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bench.replay import DATA_TYPE
from integration_tests.emulator import Dataset
from integration_tests.emulator.dataset import EventTable, iterable_time

_PRODUCTS = ("Trail Runner 2", "Merino Crew Sock", "Rain Shell", "Canvas Tote", "Water Bottle 750 ml")
_MIX = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


class RichEventTable(EventTable):
    """`EventTable` whose every record also carries `transactionalData` and `itblInternal` (module docstring)."""

    def _record(self, index: int) -> dict[str, Any]:
        record = super()._record(index)
        h = ((index + 1) * _MIX) & _MASK
        created = Dataset.EXPORT_START + timedelta(seconds=self.created_second(index))
        record["transactionalData"] = json.dumps(_order(h, index, iterable_time(created)), separators=(",", ":"))
        record["itblInternal"] = {
            "documentCreatedAt": record["createdAt"],
            "documentUpdatedAt": _updated_text(created + timedelta(seconds=1 + h % 300), h, index),
        }
        return record


class RichDataset(Dataset):
    """The default data set with the `emailSend` table replaced by a `RichEventTable` of the same size."""

    def __init__(self, events: int) -> None:
        super().__init__(events_per_type={DATA_TYPE: events})
        self.events[DATA_TYPE] = RichEventTable(self, DATA_TYPE, events)


def _updated_text(moment: Any, h: int, index: int) -> str:
    if index % 11 == 5:
        return (moment - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M:%S -05:00")
    if index % 5 == 2:
        return moment.strftime("%Y-%m-%d %H:%M:%S") + f".{h % 1000:03d} +00:00"
    return iterable_time(moment)


def _order(h: int, index: int, created: str) -> dict[str, Any]:
    items = [
        {
            "sku": f"sku-{(h >> (8 * k)) % 997:03d}",
            "name": _PRODUCTS[(h >> (4 * k)) % len(_PRODUCTS)],
            "quantity": 1 + (h >> k) % 3,
            "price": round(4.99 + ((h >> (3 * k)) % 20000) / 100, 2),
            "url": f"https://shop.example.com/p/{(h >> (8 * k)) % 997}",
        }
        for k in range(1 + h % 3)
    ]
    return {
        "orderId": f"ord-{index:09d}",
        "orderDate": created,
        "currency": "USD",
        "total": round(sum(item["price"] * item["quantity"] for item in items), 2),
        "items": items,
        "shipping": {"method": ("ground", "express")[h % 2], "address": {"city": "Austin", "postalCode": "78701"}},
        "coupon": None if h % 4 else "SPRING",
    }
