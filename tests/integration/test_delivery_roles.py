"""Delivery roles (issue 15, item 1) with roles enforced in open mode
(`[auth] enforce_roles = true`): a stream's RoleARN must exist and trust
firehose.amazonaws.com (else CreateDeliveryStream and UpdateDestination answer
InvalidArgumentException as Firehose does), and every object delivery writes
into the embedded store is authorized against the role's policies and the
bucket's policy. A denial is S3.AccessDenied in the stream's error log and in
/metrics, the records are kept, and they are all delivered once the policy is
fixed. Roles and policies are made with the AWS CLI v2, as on AWS.

Each of the seed-001 failure modes these tests reproduce (a role without
s3:PutObject, a bucket policy that denies, a role whose trust no longer names
Firehose, a role without lambda:InvokeFunction, a denied backup bucket) is
checked three ways: its Firehose error code in the error log, the same code in
/metrics (hydrant_delivery_errors_total{error_code}), and every held record
delivered once the cause is fixed."""
import base64
import json
import re

import botocore.exceptions
import pytest

from conftest import (FIREHOSE_TRUST, aws, cli_role, json_lines, lambda_arn, lambda_function_toml,
                      lambda_processing, list_keys, metric, metrics_text, put_role_policy,
                      read_objects, s3_dest, start_with_config, wait_for, write_handlers)

ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::%s:role/delivery" % ACCOUNT
WRITE_LAKE = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation"],
    "Resource": ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*"]}]}
WRITE_LOGS = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "logs:PutLogEvents",
    "Resource": "arn:aws:logs:us-east-1:%s:log-group:/aws/kinesisfirehose/*" % ACCOUNT}]}
DENY_ROLE = {"Version": "2012-10-17", "Statement": [{
    "Sid": "NoDelivery", "Effect": "Deny", "Principal": {"AWS": ROLE},
    "Action": "s3:PutObject", "Resource": "arn:aws:s3:::lake/*"}]}
# A trust policy that lets the account's users in, not Firehose.
USERS_ONLY_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
    "Action": "sts:AssumeRole"}]}


def allow_lambda(*actions):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": list(actions), "Resource": lambda_arn("upper")}]}


UPPER = {"upper.py": '''
import base64
def lambda_handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok",
                         "data": base64.b64encode(base64.b64decode(r["data"]).upper()).decode()}
                        for r in event["records"]]}
'''}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("roles")
    hdir = write_handlers(root / "handlers", UPPER)
    h = start_with_config(root, "[auth]\nenforce_roles = true\n\n[lambda]\n" + lambda_function_toml(
        "upper", runtime="python3", handler=hdir / "upper.py", timeout_seconds=10))
    aws(h, "s3api", "create-bucket", "--bucket", "lake")
    cli_role(h, "delivery", **{"write-lake": WRITE_LAKE, "write-logs": WRITE_LOGS})
    yield h
    h.stop()


def create(h, name, role=ROLE, **dest):
    dest.setdefault("BufferingHints", {"SizeInMBs": 1, "IntervalInSeconds": 1})
    dest.setdefault("CloudWatchLoggingOptions", {
        "Enabled": True, "LogGroupName": "/aws/kinesisfirehose/" + name,
        "LogStreamName": "DestinationDelivery"})
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_dest(
            "lake", RoleARN=role, Prefix=name + "/", **dest))


def put(h, name, records):
    r = h.client("firehose").put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": d} for d in records])
    assert r["FailedPutCount"] == 0


def delivered(h, name):
    return b"".join(read_objects(h.client("s3"), "lake", name + "/").values())


def error_codes(h, name, log_stream=None):
    """The stream's error events ([] until its log group exists), of one log stream
    (DestinationDelivery, BackupDelivery) or all."""
    args = ["--log-stream-names", log_stream] if log_stream else []
    p = aws(h, "logs", "filter-log-events", "--log-group-name", "/aws/kinesisfirehose/" + name,
            *args, check=False)
    if p.returncode != 0:
        assert "ResourceNotFoundException" in p.stderr, p.stderr
        return []
    return [json.loads(e["message"]) for e in json.loads(p.stdout).get("events", [])]


