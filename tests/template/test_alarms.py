"""Alarms that reach someone: the topic every alarm notifies is one CloudWatch may publish to,
and the sweeper runs as often as its not-running alarm expects."""

import re

from template_loader import load


def resources():
    return load()["Resources"]


def test_every_alarm_notifies_a_topic_cloudwatch_may_publish_to():
    # CloudWatch publishes to an encrypted topic only with the key's leave: the AWS-managed
    # aws/sns key's policy cannot give it, and every notification would be dropped unheard.
    stack = resources()
    key = stack["AlarmTopic"]["Properties"]["KmsMasterKeyId"]
    assert isinstance(key, dict) and set(key) == {"Ref"}, f"a key of the stack's own, not {key}"
    assert stack[key["Ref"]]["Type"] == "AWS::KMS::Key"
    granted = set()
    for statement in stack[key["Ref"]]["Properties"]["KeyPolicy"]["Statement"]:
        if statement["Effect"] == "Allow" and statement["Principal"].get("Service") == "cloudwatch.amazonaws.com":
            actions = statement["Action"]
            granted |= set(actions if isinstance(actions, list) else [actions])
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= granted, granted

    alarms = {name: r for name, r in stack.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def test_the_sweep_runs_as_often_as_its_alarm_expects():
    schedule = load()["Parameters"]["SweepSchedule"]
    allowed = re.compile(schedule["AllowedPattern"])
    assert resources()["SweepNotRunningAlarm"]["Properties"]["Period"] == 1800
    assert allowed.fullmatch(schedule["Default"])
    for every_half_hour_or_less in ["rate(1 minute)", "rate(30 minutes)"]:
        assert allowed.fullmatch(every_half_hour_or_less)
    for too_seldom_or_malformed in ["rate(31 minutes)", "rate(1 hour)", "cron(0 * * * ? *)", "rate(2 minute)"]:
        assert not allowed.fullmatch(too_seldom_or_malformed), too_seldom_or_malformed
