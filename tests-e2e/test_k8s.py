"""deploy/k8s renders offline and every object is valid Kubernetes 1.30 that runs what the code expects.

The overlays use only what a small renderer reproduces exactly (`resources`, `namespace`, `images`
and strategic-merge `patches`), so this test renders them itself: no kustomize binary, no cluster.
Every object is then checked against the bundled 1.30 OpenAPI schemas (`kubernetes-validate`, strict:
an unknown field is an error), and against the services' code: an API and a worker Deployment per
service, probes on the port the service listens on (a worker: its health listener, whose process is
started below to prove it answers), a PDB and an HPA for each, a migration Job, and every NUJOOMY_*
variable a real settings field (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import kubernetes_validate
import msgspec
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
VERSION = "1.30"
SERVICES = ["partner-gateway", "tenant", "ledger", "wallet-pass", "notification"]
# Lists that strategic merge patches merge item by item (by this key) instead of replacing.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}

Obj = dict[str, Any]


def _key(obj: Obj) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _merge(base: Any, patch: Any, field: str = "") -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _merge(base[k], v, k) if k in base else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(patch, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        out_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            match = next((i for i, b in enumerate(out_list) if b.get(key) == item.get(key)), None)
            if match is None:
                out_list.append(copy.deepcopy(item))
            else:
                out_list[match] = _merge(out_list[match], item)
        return out_list
    return copy.deepcopy(patch)


def _load(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}


def render(directory: Path) -> list[Obj]:
    """What `kustomize build directory` gives for the subset of kustomize our files use."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - SUPPORTED
    assert not unsupported, f"{directory}: the renderer does not implement {unsupported}"
    objects: list[Obj] = []
    for entry in kustomization.get("resources", []):
        target = directory / entry
        objects.extend(render(target) if target.is_dir() else _load(target))
    index = {_key(obj): i for i, obj in enumerate(objects)}
    assert len(index) == len(objects), f"{directory}: two objects share a kind and name"
    for patch_entry in kustomization.get("patches", []):
        for patch in _load(directory / patch_entry["path"]):
            assert _key(patch) in index, f"patch {patch_entry['path']} targets missing {_key(patch)}"
            i = index[_key(patch)]
            objects[i] = _merge(objects[i], patch)
    for image in kustomization.get("images", []):
        for obj in objects:
            for container in _containers(obj):
                name, _, _tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', _tag)}"
    if "namespace" in kustomization:
        for obj in objects:
            obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects


def _pod(obj: Obj) -> Obj | None:
    if obj["kind"] in ("Deployment", "Job"):
        pod: Obj = obj["spec"]["template"]["spec"]
        return pod
    return None


def _containers(obj: Obj) -> list[Obj]:
    pod = _pod(obj)
    return [] if pod is None else [*pod.get("initContainers", []), *pod["containers"]]


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Obj]]:
    return request.param, render(K8S / request.param)


def test_every_object_is_valid_kubernetes(rendered: tuple[str, list[Obj]]) -> None:
    name, objects = rendered
    assert len(objects) > 40
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {_key(obj)} is not valid {VERSION}: {exc.message} at {list(exc.path)}")


def test_schema_validation_catches_a_broken_object() -> None:
    # The validation above is only worth something if it rejects what a cluster would reject.
    deployment = next(o for o in render(K8S / "base") if o["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)
    broken = copy.deepcopy(deployment)
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)


def _by_kind(objects: list[Obj], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_every_service_has_api_worker_pdb_hpa_and_migration(
    rendered: tuple[str, list[Obj]], services: dict[str, Any]
) -> None:
    _, objects = rendered
    assert sorted(services) == sorted(SERVICES)
    deployments = _by_kind(objects, "Deployment")
    pdbs, hpas = _by_kind(objects, "PodDisruptionBudget"), _by_kind(objects, "HorizontalPodAutoscaler")
    jobs, svcs = _by_kind(objects, "Job"), _by_kind(objects, "Service")
    settings = _by_kind(objects, "ConfigMap")["nujoomy-settings"]["data"]
    worker_health_port = int(settings["NUJOOMY_WORKER_HEALTH_PORT"])
    for service, code in services.items():
        default_port = {f.name: f.default for f in msgspec.structs.fields(code.settings.Settings)}["port"]
        for role in ("api", "worker"):
            name = f"{service}-{role}"
            deployment = deployments[name]
            selector = deployment["spec"]["selector"]["matchLabels"]
            assert deployment["spec"]["template"]["metadata"]["labels"].items() >= selector.items()
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            assert container["args"] == [role]
            assert container["resources"]["requests"]
            assert container["resources"]["limits"]
            assert pdbs[name]["spec"]["selector"]["matchLabels"] == selector
            hpa = hpas[name]["spec"]
            assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
            assert hpa["minReplicas"] >= 2, "one replica cannot survive a node drain"
            assert hpa["metrics"][0]["resource"]["name"] == "cpu"
            if role == "api":
                ports = {p["name"]: p["containerPort"] for p in container["ports"]}
                assert ports == {"http": default_port}, f"{name} must listen where {service} does"
                assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
                assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
                assert svcs[service]["spec"]["selector"] == selector
                assert svcs[service]["spec"]["ports"][0]["port"] == default_port
            else:
                # the worker's own probe listener (nujoomy_messaging.health), on the configured port
                ports = {p["name"]: p["containerPort"] for p in container["ports"]}
                assert ports == {"health": worker_health_port}, name
                assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "health"}
                assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "health"}
        job = jobs[f"{service}-migrate"]
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["migrate"]
        assert container["image"].split(":")[0].endswith(f"nujoomy/{service}")
        db = next(e for e in container["env"] if e["name"] == "NUJOOMY_DATABASE_URL")
        assert db["valueFrom"]["secretKeyRef"]["name"] == f"nujoomy-{service}-db"


