from nujoomy_kit.migrations import run_env
from nujoomy_ledger.db.tables import metadata

run_env(metadata)
