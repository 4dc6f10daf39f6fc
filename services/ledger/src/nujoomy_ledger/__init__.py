"""Nujoomy ledger service: Members, cards and the double-entry points ledger."""
