"""Print the model card's tables from a towers report: ``python -m librarian.models.card_table REPORT.json``."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ORDER = ["MiniLM-L6 fp32", "MiniLM-L6 int8 (shipped)", "mpnet fp32 (teacher)", "our towers int8"]


def cell(rows: list[dict], collection: str, mode: str) -> str:
    (row,) = [r for r in rows if r["collection"] == collection and r["mode"] == mode]
    return f"{row['ndcg@10']:.3f} / {row['recall@100']:.3f}"


def mean(rows: list[dict], mode: str, metric: str = "ndcg@10") -> float:
    return statistics.fmean(r[metric] for r in rows if r["mode"] == mode)


def tables(report: dict) -> str:
    retrieval = report["retrieval"]
    names = [n for n in ORDER if n in retrieval] + [n for n in retrieval if n not in ORDER]
    collections = sorted({r["collection"] for rows in retrieval.values() for r in rows})
    head = "| encoder | mode | " + " | ".join(collections) + " | mean nDCG@10 | mean R@100 |"
    lines = [head, "|---|---|" + "---|" * (len(collections) + 2)]
    any_rows = retrieval[names[0]]
    lines.append("| BM25 (FTS5) | keyword | " + " | ".join(cell(any_rows, c, "keyword") for c in collections)
                 + f" | {mean(any_rows, 'keyword'):.3f} | {mean(any_rows, 'keyword', 'recall@100'):.3f} |")
    for mode in ("dense", "hybrid"):
        for name in names:
            rows = retrieval[name]
            label = f"**{name}**" if name == "our towers int8" else name
            lines.append(f"| {label} | {mode} | " + " | ".join(cell(rows, c, mode) for c in collections)
                         + f" | {mean(rows, mode):.3f} | {mean(rows, mode, 'recall@100'):.3f} |")
    speed = report["speed"]["measured"]
    base, ours = speed["MiniLM-L6 int8"], speed["passage tower int8"]
    lines += ["", "| tower | passages/s @128 | @256 | query p50 ms | x @128 | x @256 |", "|---|---:|---:|---:|---:|---:|"]
    for name, s in (("MiniLM-L6 int8 (6 layers)", base), ("our passage tower int8 (3 layers)", ours)):
        lines.append(f"| {name} | {s['passages_per_s@128']} | {s['passages_per_s@256']} | {s['query_p50_ms']} | "
                     f"{s['passages_per_s@128'] / base['passages_per_s@128']:.2f} | "
                     f"{s['passages_per_s@256'] / base['passages_per_s@256']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables(json.loads(Path(sys.argv[1]).read_text())))
