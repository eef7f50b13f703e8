"""The Parquet warehouse (SPEC.md section 7)."""
