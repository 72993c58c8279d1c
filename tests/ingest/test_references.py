from pathlib import Path

from ingest.chunking import ChunkSizes, chunk_document
from ingest.loaders import load_document
from ingest.pipeline import Ingestor
from ingest.references import looks_like_references, reference_flags
from rag_app.config import Settings
from tests.conftest import SHARED_DATA

PAPER = SHARED_DATA / "aragog" / "papers" / "distilbert.pdf"

ENTRIES = (
    "Kevin Clark, Minh-Thang Luong, Christopher D Manning, and Quoc Le. 2018. Semi-supervised "
    "sequence modeling with cross-view training. In Proceedings of the 2018 Conference on "
    "Empirical Methods in Natural Language Processing, pages 1914-1925.\n"
    "Ronan Collobert and Jason Weston. 2008. A unified architecture for natural language "
    "processing: Deep neural networks with multitask learning. In Proceedings of the 25th "
    "international conference on Machine learning, pages 160-167. ACM."
)
AUTHORS = (
    "Brown, T. B., Mann, B., Ryder, N., Subbiah, M., Kaplan, J., Dhariwal, P., Neelakantan, "
    "A., Shyam, P., Sastry, G., Askell, A., Agarwal, S., Herbert-Voss, A., Krueger, G., "
    "Henighan, T., Child, R., Ramesh, A., Ziegler, D. M., Wu, J., Winter, C., Hesse, C."
)


def words(text: str) -> list[int]:
    return list(range(len(text.split())))


def test_a_papers_reference_list_is_recognised_and_its_body_is_not() -> None:
    doc = load_document(PAPER, 50 * 10**6)
    _, children = chunk_document(doc, ChunkSizes(150, 20, 600), words)
    flags = reference_flags([c.text for c in children])
    taken = [c for c, flag in zip(children, flags, strict=True) if flag]
    kept = [c for c, flag in zip(children, flags, strict=True) if not flag]
    assert any("Energy and policy considerations" in c.text for c in taken)
    assert not any("Energy and policy considerations" in c.text for c in kept)
    # The list is the paper's tail; everything before it, related work included, stays, and
    # so does the chunk where the conclusion runs into the list's first entries.
    assert flags == sorted(flags) and kept[-1].text.startswith("6 Conclusion")
    assert any("Turc et al. [2019]" in c.text for c in kept)


def test_prose_dense_with_citations_is_not_a_reference_list() -> None:
    related_work = (
        "The datasets are: CoLA (Warstadt et al., 2018), Stanford Sentiment Treebank (SST) "
        "(Socher et al., 2013), Microsoft Research Paragraph Corpus (MRPC) (Dolan and "
        "Brockett, 2005), Semantic Textual Similarity Benchmark (STS) (Agirre et al., 2007), "
        "Quora Question Pairs (QQP) (Iyer et al., 2016), MultiGenre NLI (MNLI) (Williams et "
        "al., 2018), Question NLI (QNLI) (Rajpurkar et al., 2016)."
    )
    copyright_page = (
        "Copyright (c) 1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000, 2001, 2002, 2003 Free "
        "Software Foundation, Inc. Portions Copyright 2003, 2004, 2005, 2007, 2009, 2010, "
        "2011, 2013 The MirOS Project. Permission is granted to make and distribute copies."
    )
    history = (
        "Changes have been made in August 2000 for RasMol version 2.7.2, January 2001 for "
        "RasMol version 2.7.1.1, April 2001 for RasMol version 2.7.2.1 and February 2005 for "
        "RasMol version 2.7.3. Documentation Last Updated 19 July 2009. Edited by Herbert J. "
        "Bernstein and Frances C. Bernstein."
    )
    assert looks_like_references(ENTRIES)
    for text in (related_work, copyright_page, history):
        assert not looks_like_references(text), text


def test_an_author_list_joins_the_entries_beside_it_but_not_alone() -> None:
    prose = (
        "We train the student on the same corpus as the teacher and keep its depth halved, "
        "which preserves most of the accuracy while making inference much faster on CPUs."
    )
    assert not looks_like_references(AUTHORS)
    assert reference_flags([prose, ENTRIES, AUTHORS, ENTRIES]) == [False, True, True, True]
    assert reference_flags([prose, AUTHORS, prose]) == [False, False, False]
    assert reference_flags([ENTRIES, "2019. 5", prose]) == [True, False, False]
    assert reference_flags([prose, ENTRIES, "In ICML, 2015. 5"]) == [False, True, True]


def test_ingest_leaves_reference_lists_out_unless_asked(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / PAPER.name).write_bytes(PAPER.read_bytes())

    with Ingestor(settings) as ingestor:
        report = ingestor.run([folder])
        stored = ingestor.store.state.children()
    assert report.ok and report.references > 0
    assert "reference-list chunks left out" in report.summary()
    assert not any(looks_like_references(c.text) for c in stored)
    assert any("DistilBERT" in c.text for c in stored)

    everything = settings.updated(index_reference_lists=True, collection="everything")
    with Ingestor(everything) as ingestor:
        full = ingestor.run([folder])
        assert any(looks_like_references(c.text) for c in ingestor.store.state.children())
    assert full.references == 0 and full.chunks == report.chunks + report.references
