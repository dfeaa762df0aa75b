"""Request bodies cannot exhaust memory (issue 13, item 1): memory follows the
bytes that arrive, not a declared Content-Length; each API has its own limit and
answers a larger body with its own error; S3 uploads stream to disk; the bodies
still arriving share a budget (http_body_memory_mb) and the oldest are cut past
it; a full disk under the S3 store answers 507 InsufficientStorage."""
import base64
import hashlib
import http.client
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import Hydrant, metric, start_with_config, wait_for

DECLARED = 167000000  # the probe


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def raw_request(h, head, body=b"", timeout=10):
    """Sends a request (head without the blank line) and returns the raw answer
    up to the end of its body, or b"" when the server closed without one."""
    s = socket.create_connection(("127.0.0.1", h.port), timeout=timeout)
    try:
        s.sendall(head.encode() + b"\r\n\r\n" + body)
        return read_answer(s)
    finally:
        s.close()


def read_answer(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def status_of(answer):
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def body_of(answer):
    return answer.partition(b"\r\n\r\n")[2]


def open_declaring(h, head_lines, declared, send=b""):
    s = socket.create_connection(("127.0.0.1", h.port), timeout=10)
    s.sendall(("%s\r\nContent-Length: %d\r\n\r\n" % (head_lines, declared)).encode() + send)
    return s


def peak_rss_over(pid, seconds):
    peak, deadline = 0, time.time() + seconds
    while time.time() < deadline:
        peak = max(peak, rss_bytes(pid))
        time.sleep(0.05)
    return peak


def firehose_head(op="PutRecordBatch"):
    return ("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Firehose_20150804.%s\r\n"
            "Content-Type: application/x-amz-json-1.1" % op)


def test_declared_content_length_does_not_grow_memory(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="bkt")
    base = rss_bytes(hydrant.proc.pid)
    conns = []
    try:
        # Bodies read into memory (an S3 XML call, whose limit is above the
        # declared length), streamed uploads and Firehose calls, ten of each.
        for i in range(10):
            conns.append(open_declaring(hydrant, "POST /bkt?delete HTTP/1.1\r\nHost: x", DECLARED,
                                        b"<Delete>"))
            conns.append(open_declaring(hydrant, "PUT /bkt/k%d HTTP/1.1\r\nHost: x" % i, DECLARED,
                                        b"x" * 1000))
        # The server has taken every head once it answers a request sent after them.
        assert s3.list_objects_v2(Bucket="bkt")["KeyCount"] == 0
        peak = peak_rss_over(hydrant.proc.pid, 1.5)
        assert peak - base < 64 << 20, "RSS grew from %d to %d" % (base, peak)
        # A normal put still works meanwhile.
        s3.put_object(Bucket="bkt", Key="normal", Body=b"hello")
        assert s3.get_object(Bucket="bkt", Key="normal")["Body"].read() == b"hello"
    finally:
        for c in conns:
            c.close()
    # A cut upload leaves nothing behind.
    wait_for(lambda: s3.list_objects_v2(Bucket="bkt")["KeyCount"] == 1, what="only 'normal'")


def test_each_protocol_answers_a_too_large_body_with_its_own_error(hydrant):
    hydrant.client("s3").create_bucket(Bucket="bkt")
    # Firehose: AWS's InvalidArgumentException, as JSON.
    a = raw_request(hydrant, firehose_head() + "\r\nContent-Length: %d" % (9 << 20))
    assert status_of(a) == 400, a
    err = json.loads(body_of(a))
    assert err["__type"] == "InvalidArgumentException"
    assert "4 MB" in err["message"]
    # S3 upload past 5 GiB, and an XML body past the in-memory limit: EntityTooLarge.
    for head in ["PUT /bkt/big HTTP/1.1\r\nHost: x\r\nContent-Length: %d" % (6 << 30),
                 "POST /bkt?delete HTTP/1.1\r\nHost: x\r\nContent-Length: %d" % (200 << 20)]:
        a = raw_request(hydrant, head)
        assert status_of(a) == 400, a
        assert b"<Code>EntityTooLarge</Code>" in body_of(a), a
        assert b"<MaxSizeAllowed>" in body_of(a)
    # CloudWatch Logs: InvalidParameterException.
    a = raw_request(hydrant, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Logs_20140328.PutLogEvents"
                    "\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %d" % (5 << 20))
    assert status_of(a) == 400, a
    assert json.loads(body_of(a))["__type"] == "InvalidParameterException"
    # Lambda Invoke: 413 RequestEntityTooLargeException past 6 MB.
    a = raw_request(hydrant, "POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: %d" % (6291456 + 1))
    assert status_of(a) == 413, a
    assert b"RequestEntityTooLargeException" in a
    # Within the limits, requests still pass (a batch of 3 MiB).
    fh = hydrant.client("firehose")
    fh.create_delivery_stream(DeliveryStreamName="s", S3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::bkt"})
    r = fh.put_record_batch(DeliveryStreamName="s",
                            Records=[{"Data": b"x" * (1000 << 10)}] * 3)
    assert r["FailedPutCount"] == 0


def test_a_large_upload_is_streamed_not_held(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="bkt")
    size = 64 << 20
    piece = os.urandom(1 << 20)
    md5 = hashlib.md5()
    for _ in range(size // len(piece)):
        md5.update(piece)
    base = rss_bytes(hydrant.proc.pid)
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes(hydrant.proc.pid))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", hydrant.port, timeout=60)
        conn.putrequest("PUT", "/bkt/big")
        conn.putheader("Content-Length", str(size))
        conn.putheader("Content-MD5", base64.b64encode(md5.digest()).decode())
        conn.endheaders()
        for _ in range(size // len(piece)):
            conn.send(piece)
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        assert resp.getheader("ETag") == '"%s"' % md5.hexdigest()
        conn.close()
    finally:
        done.set()
        t.join()
    assert peak[0] - base < 24 << 20, "RSS grew by %d bytes" % (peak[0] - base)
    got = hashlib.md5(s3.get_object(Bucket="bkt", Key="big")["Body"].read()).hexdigest()
    assert got == md5.hexdigest()

    # A wrong Content-MD5 on a streamed upload leaves nothing visible.
    a = raw_request(hydrant, "PUT /bkt/bad HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    "Content-MD5: %s" % base64.b64encode(hashlib.md5(b"abd").digest()).decode(),
                    b"abc")
    assert status_of(a) == 400 and b"BadDigest" in a, a
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket="bkt", Key="bad")


def test_aws_chunked_streamed_upload_is_decoded_and_checked(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="bkt")
    data = os.urandom(3 << 20)
    chunked = b""
    for i in range(0, len(data), 1 << 20):
        part = data[i:i + (1 << 20)]
        chunked += b"%x\r\n" % len(part) + part + b"\r\n"
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    chunked += b"0\r\nx-amz-checksum-sha256:" + sha.encode() + b"\r\n\r\n"
    head = ("PUT /bkt/chunked HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
            "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n"
            "Content-Encoding: aws-chunked\r\nx-amz-trailer: x-amz-checksum-sha256\r\n"
            "x-amz-decoded-content-length: %d" % (len(chunked), len(data)))
    a = raw_request(hydrant, head, chunked, timeout=30)
    assert status_of(a) == 200, a
    assert s3.get_object(Bucket="bkt", Key="chunked")["Body"].read() == data
    bad = chunked.replace(sha.encode(), base64.b64encode(b"\0" * 32))
    a = raw_request(hydrant, head.replace("/bkt/chunked", "/bkt/chunked-bad"), bad, timeout=30)
    assert status_of(a) == 400 and b"BadDigest" in a, a
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket="bkt", Key="chunked-bad")


def test_partial_bodies_share_a_budget_and_the_oldest_is_cut(tmp_path):
    # Each body below holds a 4 MiB window once 2 MiB of it arrived: two of them
    # pass 8 MiB, and whichever asks last, the older one is cut.
    with start_with_config(tmp_path, "http_body_memory_mb = 8\n") as h:
        h.client("s3").create_bucket(Bucket="bkt")
        head = "POST /bkt?delete HTTP/1.1\r\nHost: x"
        old = open_declaring(h, head, 100 << 20, b"a" * (3 << 20))
        young = open_declaring(h, head, 100 << 20, b"b" * (3 << 20))
        old.settimeout(10)

        def old_closed():
            try:
                return old.recv(1) == b""
            except ConnectionResetError:
                return True
        assert old_closed(), "the oldest partial body was not cut"
        assert "event=request_cut" in h.log()
        # The younger one is still being read.
        young.sendall(b"c" * 1024)
        young.close()
        old.close()
        assert h.client("s3").list_objects_v2(Bucket="bkt")["KeyCount"] == 0


def test_full_disk_answers_insufficient_storage(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    data = tmp_path / "data"
    store = data / "s3"
    store.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(store)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with Hydrant(str(data)).start() as h:
            s3 = h.client("s3")
            s3.create_bucket(Bucket="bkt")
            conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
            conn.request("PUT", "/bkt/big", body=b"x" * (16 << 20))
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 507, body
            assert b"<Code>InsufficientStorage</Code>" in body
            assert "event=disk_full" in h.log()
            assert metric(h, "hydrant_s3_disk_full_requests_total") == 1
            with pytest.raises(s3.exceptions.ClientError):
                s3.head_object(Bucket="bkt", Key="big")
            # The failed upload's temp file is gone: a small put fits again.
            s3.put_object(Bucket="bkt", Key="small", Body=b"x" * (1 << 20))
    finally:
        subprocess.run(["umount", "-l", str(store)])
