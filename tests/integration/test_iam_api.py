"""IAM and STS Query APIs against a real hydrant (open mode), with the AWS CLI v2
and boto3: every operation, the error codes, pagination, and persistence across
a restart."""
import datetime
import json
import os
import stat
import subprocess
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
DOC = {"Version": "2012-10-17",
       "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
                        "Action": "sts:AssumeRole"}]}


def aws(h, *args):
    out = subprocess.run(["aws", "--endpoint-url", h.endpoint, "--output", "json"] + list(args),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def aws_fails(h, *args):
    out = subprocess.run(["aws", "--endpoint-url", h.endpoint] + list(args),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0, out.stdout
    return out.stderr


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_cli_users_keys_policies_roles_and_sts(hydrant):
    u = aws(hydrant, "iam", "create-user", "--user-name", "alice", "--path", "/team/")["User"]
    assert u["UserName"] == "alice"
    assert u["Arn"] == "arn:aws:iam::%s:user/team/alice" % ACCOUNT
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    key = aws(hydrant, "iam", "create-access-key", "--user-name", "alice")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active"
    aws(hydrant, "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "read",
        "--policy-document", json.dumps(DOC))
    got = aws(hydrant, "iam", "get-user-policy", "--user-name", "alice", "--policy-name", "read")
    assert got["PolicyDocument"] == DOC  # URL-encoded on the wire, decoded by the CLI
    assert aws(hydrant, "iam", "list-user-policies", "--user-name", "alice")["PolicyNames"] == ["read"]
    assert [x["UserName"] for x in aws(hydrant, "iam", "list-users")["Users"]] == ["alice"]
    keys = aws(hydrant, "iam", "list-access-keys", "--user-name", "alice")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key["AccessKeyId"]]
    assert "SecretAccessKey" not in keys[0]

    role = aws(hydrant, "iam", "create-role", "--role-name", "deployer",
               "--assume-role-policy-document", json.dumps(TRUST))["Role"]
    assert role["RoleId"].startswith("AROA")
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert aws(hydrant, "iam", "get-role", "--role-name", "deployer")["Role"]["MaxSessionDuration"] == 3600
    assert [r["RoleName"] for r in aws(hydrant, "iam", "list-roles")["Roles"]] == ["deployer"]

    me = aws(hydrant, "sts", "get-caller-identity")
    assert me == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": "arn:aws:iam::%s:root" % ACCOUNT}
    creds = aws(hydrant, "sts", "assume-role", "--role-arn", role["Arn"],
                "--role-session-name", "build-1")
    assert creds["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert creds["Credentials"]["SessionToken"]
    assert creds["AssumedRoleUser"] == {
        "AssumedRoleId": role["RoleId"] + ":build-1",
        "Arn": "arn:aws:sts::%s:assumed-role/deployer/build-1" % ACCOUNT}
    tok = aws(hydrant, "sts", "get-session-token", "--duration-seconds", "900")
    assert tok["Credentials"]["AccessKeyId"].startswith("ASIA")

    err = aws_fails(hydrant, "iam", "get-user", "--user-name", "nobody")
    assert "NoSuchEntity" in err and "The user with name nobody cannot be found." in err


def test_boto3_every_operation_and_error_codes(hydrant):
    iam = hydrant.client("iam")
    raw = hydrant.client("iam", validate=False)  # lets invalid input reach the server
    sts = hydrant.client("sts")

    # Users.
    u = iam.create_user(UserName="bob", Tags=[{"Key": "team", "Value": "data"}])["User"]
    assert u["Tags"] == [{"Key": "team", "Value": "data"}]
    assert iam.get_user(UserName="bob")["User"]["UserId"] == u["UserId"]
    assert iam.get_user()["User"]["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT  # open mode: root
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="BOB")
    assert code(e) == "EntityAlreadyExists" and status(e) == 409
    with pytest.raises(ClientError) as e:
        raw.create_user(UserName="no spaces")
    assert code(e) == "ValidationError" and status(e) == 400
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'no spaces' at 'userName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")

    # Access keys, at most two.
    k1 = iam.create_access_key(UserName="bob")["AccessKey"]
    iam.create_access_key(UserName="bob")
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName="bob")
    assert code(e) == "LimitExceeded" and status(e) == 409
    iam.update_access_key(UserName="bob", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    listed = iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in listed}[k1["AccessKeyId"]] == "Inactive"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="bob")
    assert code(e) == "DeleteConflict" and status(e) == 409
    for k in listed:
        iam.delete_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"])
    with pytest.raises(ClientError) as e:
        iam.delete_access_key(UserName="bob", AccessKeyId=k1["AccessKeyId"])
    assert code(e) == "NoSuchEntity" and status(e) == 404

    # Inline user policies.
    iam.put_user_policy(UserName="bob", PolicyName="p", PolicyDocument=json.dumps(DOC))
    assert iam.get_user_policy(UserName="bob", PolicyName="p")["PolicyDocument"] == DOC
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == ["p"]
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName="bob", PolicyName="q", PolicyDocument="not json")
    assert code(e) == "MalformedPolicyDocument" and status(e) == 400
    big = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "x" * 2100}]}
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName="bob", PolicyName="big", PolicyDocument=json.dumps(big))
    assert code(e) == "LimitExceeded"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="bob")
    assert code(e) == "DeleteConflict"
    iam.delete_user_policy(UserName="bob", PolicyName="p")
    with pytest.raises(ClientError) as e:
        iam.get_user_policy(UserName="bob", PolicyName="p")
    assert code(e) == "NoSuchEntity"

    # Managed policies and attachments.
    pol = iam.create_policy(PolicyName="reader", Path="/app/", PolicyDocument=json.dumps(DOC),
                            Description="reads")["Policy"]
    arn = "arn:aws:iam::%s:policy/app/reader" % ACCOUNT
    assert pol["Arn"] == arn and pol["PolicyId"].startswith("ANPA")
    assert pol["DefaultVersionId"] == "v1" and pol["IsAttachable"] is True
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "reads"
    v = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert v["Document"] == DOC and v["IsDefaultVersion"] is True
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName="reader", PolicyDocument=json.dumps(DOC))
    assert code(e) == "EntityAlreadyExists"
    iam.attach_user_policy(UserName="bob", PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"] == [
        {"PolicyName": "reader", "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]] == [arn]
    assert iam.list_policies(Scope="AWS")["Policies"] == []  # no AWS managed policies here
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code(e) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName="bob", PolicyArn=arn + "x")
    assert code(e) == "NoSuchEntity"
    iam.detach_user_policy(UserName="bob", PolicyArn=arn)
    iam.delete_user(UserName="bob")
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="bob")
    assert code(e) == "NoSuchEntity"

    # Roles.
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(TRUST),
                           MaxSessionDuration=7200, Description="runs jobs")["Role"]
    assert iam.get_role(RoleName="worker")["Role"]["AssumeRolePolicyDocument"] == TRUST
    newer = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Sid="x")])
    iam.update_assume_role_policy(RoleName="worker", PolicyDocument=json.dumps(newer))
    assert iam.get_role(RoleName="worker")["Role"]["AssumeRolePolicyDocument"] == newer
    iam.put_role_policy(RoleName="worker", PolicyName="inline", PolicyDocument=json.dumps(DOC))
    assert iam.get_role_policy(RoleName="worker", PolicyName="inline")["PolicyDocument"] == DOC
    assert iam.list_role_policies(RoleName="worker")["PolicyNames"] == ["inline"]
    iam.attach_role_policy(RoleName="worker", PolicyArn=arn)
    assert iam.list_attached_role_policies(RoleName="worker")["AttachedPolicies"][0]["PolicyArn"] == arn
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="worker")
    assert code(e) == "DeleteConflict"

    # STS.
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT
    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="job-9", DurationSeconds=7200)
    assert c["AssumedRoleUser"]["Arn"] == "arn:aws:sts::%s:assumed-role/worker/job-9" % ACCOUNT
    left = (c["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 7100 < left <= 7200
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="job-9", DurationSeconds=7201)
    assert code(e) == "ValidationError"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::%s:role/none" % ACCOUNT, RoleSessionName="s1")
    assert code(e) == "AccessDenied" and status(e) == 403
    assert e.value.response["Error"]["Message"] == (
        "User: arn:aws:iam::%s:root is not authorized to perform: sts:AssumeRole on resource: "
        "arn:aws:iam::%s:role/none" % (ACCOUNT, ACCOUNT))
    t = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert t["AccessKeyId"].startswith("ASIA") and len(t["SecretAccessKey"]) == 40

    iam.detach_role_policy(RoleName="worker", PolicyArn=arn)
    iam.delete_role_policy(RoleName="worker", PolicyName="inline")
    iam.delete_role(RoleName="worker")
    iam.delete_policy(PolicyArn=arn)
    assert iam.list_roles()["Roles"] == [] and iam.list_policies()["Policies"] == []


def test_paginators(hydrant):
    iam = hydrant.client("iam")
    names = ["user-%02d" % i for i in range(23)]
    for n in names:
        iam.create_user(UserName=n)
        iam.create_role(RoleName="role-" + n, AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.create_policy(PolicyName="pol-" + n, PolicyDocument=json.dumps(DOC))
    pages = list(iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 10}))
    assert [len(p["Users"]) for p in pages] == [10, 10, 3]
    assert [u["UserName"] for p in pages for u in p["Users"]] == names
    assert pages[0]["IsTruncated"] is True and "IsTruncated" in pages[-1] and not pages[-1]["IsTruncated"]
    roles = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate(
        PaginationConfig={"PageSize": 7}) for r in p["Roles"]]
    assert roles == ["role-" + n for n in names]
    pols = [x["PolicyName"] for p in iam.get_paginator("list_policies").paginate(
        Scope="Local", PaginationConfig={"PageSize": 5}) for x in p["Policies"]]
    assert pols == ["pol-" + n for n in names]
    # MaxItems without the paginator: IsTruncated and Marker.
    first = iam.list_users(MaxItems=20)
    assert first["IsTruncated"] is True
    rest = iam.list_users(Marker=first["Marker"])
    assert len(rest["Users"]) == 3 and rest["IsTruncated"] is False


