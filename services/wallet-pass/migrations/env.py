from nujoomy_kit.migrations import run_env
from nujoomy_wallet_pass.db.tables import metadata

run_env(metadata)
