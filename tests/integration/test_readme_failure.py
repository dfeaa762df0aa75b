"""README, "Reproduce a production delivery failure locally", run as written: its
shell blocks are read from README.md and run with bash and the AWS CLI v2 against
a hydrant started with delivery roles enforced (the section's first block). The
doctor must name the denying statement of the bucket policy, the stream's error
log must hold S3.AccessDenied, and the record must arrive once the bucket policy
is deleted."""
import json
import os
import re
import subprocess
import time

from conftest import AWS, CLIENT_ENV, HYDRANT, ROOT, start_with_config, wait_for

SECTION = "### Reproduce a production delivery failure locally"


def shell_blocks():
    text = open(os.path.join(ROOT, "README.md")).read()
    start = text.index(SECTION)
    end = text.index("\n## ", start)
    return re.findall(r"```sh\n(.*?)```", text[start:end], re.S)


def run(h, script, check=True):
    """Runs README lines with `aws` the CLI v2, $H the endpoint, ./build/hydrant this build."""
    env = dict(os.environ, **CLIENT_ENV)
    env["AWS_CONFIG_FILE"] = "/nonexistent-hydrant-itest-config"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent-hydrant-itest-credentials"
    prelude = 'aws() { "%s" "$@"; }\nH="--endpoint-url %s"\n' % (AWS, h.endpoint)
    script = script.replace("./build/hydrant doctor seed",
                            '"%s" doctor seed --endpoint %s' % (HYDRANT, h.endpoint))
    p = subprocess.run(["bash", "-c", prelude + script], capture_output=True, text=True, env=env,
                       timeout=180)
    if check:
        assert p.returncode == 0, (script, p.stdout, p.stderr, h.log()[-2000:])
    return p


def test_the_readme_section_runs_as_written(tmp_path):
    blocks = shell_blocks()
    assert len(blocks) == 3, blocks
    assert "enforce_roles = true" in blocks[0]
    with start_with_config(tmp_path, "[auth]\nenforce_roles = true\n") as h:
        # Everything up to the doctor must succeed; the doctor exits 1 (a check failed).
        setup, doctor = blocks[1].split("./build/hydrant doctor seed")
        run(h, setup)
        p = run(h, "./build/hydrant doctor seed" + doctor, check=False)
        assert p.returncode == 1, p.stdout + p.stderr
        line = [l for l in p.stdout.splitlines() if l.startswith("FAIL  role permissions")]
        assert line and 'statement "NoFirehose"' in line[0] and "bucket policy of my-bucket" in line[0], p.stdout
        assert "PASS  role trust" in p.stdout

        logs_cmd, delete_cmd, ls_cmd = [c for c in re.split(r"\n(?=aws )", blocks[2].strip())]
        # The first delivery attempt comes after the 60 s buffering interval.
        def access_denied_events():
            p = run(h, logs_cmd, check=False)  # no log group before the first failure
            return json.loads(p.stdout).get("events") if p.returncode == 0 and p.stdout.strip() else None
        events = wait_for(access_denied_events, timeout=120, interval=2,
                          what="S3.AccessDenied in the error log")
        assert json.loads(events[0]["message"])["errorCode"] == "S3.AccessDenied"
        run(h, delete_cmd)
        t0 = time.time()
        wait_for(lambda: "events/" in run(h, ls_cmd).stdout, timeout=60, interval=1,
                 what="the held record in the bucket")
        assert time.time() - t0 < 60
