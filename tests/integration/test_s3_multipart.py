"""Multipart uploads through the embedded store's S3 API, with the real binary and
real clients: boto3's transfer manager and the AWS CLI v2 (`aws s3 cp`), whose
multipart thresholds (5 MiB here, 8 MiB by default) are far below the files."""
import hashlib
import os

import botocore
import pytest
from boto3.s3.transfer import TransferConfig

from conftest import aws

MiB = 1024 * 1024


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def multipart_etag(data, part_size):
    """S3's ETag of an object uploaded in parts of part_size bytes."""
    digests = [hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)]
    return '"%s-%d"' % (hashlib.md5(b"".join(digests)).hexdigest(), len(digests))


def upload_dirs(hydrant):
    """The per-upload folders the store keeps (outside every bucket)."""
    found = []
    for dirpath, dirnames, _ in os.walk(hydrant.data_dir):
        if os.path.basename(dirpath) == ".uploads":
            found += [os.path.join(dirpath, d) for d in dirnames]
    return found


def test_boto3_transfer_round_trip(hydrant, tmp_path):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="mp-bkt")
    src = tmp_path / "random.bin"
    data = os.urandom(20 * MiB)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    s3.upload_file(str(src), "mp-bkt", "dir/random.bin", Config=cfg,
                   ExtraArgs={"ContentType": "application/x-random", "Metadata": {"run": "itest"}})
    head = s3.head_object(Bucket="mp-bkt", Key="dir/random.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag(data, 5 * MiB)  # proves it went in 4 parts
    assert head["ContentType"] == "application/x-random"
    assert head["Metadata"] == {"run": "itest"}
    back = tmp_path / "back.bin"
    s3.download_file("mp-bkt", "dir/random.bin", str(back), Config=cfg)
    assert back.read_bytes() == data
    assert s3.list_multipart_uploads(Bucket="mp-bkt").get("Uploads", []) == []
    assert upload_dirs(hydrant) == []
    # One part of the object, as S3 serves it.
    part = s3.get_object(Bucket="mp-bkt", Key="dir/random.bin", PartNumber=2)
    assert part["PartsCount"] == 4
    assert part["Body"].read() == data[5 * MiB:10 * MiB]


def test_aws_cli_cp_up_and_back(hydrant, tmp_path):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="cli")
    src = tmp_path / "big file.bin"
    data = os.urandom(20 * MiB)
    src.write_bytes(data)
    up = aws(hydrant, "s3", "cp", str(src), "s3://cli/uploads/big file.bin", check=False, timeout=300)
    assert up.returncode == 0, up.stderr
    head = s3.head_object(Bucket="cli", Key="uploads/big file.bin")
    assert head["ContentLength"] == len(data)
    # The CLI's default chunk size is 8 MiB: three parts (8 + 8 + 4 MiB).
    assert head["ETag"] == multipart_etag(data, 8 * MiB)
    back = tmp_path / "back.bin"
    down = aws(hydrant, "s3", "cp", "s3://cli/uploads/big file.bin", str(back), check=False, timeout=300)
    assert down.returncode == 0, down.stderr
    assert back.read_bytes() == data
    assert upload_dirs(hydrant) == []


def test_aborted_upload_leaves_no_object(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="abort-bkt")
    uid = s3.create_multipart_upload(Bucket="abort-bkt", Key="never")["UploadId"]
    s3.upload_part(Bucket="abort-bkt", Key="never", UploadId=uid, PartNumber=1, Body=os.urandom(5 * MiB))
    s3.upload_part(Bucket="abort-bkt", Key="never", UploadId=uid, PartNumber=2, Body=b"end")
    listed = s3.list_multipart_uploads(Bucket="abort-bkt")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("never", uid)]
    assert len(upload_dirs(hydrant)) == 1
    s3.abort_multipart_upload(Bucket="abort-bkt", Key="never", UploadId=uid)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="abort-bkt", Key="never")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.list_objects_v2(Bucket="abort-bkt")["KeyCount"] == 0
    assert s3.list_multipart_uploads(Bucket="abort-bkt").get("Uploads", []) == []
    assert upload_dirs(hydrant) == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket="abort-bkt", Key="never", UploadId=uid)
    assert code(e) == "NoSuchUpload"


def test_upload_survives_restart(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="restart-bkt")
    uid = s3.create_multipart_upload(Bucket="restart-bkt", Key="k", ContentType="text/plain")["UploadId"]
    first = os.urandom(5 * MiB)
    e1 = s3.upload_part(Bucket="restart-bkt", Key="k", UploadId=uid, PartNumber=1, Body=first)["ETag"]
    hydrant.kill()  # no clean shutdown: the acknowledged part must be on disk
    hydrant.start(hydrant.port)
    s3 = hydrant.client("s3")
    parts = s3.list_parts(Bucket="restart-bkt", Key="k", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, e1, len(first))]
    e2 = s3.upload_part(Bucket="restart-bkt", Key="k", UploadId=uid, PartNumber=2, Body=b"tail")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket="restart-bkt", Key="k", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert done["ETag"] == multipart_etag(first + b"tail", 5 * MiB)
    got = s3.get_object(Bucket="restart-bkt", Key="k")
    assert got["Body"].read() == first + b"tail"
    assert got["ContentType"] == "text/plain"


def test_complete_errors(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="errors-bkt")
    uid = s3.create_multipart_upload(Bucket="errors-bkt", Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket="errors-bkt", Key="k", UploadId=uid, PartNumber=1, Body=b"too small")["ETag"]
    e2 = s3.upload_part(Bucket="errors-bkt", Key="k", UploadId=uid, PartNumber=2, Body=b"last")["ETag"]

    def complete(parts):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.complete_multipart_upload(Bucket="errors-bkt", Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": parts})
        return code(e)

    assert complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]) == "EntityTooSmall"
    assert complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]) == "InvalidPartOrder"
    assert complete([{"PartNumber": 1, "ETag": e2}]) == "InvalidPart"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket="errors-bkt", Key="k", UploadId="no-such-upload", PartNumber=1, Body=b"x")
    assert code(e) == "NoSuchUpload"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
