"""Every function binary run as Lambda runs it: under a local Runtime API, with the environment
`template.yaml` gives that function (a variable the template forgets fails its start), on moto for
DynamoDB, SQS and EventBridge, fed the `events/` samples. Every AWS call each function makes is recorded on the
way to moto and checked against that function's policy in the template, a transaction's items by
their actions: the policies are shown sufficient, not just plausible."""

import hashlib
import json
import os
import pathlib
import queue
import re
import socket
import subprocess
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from template_functions import ENV_VARS, FUNCTIONS, RESOURCES, ROOT, TEMPLATE, binary_of, environment, queue_name
MOTO = os.environ["WEBHOOKS_TEST_DYNAMODB_ENDPOINT"]
BINARIES = ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "debug"
CREDENTIALS = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}


def serve(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Recorder:
    """A proxy in front of moto that notes, per function, every AWS operation and its body. Each
    function signs with its own access key id, its logical id, so a call is known by its caller
    even when it comes late (dispatch-blocking logs its attempts after answering)."""

    def __init__(self):
        self.calls = []  # (function, operation, body)
        recorder = self

        class Proxy(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                target = self.headers.get("x-amz-target", "")
                caller = re.search(r"Credential=([^/]+)/", self.headers.get("authorization", ""))
                recorder.calls.append((caller and caller.group(1), target, body))
                request = urllib.request.Request(MOTO + self.path, data=body, method="POST")
                for name, value in self.headers.items():
                    if name.lower() not in ("host", "content-length", "connection"):
                        request.add_header(name, value)
                try:
                    with urllib.request.urlopen(request) as answer:
                        status, headers, payload = answer.status, answer.headers, answer.read()
                except urllib.error.HTTPError as error:
                    status, headers, payload = error.code, error.headers, error.read()
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = serve(Proxy)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


class XRayDaemon:
    """The X-Ray daemon Lambda runs beside a function with active tracing: it collects the
    segment documents the functions send it over UDP."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.socket.getsockname()[1]
        self.documents = []
        self.arrived = threading.Condition()
        threading.Thread(target=self.receive, daemon=True).start()

    def receive(self):
        while True:
            datagram = self.socket.recv(65536).decode()
            header, _, document = datagram.partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}, datagram
            with self.arrived:
                self.documents.append(json.loads(document))
                self.arrived.notify_all()

    def of_trace(self, trace_id, until):
        """The documents of one trace, once `until(documents)` holds (within 10 s)."""
        with self.arrived:
            self.arrived.wait_for(lambda: until([d for d in self.documents if d["trace_id"] == trace_id]), timeout=10)
            return [d for d in self.documents if d["trace_id"] == trace_id]


class RuntimeApi:
    """The Lambda Runtime API a function's process polls: one invocation at a time, each in a
    sampled X-Ray trace of its own, as Lambda hands it over."""

    def __init__(self):
        self.pending = queue.Queue()
        self.answers = queue.Queue()
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                request_id, event, trace = runtime.pending.get()
                payload = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("lambda-runtime-aws-request-id", request_id)
                self.send_header("lambda-runtime-deadline-ms", "9999999999999")
                self.send_header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:local")
                self.send_header("lambda-runtime-trace-id", f"Root={trace['root']};Parent={trace['segment']};Sampled=1")
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                kind = self.path.rsplit("/", 1)[-1]  # response, error (invocation or init)
                runtime.answers.put((kind, body))
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = serve(Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"


class Function:
    """One function's binary, started as Lambda starts it; `invoke` hands it one event."""

    def __init__(self, logical_id, recorder, **extra_env):
        self.logical_id = logical_id
        self.runtime = RuntimeApi()
        self.recorder = recorder
        env = {
            "PATH": os.environ["PATH"],
            **CREDENTIALS,
            "AWS_ACCESS_KEY_ID": logical_id,
            "AWS_ENDPOINT_URL": recorder.url,
            "AWS_LAMBDA_RUNTIME_API": self.runtime.address,
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            **environment(logical_id, recorder.url),
            **extra_env,
        }
        self.process = subprocess.Popen(
            [str(BINARIES / binary_of(logical_id))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        # Read as it comes, so a chatty function never blocks on a full pipe.
        self.output = []
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()

    def invoke(self, event):
        self.trace = {"root": f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}", "segment": uuid.uuid4().hex[:16]}
        self.runtime.pending.put((str(uuid.uuid4()), event, self.trace))
        try:
            kind, body = self.runtime.answers.get(timeout=60)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(f"{self.logical_id} never answered:\n{self.printed()}")
        assert kind == "response", f"{self.logical_id} answered {kind}: {body!r}"
        return json.loads(body)

    def printed(self):
        return b"".join(self.output).decode(errors="replace")

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.runtime.server.shutdown()


def sample(name, **path):
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    for parameter, value in path.items():
        template = event["pathParameters"][parameter]
        event["pathParameters"][parameter] = value
        event["rawPath"] = event["rawPath"].replace(template, value)
        event["requestContext"]["http"]["path"] = event["rawPath"]
    return event


def sqs_event(bodies):
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "x", "ApproximateFirstReceiveTimestamp": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


# The IAM action each recorded operation needs; a transaction needs its items' actions.
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def needed(operation, body):
    service, _, name = operation.partition(".")
    if service.startswith("DynamoDB"):
        request = json.loads(body or b"{}")
        if name in ("TransactWriteItems", "TransactGetItems"):
            return {(f"dynamodb:{TRANSACT_ACTIONS[kind]}", None) for item in request["TransactItems"] for kind in item}
        return {(f"dynamodb:{name}", request.get("IndexName"))}
    if service == "AmazonSQS":
        # SQS authorizes a batch call by its single action's permission.
        return {(f"sqs:{name.removesuffix('Batch')}", None)}
    if service == "AWSEvents":
        return {(f"events:{name}", None)}
    raise AssertionError(f"an unexpected AWS call: {operation}")


def listed(value):
    return value if isinstance(value, list) else [value]


def policy_documents(logical_id):
    """The policy documents a function runs with: those of the role its `Role` names (`!GetAtt
    <role>.Arn`, which the loader gives as {"Fn::GetAtt": [<role>, "Arn"]}: fan-out's and
    deliver's, declared in the template), or else its own `Policies`, from which SAM generates
    its role."""
    properties = RESOURCES[logical_id]["Properties"]
    if "Role" not in properties:
        return properties.get("Policies", [])
    role = properties["Role"]
    assert isinstance(role, dict) and list(role) == ["Fn::GetAtt"], f"{logical_id}'s role is not the template's: {role}"
    target = role["Fn::GetAtt"]
    name, attribute = target.split(".", 1) if isinstance(target, str) else target
    assert attribute == "Arn" and RESOURCES[name]["Type"] == "AWS::IAM::Role", (logical_id, role)
    return [policy["PolicyDocument"] for policy in RESOURCES[name]["Properties"].get("Policies", [])]


def allowed(logical_id):
    grants = []
    for policy in policy_documents(logical_id):
        for statement in listed(policy.get("Statement", [])):
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            grants.append((set(actions), json.dumps(resources)))
    return grants


def permitted(grants, action, index):
    for actions, resources in grants:
        if action in actions and (index is None or f"/index/{index}" in resources):
            return True
    return False


@pytest.fixture(scope="module")
def stack():
    """moto with the table and queues events/env-vars.json names, made empty; the functions
    started on first use with that file's environment, their AWS calls through the recorder."""
    clients = {"endpoint_url": MOTO, "region_name": "us-east-1", "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    sqs = boto3.client("sqs", **clients)
    dynamodb = boto3.client("dynamodb", **clients)
    table = ENV_VARS["TABLE_NAME"]
    if table in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=table)
    queues = {}
    for variable in ("DELIVERY_QUEUE_URL", "DEAD_LETTER_QUEUE_URL"):
        for url in sqs.list_queues(QueueNamePrefix=queue_name(variable)).get("QueueUrls", []):
            sqs.delete_queue(QueueUrl=url)
        queues[variable] = sqs.create_queue(QueueName=queue_name(variable))["QueueUrl"]
    # What a platform would do with the notice bus: a rule that sends the stack's notices on.
    run = uuid.uuid4().hex[:8]
    queues["notices"] = sqs.create_queue(QueueName=f"notices-{run}")["QueueUrl"]
    events = boto3.client("events", **clients)
    bus = TEMPLATE["Parameters"]["NoticeBus"]["Default"]
    rule = f"notices-{run}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["webhooks.endpoints"]}))
    notice_queue = sqs.get_queue_attributes(QueueUrl=queues["notices"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "notices", "Arn": notice_queue}])
    created = subprocess.run(
        [str(BINARIES / "webhooks-admin"), "--dynamodb-endpoint", MOTO, "--table", table, "keys", "create", "--org", "42", "--role", "admin"],
        env={**os.environ, **CREDENTIALS},
        capture_output=True,
        text=True,
        check=True,
    )
    recorder = Recorder()
    xray = XRayDaemon()
    functions = {}

    def function(logical_id):
        if logical_id not in functions:
            functions[logical_id] = Function(logical_id, recorder, AWS_XRAY_DAEMON_ADDRESS=xray.address)
        return functions[logical_id]

    yield {"function": function, "sqs": sqs, "queues": queues, "key": created.stdout.strip(), "recorder": recorder, "dynamodb": dynamodb, "table": table, "xray": xray}
    for started in functions.values():
        started.stop()
    recorder.server.shutdown()


def fail_for_good(stack, keys):
    """Sets the record at `keys` failed, as the end of its schedule would (a day away here)."""
    stack["dynamodb"].update_item(
        TableName=stack["table"],
        Key={"pk": keys["pk"], "sk": keys["sk"]},
        UpdateExpression="SET #status = :failed REMOVE next_retry_at",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":failed": {"S": "failed"}},
    )


def http(stack, logical_id, event, status):
    answer = stack["function"](logical_id).invoke(event)
    assert answer["statusCode"] == status, (logical_id, answer)
    return json.loads(answer["body"]) if answer.get("body") else None


def test_every_function_runs_as_lambda_runs_it_and_its_policy_allows_what_it_does(stack):
    # The bundled authorizer, with a key webhooks-admin made.
    authorize = sample("authorize")
    authorize["headers"]["authorization"] = f"Bearer {stack['key']}"
    answer = stack["function"]("AuthorizerFunction").invoke(authorize)
    # The key's id is the first 20 hex digits of its SHA-256, as `webhooks-admin keys list` shows it.
    key_id = hashlib.sha256(stack["key"].encode()).hexdigest()[:20]
    assert answer == {"isAuthorized": True, "context": {"org_id": 42, "role": "admin", "key_id": key_id}}
    authorize["headers"]["authorization"] = "Bearer sk_live_unknown"
    assert stack["function"]("AuthorizerFunction").invoke(authorize)["context"] == {}

    # The HTTP functions, each fed its sample.
    http(stack, "GetLegacyWebhookFunction", sample("get-legacy-webhook"), 404)
    http(stack, "SetLegacyWebhookFunction", sample("set-legacy-webhook"), 200)
    created = http(stack, "CreateEndpointFunction", sample("create-endpoint"), 201)
    endpoint = created["id"]
    assert len(http(stack, "ListEndpointsFunction", sample("list-endpoints"), 200)) == 1
    assert len(http(stack, "ListEventTypesFunction", sample("list-event-types"), 200)) == 19
    # The external id AWS endpoints' roles trust: issued once; the account is the function's own.
    identity = http(stack, "GetAwsIdentityFunction", sample("get-aws-identity"), 200)
    assert re.fullmatch(r"whx_[0-9a-f]{32}", identity["external_id"]), identity
    assert identity["principal"] == "arn:aws:iam::123456789012:root", identity
    condition = identity["trust_policy"]["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {"sts:ExternalId": identity["external_id"]}}
    assert http(stack, "GetAwsIdentityFunction", sample("get-aws-identity"), 200) == identity
    link = http(stack, "CreatePortalSessionFunction", sample("create-portal-session"), 201)
    assert link["url"].startswith("https://abc123def4.execute-api.us-east-1.amazonaws.com/portal#token=ps_"), link
    script = stack["function"]("PortalFunction").invoke(sample("portal"))
    assert script["statusCode"] == 200 and script["headers"]["content-type"].startswith("text/javascript"), script
    assert "frame-ancestors 'none'" in script["headers"]["content-security-policy"], script
    http(stack, "EndpointStatsFunction", sample("endpoint-stats", endpoint_id=endpoint), 200)
    assert http(stack, "RotateSecretFunction", sample("rotate-secret", endpoint_id=endpoint), 200)["secret"].startswith("whsec_")
    tested = http(stack, "SendTestDeliveryFunction", sample("send-test-delivery", endpoint_id=endpoint), 200)
    assert tested["success"] is False, "no receiver resolves here"

    # An event through fan-out, the job through deliver, the attempt in the log.
    event_type = created["events"][0]
    published = {"id": str(uuid.uuid4()), "org_id": 42, "agent_id": None, "type": event_type, "data": {"call_id": "c_1"}, "occurred_at": "2026-11-27T09:15:04.113Z"}
    fanned = stack["function"]("FanOutFunction").invoke(sqs_event([json.dumps(published)]))
    assert fanned["batchItemFailures"] == []
    fan_out_trace = stack["function"]("FanOutFunction").trace
    fanned_out = stack["xray"].of_trace(fan_out_trace["root"], lambda docs: any(d["name"] == "fan_out" for d in docs))
    [fan_out] = [d for d in fanned_out if d["name"] == "fan_out"]
    assert fan_out["parent_id"] == fan_out_trace["segment"], fan_out
    sqs, queues = stack["sqs"], stack["queues"]
    jobs = sqs.receive_message(QueueUrl=queues["DELIVERY_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    bodies = [m["Body"] for m in jobs if published["id"] in m["Body"]]
    assert len(bodies) == 2, "the endpoint and the legacy URL"
    delivered = stack["function"]("DeliverFunction").invoke(sqs_event(bodies))
    assert delivered["batchItemFailures"] == []
    # Each attempt is a subsegment of the invocation's segment in X-Ray, with the event's W3C
    # trace id to search by, and each of its DynamoDB and SQS calls a subsegment inside it.
    trace = stack["function"]("DeliverFunction").trace
    documents = stack["xray"].of_trace(trace["root"], lambda docs: sum(d["name"] == "deliver" for d in docs) == 2)
    attempts = [d for d in documents if d["name"] == "deliver"]
    assert len(attempts) == 2, documents
    assert all(d["parent_id"] == trace["segment"] and d["type"] == "subsegment" for d in attempts), attempts
    assert {d["annotations"]["event_id"] for d in attempts} == {published["id"]}, attempts
    assert {d["annotations"]["trace_id"] for d in attempts} == {fan_out["annotations"]["trace_id"]}, "one event, one trace id"
    assert re.fullmatch(r"[0-9a-f]{32}", fan_out["annotations"]["trace_id"]), fan_out
    calls = [d for d in documents if d.get("namespace") == "aws"]
    assert {d["parent_id"] for d in calls} <= {d["id"] for d in attempts}, "every call inside an attempt"
    assert {"DynamoDB", "SQS"} <= {d["name"] for d in calls}, calls
    assert all(d["http"]["response"]["status"] == 200 and d["aws"]["operation"] for d in calls), calls
    assert all(d["start_time"] <= d["end_time"] for d in documents), documents
    listing = sample("list-deliveries")
    listing["rawQueryString"] = "status=retrying&limit=20"
    listing["queryStringParameters"] = {"status": "retrying", "limit": "20"}
    log = http(stack, "ListDeliveriesFunction", listing, 200)
    attempts = [r for r in log["results"] if r["event_id"] == published["id"]]
    assert {r["source"] for r in attempts} == {"endpoint", "legacy"}
    assert all(r["attempt_count"] == 1 and r["status"] == "retrying" for r in attempts), attempts

    # One delivery, with the body it sent; then, once it has failed for good (its status set
    # here: the schedule is a day long), a resend queues the first job of a new chain.
    one = sample("get-delivery", event_id=published["id"])
    one["rawQueryString"] = f"endpoint_id={endpoint}"
    one["queryStringParameters"] = {"endpoint_id": endpoint}
    shown = http(stack, "GetDeliveryFunction", one, 200)
    assert shown["payload"] == {"data": published["data"], "type": event_type}, shown
    assert len(shown["attempts"]) == 1 and shown["status"] == "retrying", shown
    resend = sample("resend-delivery", event_id=published["id"])
    resend["body"] = json.dumps({"endpoint_id": endpoint})
    assert http(stack, "ResendDeliveryFunction", resend, 202) == {"queued": 0}, "still retrying"
    # The record's keys, from the endpoint's index (its shard is a hash of the ids).
    keys = next(
        item
        for shard in range(8)
        for item in stack["dynamodb"].query(
            TableName=stack["table"],
            IndexName="log-by-destination",
            KeyConditionExpression="destination_log = :part",
            ExpressionAttributeValues={":part": {"S": f"LOG#42#{endpoint}#{shard}"}},
        )["Items"]
        if published["id"].replace("-", "") in item["sk"]["S"]
    )
    fail_for_good(stack, keys)
    assert http(stack, "ResendDeliveryFunction", resend, 202) == {"queued": 1}
    again = sqs.receive_message(QueueUrl=queues["DELIVERY_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", [])
    chains = [json.loads(m["Body"]) for m in again if published["id"] in m["Body"]]
    assert [(j["attempts"], j["chain_starts_after"], j["endpoint_id"]) for j in chains] == [(1, 1, endpoint)], chains

    # Recovering the endpoint (its delivery failed again) resends it the same way.
    fail_for_good(stack, keys)
    recover = sample("recover-endpoint", endpoint_id=endpoint)
    recover["body"] = json.dumps({"since": "2026-01-01T00:00:00Z"})
    recovered = http(stack, "RecoverEndpointFunction", recover, 202)
    assert recovered == {"queued": 1, "has_more": False, "next_cursor": None}, recovered
    again = sqs.receive_message(QueueUrl=queues["DELIVERY_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", [])
    assert [json.loads(m["Body"])["chain_starts_after"] for m in again if published["id"] in m["Body"]] == [1]

    # A blocking event, invoked directly: the legacy URL is its one destination here, and no
    # receiver resolves, so the answer is null with the attempt that says why; it is logged.
    blocking = json.loads((ROOT / "events" / "dispatch-blocking.json").read_text())
    dispatched = stack["function"]("DispatchBlockingFunction").invoke(blocking)
    assert (dispatched["answer"], dispatched["answered_by"]) == (None, None), dispatched
    assert [a["destination"] for a in dispatched["attempts"]] == ["legacy"], dispatched
    assert dispatched["attempts"][0]["failure_category"] in ("dns", "connection"), dispatched
    not_blocking = dict(blocking, type="call.graded")
    assert "not a blocking event type" in stack["function"]("DispatchBlockingFunction").invoke(not_blocking)["error"]
    unreadable = {k: v for k, v in blocking.items() if k != "type"}
    refused = stack["function"]("DispatchBlockingFunction").invoke(unreadable)["error"]
    assert refused.startswith("malformed event: ") and refused.count("malformed event") == 1, refused

    # A malformed event goes to the dead-letter queue and fails nothing else.
    malformed = stack["function"]("FanOutFunction").invoke(sqs_event(["{not json"]))
    assert malformed["batchItemFailures"] == []
    dead = sqs.receive_message(QueueUrl=queues["DEAD_LETTER_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert any("{not json" in m["Body"] for m in dead), dead

    # A scheduled sweep finds the endpoint's streak (the failed attempt above, its start moved two
    # days back: the sweep asks the system clock), marks it failing, and says so on the bus.
    stack["dynamodb"].update_item(
        TableName=stack["table"],
        Key={"pk": {"S": f"ENDPOINT#{endpoint}"}, "sk": {"S": "STATS"}},
        UpdateExpression="SET failing_since = :old",
        ConditionExpression="attribute_exists(failing_since)",
        ExpressionAttributeValues={":old": {"S": "2026-01-01T00:00:00.000Z"}},
    )
    scheduled = json.loads((ROOT / "events" / "sweeper-scheduled.json").read_text())
    swept = stack["function"]("SweepFailingFunction").invoke(scheduled)
    assert (swept["marked"], swept["errors"]) == (1, 0), swept
    notices = sqs.receive_message(QueueUrl=queues["notices"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(notices) == 1, notices
    notice = json.loads(notices[0]["Body"])
    assert notice["detail-type"] == "webhook-endpoint.failing"
    assert notice["detail"]["endpoint_id"] == endpoint
    assert notice["detail"]["org_id"] == 42
    assert notice["detail"]["failing_since"] == "2026-01-01T00:00:00.000Z"
    assert notice["detail"]["url_host"] and "/" not in notice["detail"]["url_host"]
    http(stack, "UpdateEndpointFunction", sample("update-endpoint", endpoint_id=endpoint), 200)
    http(stack, "DeleteEndpointFunction", sample("delete-endpoint", endpoint_id=endpoint), 204)

    # Every function of the template ran, and each call it made is allowed by its own policy.
    functions = set(FUNCTIONS)
    assert functions == {f for f, _, _ in stack["recorder"].calls} | {"ListEventTypesFunction", "PortalFunction"}, "each one called AWS (the catalogue and the portal's files read nothing)"
    refused = []
    for function, operation, body in stack["recorder"].calls:
        grants = allowed(function)
        for action, index in needed(operation, body):
            if not permitted(grants, action, index):
                refused.append((function, action, index))
    assert refused == [], f"calls the template's policies do not allow: {sorted(set(refused))}"


def test_no_secret_or_bearer_token_reaches_a_log_at_trace_level(stack):
    """The functions that hand over secrets, run at TRACE: their whole output holds neither the
    secrets they answered with nor the bearer tokens they were called with."""
    bearer = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # the samples' Authorization header
    secrets, outputs = [], []
    traced = {"AWS_LAMBDA_LOG_LEVEL": "trace", "AWS_XRAY_DAEMON_ADDRESS": stack["xray"].address}
    create = Function("CreateEndpointFunction", stack["recorder"], **traced)
    rotate = Function("RotateSecretFunction", stack["recorder"], **traced)
    session = Function("CreatePortalSessionFunction", stack["recorder"], **traced)
    try:
        creating = sample("create-endpoint")
        header_value = "hv_" + uuid.uuid4().hex  # a custom header's value is a secret too
        creating["body"] = json.dumps({**json.loads(creating["body"]), "headers": {"Authorization": header_value}})
        created = create.invoke(creating)
        assert created["statusCode"] == 201, created
        endpoint = json.loads(created["body"])
        assert endpoint["headers"] == {"Authorization": header_value}
        secrets += [endpoint["secret"], header_value]
        rotated = rotate.invoke(sample("rotate-secret", endpoint_id=endpoint["id"]))
        secrets.append(json.loads(rotated["body"])["secret"])
        opened = session.invoke(sample("create-portal-session"))
        secrets.append(json.loads(opened["body"])["url"].split("#token=")[1])
        # A request that fails in storage logs its error: a 404 here, as a bad id would.
        missing = rotate.invoke(sample("rotate-secret", endpoint_id=str(uuid.uuid4())))
        assert missing["statusCode"] == 404, missing
    finally:
        for function in (create, rotate, session):
            function.stop()
            outputs.append(function.printed())
    # What went to X-Ray is searched too: the request spans and their DynamoDB calls.
    sent = [stack["xray"].of_trace(f.trace["root"], lambda docs: any(d["name"] == "request" for d in docs)) for f in (create, rotate, session)]
    assert all(any(d["name"] == "DynamoDB" for d in documents) for documents in sent), sent
    output = "\n".join(outputs + [json.dumps(sent)])
    assert '"level":"TRACE"' in output or '"level":"DEBUG"' in output, "the run logged below info"
    for secret in secrets + [bearer]:
        assert secret.startswith(("whsec_", "ps_", "sk_live_", "hv_"))
        assert secret not in output, f"{secret[:8]}... reached the log"


def test_every_function_starts_its_logging_clamped():
    """Every binary the template deploys starts its logging through webhook_aws::init_logging,
    which holds the SDK's and the runtime's verbose targets back: one that called the runtime's
    default instead would log secrets at TRACE."""
    for logical_id in FUNCTIONS:
        main = (ROOT / "functions" / "src" / "bin" / f"{binary_of(logical_id)}.rs").read_text()
        assert "webhook_aws::init_logging();" in main, logical_id
        assert "init_default_subscriber" not in main, logical_id
