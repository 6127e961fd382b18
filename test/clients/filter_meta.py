"""Haystack 2 reads the file metadata the worker wrote: filters on meta.<name> and on the access
fields, as docs/operations.md shows an application doing it. Request on stdin (JSON: url, index,
embedding, cases: [{name, filters}]); answer on stdout: per case, the file_path and meta of each
document found by filter_documents and by the embedding retriever with the same filters."""
import json
import sys

from haystack_integrations.components.retrievers.elasticsearch import ElasticsearchEmbeddingRetriever
from haystack_integrations.document_stores.elasticsearch import ElasticsearchDocumentStore

request = json.load(sys.stdin)
store = ElasticsearchDocumentStore(hosts=request["url"], index=request["index"])
retriever = ElasticsearchEmbeddingRetriever(document_store=store, top_k=50)


def described(documents):
    return sorted(
        ({"file_path": d.meta.get("file_path"), "department": d.meta.get("department"), "year": d.meta.get("year")} for d in documents),
        key=lambda d: (d["file_path"] or "", str(d["department"])),
    )


answer = {}
for case in request["cases"]:
    found = store.filter_documents(filters=case["filters"])
    retrieved = retriever.run(query_embedding=request["embedding"], filters=case["filters"])["documents"]
    answer[case["name"]] = {"filter": described(found), "retriever": described(retrieved)}
json.dump(answer, sys.stdout)
