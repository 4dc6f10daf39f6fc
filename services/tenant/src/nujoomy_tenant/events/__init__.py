"""What the tenant service consumes (consumers.py) and publishes (through the outbox)."""
