"""TLS on the listener and secure defaults (issue 14): HTTPS from certificates made
by `hydrant cert`, with real clients (curl, boto3, the AWS CLI v2, openssl
s_client); TLS 1.2 and 1.3 only; the certificate reloaded on SIGHUP without
dropping connections (a bad one refused); a second, plain listener beside HTTPS;
open mode refused on a non-loopback address unless --allow-anonymous."""
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from contextlib import closing

import boto3
import pytest
from botocore.config import Config

from conftest import AWS, CLIENT_ENV, HYDRANT, Hydrant, wait_for

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")


def make_certs(folder, *hosts):
    """`hydrant cert --out folder`: ca.pem, cert.pem, key.pem, ca-key.pem."""
    args = [HYDRANT, "cert", "--out", str(folder)]
    for h in hosts:
        args += ["--host", h]
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return folder


class TlsHydrant(Hydrant):
    """hydrant serving HTTPS on 127.0.0.1 (port 0), maybe with a plain listener."""

    def __init__(self, data_dir, certs, extra_args=()):
        super().__init__(data_dir, ["--tls-cert", str(certs / "cert.pem"),
                                    "--tls-key", str(certs / "key.pem"), *extra_args])
        self.plain_port = None

    @property
    def endpoint(self):
        return "https://localhost:%d" % self.port

    def start(self, port=0):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [HYDRANT, "serve", "--listen", "127.0.0.1:%d" % port, "--data-dir", self.data_dir]
            + self.extra_args, stdout=subprocess.PIPE, stderr=log)
        log.close()
        want_plain = "--listen-plain" in self.extra_args
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            m = re.search(rb"^hydrant listening on https://127\.0\.0\.1:(\d+)$", line.strip())
            if m:
                self.port = int(m.group(1))
            m = re.search(rb"^hydrant also listening on http://127\.0\.0\.1:(\d+) \(plain HTTP\)$",
                          line.strip())
            if m:
                self.plain_port = int(m.group(1))
            if self.port and (self.plain_port or not want_plain):
                return self
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError("hydrant did not start:\n%s" % self.log())

    def tls_client(self, service, ca):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1", verify=str(ca),
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                          s3={"addressing_style": "path"}))


@pytest.fixture
def certs(tmp_path):
    return make_certs(tmp_path / "certs")


@pytest.fixture
def tls_hydrant(tmp_path, certs):
    with TlsHydrant(str(tmp_path / "data"), certs).start() as h:
        yield h


def der(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def https_conn(port, cafiles):
    ctx = ssl.create_default_context()
    for ca in cafiles:
        ctx.load_verify_locations(str(ca))
    return http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)


def get_health(conn):
    conn.request("GET", "/health")
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, (r.status, body)
    return body


def peer_cert(conn):
    return conn.sock.getpeercert(binary_form=True)


def curl(*args):
    return subprocess.run([CURL, "-sS", *args], capture_output=True, text=True, timeout=30)


# ---------------------------------------------------------------- clients


@pytest.mark.skipif(not CURL, reason="curl is needed")
def test_curl_verifies_with_the_ca_and_negotiates_http11(tls_hydrant, certs):
    for host in ("localhost", "127.0.0.1"):
        p = curl("-v", "--cacert", str(certs / "ca.pem"),
                 "https://%s:%d/health" % (host, tls_hydrant.port))
        assert p.returncode == 0, p.stderr
        assert p.stdout == "ok\n"
        assert "ALPN: server accepted http/1.1" in p.stderr, p.stderr
        assert re.search(r"SSL connection using TLSv1\.3", p.stderr), p.stderr
    # Without the CA the certificate is not trusted (curl exit 60): verification is real.
    p = curl("https://localhost:%d/health" % tls_hydrant.port)
    assert p.returncode == 60, (p.returncode, p.stderr)
    # Plain HTTP on the HTTPS port gets nothing, and the server goes on.
    p = curl("--max-time", "5", "http://127.0.0.1:%d/health" % tls_hydrant.port)
    assert p.returncode != 0 and p.stdout == ""
    assert curl("--cacert", str(certs / "ca.pem"),
                "https://localhost:%d/health" % tls_hydrant.port).stdout == "ok\n"


