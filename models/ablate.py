"""``python -m librarian.models.ablate``: the distilled towers' ablations, each measured the same way.

A full training run costs ~93 minutes on this project's 2-core machines, so an ablation is not a full
run per variant: every variant continues the full run's passage tower (``models/_work/towers/
checkpoint.pt``, written by ``python -m librarian.models.towers``) for the same number of steps, with a
fresh optimiser and schedule, changing one thing. The control variant changes nothing, so each row is
read against it, never against the full run (which had a different schedule):

- ``frozen``: the control; the question tower stays the teacher's (MiniLM-L6 int8, as shipped);
- ``trained``: the question tower (all six layers, from MiniLM-L6) is fine-tuned jointly, with a
  cosine-to-teacher term that keeps it in the teacher's space (``distill.TrainConfig.question_tower``);
- ``no-kl``: the teacher's signal is its vectors only (cosine + DPR NLL on the hard negatives; the KL
  on the teacher's scores over the candidate list is dropped);
- ``bm25-negatives``: DPR's negatives, BM25 hits from other documents only, instead of the mined ones
  (BM25 and teacher-cosine candidates fused, likely false negatives dropped: ``targets.mine_negatives``);
- ``mpnet-kl``: a stronger teacher's signal: all-mpnet-base-v2 (from its PyPI part packages,
  ``references.mpnet_model_dir``) scores each batch's candidates for the KL term, while the cosine term keeps
  the passage vectors in MiniLM-L6's space (the question tower's). Scored during training, not cached: a
  400-step ablation reads each candidate once.

Each variant is exported, quantised and gated exactly as the candidate (``towers.quantized_tower``) and
scored by ``librarian eval``'s code on every dev collection (BM25, dense, hybrid nDCG@10), as are MiniLM-L6
int8 and the full run's candidate, all with the app's encoder as it runs today. Everything is cached under
``models/_work/towers/ablations``; the table goes to ``ablations.md`` there and is printed.

    python -m librarian.models.ablate [--steps 500] [--variants frozen trained no-kl]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from .towers import (
    EVAL_ROOT,
    REPO,
    cached_evaluation,
    log,
    mean_of,
    quantized_tower,
    share_word_embeddings,
    write_candidate_files,
)

VARIANTS: dict[str, dict[str, Any]] = {
    "frozen": {},
    "trained": {"question_tower": "trained"},
    "no-kl": {"kl_weight": 0.0},
    "bm25-negatives": {"negatives": "bm25"},
    "mpnet-kl": {"score_teacher": "mpnet"},
}
NOT_CONFIG = ("negatives", "score_teacher")  # variant keys that are not `distill.TrainConfig` fields
# A continuation, not a run from MiniLM's layers: a lower peak rate and a short warm-up.
CONTINUE: dict[str, Any] = {"lr": 5e-5, "warmup": 25}


def run_variant(name: str, changes: dict, *, work: Path, steps: int, baseline: Path, eval_root: Path) -> Path:
    """Train (cached), export and assemble one variant's model folder; returns the folder."""
    from . import corpus, distill, teachers, training_data
    from . import targets as tg
    from .fidelity import load_eval_set

    out = work / "ablations" / name
    candidate = out / "candidate"
    if (candidate / "manifest.json").exists():
        return candidate
    tokenizer = baseline / "tokenizer.json"
    teacher = teachers.locate("all-MiniLM-L6-v2")
    passages = corpus.read(work / "passages.jsonl")
    examples = training_data.read(work / "examples.jsonl")
    q_vecs, pos_vecs, passage_vecs, mined = tg.prepare(work, passages, examples, baseline, log=log)
    student_dir = out / "student"
    if not (student_dir / "training.json").exists():
        held = set(range(0, len(passages), 100))  # as towers.py: never a positive or a negative
        keep = [i for i, ex in enumerate(examples) if ex.positive not in held]
        config = distill.TrainConfig(max_steps=steps, time_budget_s=6 * 3600, **CONTINUE,
                                     **{k: v for k, v in changes.items() if k not in NOT_CONFIG})
        if changes.get("negatives") == "bm25":
            mined = bm25_negatives(tg.cached_bm25(work / "bm25.json", passages, examples),
                                   [p["doc"] for p in passages], [ex.positive for ex in examples])
        chosen = distill.Targets(questions=q_vecs[keep], positives=pos_vecs[keep], passages=passage_vecs,
                                 negatives=[[n for n in mined[i] if n not in held] for i in keep])
        log(f"{name}: {steps} steps from {work / 'checkpoint.pt'} with {changes or 'no change'}")
        scorer = mpnet_scorer(REPO / "models" / "cache" / "mpnet") if changes.get("score_teacher") == "mpnet" else None
        distill.train(passages, [examples[i] for i in keep], chosen, teacher.model_dir, tokenizer, student_dir, config,
                      checkpoint=out / "checkpoint.pt", start_from=work / "checkpoint.pt", score_teacher=scorer,
                      validation=sorted(held), log=log)
    training = json.loads((student_dir / "training.json").read_text())
    data = load_eval_set(eval_root)
    int8, fidelity = quantized_tower(student_dir / "passage", out / "passage", tokenizer, data)
    full_run = json.loads((work / "report.json").read_text())
    report = {"built": full_run["built"], "data": full_run["data"], "fidelity": fidelity.as_dict(),
              # Same architecture as the full run's passage tower: its speed, measured there, is this one's.
              "speed": full_run["speed"]}
    question_int8 = baseline / "model.onnx"
    if (student_dir / "question").is_dir():
        question_int8, q_fidelity = quantized_tower(student_dir / "question", out / "question", tokenizer, data)
        report["fidelity_question"] = q_fidelity.as_dict()
    if candidate.exists():
        shutil.rmtree(candidate)
    share_word_embeddings(question_int8, int8, candidate)
    write_candidate_files(candidate, baseline, teacher, report, training)
    (out / "training_summary.json").write_text(json.dumps(
        {k: training[k] for k in ("steps", "seconds", "validation_mean_cosine") if k in training}
        | {"config": {k: training["config"][k] for k in ("lr", "warmup", "question_tower", "kl_weight", "cos_weight",
                                                           "nll_weight")}}, indent=1))
    return candidate


