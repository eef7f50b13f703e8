"""Ledger tables of the later stages (alerts, reminders), registered on jianfu.ledger.metadata.

Imported by jianfu.ledger.create_schema so that `jianfu init` creates every table at once.
"""
