#!/usr/bin/env python3
"""Offline checks of the Kubernetes files in deploy/kubernetes (run by scripts/deploy/check.sh).

1. Schema: every document against the given Kubernetes version's OpenAPI schema, strict (an
   unknown field is an error), with kubernetes-validate's bundled schemas. A kind it has no schema
   for is an error too (a typo in `kind` would otherwise pass with a warning), except the custom
   resources of KEDA and the Prometheus Operator in the examples, which get a structural check here.
2. References that no schema sees: selectors against pod labels, Service/Ingress/PDB/autoscaler
   targets, ConfigMap/Secret/PVC names, probe ports, and every TAGTUNE_* variable against the
   server's key table (the server refuses unknown ones at start-up).

Usage: check_manifests.py --kubernetes-version 1.30.0 --keys FILE --base RENDERED.yaml
                          [--secret FILE] [--example FILE ...]
"""

from __future__ import annotations

import argparse
import re
import sys

import yaml
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

# Custom resources: the spec fields each may have, and the ones it must have.
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): (
        {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
         "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers"},
        {"scaleTargetRef", "triggers"}),
    ("keda.sh/v1alpha1", "TriggerAuthentication"): (
        {"secretTargetRef", "env", "configMapTargetRef", "podIdentity", "hashiCorpVault", "azureKeyVault",
         "awsSecretManager", "gcpSecretManager", "boundServiceAccountToken"},
        set()),
    ("monitoring.coreos.com/v1", "PodMonitor"): (
        {"selector", "namespaceSelector", "podMetricsEndpoints", "jobLabel", "podTargetLabels",
         "sampleLimit", "targetLimit", "attachMetadata"},
        {"selector", "podMetricsEndpoints"}),
}

errors: list[str] = []
notes: list[str] = []


def fail(where: str, message: str) -> None:
    errors.append(f"{where}: {message}")


def load(path: str) -> list[dict]:
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def name_of(doc: dict) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def check_custom(where: str, doc: dict, allowed: set[str], required: set[str]) -> None:
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        fail(where, "spec must be a mapping")
        return
    for field in sorted(set(spec) - allowed):
        fail(where, f"unknown field spec.{field}")
    for field in sorted(required - set(spec)):
        fail(where, f"missing spec.{field}")
    if doc["kind"] == "ScaledObject":
        if not spec.get("scaleTargetRef", {}).get("name"):
            fail(where, "spec.scaleTargetRef.name is required")
        for i, trigger in enumerate(spec.get("triggers") or []):
            if not trigger.get("type"):
                fail(where, f"spec.triggers[{i}].type is required")
            for key, value in (trigger.get("metadata") or {}).items():
                if not isinstance(value, str):  # the CRD types trigger metadata as map[string]string
                    fail(where, f"spec.triggers[{i}].metadata.{key} must be a string, not {type(value).__name__}")
    if doc["kind"] == "TriggerAuthentication":
        for i, ref in enumerate(spec.get("secretTargetRef") or []):
            if set(ref) != {"parameter", "name", "key"}:
                fail(where, f"spec.secretTargetRef[{i}] needs exactly parameter, name and key")


def validate(path: str, docs: list[dict], version: str, allow_custom: bool) -> None:
    for doc in docs:
        where = f"{path} {name_of(doc)}"
        custom = CUSTOM_KINDS.get((doc.get("apiVersion"), doc.get("kind")))
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except ValidationError as e:
            location = ".".join(str(p) for p in e.path) or "(document)"
            fail(where, f"schema {e.version}: {location}: {e.message}")
        except SchemaNotFoundError as e:
            if custom and allow_custom:
                check_custom(where, doc, *custom)
            else:
                fail(where, e.message)


def pod_specs(docs: list[dict]):
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc, doc["spec"]["template"]


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def configuration_keys(path: str) -> set[str]:
    text = open(path).read()
    found = set(re.findall(r'(?:path:\s*|\b(?:integer|number|list|boolean|string|optionalString|choice)\(\s*)"([a-z_]+(?:\.[a-z_]+)*)"', text))
    if len(found) < 20:
        raise SystemExit(f"check_manifests: read only {len(found)} keys from {path}; has its layout changed?")
    return found


def environment_name(key: str) -> str:
    return "TAGTUNE_" + key.upper().replace(".", "_")


