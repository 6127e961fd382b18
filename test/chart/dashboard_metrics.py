#!/usr/bin/env python3
"""Checks that every metric the Grafana dashboard queries is one the worker exports
(test/chart/worker-metrics.txt) or one listed in test/chart/external-metrics.txt.

    python3 test/chart/dashboard_metrics.py [DASHBOARD.json]

Histogram series (_bucket, _sum, _count) count as their histogram. Exit 1, naming each unknown
metric and the panel that queries it, when one is not listed; also when the dashboard queries
nothing (the check would be empty). Standard library only.
"""
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan"}
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def load_list(path):
    """name -> second column, from a "name rest" file with # comments."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, rest = line.partition(" ")
            out[name] = rest.strip()
    return out


def strip_balanced(expr, open_ch, close_ch):
    out, depth = [], 0
    for ch in expr:
        if ch == open_ch:
            depth += 1
        elif ch == close_ch and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def metric_names(expr):
    """Metric names a PromQL expression selects."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)        # string literals
    expr = strip_balanced(expr, "{", "}")                   # label matchers
    expr = strip_balanced(expr, "[", "]")                   # range and subquery windows
    # grouping / matching label lists: by (a, b), without (...), on (...), ignoring (...), group_x (...)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for m in IDENT.finditer(expr):
        word = m.group(0)
        rest = expr[m.end():].lstrip()
        start = m.start()
        if start > 0 and (expr[start - 1] == "$" or expr[start - 1].isdigit() or expr[start - 1] == "."):
            continue                                        # Grafana variable, number part
        if rest.startswith("("):
            continue                                        # function or aggregation
        if word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def queries(dashboard):
    """(where, expr) for every PromQL expression: panel targets and query variables."""
    for panel in dashboard.get("panels", []):
        for sub in [panel] + panel.get("panels", []):
            for target in sub.get("targets", []):
                if target.get("expr"):
                    yield f'panel "{sub.get("title")}"', target["expr"]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$", q or "")
        if m:
            yield f'variable "{var.get("name")}"', m.group(1)
        elif q:
            yield f'variable "{var.get("name")}"', q


def main(argv):
    path = pathlib.Path(argv[1]) if len(argv) > 1 else ROOT / "chart/dashboards/keda-indexer.json"
    worker = load_list(HERE / "worker-metrics.txt")
    external = load_list(HERE / "external-metrics.txt")
    dashboard = json.loads(path.read_text())
    seen, errors = set(), []
    for where, expr in queries(dashboard):
        for name in metric_names(expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name in worker or name in external:
                seen.add(name)
            elif base != name and worker.get(base) == "histogram":
                seen.add(base)
            else:
                errors.append(f"{where}: {name} is neither exported by the worker "
                              f"(worker-metrics.txt) nor listed in external-metrics.txt")
    if not seen:
        errors.append(f"{path}: no metric found in any query")
    for error in errors:
        print(error)
    if errors:
        return 1
    print(f"{path.name}: {len(seen)} metrics queried, all known: {', '.join(sorted(seen))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
