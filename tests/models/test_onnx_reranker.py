"""The int8 ONNX copy of a cross-encoder: same ranking as PyTorch, raw logits, picked from the
card, and a clean failover when the export is missing."""

import json
from pathlib import Path

import numpy as np
import pytest

from rag_app.config import Settings
from rag_app.models.onnx_reranker import ONNX_INT8, OnnxCrossEncoder, export_int8
from rag_app.retrieval.rerank import (
    CrossEncoderReranker,
    PassThroughReranker,
    cross_encoder_logits,
    load_reranker,
    tuned_reranker_dir,
)

PAIRS = [
    ("when is the tool shed closed", "The tool shed is closed on Mondays."),
    ("when is the tool shed closed", "Compost bins are emptied every week."),
    ("how do bees make honey", "Bees turn nectar into honey by evaporation."),
    ("how do bees make honey", "The tool shed is closed on Mondays."),
    ("what is photosynthesis", "Plants turn light, water and CO2 into sugar."),
    ("what is photosynthesis", "Parking is free after six."),
]


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    """The mean-head cross-encoder `rag tune` builds, its fresh head scaled up so that scores
    spread well beyond int8 rounding (an untrained head scores every pair about the same)."""
    import torch
    from sentence_transformers import CrossEncoder

    from rag_app.models.resolve import resolve_embedder
    from rag_app.tuning.cross_encoder import _model

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("ce")
    model = _model(str(resolve_embedder("all-MiniLM-L6-v2").path), "mean", 64)
    with torch.no_grad():
        model[-1].linear.weight.mul_(200.0)
    model.save(str(folder))
    return CrossEncoder(str(folder), max_length=64, device="cpu"), folder


@pytest.mark.integration
def test_int8_export_ranks_like_pytorch_and_both_give_raw_logits(
    cross_encoder: tuple[object, Path],
) -> None:
    model, folder = cross_encoder
    export_int8(model, folder)
    assert (folder / ONNX_INT8).is_file()
    torch_logits = cross_encoder_logits(model, PAIRS, batch_size=4)
    onnx_logits = cross_encoder_logits(OnnxCrossEncoder(folder, 64), PAIRS, batch_size=4)
    # Raw logits, not sigmoid probabilities: the spread head puts them well outside (0, 1).
    assert np.ptp(torch_logits) > 1.0 and (torch_logits.min() < 0 or torch_logits.max() > 1)
    assert np.corrcoef(torch_logits, onnx_logits)[0, 1] > 0.95
    assert set(np.argsort(torch_logits)[-2:]) == set(np.argsort(onnx_logits)[-2:])


@pytest.mark.integration
def test_the_card_picks_the_onnx_backend_and_a_missing_export_fails_over(
    cross_encoder: tuple[object, Path], tmp_path: Path
) -> None:
    import shutil

    model, source = cross_encoder
    if not (source / ONNX_INT8).is_file():
        export_int8(model, source)
    folder = tuned_reranker_dir(tmp_path, "default")
    shutil.copytree(source, folder)
    (folder / "card.json").write_text(json.dumps({"backend": "onnx-int8", "rerank_depth": 5}))
    settings = Settings(models_dir=tmp_path, rerank_max_length=64, rerank_batch_size=4)
    reranker = load_reranker(settings)
    assert isinstance(reranker, CrossEncoderReranker) and reranker.backend == "onnx-int8"
    assert isinstance(reranker.model, OnnxCrossEncoder)
    forced = load_reranker(settings.updated(rerank_backend="torch"))
    assert isinstance(forced, CrossEncoderReranker) and forced.backend == "torch"

    (folder / ONNX_INT8).unlink()
    missing = load_reranker(settings)
    assert isinstance(missing, PassThroughReranker)
    assert "no int8 ONNX export" in missing.reason and str(folder) in missing.reason
