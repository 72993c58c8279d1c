from pathlib import Path

import pytest

from rag_app.beir import DatasetError, doc_filename, doc_id_of, load_beir
from tests.conftest import SHARED_DATA


def _folder(tmp_path: Path, qrels: str, corpus: str | None = None) -> Path:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        corpus
        if corpus is not None
        else '{"_id": "d1", "title": "T", "text": "one"}\n{"_id": "d2", "text": "two"}\n'
    )
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "first?"}\n{"_id": "q2", "text": "x"}\n'
    )
    (tmp_path / "qrels" / "test.tsv").write_text(qrels)
    return tmp_path


def test_loads_corpus_queries_and_graded_qrels(tmp_path: Path) -> None:
    data = load_beir(_folder(tmp_path, "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\n"))
    assert data.corpus["d1"].title == "T" and data.corpus["d2"].title == ""
    assert data.queries == {"q1": "first?"}  # only judged queries
    assert data.qrels == {"q1": {"d1": 2, "d2": 0}}


@pytest.mark.parametrize(
    ("qrels", "corpus", "message"),
    [
        ("q1\td1\n", None, r"test.tsv:1: expected query-id, corpus-id, score"),
        ("q7\td1\t1\n", None, r"judges unknown queries: \['q7'\]"),
        ("q1\td1\t1\n", '{"_id": "d1"}\nnot json\n', r"corpus.jsonl:2: not JSON"),
        ("q1\td1\t1\n", '{"title": "no id"}\n', r"corpus.jsonl:1: a record needs an '_id'"),
    ],
)
def test_malformed_files_are_named_with_their_line(
    tmp_path: Path, qrels: str, corpus: str | None, message: str
) -> None:
    with pytest.raises(DatasetError, match=message):
        load_beir(_folder(tmp_path, qrels, corpus))


def test_scifact_from_shared_data() -> None:
    test = load_beir(SHARED_DATA / "scifact", "test")
    assert len(test.corpus) == 5183 and len(test.queries) == 300
    train = load_beir(SHARED_DATA / "scifact", "train")
    assert len(train.queries) == 600 and not set(train.queries) & set(test.queries)


@pytest.mark.parametrize("doc_id", ["4983", "d5.v2", ".hidden", "a/b c%d", "ünï"])
def test_document_ids_survive_the_file_name_round_trip(doc_id: str) -> None:
    name = doc_filename(doc_id)
    assert "/" not in name and not name.startswith(".")
    assert doc_id_of(f"/somewhere/{name}") == doc_id
