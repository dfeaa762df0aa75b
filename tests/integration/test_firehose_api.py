"""The Firehose control plane and put API, driven with boto3 against the real server."""
import json
import os

import botocore
import pytest

from conftest import s3_dest, wait_for


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def create(fh, name, bucket="bucket-a", **dest):
    return fh.create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_dest(bucket, **dest))


def test_create_describe_echoes_defaults(hydrant):
    fh = hydrant.client("firehose")
    arn = create(fh, "orders")["DeliveryStreamARN"]
    assert arn == "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders"
    d = fh.describe_delivery_stream(DeliveryStreamName="orders")["DeliveryStreamDescription"]
    assert d["DeliveryStreamName"] == "orders"
    assert d["DeliveryStreamARN"] == arn
    assert d["DeliveryStreamStatus"] == "ACTIVE"
    assert d["DeliveryStreamType"] == "DirectPut"
    assert d["VersionId"] == "1"
    assert d["HasMoreDestinations"] is False
    assert d["DeliveryStreamEncryptionConfiguration"]["Status"] == "DISABLED"
    assert len(d["Destinations"]) == 1
    dest = d["Destinations"][0]
    assert dest["DestinationId"] == "destinationId-000000000001"
    ext = dest["ExtendedS3DestinationDescription"]
    assert ext["BucketARN"] == "arn:aws:s3:::bucket-a"
    assert ext["RoleARN"] == "arn:aws:iam::000000000000:role/firehose"
    assert ext["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert ext["CompressionFormat"] == "UNCOMPRESSED"
    assert ext["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert ext["CloudWatchLoggingOptions"] == {"Enabled": False}
    assert ext["S3BackupMode"] == "Disabled"
    s3 = dest["S3DestinationDescription"]
    assert s3["BucketARN"] == "arn:aws:s3:::bucket-a"
    assert s3["CompressionFormat"] == "UNCOMPRESSED"


def test_account_and_region_are_configurable(tmp_path):
    from conftest import Hydrant
    with Hydrant(str(tmp_path / "d"), ["--region", "eu-west-1", "--account-id", "123456789012"]).start() as h:
        fh = h.client("firehose")
        arn = create(fh, "s1")["DeliveryStreamARN"]
        assert arn == "arn:aws:firehose:eu-west-1:123456789012:deliverystream/s1"


def test_legacy_s3_destination_configuration(hydrant):
    fh = hydrant.client("firehose")
    fh.create_delivery_stream(DeliveryStreamName="legacy", S3DestinationConfiguration=s3_dest(
        "b1", Prefix="logs/", CompressionFormat="GZIP"))
    d = fh.describe_delivery_stream(DeliveryStreamName="legacy")["DeliveryStreamDescription"]
    dest = d["Destinations"][0]
    assert dest["S3DestinationDescription"]["Prefix"] == "logs/"
    assert dest["S3DestinationDescription"]["CompressionFormat"] == "GZIP"
    assert dest["ExtendedS3DestinationDescription"]["CompressionFormat"] == "GZIP"


def test_list_pagination_and_type_filter(hydrant):
    fh = hydrant.client("firehose")
    for n in ["c", "a", "e", "b", "d"]:
        create(fh, "s-" + n)
    r = fh.list_delivery_streams(Limit=2)
    assert r["DeliveryStreamNames"] == ["s-a", "s-b"]
    assert r["HasMoreDeliveryStreams"] is True
    r = fh.list_delivery_streams(Limit=2, ExclusiveStartDeliveryStreamName="s-b")
    assert r["DeliveryStreamNames"] == ["s-c", "s-d"]
    r = fh.list_delivery_streams(Limit=10, ExclusiveStartDeliveryStreamName="s-d")
    assert r == {"DeliveryStreamNames": ["s-e"], "HasMoreDeliveryStreams": False,
                 "ResponseMetadata": r["ResponseMetadata"]}
    assert fh.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"] == []
    assert len(fh.list_delivery_streams(DeliveryStreamType="DirectPut")["DeliveryStreamNames"]) == 5


def test_errors_have_aws_types_and_change_nothing(hydrant):
    fh = hydrant.client("firehose", validate=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.describe_delivery_stream(DeliveryStreamName="missing")
    assert err(e) == ("ResourceNotFoundException",
                      "Firehose missing under account 000000000000 not found.")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(fh, "bad name")
    code, msg = err(e)
    assert code == "ValidationException"
    assert "deliveryStreamName" in msg and "regular expression pattern" in msg

    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(fh, "x" * 65)
    assert err(e)[0] == "ValidationException"
    assert "length less than or equal to 64" in err(e)[1]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(fh, "hints", BufferingHints={"SizeInMBs": 129, "IntervalInSeconds": 60})
    assert err(e)[0] == "ValidationException"
    assert "sizeInMBs" in err(e)[1] and "less than or equal to 128" in err(e)[1]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(fh, "comp", CompressionFormat="gzip")
    assert err(e)[0] == "ValidationException"
    assert "enum value set" in err(e)[1]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.create_delivery_stream(DeliveryStreamName="two",
                                  ExtendedS3DestinationConfiguration=s3_dest("b"),
                                  S3DestinationConfiguration=s3_dest("b"))
    assert err(e)[0] == "InvalidArgumentException"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(fh, "pfx", Prefix="!{timestamp:yyyy}/")  # expressions need an ErrorOutputPrefix
    assert err(e)[0] == "InvalidArgumentException"

    # None of the rejected requests created anything.
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []

    create(fh, "dup")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(fh, "dup")
    assert err(e)[0] == "ResourceInUseException"


def test_update_destination_merges_and_versions(hydrant):
    fh = hydrant.client("firehose", validate=False)
    create(fh, "u", Prefix="p/", CompressionFormat="GZIP")
    d = fh.describe_delivery_stream(DeliveryStreamName="u")["DeliveryStreamDescription"]
    fh.update_destination(DeliveryStreamName="u", CurrentDeliveryStreamVersionId=d["VersionId"],
                          DestinationId=d["Destinations"][0]["DestinationId"],
                          ExtendedS3DestinationUpdate={"BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 30}})
    d2 = fh.describe_delivery_stream(DeliveryStreamName="u")["DeliveryStreamDescription"]
    ext = d2["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert d2["VersionId"] == "2"
    assert "LastUpdateTimestamp" in d2
    assert ext["BufferingHints"] == {"SizeInMBs": 2, "IntervalInSeconds": 30}
    assert ext["Prefix"] == "p/"                 # merged: omitted fields are kept
    assert ext["CompressionFormat"] == "GZIP"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.update_destination(DeliveryStreamName="u", CurrentDeliveryStreamVersionId="1",
                              DestinationId="destinationId-000000000001",
                              ExtendedS3DestinationUpdate={"CompressionFormat": "ZIP"})
    assert err(e)[0] == "ConcurrentModificationException"
    d3 = fh.describe_delivery_stream(DeliveryStreamName="u")["DeliveryStreamDescription"]
    assert d3["VersionId"] == "2"
    assert d3["Destinations"][0]["ExtendedS3DestinationDescription"]["CompressionFormat"] == "GZIP"


def test_tags(hydrant):
    fh = hydrant.client("firehose")
    fh.create_delivery_stream(DeliveryStreamName="t", ExtendedS3DestinationConfiguration=s3_dest("b"),
                              Tags=[{"Key": "team", "Value": "data"}])
    fh.tag_delivery_stream(DeliveryStreamName="t", Tags=[{"Key": "env", "Value": "dev"},
                                                          {"Key": "team", "Value": "ops"}])
    r = fh.list_tags_for_delivery_stream(DeliveryStreamName="t")
    assert r["Tags"] == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "ops"}]
    assert r["HasMoreTags"] is False
    r = fh.list_tags_for_delivery_stream(DeliveryStreamName="t", Limit=1)
    assert r["Tags"] == [{"Key": "env", "Value": "dev"}] and r["HasMoreTags"] is True
    fh.untag_delivery_stream(DeliveryStreamName="t", TagKeys=["env", "nope"])
    assert fh.list_tags_for_delivery_stream(DeliveryStreamName="t")["Tags"] == [{"Key": "team", "Value": "ops"}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.tag_delivery_stream(DeliveryStreamName="t",
                               Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
    assert err(e)[0] == "LimitExceededException"
    assert len(fh.list_tags_for_delivery_stream(DeliveryStreamName="t")["Tags"]) == 1


def test_put_record_and_batch_answers(hydrant):
    fh = hydrant.client("firehose", validate=False)
    create(fh, "p")
    r = fh.put_record(DeliveryStreamName="p", Record={"Data": b"hello"})
    assert isinstance(r["RecordId"], str) and len(r["RecordId"]) > 0
    assert r["Encrypted"] is False
    r = fh.put_record_batch(DeliveryStreamName="p", Records=[{"Data": b"r%d" % i} for i in range(500)])
    assert r["FailedPutCount"] == 0
    assert len(r["RequestResponses"]) == 500
    ids = [x["RecordId"] for x in r["RequestResponses"]]
    assert len(set(ids)) == 500
    assert all(set(x) == {"RecordId"} for x in r["RequestResponses"])
    # Empty data is accepted.
    fh.put_record(DeliveryStreamName="p", Record={"Data": b""})


def test_put_limits(hydrant):
    fh = hydrant.client("firehose", validate=False)
    create(fh, "lim")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.put_record_batch(DeliveryStreamName="lim", Records=[{"Data": b"x"}] * 501)
    assert err(e)[0] == "ValidationException"
    assert "'records'" in err(e)[1] and "less than or equal to 500" in err(e)[1]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.put_record(DeliveryStreamName="lim", Record={"Data": b"x" * 1024001})
    assert err(e)[0] == "ValidationException"
    assert "'record.data'" in err(e)[1] and "1024000" in err(e)[1]
    fh.put_record(DeliveryStreamName="lim", Record={"Data": b"x" * 1024000})  # exactly the limit
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.put_record_batch(DeliveryStreamName="lim", Records=[{"Data": b"y" * 1000000}] * 5)
    assert err(e)[0] == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.put_record(DeliveryStreamName="nope", Record={"Data": b"x"})
    assert err(e)[0] == "ResourceNotFoundException"


def test_malformed_bodies_get_clear_errors(hydrant):
    import urllib.request
    def post(op, body):
        req = urllib.request.Request(hydrant.endpoint + "/", data=body, method="POST", headers={
            "X-Amz-Target": "Firehose_20150804." + op, "Content-Type": "application/x-amz-json-1.1"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
    st, b = post("PutRecord", b"{not json")
    assert st == 400 and b["__type"] == "SerializationException" and b["message"]
    st, b = post("PutRecord", b'{"DeliveryStreamName":"x","Record":{"Data":"not base64!"}}')
    assert st == 400 and b["__type"] == "SerializationException"
    # A character outside the alphabet (or "=" inside) is named, as AWS names it.
    for data, char in ((b"aGV$bG8=", "$"), (b"aG=sbG8=", "=")):
        st, b = post("PutRecordBatch", b'{"DeliveryStreamName":"x","Records":[{"Data":"aGk="},{"Data":"%s"}]}' % data)
        assert st == 400 and b["__type"] == "SerializationException", b
        assert b["message"] == "'%s' can not be converted to a Blob: Invalid Base64 character: '%s'" % (
            data.decode(), char), b
    st, b = post("PutRecord", b'{"DeliveryStreamName":"x"}')
    assert st == 400 and b["__type"] == "ValidationException" and "'record'" in b["message"]
    st, b = post("CreateDeliveryStream", b'[1,2]')
    assert st == 400 and b["__type"] == "SerializationException"
    st, b = post("NoSuchOperation", b'{}')
    assert st == 400 and b["__type"] == "UnknownOperationException"


def test_delete_stream(hydrant):
    fh = hydrant.client("firehose")
    create(fh, "del")
    fh.put_record(DeliveryStreamName="del", Record={"Data": b"gone"})
    fh.delete_delivery_stream(DeliveryStreamName="del")
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []
    # Its files go in the background, as on AWS (DELETING), within moments.
    stream_dir = os.path.join(hydrant.data_dir, "streams", "s-del")
    wait_for(lambda: not os.path.exists(stream_dir), timeout=10, what="the stream's files to go")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.delete_delivery_stream(DeliveryStreamName="del")
    assert err(e)[0] == "ResourceNotFoundException"


def test_streams_survive_restart(hydrant):
    fh = hydrant.client("firehose")
    create(fh, "keep", Prefix="k/", CompressionFormat="Snappy")
    hydrant.restart()
    fh = hydrant.client("firehose")
    d = fh.describe_delivery_stream(DeliveryStreamName="keep")["DeliveryStreamDescription"]
    assert d["Destinations"][0]["ExtendedS3DestinationDescription"]["CompressionFormat"] == "Snappy"


def test_encryption_start_stop(hydrant):
    fh = hydrant.client("firehose")
    create(fh, "enc")
    fh.start_delivery_stream_encryption(DeliveryStreamName="enc",
                                        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"})
    d = fh.describe_delivery_stream(DeliveryStreamName="enc")["DeliveryStreamDescription"]
    assert d["DeliveryStreamEncryptionConfiguration"]["Status"] == "ENABLED"
    assert fh.put_record(DeliveryStreamName="enc", Record={"Data": b"x"})["Encrypted"] is True
    fh.stop_delivery_stream_encryption(DeliveryStreamName="enc")
    d = fh.describe_delivery_stream(DeliveryStreamName="enc")["DeliveryStreamDescription"]
    assert d["DeliveryStreamEncryptionConfiguration"]["Status"] == "DISABLED"


def test_oversized_body_gets_firehose_error(hydrant):
    # As AWS answers (InvalidArgumentException "Records size exceeds 4 MB limit"),
    # from the headers alone; test_http_limits.py covers the other APIs.
    import socket
    with socket.create_connection(("127.0.0.1", hydrant.port), timeout=10) as c:
        c.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Firehose_20150804.PutRecord\r\n"
                  b"Content-Length: 200000000\r\n\r\n")
        reply = c.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400"), reply
    assert b'"__type":"InvalidArgumentException"' in reply