def _settings_fields(services: dict[str, Any]) -> dict[str, set[str]]:
    from nujoomy_cli.main import build_parser

    fields = {
        name: {f.name.upper() for f in msgspec.structs.fields(code.settings.Settings)}
        for name, code in services.items()
    }
    # Settings a service reads under a scope of their own (NUJOOMY_WEB_* for the gateway's pages).
    for info in build_parser()[1].services.values():
        for scope, target in info.extra_settings:
            module, _, attr = target.partition(":")
            extra = getattr(importlib.import_module(module), attr)
            fields[scope] = {f.name.upper() for f in msgspec.structs.fields(extra)}
    return fields


def _is_setting(variable: str, fields: dict[str, set[str]], service: str | None) -> bool:
    """NUJOOMY_<FIELD> for a field of this service (any service for the shared ConfigMap), or
    NUJOOMY_<SERVICE>_<FIELD> for a field of that service."""
    rest = variable.removeprefix("NUJOOMY_")
    for name, names in fields.items():
        prefix = name.upper().replace("-", "_") + "_"
        if rest.startswith(prefix) and rest.removeprefix(prefix) in names:
            return True
    candidates = fields.values() if service is None else [fields[service]]
    return any(rest in names for names in candidates)


def test_every_nujoomy_variable_is_a_real_setting(
    rendered: tuple[str, list[Obj]], services: dict[str, Any]
) -> None:
    _, objects = rendered
    fields = _settings_fields(services)
    config = _by_kind(objects, "ConfigMap")["nujoomy-settings"]["data"]
    wrong = [v for v in config if not _is_setting(v, fields, None)]
    for obj in objects:
        service = obj["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        for container in _containers(obj):
            names = [e["name"] for e in container.get("env", [])]
            wrong += [n for n in names if not _is_setting(n, fields, service)]
    assert not wrong, f"not settings fields: {wrong}"
    assert not _is_setting("NUJOOMY_QUEUE_TPYE", fields, None)  # the check itself rejects a typo


def test_production_uses_quorum_queues_pinned_images_and_managed_infrastructure() -> None:
    base, production = render(K8S / "base"), render(K8S / "overlays/production")
    assert _by_kind(base, "ConfigMap")["nujoomy-settings"]["data"]["NUJOOMY_QUEUE_TYPE"] == "classic"
    settings = _by_kind(production, "ConfigMap")["nujoomy-settings"]["data"]
    assert settings["NUJOOMY_QUEUE_TYPE"] == "quorum"
    assert settings["NUJOOMY_DEV_MODE"] == "false"
    assert {o["metadata"]["namespace"] for o in production} == {"nujoomy"}
    for obj in production:
        for container in _containers(obj):
            repository, tag = container["image"].rsplit(":", 1)
            assert repository.startswith("registry.nujoomy.example/")
            assert tag not in ("", "latest")
    services = _by_kind(production, "Service").items()
    external = {n: s for n, s in services if s["spec"].get("type") == "ExternalName"}
    assert set(external) == {"postgres", "rabbitmq", "redis"}
    assert all("example" not in s["spec"]["externalName"] for s in external.values())
    # One database (and credential) per service: no two services share a database URL Secret.
    secrets = _by_kind(production, "Secret")
    urls = {secrets[f"nujoomy-{s}-db"]["stringData"]["database-url"].rsplit("/", 1)[1] for s in SERVICES}
    assert len(urls) == len(SERVICES)


def test_secrets_are_mounted_not_baked_in() -> None:
    objects = render(K8S / "overlays/production")
    secrets = _by_kind(objects, "Secret")
    settings = _by_kind(objects, "ConfigMap")["nujoomy-settings"]["data"]
    assert not any("BEGIN" in v or "PASSWORD" in k or "SECRET" in k for k, v in settings.items())
    for obj in objects:
        pod = _pod(obj)
        if pod is None:
            continue
        for volume in pod["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
            for source in volume.get("projected", {}).get("sources", []):
                assert source["secret"]["name"] in secrets
        for container in _containers(obj):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]]["stringData"], env
            assert pod["securityContext"]["runAsNonRoot"] is True
    wallet = _by_kind(objects, "Deployment")["wallet-pass-worker"]["spec"]["template"]["spec"]
    mounts = {m["mountPath"] for m in wallet["containers"][0]["volumeMounts"]}
    assert Path(settings["NUJOOMY_WALLET_PASS_PASS_CERT"]).parent.as_posix() in mounts
    assert Path(settings["NUJOOMY_INTERNAL_PRIVATE_KEY"]).parent.as_posix() in mounts
    # Each service mounts its own internal signing key, never another's; only wallet-pass holds the
    # member-link signing key.
    for name, deployment in _by_kind(objects, "Deployment").items():
        service = name.removesuffix("-worker").removesuffix("-api")
        projected = [
            source["secret"]["name"]
            for volume in deployment["spec"]["template"]["spec"]["volumes"]
            for source in volume.get("projected", {}).get("sources", [])
        ]
        assert [n for n in projected if n.endswith("-internal-key")] == [f"nujoomy-{service}-internal-key"]
        assert ("nujoomy-member-link-key" in projected) == (service == "wallet-pass")


