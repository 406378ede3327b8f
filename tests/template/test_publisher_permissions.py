"""Who may publish, as `template.yaml` resolves `EventPublisherArns`: every principal it lists may
send to the events queue and invoke dispatch-blocking, each with a permission of its own, and a
list longer than the template can grant fails the deployment rather than granting half."""

import pathlib

import pytest
from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).parents[2]
ACCOUNT = "111122223333"
TOO_MANY = "EventPublisherArnsListsMoreThanFive"


def load():
    template, errors = decode(str(ROOT / "template.yaml"))
    assert not errors, errors
    return template


class Stack:
    """The template's conditions and values for one set of parameters: the intrinsic functions
    the publisher grants use, evaluated as CloudFormation would."""

    def __init__(self, template, parameters):
        self.template = template
        self.parameters = parameters
        self.conditions = {}

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.value(self.template["Conditions"][name])
        return self.conditions[name]

    def value(self, node):
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((function, argument),) = node.items()
        if function == "Ref":
            if argument == "AWS::AccountId":
                return ACCOUNT
            return self.parameters[argument]
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(self.value(items))
        if function == "Fn::Split":
            separator, text = argument
            return self.value(text).split(separator)
        if function == "Fn::Select":
            index, items = argument
            items = self.value(items)
            assert int(index) < len(items), f"Fn::Select past the end of {items}: a failed stack"
            return items[int(index)]
        if function == "Fn::Equals":
            left, right = self.value(argument)
            return left == right
        if function == "Fn::Not":
            return not self.value(argument[0])
        if function == "Fn::If":
            name, when_true, when_false = argument
            return self.value(when_true if self.condition(name) else when_false)
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::GetAtt":
            return ".".join(argument) if isinstance(argument, list) else argument
        return node

    def created(self, resource):
        return "Condition" not in resource or self.condition(resource["Condition"])


def publishers(count):
    arns = [f"arn:aws:iam::44445555666{n}:role/publisher" for n in range(count)]
    # A CommaDelimitedList left empty is one empty string.
    return arns, {"EventPublisherArns": arns or [""]}


def invokers(template, stack):
    """Logical id to principal of each dispatch-blocking invoke permission this stack creates."""
    return {
        name: stack.value(resource["Properties"]["Principal"])
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"]["FunctionName"] == {"Fn::GetAtt": ["DispatchBlockingFunction", "Arn"]}
        and stack.created(resource)
    }


def queue_senders(template, stack):
    statements = template["Resources"]["EventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow" and s["Action"] == "sqs:SendMessage"]
    return stack.value(allow["Principal"]["AWS"])


def test_with_no_publishers_the_account_sends_and_invokes():
    template = load()
    _, parameters = publishers(0)
    stack = Stack(template, parameters)
    assert list(invokers(template, stack).values()) == [ACCOUNT]
    assert queue_senders(template, stack) == [ACCOUNT]


@pytest.mark.parametrize("count", [1, 2, 5])
def test_each_listed_publisher_sends_and_invokes(count):
    template = load()
    arns, parameters = publishers(count)
    stack = Stack(template, parameters)
    granted = invokers(template, stack)
    assert sorted(granted.values()) == sorted(arns), "one invoke permission each, no other"
    assert TOO_MANY not in granted
    assert queue_senders(template, stack) == arns


def test_a_sixth_publisher_fails_the_deployment():
    template = load()
    _, parameters = publishers(6)
    stack = Stack(template, parameters)
    granted = invokers(template, stack)
    assert TOO_MANY in granted
    # Lambda's AddPermission takes a principal matching [^\s]+: this one is refused, quoted.
    assert " " in granted[TOO_MANY] and "EventPublisherArns" in granted[TOO_MANY]
