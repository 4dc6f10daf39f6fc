from nujoomy_kit.migrations import run_env
from nujoomy_partner_gateway.db.tables import metadata

run_env(metadata)
