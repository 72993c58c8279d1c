"""PDF text extractors against each other, and the table extractor, on real files.

    python -m bench.pdf_bench [--folder DIR ...] [--out FILE]

For each extractor in `ingest.formats.pdf.EXTRACTORS` (pdfium, pypdf), over every PDF found:
files it opens, seconds per page (median over files, and in total), characters per page, pages
without text, and a text-quality proxy that needs no reference text: the share of the
alphabetic words (2+ letters) that are whole words of the embedding model's 30k vocabulary.
Words run together ("thequickfox") or broken apart ("infor mation") are not, so the share falls
as extraction gets worse. The table part times pdfplumber's detection on the pages the loader
would send it (those that `looks_tabular`), and counts tables and their rows and columns.

The default folders are ARAGOG's papers and, when fetched, the real-world corpus of
`eval/realworld` (`bash eval/realworld/fetch.sh`).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import DATA, part_main
from ingest.formats.pdf import EXTRACTORS, PasswordRequired, extract_tables, looks_tabular

REALWORLD = Path("/work/corpus/files")
_WORD = re.compile(r"[A-Za-z]{2,}")


def vocabulary() -> set[str]:
    from rag_app.config import Settings
    from rag_app.models.resolve import resolve_embedder

    folder = resolve_embedder(Settings().embedding_model).path
    words = (Path(folder) / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return {w for w in words if w.isalpha()}


def vocab_rate(text: str, vocab: set[str]) -> tuple[int, int]:
    words = [w.lower() for w in _WORD.findall(text)]
    return sum(w in vocab for w in words), len(words)


def pdfs(folders: list[Path]) -> list[Path]:
    return sorted(p for folder in folders if folder.is_dir() for p in folder.rglob("*.pdf"))


def measure_extractor(name: str, files: list[Path], vocab: set[str]) -> dict[str, Any]:
    extract = EXTRACTORS[name]
    per_page_s: list[float] = []
    total_s = pages = blank = chars = known = words = 0.0
    failed: dict[str, str] = {}
    for path in files:
        data = path.read_bytes()
        started = time.perf_counter()
        try:
            texts, _ = extract(data)
        except PasswordRequired:
            failed[path.name] = "needs a password"
            continue
        except Exception as err:  # what the bench reports, not what it survives
            failed[path.name] = f"{type(err).__name__}: {' '.join(str(err).split())[:120]}"
            continue
        seconds = time.perf_counter() - started
        total_s += seconds
        pages += len(texts)
        per_page_s.append(seconds / max(len(texts), 1))
        blank += sum(1 for t in texts if not t.strip())
        chars += sum(len(t) for t in texts)
        k, w = vocab_rate("\n".join(texts), vocab)
        known, words = known + k, words + w
    return {
        "files_opened": len(files) - len(failed),
        "failed": failed,
        "pages": int(pages),
        "total_s": round(total_s, 2),
        "median_ms_per_page": round(1000 * statistics.median(per_page_s), 2) if per_page_s else 0,
        "ms_per_page_overall": round(1000 * total_s / pages, 2) if pages else 0,
        "pages_without_text": int(blank),
        "chars_per_page": round(chars / pages) if pages else 0,
        "vocab_word_rate": round(known / words, 4) if words else 0,
    }


def measure_tables(files: list[Path]) -> dict[str, Any]:
    first = next(iter(EXTRACTORS.values()))
    candidates = found = rows = scanned = 0
    seconds = 0.0
    examples: list[str] = []
    for path in files:
        data = path.read_bytes()
        try:
            texts, _ = first(data)
        except Exception:  # unreadable here: the extractor part reports it
            continue
        scanned += len(texts)
        pages = [i for i, t in enumerate(texts) if looks_tabular(t)]
        if not pages:
            continue
        candidates += len(pages)
        rewritten = list(texts)
        started = time.perf_counter()
        found += extract_tables(data, rewritten)  # what the loader does, timed as a whole
        seconds += time.perf_counter() - started
        for i in pages:
            if rewritten[i] == texts[i]:
                continue
            table_rows = [line for line in rewritten[i].splitlines() if line.startswith("| ")]
            rows += len(table_rows)
            if len(examples) < 3:
                examples.append(f"{path.name} p{i + 1}:\n" + "\n".join(table_rows[:6]))
    return {
        "pages_scanned": scanned,
        "tabular_pages": candidates,
        "tables": found,
        "table_rows": rows,
        "s_per_tabular_page": round(seconds / candidates, 3) if candidates else 0,
        "total_s": round(seconds, 2),
        "examples": examples,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    folders = args.folder or [DATA / "aragog" / "papers", REALWORLD]
    files = pdfs(folders)
    if args.quick:
        files = files[:3]
    vocab = vocabulary()
    return {
        "folders": [str(f) for f in folders],
        "pdfs": len(files),
        "extractors": {name: measure_extractor(name, files, vocab) for name in EXTRACTORS},
        "tables": measure_tables(files),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", type=Path, action="append", help="folder of PDFs (repeatable)")


if __name__ == "__main__":
    part_main(run, __doc__, add_arguments)
