"""XLSX and CSV: each sheet one Markdown table under a heading with the sheet's name, its
first non-empty row the header (the chunker repeats it in every piece of a long sheet)."""

from __future__ import annotations

import csv
import io

from ingest.formats.common import Parsed, decode_text, markdown_table, unreadable


def load_xlsx(data: bytes) -> Parsed:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # whatever the library raises for a broken file
        raise unreadable("XLSX", err) from None
    try:
        sections = []
        for sheet in book.worksheets:
            # A sheet's stored size can be missing or wrong (real files say 1x1 for a full
            # sheet); read-only mode trusts it unless told to find the size by reading.
            sheet.reset_dimensions()
            table = markdown_table(sheet.iter_rows(values_only=True))
            if table:
                sections.append(f"# {sheet.title}\n\n{table}")
        title = (book.properties.title or "").strip() or None
    finally:
        book.close()
    return Parsed(text="\n\n".join(sections), title=title, tables=len(sections))


def load_csv(data: bytes) -> Parsed:
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t|"
        )
    except csv.Error:  # one column, or too irregular to guess: commas
        dialect = csv.excel
    table = markdown_table(csv.reader(io.StringIO(text), dialect))
    return Parsed(text=table, tables=1 if table else 0)
