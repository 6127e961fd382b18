"""Read an index the worker wrote, as a Python user of the dev stack would.

Run by test/integration/python-clients.test.ts inside a venv made from one of the requirements
files next to this one. Reads a JSON request on stdin:

  {"url": ..., "index": ..., "haystack": bool,
   "queries": [{"text": ..., "embedding": [384 floats from the project's embedder]}]}

and prints one JSON object on stdout with what each client got back. It asserts nothing about
the results (the test does); any client error ends it with a traceback and a non-zero exit, so a
node that refuses the client (405 on `GET /`) fails the test with the client's own message.
"""

import json
import os
import sys

# Haystack reports usage to PostHog unless told not to; the test machines have no internet.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from elasticsearch import Elasticsearch, __versionstr__ as client_version  # noqa: E402

TOP_K = 3


def hit_summary(source, score):
    return {
        "file_path": source.get("file_path"),
        "split_id": source.get("split_id"),
        "content": source.get("content", ""),
        "score": score,
    }


def plain_client(request):
    """The official client: what `pip install elasticsearch` users start with."""
    es = Elasticsearch(request["url"], request_timeout=30)
    info = es.info()  # GET /: the first call most Python code makes, and Haystack's too
    result = {
        "client_version": client_version,
        "info": {
            "version": info["version"]["number"],
            "cluster_name": info["cluster_name"],
            "name": info["name"],
        },
        "ping": es.ping(),  # HEAD /
        "count": es.count(index=request["index"])["count"],
        "knn": [],
    }
    for query in request["queries"]:
        response = es.search(
            index=request["index"],
            knn={"field": "embedding", "query_vector": query["embedding"], "k": TOP_K, "num_candidates": 50},
            source_excludes=["embedding"],
            size=TOP_K,
        )
        result["knn"].append([hit_summary(h["_source"], h["_score"]) for h in response["hits"]["hits"]])
    es.close()
    return result


def haystack(request):
    """Haystack 2: the document store and retrievers in a pipeline, as a RAG app wires them."""
    from haystack import Pipeline
    from haystack_integrations.components.retrievers.elasticsearch import (
        ElasticsearchBM25Retriever,
        ElasticsearchEmbeddingRetriever,
    )
    from haystack_integrations.document_stores.elasticsearch import ElasticsearchDocumentStore

    store = ElasticsearchDocumentStore(hosts=request["url"], index=request["index"])
    pipeline = Pipeline()
    pipeline.add_component("embedding", ElasticsearchEmbeddingRetriever(document_store=store, top_k=TOP_K))
    pipeline.add_component("bm25", ElasticsearchBM25Retriever(document_store=store, top_k=TOP_K))

    def docs(documents):
        return [
            {
                "file_path": d.meta.get("file_path"),
                "split_id": d.meta.get("split_id"),
                "content": d.content or "",
                "score": d.score,
            }
            for d in documents
        ]

    result = {"count": store.count_documents(), "embedding": [], "bm25": []}
    for query in request["queries"]:
        out = pipeline.run(
            {"embedding": {"query_embedding": query["embedding"]}, "bm25": {"query": query["text"]}}
        )
        result["embedding"].append(docs(out["embedding"]["documents"]))
        result["bm25"].append(docs(out["bm25"]["documents"]))
    return result


def main():
    request = json.load(sys.stdin)
    result = {"elasticsearch": plain_client(request)}
    if request.get("haystack"):
        result["haystack"] = haystack(request)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
