"""Issue 14's end-to-end flow in sigv4 mode, with the AWS CLI and boto3 as a
newcomer would use them (README, "Running hydrant on a network"): the root key
from the config creates a user with `aws iam create-user`, `create-access-key`
and `put-user-policy`; that user can put to one stream and not another (and the
refused put writes nothing); a read-only user reads and cannot write; a role
assumed with `aws sts assume-role` works until its session expires (the clock
moved with faketime, for hydrant and the client alike)."""
import glob
import json
import os
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import conftest
from conftest import list_keys, s3_dest, start_with_config, wait_for

ACCOUNT = "000000000000"
ROOT_KEY = "AKIAROOTROOTROOT0001"
ROOT_SECRET = "rootSecretKey/0123456789abcdefghijklmnop"

CONFIG = """
[auth]
mode = "sigv4"

[[auth.users]]
name = "admin"
access_key_id = "%s"
secret_access_key = "%s"
root = true
""" % (ROOT_KEY, ROOT_SECRET)

PRODUCER_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
    "Resource": "arn:aws:firehose:us-east-1:%s:deliverystream/orders" % ACCOUNT}]}
READ_ONLY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::lake"},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lake/*"}]}


def aws(h, creds, *args, faketime=None):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=creds[0], AWS_SECRET_ACCESS_KEY=creds[1],
               AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE="/nonexistent-hydrant-itest-config",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent-hydrant-itest-credentials")
    env.pop("AWS_SESSION_TOKEN", None)
    if len(creds) > 2:
        env["AWS_SESSION_TOKEN"] = creds[2]
    cmd = [conftest.AWS, "--endpoint-url", h.endpoint, "--output", "json"] + list(args)
    if faketime:
        cmd = ["faketime", "-f", faketime] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    return out.returncode, (json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip()
                            else out.stderr)


def ok(h, creds, *args, **kw):
    rc, out = aws(h, creds, *args, **kw)
    assert rc == 0, out
    return out


def client(h, service, creds, validate=True):
    return boto3.client(service, endpoint_url=h.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                        aws_session_token=creds[2] if len(creds) > 2 else None,
                        config=Config(retries={"total_max_attempts": 1},
                                      parameter_validation=validate))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    h = start_with_config(tmp_path_factory.mktemp("iamflow"), CONFIG)
    yield h
    h.stop()


ROOT = (ROOT_KEY, ROOT_SECRET)


