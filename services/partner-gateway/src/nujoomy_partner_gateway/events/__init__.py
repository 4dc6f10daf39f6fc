"""What the partner-gateway service consumes (consumers.py) and publishes (through the outbox)."""
