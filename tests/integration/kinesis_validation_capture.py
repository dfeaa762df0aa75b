#!/usr/bin/env python3
"""Captures kinesalite's answers to bad Kinesis requests into tests/fixtures/kinesis_validation.json.

kinesalite reproduces the validation messages that AWS Kinesis gave when its author
observed them. This script starts kinesalite on a free loopback port, sends one request
per case below (every constraint of every operation hydrant serves: missing, too short,
too long, pattern, range, enum, wrong JSON type, several at once, unknown members) and
writes {name, op, body, status, type, message} per case. src/api/kinesis_validation_test.cc
checks ValidateKinesisRequest against every entry.

Where kinesalite is known to differ from AWS (members and limits of the current botocore
model that kinesalite 3.3 predates: StreamARN, StreamModeDetails, Tags on CreateStream,
optional StreamName and ShardCount, the retention period without model bounds, larger tag
limits), the entry keeps kinesalite's answer and adds `deviation` (why) and `expected`
(what AWS answers by the model: {type, message}, or null when the request passes
validation). Operations kinesalite does not serve (UpdateShardCount, DescribeLimits) are
written from the model alone, with `source: "model"`.

Usage: python3 tests/integration/kinesis_validation_capture.py [--kinesalite-dir DIR]
(DIR holds node_modules/kinesalite; without it the script installs kinesalite with npm
into a temporary folder).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import urllib.error

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, '..', 'fixtures', 'kinesis_validation.json')

ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/s1'
TYPES = {'bool': True, 'number': 12, 'list': ['x'], 'object': {'a': 'b'}}

# ---------------------------------------------------------------------------
# Cases


class Cases:
    def __init__(self):
        self.items = []
        self.names = set()

    def add(self, name, op, body, deviation=None, expected='same', source=None):
        full = op + '/' + name
        assert full not in self.names, full
        self.names.add(full)
        case = {'name': full, 'op': op, 'body': body}
        if deviation is not None:
            case['deviation'] = deviation
            case['expected'] = expected
        if source is not None:
            case['source'] = source
        self.items.append(case)


def err1(violation):
    return {'type': 'ValidationException', 'message': '1 validation error detected: ' + violation}


def errs(*violations):
    n = len(violations)
    return {'type': 'ValidationException',
            'message': '%d validation error%s detected: %s' % (n, '' if n == 1 else 's', '; '.join(violations))}


def viol(value, path, constraint):
    v = 'null' if value is None else "'" + value + "'"
    return 'Value %s at \'%s\' failed to satisfy constraint: %s' % (v, path, constraint)


NOT_NULL = 'Member must not be null'
STREAM_NAME_PATTERN = 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'
ARN_PATTERN = 'Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+'
ANCHORS = ('kinesalite anchors the model pattern as ^0|([1-9]...)$, where JavaScript binds the anchors '
           'tighter than the alternation, so it accepts any value with a valid prefix or suffix; AWS '
           'matches the whole value (Java Matcher.matches)')
HASH_PATTERN = 'Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})'
SEQ_PATTERN = 'Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})'
NEW_MEMBER = ('kinesalite 3.3 predates this member of the current model '
              '(botocore kinesis 2013-12-02) and ignores it')
OPTIONAL_NAME = ('the current model makes StreamName optional (StreamARN is the alternative); '
                 'a request with neither is the handler\'s InvalidArgumentException')


def lmin(n):
    return 'Member must have length greater than or equal to %d' % n


def lmax(n):
    return 'Member must have length less than or equal to %d' % n


def vmin(n):
    return 'Member must have value greater than or equal to %d' % n


def vmax(n):
    return 'Member must have value less than or equal to %d' % n


def type_cases(cases, op, base, member, kinds, prefix=''):
    """One case per wrong JSON type for `member` (a top-level member of base)."""
    for kind in kinds:
        body = dict(base)
        body[member] = TYPES[kind]
        cases.add('%s%s.type-%s' % (prefix, member, kind), op, body)


def stream_name_cases(cases, op, base, member='StreamName', required_by_kinesalite=True):
    path = member[0].lower() + member[1:]
    missing = {k: v for k, v in base.items() if k != member}
    if required_by_kinesalite:
        cases.add(member + '.missing', op, missing, deviation=OPTIONAL_NAME, expected=None)
    cases.add(member + '.null', op, dict(base, **{member: None}),
              **({'deviation': OPTIONAL_NAME, 'expected': None} if required_by_kinesalite else {}))
    cases.add(member + '.empty', op, dict(base, **{member: ''}))
    cases.add(member + '.long', op, dict(base, **{member: 'a' * 129}))
    cases.add(member + '.max', op, dict(base, **{member: 'a' * 128}))
    cases.add(member + '.pattern', op, dict(base, **{member: 'a b'}))
    cases.add(member + '.pattern-and-long', op, dict(base, **{member: '!' * 129}))
    cases.add(member + '.unicode', op, dict(base, **{member: 'caf\u00e9'}))
    type_cases(cases, op, base, member, ['bool', 'number', 'list', 'object'])
    if member == 'StreamName' and op != 'CreateStream':
        arn_cases(cases, op, missing)


def arn_cases(cases, op, base_without_name):
    """StreamARN, the model's alternative to StreamName (kinesalite ignores it)."""
    ok = dict(base_without_name, StreamARN=ARN)
    cases.add('StreamARN.only', op, ok, deviation=NEW_MEMBER, expected=None)
    cases.add('StreamARN.empty', op, dict(base_without_name, StreamARN=''), deviation=NEW_MEMBER,
              expected=errs(viol('', 'streamARN', ARN_PATTERN), viol('', 'streamARN', lmin(1))))
    bad = 'arn:aws:kinesis:us-east-1:123:stream/s1'
    cases.add('StreamARN.pattern', op, dict(base_without_name, StreamARN=bad), deviation=NEW_MEMBER,
              expected=err1(viol(bad, 'streamARN', ARN_PATTERN)))
    long_arn = ARN + 'x' * (2049 - len(ARN))
    cases.add('StreamARN.long', op, dict(base_without_name, StreamARN=long_arn), deviation=NEW_MEMBER,
              expected=err1(viol(long_arn, 'streamARN', lmax(2048))))
    cases.add('StreamARN.type-number', op, dict(base_without_name, StreamARN=5), deviation=NEW_MEMBER,
              expected={'type': 'SerializationException',
                        'message': 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber '
                                   'can not be converted to an String'})


