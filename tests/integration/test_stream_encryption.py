"""Stream encryption at rest (issue 15, item 4): StartDeliveryStreamEncryption and
StopDeliveryStreamEncryption with the AWS CLI v2, AWS_OWNED_CMK and a key of the
KMS API. The buffered records are not on disk in plaintext, survive kill -9 and
are delivered; `Encrypted` answers say what was encrypted; a disabled key fails
puts with InvalidKMSResourceException and holds delivery until it is enabled
again; a Start with an unusable key ends ENABLING_FAILED with AWS's
FailureDescription and leaves encryption as it was; a change cut by a crash is
finished at the next start."""
import base64
import glob
import json
import os
import time

import pytest

from conftest import Hydrant, aws, list_keys, metric, read_objects, wait_for

MARK = b"card-4111-1111-1111-1111-"


def cli(h, *args, check=True):
    p = aws(h, *args, check=check)
    if not check:
        return p
    return json.loads(p.stdout) if p.stdout.strip() else {}


def create(h, name, extra=()):
    aws(h, "s3api", "create-bucket", "--bucket", name + "-bucket", check=False)
    dest = {"RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::%s-bucket" % name,
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900}}
    return cli(h, "firehose", "create-delivery-stream", "--delivery-stream-name", name,
               "--extended-s3-destination-configuration", json.dumps(dest), *extra)


def encryption(h, name):
    return cli(h, "firehose", "describe-delivery-stream", "--delivery-stream-name", name)[
        "DeliveryStreamDescription"]["DeliveryStreamEncryptionConfiguration"]


def start(h, name, key_arn=None, check=True):
    cfg = "KeyType=AWS_OWNED_CMK" if key_arn is None else \
        "KeyType=CUSTOMER_MANAGED_CMK,KeyARN=" + key_arn
    return cli(h, "firehose", "start-delivery-stream-encryption", "--delivery-stream-name", name,
               "--delivery-stream-encryption-configuration-input", cfg, check=check)


def put(h, name, data, check=True):
    return cli(h, "firehose", "put-record", "--delivery-stream-name", name,
               "--record", json.dumps({"Data": base64.b64encode(data).decode()}), check=check)


def put_batch(h, name, records):
    out = cli(h, "firehose", "put-record-batch", "--delivery-stream-name", name, "--records",
              json.dumps([{"Data": base64.b64encode(r).decode()} for r in records]))
    assert out["FailedPutCount"] == 0, out
    return out


