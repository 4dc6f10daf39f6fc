"""`make up` wiring: the fakes are registered as dev processes and the dev env points both modes at them."""

from __future__ import annotations

import argparse

from nujoomy_cli.registry import Registry
from nujoomy_notification import cli
from nujoomy_notification.settings import load


def test_register_adds_the_service_the_fakes_and_a_dev_env(tmp_path, monkeypatch):
    # The fakes' ports are settings, so a second stack can run beside a developer's `make up`.
    monkeypatch.setenv("NUJOOMY_DEV_FAKE_SMTP_PORT", "2525")
    monkeypatch.setenv("NUJOOMY_DEV_FAKE_SMS_PORT", "9026")
    registry = Registry()
    cli.register(argparse.ArgumentParser().add_subparsers(), registry)
    assert registry.services["notification"].consumers == ("notification.events",)
    assert [p.name for p in registry.processes] == ["smtp-sink", "sms-fake"]
    env = registry.dev_env_hooks[0](tmp_path)
    settings = load(env)
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 2525)
    assert (settings.sandbox_smtp_host, settings.sandbox_smtp_port) == ("127.0.0.1", 2525)
    assert settings.sms_url == settings.sandbox_sms_url == "http://127.0.0.1:9026/messages"
    assert "2525" in registry.processes[0].argv
    assert registry.processes[1].ready_url == "http://127.0.0.1:9026/messages"
    assert settings.sms_secret
    assert settings.sms_secret == load(registry.dev_env_hooks[0](tmp_path)).sms_secret, "stable across runs"
