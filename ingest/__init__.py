"""The ingestion flow: load → parse → chunk → embed → store."""

from ingest.pipeline import FileResult, Ingestor, IngestReport, ingest_paths

__all__ = ["FileResult", "IngestReport", "Ingestor", "ingest_paths"]
