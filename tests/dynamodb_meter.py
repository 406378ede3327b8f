"""What DynamoDB would bill for the requests moto_server answers, per table.

moto reports a constant ConsumedCapacity, so the cost tests cannot ask the server what a
request cost. This WSGI middleware sizes every item a request reads or writes, before and after
the request, from moto's own tables, and prices it the way DynamoDB's on-demand mode bills:

- a write: 1 write unit per started KB of the larger of the item before and after (a refused
  conditional write too), twice in a transaction;
- each global secondary index entry the write adds, changes or removes: 1 write per started KB
  of the entry, 2 when the entry's key changes (a delete and a put);
- a strongly consistent read: 1 read unit per started 4 KB (GetItem, each item of a batch or a
  transaction: twice in a transaction), half for an eventually consistent one; a Query sums the
  items it returns, then rounds up once.

A Query is priced by the items it returns, not by those its filter dropped: the delivery path
filters nothing. Item sizes follow "Item sizes and formats" of the DynamoDB developer guide.

`GET /_meter/<table>` answers what the table's requests cost since the last such call, and
starts counting afresh.
"""

import base64
import io
import json
import math
from collections import Counter, defaultdict
from decimal import Decimal

KB = 1024


def value_size(value):
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def number_size(text):
    digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "").lstrip("0")
    return (len(digits) + 1) // 2 + 1


def item_size(item):
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size):
    return max(1, math.ceil(size / KB))


def read_units(size, consistent):
    units = max(1, math.ceil(size / (4 * KB)))
    return units if consistent else units / 2


class Table:
    """What the meter needs of a moto table: its keys, its indexes, an item by its key."""

    def __init__(self, table):
        self.table = table
        self.keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])

    def item(self, key):
        from moto.dynamodb.models.dynamo_type import DynamoType

        hash_key = DynamoType(key[self.table.hash_key_attr])
        range_key = DynamoType(key[self.table.range_key_attr]) if self.table.range_key_attr else None
        try:
            found = self.table.get_item(hash_key, range_key)
        except Exception:  # noqa: BLE001 - a key the table would refuse holds no item
            return None
        return found.to_json()["Attributes"] if found else None

    def key_of(self, item):
        return {name: item[name] for name in self.keys}

    def index_writes(self, before, after):
        writes = 0
        for index in self.table.global_indexes:
            old, new = self.entry(index, before), self.entry(index, after)
            if old is None and new is None:
                continue
            if old is None or new is None:
                writes += write_units(item_size(old or new))
            elif old != new:
                changed_key = any(old.get(k["AttributeName"]) != new.get(k["AttributeName"]) for k in index.schema)
                writes += write_units(item_size(new)) + (write_units(item_size(old)) if changed_key else 0)
        return writes

    def entry(self, index, item):
        if item is None:
            return None
        index_keys = [k["AttributeName"] for k in index.schema]
        if any(k not in item for k in index_keys):
            return None
        projection = index.projection or {}
        kind = projection.get("ProjectionType", "ALL")
        if kind == "ALL":
            return dict(item)
        kept = set(index_keys) | set(self.keys)
        if kind == "INCLUDE":
            kept |= set(projection.get("NonKeyAttributes", []))
        return {name: value for name, value in item.items() if name in kept}


class Meter:
    def __init__(self, app):
        self.app = app
        self.costs = defaultdict(lambda: {"requests": Counter(), "write_units": 0.0, "read_units": 0.0})

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_meter/"):
            return self.answer(path[len("/_meter/"):], start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        operation = target.split(".", 1)[1]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        request = json.loads(raw or b"{}")
        before = self.before(operation, request)
        body = b"".join(self.app(environ, start_response))
        self.price(operation, request, before, body)
        return [body]

    def answer(self, table, start_response):
        cost = self.costs.pop(table, None) or {"requests": Counter(), "write_units": 0.0, "read_units": 0.0}
        answer = json.dumps({**cost, "requests": dict(cost["requests"])}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
        return [answer]

    @staticmethod
    def table(name):
        from moto.dynamodb.models import dynamodb_backends

        for account in dynamodb_backends.values():
            for backend in account.values():
                if name in backend.tables:
                    return Table(backend.tables[name])
        return None

    def writes(self, operation, request):
        """(table, key, transactional) of every item the write request touches."""
        if operation == "PutItem":
            table = self.table(request["TableName"])
            return [(request["TableName"], table.key_of(request["Item"]), False)] if table else []
        if operation in ("UpdateItem", "DeleteItem"):
            return [(request["TableName"], request["Key"], False)]
        if operation == "TransactWriteItems":
            touched = []
            for entry in request["TransactItems"]:
                (kind, action), = entry.items()
                table = self.table(action["TableName"])
                if table is None:
                    continue
                key = action["Key"] if "Key" in action else table.key_of(action["Item"])
                touched.append((action["TableName"], key, True))
            return touched
        if operation == "BatchWriteItem":
            touched = []
            for name, requests in request["RequestItems"].items():
                table = self.table(name)
                for entry in requests:
                    if "PutRequest" in entry and table:
                        touched.append((name, table.key_of(entry["PutRequest"]["Item"]), False))
                    elif "DeleteRequest" in entry:
                        touched.append((name, entry["DeleteRequest"]["Key"], False))
            return touched
        return []

    def before(self, operation, request):
        found = []
        for name, key, transactional in self.writes(operation, request):
            table = self.table(name)
            found.append((name, key, transactional, table.item(key) if table else None))
        return found

    def price(self, operation, request, before, body):
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            answer = {}
        tables = self.tables_of(operation, request)
        for name in tables:
            self.costs[name]["requests"][operation] += 1
        for name, key, transactional, old in before:
            table = self.table(name)
            new = table.item(key) if table else None
            units = write_units(max(item_size(old or {}), item_size(new or {})))
            if old != new and table:
                units += table.index_writes(old, new)
            self.costs[name]["write_units"] += units * (2 if transactional else 1)
        self.price_reads(operation, request, answer)

    @staticmethod
    def tables_of(operation, request):
        if "TableName" in request:
            return [request["TableName"]]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            names = []
            for entry in request.get("TransactItems", []):
                (_, action), = entry.items()
                if action["TableName"] not in names:
                    names.append(action["TableName"])
            return names
        return list(request.get("RequestItems", {}))

    def price_reads(self, operation, request, answer):
        if operation == "GetItem":
            self.read(request["TableName"], request["Key"], request.get("ConsistentRead", False), 1)
        elif operation == "TransactGetItems":
            for entry in request["TransactItems"]:
                get = entry["Get"]
                self.read(get["TableName"], get["Key"], True, 2)
        elif operation == "BatchGetItem":
            for name, asked in request["RequestItems"].items():
                for key in asked["Keys"]:
                    self.read(name, key, asked.get("ConsistentRead", False), 1)
        elif operation in ("Query", "Scan"):
            name = request["TableName"]
            table = self.table(name)
            if table is None:
                return
            index = next((i for i in table.table.global_indexes if i.name == request.get("IndexName")), None)
            # The whole item (or index entry) is billed, whatever the projection left out.
            size = 0
            for returned in answer.get("Items", []):
                full = table.item(table.key_of(returned)) if all(k in returned for k in table.keys) else None
                if full is not None and index is not None:
                    full = table.entry(index, full)
                size += item_size(full or returned)
            self.costs[name]["read_units"] += read_units(size, request.get("ConsistentRead", False))

    def read(self, name, key, consistent, times):
        table = self.table(name)
        item = table.item(key) if table else None
        self.costs[name]["read_units"] += read_units(item_size(item or {}), consistent) * times
