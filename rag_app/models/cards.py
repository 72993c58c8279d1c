"""The card `rag tune` writes beside each model it trains (`card.json`): how to use the model,
and what it was trained and validated on.

Typed, because serving, `rag eval`, `rag status` and the CLI's tune summary all read it: a
field renamed in one writer used to surface as a KeyError in a reader. Serving needs only the
use (`RerankerUse`), so a card written by hand, or by an older `rag tune`, still loads; the
full cards are what `rag tune` writes and reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
)

from rag_app.errors import InvalidInput

CARD = "card.json"


class Combine(BaseModel):
    """How the cross-encoder's order meets the fused order: "replace" (its order wins), "rrf"
    (RRF of the two orders) or "blend-W" (its scores blended at weight W with the fused
    positions). Written and read as that string."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["replace", "rrf", "blend"]
    weight: float | None = Field(None, ge=0.0, le=1.0)

    @classmethod
    def parse(cls, spec: str | Combine) -> Combine:
        if isinstance(spec, Combine):
            return spec
        kind, _, weight = spec.partition("-")
        try:
            if kind in ("replace", "rrf") and not weight:
                return cls(kind=kind)
            if kind == "blend":
                return cls(kind="blend", weight=float(weight))
        except ValueError:
            pass
        raise InvalidInput(
            f"combine {spec!r} is not 'replace', 'rrf' or 'blend-W' with W in [0, 1]"
        )

    def __str__(self) -> str:
        return f"blend-{self.weight}" if self.kind == "blend" else self.kind

    @model_serializer
    def _as_string(self) -> str:
        return str(self)


class RerankerUse(BaseModel):
    """What serving reads: how to combine, how deep to rerank, when to abstain, which backend."""

    model_config = ConfigDict(extra="ignore")

    combine: Combine = Combine(kind="replace")
    rerank_depth: int | None = Field(None, ge=1)
    min_score: float | None = Field(
        None, description="The lowest best score among validation questions (a logit)."
    )
    backend: Literal["torch", "onnx-int8"] = "torch"

    @field_validator("combine", mode="before")
    @classmethod
    def _parse_combine(cls, value: Any) -> Combine:
        return Combine.parse(value)


class CardData(BaseModel):
    """The labels a model was trained on."""

    model_config = ConfigDict(extra="allow")

    labels: str
    split: str | None = None
    collection: str
    train_questions: int
    validation_questions: int
    pairs: int | None = Field(None, description="Cross-encoder: (question, passage) pairs.")
    rows: int | None = Field(None, description="Bi-encoder: (anchor, positive, negatives) rows.")


class TrainingRun(BaseModel):
    """The run's settings; each trainer adds its own (head, max length, negatives...)."""

    model_config = ConfigDict(extra="allow")

    batch_size: int
    learning_rate: float
    epochs: int
    steps: int
    budget_minutes: float
    stopped_by_budget: bool
    seed: int


class ValidationGain(BaseModel):
    """The trained model's nDCG@10 minus that of what it would replace, per validation
    question, with its paired bootstrap 95 % interval. A model is installed only when `low`
    is above 0: a mean gain inside the luck of which questions were held out is no reason to
    change every answer (on SciFact, models trained from generated questions won 0.03 on
    their validation and lost 0.015-0.023 on the real claims)."""

    mean: float
    low: float
    high: float
    questions: int

    @property
    def clear(self) -> bool:
        return self.low > 0

    def describe(self) -> str:
        return f"gain {self.mean:+.4f} [{self.low:+.4f}, {self.high:+.4f}] on {self.questions}"


class RerankerValidation(BaseModel):
    metric: str
    fused: float = Field(description="nDCG@10 of the fused order, before any reranking.")
    trained: dict[str, float] = Field(description='Per use, e.g. "replace@10", "blend-0.5@20".')
    gain: ValidationGain | None = Field(
        default=None, description="Of the chosen use over the fused order (None: older card)."
    )


class EmbedderValidation(BaseModel):
    metric: str
    base: float
    tuned: float
    gain: ValidationGain | None = Field(
        default=None, description="Over the base model (None: older card)."
    )


class _Trained(BaseModel):
    base_model: str
    created: str
    data: CardData
    loss: str
    settings: TrainingRun
    installed: bool = Field(
        description="Clearly better than what it would replace on validation (or tune_keep_worse)."
    )
    wall_seconds: float


class RerankerCard(_Trained, RerankerUse):
    kind: Literal["cross-encoder"] = "cross-encoder"
    initialised_from: str | None = None
    validation: RerankerValidation
    rerank_depth: int = Field(ge=1)
    int8_onnx: dict[str, Any] = Field(description="The int8 ONNX trial: speed, score, chosen.")
    pairs_per_second: float

    @property
    def validated(self) -> float:
        """Validation nDCG@10 of the use the card chose."""
        return self.validation.trained[f"{self.combine}@{self.rerank_depth}"]


class EmbedderCard(_Trained):
    kind: Literal["bi-encoder"] = "bi-encoder"
    validation: EmbedderValidation


Card = TypeVar("Card", bound=BaseModel)


def read_card(folder: Path, kind: type[Card]) -> Card | None:
    """The folder's card as `kind`; None without one, an error naming the file when it does
    not fit."""
    path = folder / CARD
    if not path.is_file():
        return None
    try:
        return kind.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as err:
        raise InvalidInput(
            f"{path}: not a {kind.__name__} ({' '.join(str(err).split())[:300]})"
        ) from err


def card_json(card: BaseModel) -> str:
    return card.model_dump_json(indent=2) + "\n"
