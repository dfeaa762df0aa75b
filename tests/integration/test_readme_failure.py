"""README, "Reproduce a production delivery failure locally", run as written: its
shell blocks are read from README.md and run with bash and the AWS CLI v2 against
a hydrant started with delivery roles enforced (the section's first block), as
one terminal session (a variable a block sets, such as $KEY, is there for the
next). Bucket policy: the doctor must name the denying statement, the error log
and /metrics (hydrant_delivery_errors_total) must hold S3.AccessDenied, and the
record must arrive once the policy is deleted.
Disabled KMS key: the doctor must name the key as Disabled, the server's log, the
error log and /metrics must show S3.KMS.DisabledException and the failed attempts
while nothing is written, and once the key is enabled every record must arrive
SSE-KMS under that key. The outputs the README claims are compared with the real
ones."""
import json
import os
import re
import subprocess
import time

from conftest import AWS, CLIENT_ENV, HYDRANT, ROOT, metrics_text, start_with_config, wait_for

SECTION = "### Reproduce a production delivery failure locally"


def counted_codes(metrics, stream):
    """{error code: count} of hydrant_delivery_errors_total for stream in a /metrics text."""
    pattern = r'^hydrant_delivery_errors_total\{delivery_stream="%s",error_code="([^"]*)"\} (\S+)$'
    return {code: float(n) for code, n in re.findall(pattern % re.escape(stream), metrics, re.M)}


def section():
    text = open(os.path.join(ROOT, "README.md")).read()
    start = text.index(SECTION)
    ends = [text.find(h, start + len(SECTION)) for h in ("\n## ", "\n### ")]
    return text[start:min(e for e in ends if e != -1)]


def fenced(language):
    """The section's fenced blocks of `language` ("" for the expected outputs)."""
    return [body for lang, body in re.findall(r"^```(\w*)\n(.*?)^```$", section(), re.S | re.M)
            if lang == language]


def shell_blocks():
    return fenced("sh")


def output_blocks():
    return fenced("")


def commands(block):
    """A block cut before each command line (comments stay with the command above)."""
    return re.split(r"\n(?=aws |[A-Z]+=|curl |\./build/)", block.strip())


def claimed(cmd):
    """The output a command's comment lines claim ("# 0" -> ["0"])."""
    return [l[2:] for l in cmd.splitlines() if l.startswith("# ")]


def assigned_names():
    return sorted(set(re.findall(r"^([A-Z_]+)=", "\n".join(shell_blocks()), re.M)) - {"H"})


def run(h, script, check=True):
    """Runs README lines with `aws` the CLI v2, $H and http://127.0.0.1:4573 this
    server, ./build/hydrant this build, stopping at the first failing command. The
    variables the section assigns are kept in a file from one call to the next."""
    env = dict(os.environ, **CLIENT_ENV)
    env["AWS_CONFIG_FILE"] = "/nonexistent-hydrant-itest-config"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent-hydrant-itest-credentials"
    state = h.log_path + ".readme-vars"
    prelude = ('aws() { "%s" "$@"; }\nH="--endpoint-url %s"\n[ -f "%s" ] && . "%s"\nset -e\n'
               % (AWS, h.endpoint, state, state))
    epilogue = '\ndeclare -p %s > "%s" 2>/dev/null || true\n' % (" ".join(assigned_names()), state)
    script = re.sub(r"\./build/hydrant doctor (\S+)",
                    lambda m: '"%s" doctor %s --endpoint %s' % (HYDRANT, m.group(1), h.endpoint),
                    script)
    script = script.replace("http://127.0.0.1:4573", h.endpoint)
    p = subprocess.run(["bash", "-c", prelude + script + epilogue], capture_output=True,
                       text=True, env=env, timeout=180)
    if check:
        assert p.returncode == 0, (script, p.stdout, p.stderr, h.log()[-2000:])
    return p


def test_the_readme_section_runs_as_written(tmp_path):
    blocks = shell_blocks()
    assert len(blocks) == 6, blocks
    assert "enforce_roles = true" in blocks[0]
    with start_with_config(tmp_path, "[auth]\nenforce_roles = true\n") as h:
        bucket_policy(h, blocks[1], blocks[2])
        disabled_key(h, blocks[3], blocks[4], blocks[5])