def test_boto3_firehose_put_then_s3_get_over_https(tls_hydrant, certs):
    ca = certs / "ca.pem"
    s3 = tls_hydrant.tls_client("s3", ca)
    fh = tls_hydrant.tls_client("firehose", ca)
    s3.create_bucket(Bucket="tls-bucket")
    fh.create_delivery_stream(
        DeliveryStreamName="tls", ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::tls-bucket", "Prefix": "tls/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
    records = [b"record-%04d\n" % i for i in range(300)]
    r = fh.put_record_batch(DeliveryStreamName="tls", Records=[{"Data": d} for d in records])
    assert r["FailedPutCount"] == 0
    big = os.urandom(200_000)  # a body over many TLS records
    fh.put_record(DeliveryStreamName="tls", Record={"Data": big})

    def delivered():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="tls-bucket").get("Contents", [])]
        data = b"".join(s3.get_object(Bucket="tls-bucket", Key=k)["Body"].read() for k in sorted(keys))
        return data if len(data) >= sum(map(len, records)) + len(big) else None

    # BufferingHints 60 s is the API's minimum: the stream flushes on its interval.
    data = wait_for(delivered, timeout=90, interval=1, what="delivery over HTTPS")
    assert data == b"".join(records) + big
    # An S3 object straight from the store, and its digest.
    s3.put_object(Bucket="tls-bucket", Key="direct", Body=big)
    got = s3.get_object(Bucket="tls-bucket", Key="direct")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(big).digest()


def test_aws_cli_with_ca_bundle(tls_hydrant, certs, tmp_path):
    env = dict(os.environ, **CLIENT_ENV)
    env["AWS_CONFIG_FILE"] = "/nonexistent-hydrant-itest-config"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent-hydrant-itest-credentials"

    def cli(*args, ca=True):
        base = [AWS, "--endpoint-url", tls_hydrant.endpoint, "--output", "json"]
        if ca:
            base += ["--ca-bundle", str(certs / "ca.pem")]
        return subprocess.run(base + list(args), env=env, capture_output=True, text=True, timeout=120)

    assert cli("s3", "mb", "s3://cli-bucket").returncode == 0
    src = tmp_path / "obj.bin"
    src.write_bytes(os.urandom(100_000))
    p = cli("s3", "cp", str(src), "s3://cli-bucket/obj.bin")
    assert p.returncode == 0, p.stderr
    p = cli("s3", "ls", "s3://cli-bucket/")
    assert p.returncode == 0 and "obj.bin" in p.stdout, p.stderr
    p = cli("firehose", "list-delivery-streams")
    assert p.returncode == 0, p.stderr
    # Without the bundle the CLI refuses the certificate.
    p = cli("firehose", "list-delivery-streams", ca=False)
    assert p.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in p.stderr, p.stderr


@pytest.mark.skipif(not OPENSSL, reason="openssl is needed")
def test_only_tls12_and_tls13_are_accepted(tls_hydrant, certs):
    def s_client(*args):
        return subprocess.run(
            [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % tls_hydrant.port,
             "-servername", "localhost", *args],
            input="", capture_output=True, text=True, timeout=30)

    for version, proto in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        p = s_client(version, "-alpn", "http/1.1")
        assert p.returncode == 0, p.stdout + p.stderr
        assert "Protocol  : %s" % proto in p.stdout or "New, %s" % proto in p.stdout, p.stdout
        assert "ALPN protocol: http/1.1" in p.stdout, p.stdout
    # The client is allowed to offer the old protocols (security level 0), so that
    # a refusal is the server's.
    for version in ("-tls1_1", "-tls1"):
        p = s_client(version, "-cipher", "DEFAULT:@SECLEVEL=0")
        assert p.returncode != 0, p.stdout
        assert re.search(r"alert protocol version|unsupported protocol|wrong version",
                         p.stdout + p.stderr), p.stdout + p.stderr
    # A TLS 1.2 client offering only a CBC suite (no AEAD) is refused too.
    p = s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")
    assert p.returncode != 0
    wait_for(lambda: "event=tls_handshake_failed" in tls_hydrant.log(), timeout=10,
             what="a tls_handshake_failed line")
    # Each failure closed its connection only.
    with closing(https_conn(tls_hydrant.port, [certs / "ca.pem"])) as c:
        assert get_health(c) == b"ok\n"


