"""README, "Kinesis Data Streams as a source", run as written: its shell block is
read from README.md and run with bash and the AWS CLI v2 against a fresh hydrant
(steps 1 to 3, then step 4 once the 60 s buffer has passed), and the records the
README shows in the bucket are the ones there."""
import os
import re
import subprocess

from conftest import AWS, CLIENT_ENV, ROOT, read_objects, wait_for

SECTION = "### Kinesis Data Streams as a source"


def block():
    text = open(os.path.join(ROOT, "README.md")).read()
    start = text.index(SECTION)
    ends = [text.find(h, start + len(SECTION)) for h in ("\n## ", "\n### ")]
    section = text[start:min(e for e in ends if e != -1)]
    return re.search(r"^```sh\n(.*?)^```$", section, re.S | re.M).group(1)


def run(script, h, cwd):
    env = dict(os.environ)
    env.update(CLIENT_ENV)
    env["AWS_CONFIG_FILE"] = "/nonexistent-hydrant-itest-config"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent-hydrant-itest-credentials"
    # The README's `aws` is the CLI v2; its endpoint is this test's hydrant.
    script = script.replace("http://127.0.0.1:4573", h.endpoint)
    script = "aws() { %s \"$@\"; }\nset -e\n%s" % (AWS, script)
    p = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, "README block failed:\n%s\n%s\n%s" % (p.stdout, p.stderr, h.log()[-2000:])
    return p.stdout


def test_the_readme_kinesis_walkthrough_runs_as_written(hydrant, tmp_path):
    text = block()
    first, last = text.split("# 4.")
    env_lines = "\n".join(l for l in first.splitlines() if l.startswith(("export ", "H=")))
    run(first, hydrant, tmp_path)
    # The README's "about 60 s later": the buffer's interval.
    s3 = hydrant.client("s3")
    wait_for(lambda: read_objects(s3, "clicks-bucket", "clicks/"), timeout=90, interval=1,
             what="the first object of clicks-to-s3")
    out = run(env_lines + "\n# 4." + last, hydrant, tmp_path)
    claimed = [l[4:] for l in last.splitlines() if l.startswith("#   ")]
    assert len(claimed) == 3
    assert sorted(out.splitlines()) == sorted(claimed)