def test_everything_survives_a_restart(hydrant):
    iam = hydrant.client("iam")
    sts = hydrant.client("sts")
    iam.create_user(UserName="carol", Path="/ops/")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=json.dumps(DOC))
    arn = iam.create_policy(PolicyName="m", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="carol", PolicyArn=arn)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName="r", PolicyName="rp", PolicyDocument=json.dumps(DOC))
    session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="sess")["Credentials"]

    hydrant.restart()
    iam = hydrant.client("iam")
    assert iam.get_user(UserName="carol")["User"]["Path"] == "/ops/"
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="carol")["AccessKeyMetadata"]] == [
        key["AccessKeyId"]]
    assert iam.get_user_policy(UserName="carol", PolicyName="p")["PolicyDocument"] == DOC
    assert iam.list_attached_user_policies(UserName="carol")["AttachedPolicies"][0]["PolicyArn"] == arn
    assert iam.get_role(RoleName="r")["Role"]["RoleId"] == role["RoleId"]
    assert iam.get_role_policy(RoleName="r", PolicyName="rp")["PolicyDocument"] == DOC

    # On disk: a private folder, private files, and no secret anywhere in the log.
    d = os.path.join(hydrant.data_dir, "iam")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    files = [os.path.join(root, f) for root, _, fs in os.walk(d) for f in fs]
    assert any(session["AccessKeyId"] in f for f in files)  # the session is still there
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    log = hydrant.log()
    for secret in (key["SecretAccessKey"], session["SecretAccessKey"], session["SessionToken"]):
        assert secret not in log


def test_query_routing_leaves_s3_alone(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="iam-neighbour")
    s3.put_object(Bucket="iam-neighbour", Key="a", Body=b"1")
    # POST /bucket?delete is S3's.
    out = s3.delete_objects(Bucket="iam-neighbour", Delete={"Objects": [{"Key": "a"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["a"]
    # Plain HTTP: GET /?Action=...&Version=... and a form POST (curl's way).
    q = urllib.parse.urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    with urllib.request.urlopen(hydrant.endpoint + "/?" + q, timeout=10) as r:
        body = r.read().decode()
    assert "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">" in body
    form = urllib.parse.urlencode({"Action": "ListUsers", "Version": "2010-05-08"}).encode()
    req = urllib.request.Request(hydrant.endpoint + "/", data=form, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Type"] == "text/xml"
        assert "<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">" in r.read().decode()
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["iam-neighbour"]