async def test_the_worker_process_answers_the_probes_the_manifests_point_at(
    make_db: Any, amqp_url: str, redis_url: str, redis_prefix: str, topology: Any
) -> None:
    """`python -m nujoomy_ledger worker`, as the worker Deployments start it: the port from
    NUJOOMY_WORKER_HEALTH_PORT answers /health/live and, once consuming, /health/ready."""
    import asyncio
    import os
    import signal
    import socket
    import subprocess
    import sys

    import httpx
    from nujoomy_testing import eventually

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "NUJOOMY_DATABASE_URL": await make_db("ledger", ROOT / "services" / "ledger" / "migrations"),
        "NUJOOMY_AMQP_URL": amqp_url,
        "NUJOOMY_REDIS_URL": redis_url,
        "NUJOOMY_REDIS_PREFIX": redis_prefix,
        "NUJOOMY_EVENTS_EXCHANGE": topology.exchange,
        "NUJOOMY_QUEUE_PREFIX": topology.prefix,
        "NUJOOMY_WORKER_HEALTH_PORT": str(port),
        "NUJOOMY_LOG_JSON": "false",
        "NUJOOMY_DEV_MODE": "true",  # no keys here; outside dev mode the process refuses to start
    }
    process = subprocess.Popen([sys.executable, "-m", "nujoomy_ledger", "worker"], env=env)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=3) as http:

            async def ready() -> int:
                try:
                    return (await http.get("/health/ready")).status_code
                except httpx.TransportError:
                    return 0

            await eventually(ready, lambda status: status == 200, timeout=60, interval=0.2)
            assert (await http.get("/health/live")).json() == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# What the Ingress may route, and to which service: the public surface and nothing else.
PUBLIC_PATHS = {
    "api": {
        "/v1": "partner-gateway",
        "/app": "partner-gateway",
        "/bff": "partner-gateway",
        "/join": "partner-gateway",
        "/join-assets": "partner-gateway",
        "/static": "partner-gateway",
        "/schema": "partner-gateway",
        "/docs": "partner-gateway",
        "/unsubscribe": "notification",
    },
    "pass": {"/apple": "wallet-pass", "/google": "wallet-pass", "/cards": "wallet-pass"},
}


def _routed(rule: Obj, path: str) -> str | None:
    """The service a request for `path` reaches under `rule` (Prefix: whole path segments)."""
    best: tuple[int, str] | None = None
    for entry in rule["http"]["paths"]:
        prefix = entry["path"].rstrip("/")
        assert entry["pathType"] == "Prefix"
        matches = path == prefix or path.startswith(prefix + "/") or prefix == ""
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), entry["backend"]["service"]["name"])
    return best[1] if best else None


def test_the_ingress_routes_only_the_public_paths(rendered: tuple[str, list[Obj]]) -> None:
    name, objects = rendered
    (ingress,) = [o for o in objects if o["kind"] == "Ingress"]
    rules = {rule["host"].split(".")[0]: rule for rule in ingress["spec"]["rules"]}
    assert set(rules) == set(PUBLIC_PATHS), name
    for host, allowed in PUBLIC_PATHS.items():
        routed = {e["path"]: e["backend"]["service"]["name"] for e in rules[host]["http"]["paths"]}
        assert routed == allowed, (name, host)
        for private in ("/", "/metrics", "/health/ready", "/health/live", "/internal/v1/api_keys", "/v1x"):
            assert _routed(rules[host], private) is None, (name, host, private)
    assert _routed(rules["api"], "/v1/members") == "partner-gateway"
    assert _routed(rules["api"], "/unsubscribe/tok") == "notification"
    assert _routed(rules["pass"], "/apple/v1/log") == "wallet-pass"
    assert _routed(rules["pass"], "/schema") is None  # wallet-pass's own schema stays inside
