"""template.yaml as the template tests read it: cfn-lint's decoder, which knows CloudFormation's
tags (`!Ref`, `!GetAtt`, `!Sub`, ...) and gives them in their long form (`{"Ref": ...}`), and the
same template through the SAM transform, offline, as CloudFormation would deploy it."""

import functools
import json
import pathlib

import boto3
from cfnlint.decode import decode
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

ROOT = pathlib.Path(__file__).parents[2]


def load():
    template, errors = decode(str(ROOT / "template.yaml"))
    assert not errors, errors
    return template


@functools.cache
def _transformed(region):
    # Plain JSON values for the translator, which changes what it is given.
    template = json.loads(json.dumps(load()))
    # `sam package` leaves an S3 location where the template says `.`; the transform wants one.
    template["Globals"]["Function"]["CodeUri"] = "s3://bucket/key"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in resource["Properties"]:
            resource["Properties"]["CodeUri"] = "s3://bucket/key"
    # A region for the transform's pseudo parameters and its partition (which managed policy ARNs
    # SAM writes on the roles it generates); nothing calls AWS.
    session = boto3.session.Session(region_name=region)
    translator = Translator(None, Parser(), boto_session=session)
    return json.dumps(translator.translate(template, parameter_values={}, get_managed_policy_map=dict))


def deployed(region="us-east-1"):
    """The template after the SAM transform: the roles, policies and event source mappings SAM
    generates, as CloudFormation receives them in `region`. A function's role is the one its
    `Role` names (`Fn::GetAtt` of an `AWS::IAM::Role` declared in template.yaml), or else the
    one SAM generates from its `Policies`; either way, `Role` on the transformed function."""
    return json.loads(_transformed(region))
