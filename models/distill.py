"""Distil a 3-layer passage tower into all-MiniLM-L6-v2's embedding space.

The towers are asymmetric on purpose. Indexing cost is the passage tower's (every passage of a library,
~160 pieces each); a query is one short text per keystroke pause. So the **question tower is the teacher
itself** (6 layers, shipped int8 as before: ~3 ms a query), and the **passage tower is a 3-layer student**
trained to put each passage where the teacher would, and to rank passages for questions as the teacher does:

* ``cos``: 1 - cosine between the student's and the teacher's passage vector (embedding distillation);
* ``kl``: KL divergence between the teacher's and the student's softmax over the batch's passages for each
  question (scores = teacher question vector · passage vector; all positives and BM25 hard negatives of
  the batch are candidates: in-batch negatives as in DPR);
* ``nll``: DPR's loss, the negative log-likelihood of the question's own positive (small weight: inverse
  cloze labels are noisy, the teacher's scores are not).

The student starts from teacher layers (``INIT_LAYERS``) and its **word-embedding table stays frozen**:
it is the teacher's, byte for byte, so both towers can share one copy on disk (see ``towers.py``) and the
passage tower costs ~6 MB on top of the question tower instead of ~17 MB.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

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
    passage_max_length: int = 128  # the teacher was trained at 128 too; the app encodes up to 256
    question_max_length: int = 64
    max_steps: int = 4000
    time_budget_s: float = 3600.0
    threads: int = 2
    seed: int = 7
    log_every: int = 25


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


class Batcher:
    """Tokenises with the app's tokenizer (same pieces the app will feed the ONNX tower)."""

    def __init__(self, tokenizer_file: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(tokenizer_file))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=max_length)

    def __call__(self, texts: list[str]):
        torch = _torch()
        enc = self.tok.encode_batch(texts)
        width = max(len(e.ids) for e in enc)
        ids = torch.zeros((len(enc), width), dtype=torch.long)
        mask = torch.zeros((len(enc), width), dtype=torch.long)
        for row, e in enumerate(enc):
            ids[row, :len(e.ids)] = torch.tensor(e.ids)
            mask[row, :len(e.ids)] = 1
        return ids, mask


def embed(model, ids, mask):
    """Mean pooling over the attention mask, L2-normalised (what the app does after the ONNX graph)."""
    torch = _torch()
    hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


class OnnxTeacher:
    """The teacher's int8 ONNX tower (the one the app ships) as the source of targets: ~3x faster than the torch
    fp32 teacher on CPU, and it is the very tower whose question vectors the student's passages will meet."""

    def __init__(self, path: Path, threads: int) -> None:
        from .encode import make_session

        self.session = make_session(path, threads)
        self.inputs = {i.name for i in self.session.get_inputs()}

    def __call__(self, ids, mask):
        from .encode import mean_pool

        torch = _torch()
        feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        (hidden,) = self.session.run(["last_hidden_state"], feed)
        return torch.from_numpy(mean_pool(hidden, feed["attention_mask"]))


