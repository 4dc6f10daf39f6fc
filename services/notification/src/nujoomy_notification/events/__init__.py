"""What the notification service consumes (consumers.py) and publishes (through the outbox)."""