def bucket_policy(h, setup_block, fix_block):
    # Everything up to the doctor must succeed; the doctor exits 1 (a check failed).
    setup, doctor = setup_block.split("./build/hydrant doctor seed")
    run(h, setup)
    p = run(h, "./build/hydrant doctor seed" + doctor, check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    line = [l for l in p.stdout.splitlines() if l.startswith("FAIL  role permissions")]
    assert line and 'statement "NoFirehose"' in line[0] and "bucket policy of my-bucket" in line[0], p.stdout
    assert "PASS  role trust" in p.stdout

    logs_cmd, delete_cmd, ls_cmd = commands(fix_block)
    # The first delivery attempt comes after the 60 s buffering interval.
    def access_denied_events():
        p = run(h, logs_cmd, check=False)  # no log group before the first failure
        return json.loads(p.stdout).get("events") if p.returncode == 0 and p.stdout.strip() else None
    events = wait_for(access_denied_events, timeout=120, interval=2,
                      what="S3.AccessDenied in the error log")
    assert json.loads(events[0]["message"])["errorCode"] == "S3.AccessDenied"
    codes = counted_codes(metrics_text(h), "seed")
    assert set(codes) == {"S3.AccessDenied"} and codes["S3.AccessDenied"] >= 1, codes
    run(h, delete_cmd)
    t0 = time.time()
    wait_for(lambda: "events/" in run(h, ls_cmd).stdout, timeout=60, interval=1,
             what="the held record in the bucket")
    assert time.time() - t0 < 60


def disabled_key(h, setup_block, failing_block, fix_block):
    doctor_claim, server_log_claim = output_blocks()[1:3]
    setup, doctor = setup_block.split("./build/hydrant doctor sealed")
    run(h, setup)
    key_arn = run(h, 'echo "$KEY"').stdout.strip()
    assert re.fullmatch(r"arn:aws:kms:us-east-1:000000000000:key/[0-9a-f-]{36}", key_arn), key_arn
    key_id = key_arn.split("/")[-1]

    # The doctor: the key, its state and the fix; the probe's code is delivery's.
    p = run(h, "./build/hydrant doctor sealed" + doctor, check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    lines = {l[:28].strip(): l for l in p.stdout.splitlines() if l.startswith(("FAIL", "PASS"))}
    kms_line = lines.get("FAIL  SSE-KMS key", "")
    assert "key %s is Disabled: %s is disabled." % (key_arn, key_arn) in kms_line, p.stdout
    assert kms_line.endswith("→ fix: enable the key: aws kms enable-key --key-id " + key_id), kms_line
    assert "S3.KMS.DisabledException: The provided AWS KMS key is disabled." in \
        lines.get("FAIL  bucket access", ""), p.stdout
    assert "PASS  role permissions" in lines and "PASS  role trust" in lines, p.stdout
    for claim in ("FAIL  SSE-KMS key", "is Disabled:", "→ fix: enable the key: aws kms enable-key --key-id",
                  "FAIL  bucket access", "S3.KMS.DisabledException: The provided"):
        assert claim in doctor_claim, claim

    count_cmd, logs_cmd, metrics_cmd = commands(failing_block)
    # The first attempt comes after the 60 s buffering interval.
    def disabled_event():
        p = run(h, logs_cmd, check=False)  # no log group before the first failure
        return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() not in ("", "None") else None
    event = json.loads(wait_for(disabled_event, timeout=120, interval=2,
                                what="S3.KMS.DisabledException in the error log"))
    assert event["errorCode"] == "S3.KMS.DisabledException"
    assert event["message"] == ("The provided AWS KMS key is disabled. Enable the key, or provide a key "
                                "that is enabled. (%s is disabled.)" % key_arn), event
    assert event["deliveryStreamARN"] == "arn:aws:firehose:us-east-1:000000000000:deliverystream/sealed"
    assert '"errorCode":"S3.KMS.DisabledException"' in "".join(claimed(logs_cmd))
    # The server's log line, as the README shows it up to the object's date.
    log_claim = server_log_claim.strip().split("2026/")[0]
    assert log_claim.startswith("level=warning stream=sealed event=destination_failed "
                                "errorCode=S3.KMS.DisabledException"), log_claim
    assert log_claim in h.log()
    # Nothing written; failures counted; the three records wait.
    assert run(h, count_cmd).stdout.split() == claimed(count_cmd) == ["0"]
    metrics = run(h, metrics_cmd).stdout
    failures = re.search(r'^hydrant_delivery_failures_total\{delivery_stream="sealed"\} (\d+)$', metrics, re.M)
    assert failures and int(failures.group(1)) >= 1, metrics
    # The same failures by code (the two counters are read one after the other: a
    # retry may fall in between).
    codes = counted_codes(metrics, "sealed")
    assert set(codes) == {"S3.KMS.DisabledException"}, metrics
    assert abs(codes["S3.KMS.DisabledException"] - int(failures.group(1))) <= 1, metrics
    assert 'hydrant_backlog_records{delivery_stream="sealed"} 3' in metrics.splitlines(), metrics
    assert [l.rsplit(" ", 1)[0] for l in claimed(metrics_cmd)] == \
        [l.rsplit(" ", 1)[0] for l in metrics.splitlines()]

    enable_cmd, ls_cmd, obj_cmd, head_cmd, cp_cmd = commands(fix_block)
    run(h, enable_cmd)
    t0 = time.time()
    def listed():
        p = run(h, ls_cmd, check=False)  # `aws s3 ls` exits 1 while nothing matches
        return p.returncode == 0 and "sealed/" in p.stdout
    wait_for(listed, timeout=40, interval=1, what="the held records in the bucket")
    assert time.time() - t0 < 30  # the next retry, at most 15 s after the last
    run(h, obj_cmd)
    head = run(h, head_cmd).stdout.strip()
    assert head == "aws:kms\t" + key_arn, head
    assert claimed(head_cmd)[0].startswith("aws:kms\tarn:aws:kms:us-east-1:000000000000:key/")
    # Every record, in one object (the retried batch), which GetObject decrypts.
    data = run(h, cp_cmd).stdout
    assert data == '{"id":2}\n{"id":3}\n{"id":4}\n', data
    assert claimed(cp_cmd) == data.splitlines()
    assert len(run(h, ls_cmd).stdout.strip().splitlines()) == 1
