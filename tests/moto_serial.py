"""moto_server, answering one request at a time.

DynamoDB applies each request (a conditional write, a transaction) atomically. moto_server's
threaded mode does not: two concurrent transactions can both pass a condition. Serving one
request at a time restores the atomicity the concurrency tests rely on.

It also meters what each table's requests would cost on DynamoDB (`dynamodb_meter.py`), and
refuses a role whose trust policy requires another external id, as IAM does (`moto_trust.py`).

Usage: python tests/moto_serial.py HOST PORT
"""

import sys

import moto_trust  # noqa: F401 (it patches moto's STS when imported)
from dynamodb_meter import Meter

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
run_simple(
    host,
    port,
    Meter(DomainDispatcherApplication(create_backend_app)),
    threaded=False,
    request_handler=MotoRequestHandler,
)
