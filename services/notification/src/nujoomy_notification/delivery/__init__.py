"""Sending queued messages: the transports (SMTP, SMS providers) and the sender loop."""
