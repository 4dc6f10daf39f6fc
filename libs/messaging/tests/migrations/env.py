from nujoomy_kit.migrations import run_env
from sqlalchemy import MetaData

run_env(MetaData())
