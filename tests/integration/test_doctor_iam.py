"""`hydrant doctor`'s static IAM checks (issue 15, item 5), with delivery roles
enforced in open mode (`[auth] enforce_roles = true`): each IAM failure of seed 001
is set up with the AWS CLI v2 alone (a role without s3:PutObject, a bucket policy
with an explicit Deny, a trust policy without Firehose, a role without
lambda:InvokeFunction or lambda:GetFunctionConfiguration, a disabled KMS key), the
doctor's failing line names the cause (and the denying statement and policy),
--json carries it under the check's id, and the check passes once it is fixed. The
checks read the policies: no record has to be sent first. The stream-encryption
check does the same for the key of the stream's encryption at rest (a disabled
CUSTOMER_MANAGED_CMK holds puts and delivery; a failed
StartDeliveryStreamEncryption is a warning)."""
import base64
import json
import subprocess

import pytest

from conftest import (FIREHOSE_TRUST, HYDRANT, aws, cli_role, lambda_arn, lambda_function_toml,
                      lambda_processing, put_role_policy, s3_dest, start_with_config,
                      write_handlers)

ACCOUNT = "000000000000"
USERS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
    "Action": "sts:AssumeRole"}]}


def allow(actions, resources):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": actions, "Resource": resources}]}


S3_ALL = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket"]

ECHO = {"echo.py": '''
def lambda_handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
                        for r in event["records"]]}
'''}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("doctor-iam")
    hdir = write_handlers(root / "handlers", ECHO)
    h = start_with_config(root, "[auth]\nenforce_roles = true\n\n[lambda]\n" + lambda_function_toml(
        "echo", runtime="python3", handler=hdir / "echo.py", timeout_seconds=10))
    yield h
    h.stop()


def bucket_rw(bucket):
    return allow(S3_ALL, ["arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"])


def stream(h, name, bucket, role_arn, **dest):
    aws(h, "s3api", "create-bucket", "--bucket", bucket)
    dest.setdefault("BufferingHints", {"SizeInMBs": 1, "IntervalInSeconds": 60})
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_dest(
            bucket, RoleARN=role_arn, **dest))


def doctor(h, name):
    """(exit code, text report, {check id: check} of the --json report)."""
    text = subprocess.run([HYDRANT, "doctor", name, "--endpoint", h.endpoint],
                          capture_output=True, text=True, timeout=90)
    js = subprocess.run([HYDRANT, "doctor", name, "--endpoint", h.endpoint, "--json"],
                        capture_output=True, text=True, timeout=90)
    assert text.returncode in (0, 1), text.stderr
    assert js.returncode == text.returncode, js.stderr
    return text.returncode, text.stdout, {c["id"]: c for c in json.loads(js.stdout)["checks"]}


def line_of(text, name):
    for line in text.splitlines():
        if line[6:].startswith(name + " "):
            return line
    raise AssertionError("no line for %r in:\n%s" % (name, text))


def failing(h, name, check_name):
    """The doctor's FAIL line for check_name (the run must fail), and the --json checks."""
    rc, text, checks = doctor(h, name)
    assert rc == 1, text
    line = line_of(text, check_name)
    assert line.startswith("FAIL"), line
    return line, checks


def test_a_role_without_put_object_fails_until_granted(server):
    h = server
    arn = cli_role(h, "no-put", list=allow("s3:ListBucket", "arn:aws:s3:::no-put-b"))
    stream(h, "no-put", "no-put-b", arn)
    line, checks = failing(h, "no-put", "role permissions")
    assert ("missing: s3:PutObject on arn:aws:s3:::no-put-b/object (destination bucket "
            "s3://no-put-b, role %s): no policy of the role allows it" % arn) in line, line
    c = checks["role-permissions"]
    assert c["status"] == "failed" and c["errorCode"] == "S3.AccessDenied", c
    assert "s3:PutObject" in c["evidence"] and "put-role-policy" in c["fix"], c
    assert checks["role-trust"]["status"] == "passed", checks["role-trust"]

    put_role_policy(h, "no-put", "rw", bucket_rw("no-put-b"))
    _, text, checks = doctor(h, "no-put")
    assert checks["role-permissions"]["status"] == "passed", checks["role-permissions"]
    assert line_of(text, "role permissions").startswith("PASS")


