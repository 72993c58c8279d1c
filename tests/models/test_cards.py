import json
from pathlib import Path

import pytest

from rag_app.errors import InvalidInput, UserError
from rag_app.models.cards import CARD, Combine, RerankerUse, read_card


@pytest.mark.parametrize("spec", ["replace", "rrf", "blend-0.25", "blend-1.0"])
def test_combine_specs_round_trip(spec: str) -> None:
    combine = Combine.parse(spec)
    assert str(combine) == spec and Combine.parse(combine) is combine
    assert RerankerUse(combine=spec).model_dump()["combine"] == spec  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", ["blend-2", "blend-x", "blend", "rrf-0.5", "mix"])
def test_bad_combine_specs_are_named(spec: str) -> None:
    with pytest.raises(InvalidInput, match=f"combine '{spec}' is not"):
        Combine.parse(spec)


def test_combine_parts() -> None:
    assert Combine.parse("blend-0.5") == Combine(kind="blend", weight=0.5)
    assert Combine.parse("rrf").weight is None


def test_serving_reads_the_use_from_a_partial_card_and_defaults_without_one(
    tmp_path: Path,
) -> None:
    assert read_card(tmp_path, RerankerUse) is None
    (tmp_path / CARD).write_text(json.dumps({"rerank_depth": 5, "combine": "rrf", "note": 1}))
    use = read_card(tmp_path, RerankerUse)
    assert use == RerankerUse(combine=Combine(kind="rrf"), rerank_depth=5)
    assert use.backend == "torch" and use.min_score is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [("{not json", "Expecting property name"), ('{"rerank_depth": 0}', "rerank_depth")],
)
def test_a_broken_card_is_a_user_error_naming_the_file(
    tmp_path: Path, text: str, reason: str
) -> None:
    (tmp_path / CARD).write_text(text)
    with pytest.raises(UserError, match=rf"{CARD}: not a RerankerUse \(.*{reason}"):
        read_card(tmp_path, RerankerUse)