def deliver_now(h, name):
    """Buffering of 1 s from now on (UpdateDestination, with boto3: the CLI refuses
    intervals below 60 s), so the backlog goes out."""
    fh = h.client("firehose", validate=False)
    d = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    fh.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId=d["VersionId"],
                          DestinationId=d["Destinations"][0]["DestinationId"],
                          ExtendedS3DestinationUpdate={
                              "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}})


def delivered(h, name):
    return b"".join(read_objects(h.client("s3"), name + "-bucket").values())


def stream_files_with(h, needle):
    hits = []
    for p in glob.glob(os.path.join(h.data_dir, "streams", "**", "*"), recursive=True):
        if os.path.isfile(p):
            with open(p, "rb") as f:
                if needle in f.read():
                    hits.append(p)
    return hits


def new_key(h):
    return cli(h, "kms", "create-key", "--description", "stream at rest")["KeyMetadata"]["Arn"]


def test_aws_owned_key_encrypts_the_buffer_across_a_crash(tmp_path):
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        create(h, "owned")
        assert encryption(h, "owned") == {"Status": "DISABLED"}
        assert put(h, "owned", MARK + b"before")["Encrypted"] is False
        assert start(h, "owned") == {}
        assert encryption(h, "owned") == {"KeyType": "AWS_OWNED_CMK", "Status": "ENABLED"}
        records = [MARK + b"%04d" % i for i in range(50)]
        assert put_batch(h, "owned", records)["Encrypted"] is True
        assert put(h, "owned", MARK + b"single")["Encrypted"] is True
        # The records put while encryption was on are nowhere on disk in plaintext;
        # the one put before it is (it was acknowledged unencrypted, as AWS does).
        hits = [p for r in records + [MARK + b"single"] for p in stream_files_with(h, r)]
        assert hits == [], hits
        assert stream_files_with(h, MARK + b"before") != []
        keys = glob.glob(os.path.join(h.data_dir, "streams", "*", "log", "KEYS"))
        assert len(keys) == 1 and os.stat(keys[0]).st_mode & 0o777 == 0o600

        h.kill()
        h.start()
        assert encryption(h, "owned")["Status"] == "ENABLED"
        assert put(h, "owned", MARK + b"after-restart")["Encrypted"] is True
        deliver_now(h, "owned")
        want = MARK + b"before" + b"".join(records) + MARK + b"single" + MARK + b"after-restart"
        wait_for(lambda: delivered(h, "owned") == want, timeout=30, what="every record delivered")

        assert cli(h, "firehose", "stop-delivery-stream-encryption",
                   "--delivery-stream-name", "owned") == {}
        assert encryption(h, "owned") == {"Status": "DISABLED"}
        assert put(h, "owned", MARK + b"plain-again")["Encrypted"] is False
    finally:
        h.stop()


def test_a_customer_key_that_is_disabled_holds_puts_and_delivery(tmp_path):
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        key = new_key(h)
        create(h, "cmk")  # 900 s buffering until deliver_now below
        start(h, "cmk", key)
        assert encryption(h, "cmk") == {"KeyARN": key, "KeyType": "CUSTOMER_MANAGED_CMK",
                                        "Status": "ENABLED"}
        aws(h, "kms", "disable-key", "--key-id", key)
        # Records in the buffer cannot be read without the key: delivery waits.
        p = put(h, "cmk", MARK + b"refused", check=False)
        assert p.returncode != 0 and "InvalidKMSResourceException" in p.stderr, p.stderr
        assert "disabled" in p.stderr
        fh = h.client("firehose", validate=False)
        try:
            fh.put_record_batch(DeliveryStreamName="cmk", Records=[{"Data": b"x"}])
            raise AssertionError("a put with a disabled key was accepted")
        except fh.exceptions.InvalidKMSResourceException as e:
            assert e.response["Error"]["Code"] == "InvalidKMSResourceException"
            assert e.response["code"] == "KMS.DisabledException", e.response
        aws(h, "kms", "enable-key", "--key-id", key)
        records = [MARK + b"%03d" % i for i in range(20)]
        put_batch(h, "cmk", records[:10])
        aws(h, "kms", "disable-key", "--key-id", key)
        # Only now 1 s buffering: the records wait in the buffer with the key disabled.
        deliver_now(h, "cmk")
        time.sleep(3)  # three delivery intervals with the key disabled
        assert list_keys(h.client("s3"), "cmk-bucket") == []
        assert "event=destination_failed errorCode=KMS.DisabledException" in h.log(), h.log()[-2000:]
        aws(h, "kms", "enable-key", "--key-id", key)
        put_batch(h, "cmk", records[10:])
        wait_for(lambda: delivered(h, "cmk") == b"".join(records), timeout=30,
                 what="every record delivered once the key is enabled")
        assert stream_files_with(h, records[0]) == []
    finally:
        h.stop()


def test_start_with_an_unusable_key_fails_and_leaves_encryption_as_it_was(tmp_path):
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        good, bad = new_key(h), new_key(h)
        aws(h, "kms", "disable-key", "--key-id", bad)
        create(h, "fail")
        start(h, "fail", bad)
        enc = encryption(h, "fail")
        assert enc["Status"] == "ENABLING_FAILED", enc
        assert enc["FailureDescription"]["Type"] == "DISABLED_KMS_KEY", enc
        assert bad in enc["FailureDescription"]["Details"]
        assert put(h, "fail", b"still plain")["Encrypted"] is False

        start(h, "fail", good)
        assert encryption(h, "fail")["Status"] == "ENABLED"
        missing = good.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
        start(h, "fail", missing)
        enc = encryption(h, "fail")
        assert enc["Status"] == "ENABLING_FAILED"
        assert enc["FailureDescription"]["Type"] == "KMS_KEY_NOT_FOUND", enc
        # The earlier key still encrypts, across a restart too.
        assert put(h, "fail", MARK + b"under-good")["Encrypted"] is True
        h.restart()
        assert put(h, "fail", MARK + b"under-good-2")["Encrypted"] is True
        assert stream_files_with(h, MARK) == []

        # Create with a disabled key is refused; with a usable one it starts ENABLED.
        p = aws(h, "firehose", "create-delivery-stream", "--delivery-stream-name", "born-bad",
                "--extended-s3-destination-configuration", json.dumps(
                    {"RoleARN": "arn:aws:iam::000000000000:role/firehose",
                     "BucketARN": "arn:aws:s3:::fail-bucket"}),
                "--delivery-stream-encryption-configuration-input",
                "KeyType=CUSTOMER_MANAGED_CMK,KeyARN=" + bad, check=False)
        assert p.returncode != 0 and "InvalidKMSResourceException" in p.stderr, p.stderr
        assert "born-bad" not in cli(h, "firehose", "list-delivery-streams")["DeliveryStreamNames"]
        create(h, "born-good", extra=("--delivery-stream-encryption-configuration-input",
                                      "KeyType=CUSTOMER_MANAGED_CMK,KeyARN=" + good))
        assert encryption(h, "born-good")["Status"] == "ENABLED"
        assert put(h, "born-good", MARK + b"born")["Encrypted"] is True
        assert stream_files_with(h, MARK + b"born") == []
    finally:
        h.stop()


@pytest.mark.parametrize("state,final", [("ENABLING", "ENABLED"), ("DISABLING", "DISABLED")])
def test_a_change_cut_by_a_crash_is_finished_at_start(tmp_path, state, final):
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        create(h, "cut")
        if state == "DISABLING":
            start(h, "cut")
        h.kill()
        path = os.path.join(h.data_dir, "streams", "s-cut", "stream.json")
        with open(path) as f:
            meta = json.load(f)
        meta["encryption"] = {"KeyType": "AWS_OWNED_CMK", "Status": state}
        with open(path, "w") as f:
            json.dump(meta, f)
        h.start()
        assert encryption(h, "cut")["Status"] == final
        assert put(h, "cut", b"x")["Encrypted"] is (final == "ENABLED")
    finally:
        h.stop()


def test_the_transformed_log_is_encrypted_and_buffered_records_survive_stop_and_crash(tmp_path):
    """With processing, records go through the transformed log too: both logs are
    encrypted. Records buffered under encryption stay readable after Stop and
    after kill -9, and are delivered in order with those put before and after."""
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        aws(h, "s3api", "create-bucket", "--bucket", "proc-bucket")
        fh = h.client("firehose", validate=False)
        fh.create_delivery_stream(
            DeliveryStreamName="proc", ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::proc-bucket",
                "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
                "ProcessingConfiguration": {"Enabled": True, "Processors": [
                    {"Type": "AppendDelimiterToRecord"}]}})
        start(h, "proc")
        encrypted = [MARK + b"proc-%02d" % i for i in range(30)]
        put_batch(h, "proc", encrypted[:15])
        put_batch(h, "proc", encrypted[15:])
        # Processing runs within a second; its output waits in the transformed log.
        wait_for(lambda: glob.glob(os.path.join(h.data_dir, "streams", "s-proc", "transformed",
                                                "*.log")), what="the transformed log")
        time.sleep(2)
        assert glob.glob(os.path.join(h.data_dir, "streams", "s-proc", "transformed", "KEYS"))
        assert stream_files_with(h, MARK) == []
        assert cli(h, "firehose", "stop-delivery-stream-encryption",
                   "--delivery-stream-name", "proc") == {}
        assert put(h, "proc", MARK + b"proc-plain")["Encrypted"] is False
        h.kill()
        h.start()
        assert encryption(h, "proc") == {"Status": "DISABLED"}
        deliver_now(h, "proc")
        want = b"".join(r + b"\n" for r in encrypted + [MARK + b"proc-plain"])
        wait_for(lambda: delivered(h, "proc") == want, timeout=30, what="every record, in order")
    finally:
        h.stop()


