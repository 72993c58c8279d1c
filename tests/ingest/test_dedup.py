from pathlib import Path

import numpy as np

from ingest.dedup import mark_duplicates
from ingest.pipeline import Ingestor
from rag_app.config import Settings
from rag_app.retrieval.hybrid import HybridRetriever


def test_mark_duplicates_points_to_stored_or_earlier_canonicals() -> None:
    a, b, c = np.eye(3)
    near_a = np.array([0.99, np.sqrt(1 - 0.99**2), 0.0])
    vectors = np.stack([a, b, near_a, c, c])
    stored = [None, ("old-b", 0.999, "b"), None, ("old-x", 0.5, "x"), ("old-x", 0.5, "x")]
    texts = ["a", "b", "a!", "c", "c"]
    assert mark_duplicates(texts, ["v", "w", "x", "y", "z"], vectors, stored, 0.98) == [
        None,  # new
        "old-b",  # matches a stored child of another document
        "v",  # near-identical (0.99) to an earlier child of the batch
        None,  # stored neighbour too far (0.5)
        "y",  # identical to an earlier canonical of the batch
    ]
    assert mark_duplicates(["a", "a"], ["v", "x"], vectors[[0, 2]], [None, None], 1.01) == [
        None,
        None,
    ]


def test_texts_with_different_numbers_are_never_duplicates() -> None:
    same = np.stack([np.eye(2)[0], np.eye(2)[0]])
    texts = ["Widget 7 needs 3 turns.", "Widget 8 needs 3 turns."]
    assert mark_duplicates(texts, ["a", "b"], same, [None, None], 0.98) == [None, None]
    stored = [None, ("old", 1.0, "Widget 7 needs 3 turns.")]
    assert mark_duplicates(texts, ["a", "b"], same, stored, 0.98) == [None, None]


BOILERPLATE = (
    "## Licence\n\nThis handbook is published by the Elm Street garden committee under the "
    "Creative Commons Attribution licence. Copies may be shared freely with attribution.\n"
)


def test_repeated_text_is_stored_once_with_every_source(settings: Settings, docs_dir: Path) -> None:
    for name in ("garden.md", "guide/tools.md"):
        path = docs_dir / name
        path.write_text(path.read_text() + "\n" + BOILERPLATE)
    ingestor = Ingestor(settings)
    assert ingestor.run([docs_dir]).ok
    state, vectors = ingestor.store.state, ingestor.store.vectors
    assert vectors.count() == state.stats().chunks  # duplicates have no vector of their own
    hits = HybridRetriever.from_store(ingestor.store).retrieve("Creative Commons licence", 3)
    licence = [h for h in hits if "Creative Commons" in h.chunk.text]
    assert len(licence) == 1  # one result, not one per file
    sources = {Path(licence[0].chunk.source).name, *(Path(s).name for s in licence[0].also_in)}
    assert sources == {"garden.md", "tools.md"}

    # Removing the file that holds the canonical copy promotes the other one.
    Path(licence[0].chunk.source).unlink()
    assert ingestor.run([docs_dir]).ok
    again = HybridRetriever.from_store(ingestor.store).retrieve("Creative Commons licence", 3)
    survivor = [h for h in again if "Creative Commons" in h.chunk.text]
    assert len(survivor) == 1 and survivor[0].also_in == []
    assert Path(survivor[0].chunk.source).exists()
    assert vectors.count() == state.stats().chunks
    ingestor.store.close()
