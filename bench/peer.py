"""The Python peer of `npm run bench`: what sentence-transformers' ONNX backend does, without torch.

onnxruntime + HF `tokenizers`; texts sorted by length (longest first, by characters, as
SentenceTransformer.encode sorts), batches of 32, padded to the longest in the batch, truncated at
256 tokens, mean pooling over the attention mask, L2 normalisation. Also pypdf text extraction.

A long-lived process: one JSON command per stdin line, one JSON answer per stdout line, so the
harness can alternate it with the Node contenders without paying interpreter start-up each round.
Timings exclude reading inputs from disk (the texts are loaded by a separate command).
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

state = {}


def load(cmd):
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(cmd.get("threads", 0))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    started = time.perf_counter()
    session = ort.InferenceSession(cmd["onnx"], options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(cmd["tokenizer"])
    tokenizer.enable_truncation(max_length=int(cmd.get("max_tokens", 256)))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest of each batch
    state.update(session=session, tokenizer=tokenizer, inputs={i.name for i in session.get_inputs()})
    return {
        "seconds": time.perf_counter() - started,
        "onnxruntime": ort.__version__,
        "intra_op_threads": options.intra_op_num_threads,
        "providers": session.get_providers(),
    }


def texts(cmd):
    with open(cmd["file"], encoding="utf-8") as f:
        state["texts"] = json.load(f)
    return {"count": len(state["texts"])}


def embed(cmd):
    session, tokenizer, inputs = state["session"], state["tokenizer"], state["inputs"]
    items = state["texts"]
    batch_size = int(cmd.get("batch", 32))
    started = time.perf_counter()
    order = np.argsort([-len(t) for t in items], kind="stable")
    out = np.empty((len(items), 384), dtype=np.float32)
    tokens = 0
    padded = 0
    for start in range(0, len(items), batch_size):
        index = order[start : start + batch_size]
        encodings = tokenizer.encode_batch([items[i] for i in index])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        out[index] = pooled
        tokens += int(mask.sum())
        padded += int(mask.size)
    seconds = time.perf_counter() - started
    if cmd.get("vectors_out"):
        out.tofile(cmd["vectors_out"])
    return {"seconds": seconds, "chunks": len(items), "tokens": tokens, "padded_tokens": padded}


def pdf(cmd):
    from pypdf import PdfReader

    blobs = []
    for path in cmd["files"]:
        with open(path, "rb") as f:
            blobs.append(f.read())
    import io

    started = time.perf_counter()
    pages = 0
    chars = 0
    for blob in blobs:
        reader = PdfReader(io.BytesIO(blob))
        for page in reader.pages:
            chars += len(page.extract_text())
            pages += 1
    return {"seconds": time.perf_counter() - started, "pages": pages, "chars": chars}


def versions(_cmd):
    import pypdf
    import tokenizers

    return {
        "python": sys.version.split()[0],
        "onnxruntime": ort.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "pypdf": pypdf.__version__,
    }


COMMANDS = {"load": load, "texts": texts, "embed": embed, "pdf": pdf, "versions": versions}

for line in sys.stdin:
    if not line.strip():
        continue
    cmd = json.loads(line)
    try:
        answer = {"ok": True, **COMMANDS[cmd["cmd"]](cmd)}
    except Exception as error:  # reported to the harness, which fails the run
        answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
