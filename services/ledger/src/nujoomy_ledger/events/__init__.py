"""What the ledger service consumes (consumers.py) and publishes (through the outbox)."""
