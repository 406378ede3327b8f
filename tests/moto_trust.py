"""moto's STS assumes any role; IAM first evaluates the role's trust policy. This adds the part
of that evaluation this service depends on: a role that exists in moto's IAM and whose trust
policy allows `sts:AssumeRole` only under `StringEquals` on `sts:ExternalId` is refused to a
caller with another external id, or none, as AWS refuses it (AccessDenied). A role moto's IAM
does not hold is assumed as moto always did."""

import json
import urllib.parse

from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend
from moto.utilities.utils import get_partition

assume_role = STSBackend.assume_role


def required_external_ids(document):
    """The external ids a trust policy's Allow statements require, or None if one of them
    allows sts:AssumeRole without that condition."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", [])
    required = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect") != "Allow" or not {"sts:AssumeRole", "sts:*", "*"} & set(actions):
            continue
        ids = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if ids is None:
            return None
        required |= set(ids if isinstance(ids, list) else [ids])
    return required


def assume_role_as_iam_does(self, region_name, role_session_name, role_arn, policy, duration, external_id):
    account = role_arn.split(":")[4]
    roles = [r for r in iam_backends[account][get_partition(region_name)].get_roles() if r.arn == role_arn]
    if roles:
        required = required_external_ids(roles[0].assume_role_policy_document)
        if required is not None and external_id not in required:
            raise STSClientError("AccessDenied", f"User is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
    return assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id)


STSBackend.assume_role = assume_role_as_iam_does
