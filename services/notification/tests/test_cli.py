"""`make up` wiring: the fakes are registered as dev processes and the dev env points both modes at them."""

from __future__ import annotations

import argparse

from nujoomy_cli.registry import Registry
from nujoomy_notification import cli
from nujoomy_notification.settings import load


def test_register_adds_the_service_the_fakes_and_a_dev_env(tmp_path):
    registry = Registry()
    cli.register(argparse.ArgumentParser().add_subparsers(), registry)
    assert registry.services["notification"].consumers == ("notification.events",)
    assert [p.name for p in registry.processes] == ["smtp-sink", "sms-fake"]
    env = registry.dev_env_hooks[0](tmp_path)
    settings = load(env)
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", cli.SINK_SMTP_PORT)
    assert (settings.sandbox_smtp_host, settings.sandbox_smtp_port) == ("127.0.0.1", cli.SINK_SMTP_PORT)
    assert settings.sms_url == settings.sandbox_sms_url == f"http://127.0.0.1:{cli.SMS_FAKE_PORT}/messages"
    assert settings.sms_secret
    assert settings.sms_secret == load(registry.dev_env_hooks[0](tmp_path)).sms_secret, "stable across runs"
