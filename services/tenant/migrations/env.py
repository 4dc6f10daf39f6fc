from nujoomy_kit.migrations import run_env
from nujoomy_tenant.db.tables import metadata

run_env(metadata)