def mpnet_scorer(cache: Path, question_length: int = 64, passage_length: int = 256):
    """(questions, passages) -> all-mpnet-base-v2's normalised mean-pooled vectors (torch), as
    sentence-transformers computes them; bf16 autocast where the CPU has it, like the student."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from .distill import bf16_supported
    from .references import mpnet_model_dir

    folder = mpnet_model_dir(cache)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    autocast = bf16_supported()

    def encode(texts: list[str], length: int):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=length, return_tensors="pt")
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            hidden = model(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    return lambda questions, passages: (encode(questions, question_length), encode(passages, passage_length))


def bm25_negatives(bm25: list[list[int]], docs: list[str], positives: list[int]) -> list[list[int]]:
    """DPR's hard negatives: each question's BM25 hits from other documents, best first, as many as
    the mined lists hold (`targets.NEGATIVES_PER_QUESTION`)."""
    from .targets import NEGATIVES_PER_QUESTION

    return [[c for c in hits if docs[c] != docs[own]][:NEGATIVES_PER_QUESTION]
            for hits, own in zip(bm25, positives, strict=True)]


def table(results: dict[str, list[dict]], summaries: dict[str, dict]) -> str:
    collections = sorted({r["collection"] for rows in results.values() for r in rows})
    head = "| model | steps | " + " | ".join(f"{c} dense / hybrid" for c in collections) + " | mean dense | mean hybrid |"
    lines = [head, "|" + "---|" * (len(collections) + 4)]
    for name, rows in results.items():
        by = {(r["collection"], r["mode"]): r["ndcg@10"] for r in rows}
        cells = [f"{by[(c, 'dense')]:.3f} / {by[(c, 'hybrid')]:.3f}" for c in collections]
        steps = summaries.get(name, {}).get("steps", "")
        lines.append(f"| {name} | {steps} | " + " | ".join(cells)
                     + f" | {mean_of(rows, 'dense'):.4f} | {mean_of(rows, 'hybrid'):.4f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m librarian.models.ablate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=REPO / "models" / "_work" / "towers")
    ap.add_argument("--baseline", type=Path, default=REPO / "models" / "shipped")
    ap.add_argument("--eval-root", type=Path, default=EVAL_ROOT)
    ap.add_argument("--steps", type=int, default=500, help="training steps of every variant (16 questions each)")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not (args.work / "checkpoint.pt").exists():
        raise SystemExit(f"no full run to continue in {args.work}: run `python -m librarian.models.towers` first")
    collections = sorted(p for p in args.eval_root.iterdir() if (p / "corpus.jsonl").exists())
    cache = args.work / "ablations" / "evaluations"
    results = {"MiniLM-L6 int8 (shipped)": cached_evaluation(args.baseline, collections, cache / "minilm.json"),
               "second run's candidate (93 min)": cached_evaluation(args.work / "candidate", collections,
                                                                    cache / "full-run.json")}
    summaries = {}
    for name in args.variants:
        started = time.perf_counter()
        folder = run_variant(name, VARIANTS[name], work=args.work, steps=args.steps, baseline=args.baseline,
                             eval_root=args.eval_root)
        results[f"+{args.steps} steps, {name}"] = cached_evaluation(folder, collections, cache / f"{name}.json")
        summaries[f"+{args.steps} steps, {name}"] = json.loads(
            (args.work / "ablations" / name / "training_summary.json").read_text())
        log(f"{name}: done in {time.perf_counter() - started:.0f} s")
        text = table(results, summaries)
        (args.work / "ablations" / "ablations.md").write_text(
            text + "\n\n" + json.dumps({"summaries": summaries, "variants": {k: VARIANTS[k] for k in args.variants},
                                          "continuation": CONTINUE}, indent=1) + "\n")
        print(text, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
