"""S3 sources against a real S3-compatible server (moto in server mode):

* bucket `acme-trail` is read through S3 → SQS ObjectCreated notifications;
* bucket `globex-trail` is read by listing its prefix (a digest file is skipped);
* after a restart, new objects are read and nothing is read twice.

Run by scripts/client-tests (which makes the venv).
"""

import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import free_port, wait_ready

import boto3



def trail_file(account, n, start):
    records = [{
        "eventVersion": "1.08", "eventTime": f"2026-11-20T10:{(start + i) % 60:02d}:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "userName": "alice", "accountId": account,
                         "accessKeyId": "AKIAEXAMPLE"},
        "eventID": f"{account}-{start + i:08d}", "eventType": "AwsApiCall", "recipientAccountId": account,
    } for i in range(n)]
    return gzip.compress(json.dumps({"Records": records}).encode())


def key(account, i):
    return f"AWSLogs/{account}/CloudTrail/us-east-1/2026/11/20/{account}_CloudTrail_us-east-1_20261120T10{i:02d}Z_x{i}.json.gz"



def count(base, token, tenant):
    req = urllib.request.Request(base + "/api/v1/aggregate", method="POST", data=json.dumps({
        "tenants": [tenant], "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
        "aggregations": [{"type": "cardinality", "field": "event.id"}]}).encode())
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        out = json.loads(r.read())
    return out["total"], out["results"][0]["value"]


def wait_count(base, token, tenant, want):
    got = None
    for _ in range(300):
        got = count(base, token, tenant)
        if got[0] >= want:
            break
        time.sleep(0.2)
    time.sleep(1.5)  # let any duplicate arrive before judging
    got = count(base, token, tenant)
    assert got == (want, want), f"{tenant}: stored {got}, expected {want} distinct events"


def main():
    binary = sys.argv[1]
    moto_port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{moto_port}"
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    data = tempfile.mkdtemp(prefix="mamori-s3-")
    server = None
    try:
        wait_ready(endpoint, "/moto-api/", 100)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        sqs = boto3.client("sqs", endpoint_url=endpoint)
        s3.create_bucket(Bucket="acme-trail")
        s3.create_bucket(Bucket="globex-trail")
        queue = sqs.create_queue(QueueName="acme-trail-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(Bucket="acme-trail", NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})

        for i in range(3):
            s3.put_object(Bucket="acme-trail", Key=key("111111111111", i), Body=trail_file("111111111111", 20, i * 20))
            s3.put_object(Bucket="globex-trail", Key=key("222222222222", i), Body=trail_file("222222222222", 10, i * 10))
        s3.put_object(Bucket="globex-trail",
                      Key="AWSLogs/222222222222/CloudTrail-Digest/us-east-1/2026/11/20/d.json.gz",
                      Body=gzip.compress(json.dumps({"awsAccountId": "222222222222", "digestStartTime": "x",
                                                     "digestEndTime": "y", "digestS3Bucket": "b",
                                                     "logFiles": []}).encode()))

        config = os.path.join(data, "mamori.toml")
        with open(config, "w") as f:
            f.write(f"""
[[s3]]
tenant = "acme"
source = "cloudtrail"
bucket = "acme-trail"
prefix = "AWSLogs/"
endpoint = "{endpoint}"
sqs_queue_url = "{queue}"
interval_secs = 1

[[s3]]
tenant = "globex"
source = "cloudtrail"
bucket = "globex-trail"
prefix = "AWSLogs/"
endpoint = "{endpoint}"
interval_secs = 1
""")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [binary, "--data-dir", data, "serve", "--config", config, "--listen", f"127.0.0.1:{port}"]
        env = dict(os.environ, MAMORI_ADMIN_PASSWORD="admin-password")
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(base)
        token = subprocess.check_output([binary, "--data-dir", data, "token", "create", "--user", "admin",
                                         "--name", "s3"], stderr=subprocess.DEVNULL).decode().strip()
        wait_count(base, token, "acme", 60)
        wait_count(base, token, "globex", 30)
        print("s3: 60 events via S3→SQS notifications, 30 by listing (digest skipped)")

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        for i in range(3, 5):
            s3.put_object(Bucket="acme-trail", Key=key("111111111111", i), Body=trail_file("111111111111", 20, i * 20))
            s3.put_object(Bucket="globex-trail", Key=key("222222222222", i), Body=trail_file("222222222222", 10, i * 10))
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(base)
        wait_count(base, token, "acme", 100)
        wait_count(base, token, "globex", 50)
        print("s3: after a restart, new objects read once and old ones not again (100 + 50 distinct events)")
    finally:
        if server and server.poll() is None:
            server.terminate()
            server.wait(timeout=60)
        moto.terminate()
        moto.wait(timeout=30)


if __name__ == "__main__":
    main()
