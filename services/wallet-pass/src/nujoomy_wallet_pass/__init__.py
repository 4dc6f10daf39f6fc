"""Nujoomy wallet-pass service: Apple Wallet and Google Wallet passes that follow the ledger."""
