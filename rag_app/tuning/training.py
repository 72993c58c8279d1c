"""What the cross-encoder and bi-encoder trainers share: the wall-time budget, the training
arguments, and installing a model folder with its card so the old one serves until the new one
is complete."""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rag_app.config import Settings
from rag_app.files import replace_dir
from rag_app.models.cards import CARD, TrainingRun, ValidationGain, card_json
from rag_app.retrieval.metrics import paired_bootstrap_interval


def budget_callback(seconds: float) -> Any:
    from transformers import TrainerCallback

    class Budget(TrainerCallback):
        """Stops training when the wall-time budget is spent, evaluating once more so the
        best checkpoint is known."""

        def __init__(self) -> None:
            self.started = time.monotonic()
            self.stopped_early = False

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if time.monotonic() - self.started > seconds:
                control.should_training_stop = True
                control.should_evaluate = True
                control.should_save = True
                self.stopped_early = True
            return control

    return Budget()


def training_arguments(
    cls: Any,
    work: str,
    *,
    rows: int,
    batch_size: int,
    epochs: int,
    learning_rate: float,
    seed: int,
    progress: bool,
    evals_per_epoch: int = 2,
    **extra: Any,
) -> Any:
    """CPU training arguments that evaluate `evals_per_epoch` times per epoch and keep the best
    checkpoint by the validation nDCG@10 (`cls`: the sentence-transformers arguments class of
    the model)."""
    steps_per_epoch = max(1, -(-rows // batch_size))
    eval_steps = max(10, steps_per_epoch // evals_per_epoch)
    return cls(
        output_dir=work,
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_steps=0.1,  # a float is a share of all steps (Transformers v5)
        eval_strategy="steps",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=eval_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="eval_validation_ndcg@10",
        greater_is_better=True,
        logging_steps=max(1, eval_steps // 3),
        seed=seed,
        use_cpu=True,
        dataloader_num_workers=0,
        report_to="none",
        disable_tqdm=not progress,
        **extra,
    )


def validation_gain(trained: Sequence[float], base: Sequence[float]) -> ValidationGain:
    """Per-question nDCG@10 of a trained model against what it would replace, paired."""
    if not trained:
        return ValidationGain(mean=math.nan, low=math.nan, high=math.nan, questions=0)
    low, high = paired_bootstrap_interval(trained, base)
    mean = (sum(trained) - sum(base)) / len(trained)
    return ValidationGain(mean=mean, low=low, high=high, questions=len(trained))


def training_run(settings: Settings, budget: Any, steps: int, **own: Any) -> TrainingRun:
    """A card's record of the run: what every `rag tune` target shares (steps, the wall-time
    budget and whether it stopped the run, the seed) beside the trainer's `own` settings."""
    return TrainingRun(
        steps=steps,
        budget_minutes=settings.tune_budget_minutes,
        stopped_by_budget=budget.stopped_early,
        seed=settings.tune_seed,
        **own,
    )


def install(
    model: Any, card: BaseModel, target: Path, extra_files: dict[Path, Path] | None = None
) -> None:
    """Save next to `target`, then swap: the old model serves until the new one is complete.
    `extra_files` (path inside the model folder -> file) travel with it, e.g. an ONNX copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    model.save(str(staging))
    for inside, source in (extra_files or {}).items():
        (staging / inside).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staging / inside)
    (staging / CARD).write_text(card_json(card), encoding="utf-8")
    replace_dir(staging, target)
