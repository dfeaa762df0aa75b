"""The KMS API subset (TrentService JSON 1.1) against a real hydrant, with the AWS
CLI v2 and boto3: key lifecycle and states, aliases, key policies, Encrypt /
Decrypt with an encryption context, data keys, AWS's error codes; the key store
across a restart (file modes, the master key), a wrong master key refusing the
start; and, in sigv4 mode, KMS's authorization rule (the key policy decides,
identity policies count only through its account statement)."""
import base64
import json
import os
import stat
import subprocess

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import conftest
from conftest import Hydrant, start_with_config
from test_auth_iam_flow import CONFIG as SIGV4_ROOT_CONFIG, ROOT_KEY, ROOT_SECRET

ACCOUNT = "000000000000"
REGION = "us-east-1"
DEFAULT_POLICY = {
    "Version": "2012-10-17", "Id": "key-default-1",
    "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
                   "Action": "kms:*", "Resource": "*"}]}


def run_aws(h, creds, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=creds[0], AWS_SECRET_ACCESS_KEY=creds[1],
               AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/nonexistent-hydrant-itest-config",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent-hydrant-itest-credentials")
    out = subprocess.run([conftest.AWS, "--endpoint-url", h.endpoint, "--output", "json"] + list(args),
                         capture_output=True, text=True, timeout=60, env=env)
    return out.returncode, (json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip()
                            else out.stdout if out.returncode == 0 else out.stderr)


OPEN = ("test", "test")


def aws(h, *args, creds=OPEN):
    rc, out = run_aws(h, creds, *args)
    assert rc == 0, out
    return out


def aws_fails(h, *args, creds=OPEN):
    rc, out = run_aws(h, creds, *args)
    assert rc != 0, out
    return out


def kms_client(h, creds=OPEN):
    return boto3.client("kms", endpoint_url=h.endpoint, region_name=REGION,
                        aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                        config=Config(retries={"total_max_attempts": 1}))


def error(excinfo):
    r = excinfo.value.response
    return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"]


