"""Nujoomy notification service: Customer email and SMS that follow the ledger, with consent."""