def shard_id_cases(cases, op, base, member, required):
    path = member[0].lower() + member[1:]
    if required:
        cases.add(member + '.missing', op, {k: v for k, v in base.items() if k != member})
    cases.add(member + '.empty', op, dict(base, **{member: ''}))
    cases.add(member + '.long', op, dict(base, **{member: 's' * 129}))
    cases.add(member + '.pattern', op, dict(base, **{member: 'shard/1'}))
    type_cases(cases, op, base, member, ['bool', 'number', 'list', 'object'])


def int_cases(cases, op, base, member, lo, hi, required=False, deviation=None, expected_fn=None):
    """expected_fn(value) gives the model's answer where kinesalite's bounds differ."""
    if required:
        cases.add(member + '.missing', op, {k: v for k, v in base.items() if k != member})
    values = [('zero', 0), ('negative', -1), ('below', lo - 1), ('min', lo), ('max', hi), ('above', hi + 1),
              ('fraction', lo + 0.5), ('fraction-below', 0.5), ('huge', 3000000000)]
    seen = set()
    for label, v in values:
        if v in seen:
            continue
        seen.add(v)
        kw = {}
        if deviation is not None and expected_fn is not None:
            exp = expected_fn(v)
            if exp != 'same':
                kw = {'deviation': deviation, 'expected': exp}
        cases.add('%s.%s' % (member, label), op, dict(base, **{member: v}), **kw)
    type_cases(cases, op, base, member, ['bool', 'list', 'object'])
    cases.add(member + '.type-string', op, dict(base, **{member: '5'}))


def unknown_member_cases(cases, op, base):
    cases.add('unknown-member', op, dict(base, Foo='bar'))
    cases.add('unknown-member-bad-type', op, dict(base, Foo=[1, {'a': 2}]))