def make_user(h, name, policy):
    ok(h, ROOT, "iam", "create-user", "--user-name", name)
    key = ok(h, ROOT, "iam", "create-access-key", "--user-name", name)["AccessKey"]
    ok(h, ROOT, "iam", "put-user-policy", "--user-name", name, "--policy-name", "p",
       "--policy-document", json.dumps(policy))
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_a_producer_puts_to_one_stream_and_not_another(server):
    h = server
    ok(h, ROOT, "s3api", "create-bucket", "--bucket", "lake")
    # The delivery role, as the README makes it (roles are enforced in sigv4 mode).
    ok(h, ROOT, "iam", "create-role", "--role-name", "firehose", "--assume-role-policy-document",
       json.dumps(conftest.FIREHOSE_TRUST))
    ok(h, ROOT, "iam", "put-role-policy", "--role-name", "firehose", "--policy-name", "write-lake",
       "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": [{
           "Effect": "Allow", "Action": ["s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation",
                                         "s3:AbortMultipartUpload"],
           "Resource": ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*"]}]}))
    # boto3 without validation: the CLI's model refuses intervals under 60 s.
    fh = client(h, "firehose", ROOT, validate=False)
    for name in ("orders", "audit"):
        fh.create_delivery_stream(
            DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_dest(
                "lake", Prefix=name + "/", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1}))
    producer = make_user(h, "producer", PRODUCER_POLICY)
    # IAM is eventually consistent on AWS; here the key works at once.
    r = ok(h, producer, "firehose", "put-record", "--delivery-stream-name", "orders",
           "--record", '{"Data":"b3JkZXIgMQo="}', "--cli-binary-format", "base64")
    assert r["RecordId"]
    rc, err = aws(h, producer, "firehose", "put-record", "--delivery-stream-name", "audit",
                  "--record", '{"Data":"YXVkaXQK"}', "--cli-binary-format", "base64")
    assert rc != 0 and "AccessDeniedException" in err, err
    assert ("User: arn:aws:iam::%s:user/producer is not authorized to perform: "
            "firehose:PutRecord on resource: arn:aws:firehose:us-east-1:%s:deliverystream/audit"
            % (ACCOUNT, ACCOUNT)) in err
    # The producer cannot read the lake, nor manage streams.
    rc, err = aws(h, producer, "s3api", "list-objects-v2", "--bucket", "lake")
    assert rc != 0 and "AccessDenied" in err, err
    rc, err = aws(h, producer, "firehose", "delete-delivery-stream", "--delivery-stream-name", "orders")
    assert rc != 0 and "AccessDeniedException" in err, err
    s3 = client(h, "s3", ROOT)
    wait_for(lambda: list_keys(s3, "lake", "orders/"), timeout=30, what="the orders object")
    body = b"".join(s3.get_object(Bucket="lake", Key=k)["Body"].read() for k in list_keys(s3, "lake", "orders/"))
    assert body == b"order 1\n"
    time.sleep(2.5)  # two buffering intervals of audit
    assert list_keys(s3, "lake", "audit/") == [], "the refused put wrote nothing"


def test_a_read_only_user_reads_and_cannot_write(server):
    h = server
    client(h, "s3", ROOT).put_object(Bucket="lake", Key="ro/x.txt", Body=b"x")
    reader = make_user(h, "reader", READ_ONLY_POLICY)
    s3 = client(h, "s3", reader)
    assert s3.get_object(Bucket="lake", Key="ro/x.txt")["Body"].read() == b"x"
    assert "ro/x.txt" in list_keys(s3, "lake", "ro/")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="lake", Key="ro/y.txt", Body=b"y")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="lake", Key="ro/x.txt")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert list_keys(client(h, "s3", ROOT), "lake", "ro/") == ["ro/x.txt"]
    # Nor may it manage IAM.
    with pytest.raises(ClientError) as e:
        client(h, "iam", reader).create_user(UserName="mallory")
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def test_a_repeated_parameter_cannot_act_on_another_user(server):
    """Self-service keys (iam:CreateAccessKey on user/${aws:username}) with the
    user's name first and another's last: the check and the call read the same
    (last) value, so it is refused and no key is made for the other user."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import urllib.request
    h = server
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:ListAccessKeys"],
        "Resource": "arn:aws:iam::%s:user/${aws:username}" % ACCOUNT}]}
    me = make_user(h, "self", policy)
    make_user(h, "victim", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
    before = client(h, "iam", ROOT).list_access_keys(UserName="victim")["AccessKeyMetadata"]
    body = "Action=CreateAccessKey&Version=2010-05-08&UserName=self&UserName=victim"
    req = botocore.awsrequest.AWSRequest(method="POST", url=h.endpoint + "/", data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(*me), "iam", "us-east-1").add_auth(req)
    prepared = req.prepare()
    try:
        with urllib.request.urlopen(urllib.request.Request(
                prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST")) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    assert status == 403 and "<Code>AccessDenied</Code>" in text, (status, text)
    assert "user/victim" in text
    after = client(h, "iam", ROOT).list_access_keys(UserName="victim")["AccessKeyMetadata"]
    assert after == before
    # Its own key, asked plainly, is allowed.
    assert client(h, "iam", me).create_access_key()["AccessKey"]["UserName"] == "self"


def test_an_assumed_role_works_until_it_expires(server, tmp_path):
    h = server
    caller = make_user(h, "deployer", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/deployer" % ACCOUNT},
        "Action": "sts:AssumeRole"}]}
    ok(h, ROOT, "iam", "create-role", "--role-name", "writer",
       "--assume-role-policy-document", json.dumps(trust))
    ok(h, ROOT, "iam", "put-role-policy", "--role-name", "writer", "--policy-name", "w",
       "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": [{
           "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::lake/role/*"}]}))
    # Another user is not in the trust policy.
    other = make_user(h, "other", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
    rc, err = aws(h, other, "sts", "assume-role", "--role-arn",
                  "arn:aws:iam::%s:role/writer" % ACCOUNT, "--role-session-name", "s1")
    assert rc != 0 and "AccessDenied" in err, err
    c = ok(h, caller, "sts", "assume-role", "--role-arn", "arn:aws:iam::%s:role/writer" % ACCOUNT,
           "--role-session-name", "ci", "--duration-seconds", "900")["Credentials"]
    session = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    who = ok(h, session, "sts", "get-caller-identity")
    assert who["Arn"] == "arn:aws:sts::%s:assumed-role/writer/ci" % ACCOUNT
    ok(h, session, "s3api", "put-object", "--bucket", "lake", "--key", "role/a.txt")
    rc, err = aws(h, session, "s3api", "put-object", "--bucket", "lake", "--key", "other/a.txt")
    assert rc != 0 and "AccessDenied" in err, err
    # Without its token the session key is refused.
    rc, err = aws(h, session[:2], "s3api", "put-object", "--bucket", "lake", "--key", "role/b.txt")
    assert rc != 0 and ("InvalidToken" in err or "InvalidAccessKeyId" in err), err
    # 16 minutes later (hydrant restarted on the same data, both clocks moved) the
    # session has expired; the root key still works.
    h.stop()
    # libfaketime preloaded into hydrant itself (exec: the process the fixture
    # stops is hydrant; the faketime command would fork it and leave it behind).
    libs = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
    assert libs, "libfaketime is not installed (scripts/install-deps.sh --test)"
    wrapper = tmp_path / "hydrant-later"
    wrapper.write_text('#!/bin/sh\nexport LD_PRELOAD="%s" FAKETIME="+16m"\nexec "%s" "$@"\n'
                       % (libs[0], conftest.HYDRANT))
    wrapper.chmod(0o755)
    real, conftest.HYDRANT = conftest.HYDRANT, str(wrapper)
    try:
        h.start(h.port)
    finally:
        conftest.HYDRANT = real
    rc, err = aws(h, session, "s3api", "put-object", "--bucket", "lake", "--key", "role/c.txt",
                  faketime="+16m")
    assert rc != 0 and "ExpiredToken" in err, err
    ok(h, ROOT, "s3api", "head-object", "--bucket", "lake", "--key", "role/a.txt", faketime="+16m")
    rc, err = aws(h, ROOT, "s3api", "head-object", "--bucket", "lake", "--key", "role/c.txt",
                  faketime="+16m")
    assert rc != 0, "the expired session wrote nothing"