def test_a_key_pending_deletion_and_the_error_log(tmp_path):
    """A key scheduled for deletion: Start ends INVALID_KMS_KEY; a stream whose key
    is disabled while records wait logs KMS.DisabledException to its error log
    (CloudWatchLoggingOptions) and counts the failures in /metrics."""
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        doomed, key = new_key(h), new_key(h)
        aws(h, "kms", "schedule-key-deletion", "--key-id", doomed, "--pending-window-in-days", "7")
        create(h, "logged")
        start(h, "logged", doomed)
        enc = encryption(h, "logged")
        assert enc["Status"] == "ENABLING_FAILED"
        assert enc["FailureDescription"]["Type"] == "INVALID_KMS_KEY", enc
        assert "pending deletion" in enc["FailureDescription"]["Details"], enc

        fh = h.client("firehose", validate=False)
        d = fh.describe_delivery_stream(DeliveryStreamName="logged")["DeliveryStreamDescription"]
        fh.update_destination(
            DeliveryStreamName="logged", CurrentDeliveryStreamVersionId=d["VersionId"],
            DestinationId=d["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate={"CloudWatchLoggingOptions": {
                "Enabled": True, "LogGroupName": "/aws/kinesisfirehose/logged",
                "LogStreamName": "DestinationDelivery"}})
        start(h, "logged", key)
        put_batch(h, "logged", [MARK + b"waits"])
        aws(h, "kms", "disable-key", "--key-id", key)
        deliver_now(h, "logged")

        def events():
            p = aws(h, "logs", "filter-log-events", "--log-group-name", "/aws/kinesisfirehose/logged",
                    check=False)
            if p.returncode != 0:
                return []
            return [json.loads(e["message"]) for e in json.loads(p.stdout).get("events", [])]
        wait_for(lambda: [e for e in events() if e["errorCode"] == "KMS.DisabledException"],
                 what="the error event")
        assert metric(h, "hydrant_delivery_failures_total", "logged") >= 1
        assert list_keys(h.client("s3"), "logged-bucket") == []
        aws(h, "kms", "enable-key", "--key-id", key)
        wait_for(lambda: delivered(h, "logged") == MARK + b"waits", timeout=30, what="delivery")
    finally:
        h.stop()
