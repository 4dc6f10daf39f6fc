"""What the wallet-pass service consumes (consumers.py) and publishes (through the outbox)."""