def test_a_bucket_policy_deny_names_its_statement_and_the_bucket_policy(server):
    h = server
    arn = cli_role(h, "denied", rw=bucket_rw("denied-b"))
    stream(h, "denied", "denied-b", arn)
    deny = {"Version": "2012-10-17", "Statement": [{
        "Sid": "NoFirehose", "Effect": "Deny", "Principal": {"AWS": arn},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::denied-b/*"}]}
    aws(h, "s3api", "put-bucket-policy", "--bucket", "denied-b", "--policy", json.dumps(deny))
    line, checks = failing(h, "denied", "role permissions")
    assert ('s3:PutObject on arn:aws:s3:::denied-b/object (destination bucket s3://denied-b, '
            'role %s): denied explicitly by statement "NoFirehose" (#1) {' % arn) in line, line
    assert "of bucket policy of denied-b; document: " in line, line
    assert '"Sid":"NoFirehose"' in checks["role-permissions"]["evidence"]

    aws(h, "s3api", "delete-bucket-policy", "--bucket", "denied-b")
    _, _, checks = doctor(h, "denied")
    assert checks["role-permissions"]["status"] == "passed", checks["role-permissions"]


def test_a_trust_policy_without_firehose_fails_role_trust(server):
    h = server
    arn = cli_role(h, "untrusted", rw=bucket_rw("untrusted-b"))
    stream(h, "untrusted", "untrusted-b", arn)
    # The stream was created with a good role; its trust changes afterwards.
    aws(h, "iam", "update-assume-role-policy", "--role-name", "untrusted", "--policy-document",
        json.dumps(USERS_TRUST))
    line, checks = failing(h, "untrusted", "role trust")
    assert ("%s: its trust policy has no statement allowing sts:AssumeRole to "
            '{"Service": "firehose.amazonaws.com"}' % arn) in line, line
    assert "update-assume-role-policy" in checks["role-trust"]["fix"]

    aws(h, "iam", "update-assume-role-policy", "--role-name", "untrusted", "--policy-document",
        json.dumps(FIREHOSE_TRUST))
    _, text, checks = doctor(h, "untrusted")
    assert checks["role-trust"]["status"] == "passed", checks["role-trust"]
    assert line_of(text, "role trust").startswith("PASS")


def test_a_role_without_invoke_function_fails_for_the_lambda_processor(server):
    h = server
    arn = cli_role(h, "no-invoke", rw=bucket_rw("no-invoke-b"))
    stream(h, "no-invoke", "no-invoke-b", arn,
           ProcessingConfiguration=lambda_processing(lambda_arn("echo")))
    line, checks = failing(h, "no-invoke", "role permissions")
    assert ("lambda:InvokeFunction on %s (Lambda processor %s, role %s)"
            % (lambda_arn("echo"), lambda_arn("echo"), arn)) in line, line
    assert checks["role-permissions"]["errorCode"] == "Lambda.InvokeAccessDenied"

    # Delivery needs lambda:GetFunctionConfiguration as well (test_delivery_roles.py):
    # without it the doctor fails with the code delivery reports.
    put_role_policy(h, "no-invoke", "invoke", allow("lambda:InvokeFunction", lambda_arn("echo")))
    line, checks = failing(h, "no-invoke", "role permissions")
    assert ("lambda:GetFunctionConfiguration on %s (Lambda processor %s, role %s)"
            % (lambda_arn("echo"), lambda_arn("echo"), arn)) in line, line
    assert "lambda:InvokeFunction on" not in line, line
    assert checks["role-permissions"]["errorCode"] == "Lambda.InvokeAccessDenied"
    put_role_policy(h, "no-invoke", "config", allow("lambda:GetFunctionConfiguration", lambda_arn("echo")))
    _, _, checks = doctor(h, "no-invoke")
    assert checks["role-permissions"]["status"] == "passed", checks["role-permissions"]


def test_a_disabled_kms_key_fails_until_enabled(server):
    h = server
    key = json.loads(aws(h, "kms", "create-key", "--description", "doctor").stdout)["KeyMetadata"]
    arn = cli_role(h, "kms-user", rw=bucket_rw("kms-b"),
               kms=allow(["kms:GenerateDataKey", "kms:Decrypt"], key["Arn"]))
    stream(h, "kms", "kms-b", arn,
           EncryptionConfiguration={"KMSEncryptionConfig": {"AWSKMSKeyARN": key["Arn"]}})
    aws(h, "kms", "disable-key", "--key-id", key["KeyId"])
    line, checks = failing(h, "kms", "SSE-KMS key")
    assert "key %s is Disabled" % key["Arn"] in line, line
    c = checks["kms-key"]
    assert c["status"] == "failed" and c["errorCode"] == "S3.KMS.DisabledException", c
    assert "enable-key --key-id " + key["KeyId"] in c["fix"], c

    aws(h, "kms", "enable-key", "--key-id", key["KeyId"])
    _, _, checks = doctor(h, "kms")
    c = checks["kms-key"]
    assert c["status"] == "passed", c
    assert "may kms:GenerateDataKey and kms:Decrypt" in c["evidence"], c


def test_a_disabled_key_of_the_streams_encryption_at_rest_fails_until_enabled(server):
    h = server
    cli = lambda *a, **kw: json.loads(aws(h, *a, **kw).stdout or "{}")
    key = cli("kms", "create-key", "--description", "at rest")["KeyMetadata"]
    arn = cli_role(h, "at-rest", rw=bucket_rw("at-rest-b"))
    aws(h, "s3api", "create-bucket", "--bucket", "at-rest-b")
    aws(h, "firehose", "create-delivery-stream", "--delivery-stream-name", "at-rest",
        "--extended-s3-destination-configuration", json.dumps({
            "RoleARN": arn, "BucketARN": "arn:aws:s3:::at-rest-b",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}}))
    aws(h, "firehose", "start-delivery-stream-encryption", "--delivery-stream-name", "at-rest",
        "--delivery-stream-encryption-configuration-input",
        "KeyType=CUSTOMER_MANAGED_CMK,KeyARN=" + key["Arn"])
    record = json.dumps({"Data": base64.b64encode(b"secret?").decode()})

    def put(check=True):
        return aws(h, "firehose", "put-record", "--delivery-stream-name", "at-rest",
                   "--record", record, check=check)

    assert json.loads(put().stdout)["Encrypted"] is True
    _, _, checks = doctor(h, "at-rest")
    assert checks["stream-encryption"]["status"] == "passed", checks["stream-encryption"]

    aws(h, "kms", "disable-key", "--key-id", key["KeyId"])
    p = put(check=False)
    assert p.returncode != 0 and "InvalidKMSResourceException" in p.stderr, p.stderr
    line, checks = failing(h, "at-rest", "stream encryption")
    assert ("key %s of the stream's encryption at rest (CUSTOMER_MANAGED_CMK) is Disabled"
            % key["Arn"]) in line, line
    assert ("puts fail with InvalidKMSResourceException and buffered records are not "
            "delivered") in line, line
    assert "fix: enable the key: aws kms enable-key --key-id " + key["KeyId"] in line, line
    c = checks["stream-encryption"]
    assert c["status"] == "failed" and c["errorCode"] == "KMS.DisabledException", c
    assert "aws kms enable-key --key-id " + key["KeyId"] in c["fix"], c

    aws(h, "kms", "enable-key", "--key-id", key["KeyId"])
    assert json.loads(put().stdout)["Encrypted"] is True  # puts are accepted again
    rc, text, checks = doctor(h, "at-rest")
    assert rc == 0, text
    assert line_of(text, "stream encryption").startswith("PASS"), text
    assert "which is Enabled" in checks["stream-encryption"]["evidence"]

    # A Start with a disabled key fails (ENABLING_FAILED): a warning, and the
    # earlier key still encrypts.
    bad = cli("kms", "create-key", "--description", "disabled")["KeyMetadata"]
    aws(h, "kms", "disable-key", "--key-id", bad["KeyId"])
    aws(h, "firehose", "start-delivery-stream-encryption", "--delivery-stream-name", "at-rest",
        "--delivery-stream-encryption-configuration-input",
        "KeyType=CUSTOMER_MANAGED_CMK,KeyARN=" + bad["Arn"])
    enc = cli("firehose", "describe-delivery-stream", "--delivery-stream-name", "at-rest")[
        "DeliveryStreamDescription"]["DeliveryStreamEncryptionConfiguration"]
    assert enc["Status"] == "ENABLING_FAILED", enc
    rc, text, checks = doctor(h, "at-rest")
    assert rc == 0, text
    line = line_of(text, "stream encryption")
    assert line.startswith("WARN"), line
    assert ("the last StartDeliveryStreamEncryption failed: %s: %s; encryption stays as it was"
            % (enc["FailureDescription"]["Type"], enc["FailureDescription"]["Details"])) in line, line
    assert key["Arn"] + " (CUSTOMER_MANAGED_CMK), which is Enabled" in line, line
    assert checks["stream-encryption"]["status"] == "warning", checks["stream-encryption"]


def test_without_enforced_roles_the_role_checks_are_not_applicable(tmp_path):
    h = start_with_config(tmp_path, "")
    try:
        stream(h, "open", "open-b", "arn:aws:iam::%s:role/anything" % ACCOUNT)
        _, _, checks = doctor(h, "open")
        assert checks["role-trust"]["status"] == "not_applicable", checks["role-trust"]
        assert checks["role-permissions"]["status"] == "not_applicable"
    finally:
        h.stop()