def _schedule(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(passages: list[dict], examples: list, teacher_dir: Path, tokenizer_file: Path, out_dir: Path,
          config: TrainConfig, *, teacher_onnx: Path | None = None, validation: list[str] | None = None,
          log=print) -> dict:
    """Train and save the student (transformers folder) to ``out_dir``; returns the training log."""
    torch = _torch()
    from .training_data import passage_text

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    if torch.get_num_interop_threads() != 1:
        with contextlib.suppress(RuntimeError):  # already set in this process
            torch.set_num_interop_threads(1)
    rng = random.Random(config.seed)

    teacher = load_teacher(teacher_dir)
    student = make_student(teacher, config.layers)
    target = OnnxTeacher(teacher_onnx, config.threads) if teacher_onnx else (lambda i, m: embed(teacher, i, m))
    student.train()
    p_batch = Batcher(tokenizer_file, config.passage_max_length)
    q_batch = Batcher(tokenizer_file, config.question_max_length)

    params = [p for p in student.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.lr)

    # Several shuffled passes if the budget allows; the schedule's length is re-planned from the measured
    # step time once warm-up is over, so the learning rate reaches zero when the time budget ends.
    order: list[int] = []
    while len(order) < config.max_steps * config.batch:
        epoch = list(range(len(examples)))
        rng.shuffle(epoch)
        order.extend(epoch)
    plan = {"total": config.max_steps}
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _schedule(s, plan["total"], config.warmup))

    history: list[dict] = []
    started = time.perf_counter()
    running = {"loss": 0.0, "cos": 0.0, "kl": 0.0, "nll": 0.0, "teacher_cos": 0.0}
    steps_done = 0
    step = 0
    last_plan = (0, started)
    while step < plan["total"]:
        if step >= config.warmup and step % REPLAN_EVERY == 0:
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
        chosen = [examples[i] for i in order[step * config.batch:(step + 1) * config.batch]]
        questions = [ex.question for ex in chosen]
        negatives = [ex.negative if ex.negative >= 0 else rng.randrange(len(passages)) for ex in chosen]
        texts = [ex.positive_text for ex in chosen] + [passage_text(passages[n]) for n in negatives]
        ids, mask = p_batch(texts)
        qids, qmask = q_batch(questions)
        with torch.no_grad():
            t_p = target(ids, mask)
            t_q = target(qids, qmask)
        s_p = embed(student, ids, mask)
        cos = (1 - (s_p * t_p).sum(-1)).mean()
        s_scores = SCORE_SCALE * t_q @ s_p.T
        t_scores = SCORE_SCALE * t_q @ t_p.T
        kl = torch.nn.functional.kl_div(torch.log_softmax(s_scores, -1), torch.log_softmax(t_scores, -1),
                                        log_target=True, reduction="batchmean")
        nll = torch.nn.functional.cross_entropy(s_scores, torch.arange(len(chosen)))
        loss = config.cos_weight * cos + config.kl_weight * kl + config.nll_weight * nll
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        steps_done = step = step + 1
        with torch.no_grad():
            t_nll = torch.nn.functional.cross_entropy(t_scores, torch.arange(len(chosen)))
        for key, value in (("loss", loss), ("cos", cos), ("kl", kl), ("nll", nll), ("teacher_cos", t_nll)):
            running[key] += float(value.detach())
        if steps_done % config.log_every == 0 or steps_done == plan["total"]:
            n = config.log_every if steps_done % config.log_every == 0 else steps_done % config.log_every
            entry = {"step": steps_done, "seconds": round(time.perf_counter() - started, 1),
                     "lr": scheduler.get_last_lr()[0], **{k: round(v / n, 5) for k, v in running.items()}}
            entry["teacher_nll"] = entry.pop("teacher_cos")
            history.append(entry)
            log(json.dumps(entry))
            running = dict.fromkeys(running, 0.0)

    student.eval()
    result = {"teacher_targets": str(teacher_onnx.name) if teacher_onnx else "torch fp32", "steps": steps_done, "questions_seen": steps_done * config.batch,
              "seconds": round(time.perf_counter() - started, 1), "config": asdict(config), "history": history}
    if validation:
        result["validation_mean_cosine"] = validate(student, teacher, p_batch, validation)
        log(f"validation: mean cosine to the teacher {result['validation_mean_cosine']:.4f} "
            f"on {len(validation)} held-out passages")
    save(student, teacher_dir, out_dir)
    (out_dir / "training.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def validate(student, teacher, batcher: Batcher, texts: list[str], batch: int = 32) -> float:
    torch = _torch()
    cosines = []
    with torch.no_grad():
        for start in range(0, len(texts), batch):
            ids, mask = batcher(texts[start:start + batch])
            cosines.append((embed(student, ids, mask) * embed(teacher, ids, mask)).sum(-1).numpy())
    return float(np.concatenate(cosines).mean())


def save(student, teacher_dir: Path, out_dir: Path) -> None:
    """A transformers folder optimum can export: config, safetensors, the teacher's tokenizer files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    student.save_pretrained(str(out_dir), safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (teacher_dir / name).is_file():
            shutil.copyfile(teacher_dir / name, out_dir / name)
