"""hydrant's KPL aggregates (src/kinesis/kpl.h) read by the real aws-kinesis-agg.

The aggregates under test are tests/fixtures/kpl/hydrant_*.bin: the unit test
KplFixtures.AggregateMatchesTheCommittedHydrantFixtures (hydrant_kinesis_test)
checks that they are exactly what Aggregate builds for the user records in
tests/fixtures/kpl/cases.json. Here aws-kinesis-agg (tests/js, pinned) de-aggregates
them with checksums verified, through tests/js/kpl_fixtures.mjs, and every user
record must come back. The fixtures aws-kinesis-agg itself built go through the
same check, so a broken reader would show there too.
"""

import base64
import json
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JS = os.path.join(ROOT, "tests", "js")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "kpl")

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="node is needed for aws-kinesis-agg")


def cases():
    with open(os.path.join(FIXTURES, "cases.json")) as f:
        return json.load(f)


def node_deaggregate(path):
    """The user records aws-kinesis-agg reads from the aggregate at `path`."""
    assert os.path.isdir(os.path.join(JS, "node_modules", "aws-kinesis-agg")), \
        "aws-kinesis-agg is missing: scripts/install-deps.sh --test installs it"
    p = subprocess.run(["node", "kpl_fixtures.mjs", "deaggregate", path], cwd=JS,
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"aws-kinesis-agg refused {path}: {p.stderr.strip()[-500:]}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def assert_same_records(got, want):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g["sub_sequence_number"] == i
        assert g["partition_key"] == w["partition_key"], i
        assert base64.b64decode(g["data"]) == base64.b64decode(w["data"]), i
        # aws-kinesis-agg reports the table's first explicit hash key for a record
        # without one, so only the records that have one are compared.
        if "explicit_hash_key" in w:
            assert g["explicit_hash_key"] == w["explicit_hash_key"], i


@pytest.mark.parametrize("case", [c["name"] for c in cases() if c["built_by"] == "hydrant"])
def test_aws_kinesis_agg_reads_hydrants_aggregates(case):
    c = next(c for c in cases() if c["name"] == case)
    assert_same_records(node_deaggregate(os.path.join(FIXTURES, case + ".bin")), c["records"])


def test_aws_kinesis_agg_reads_its_own_fixtures():
    built = [c for c in cases() if c["built_by"] == "aws-kinesis-agg"]
    assert len(built) >= 4
    for c in built:
        assert_same_records(node_deaggregate(os.path.join(FIXTURES, c["name"] + ".bin")), c["records"])


def test_aws_kinesis_agg_checks_the_md5_hydrant_writes(tmp_path):
    with open(os.path.join(FIXTURES, "hydrant_binary.bin"), "rb") as f:
        good = f.read()
    bad = good[:-1] + bytes([good[-1] ^ 1])
    path = tmp_path / "bad.bin"
    path.write_bytes(bad)
    with pytest.raises(AssertionError, match="checksum"):
        node_deaggregate(str(path))
