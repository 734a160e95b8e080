#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target: fuzz/corpus/<target>/seed-*.

Run from anywhere: python3 fuzz/make_seeds.py. The formats are those the
targets read (see fuzz/README.md and each target's header); the golden
files of src/store/codec/golden/v1 seed storage_codec.
"""

import base64
import glob
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, 'corpus')
GOLDEN = os.path.join(HERE, '..', 'src', 'store', 'codec', 'golden', 'v1')


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)


# --- grpc_requests: calls of [choice][length][prost message] --------------
def varint(n):
    if n < 0: n += 1 << 64
    b = bytearray()
    while True:
        x = n & 0x7f; n >>= 7
        if n: b.append(x | 0x80)
        else: b.append(x); return bytes(b)
def key(f, wt): return varint(f << 3 | wt)
def s(f, v): v = v.encode() if isinstance(v, str) else v; return key(f, 2) + varint(len(v)) + v
def i(f, v): return key(f, 0) + varint(v)
def d(f, v): return key(f, 1) + struct.pack('<d', v)
def m(f, *parts): return s(f, b''.join(parts))
seeds = {
 'initialize': (0, b''),
 'initialize-token': (0, s(1, 'tok-1')),
 'register': (1, b''),
 'register-full': (1, s(1, 'reg-1') + m(2, s(1, 'env'), s(2, 'prod')) + i(3, 1) +
     m(4, m(2, s(1, 'disk0'), i(2, 1 << 30)), m(3, s(1, 'host.example'), s(2, 'host')),
        m(4, s(1, '00:11:22:33:44:55'), s(2, '10.0.0.1'), i(3, 1)), m(5, s(1, 'Linux')), i(6, 1 << 33))),
 'get': (2, s(1, '@0')),
 'describe': (3, i(2, 2)),
 'describe-filters': (3, m(1, s(1, '@0'), s(1, '@1'), i(2, 0), i(3, 1), i(4, 2)) + i(2, 1)),
 'describe-next': (3, i(2, 1) + s(3, '~')),
 'start-test': (4, s(1, '@0') + s(2, 'test-1')),
 'change-state': (5, s(1, '@0') + i(2, 6)),
 'start-cutover': (6, s(1, '@0')),
 'finalize': (7, s(1, '@0') + s(2, 'fin-1')),
 'disconnect': (8, s(1, '@1')),
 'archive': (9, s(1, '@1')),
 'create-job': (10, s(2, '@0') + s(3, 'job') + s(4, 'nightly') + i(5, 0) + i(6, 12) + i(7, 3)),
 'create-job-once': (10, s(1, 'job-1') + s(2, '@2') + i(5, 1)),
 'get-job': (11, s(1, '#0')),
 'describe-jobs': (12, s(1, '#0') + s(2, '@0') + i(3, 1) + i(4, 1) + i(5, 1)),
 'describe-jobs-next': (12, i(5, 1) + s(6, '~')),
 'start-job': (13, s(1, '#0')),
 'stop-job': (14, s(1, '#0') + s(2, 'stop-1')),
 'cut-over-job': (15, s(1, '#0') + i(2, 1)),
 'report': (16, s(1, '@0') + i(3, 6) + m(4, s(1, 'disk0'), i(2, 100), i(3, 100)) +
     m(5, i(1, 5), i(2, 0)) + m(6, i(1, 1795996875)) + m(7, i(1, 1), i(2, 3)) + s(9, 'i-0123456789abcdef0')),
 'report-new-agent': (16, i(3, 3) + s(9, 'agent-1') + m(2, m(3, s(2, 'new-host')))),
 'report-error': (16, s(1, '@1') + i(3, 9) + m(8, s(1, 'AGENT_NOT_SEEN'), s(2, 'raw'))),
 'ack': (17, s(1, '$0') + d(2, 50.0)),
 'ack-done': (17, s(1, '$0') + d(2, 100.0) + i(3, 1) + s(5, 'ack-1')),
 'ack-failed': (17, s(1, '$0') + i(3, 2) + s(4, 'disk full')),
 'tick': (18, b'\x0e\x10'),
}
CONTINUOUS = seeds['report'][1]
REGISTER = (1, s(1, ''))
def seq(*calls):
    return calls
# Sequences: a server through its lifecycle, and a job through its runs.
seeds_seq = {
 'lifecycle': seq(REGISTER, (16, CONTINUOUS), (4, s(1, '@0')), (5, s(1, '@0') + i(2, 6)),
                  (6, s(1, '@0')), (7, s(1, '@0')), (18, b'\x00\x3c'),
                  (17, s(1, '$0') + d(2, 100.0) + i(3, 1)), (17, s(1, '$1') + d(2, 40.0)),
                  (18, b'\xff\xff'), (17, s(1, '$1') + i(3, 2) + s(4, 'teardown failed')),
                  (9, s(1, '@0')), (2, s(1, '@0'))),
 'revert-test': seq(REGISTER, (16, CONTINUOUS), (4, s(1, '@0')), (5, s(1, '@0') + i(2, 4)),
                    (8, s(1, '@0')), (9, s(1, '@0'))),
 'job-runs': seq(REGISTER, (16, CONTINUOUS), (10, s(2, '@0') + i(5, 0) + i(6, 1) + i(7, 2)),
                 (13, s(1, '#0')), (18, b'\x00\x01'), (17, s(1, '$0') + d(2, 50.0)),
                 (17, s(1, '$0') + d(2, 100.0) + i(3, 1)), (18, b'\x0e\x10'),
                 (15, s(1, '#0') + i(2, 1)), (18, b'\x00\x01'), (17, s(1, '$0') + i(3, 1)),
                 (11, s(1, '#0'))),
 'job-stop': seq(REGISTER, (16, CONTINUOUS), (10, s(2, '@0') + i(5, 1)), (13, s(1, '#0')),
                 (14, s(1, '#0')), (13, s(1, '#0')), (15, s(1, '#0')), (12, i(5, 1)), (12, s(6, '~'))),
 'pages': seq((3, i(2, 1)), (3, i(2, 1) + s(3, '~')), (3, i(2, 1) + s(3, '~'))),
}
def encode(calls):
    out = b''
    for choice, body in calls:
        assert len(body) < 256, (choice, len(body))
        out += bytes([choice, len(body)]) + body
    return out
for name, (choice, body) in seeds.items():
    write('grpc_requests', name, encode([(choice, body)]))
for name, calls in seeds_seq.items():
    write('grpc_requests', name, encode(calls))

# --- mgn_request and smc_request: HTTP/1.1 requests as text --------------
SIG = 'Signature=' + '0' * 64
def mgn(op, body='', extra='', date='20261130T000115Z', auth=None, method='POST'):
    if auth is None:
        auth = ('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%s/us-east-1/mgn/aws4_request, '
                'SignedHeaders=content-type;host;x-amz-date, %s' % (date[:8], SIG))
    head = '%s /%s HTTP/1.1\r\ncontent-type: application/json\r\nhost: 127.0.0.1:8080\r\n' % (method, op)
    head += 'x-amz-date: %s\r\n' % date
    if auth: head += 'authorization: %s\r\n' % auth
    head += extra
    return head + '\r\n' + body

# The request botocore signed (src/api/native/signature/sigv4/tests.rs).
write('mgn_request', 'botocore-finalize', mgn('FinalizeCutover', '{"sourceServerID": "s-1234567890abcdefg"}',
    auth='AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/mgn/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5695a95844db92e6562e3545f633583ec0569edc2e8e1213b79b3605583a82fd'))
write('mgn_request', 'initialize', mgn('InitializeService'))
write('mgn_request', 'describe', mgn('DescribeSourceServers',
    '{"filters":{"sourceServerIDs":["@0","@1"],"isArchived":false,"replicationTypes":["AGENT_BASED"],"lifeCycleStates":["READY_FOR_TEST","PENDING_INSTALLATION"]},"maxResults":2}'))
write('mgn_request', 'describe-next', mgn('DescribeSourceServers', '{"maxResults":1,"nextToken":"czAxMjM0.AAAA"}'))
write('mgn_request', 'start-test', mgn('StartTest', '{"sourceServerIDs":["@0","@1"],"accountID":"000000000000","tags":{"wave":"1"}}'))
write('mgn_request', 'start-cutover', mgn('StartCutover', '{"sourceServerIDs":["@0"]}'))
write('mgn_request', 'change-state', mgn('ChangeServerLifeCycleState', '{"sourceServerID":"@0","lifeCycle":{"state":"READY_FOR_CUTOVER"},"accountID":"000000000000"}'))
write('mgn_request', 'finalize', mgn('FinalizeCutover', '{"sourceServerID":"@0"}'))
write('mgn_request', 'disconnect', mgn('DisconnectFromService', '{"sourceServerID":"@1"}'))
write('mgn_request', 'archive', mgn('MarkAsArchived', '{"sourceServerID":"@1","accountID":"111122223333"}'))
write('mgn_request', 'unsigned', mgn('InitializeService', auth=''))
write('mgn_request', 'unknown-op', mgn('DeleteSourceServer', '{"sourceServerID":"@2"}', method='GET'))
write('mgn_request', 'expired', mgn('InitializeService', date='20261129T000115Z', extra='x-fuzz-now: 1796000000000\r\n'))

def smc(method, query, headers='', body='', host='127.0.0.1:8081'):
    head = '%s /?%s HTTP/1.1\r\nhost: %s\r\n' % (method, query, host) + headers
    return head + '\r\n' + body

# The request the current SDK signed with ACS3 (src/api/native/signature/acs3.rs).
acs3_headers = ''.join('%s: %s\r\n' % kv for kv in [
    ('x-acs-action', 'CutOverReplicationJob'), ('x-acs-version', '2019-06-01'),
    ('x-acs-date', '2026-11-30T00:01:15Z'), ('x-acs-signature-nonce', 'abc123'),
    ('x-acs-content-sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
    ('user-agent', 'AlibabaCloud (Linux) Python/3.11'),
    ('authorization', 'ACS3-HMAC-SHA256 Credential=AKIDEXAMPLE,SignedHeaders=host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=503888523bf88d5b659cf5c705a6039dbd1df192b37268e4ce492b215f02cd71')])
write('smc_request', 'acs3-sdk-cutover', smc('POST', 'JobId=j-0123456789abcdefghij&SyncData=True&RegionId=cn-hangzhou', acs3_headers, host='127.0.0.1:8080'))
# The request the older SDK signed with HMAC-SHA1 (src/api/native/signature/hmac_sha1.rs).
write('smc_request', 'sha1-sdk-cutover', smc('GET', 'Action=CutOverReplicationJob&Version=2019-06-01&Format=JSON&AccessKeyId=AKIDEXAMPLE&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n%201&Timestamp=2026-11-30T00%3A01%3A15Z&JobId=j-0123456789abcdefghij&SyncData=True&Signature=V16vbi6qsQmhxDaVtKaBCzcWDi0%3D'))

SHA1 = 'AccessKeyId=AKIDEXAMPLE&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n1&Timestamp=2026-11-30T00%3A01%3A15Z&Signature=AAAA'
def sha1(action, params):
    return 'Action=%s&Version=2019-06-01&Format=JSON&%s&%s' % (action, params, SHA1)
write('smc_request', 'create-form', smc('POST', '', 'content-type: application/x-www-form-urlencoded\r\n',
    sha1('CreateReplicationJob', 'RegionId=cn-hangzhou&SourceId=@2&Name=nightly&Description=d&RunOnce=false&Frequency=12&MaxNumberOfImageToKeep=3&ClientToken=tok-1&TargetType=Image')))
write('smc_request', 'create-once', smc('GET', sha1('CreateReplicationJob', 'RegionId=cn-hangzhou&SourceId=@0&RunOnce=True')))
write('smc_request', 'describe', smc('GET', sha1('DescribeReplicationJobs', 'RegionId=cn-hangzhou&JobId.1=%230&JobId.2=%231&SourceId.1=@0&Status=Running&BusinessStatus=Syncing&PageSize=5&PageNumber=1&Name=seed')))
write('smc_request', 'describe-all', smc('GET', sha1('DescribeReplicationJobs', 'RegionId=cn-hangzhou&PageSize=50')))
write('smc_request', 'start', smc('GET', sha1('StartReplicationJob', 'RegionId=cn-hangzhou&JobId=%230')))
write('smc_request', 'stop', smc('GET', sha1('StopReplicationJob', 'RegionId=cn-hangzhou&JobId=%230')))
write('smc_request', 'cutover', smc('GET', sha1('CutOverReplicationJob', 'RegionId=cn-hangzhou&JobId=%230&SyncData=false')))
body = ''
acs3_any = ''.join('%s: %s\r\n' % kv for kv in [
    ('x-acs-action', 'DescribeReplicationJobs'), ('x-acs-version', '2019-06-01'),
    ('x-acs-date', '2026-11-30T00:01:15Z'),
    ('x-acs-content-sha256', hashlib.sha256(body.encode()).hexdigest()),
    ('authorization', 'ACS3-HMAC-SHA256 Credential=AKIDEXAMPLE,SignedHeaders=host;x-acs-action;x-acs-date,Signature=' + '0' * 64)])
write('smc_request', 'acs3-describe', smc('POST', 'RegionId=cn-hangzhou&PageSize=2', acs3_any))
write('smc_request', 'unsigned', smc('GET', 'Action=DescribeReplicationJobs&Version=2019-06-01'))
write('smc_request', 'bad-version', smc('GET', sha1('DescribeReplicationJobs', 'RegionId=x').replace('2019-06-01', '2020-01-01')))

# --- page_tokens, config_file, storage_codec ------------------------------
# page_tokens: [jobs][archived: 0 | 1 b][page size][variant x4][payload]
RAW, EDITED, SIGNED, PARTS = (bytes([b]) * 4 for b in (0x00, 0x55, 0xAA, 0xFF))
def tok(jobs, archived, size, variant, payload):
    arch = b'\x00' if archived is None else b'\x01' + bytes([archived])
    return bytes([jobs]) + arch + bytes([size]) + variant + payload
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=')
write('page_tokens', 'raw-empty', tok(0, None, 1, RAW, b''))
write('page_tokens', 'raw-garbage', tok(0, None, 2, RAW, b'not a token'))
write('page_tokens', 'raw-shaped', tok(1, None, 1, RAW, b64(b's-0123456789abcdef0') + b'.' + b64(b'\x00' * 32)))
write('page_tokens', 'raw-archived', tok(0, 1, 3, RAW, b'.'))
write('page_tokens', 'edited-none', tok(0, None, 1, EDITED, b''))
write('page_tokens', 'edited-id', tok(0, 0, 1, EDITED, b'\x01\x00A\x01\x05z'))
write('page_tokens', 'edited-jobs', tok(1, None, 1, EDITED, b'\x01\x20.'))
write('page_tokens', 'signed-server', tok(0, None, 2, SIGNED, b's-0000000000000000'))
write('page_tokens', 'signed-job', tok(1, None, 2, SIGNED, b'j-00000000000000000000'))
write('page_tokens', 'signed-empty', tok(0, None, 1, SIGNED, b''))
write('page_tokens', 'signed-odd', tok(0, None, 1, SIGNED, b'zzz\xc3\xa9'))
write('page_tokens', 'parts', tok(0, None, 1, PARTS, b's-1\x00\x01\x02\x03\x04\x03\x04'))

# config_file: TOML text.
write('config_file', 'full', '''# cutoverd.toml
listen = "127.0.0.1:50051"
data-dir = "/var/lib/cutover"
sim_speed = 60.0
simulator = "infrastructure"
partition = "aws"
region = "eu-west-1"
log-format = "json"
agent-silence-seconds = 300
event-retention-count = 1000000
event-retention-hours = 168
compaction-interval-ms = 60000
client-token-retention-seconds = 86400
max-message-bytes = 4194304
max-concurrent-streams = 1024
max-calls-per-connection = 256
request-timeout-seconds = 30
keepalive-seconds = 30
shutdown-grace-seconds = 10
insecure = false
lease-ttl-ms = 15000
log-poll-ms = 200
''')
write('config_file', 'listeners', 'mgn_listen = "127.0.0.1:0"\nsmc-listen = "[::1]:8081"\nmetrics-listen = "127.0.0.1:9090"\nno-simulator = true\n')
write('config_file', 'files', 'tokens-file = "/etc/cutover/tokens"\naccess-keys-file = "keys"\ntls-cert = "c.pem"\ntls-key = "k.pem"\n')
write('config_file', 'postgres', 'database-url = "postgres://cutover@db/cutover"\nreplica-id = "r1"\n')
write('config_file', 'bad-type', 'region = ["us-east-1"]\n')
write('config_file', 'unknown', 'config = "other.toml"\nlisten-address = 1\n')
write('config_file', 'out-of-range', 'sim-speed = 0.5\nlease-ttl-ms = 1\n')
write('config_file', 'escapes', 'region = "eu\\u00e9\\t"\n[table]\nx = 1\n')

# storage_codec: kind byte + the golden files.
kinds = {'server': 0, 'job': 1, 'event': 2, 'outcome': 3}
for path in sorted(glob.glob(os.path.join(GOLDEN, '*.bin'))):
    name = os.path.basename(path)[:-4]
    kind = kinds[name.split('_')[0]]
    write('storage_codec', name, bytes([kind]) + open(path, 'rb').read())
write('storage_codec', 'empty-server', b'\x00')
write('storage_codec', 'empty-event', b'\x02')