def test_handshake_must_finish_within_the_header_timeout(tmp_path, certs):
    cfg = tmp_path / "h.toml"
    cfg.write_text("http_header_timeout_seconds = 1\n")
    with TlsHydrant(str(tmp_path / "data"), certs, ["--config", str(cfg)]).start() as h:
        s = socket.create_connection(("127.0.0.1", h.port), timeout=10)
        t0 = time.time()
        assert s.recv(100) == b""  # closed without a ClientHello
        assert time.time() - t0 < 5
        s.close()
        # A connection that stops after half a ClientHello is closed too.
        s = socket.create_connection(("127.0.0.1", h.port), timeout=10)
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        assert s.recv(100) == b""
        s.close()
        with closing(https_conn(h.port, [certs / "ca.pem"])) as c:
            assert get_health(c) == b"ok\n"


def test_limits_apply_over_tls(tls_hydrant, certs):
    """A Firehose body over its limit gets the API's error before it is sent."""
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    with socket.create_connection(("127.0.0.1", tls_hydrant.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: "
                      b"Firehose_20150804.PutRecordBatch\r\nContent-Type: application/x-amz-json-1.1"
                      b"\r\nContent-Length: 167000000\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]


# ---------------------------------------------------------------- reload on SIGHUP


def reload(h, event):
    before = h.log().count(event)
    h.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: h.log().count(event) > before, timeout=10, what=event)


def test_sighup_reloads_the_certificate_for_new_connections_only(tmp_path):
    a = make_certs(tmp_path / "a")
    b = make_certs(tmp_path / "b")
    live = tmp_path / "live"
    shutil.copytree(a, live)
    cas = [a / "ca.pem", b / "ca.pem"]  # the client trusts both, to see which it gets
    with TlsHydrant(str(tmp_path / "data"), live).start() as h:
        old = https_conn(h.port, cas)
        get_health(old)
        assert peer_cert(old) == der(a / "cert.pem")

        shutil.copy(b / "cert.pem", live / "cert.pem")
        shutil.copy(b / "key.pem", live / "key.pem")
        reload(h, "event=tls_reloaded")

        # The connection opened before keeps working, on its own session.
        sock_before = old.sock
        for _ in range(3):
            assert get_health(old) == b"ok\n"
        assert old.sock is sock_before
        assert peer_cert(old) == der(a / "cert.pem")
        # New connections get the new certificate.
        with closing(https_conn(h.port, cas)) as new:
            get_health(new)
            assert peer_cert(new) == der(b / "cert.pem")
        # A client that trusts only the new CA connects; one that trusts only the old does not.
        p = curl("--cacert", str(b / "ca.pem"), "https://localhost:%d/health" % h.port)
        assert p.stdout == "ok\n", p.stderr
        p = curl("--cacert", str(a / "ca.pem"), "https://localhost:%d/health" % h.port)
        assert p.returncode == 60
        old.close()


def test_sighup_with_a_bad_certificate_keeps_the_current_one(tmp_path):
    a = make_certs(tmp_path / "a")
    b = make_certs(tmp_path / "b")
    live = tmp_path / "live"
    shutil.copytree(a, live)
    cas = [a / "ca.pem"]
    with TlsHydrant(str(tmp_path / "data"), live).start() as h:
        # A key that does not match the certificate.
        shutil.copy(b / "cert.pem", live / "cert.pem")
        reload(h, "event=tls_reload_failed")
        assert "does not match the certificate" in h.log()
        with closing(https_conn(h.port, cas)) as c:
            get_health(c)
            assert peer_cert(c) == der(a / "cert.pem")
        # A file that is not PEM at all.
        (live / "cert.pem").write_text("not a certificate\n")
        reload(h, "event=tls_reload_failed")
        with closing(https_conn(h.port, cas)) as c:
            get_health(c)
            assert peer_cert(c) == der(a / "cert.pem")
        assert h.proc.poll() is None


# ---------------------------------------------------------------- plain listener


def test_plain_listener_serves_beside_https(tmp_path, certs):
    with TlsHydrant(str(tmp_path / "data"), certs, ["--listen-plain", "127.0.0.1:0"]).start() as h:
        assert h.plain_port and h.plain_port != h.port
        plain = boto3.client("firehose", endpoint_url="http://127.0.0.1:%d" % h.plain_port,
                             region_name="us-east-1", aws_access_key_id="test",
                             aws_secret_access_key="test")
        secure = h.tls_client("firehose", certs / "ca.pem")
        h.tls_client("s3", certs / "ca.pem").create_bucket(Bucket="both")
        plain.create_delivery_stream(
            DeliveryStreamName="both", ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::both"})
        # Each sees what the other made: one server, two listeners.
        assert "both" in secure.list_delivery_streams()["DeliveryStreamNames"]
        assert secure.put_record(DeliveryStreamName="both", Record={"Data": b"x"})["RecordId"]
        assert plain.put_record(DeliveryStreamName="both", Record={"Data": b"y"})["RecordId"]
        # TLS is not spoken on the plain port.
        p = curl("--max-time", "5", "--cacert", str(certs / "ca.pem"),
                 "https://localhost:%d/health" % h.plain_port)
        assert p.returncode != 0


def test_plain_listener_without_tls_prints_both_lines(tmp_path):
    p = subprocess.Popen([HYDRANT, "serve", "--listen", "127.0.0.1:0", "--listen-plain",
                          "127.0.0.1:0", "--data-dir", str(tmp_path / "data")],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        first = p.stdout.readline().decode()
        second = p.stdout.readline().decode()
        assert re.match(r"hydrant listening on http://127\.0\.0\.1:\d+$", first.strip()), first
        assert re.match(r"hydrant also listening on http://127\.0\.0\.1:\d+ \(plain HTTP\)$",
                        second.strip()), second
    finally:
        p.terminate()
        p.wait(20)


# ---------------------------------------------------------------- secure defaults


def serve_exit(tmp_path, *args):
    """Runs `hydrant serve` expecting it to refuse; returns (exit code, stderr)."""
    p = subprocess.run([HYDRANT, "serve", "--data-dir", str(tmp_path / "data"), *args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


def test_open_mode_is_refused_beyond_loopback(tmp_path):
    rc, err = serve_exit(tmp_path, "--listen", "0.0.0.0:0")
    assert rc == 2
    assert "refusing to start" in err and "0.0.0.0:0 is not a loopback address" in err, err
    assert "--allow-anonymous" in err
    assert len(err.strip().splitlines()) == 1, err
    # The plain listener is checked too, and IPv6's any address.
    rc, err = serve_exit(tmp_path, "--listen", "127.0.0.1:0", "--listen-plain", "0.0.0.0:0")
    assert rc == 2 and "0.0.0.0:0 is not a loopback address" in err, err
    rc, err = serve_exit(tmp_path, "--listen", "[::]:0")
    assert rc == 2 and "is not a loopback address" in err, err
    # Nothing was created: the refusal comes before anything is opened.
    assert not (tmp_path / "data").exists()


def test_allow_anonymous_overrides_the_refusal(tmp_path):
    p = subprocess.Popen([HYDRANT, "serve", "--listen", "0.0.0.0:0", "--allow-anonymous",
                          "--data-dir", str(tmp_path / "data")],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = p.stdout.readline().decode()
        m = re.match(r"hydrant listening on http://0\.0\.0\.0:(\d+)$", line.strip())
        assert m, line
        with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=10) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        p.terminate()
        p.wait(20)
    # The same from the config file.
    cfg = tmp_path / "anon.toml"
    cfg.write_text('listen = "0.0.0.0:0"\nallow_anonymous = true\n')
    p = subprocess.Popen([HYDRANT, "serve", "--config", str(cfg), "--data-dir", str(tmp_path / "d2")],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert p.stdout.readline().decode().startswith("hydrant listening on http://0.0.0.0:")
    finally:
        p.terminate()
        p.wait(20)


def test_cert_command_refuses_to_overwrite(tmp_path):
    make_certs(tmp_path / "c", "hydrant.test")
    p = subprocess.run([HYDRANT, "cert", "--out", str(tmp_path / "c")], capture_output=True, text=True)
    assert p.returncode == 1 and "--force" in p.stderr, p.stderr
    assert oct(os.stat(tmp_path / "c" / "key.pem").st_mode & 0o777) == "0o600"
    p = subprocess.run([HYDRANT, "cert", "--out", str(tmp_path / "c"), "--force"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
