"""Use cases: load what a rule needs, apply the domain rule, write rows and outbox events together."""
