"""Distil a 3-layer passage tower into all-MiniLM-L6-v2's embedding space.

The towers are asymmetric on purpose. Indexing cost is the passage tower's (every passage of a library,
~160 pieces each); a query is one short text per keystroke pause. So the **question tower is the teacher
itself** (6 layers, shipped int8 as before: ~3 ms a query), or, with ``question_tower="trained"``, the
teacher fine-tuned jointly at a small learning rate; the **passage tower is a 3-layer student** trained to
put each passage where the teacher would, and to rank passages for questions as the teacher does:

* ``cos``: 1 - cosine between the student's and the teacher's passage vector (embedding distillation;
  plus the same for question vectors when the question tower is trained, which keeps it in the space the
  index was built in);
* ``kl``: KL divergence between the teacher's and the student's softmax over the batch's passages for each
  question (scores = question vector · passage vector; every positive and mined hard negative of the batch
  is a candidate: in-batch negatives as in DPR);
* ``nll``: DPR's loss, the negative log-likelihood of the question's own positive (small weight: inverse
  cloze labels are noisy, the teacher's scores are not).

The student starts from teacher layers (``INIT_LAYERS``) and its **word-embedding table stays frozen**:
it is the teacher's, byte for byte, so both towers can share one copy on disk (see ``towers.py``) and the
passage tower costs ~6 MB on top of the question tower instead of ~17 MB.

What makes a CPU run go further: the teacher never runs during training (its vectors are computed once,
``targets.py``); every text is tokenised once (`TokenCache`); batches are built from windows of examples of
similar length (`batch_order`: little padding at the app's own passage length, up to 256 pieces); the
student runs under bfloat16 autocast where the CPU multiplies bf16 natively (AMX / AVX512-BF16: ~1.5x per
step here), with fp32 master weights and loss; and the whole state is checkpointed every few minutes, so an
interrupted run continues where it stopped (`train(checkpoint=...)`).
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

INIT_LAYERS = (0, 3, 5)  # best untrained cut: mean cosine to the teacher .546 vs .261 for (0, 2, 4), .183 for (0, 1, 2)
REPLAN_EVERY = 100  # steps between estimates of how many steps the time budget allows
SCORE_SCALE = 20.0  # 1 / temperature for question·passage cosines (MultipleNegativesRanking's default)


@dataclass
class TrainConfig:
    layers: tuple[int, ...] = INIT_LAYERS
    batch: int = 16  # questions per step; 2 x batch passages (positives + hard negatives)
    lr: float = 1.5e-4
    warmup: int = 100
    weight_decay: float = 0.01
    cos_weight: float = 10.0
    kl_weight: float = 1.0
    nll_weight: float = 0.1
    passage_max_length: int = 256  # what the app embeds (title + body: median 168 pieces, 95% <= 193)
    question_max_length: int = 64
    max_steps: int = 20000
    time_budget_s: float = 3600.0
    threads: int = 2
    seed: int = 7
    log_every: int = 50
    precision: str = "bf16"  # "bf16": autocast where the CPU has native bfloat16 (see bf16_supported)
    question_tower: str = "frozen"  # "frozen": the teacher's int8 tower; "trained": fine-tuned jointly
    question_lr: float = 2e-5
    checkpoint_every_s: float = 600.0


def _torch():
    import torch

    return torch


def load_teacher(teacher_dir: Path):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(teacher_dir), local_files_only=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def make_student(teacher, layers: tuple[int, ...]):
    """A BERT with ``len(layers)`` layers copied from the teacher; word embeddings frozen."""
    import copy

    from transformers import BertConfig, BertModel

    config = BertConfig.from_dict({**teacher.config.to_dict(), "num_hidden_layers": len(layers)})
    student = BertModel(config, add_pooling_layer=teacher.pooler is not None)
    student.embeddings.load_state_dict(teacher.embeddings.state_dict())
    if teacher.pooler is not None:  # unused (the app mean-pools), kept so the folder loads without warnings
        student.pooler.load_state_dict(teacher.pooler.state_dict())
    for i, layer in enumerate(layers):
        student.encoder.layer[i].load_state_dict(copy.deepcopy(teacher.encoder.layer[layer].state_dict()))
    student.embeddings.word_embeddings.weight.requires_grad_(False)
    return student


def embed(model, ids, mask):
    """Mean pooling over the attention mask, L2-normalised (what the app does after the ONNX graph)."""
    torch = _torch()
    hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _schedule(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def bf16_supported() -> bool:
    """True where this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): autocast is then ~2-3x faster
    than fp32 for the student's matrix products; elsewhere bf16 is emulated and slower, so fp32 it is."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


