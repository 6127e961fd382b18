"""Smoke test of the dev stack: run through test/smoke/dev-stack-smoke.sh.

Proves against the running services:
  moto SQS:  create queue, send, receive, delete message
  moto S3:   create bucket, put and get an object
  ES:        GET / names this node (cluster name, version) and HEAD / answers 200, as clients'
             info() and ping() need; index with a 384-dim dense_vector (index: true, cosine),
             3 docs, refresh, top-level knn query ranks the nearest vector first
Everything it creates is removed again, also on failure.
"""

import json
import math
import os
import random
import sys
import time
import urllib.error
import urllib.request

import boto3

DIMS = 384
RUN = f"ki-smoke-{os.getpid()}-{int(time.time())}"
failures = 0


def ok(msg):
    print(f"PASS {msg}", flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def step(name, fn):
    """Run one check; count a failure instead of stopping, so cleanup still happens."""
    global failures
    try:
        fn()
        ok(name)
    except Exception as e:  # noqa: BLE001 - report every kind of failure the same way
        failures += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- AWS

endpoint = os.environ["AWS_ENDPOINT_URL"]
region = os.environ.get("AWS_REGION", "us-east-1")
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region)
state = {}


def sqs_roundtrip():
    url = sqs.create_queue(QueueName=RUN)["QueueUrl"]
    state["queue"] = url
    body = json.dumps({"smoke": RUN})
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=2)
    msgs = got.get("Messages", [])
    check(len(msgs) == 1, f"expected 1 message, got {len(msgs)}")
    check(msgs[0]["Body"] == body, "received body differs from sent body")
    check(msgs[0]["MessageId"] == sent["MessageId"], "message id differs")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    left = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
    check(left == 0, f"{left} message(s) left after delete")


def s3_roundtrip():
    s3.create_bucket(Bucket=RUN)
    state["bucket"] = RUN
    key = "docs/smoke test.txt"
    data = f"hello from {RUN}\n".encode()
    s3.put_object(Bucket=RUN, Key=key, Body=data, ContentType="text/plain")
    got = s3.get_object(Bucket=RUN, Key=key)
    check(got["Body"].read() == data, "object content differs")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=RUN).get("Contents", [])]
    check(keys == [key], f"unexpected listing {keys}")


# ------------------------------------------------------------------------------------- ES

es_url = os.environ["ELASTICSEARCH_URL"].rstrip("/")


def es(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        es_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def es_root():
    status, body = es("GET", "/")
    check(status == 200, f"GET /: {status} {body}")
    status, health = es("GET", "/_cluster/health")
    check(body["cluster_name"] == health["cluster_name"],
          f"GET / cluster_name {body['cluster_name']!r}, health says {health['cluster_name']!r}")
    status, nodes = es("GET", "/_nodes/_local")
    node = next(iter(nodes["nodes"].values()))
    check(body["name"] == node["name"] and body["version"]["number"] == node["version"],
          f"GET / says {body['name']} {body['version']['number']}, _nodes says {node['name']} {node['version']}")
    req = urllib.request.Request(es_url + "/", method="HEAD")
    with urllib.request.urlopen(req, timeout=30) as r:
        check(r.status == 200, f"HEAD /: {r.status}")


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def es_knn():
    rng = random.Random(384)
    base = [rng.gauss(0, 1) for _ in range(DIMS)]
    near = unit([x + rng.gauss(0, 0.05) for x in base])    # almost the query
    mid = unit([x + rng.gauss(0, 0.8) for x in base])      # related
    far = unit([rng.gauss(0, 1) for _ in range(DIMS)])     # unrelated
    query = unit(base)

    index = RUN
    status, body = es("PUT", f"/{index}", {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {"properties": {
            "title": {"type": "keyword"},
            "embedding": {"type": "dense_vector", "dims": DIMS, "index": True,
                          "similarity": "cosine"},
        }},
    })
    check(status == 200 and body.get("acknowledged"), f"create index: {status} {body}")
    state["index"] = index

    status, body = es("GET", f"/{index}/_mapping")
    emb = body[index]["mappings"]["properties"]["embedding"]
    check(emb["type"] == "dense_vector" and emb["dims"] == DIMS and emb.get("similarity") == "cosine"
          and emb.get("index", True) is True, f"mapping: {emb}")

    for doc_id, vec in (("far", far), ("near", near), ("mid", mid)):
        status, body = es("PUT", f"/{index}/_doc/{doc_id}", {"title": doc_id, "embedding": vec})
        check(status in (200, 201), f"index {doc_id}: {status} {body}")
    status, body = es("POST", f"/{index}/_refresh")
    check(status == 200, f"refresh: {status} {body}")

    status, body = es("POST", f"/{index}/_search", {
        "knn": {"field": "embedding", "query_vector": query, "k": 3, "num_candidates": 10},
        "_source": ["title"],
    })
    check(status == 200, f"knn search: {status} {body}")
    hits = body["hits"]["hits"]
    ids = [h["_id"] for h in hits]
    check(ids == ["near", "mid", "far"], f"knn order {ids}, want ['near', 'mid', 'far']")
    check(hits[0]["_score"] > hits[1]["_score"] > hits[2]["_score"], "scores not decreasing")

    status, body = es("POST", f"/{index}/_search", {
        "knn": {"field": "embedding", "query_vector": near, "k": 1, "num_candidates": 10},
    })
    check(status == 200 and body["hits"]["hits"][0]["_id"] == "near",
          f"knn k=1 by the doc's own vector: {body}")
    check(body["hits"]["hits"][0]["_score"] > 0.999, "own vector not scored ~1.0")


def cleanup():
    if "index" in state:
        status, body = es("DELETE", f"/{state['index']}")
        if status != 200:
            print(f"warning: could not delete index {state['index']}: {status} {body}", file=sys.stderr)
    if "bucket" in state:
        for o in s3.list_objects_v2(Bucket=state["bucket"]).get("Contents", []):
            s3.delete_object(Bucket=state["bucket"], Key=o["Key"])
        s3.delete_bucket(Bucket=state["bucket"])
    if "queue" in state:
        sqs.delete_queue(QueueUrl=state["queue"])


def main():
    print(f"smoke: AWS_ENDPOINT_URL={endpoint} ELASTICSEARCH_URL={es_url} run={RUN}", flush=True)
    try:
        step("sqs: queue created, message sent, received and deleted", sqs_roundtrip)
        step("s3: bucket created, object put and read back", s3_roundtrip)
        step("elasticsearch: GET / names this node and HEAD / answers (clients' info() and ping())", es_root)
        step(f"elasticsearch: {DIMS}-dim dense_vector (cosine) indexed, knn ranks nearest first", es_knn)
    finally:
        step("cleanup: queue, bucket and index removed", cleanup)
    if failures:
        print(f"smoke: {failures} check(s) FAILED", file=sys.stderr)
        return 1
    print("smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
