"""Ingestion: discover, archive, read, validate and put county files in force (SPEC.md sections 4-6)."""
