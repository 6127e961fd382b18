"""The OCR benchmark's peer: RapidOCR (PyPI) on the same JPEG pages as keda-indexer's engine.

    python bench/ocr_peer.py CPU_SECONDS PAGE.jpg [PAGE.jpg ...]

Reads every page once (warm-up; those texts are the ones scored), then again and again until the
process has used CPU_SECONDS of CPU, one thread as the worker's engine has. Prints one JSON line:
the texts, pages, rounds, CPU and wall seconds, and the version.
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from importlib.metadata import version  # noqa: E402

from rapidocr_onnxruntime import RapidOCR  # noqa: E402


def main():
    cpu_seconds = float(sys.argv[1])
    pages = sys.argv[2:]
    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(page):
        result, _ = engine(page)
        # Boxes top to bottom (their first corner's y), text joined by lines.
        boxes = sorted(result or [], key=lambda box: (box[0][0][1], box[0][0][0]))
        return "\n".join(box[1] for box in boxes)

    texts = [read(page) for page in pages]
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    rounds = 0
    while True:
        for page in pages:
            read(page)
        rounds += 1
        if time.process_time() - cpu_start >= cpu_seconds:
            break
    print(json.dumps({
        "texts": texts,
        "pages": len(pages),
        "rounds": rounds,
        "cpuSeconds": time.process_time() - cpu_start,
        "wallSeconds": time.perf_counter() - wall_start,
        "version": f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')} (onnxruntime {version('onnxruntime')})",
    }))


if __name__ == "__main__":
    main()