def events_of(h, name, code, log_stream=None, timeout=30):
    """Waits for the stream's error events with errorCode `code`."""
    return wait_for(lambda: [e for e in error_codes(h, name, log_stream) if e["errorCode"] == code],
                    timeout=timeout, what="a %s error event of %s" % (code, name))


def counted_codes(h, name):
    """{error code: count} of hydrant_delivery_errors_total for the stream at /metrics."""
    pattern = r'^hydrant_delivery_errors_total\{delivery_stream="%s",error_code="([^"]*)"\} (\S+)$'
    return {code: float(n) for code, n in re.findall(pattern % re.escape(name), metrics_text(h), re.M)}


def invoke_access_denied(h, prefix):
    """The first processing-failed record under prefix, checked to be Firehose's
    Lambda.InvokeAccessDenied with its text."""
    failed = wait_for(lambda: json_lines(h.client("s3"), "lake", prefix), timeout=30,
                      what="a processing-failed record")[0]
    assert failed["errorCode"] == "Lambda.InvokeAccessDenied", failed
    assert failed["errorMessage"].startswith(
        "Access was denied. Ensure that the access policy allows access to the Lambda function."), failed
    return failed


def test_a_role_firehose_cannot_assume_is_refused_at_create_and_update(server):
    h = server
    fh = h.client("firehose", validate=False)
    for role, why in (("arn:aws:iam::%s:role/missing" % ACCOUNT, "no such role"),
                      ("arn:aws:iam::%s:role/users-only" % ACCOUNT, "trust without Firehose")):
        if why == "trust without Firehose":
            cli_role(h, "users-only", trust=USERS_ONLY_TRUST)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            create(h, "refused", role=role)
        err = e.value.response["Error"]
        assert err["Code"] == "InvalidArgumentException", (why, err)
        assert err["Message"] == ("Firehose is unable to assume role %s. Please check the role "
                                  "provided." % role), why
    assert "refused" not in fh.list_delivery_streams()["DeliveryStreamNames"]
    # A processor's RoleArn is a role Firehose assumes too.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(h, "refused", ProcessingConfiguration={"Enabled": True, "Processors": [{
            "Type": "AppendDelimiterToRecord", "Parameters": [
                {"ParameterName": "RoleArn", "ParameterValue": "arn:aws:iam::%s:role/gone" % ACCOUNT}]}]})
    assert "role/gone" in e.value.response["Error"]["Message"]

    create(h, "updated")
    d = fh.describe_delivery_stream(DeliveryStreamName="updated")["DeliveryStreamDescription"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.update_destination(DeliveryStreamName="updated", CurrentDeliveryStreamVersionId=d["VersionId"],
                              DestinationId=d["Destinations"][0]["DestinationId"],
                              ExtendedS3DestinationUpdate={"RoleARN": "arn:aws:iam::%s:role/missing" % ACCOUNT})
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    d2 = fh.describe_delivery_stream(DeliveryStreamName="updated")["DeliveryStreamDescription"]
    assert d2["VersionId"] == d["VersionId"]


def test_a_bucket_policy_deny_holds_delivery_until_it_is_removed(server):
    h = server
    create(h, "denied")
    put(h, "denied", [b"before\n"])
    wait_for(lambda: delivered(h, "denied") == b"before\n", what="delivery with the role")

    aws(h, "s3api", "put-bucket-policy", "--bucket", "lake", "--policy", json.dumps(DENY_ROLE))
    put(h, "denied", [b"held-%d\n" % i for i in range(5)])
    events = wait_for(lambda: [e for e in error_codes(h, "denied") if e["errorCode"] == "S3.AccessDenied"],
                      timeout=30, what="an S3.AccessDenied error event")
    msg = events[0]["message"]
    assert msg.startswith("Access was denied. Ensure that the trust policy for the provided IAM role "
                          "allows Firehose to assume the role"), msg
    assert "assumed-role/delivery/firehose" in msg and "explicit deny in a resource-based policy" in msg, msg
    assert metric(h, "hydrant_delivery_failures_total", "denied") >= 1
    codes = counted_codes(h, "denied")
    assert set(codes) == {"S3.AccessDenied"} and codes["S3.AccessDenied"] >= 1, codes
    assert delivered(h, "denied") == b"before\n"  # nothing more got through

    aws(h, "s3api", "delete-bucket-policy", "--bucket", "lake")
    want = b"before\n" + b"".join(b"held-%d\n" % i for i in range(5))
    wait_for(lambda: delivered(h, "denied") == want, timeout=40, what="the held records")


def test_a_role_without_the_permission_fails_until_it_gets_it(server):
    h = server
    create(h, "unpermitted")
    aws(h, "iam", "delete-role-policy", "--role-name", "delivery", "--policy-name", "write-lake")
    try:
        put(h, "unpermitted", [b"a\n", b"b\n"])
        events = wait_for(lambda: [e for e in error_codes(h, "unpermitted")
                                   if e["errorCode"] == "S3.AccessDenied"],
                          timeout=30, what="S3.AccessDenied without a role policy")
        assert "no identity-based policy allows the s3:PutObject action" in events[0]["message"]
        codes = counted_codes(h, "unpermitted")
        assert set(codes) == {"S3.AccessDenied"} and codes["S3.AccessDenied"] >= 1, codes
        assert not list_keys(h.client("s3"), "lake", "unpermitted/")
    finally:
        put_role_policy(h, "delivery", "write-lake", WRITE_LAKE)
    wait_for(lambda: delivered(h, "unpermitted") == b"a\nb\n", timeout=40, what="delivery once allowed")


def test_a_role_whose_trust_no_longer_names_firehose_holds_delivery_until_restored(server):
    """The role is assumed again for every delivery: a trust changed after the
    stream was created (`aws iam update-assume-role-policy`), or the role deleted,
    fails delivery with S3.AccessDenied (Firehose's text names the trust policy)
    until it is restored."""
    h = server
    role = cli_role(h, "fickle", **{"write-lake": WRITE_LAKE, "write-logs": WRITE_LOGS})
    create(h, "fickle", role=role)
    put(h, "fickle", [b"trusted\n"])
    wait_for(lambda: delivered(h, "fickle") == b"trusted\n", what="delivery while trusted")

    aws(h, "iam", "update-assume-role-policy", "--role-name", "fickle", "--policy-document",
        json.dumps(USERS_ONLY_TRUST))
    held = [b"held-%d\n" % i for i in range(4)]
    put(h, "fickle", held)
    codes = wait_for(lambda: counted_codes(h, "fickle"), timeout=30, what="a counted delivery error")
    assert set(codes) == {"S3.AccessDenied"}, codes
    # The server's log has the failure with Firehose's code and the reason...
    failed = wait_for(lambda: [l for l in h.log().splitlines()
                               if "stream=fickle event=destination_failed errorCode=S3.AccessDenied" in l],
                      timeout=10, what="the failure on the server's log")
    assert ("Ensure that the trust policy for the provided IAM role allows Firehose to assume the role"
            in failed[0]), failed[0]
    assert ("The trust policy of %s does not let firehose.amazonaws.com assume it" % role) in failed[0]
    # ... and so has the error log: Firehose documents this message among its
    # error-log events (docs/security.md, "Error logs").
    event = events_of(h, "fickle", "S3.AccessDenied")[0]
    assert "allows Firehose to assume the role" in event["message"], event
    assert "stream=fickle errorCode=S3.AccessDenied event=error_log_write_failed" not in h.log()
    assert delivered(h, "fickle") == b"trusted\n"  # nothing more got through

    aws(h, "iam", "update-assume-role-policy", "--role-name", "fickle", "--policy-document",
        json.dumps(FIREHOSE_TRUST))
    want = b"trusted\n" + b"".join(held)
    wait_for(lambda: delivered(h, "fickle") == want, timeout=40,
             what="the held records once Firehose is trusted again")

    # A role deleted after the stream was created: the same code, the reason says so,
    # and a role made again under the name delivers what waited.
    for policy in ("write-lake", "write-logs"):
        aws(h, "iam", "delete-role-policy", "--role-name", "fickle", "--policy-name", policy)
    aws(h, "iam", "delete-role", "--role-name", "fickle")
    before = counted_codes(h, "fickle")["S3.AccessDenied"]
    put(h, "fickle", [b"orphan\n"])
    wait_for(lambda: "The role %s cannot be found." % role in h.log(), timeout=30,
             what="the failure for the deleted role on the server's log")
    codes = wait_for(lambda: counted_codes(h, "fickle")["S3.AccessDenied"] > before and
                     counted_codes(h, "fickle"), timeout=10, what="the failure counted")
    assert set(codes) == {"S3.AccessDenied"}, codes
    assert delivered(h, "fickle") == want
    cli_role(h, "fickle", **{"write-lake": WRITE_LAKE, "write-logs": WRITE_LOGS})
    wait_for(lambda: delivered(h, "fickle") == want + b"orphan\n", timeout=40,
             what="the held record once the role exists again")


def test_a_denied_backup_bucket_fails_the_backup_until_allowed(server):
    """S3BackupMode Enabled: a bucket policy that denies the backup's role on the
    backup bucket fails the source-record backup (S3.AccessDenied in the
    BackupDelivery log stream and in /metrics) while the destination is
    delivered; every record is backed up once the policy is removed."""
    h = server
    aws(h, "s3api", "create-bucket", "--bucket", "vault")
    write_both = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation"],
        "Resource": ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*", "arn:aws:s3:::vault",
                     "arn:aws:s3:::vault/*"]}]}
    role = cli_role(h, "backer", **{"write": write_both, "write-logs": WRITE_LOGS})
    deny_vault = {"Version": "2012-10-17", "Statement": [{
        "Sid": "NoBackup", "Effect": "Deny", "Principal": {"AWS": role},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::vault/*"}]}
    aws(h, "s3api", "put-bucket-policy", "--bucket", "vault", "--policy", json.dumps(deny_vault))
    create(h, "backed", role=role, S3BackupMode="Enabled", S3BackupConfiguration=s3_dest(
        "vault", RoleARN=role, Prefix="backed/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1},
        CloudWatchLoggingOptions={"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/backed",
                                  "LogStreamName": "BackupDelivery"}))
    records = [b"kept-%d\n" % i for i in range(5)]
    put(h, "backed", records)
    wait_for(lambda: delivered(h, "backed") == b"".join(records), timeout=30,
             what="the destination, which the deny does not touch")
    events = events_of(h, "backed", "S3.AccessDenied", log_stream="BackupDelivery")
    assert events[0]["destination"] == "arn:aws:s3:::vault", events[0]
    assert "assumed-role/backer/firehose" in events[0]["message"], events[0]
    assert "explicit deny in a resource-based policy" in events[0]["message"], events[0]
    assert error_codes(h, "backed", "DestinationDelivery") == []
    codes = counted_codes(h, "backed")
    assert set(codes) == {"S3.AccessDenied"} and codes["S3.AccessDenied"] >= 1, codes
    assert not list_keys(h.client("s3"), "vault", "backed/")

    aws(h, "s3api", "delete-bucket-policy", "--bucket", "vault")
    wait_for(lambda: b"".join(read_objects(h.client("s3"), "vault", "backed/").values()) ==
             b"".join(records), timeout=40, what="every record backed up once allowed")
    assert delivered(h, "backed") == b"".join(records)  # delivered once, not again


def test_a_role_that_may_not_invoke_the_function_fails_processing(server):
    h = server
    create(h, "lambda", ErrorOutputPrefix="lambda-failed/",
           ProcessingConfiguration=lambda_processing(lambda_arn("upper")))
    put(h, "lambda", [b"one\n", b"uno\n"])
    assert "lambda:InvokeFunction" in invoke_access_denied(h, "lambda-failed/")["errorMessage"]
    # Both records in processing-failed/, as Firehose writes them: the original data.
    failed = wait_for(lambda: len(json_lines(h.client("s3"), "lake", "lambda-failed/")) == 2 and
                      json_lines(h.client("s3"), "lake", "lambda-failed/"), timeout=30,
                      what="both processing-failed records")
    assert sorted(base64.b64decode(f["rawData"]) for f in failed) == [b"one\n", b"uno\n"], failed
    assert {f["errorCode"] for f in failed} == {"Lambda.InvokeAccessDenied"}, failed
    # One error-log event per failed record, naming the function, and one count each.
    events = events_of(h, "lambda", "Lambda.InvokeAccessDenied")
    assert "lambda:InvokeFunction" in events[0]["message"], events[0]
    assert events[0].get("processor") == lambda_arn("upper"), events[0]
    assert counted_codes(h, "lambda") == {"Lambda.InvokeAccessDenied": 2}
    assert delivered(h, "lambda") == b""  # nothing untransformed got through

    put_role_policy(h, "delivery", "invoke", allow_lambda("lambda:InvokeFunction",
                                                          "lambda:GetFunctionConfiguration"))
    put(h, "lambda", [b"two\n"])
    wait_for(lambda: delivered(h, "lambda") == b"TWO\n", timeout=30, what="the transformed record")
    assert counted_codes(h, "lambda") == {"Lambda.InvokeAccessDenied": 2}  # no new failure


def test_a_role_that_may_invoke_but_not_read_the_configuration_fails_processing(server):
    """Firehose's documented role policy grants lambda:GetFunctionConfiguration
    with lambda:InvokeFunction; delivery checks both, and a role without the
    first fails as one without the second (docs/security.md, "Delivery roles")."""
    h = server
    role = cli_role(h, "invoke-only", **{"write-lake": WRITE_LAKE, "write-logs": WRITE_LOGS,
                                         "invoke": allow_lambda("lambda:InvokeFunction")})
    create(h, "noconfig", role=role, ErrorOutputPrefix="noconfig-failed/",
           ProcessingConfiguration=lambda_processing(lambda_arn("upper")))
    put(h, "noconfig", [b"three\n"])
    failed = invoke_access_denied(h, "noconfig-failed/")
    assert ("not authorized to perform: lambda:GetFunctionConfiguration on resource: %s"
            % lambda_arn("upper")) in failed["errorMessage"], failed
    assert base64.b64decode(failed["rawData"]) == b"three\n", failed
    events = wait_for(lambda: [e for e in error_codes(h, "noconfig")
                               if e["errorCode"] == "Lambda.InvokeAccessDenied"],
                      timeout=30, what="a Lambda.InvokeAccessDenied error event")
    assert "lambda:GetFunctionConfiguration" in events[0]["message"], events[0]
    assert events[0].get("processor") == lambda_arn("upper"), events[0]
    assert counted_codes(h, "noconfig") == {"Lambda.InvokeAccessDenied": 1}
    assert delivered(h, "noconfig") == b""  # nothing untransformed got through

    put_role_policy(h, "invoke-only", "config", allow_lambda("lambda:GetFunctionConfiguration"))
    put(h, "noconfig", [b"four\n"])
    wait_for(lambda: delivered(h, "noconfig") == b"FOUR\n", timeout=30, what="the transformed record")


def test_a_role_without_logs_permission_loses_its_error_events(server):
    h = server
    mute = cli_role(h, "mute", **{"list-only": {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::lake"}]}})
    create(h, "mute", role=mute)
    put(h, "mute", [b"lost-log\n"])
    # Delivery fails (no s3:PutObject) and the event cannot be written (no
    # logs:PutLogEvents): the server's log says both.
    wait_for(lambda: "stream=mute errorCode=S3.AccessDenied event=error_log_write_failed" in h.log(),
             timeout=30, what="the refused error event on the server log")
    assert "logs:PutLogEvents" in h.log()
    assert error_codes(h, "mute") == []


def test_without_enforcement_any_role_arn_is_accepted(tmp_path):
    with start_with_config(tmp_path, "") as h:
        h.client("s3").create_bucket(Bucket="lake")
        create(h, "free", role="arn:aws:iam::%s:role/never-created" % ACCOUNT)
        put(h, "free", [b"x\n"])
        wait_for(lambda: delivered(h, "free") == b"x\n", what="delivery without roles")
