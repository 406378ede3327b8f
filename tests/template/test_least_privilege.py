"""Least privilege, as the stack deploys it: template.yaml through the SAM transform, then every
function's role read back, managed policies included. Each function may hold only the grants on
its allow-list below (action, resource, condition); a new action, a wider resource, a dropped or
loosened condition fails here. Around the list: no wildcard resource or action, no managed policy
but the two SAM puts on every role it makes (fan-out's and deliver's roles, declared in the
template, carry the same), only Lambda able to assume a function's role, SQS grants on the
function's own queues only, every table grant fenced to the partitions it needs
(`dynamodb:LeadingKeys`), and only the functions that sign deliveries or hand a secret over able
to reach the items that hold secrets.

That the grants are enough is `tests/lambda`'s part: it runs each binary and checks every call
it makes against the same policies (but not their conditions, which moto does not evaluate)."""

import json
import re

import pytest
from template_loader import deployed, load

TABLE = "table"
GET, QUERY, PUT, UPDATE, DELETE, BATCH_GET = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchGetItem",
)
SEND = "sqs:SendMessage"
# What Lambda's event source mapping does on the queue it reads, with the function's role.
TAKE = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
PUT_EVENTS = "events:PutEvents"
# AWS endpoints: the functions that make attempts assume the customer's role, in any account.
ASSUME = "sts:AssumeRole"
CUSTOMER_ROLES = "arn:${AWS::Partition}:iam::*:role/*"
# ...but never one of the stack's own account, whatever it trusts: the one Deny a function has.
OWN_ROLES = {"Effect": "Deny", "Action": ASSUME, "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}}

# The condition shapes template.yaml uses.
LIKE, LEADING_KEYS = "ForAllValues:StringLike", "dynamodb:LeadingKeys"
SECRET_ATTRIBUTES = ["secret", "previous_secret"]
NO_SECRET_NAMED = {"ForAllValues:StringNotEquals": {"dynamodb:Attributes": SECRET_ATTRIBUTES}}
# A read of ORG# items that returns only the attributes it names, none of them a secret. The
# Select key "IfExists", as AWS's own attribute-fencing example has it: GetItem and
# TransactGetItems carry no Select parameter, and a plain StringEquals would refuse them all.
READ_FENCE = {**NO_SECRET_NAMED, "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}
# A write of ORG# items that names no secret and answers no whole item.
WRITE_FENCE = {
    **NO_SECRET_NAMED,
    "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]},
}

# Hash key prefixes of docs/storage.md, by what is read: the table's `pk`, and each index's own
# hash key (failure-streaks: `streak_shard`, where the sweeper reads STREAK#; the log indexes'
# keys start LOG#).
PARTITIONS = {
    TABLE: {"APIKEY#*", "ORG#*", "ENDPOINT#*", "LOG#*", "LOG#*#EVENT#*", "AWSID#*"},
    "index/failure-streaks": {"STREAK#*"},
    "index/log-by-destination": {"LOG#*"},
    "index/log-by-endpoint": {"LOG#*"},
    "index/log-problems": {"LOG#*"},
    "index/log-by-event": {"LOG#*"},
}
# Where an endpoint's secret item (ORG#<org> / SECRET#<endpoint>) and the legacy item with the
# organization secret (ORG#<org> / LEGACY) live, and where the authorizer's API keys do.
SECRET_PARTITION = "ORG#42"
API_KEY_PARTITION = "APIKEY#ak_0123"

# The functions that sign deliveries, or hand a secret over in their answer: they read secrets.
SIGNERS = {
    "DeliverFunction",
    "DispatchBlockingFunction",
    "SendTestDeliveryFunction",
    "CreateEndpointFunction",
    "RotateSecretFunction",
    "GetLegacyWebhookFunction",
    "SetLegacyWebhookFunction",
}
# Functions that need no secret but can still reach the items holding them, and why: each a
# limit of the key layout or of IAM, described in docs/operations.md ("What each function may
# do") with what would lift it. A function that no longer reaches secrets must leave this list.
UNFENCED = {
    "UpdateEndpointFunction": "its UpdateItem answers ALL_NEW, and IAM fences no sort key",
    "DeleteEndpointFunction": "it deletes the secret item; a refused condition's ALL_OLD has no IAM key",
    "SweepFailingFunction": "it writes endpoint items in ORG#; a refused condition's ALL_OLD has no IAM key",
    "ResendDeliveryFunction": "it reads the legacy item whole (secret included) to see that a URL is "
    "set; its quota item is in ORG# (UpdateItem, ALL_OLD on refusal)",
    "RecoverEndpointFunction": "its quota item is in ORG# (UpdateItem, ALL_OLD on refusal)",
}
# The managed policies allowed, by partition, as SAM writes them on every role it generates (the
# partition is the region's, at transform time). AWSLambdaBasicExecutionRole: logs:CreateLogGroup,
# logs:CreateLogStream and logs:PutLogEvents on "*". And with `Tracing: Active`, X-Ray's writes:
# xray:PutTraceSegments, PutTelemetryRecords and the sampling reads, which X-Ray grants on "*" only
# (it has no resource-level permissions); SAM names that policy AWSXrayWriteOnlyAccess in the aws
# partition and AWSXRayDaemonWriteAccess elsewhere. The explicit roles (EXPLICIT_ROLES) carry the
# same, written with ${AWS::Partition}.
REGION_OF_PARTITION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


def managed_policies(partition):
    xray = "AWSXrayWriteOnlyAccess" if partition == "aws" else "AWSXRayDaemonWriteAccess"
    return [
        f"arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        f"arn:{partition}:iam::aws:policy/{xray}",
    ]


# The functions whose role template.yaml declares (`Role: !GetAtt <role>.Arn`) instead of SAM
# generating one from their `Policies`: their event source mapping polls the queue with the
# function's role, so that role is the one place its queue grants are spelled, nothing attached
# by SAM. Their logical ids are the ones SAM gave the roles it generated before.
EXPLICIT_ROLES = {"FanOutFunction": "FanOutFunctionRole", "DeliverFunction": "DeliverFunctionRole"}
# Resources with a wildcard that are unavoidable: the roles customers make for their AWS endpoints,
# which may be in any account and named anything. Each trusts only this stack's account with its
# organization's external id, which the code picks (docs/delivery.md, "AWS endpoints").
WILDCARD_RESOURCES = {CUSTOMER_ROLES}
# Roles in the stack that no function runs as, and what each may do.
OTHER_ROLES = {
    "SweepFailingFunctionScheduleRole": {("lambda:InvokeFunction", "SweepFailingFunction", None)},
}


def partitions(*prefixes):
    return {LIKE: {LEADING_KEYS: list(prefixes)}}


def canonical(condition):
    """A condition as comparable text: keys sorted, list values as sets."""
    if condition is None:
        return None
    normal = {
        operator: {key: sorted(v) if isinstance(v, list) else v for key, v in keys.items()}
        for operator, keys in condition.items()
    }
    return json.dumps(normal, sort_keys=True)


def grants(actions, resources, condition=None):
    actions = [actions] if isinstance(actions, str) else actions
    resources = [resources] if isinstance(resources, str) else resources
    return {(a, r, canonical(condition)) for a in actions for r in resources}


ALLOWED = {
    "AuthorizerFunction": grants(GET, TABLE, partitions("APIKEY#*")),
    "ListEndpointsFunction": grants(QUERY, TABLE, partitions("ORG#*") | READ_FENCE),
    "CreateEndpointFunction": grants([UPDATE, GET], TABLE, partitions("ORG#*"))
    | grants(PUT, TABLE, partitions("ORG#*", "ENDPOINT#*")),
    "UpdateEndpointFunction": grants(UPDATE, TABLE, partitions("ORG#*") | NO_SECRET_NAMED)
    | grants(GET, TABLE, partitions("ORG#*") | READ_FENCE),
    "DeleteEndpointFunction": grants(DELETE, TABLE, partitions("ORG#*", "ENDPOINT#*") | WRITE_FENCE)
    | grants(UPDATE, TABLE, partitions("ORG#*") | WRITE_FENCE),
    "GetLegacyWebhookFunction": grants(GET, TABLE, partitions("ORG#*")),
    "SetLegacyWebhookFunction": grants([UPDATE, GET], TABLE, partitions("ORG#*")),
    "RotateSecretFunction": grants([UPDATE, GET, PUT], TABLE, partitions("ORG#*")),
    "EndpointStatsFunction": grants(GET, TABLE, partitions("ORG#*") | READ_FENCE)
    | grants(GET, TABLE, partitions("ENDPOINT#*")),
    "CreatePortalSessionFunction": grants(PUT, TABLE, partitions("APIKEY#*")),
    "PortalFunction": set(),
    "ListEventTypesFunction": set(),
    "GetAwsIdentityFunction": grants([GET, UPDATE], TABLE, partitions("AWSID#*")),
    "ListDeliveriesFunction": grants(
        QUERY,
        [TABLE, "index/log-by-destination", "index/log-by-endpoint", "index/log-problems"],
        partitions("LOG#*"),
    )
    | grants(BATCH_GET, TABLE, partitions("LOG#*")),
    "SendTestDeliveryFunction": grants([GET, UPDATE, DELETE], TABLE, partitions("ORG#*"))
    | grants([GET, UPDATE], TABLE, partitions("AWSID#*"))
    | grants(PUT, TABLE, partitions("ORG#*", "LOG#*"))
    | grants(SEND, "DeliveryQueue")
    | grants(ASSUME, CUSTOMER_ROLES),
    "GetDeliveryFunction": grants(QUERY, "index/log-by-event", partitions("LOG#*"))
    | grants(GET, TABLE, partitions("LOG#*")),
    "ResendDeliveryFunction": grants(QUERY, "index/log-by-event", partitions("LOG#*"))
    | grants(GET, TABLE, partitions("LOG#*", "ORG#*", "ENDPOINT#*"))
    | grants(UPDATE, TABLE, partitions("LOG#*"))
    | grants(UPDATE, TABLE, partitions("ORG#*") | NO_SECRET_NAMED)
    | grants(SEND, "DeliveryQueue"),
    "RecoverEndpointFunction": grants(
        QUERY, ["index/log-by-destination", "index/log-by-endpoint"], partitions("LOG#*")
    )
    | grants(BATCH_GET, TABLE, partitions("LOG#*"))
    | grants(GET, TABLE, partitions("ORG#*") | READ_FENCE)
    | grants(GET, TABLE, partitions("ENDPOINT#*"))
    | grants(UPDATE, TABLE, partitions("LOG#*"))
    | grants(UPDATE, TABLE, partitions("ORG#*") | NO_SECRET_NAMED)
    | grants(SEND, "DeliveryQueue"),
    "SweepFailingFunction": grants(QUERY, "index/failure-streaks", partitions("STREAK#*"))
    | grants([UPDATE, GET], TABLE, partitions("ENDPOINT#*"))
    | grants(UPDATE, TABLE, partitions("ORG#*") | WRITE_FENCE)
    | grants(GET, TABLE, partitions("ORG#*") | READ_FENCE)
    | grants(PUT_EVENTS, "notice-bus"),
    "FanOutFunction": grants(QUERY, TABLE, partitions("ORG#*") | READ_FENCE)
    | grants(PUT, TABLE, partitions("LOG#*#EVENT#*"))
    | grants(SEND, ["DeliveryQueue", "DeadLetterQueue"])
    | grants(sorted(TAKE), "EventsQueue"),
    "DeliverFunction": grants(GET, TABLE, partitions("ORG#*", "AWSID#*"))
    | grants(UPDATE, TABLE, partitions("LOG#*", "ENDPOINT#*", "ORG#*", "AWSID#*"))
    | grants(PUT, TABLE, partitions("LOG#*"))
    | grants(PUT_EVENTS, "notice-bus")
    | grants(SEND, ["DeliveryQueue", "DeadLetterQueue"])
    | grants(sorted(TAKE), "DeliveryQueue")
    | grants(ASSUME, CUSTOMER_ROLES),
    "DispatchBlockingFunction": grants(QUERY, TABLE, partitions("ORG#*"))
    | grants(GET, TABLE, partitions("ORG#*", "AWSID#*"))
    | grants(UPDATE, TABLE, partitions("ENDPOINT#*", "ORG#*", "AWSID#*"))
    | grants(PUT, TABLE, partitions("LOG#*"))
    | grants(PUT_EVENTS, "notice-bus")
    | grants(ASSUME, CUSTOMER_ROLES),
}

# The queues each function may send to; those it takes from are the ones its event source
# mapping reads.
SENDS_TO = {
    "FanOutFunction": {"DeliveryQueue", "DeadLetterQueue"},
    "DeliverFunction": {"DeliveryQueue", "DeadLetterQueue"},
    "SendTestDeliveryFunction": {"DeliveryQueue"},
    "ResendDeliveryFunction": {"DeliveryQueue"},
    "RecoverEndpointFunction": {"DeliveryQueue"},
}

NOTICE_BUS = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${NoticeBus}"


def resource_name(resource):
    """A statement's resource by a short name; anything unexpected stays JSON (and matches no
    allow-list entry)."""
    if isinstance(resource, dict) and list(resource) == ["Fn::GetAtt"]:
        name, attribute = resource["Fn::GetAtt"]
        if attribute == "Arn":
            return TABLE if name == "WebhooksTable" else name
    if isinstance(resource, dict) and list(resource) == ["Fn::Sub"] and isinstance(resource["Fn::Sub"], str):
        text = resource["Fn::Sub"]
        index = re.fullmatch(r"\$\{WebhooksTable\.Arn\}/index/([a-z-]+)", text)
        if index:
            return f"index/{index.group(1)}"
        if text == NOTICE_BUS:
            return "notice-bus"
        if text == CUSTOMER_ROLES:
            return CUSTOMER_ROLES
    return json.dumps(resource, sort_keys=True)


def listed(value):
    return value if isinstance(value, list) else [value]


def statements_of(role):
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in listed(policy["PolicyDocument"]["Statement"])
    ]


def atoms(statements):
    """Each Allow statement as (action, resource, condition) triples; the one Deny allowed
    (OWN_ROLES) aside."""
    found = set()
    for statement in statements:
        if statement == OWN_ROLES:
            continue
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in listed(statement["Action"]):
            for resource in listed(statement["Resource"]):
                found.add((action, resource_name(resource), canonical(statement.get("Condition"))))
    return found


def stack(region="us-east-1"):
    resources = deployed(region)["Resources"]
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    roles = {}
    for name, function in functions.items():
        role = function["Properties"]["Role"]
        assert isinstance(role, dict) and list(role) == ["Fn::GetAtt"], f"{name}'s role is not the stack's: {role}"
        role_name, attribute = role["Fn::GetAtt"]
        assert attribute == "Arn" and resources[role_name]["Type"] == "AWS::IAM::Role", (name, role)
        roles[name] = role_name
    return resources, functions, roles


def in_partition(arn, partition, conditions):
    """A managed policy ARN as CloudFormation resolves it in `partition`: a string; a `Fn::Sub`
    of `${AWS::Partition}` alone; or a `Fn::If` on a condition that compares `AWS::Partition`
    with a name. Anything else stays JSON (and matches no allowed ARN)."""
    if isinstance(arn, str):
        return arn
    if isinstance(arn, dict) and list(arn) == ["Fn::Sub"] and isinstance(arn["Fn::Sub"], str):
        text = arn["Fn::Sub"].replace("${AWS::Partition}", partition)
        if "${" not in text:
            return text
    if isinstance(arn, dict) and list(arn) == ["Fn::If"] and len(arn["Fn::If"]) == 3:
        name, then, otherwise = arn["Fn::If"]
        condition = conditions.get(name) if isinstance(name, str) else None
        sides = condition.get("Fn::Equals") if isinstance(condition, dict) and list(condition) == ["Fn::Equals"] else None
        if isinstance(sides, list) and len(sides) == 2:
            left, right = sides
            named = right if left == {"Ref": "AWS::Partition"} else left if right == {"Ref": "AWS::Partition"} else None
            if isinstance(named, str):
                return in_partition(then if named == partition else otherwise, partition, conditions)
    return json.dumps(arn, sort_keys=True)


def trusts_only_lambda(role):
    """Whether the role's trust policy lets lambda.amazonaws.com, and nobody else, assume it."""
    statements = listed(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    if len(statements) != 1 or set(statements[0]) != {"Effect", "Principal", "Action"}:
        return False
    (statement,) = statements
    principal = statement["Principal"]
    return (
        statement["Effect"] == "Allow"
        and isinstance(principal, dict)
        and list(principal) == ["Service"]
        and listed(principal["Service"]) == ["lambda.amazonaws.com"]
        and listed(statement["Action"]) == ["sts:AssumeRole"]
    )


def function_grants():
    resources, _, roles = stack()
    return {name: atoms(statements_of(resources[role])) for name, role in roles.items()}


def like(pattern, value):
    """IAM's StringLike: `*` any run of characters, `?` one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def condition_of(text):
    return json.loads(text) if text else {}


def reaches(granted, partition):
    """Whether any of `granted` may touch an item of `partition` in the table, short of a read
    that can return only the attributes it names, none of them a secret. Index grants do not
    count: no item that holds a secret carries an index key."""
    for action, resource, condition in granted:
        if not action.startswith("dynamodb:") or resource.startswith("index/"):
            continue
        condition = condition_of(condition)
        patterns = condition.get(LIKE, {}).get(LEADING_KEYS)
        if patterns is not None and not any(like(p, partition) for p in listed(patterns)):
            continue
        if action in (GET, QUERY) and fences_reads(condition):
            continue
        return True
    return False


def fences_reads(condition):
    """Whether a read under `condition` returns only the attributes it names, none a secret."""
    select = condition.get("StringEqualsIfExists", {}).get("dynamodb:Select")
    named = condition.get("ForAllValues:StringNotEquals", {}).get("dynamodb:Attributes", [])
    return select == "SPECIFIC_ATTRIBUTES" and set(SECRET_ATTRIBUTES) <= set(listed(named))


def test_every_function_runs_as_a_role_of_its_own():
    _, functions, roles = stack()
    assert len(set(roles.values())) == len(roles), "two functions share a role: each gets the other's grants"
    assert set(functions) == set(ALLOWED), "every function has an allow-list here, and only those"


@pytest.mark.parametrize("partition", sorted(REGION_OF_PARTITION))
def test_no_managed_policy_but_basic_execution_and_xray_writes(partition):
    """In each partition, every function's role has exactly what SAM's generated roles have
    there: an explicit role's ARNs resolved as CloudFormation would, SAM's as it wrote them."""
    template = deployed(REGION_OF_PARTITION[partition])
    resources, _, roles = stack(REGION_OF_PARTITION[partition])
    for function, role in roles.items():
        managed = resources[role]["Properties"].get("ManagedPolicyArns", [])
        assert isinstance(managed, list), (function, managed)
        resolved = [in_partition(arn, partition, template.get("Conditions", {})) for arn in managed]
        # AWSLambdaSQSQueueExecutionRole (every queue of the account) comes with a SAM SQS event.
        assert resolved == managed_policies(partition), (function, managed)
    # No policy attached to a role from outside it.
    attached = [
        name
        for name, resource in resources.items()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
    ]
    assert attached == [], attached


def test_fan_out_and_deliver_run_as_roles_declared_in_the_template_that_only_lambda_assumes():
    declared = load()["Resources"]
    named = {}
    for function, resource in declared.items():
        if resource["Type"] == "AWS::Serverless::Function" and "Role" in resource["Properties"]:
            role = resource["Properties"]["Role"]
            assert isinstance(role, dict) and list(role) == ["Fn::GetAtt"], (function, role)
            assert list(role["Fn::GetAtt"])[1:] == ["Arn"], (function, role)
            named[function] = role["Fn::GetAtt"][0]
    assert named == EXPLICIT_ROLES, "the functions that name their role are fan-out and deliver"
    resources, _, roles = stack()
    for function, role in EXPLICIT_ROLES.items():
        # Beside a Role, SAM drops a function's Policies without a word: none may be left to mislead.
        assert "Policies" not in declared[function]["Properties"], function
        assert declared[role]["Type"] == "AWS::IAM::Role", role
        assert roles[function] == role, (function, roles[function])
        # Deployed as declared: not made, nor added to, by the transform (no lambda:createdBy tag).
        assert resources[role] == json.loads(json.dumps(declared[role])), role
    for function, role in roles.items():
        assert trusts_only_lambda(resources[role]), (function, resources[role]["Properties"]["AssumeRolePolicyDocument"])


def test_no_role_but_the_functions_and_those_listed():
    resources, _, roles = stack()
    others = {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"} - set(roles.values())
    assert others == set(OTHER_ROLES)
    for name, allowed in OTHER_ROLES.items():
        assert atoms(statements_of(resources[name])) <= allowed, name
        assert resources[name]["Properties"].get("ManagedPolicyArns", []) == [], name


@pytest.mark.parametrize("function", sorted(ALLOWED))
def test_each_grant_is_on_the_functions_allow_list(function):
    granted = function_grants()[function]
    beyond = sorted(granted - ALLOWED[function], key=str)
    assert beyond == [], f"{function} holds grants beyond its allow-list: {beyond}"


def test_no_wildcard_resource_or_action():
    for function, granted in function_grants().items():
        for action, resource, _ in granted:
            assert "*" not in action, (function, action)
            if "*" in resource or resource.startswith("{"):
                assert resource in WILDCARD_RESOURCES, (function, action, resource)


def test_who_may_assume_customer_roles_may_not_assume_the_stacks_own():
    resources, _, roles = stack()
    assuming = 0
    for function, role in roles.items():
        statements = statements_of(resources[role])
        if any(action == ASSUME for action, _, _ in atoms(statements)):
            assuming += 1
            assert OWN_ROLES in statements, function
    assert assuming == 3, "deliver, dispatch-blocking and send-test-delivery"


def test_sqs_grants_name_only_the_functions_own_queues():
    resources, _, _ = stack()
    fed_by = {}
    for mapping in resources.values():
        if mapping["Type"] == "AWS::Lambda::EventSourceMapping":
            function = mapping["Properties"]["FunctionName"]["Ref"]
            fed_by.setdefault(function, set()).add(resource_name(mapping["Properties"]["EventSourceArn"]))
    assert fed_by == {"FanOutFunction": {"EventsQueue"}, "DeliverFunction": {"DeliveryQueue"}}
    for function, granted in function_grants().items():
        sqs = [(a, r) for a, r, _ in granted if a.startswith("sqs:")]
        sent = {r for a, r in sqs if a == SEND}
        taken = {r for a, r in sqs if a in TAKE}
        others = [(a, r) for a, r in sqs if a != SEND and a not in TAKE]
        assert others == [], (function, others)
        assert sent <= SENDS_TO.get(function, set()), (function, sent)
        assert taken <= fed_by.get(function, set()), (function, taken)
        # The event source mapping polls with the function's role: it must be able to.
        for queue in fed_by.get(function, ()):
            assert {(a, queue) for a in TAKE} <= set(sqs), (function, queue)


def test_the_delivery_queue_spares_exactly_its_senders_and_its_reader():
    """The queue's own policy refuses everyone but the roles granted each action on it."""
    resources, _, roles = stack()

    def holders(action):
        return {
            roles[function]
            for function, granted in function_grants().items()
            if any((a, r) == (action, "DeliveryQueue") for a, r, _ in granted)
        }

    spared = {}
    for statement in resources["DeliveryQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]:
        assert (statement["Effect"], statement["Principal"]) == ("Deny", "*"), statement
        principals = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        for action in listed(statement["Action"]):
            assert action not in spared, action
            spared[action] = {resource_name(arn) for arn in listed(principals)}
    assert spared == {action: holders(action) for action in (SEND, "sqs:ReceiveMessage", "sqs:DeleteMessage")}


def test_every_table_grant_names_its_partitions():
    for function, granted in function_grants().items():
        for action, resource, condition in granted:
            if not action.startswith("dynamodb:"):
                continue
            assert action in (GET, QUERY, PUT, UPDATE, DELETE, BATCH_GET), (function, action, "no Scan, batch write or PartiQL")
            patterns = condition_of(condition).get(LIKE, {}).get(LEADING_KEYS)
            assert patterns, (function, action, resource, "no dynamodb:LeadingKeys")
            assert set(listed(patterns)) <= PARTITIONS.get(resource, set()), (function, action, resource, patterns)


def test_only_signing_functions_reach_secret_items():
    granted = function_grants()
    reaching = {function for function, g in granted.items() if reaches(g, SECRET_PARTITION)}
    assert not SIGNERS & set(UNFENCED)
    assert reaching - SIGNERS - set(UNFENCED) == set(), "these reach secrets without signing"
    assert set(UNFENCED) - reaching == set(), "fenced now: take them off UNFENCED"
    assert SIGNERS - reaching == set(), "a signer that cannot read its secret"


def test_only_the_authorizer_and_portal_sessions_reach_api_keys():
    reaching = {}
    for function, granted in function_grants().items():
        for grant in granted:
            if reaches({grant}, API_KEY_PARTITION):
                reaching.setdefault(function, set()).add(grant[0])
    # The authorizer reads keys; create-portal-session writes sessions where the authorizer
    # reads them (and could write any key record there: docs/operations.md).
    assert reaching == {"AuthorizerFunction": {GET}, "CreatePortalSessionFunction": {PUT}}