def test_cli_key_lifecycle_encrypt_decrypt_and_states(hydrant, tmp_path):
    h = hydrant
    key = aws(h, "kms", "create-key", "--description", "orders key")["KeyMetadata"]
    kid, arn = key["KeyId"], key["Arn"]
    assert arn == "arn:aws:kms:%s:%s:key/%s" % (REGION, ACCOUNT, kid)
    assert key["KeyState"] == "Enabled" and key["Enabled"] is True
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT" and key["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert key["Description"] == "orders key" and key["KeyManager"] == "CUSTOMER"
    aws(h, "kms", "create-alias", "--alias-name", "alias/orders", "--target-key-id", kid)
    assert aws(h, "kms", "describe-key", "--key-id", "alias/orders")["KeyMetadata"]["KeyId"] == kid
    aliases = aws(h, "kms", "list-aliases", "--key-id", kid)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"], a["AliasArn"]) for a in aliases] == [
        ("alias/orders", kid, "arn:aws:kms:%s:%s:alias/orders" % (REGION, ACCOUNT))]
    assert [k["KeyId"] for k in aws(h, "kms", "list-keys")["Keys"]] == [kid]

    # Encrypt by alias with a context; Decrypt needs no KeyId, only the same context.
    (tmp_path / "plain").write_bytes(b"card 4111-1111")
    blob = aws(h, "kms", "encrypt", "--key-id", "alias/orders", "--plaintext",
               "fileb://" + str(tmp_path / "plain"), "--encryption-context", "order=17")
    assert blob["KeyId"] == arn and blob["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    (tmp_path / "blob").write_bytes(base64.b64decode(blob["CiphertextBlob"]))
    assert b"card" not in (tmp_path / "blob").read_bytes()
    out = aws(h, "kms", "decrypt", "--ciphertext-blob", "fileb://" + str(tmp_path / "blob"),
              "--encryption-context", "order=17")
    assert base64.b64decode(out["Plaintext"]) == b"card 4111-1111" and out["KeyId"] == arn
    err = aws_fails(h, "kms", "decrypt", "--ciphertext-blob", "fileb://" + str(tmp_path / "blob"),
                    "--encryption-context", "order=18")
    assert "InvalidCiphertextException" in err, err

    # Data keys.
    dk = aws(h, "kms", "generate-data-key", "--key-id", kid, "--key-spec", "AES_256",
             "--encryption-context", "stream=s1")
    assert len(base64.b64decode(dk["Plaintext"])) == 32
    (tmp_path / "dk").write_bytes(base64.b64decode(dk["CiphertextBlob"]))
    again = aws(h, "kms", "decrypt", "--ciphertext-blob", "fileb://" + str(tmp_path / "dk"),
                "--encryption-context", "stream=s1")
    assert again["Plaintext"] == dk["Plaintext"]
    wp = aws(h, "kms", "generate-data-key-without-plaintext", "--key-id", arn, "--number-of-bytes", "16")
    assert "Plaintext" not in wp and wp["KeyId"] == arn

    # States: Disabled, PendingDeletion, cancelled back to Disabled.
    aws(h, "kms", "disable-key", "--key-id", kid)
    err = aws_fails(h, "kms", "encrypt", "--key-id", kid, "--plaintext", "aGk=")
    assert "DisabledException" in err and arn + " is disabled." in err, err
    aws(h, "kms", "enable-key", "--key-id", kid)
    sched = aws(h, "kms", "schedule-key-deletion", "--key-id", kid, "--pending-window-in-days", "7")
    assert sched["KeyState"] == "PendingDeletion" and sched["PendingWindowInDays"] == 7
    assert sched["KeyId"] == arn
    desc = aws(h, "kms", "describe-key", "--key-id", kid)["KeyMetadata"]
    assert desc["KeyState"] == "PendingDeletion" and "DeletionDate" in desc
    err = aws_fails(h, "kms", "generate-data-key", "--key-id", kid, "--key-spec", "AES_256")
    assert "KMSInvalidStateException" in err and arn + " is pending deletion." in err, err
    assert aws(h, "kms", "cancel-key-deletion", "--key-id", kid)["KeyId"] == arn
    assert aws(h, "kms", "describe-key", "--key-id", kid)["KeyMetadata"]["KeyState"] == "Disabled"

    # Key policies: the default one as AWS writes it; a malformed one refused.
    pol = aws(h, "kms", "get-key-policy", "--key-id", kid, "--policy-name", "default")
    assert json.loads(pol["Policy"]) == DEFAULT_POLICY
    err = aws_fails(h, "kms", "put-key-policy", "--key-id", kid, "--policy-name", "default",
                    "--policy", json.dumps({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    assert "MalformedPolicyDocumentException" in err and "Missing required field Principal" in err, err
    aws(h, "kms", "delete-alias", "--alias-name", "alias/orders")
    err = aws_fails(h, "kms", "describe-key", "--key-id", "alias/orders")
    assert "NotFoundException" in err, err


def test_boto3_errors(hydrant):
    kms = kms_client(hydrant)
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
    assert error(e) == ("NotFoundException", "Key 'arn:aws:kms:%s:%s:key/11111111-2222-3333-4444-555555555555' "
                        "does not exist" % (REGION, ACCOUNT), 400)
    with pytest.raises(ClientError) as e:
        kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    assert error(e)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="alias/aws/s3", TargetKeyId=kid)
    assert error(e)[0] == "InvalidAliasNameException"
    kms.create_alias(AliasName="alias/one", TargetKeyId=kid)
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="alias/one", TargetKeyId=kid)
    assert error(e)[0] == "AlreadyExistsException"
    with pytest.raises(ClientError) as e:
        kms.delete_alias(AliasName="alias/none")
    assert error(e)[0] == "NotFoundException"
    with pytest.raises(ClientError) as e:
        kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=31)
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.cancel_key_deletion(KeyId=kid)
    assert error(e)[0] == "KMSInvalidStateException"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=kid, Plaintext=b"x" * 4097)
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=b"\x01not a blob")
    assert error(e)[0] == "InvalidCiphertextException"
    blob = kms.encrypt(KeyId=kid, Plaintext=b"x")["CiphertextBlob"]
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=flipped)
    assert error(e)[0] == "InvalidCiphertextException"
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob, KeyId=other)
    assert error(e)[0] == "IncorrectKeyException"
    assert kms.decrypt(CiphertextBlob=blob, KeyId="alias/one")["Plaintext"] == b"x"
    # Pagination, as the SDK's paginator drives it.
    for _ in range(3):
        kms.create_key()
    pages = list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["Keys"]) for p in pages] == [2, 2, 1]


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keys_survive_a_restart_and_files_are_private(tmp_path):
    data = str(tmp_path / "data")
    with Hydrant(data).start() as h:
        kms = kms_client(h)
        kid = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/kept", TargetKeyId=kid)
        blob = kms.encrypt(KeyId="alias/kept", Plaintext=b"durable",
                           EncryptionContext={"a": "b"})["CiphertextBlob"]
        kms.disable_key(KeyId=kid)
        h.restart()
        kms = kms_client(h)
        assert kms.describe_key(KeyId="alias/kept")["KeyMetadata"]["KeyState"] == "Disabled"
        kms.enable_key(KeyId=kid)
        assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["Plaintext"] == b"durable"
    assert mode(os.path.join(data, "kms")) == 0o700
    assert mode(os.path.join(data, "kms", "keys")) == 0o700
    assert mode(os.path.join(data, "kms", "master.key")) == 0o600
    assert mode(os.path.join(data, "kms", "keys", kid + ".json")) == 0o600
    assert mode(os.path.join(data, "kms", "aliases.json")) == 0o600


def test_a_wrong_master_key_refuses_to_start(tmp_path):
    data = str(tmp_path / "data")
    with Hydrant(data).start() as h:
        kms_client(h).create_key()
    master = os.path.join(data, "kms", "master.key")
    with open(master, "w") as f:
        f.write("hydrant-kms-master-key 1\n%s\n" % base64.b64encode(os.urandom(32)).decode())
    h = Hydrant(data)
    with pytest.raises(RuntimeError):
        h.start()
    assert "component=kms" in h.log() and master in h.log(), h.log()
    assert "is not the one the KMS keys were stored under" in h.log()


