"""One module per file format. Each turns a file's bytes into a `Parsed` document (Markdown
text whose headings and tables the chunker understands, pages where the format has them) or
raises `IngestError` with a one-line reason. Heavy parsers are imported by the module that
uses them, so reading Markdown never loads pdfium or openpyxl."""
