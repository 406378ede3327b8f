"""Who may publish, as `template.yaml` resolves `EventPublisherArns`: every principal it lists may
send to the events queue and invoke dispatch-blocking, each with a permission of its own, and
nobody else; an empty list lets nobody (not this account's principals either); a list longer than
the template can grant fails the deployment rather than granting half."""

import pytest
from template_loader import load

ACCOUNT = "111122223333"
TOO_MANY = "EventPublisherArnsListsMoreThanFive"
# What `!Ref AWS::NoValue` leaves: the property, or the list item, is not there.
NO_VALUE = object()
# The intrinsic functions `Stack.value` evaluates; any other mapping is a plain value.
INTRINSICS = {
    "Ref", "Fn::Join", "Fn::Split", "Fn::Select", "Fn::Equals", "Fn::Not", "Fn::If", "Condition", "Fn::GetAtt",
}


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
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or next(iter(node)) not in INTRINSICS:
            return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}
        ((function, argument),) = node.items()
        if function == "Ref":
            if argument == "AWS::AccountId":
                return ACCOUNT
            if argument == "AWS::NoValue":
                return NO_VALUE
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


def queue_statements(template, stack):
    policy = template["Resources"]["EventsQueuePolicy"]["Properties"]["PolicyDocument"]
    return stack.value(policy["Statement"])


def queue_senders(statements):
    """The principals the events queue's policy allows to send."""
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert all(s["Action"] == "sqs:SendMessage" for s in allowed), allowed
    principals = [s["Principal"]["AWS"] for s in allowed]
    return [arn for p in principals for arn in ([p] if isinstance(p, str) else p)]


def deny_to_others(statements):
    """The deny of sending to all principals: the principals it spares, or None if it spares none."""
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert (deny["Principal"], deny["Action"]) == ("*", "sqs:SendMessage"), deny
    if "Condition" not in deny:
        return None
    assert list(deny["Condition"]) == ["ArnNotLike"], deny
    assert list(deny["Condition"]["ArnNotLike"]) == ["aws:PrincipalArn"], deny
    return deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]


def test_with_no_publishers_nobody_sends_or_invokes():
    template = load()
    _, parameters = publishers(0)
    stack = Stack(template, parameters)
    assert invokers(template, stack) == {}, "dispatch-blocking has no resource policy"
    statements = queue_statements(template, stack)
    assert queue_senders(statements) == [], "the queue's policy allows nobody, not this account"
    assert deny_to_others(statements) is None, "and denies sending to everyone, without exception"


@pytest.mark.parametrize("count", [1, 2, 5])
def test_each_listed_publisher_sends_and_invokes(count):
    template = load()
    arns, parameters = publishers(count)
    stack = Stack(template, parameters)
    granted = invokers(template, stack)
    assert sorted(granted.values()) == sorted(arns), "one invoke permission each, no other"
    assert TOO_MANY not in granted
    assert ACCOUNT not in granted.values()
    statements = queue_statements(template, stack)
    assert queue_senders(statements) == arns
    assert deny_to_others(statements) == arns, "every other principal is refused"


def test_a_sixth_publisher_fails_the_deployment():
    template = load()
    _, parameters = publishers(6)
    stack = Stack(template, parameters)
    granted = invokers(template, stack)
    assert TOO_MANY in granted
    # Lambda's AddPermission takes a principal matching [^\s]+: this one is refused, quoted.
    assert " " in granted[TOO_MANY] and "EventPublisherArns" in granted[TOO_MANY]
