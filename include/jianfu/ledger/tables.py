"""The ledger's submissions table and the statuses a received file goes through (SPEC.md section 5).

Every other ledger table registers on the same `metadata` (see jianfu.ledger.delivery), so that
`create_schema` creates them all at once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Ledger statuses (SPEC.md section 5). RECEIVED is transient: archived, not yet decided. A run that
# dies leaves it behind and the next run finishes the file.
RECEIVED = "received"
ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"
DUPLICATE = "duplicate"
SUPERSEDED = "superseded"
ACCEPTED_STATUSES = (ACCEPTED, ACCEPTED_WITH_WARNINGS)

submissions = Table(
    "submissions",
    metadata,
    Column("submission_id", String(40), primary_key=True),
    Column("kind", String(20)),
    Column("county_code", String(6)),
    Column("period", String(7)),  # 'YYYY-MM', or 'YYYY' for inspections
    Column("file_name", String(500), nullable=False),
    Column("source_path", Text, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size_bytes", BigInteger, nullable=False),
    # The file's modification time where it was found: with path and size, it lets a re-run skip
    # files it has already received without reading them again.
    Column("source_mtime_ns", BigInteger),
    Column("archive_path", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(30), nullable=False),
    Column("version", Integer),
    Column("row_count", Integer),
    Column("error_count", Integer, nullable=False, default=0),
    Column("warning_count", Integer, nullable=False, default=0),
    Column("reason", Text),  # one line: why rejected, or what a duplicate duplicates
    Column("report_path", Text),
    Column("staged_path", Text),
    Column("duplicate_of", String(40)),
    Column("superseded_by", String(40)),
    # Which ingest run is deciding a `received` file, since when: two runs never decide one file,
    # and a claim older than CLAIM_TIMEOUT (its run died) may be taken over.
    Column("claimed_by", String(40)),
    Column("claimed_at", DateTime(timezone=True)),
    UniqueConstraint("sha256", "source_path", name="uq_submissions_receipt"),
)