@dataclass
class Targets:
    """What the teacher says, computed once (``targets.py``): rows align with the examples, except
    ``passages`` (one row per corpus passage)."""

    questions: np.ndarray  # the question tower's vector of each example's question
    positives: np.ndarray  # the teacher's vector of each example's positive as the student sees it
    passages: np.ndarray  # the teacher's vector of every corpus passage
    negatives: list[list[int]]  # each example's mined hard negatives (may be empty)


class TokenCache:
    """Every text tokenised once, up front (tokenisation is a measurable share of a CPU step)."""

    def __init__(self, tokenizer_file: Path, max_length: int, texts: list[str]) -> None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(tokenizer_file))
        tok.no_padding()
        tok.enable_truncation(max_length=max_length)
        self.ids = [np.asarray(e.ids, dtype=np.int64) for e in tok.encode_batch(texts)]

    def batch(self, rows: list[int]):
        torch = _torch()
        width = max(len(self.ids[r]) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(self.ids[r])
            ids[i, :n] = torch.from_numpy(self.ids[r])
            mask[i, :n] = 1
        return ids, mask


def batch_order(lengths: list[int], batch: int, steps: int, seed: int, window: int = 64) -> list[list[int]]:
    """``steps`` batches of example indices: shuffled passes over the examples, each cut into windows of
    ``window`` batches sorted by length (so a batch pads little), the batches then shuffled again. Seeded:
    a resumed run rebuilds the same order and continues at its step."""
    rng = random.Random(seed)
    batches: list[list[int]] = []
    while len(batches) < steps:
        epoch = list(range(len(lengths)))
        rng.shuffle(epoch)
        chunk_batches: list[list[int]] = []
        for start in range(0, len(epoch), batch * window):
            chunk = sorted(epoch[start:start + batch * window], key=lengths.__getitem__)
            chunk_batches.extend(chunk[i:i + batch] for i in range(0, len(chunk) - batch + 1, batch))
        rng.shuffle(chunk_batches)
        batches.extend(chunk_batches)
    return batches[:steps]


def train(passages: list[dict], examples: list, targets: Targets, teacher_dir: Path, tokenizer_file: Path,
          out_dir: Path, config: TrainConfig, *, checkpoint: Path | None = None, start_from: Path | None = None,
          score_teacher: Callable[[list[str], list[str]], tuple[Any, Any]] | None = None,
          validation: list[int] | None = None, log=print) -> dict:
    """Train and save the passage tower (and the question tower when ``config.question_tower`` is
    "trained") as transformers folders under ``out_dir``; returns the training log.

    Targets come from ``targets`` (no teacher runs during training). With ``checkpoint``, the state is
    saved there every ``config.checkpoint_every_s`` and a run that finds one continues from it (the time
    budget counts the earlier runs' training time too). ``start_from``: another run's checkpoint whose
    passage tower this run starts from, with a fresh optimiser and schedule (the ablations, models/ablate.py).
    ``score_teacher``: (questions, passages) -> their normalised vectors (torch tensors) from another teacher,
    whose scores over each batch's candidates replace the cached teacher's in the KL term (the cosine term
    still pulls towards the cached teacher's vectors: the question tower's space)."""
    torch = _torch()
    from .training_data import passage_text

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    if torch.get_num_interop_threads() != 1:
        with contextlib.suppress(RuntimeError):  # already set in this process
            torch.set_num_interop_threads(1)
    use_bf16 = config.precision == "bf16" and bf16_supported()
    log(f"training in {'bfloat16 autocast' if use_bf16 else 'float32'}; question tower {config.question_tower}")

    teacher = load_teacher(teacher_dir)
    student = make_student(teacher, config.layers)
    q_student = make_student(teacher, tuple(range(teacher.config.num_hidden_layers))) \
        if config.question_tower == "trained" else None
    del teacher
    if start_from is not None and not (checkpoint is not None and checkpoint.exists()):
        student.load_state_dict(torch.load(start_from, weights_only=False)["student"])
        log(f"passage tower starts from {start_from}")
    student.train()
    if q_student is not None:
        q_student.train()

    t_questions = torch.from_numpy(targets.questions)
    t_positives = torch.from_numpy(targets.positives)
    t_passages = torch.from_numpy(targets.passages)
    log("tokenising")
    positives_tok = TokenCache(tokenizer_file, config.passage_max_length, [ex.positive_text for ex in examples])
    passages_tok = TokenCache(tokenizer_file, config.passage_max_length, [passage_text(p) for p in passages])
    questions_tok = TokenCache(tokenizer_file, config.question_max_length, [ex.question for ex in examples])

    groups: list[dict] = []
    all_params: list = []
    for model, lr in ((student, config.lr), (q_student, config.question_lr)):
        if model is None:
            continue
        params = [p for p in model.parameters() if p.requires_grad]
        all_params += params
        groups += [{"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay, "lr": lr},
                   {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0, "lr": lr}]
    optimizer = torch.optim.AdamW(groups)
    plan = {"total": config.max_steps}
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _schedule(s, plan["total"], config.warmup))

    history: list[dict] = []
    step, elapsed_before = 0, 0.0
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        student.load_state_dict(state["student"])
        if q_student is not None:
            q_student.load_state_dict(state["question"])
        optimizer.load_state_dict(state["optimizer"])
        plan["total"] = state["plan_total"]
        scheduler.load_state_dict(state["scheduler"])
        step, elapsed_before, history = state["step"], state["elapsed"], state["history"]
        log(f"resumed from {checkpoint} at step {step} ({elapsed_before / 60:.1f} min trained)")

    order = batch_order([len(t) for t in positives_tok.ids], config.batch, config.max_steps, config.seed)
    per_pass = max(1, len(examples) // config.batch)
    started = time.perf_counter() - elapsed_before
    last_save = time.perf_counter()
    running = dict.fromkeys(("loss", "cos", "kl", "nll", "teacher_nll"), 0.0)
    counted = 0
    last_plan = (step, time.perf_counter())

    def save_checkpoint() -> None:
        if checkpoint is None:
            return
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"student": student.state_dict(),
                    "question": q_student.state_dict() if q_student is not None else None,
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "plan_total": plan["total"], "step": step, "elapsed": time.perf_counter() - started,
                    "history": history}, tmp)
        tmp.replace(checkpoint)

    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if use_bf16 else contextlib.nullcontext
    while step < plan["total"]:
        if step >= config.warmup and step % REPLAN_EVERY == 0 and step > last_plan[0]:
            # Re-plan from the recent step time (a shared machine's speed changes under other jobs).
            now = time.perf_counter()
            per_step = (now - last_plan[1]) / max(1, step - last_plan[0])
            last_plan = (step, now)
            affordable = step + int((config.time_budget_s - (now - started)) / per_step)
            plan["total"] = max(step + 1, min(config.max_steps, affordable))
            log(f"{per_step:.2f} s/step: planning {plan['total']} steps "
                f"({plan['total'] * config.batch / len(examples):.2f} passes over the questions)")
        if time.perf_counter() - started > config.time_budget_s * 1.05:
            log(f"time budget reached after {step} steps")
            break
        chosen = order[step]
        epoch = step // per_pass
        negatives = []
        for i in chosen:
            pool = targets.negatives[i]
            negatives.append(pool[(epoch + i) % len(pool)] if pool else (i * 7919 + epoch) % len(passages))
        p_ids, p_mask = positives_tok.batch(chosen)
        n_ids, n_mask = passages_tok.batch(negatives)
        t_p = torch.cat([t_positives[chosen], t_passages[negatives]])
        t_q = t_questions[chosen]
        with autocast():
            s_p = torch.cat([embed(student, p_ids, p_mask), embed(student, n_ids, n_mask)]).float()
            s_q = embed(q_student, *questions_tok.batch(chosen)).float() if q_student is not None else t_q
        cos = (1 - (s_p * t_p).sum(-1)).mean()
        if q_student is not None:  # keeps the trained question tower near the teacher's space too
            cos = cos + (1 - (s_q * t_q).sum(-1)).mean()
        s_scores = SCORE_SCALE * s_q @ s_p.T
        if score_teacher is not None:
            o_q, o_p = score_teacher([examples[i].question for i in chosen],
                                     [examples[i].positive_text for i in chosen]
                                     + [passage_text(passages[n]) for n in negatives])
            t_scores = SCORE_SCALE * o_q @ o_p.T
        else:
            t_scores = SCORE_SCALE * t_q @ t_p.T
        kl = torch.nn.functional.kl_div(torch.log_softmax(s_scores, -1), torch.log_softmax(t_scores, -1),
                                        log_target=True, reduction="batchmean")
        labels = torch.arange(len(chosen))
        nll = torch.nn.functional.cross_entropy(s_scores, labels)
        loss = config.cos_weight * cos + config.kl_weight * kl + config.nll_weight * nll
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(all_params, 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        counted += 1
        t_nll = torch.nn.functional.cross_entropy(t_scores, labels)
        for key, value in (("loss", loss), ("cos", cos), ("kl", kl), ("nll", nll), ("teacher_nll", t_nll)):
            running[key] += float(value.detach())
        if step % config.log_every == 0 or step == plan["total"]:
            entry = {"step": step, "seconds": round(time.perf_counter() - started, 1),
                     "lr": scheduler.get_last_lr()[0], **{k: round(v / counted, 5) for k, v in running.items()}}
            history.append(entry)
            log(json.dumps(entry))
            running, counted = dict.fromkeys(running, 0.0), 0
        if time.perf_counter() - last_save > config.checkpoint_every_s:
            save_checkpoint()
            last_save = time.perf_counter()
    save_checkpoint()

    student.eval()
    result = {"teacher_targets": "cached (targets.py)", "precision": "bf16" if use_bf16 else "fp32",
              "steps": step, "questions_seen": step * config.batch,
              "seconds": round(time.perf_counter() - started, 1), "config": asdict(config), "history": history}
    if validation:
        result["validation_mean_cosine"] = validate(student, passages_tok, t_passages, validation)
        log(f"validation: mean cosine to the teacher {result['validation_mean_cosine']:.4f} "
            f"on {len(validation)} held-out passages")
    save(student, teacher_dir, out_dir / "passage")
    if q_student is not None:
        q_student.eval()
        save(q_student, teacher_dir, out_dir / "question")
    (out_dir / "training.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def validate(student, tokens: TokenCache, teacher_vectors, rows: list[int], batch: int = 32) -> float:
    """Mean cosine between the student's vectors of held-out passages and the teacher's (cached) ones."""
    torch = _torch()
    cosines = []
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            cosines.append((embed(student, *tokens.batch(chunk)) * teacher_vectors[chunk]).sum(-1).numpy())
    return float(np.concatenate(cosines).mean())


def save(student, teacher_dir: Path, out_dir: Path) -> None:
    """A transformers folder optimum can export: config, safetensors, the teacher's tokenizer files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    student.save_pretrained(str(out_dir), safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (teacher_dir / name).is_file():
            shutil.copyfile(teacher_dir / name, out_dir / name)