def test_a_configured_master_key_file(tmp_path):
    key_file = tmp_path / "secrets" / "kms-master.key"
    h = start_with_config(tmp_path, '[kms]\nmaster_key_file = "%s"\n' % key_file)
    try:
        kms_client(h).create_key()
    finally:
        h.stop()
    assert mode(str(key_file)) == 0o600
    assert not os.path.exists(os.path.join(str(tmp_path / "data"), "kms", "master.key"))


# sigv4 mode with a root key from the config, as issue 14's end-to-end flow runs it.
ROOT = (ROOT_KEY, ROOT_SECRET)


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    h = start_with_config(tmp_path_factory.mktemp("kmsauth"), SIGV4_ROOT_CONFIG)
    yield h
    h.stop()


def make_user(h, name, policy):
    aws(h, "iam", "create-user", "--user-name", name, creds=ROOT)
    key = aws(h, "iam", "create-access-key", "--user-name", name, creds=ROOT)["AccessKey"]
    if policy is not None:
        aws(h, "iam", "put-user-policy", "--user-name", name, "--policy-name", "p",
            "--policy-document", json.dumps(policy), creds=ROOT)
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_sigv4_a_user_without_kms_decrypt_is_denied(signed, tmp_path):
    h = signed
    kid = aws(h, "kms", "create-key", creds=ROOT)["KeyMetadata"]["KeyId"]
    arn = "arn:aws:kms:%s:%s:key/%s" % (REGION, ACCOUNT, kid)
    writer = make_user(h, "writer", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": arn}]})
    out = aws(h, "kms", "encrypt", "--key-id", kid, "--plaintext", "c2VjcmV0", creds=writer)
    (tmp_path / "blob").write_bytes(base64.b64decode(out["CiphertextBlob"]))
    err = aws_fails(h, "kms", "decrypt", "--ciphertext-blob", "fileb://" + str(tmp_path / "blob"),
                    creds=writer)
    assert "AccessDeniedException" in err, err
    assert ("User: arn:aws:iam::%s:user/writer is not authorized to perform: kms:Decrypt on resource: %s"
            % (ACCOUNT, arn)) in err, err
    # Nor may it create or list keys (identity policies on "*").
    with pytest.raises(ClientError) as e:
        kms_client(h, writer).create_key()
    assert error(e)[0] == "AccessDeniedException"
    # The root user may (the default key policy names the account).
    got = aws(h, "kms", "decrypt", "--ciphertext-blob", "fileb://" + str(tmp_path / "blob"), creds=ROOT)
    assert base64.b64decode(got["Plaintext"]) == b"secret"


def test_sigv4_a_key_policy_without_the_root_statement_makes_identity_policies_irrelevant(signed):
    h = signed
    admin = make_user(h, "kmsadmin", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    named = make_user(h, "named", None)  # no identity policy at all
    kms_admin = kms_client(h, admin)
    kid = kms_admin.create_key()["KeyMetadata"]["KeyId"]
    assert kms_admin.encrypt(KeyId=kid, Plaintext=b"x")["KeyId"].endswith(kid)
    only_named = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "named only", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::%s:user/named" % ACCOUNT},
        "Action": "kms:*", "Resource": "*"}]})
    # The lockout safety check refuses a policy that shuts the caller out...
    with pytest.raises(ClientError) as e:
        kms_admin.put_key_policy(KeyId=kid, PolicyName="default", Policy=only_named)
    assert error(e)[:2] == ("MalformedPolicyDocumentException",
                            "The new key policy will not allow you to update the key policy in the future.")
    # ... unless bypassed.
    kms_admin.put_key_policy(KeyId=kid, PolicyName="default", Policy=only_named,
                             BypassPolicyLockoutSafetyCheck=True)
    # kms:* in the admin's identity policy no longer counts; nor does root's account.
    for creds in (admin, ROOT):
        with pytest.raises(ClientError) as e:
            kms_client(h, creds).encrypt(KeyId=kid, Plaintext=b"x")
        code, message, status = error(e)
        assert (code, status) == ("AccessDeniedException", 400)
        assert "because no resource-based policy allows the kms:Encrypt action" in message
    # The user the key policy names needs no identity policy.
    kms_named = kms_client(h, named)
    blob = kms_named.encrypt(KeyId=kid, Plaintext=b"named")["CiphertextBlob"]
    assert kms_named.decrypt(CiphertextBlob=blob)["Plaintext"] == b"named"
    # An explicit Deny in an identity policy still wins over the key policy's Allow.
    aws(h, "iam", "put-user-policy", "--user-name", "named", "--policy-name", "deny",
        "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}), creds=ROOT)
    with pytest.raises(ClientError) as e:
        kms_named.decrypt(CiphertextBlob=blob)
    assert error(e)[0] == "AccessDeniedException"
    assert "explicit deny in an identity-based policy" in error(e)[1]
