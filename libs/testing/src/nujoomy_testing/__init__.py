"""Test support: real-service fixtures (plugin.py), a cuttable TCP proxy, waiting helpers."""

from nujoomy_testing.proxy import TcpProxy
from nujoomy_testing.waiting import eventually

__all__ = ["TcpProxy", "eventually"]