def check_references(base: list[dict], secret: list[dict], examples: dict[str, list[dict]], keys: set[str]) -> None:
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in base:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    deployments = by_kind.get("Deployment", {})
    for needed in ("tagtune-api", "tagtune-worker"):
        if needed not in deployments:
            fail("base", f"no Deployment {needed}")
    if errors:
        return
    known_env = {environment_name(k): k for k in keys}
    secret_names = {d["metadata"]["name"] for d in secret if d["kind"] == "Secret"}
    secret_env = {k for d in secret if d["kind"] == "Secret" for k in (d.get("stringData") or {})}

    def check_env_name(where: str, name: str) -> None:
        if not name.startswith("TAGTUNE_") or name == "TAGTUNE_CONFIG" or name in known_env:
            return
        fail(where, f"{name} is no configuration key (the server would refuse to start)")

    for configmap in by_kind.get("ConfigMap", {}).values():
        for name in configmap.get("data", {}):
            check_env_name(name_of(configmap), name)
    for name in secret_env:
        check_env_name("secret example", name)

    role_of = {"tagtune-api": "api", "tagtune-worker": "worker"}
    all_docs = base + [d for docs in examples.values() for d in docs]
    for owner, template in pod_specs(all_docs):
        where = name_of(owner)
        spec = template["spec"]
        labels = template["metadata"].get("labels", {})
        selector = owner["spec"].get("selector", {}).get("matchLabels")
        if owner["kind"] == "Deployment" and not matches(selector or {}, labels):
            fail(where, "spec.selector does not select the pod template's labels")
        if spec.get("enableServiceLinks") is not False:
            fail(where, "enableServiceLinks must be false: the Service `tagtune` would inject TAGTUNE_* variables the server refuses")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for volume in volumes.values():
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim and claim not in by_kind.get("PersistentVolumeClaim", {}):
                fail(where, f"volume {volume['name']} claims {claim}, which the base does not define")
        security = spec.get("securityContext", {})
        if security.get("runAsNonRoot") is not True or security.get("runAsUser") != 10001:
            fail(where, "must run as non-root uid 10001 (the image's user)")
        for container in spec["containers"]:
            cwhere = f"{where} container {container['name']}"
            csec = container.get("securityContext", {})
            if csec.get("capabilities", {}).get("drop") != ["ALL"] or csec.get("allowPrivilegeEscalation") is not False:
                fail(cwhere, "must drop ALL capabilities and disallow privilege escalation")
            if csec.get("readOnlyRootFilesystem") is True and "/tmp" not in {m["mountPath"] for m in container.get("volumeMounts", [])}:
                fail(cwhere, "a read-only root filesystem needs a volume at /tmp")
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes:
                    fail(cwhere, f"mounts volume {mount['name']}, which the pod does not define")
            ports = {p.get("name") for p in container.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                port = container.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str) and port not in ports:
                    fail(cwhere, f"{probe} uses port {port}, which the container does not name")
            env = {e["name"]: e for e in container.get("env", [])}
            for name in env:
                check_env_name(cwhere, name)
            for source in container.get("envFrom", []):
                if "configMapRef" in source and source["configMapRef"]["name"] not in by_kind.get("ConfigMap", {}):
                    fail(cwhere, f"envFrom ConfigMap {source['configMapRef']['name']} is not in the base")
                if "secretRef" in source and source["secretRef"]["name"] not in secret_names:
                    fail(cwhere, f"envFrom Secret {source['secretRef']['name']} is not the example Secret's name")
            if owner["kind"] == "Deployment":
                role = env.get("TAGTUNE_SERVER_ROLE", {}).get("value")
                if role != role_of.get(owner["metadata"]["name"]):
                    fail(cwhere, f"TAGTUNE_SERVER_ROLE is {role!r}")
                replica = env.get("TAGTUNE_REPLICA_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                if replica != "metadata.name":
                    fail(cwhere, "TAGTUNE_REPLICA_ID must come from the pod name (fieldRef metadata.name)")
                for probe, path in (("startupProbe", "/readyz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                    if container.get(probe, {}).get("httpGet", {}).get("path") != path:
                        fail(cwhere, f"{probe} must GET {path}")

    api_labels = deployments["tagtune-api"]["spec"]["template"]["metadata"]["labels"]
    worker_labels = deployments["tagtune-worker"]["spec"]["template"]["metadata"]["labels"]
    services = by_kind.get("Service", {})
    for service in services.values():
        selector = service["spec"].get("selector", {})
        if not matches(selector, api_labels) or matches(selector, worker_labels):
            fail(name_of(service), "must select the API pods and not the workers")
    for ingress in by_kind.get("Ingress", {}).values():
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"]["service"]
                target = services.get(backend["name"])
                if target is None:
                    fail(name_of(ingress), f"backend Service {backend['name']} is not in the base")
                elif backend["port"].get("name") not in {p.get("name") for p in target["spec"]["ports"]}:
                    fail(name_of(ingress), f"backend port {backend['port']} is not a port of Service {backend['name']}")
    covered = set()
    for pdb in by_kind.get("PodDisruptionBudget", {}).values():
        selected = [n for n, d in deployments.items()
                    if matches(pdb["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])]
        if len(selected) != 1:
            fail(name_of(pdb), f"selects {len(selected)} Deployments, not one")
        covered.update(selected)
    for name in sorted(set(deployments) - covered):
        fail(f"Deployment/{name}", "has no PodDisruptionBudget")

    for path, docs in examples.items():
        for doc in docs:
            target = doc.get("spec", {}).get("scaleTargetRef", {}).get("name")
            if target and target not in deployments:
                fail(f"{path} {name_of(doc)}", f"scales {target}, which is no Deployment of the base")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--keys", required=True, help="Sources/Server/Configuration/ConfigurationKeys.swift")
    parser.add_argument("--base", required=True, help="the output of kubectl kustomize deploy/kubernetes")
    parser.add_argument("--secret", default=None)
    parser.add_argument("--example", action="append", default=[])
    args = parser.parse_args()

    base = load(args.base)
    validate("base", base, args.kubernetes_version, allow_custom=False)
    secret = load(args.secret) if args.secret else []
    validate(args.secret, secret, args.kubernetes_version, allow_custom=False)
    examples = {path: load(path) for path in args.example}
    for path, docs in examples.items():
        validate(path, docs, args.kubernetes_version, allow_custom=True)
    if not errors:
        check_references(base, secret, examples, configuration_keys(args.keys))

    count = len(base) + len(secret) + sum(len(d) for d in examples.values())
    for note in notes:
        print(f"note: {note}")
    for error in errors:
        print(f"ERROR {error}")
    if errors:
        print(f"{len(errors)} error(s) in {count} documents (Kubernetes {args.kubernetes_version}, strict)")
        return 1
    print(f"{count} documents valid against Kubernetes {args.kubernetes_version} (strict), references consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
