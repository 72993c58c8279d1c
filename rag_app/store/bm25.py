"""The BM25 index over a collection's children, rebuilt from the committed state.

bm25s does the scoring (Lucene variant, English stemming and stop words). The index is written
to a fresh folder and swapped in by rename, and records the state generation it was built from,
so a reader can tell a stale index (a killed ingest) and rebuild it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from rag_app.files import replace_dir
from rag_app.types import Chunk


def _tokenizer() -> Any:
    import bm25s
    import Stemmer

    return bm25s.tokenization.Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")


class BM25Index:
    def __init__(self, retriever: Any, tokenizer: Any, ids: list[str], generation: int):
        self._retriever = retriever
        self._tokenizer = tokenizer
        self.ids = ids
        self.generation = generation

    @classmethod
    def build(cls, chunks: list[Chunk], generation: int, k1: float, b: float) -> BM25Index:
        import bm25s

        tokenizer = _tokenizer()
        tokens = tokenizer.tokenize(
            [c.search_text() for c in chunks], return_as="tuple", show_progress=False
        )
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        if chunks:
            retriever.index(tokens, show_progress=False)
        return cls(retriever, tokenizer, [c.id for c in chunks], generation)

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(tmp), show_progress=False)
            self._tokenizer.save_vocab(str(tmp))
        (tmp / "ids.json").write_text(json.dumps({"generation": self.generation, "ids": self.ids}))
        replace_dir(tmp, folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The saved index, or None when there is none (or it was never completed)."""
        import bm25s

        meta_file = folder / "ids.json"
        if not meta_file.is_file():
            return None
        meta = json.loads(meta_file.read_text())
        tokenizer = _tokenizer()
        retriever = None
        if meta["ids"]:
            retriever = bm25s.BM25.load(str(folder), show_progress=False)
            tokenizer.load_vocab(str(folder))
        return cls(retriever, tokenizer, meta["ids"], int(meta["generation"]))

    @property
    def documents(self) -> int:
        return len(self.ids)

    def document_frequencies(self, stems: list[str]) -> dict[str, int]:
        """How many children hold each stemmed word (0: none). The index knows it already:
        a word's column of the sparse score matrix has one entry per child that holds it."""
        if not self.ids:
            return dict.fromkeys(stems, 0)
        vocab, indptr = self._retriever.vocab_dict, self._retriever.scores["indptr"]
        return {s: int(indptr[vocab[s] + 1] - indptr[vocab[s]]) if s in vocab else 0 for s in stems}

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (child id, score); `mask` (0/1 per child, in `ids` order) filters."""
        if not self.ids:
            return []
        tokens = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="tuple", show_progress=False
        )
        if not tokens.ids[0]:
            return []
        indices, scores = self._retriever.retrieve(
            tokens, k=min(k, len(self.ids)), show_progress=False, weight_mask=mask, n_threads=1
        )
        return [
            (self.ids[int(i)], float(s))
            for i, s in zip(indices[0], scores[0], strict=True)
            if s > 0
        ]