# Operation bases: valid requests (they pass validation; kinesalite then answers with a
# semantic error such as ResourceNotFoundException, which the handler owns).
def build_cases():
    c = Cases()
    name = 'no-such-stream'

    # CreateStream -----------------------------------------------------------
    op = 'CreateStream'
    base = {'StreamName': 'kval-create', 'ShardCount': 1}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation='the current model makes ShardCount optional (on-demand streams)',
          expected=err1(viol(None, 'streamName', NOT_NULL)))
    c.add('ShardCount.missing', op, {'StreamName': 'kval-create2'},
          deviation='the current model makes ShardCount optional (on-demand streams)', expected=None)
    stream_name_cases(c, op, base, required_by_kinesalite=True)
    # StreamName is required by the model for CreateStream.
    for it in c.items:
        if it['name'] in ('CreateStream/StreamName.missing', 'CreateStream/StreamName.null'):
            del it['deviation'], it['expected']

    def shard_count_model(v):
        if isinstance(v, float):
            v = int(v // 1)
        if v > 2147483647:
            v = 2147483647
        if v < 1:
            return 'same'
        if v > 100000:
            return None  # the model has no upper bound
        return 'same'
    int_cases(c, op, base, 'ShardCount', 1, 100000,
              deviation='the current model has no upper bound on ShardCount (PositiveIntegerObject: min 1)',
              expected_fn=shard_count_model)
    c.add('StreamModeDetails.on-demand', op, {'StreamName': 'kval-od', 'StreamModeDetails': {'StreamMode': 'ON_DEMAND'}},
          deviation=NEW_MEMBER, expected=None)
    c.add('StreamModeDetails.provisioned', op,
          dict(base, StreamModeDetails={'StreamMode': 'PROVISIONED'}))
    c.add('StreamModeDetails.bad-enum', op, dict(base, StreamModeDetails={'StreamMode': 'FAST'}),
          deviation=NEW_MEMBER,
          expected=err1(viol('FAST', 'streamModeDetails.streamMode',
                             'Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]')))
    c.add('StreamModeDetails.missing-mode', op, dict(base, StreamModeDetails={}), deviation=NEW_MEMBER,
          expected=err1(viol(None, 'streamModeDetails.streamMode', NOT_NULL)))
    c.add('StreamModeDetails.type-string', op, dict(base, StreamModeDetails='ON_DEMAND'), deviation=NEW_MEMBER,
          expected={'type': 'SerializationException', 'message': 'Expected null'})
    c.add('StreamModeDetails.mode-type-number', op, dict(base, StreamModeDetails={'StreamMode': 1}),
          deviation=NEW_MEMBER,
          expected={'type': 'SerializationException',
                    'message': 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber '
                               'can not be converted to an String'})
    c.add('Tags.valid', op, dict(base, Tags={'team': 'data'}))
    c.add('Tags.empty', op, dict(base, Tags={}), deviation=NEW_MEMBER,
          expected=err1(viol('{}', 'tags', lmin(1))))
    c.add('Tags.bad-key', op, dict(base, Tags={'': 'v'}), deviation=NEW_MEMBER,
          expected=err1(viol('{=v}', 'tags', 'Map keys must satisfy constraint: '
                             '[Member must have length less than or equal to 128, '
                             'Member must have length greater than or equal to 1]')))
    c.add('several', op, {'StreamName': 'a b', 'ShardCount': 0})
    c.add('several-2', op, {'StreamName': '', 'ShardCount': -5})
    c.add('type-first', op, {'StreamName': '', 'ShardCount': 'x'})
    unknown_member_cases(c, op, base)

    # DeleteStream, DescribeStreamSummary --------------------------------------
    for op in ('DeleteStream', 'DescribeStreamSummary'):
        base = {'StreamName': name}
        c.add('valid', op, base)
        c.add('empty-body', op, {}, deviation=OPTIONAL_NAME, expected=None)
        stream_name_cases(c, op, base)
        unknown_member_cases(c, op, base)
    c.add('EnforceConsumerDeletion.true', 'DeleteStream', {'StreamName': name, 'EnforceConsumerDeletion': True})
    c.add('EnforceConsumerDeletion.type-number', 'DeleteStream',
          {'StreamName': name, 'EnforceConsumerDeletion': 1}, deviation=NEW_MEMBER,
          expected={'type': 'SerializationException',
                    'message': 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber '
                               'can not be converted to an Boolean'})
    c.add('EnforceConsumerDeletion.type-string', 'DeleteStream',
          {'StreamName': name, 'EnforceConsumerDeletion': 'maybe'}, deviation=NEW_MEMBER,
          expected={'type': 'SerializationException', 'message': "'MAYBE' can not be converted to an Boolean"})

    # DescribeStream -------------------------------------------------------------
    op = 'DescribeStream'
    base = {'StreamName': name}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME, expected=None)
    stream_name_cases(c, op, base)
    int_cases(c, op, base, 'Limit', 1, 10000)
    shard_id_cases(c, op, base, 'ExclusiveStartShardId', False)
    c.add('several', op, {'StreamName': '', 'Limit': 0, 'ExclusiveStartShardId': ''})
    unknown_member_cases(c, op, base)

    # ListStreams -----------------------------------------------------------------
    op = 'ListStreams'
    c.add('valid', op, {})
    int_cases(c, op, {}, 'Limit', 1, 10000)
    c.add('ExclusiveStartStreamName.empty', op, {'ExclusiveStartStreamName': ''})
    c.add('ExclusiveStartStreamName.long', op, {'ExclusiveStartStreamName': 'a' * 129})
    c.add('ExclusiveStartStreamName.pattern', op, {'ExclusiveStartStreamName': 'a/b'})
    type_cases(c, op, {}, 'ExclusiveStartStreamName', ['bool', 'number', 'list', 'object'])
    c.add('NextToken.empty', op, {'NextToken': ''}, deviation=NEW_MEMBER,
          expected=err1(viol('', 'nextToken', lmin(1))))
    c.add('several', op, {'Limit': 0, 'ExclusiveStartStreamName': ''})
    unknown_member_cases(c, op, {})

    # ListShards ------------------------------------------------------------------
    op = 'ListShards'
    base = {'StreamName': name}
    c.add('valid', op, base)
    c.add('empty-body', op, {})
    stream_name_cases(c, op, base, required_by_kinesalite=False)
    shard_id_cases(c, op, base, 'ExclusiveStartShardId', False)
    int_cases(c, op, base, 'MaxResults', 1, 10000)
    c.add('NextToken.empty', op, {'NextToken': ''})
    c.add('NextToken.type-number', op, {'NextToken': 1})
    c.add('StreamCreationTimestamp.number', op, dict(base, StreamCreationTimestamp=1500000000.5))
    type_cases(c, op, base, 'StreamCreationTimestamp', ['bool', 'list', 'object'])
    c.add('StreamCreationTimestamp.type-string', op, dict(base, StreamCreationTimestamp='2020-01-01'))
    c.add('ShardFilter.valid', op, dict(base, ShardFilter={'Type': 'AT_LATEST'}))
    c.add('ShardFilter.bad-enum', op, dict(base, ShardFilter={'Type': 'LATEST'}), deviation=NEW_MEMBER,
          expected=err1(viol('LATEST', 'shardFilter.type',
                             'Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, '
                             'FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]')))
    c.add('ShardFilter.missing-type', op, dict(base, ShardFilter={'ShardId': 'shardId-000000000000'}),
          deviation=NEW_MEMBER, expected=err1(viol(None, 'shardFilter.type', NOT_NULL)))
    c.add('ShardFilter.bad-shard-id', op, dict(base, ShardFilter={'Type': 'AFTER_SHARD_ID', 'ShardId': ''}),
          deviation=NEW_MEMBER,
          expected=errs(viol('', 'shardFilter.shardId', STREAM_NAME_PATTERN),
                        viol('', 'shardFilter.shardId', lmin(1))))
    c.add('ShardFilter.type-list', op, dict(base, ShardFilter=[]), deviation=NEW_MEMBER,
          expected={'type': 'SerializationException', 'message': 'Start of list found where not expected'})
    c.add('several', op, {'StreamName': '', 'MaxResults': 0, 'NextToken': '', 'ExclusiveStartShardId': '!'})
    unknown_member_cases(c, op, base)

    # PutRecord -------------------------------------------------------------------
    op = 'PutRecord'
    base = {'StreamName': name, 'PartitionKey': 'pk', 'Data': 'aGVsbG8='}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME,
          expected=errs(viol(None, 'partitionKey', NOT_NULL), viol(None, 'data', NOT_NULL)))
    stream_name_cases(c, op, base)
    c.add('PartitionKey.missing', op, {'StreamName': name, 'Data': 'aGVsbG8='})
    c.add('PartitionKey.empty', op, dict(base, PartitionKey=''))
    c.add('PartitionKey.long', op, dict(base, PartitionKey='p' * 257))
    c.add('PartitionKey.max', op, dict(base, PartitionKey='p' * 256))
    c.add('PartitionKey.unicode-max', op, dict(base, PartitionKey='\u00e9' * 256))
    c.add('PartitionKey.astral-129', op, dict(base, PartitionKey='\U0001F600' * 129))  # 258 UTF-16 units
    type_cases(c, op, base, 'PartitionKey', ['bool', 'number', 'list', 'object'])
    c.add('Data.missing', op, {'StreamName': name, 'PartitionKey': 'pk'})
    c.add('Data.empty', op, dict(base, Data=''))
    c.add('Data.length-not-4', op, dict(base, Data='abc'))
    c.add('Data.bad-char', op, dict(base, Data='ab!c'))
    c.add('Data.bad-pad', op, dict(base, Data='ab=c'))
    c.add('Data.bad-last-char', op, dict(base, Data='YR=='))
    c.add('Data.max', op, dict(base, Data=big('A', 349525 * 4, 'AA==')))  # 1048576 bytes
    c.add('Data.too-large', op, dict(base, Data=big('A', 1048580 // 3 * 4)))
    type_cases(c, op, base, 'Data', ['bool', 'number', 'list', 'object'])
    c.add('ExplicitHashKey.valid', op, dict(base, ExplicitHashKey='340282366920938463463374607431768211455'))
    c.add('ExplicitHashKey.zero', op, dict(base, ExplicitHashKey='0'))
    c.add('ExplicitHashKey.leading-zero', op, dict(base, ExplicitHashKey='01'), deviation=ANCHORS,
          expected=err1(viol('01', 'explicitHashKey', HASH_PATTERN)))
    c.add('ExplicitHashKey.40-digits', op, dict(base, ExplicitHashKey='1' * 40), deviation=ANCHORS,
          expected=err1(viol('1' * 40, 'explicitHashKey', HASH_PATTERN)))
    c.add('ExplicitHashKey.empty', op, dict(base, ExplicitHashKey=''))
    c.add('ExplicitHashKey.negative', op, dict(base, ExplicitHashKey='-1'), deviation=ANCHORS,
          expected=err1(viol('-1', 'explicitHashKey', HASH_PATTERN)))
    type_cases(c, op, base, 'ExplicitHashKey', ['bool', 'number'])
    c.add('SequenceNumberForOrdering.valid', op, dict(base, SequenceNumberForOrdering='1' * 129))
    c.add('SequenceNumberForOrdering.130-digits', op, dict(base, SequenceNumberForOrdering='1' * 130),
          deviation=ANCHORS, expected=err1(viol('1' * 130, 'sequenceNumberForOrdering', SEQ_PATTERN)))
    c.add('SequenceNumberForOrdering.letters', op, dict(base, SequenceNumberForOrdering='12a'))
    type_cases(c, op, base, 'SequenceNumberForOrdering', ['bool', 'number'])
    c.add('several', op, {'StreamName': '', 'PartitionKey': '', 'Data': big('A', 1048580 // 3 * 4),
                          'ExplicitHashKey': 'x', 'SequenceNumberForOrdering': 'y'})
    c.add('several-missing', op, {'StreamName': 'a b', 'ExplicitHashKey': 'x'})
    c.add('type-first', op, {'StreamName': '', 'PartitionKey': 5, 'Data': 'abc'})
    c.add('type-order', op, {'Data': True, 'PartitionKey': 5, 'StreamName': name})
    unknown_member_cases(c, op, base)

    # PutRecords ------------------------------------------------------------------
    op = 'PutRecords'
    rec = {'PartitionKey': 'pk', 'Data': 'aGVsbG8='}
    base = {'StreamName': name, 'Records': [rec]}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME, expected=err1(viol(None, 'records', NOT_NULL)))
    stream_name_cases(c, op, base)
    c.add('Records.missing', op, {'StreamName': name})
    c.add('Records.empty', op, dict(base, Records=[]))
    c.add('Records.max', op, dict(base, Records=[rec] * 500))
    c.add('Records.too-many', op, dict(base, Records=[rec] * 501))
    type_cases(c, op, base, 'Records', ['bool', 'number', 'object'])
    c.add('Records.type-string', op, dict(base, Records='x'))
    c.add('Records.element-type-string', op, dict(base, Records=['x']))
    c.add('Records.element-type-list', op, dict(base, Records=[[]]))
    c.add('Records.element-empty', op, dict(base, Records=[{}]))
    c.add('Records.element-partition-key-empty', op, dict(base, Records=[rec, {'PartitionKey': '', 'Data': ''}]))
    c.add('Records.element-partition-key-long', op, dict(base, Records=[{'PartitionKey': 'p' * 257, 'Data': ''}]))
    c.add('Records.element-hash-key', op, dict(base, Records=[dict(rec, ExplicitHashKey='abc')]))
    c.add('Records.element-data-too-large', op,
          dict(base, Records=[{'PartitionKey': 'pk', 'Data': big('A', 1048580 // 3 * 4)}]))
    c.add('Records.element-data-bad-base64', op, dict(base, Records=[{'PartitionKey': 'pk', 'Data': 'abc'}]))
    c.add('Records.element-data-type-number', op, dict(base, Records=[{'PartitionKey': 'pk', 'Data': 1}]))
    c.add('Records.element-partition-key-type-bool', op, dict(base, Records=[{'PartitionKey': True, 'Data': ''}]))
    c.add('Records.element-unknown-member', op, dict(base, Records=[dict(rec, Foo=1)]))
    c.add('Records.many-element-errors', op,
          dict(base, Records=[{'ExplicitHashKey': 'x'}, {'PartitionKey': ''}, {'Data': ''}, {}, {}, {}]))
    c.add('several', op, {'StreamName': '', 'Records': [{'PartitionKey': '', 'Data': ''}]})
    unknown_member_cases(c, op, base)

    # GetShardIterator ---------------------------------------------------------------
    op = 'GetShardIterator'
    base = {'StreamName': name, 'ShardId': 'shardId-000000000000', 'ShardIteratorType': 'LATEST'}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME,
          expected=errs(viol(None, 'shardId', NOT_NULL), viol(None, 'shardIteratorType', NOT_NULL)))
    stream_name_cases(c, op, base)
    shard_id_cases(c, op, base, 'ShardId', True)
    c.add('ShardIteratorType.missing', op, {'StreamName': name, 'ShardId': 'shardId-000000000000'})
    c.add('ShardIteratorType.bad-enum', op, dict(base, ShardIteratorType='OLDEST'))
    c.add('ShardIteratorType.lowercase', op, dict(base, ShardIteratorType='latest'))
    type_cases(c, op, base, 'ShardIteratorType', ['bool', 'number', 'list', 'object'])
    c.add('StartingSequenceNumber.letters', op, dict(base, StartingSequenceNumber='abc'))
    c.add('StartingSequenceNumber.empty', op, dict(base, StartingSequenceNumber=''))
    type_cases(c, op, base, 'StartingSequenceNumber', ['number'])
    c.add('Timestamp.number', op, dict(base, ShardIteratorType='AT_TIMESTAMP', Timestamp=1500000000))
    type_cases(c, op, base, 'Timestamp', ['bool', 'list', 'object'])
    c.add('Timestamp.type-string', op, dict(base, Timestamp='yesterday'))
    c.add('several', op, {'StreamName': '', 'ShardId': '', 'ShardIteratorType': 'x', 'StartingSequenceNumber': 'y'})
    c.add('several-missing', op, {'StreamName': 'a b'})
    unknown_member_cases(c, op, base)

    # GetRecords ---------------------------------------------------------------------
    op = 'GetRecords'
    base = {'ShardIterator': 'AAAA'}
    c.add('valid', op, base)
    c.add('ShardIterator.missing', op, {})
    c.add('ShardIterator.empty', op, {'ShardIterator': ''})
    c.add('ShardIterator.long', op, {'ShardIterator': 'a' * 513})
    type_cases(c, op, base, 'ShardIterator', ['bool', 'number', 'list', 'object'])
    int_cases(c, op, base, 'Limit', 1, 10000)
    c.add('StreamARN.pattern', op, dict(base, StreamARN='nope'), deviation=NEW_MEMBER,
          expected=err1(viol('nope', 'streamARN', ARN_PATTERN)))
    c.add('several', op, {'ShardIterator': '', 'Limit': 0})
    unknown_member_cases(c, op, base)

    # Increase/DecreaseStreamRetentionPeriod -----------------------------------------
    for op in ('IncreaseStreamRetentionPeriod', 'DecreaseStreamRetentionPeriod'):
        base = {'StreamName': name, 'RetentionPeriodHours': 48}
        c.add('valid', op, base)
        c.add('empty-body', op, {}, deviation=OPTIONAL_NAME,
              expected=err1(viol(None, 'retentionPeriodHours', NOT_NULL)))
        stream_name_cases(c, op, base)
        int_cases(c, op, base, 'RetentionPeriodHours', 1, 168, required=True,
                  deviation=('the current model puts no bounds on RetentionPeriodHours (AWS allows up to '
                             '8760 hours); the handler answers out-of-range values with InvalidArgumentException'),
                  expected_fn=lambda v: None if (int(v // 1) if isinstance(v, float) else v) < 1
                  or (int(v // 1) if isinstance(v, float) else v) > 168 else 'same')
        c.add('several', op, {'StreamName': '', 'RetentionPeriodHours': 0},
              deviation='the current model puts no bounds on RetentionPeriodHours',
              expected=errs(viol('', 'streamName', STREAM_NAME_PATTERN), viol('', 'streamName', lmin(1))))
        unknown_member_cases(c, op, base)

    # SplitShard ---------------------------------------------------------------------
    op = 'SplitShard'
    base = {'StreamName': name, 'ShardToSplit': 'shardId-000000000000', 'NewStartingHashKey': '1'}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME,
          expected=errs(viol(None, 'newStartingHashKey', NOT_NULL), viol(None, 'shardToSplit', NOT_NULL)))
    stream_name_cases(c, op, base)
    shard_id_cases(c, op, base, 'ShardToSplit', True)
    c.add('NewStartingHashKey.missing', op, {'StreamName': name, 'ShardToSplit': 'shardId-000000000000'})
    c.add('NewStartingHashKey.pattern', op, dict(base, NewStartingHashKey='0x10'), deviation=ANCHORS,
          expected=err1(viol('0x10', 'newStartingHashKey', HASH_PATTERN)))
    c.add('NewStartingHashKey.empty', op, dict(base, NewStartingHashKey=''))
    type_cases(c, op, base, 'NewStartingHashKey', ['bool', 'number'])
    c.add('several', op, {'StreamName': '', 'ShardToSplit': '', 'NewStartingHashKey': ''})
    unknown_member_cases(c, op, base)

    # MergeShards --------------------------------------------------------------------
    op = 'MergeShards'
    base = {'StreamName': name, 'ShardToMerge': 'shardId-000000000000',
            'AdjacentShardToMerge': 'shardId-000000000001'}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME,
          expected=errs(viol(None, 'shardToMerge', NOT_NULL), viol(None, 'adjacentShardToMerge', NOT_NULL)))
    stream_name_cases(c, op, base)
    shard_id_cases(c, op, base, 'ShardToMerge', True)
    shard_id_cases(c, op, base, 'AdjacentShardToMerge', True)
    c.add('several', op, {'StreamName': '', 'ShardToMerge': '', 'AdjacentShardToMerge': ''})
    unknown_member_cases(c, op, base)

    # AddTagsToStream ----------------------------------------------------------------
    op = 'AddTagsToStream'
    base = {'StreamName': name, 'Tags': {'team': 'data'}}
    tag_limit = ('the current model allows up to 200 tags per request (TagMap max 200); '
                 'kinesalite has the old limit of 10')
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME, expected=err1(viol(None, 'tags', NOT_NULL)))
    stream_name_cases(c, op, base)
    c.add('Tags.missing', op, {'StreamName': name})
    c.add('Tags.empty', op, dict(base, Tags={}))
    eleven = {'k%02d' % i: 'v' for i in range(11)}
    c.add('Tags.eleven', op, dict(base, Tags=eleven), deviation=tag_limit, expected=None)
    many = {'k%03d' % i: 'v' for i in range(201)}
    c.add('Tags.too-many', op, dict(base, Tags=many), deviation=tag_limit,
          expected=err1(viol('{' + ', '.join('%s=v' % k for k in many) + '}', 'tags', lmax(200))))
    c.add('Tags.key-empty', op, dict(base, Tags={'': 'v', 'b': 'w'}))
    c.add('Tags.key-long', op, dict(base, Tags={'k' * 129: 'v'}))
    c.add('Tags.value-long', op, dict(base, Tags={'k': 'v' * 257}))
    c.add('Tags.value-empty', op, dict(base, Tags={'k': ''}))
    c.add('Tags.key-and-value', op, dict(base, Tags={'': 'v' * 257}))
    c.add('Tags.value-type-number', op, dict(base, Tags={'k': 1}))
    type_cases(c, op, base, 'Tags', ['bool', 'number', 'list'])
    c.add('Tags.type-string', op, dict(base, Tags='x'))
    c.add('several', op, {'StreamName': '', 'Tags': {}})
    unknown_member_cases(c, op, base)

    # ListTagsForStream --------------------------------------------------------------
    op = 'ListTagsForStream'
    base = {'StreamName': name}
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME, expected=None)
    stream_name_cases(c, op, base)
    c.add('ExclusiveStartTagKey.empty', op, dict(base, ExclusiveStartTagKey=''))
    c.add('ExclusiveStartTagKey.long', op, dict(base, ExclusiveStartTagKey='k' * 129))
    type_cases(c, op, base, 'ExclusiveStartTagKey', ['bool', 'number'])
    int_cases(c, op, base, 'Limit', 1, 10,
              deviation='the current model allows Limit up to 50 (ListTagsForStreamInputLimit); kinesalite has 10',
              expected_fn=lambda v: ('same' if not (10 < (int(v // 1) if isinstance(v, float) else v))
                                     else None if min(int(v // 1) if isinstance(v, float) else v, 2147483647) <= 50
                                     else err1(viol(str(min(v, 2147483647)), 'limit', vmax(50)))))
    c.add('Limit.fifty', op, dict(base, Limit=50),
          deviation='the current model allows Limit up to 50', expected=None)
    c.add('Limit.fifty-one', op, dict(base, Limit=51),
          deviation='the current model allows Limit up to 50', expected=err1(viol('51', 'limit', vmax(50))))
    c.add('several', op, {'StreamName': '', 'ExclusiveStartTagKey': '', 'Limit': 0})
    unknown_member_cases(c, op, base)

    # RemoveTagsFromStream -----------------------------------------------------------
    op = 'RemoveTagsFromStream'
    base = {'StreamName': name, 'TagKeys': ['team']}
    key_limit = ('the current model allows up to 50 keys per request (TagKeyList max 50); '
                 'kinesalite has the old limit of 10')
    c.add('valid', op, base)
    c.add('empty-body', op, {}, deviation=OPTIONAL_NAME, expected=err1(viol(None, 'tagKeys', NOT_NULL)))
    stream_name_cases(c, op, base)
    c.add('TagKeys.missing', op, {'StreamName': name})
    c.add('TagKeys.empty', op, dict(base, TagKeys=[]))
    c.add('TagKeys.eleven', op, dict(base, TagKeys=['k%d' % i for i in range(11)]), deviation=key_limit,
          expected=None)
    keys51 = ['k%d' % i for i in range(51)]
    c.add('TagKeys.too-many', op, dict(base, TagKeys=keys51), deviation=key_limit,
          expected=err1(viol('[' + ', '.join(keys51) + ']', 'tagKeys', lmax(50))))
    c.add('TagKeys.key-empty', op, dict(base, TagKeys=['a', '']))
    c.add('TagKeys.key-long', op, dict(base, TagKeys=['k' * 129]))
    c.add('TagKeys.element-type-number', op, dict(base, TagKeys=[1]))
    type_cases(c, op, base, 'TagKeys', ['bool', 'number', 'object'])
    c.add('TagKeys.type-string', op, dict(base, TagKeys='team'))
    c.add('several', op, {'StreamName': '', 'TagKeys': []})
    unknown_member_cases(c, op, base)

    # UpdateShardCount, DescribeLimits: not served by kinesalite 3.3 -----------------
    model = 'model'
    op = 'UpdateShardCount'
    base = {'StreamName': name, 'TargetShardCount': 2, 'ScalingType': 'UNIFORM_SCALING'}
    c.add('valid', op, base, source=model)
    c.add('empty-body', op, {}, source=model)
    c.add('TargetShardCount.zero', op, dict(base, TargetShardCount=0), source=model)
    c.add('TargetShardCount.type-string', op, dict(base, TargetShardCount='2'), source=model)
    c.add('ScalingType.bad-enum', op, dict(base, ScalingType='FAST'), source=model)
    c.add('StreamName.pattern', op, dict(base, StreamName='a b'), source=model)
    c.add('StreamARN.only', op, {'StreamARN': ARN, 'TargetShardCount': 2, 'ScalingType': 'UNIFORM_SCALING'},
          source=model)
    c.add('several', op, {'StreamName': '', 'TargetShardCount': 0, 'ScalingType': 'x'}, source=model)
    op = 'DescribeLimits'
    c.add('valid', op, {}, source=model)
    c.add('unknown-member', op, {'Foo': 1}, source=model)
    return c.items


# Hand-written answers for the operations kinesalite does not serve (from the model, in
# the order and wording of the other operations).
MODEL_ANSWERS = {
    'UpdateShardCount/valid': None,
    'UpdateShardCount/empty-body': errs(viol(None, 'targetShardCount', NOT_NULL),
                                        viol(None, 'scalingType', NOT_NULL)),
    'UpdateShardCount/TargetShardCount.zero': err1(viol('0', 'targetShardCount', vmin(1))),
    'UpdateShardCount/TargetShardCount.type-string': {
        'type': 'SerializationException', 'message': 'class java.lang.String can not be converted to an Integer'},
    'UpdateShardCount/ScalingType.bad-enum': err1(viol('FAST', 'scalingType',
                                                       'Member must satisfy enum value set: [UNIFORM_SCALING]')),
    'UpdateShardCount/StreamName.pattern': err1(viol('a b', 'streamName', STREAM_NAME_PATTERN)),
    'UpdateShardCount/StreamARN.only': None,
    'UpdateShardCount/several': errs(viol('0', 'targetShardCount', vmin(1)),
                                     viol('x', 'scalingType', 'Member must satisfy enum value set: [UNIFORM_SCALING]'),
                                     viol('', 'streamName', STREAM_NAME_PATTERN),
                                     viol('', 'streamName', lmin(1))),
    'DescribeLimits/valid': None,
    'DescribeLimits/unknown-member': None,
}

# ---------------------------------------------------------------------------
# Running kinesalite


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ensure_kinesalite(dir_arg):
    if dir_arg:
        return dir_arg
    scratch = tempfile.mkdtemp(prefix='kinesalite-')
    subprocess.run(['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error', 'kinesalite@3.3.3'],
                   cwd=scratch, check=True)
    return scratch


def big(char, times, then=''):
    """A long string, kept short in the fixture: {"$repeat": char, "times": n, "then": tail}."""
    return {'$repeat': char, 'times': times, 'then': then}


def expand(v):
    """The body as sent: every {"$repeat": ...} marker replaced by its string."""
    if isinstance(v, dict):
        if '$repeat' in v:
            return v['$repeat'] * v['times'] + v.get('then', '')
        return {k: expand(x) for k, x in v.items()}
    if isinstance(v, list):
        return [expand(x) for x in v]
    return v


def post(port, op, body):
    data = json.dumps(expand(body)).encode()
    req = urllib.request.Request('http://127.0.0.1:%d/' % port, data=data, method='POST', headers={
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'Kinesis_20131202.' + op,
        'X-Amz-Date': '20240101T000000Z',
        'Authorization': 'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kinesis/aws4_request, '
                         'SignedHeaders=host;x-amz-date, Signature=0000',
    })
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b'{}')
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b'{}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--kinesalite-dir', default=os.environ.get('KINESALITE_DIR'))
    ap.add_argument('--out', default=FIXTURE)
    args = ap.parse_args()
    root = ensure_kinesalite(args.kinesalite_dir)
    cli = os.path.join(root, 'node_modules', 'kinesalite', 'cli.js')
    port = free_port()
    proc = subprocess.Popen(['node', cli, '--port', str(port), '--createStreamMs', '0', '--deleteStreamMs', '0'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        out = []
        for case in build_cases():
            entry = {'name': case['name'], 'op': case['op'], 'body': case['body']}
            if case.get('source') == 'model':
                exp = MODEL_ANSWERS[case['name']]
                entry['source'] = 'model'
                if exp is None:
                    entry.update(status=200, type=None, message=None)
                else:
                    entry.update(status=400, type=exp['type'], message=exp['message'])
            else:
                status, resp = post(port, case['op'], case['body'])
                entry['status'] = status
                entry['type'] = resp.get('__type') if status != 200 else None
                # kinesalite (like Kinesis) spells the key "Message" in SerializationExceptions.
                msg_key = 'Message' if 'Message' in resp else 'message'
                entry['message'] = resp.get(msg_key) if status != 200 else None
                if status != 200 and msg_key != 'message':
                    entry['message_key'] = msg_key
            if 'deviation' in case:
                entry['deviation'] = case['deviation']
                entry['expected'] = case['expected']
            out.append(entry)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print('%d cases written to %s' % (len(out), os.path.relpath(args.out)))


if __name__ == '__main__':
    sys.exit(main())
