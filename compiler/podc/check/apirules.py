"""API-server rules per kind (object metadata, workload specs) on top of the pod-spec rules.

The OpenAPI schema says which fields exist and their types; the API server additionally
validates names, label syntax, selectors, ranges and cross-field rules. These are the ones a
podc user hits when ``kubectl apply`` rejects a generated manifest, reported as
:class:`~podc.check.schema.SchemaIssue` with ``api.*`` codes before anything reaches a cluster.
"""

from __future__ import annotations

from podc.check.apirules_common import Collector, as_dict, as_list, check_label_selector, check_labels, names
from podc.check.apirules_pod import check_pod_spec
from podc.kube.names import annotations_size

__all__ = ["api_issues", "JOB_NAME_MAX", "CRONJOB_NAME_MAX"]

# The Job controller copies the Job name into the pod label batch.kubernetes.io/job-name.
JOB_NAME_MAX = 63
# The CronJob controller appends "-<10-digit scheduled time>" to make Job names (52 + 11 = 63).
CRONJOB_NAME_MAX = 52
COMPLETION_MODES = ("NonIndexed", "Indexed")
POD_REPLACEMENT_POLICIES = ("TerminatingOrFailed", "Failed")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
_JOB_BOUNDS = (("parallelism", 0), ("completions", 0), ("backoffLimit", 0), ("ttlSecondsAfterFinished", 0),
               ("backoffLimitPerIndex", 0), ("maxFailedIndexes", 0), ("activeDeadlineSeconds", 1))
_CONTROLLERS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController")


def api_issues(doc: dict, version: str) -> list:
    """The API-server rule violations in ``doc`` (a dict whose kind the caller recognised)."""
    from podc.check.schema_issue import SchemaIssue
    from podc.check.schema_explain import pointer

    out = Collector(version)
    kind = doc.get("kind")
    _object_meta(out, doc.get("metadata"), ("metadata",), kind, top_level=True)
    spec = as_dict(doc.get("spec"))
    if kind == "Pod":
        check_pod_spec(out, doc.get("spec"), ("spec",))
    elif kind == "PodTemplate":
        _template(out, doc.get("template"), ("template",))
    elif kind == "Job":
        _job_spec(out, spec, ("spec",))
    elif kind == "CronJob":
        _cronjob_spec(out, spec, ("spec",))
    elif kind in _CONTROLLERS:
        _controller_spec(out, kind, spec, ("spec",))
    return [SchemaIssue(code, msg, pointer(path), hint, severity) for code, msg, path, hint, severity in out.found]


def _object_meta(out: Collector, meta: object, path: tuple, kind: object, top_level: bool) -> None:
    meta = as_dict(meta)
    name = meta.get("name")
    if top_level:
        if not name and not meta.get("generateName"):
            out.add("api.name", f"{kind} needs metadata.name (or metadata.generateName)", path + ("name",))
        if isinstance(name, str) and name:
            _object_name(out, kind, name, path + ("name",))
        gen = meta.get("generateName")
        if isinstance(gen, str) and gen:
            # The server appends 5 random characters, so one trailing '-' is fine (as maskTrailingDash).
            errs = names.dns1123_subdomain(gen[:-1] + "a" if len(gen) > 1 and gen.endswith("-") else gen)
            out.name("api.name", errs, gen, "generateName", path + ("generateName",))
        ns = meta.get("namespace")
        if isinstance(ns, str) and ns:
            out.name("api.name", names.dns1123_label(ns), ns, "namespace", path + ("namespace",))
    if meta.get("labels"):
        check_labels(out, meta["labels"], path + ("labels",))
    annotations = meta.get("annotations")
    if not annotations or not isinstance(annotations, dict):
        return
    for key in annotations:
        if isinstance(key, str):
            # The API server validates annotation keys lower-cased.
            out.name("api.annotation-key", names.qualified_name(key.lower()), key, "annotation key",
                     path + ("annotations", key))
    total = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items() if v is not None)
    for err in annotations_size(total):
        out.add("api.annotations-size", f"annotations {err}", path + ("annotations",))


def _object_name(out: Collector, kind: object, name: str, path: tuple) -> None:
    errs = names.dns1123_subdomain(name)
    out.name("api.name", errs, name, f"{kind} name", path)
    if errs:
        return
    if kind == "Job" and len(name) > JOB_NAME_MAX:
        out.add("api.name", f"Job name {name!r} is {len(name)} characters; at most {JOB_NAME_MAX} are allowed",
                path, "the Job controller copies the name into the pod label batch.kubernetes.io/job-name, "
                "and label values are limited to 63 characters")
    elif kind == "CronJob" and len(name) > CRONJOB_NAME_MAX:
        out.add("api.name", f"CronJob name {name!r} is {len(name)} characters; at most {CRONJOB_NAME_MAX} "
                "are allowed", path, "the CronJob controller appends an 11-character suffix to name its Jobs")


def _template(out: Collector, template: object, path: tuple, restart_allowed: tuple[str, ...] | None = None,
              restart_required: bool = False) -> dict:
    template = as_dict(template)
    _object_meta(out, template.get("metadata"), path + ("metadata",), None, top_level=False)
    kwargs = {} if restart_allowed is None else {"restart_allowed": restart_allowed}
    check_pod_spec(out, template.get("spec"), path + ("spec",), restart_required=restart_required, **kwargs)
    return template


def _job_spec(out: Collector, spec: dict, path: tuple) -> None:
    out.min_ints(spec, _JOB_BOUNDS, path)
    out.enum(spec.get("completionMode"), COMPLETION_MODES, "completionMode", path + ("completionMode",))
    out.enum(spec.get("podReplacementPolicy"), POD_REPLACEMENT_POLICIES, "podReplacementPolicy",
             path + ("podReplacementPolicy",))
    indexed = spec.get("completionMode") == "Indexed"
    for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
        if spec.get(key) is not None and not indexed:
            out.add("api.job", f"{key} requires completionMode: Indexed", path + (key,))
    if indexed and spec.get("completions") is None:
        out.add("api.job", "completionMode Indexed requires completions", path + ("completions",))
    _job_spec_cross_fields(out, spec, path, indexed)
    if spec.get("selector") is not None and spec.get("manualSelector") is not True:
        out.add("api.selector", "a Job selector is generated; setting one requires manualSelector: true",
                path + ("selector",), "remove spec.selector")
    check_label_selector(out, spec.get("selector"), path + ("selector",))
    if "template" in spec:
        _template(out, spec["template"], path + ("template",), ("OnFailure", "Never"), restart_required=True)


def _job_spec_cross_fields(out: Collector, spec: dict, path: tuple, indexed: bool) -> None:
    """batch/validation/validation.go validateJobSpec / validatePodFailurePolicy cross-field rules."""
    max_failed, per_index, completions = (spec.get(k) for k in ("maxFailedIndexes", "backoffLimitPerIndex",
                                                                  "completions"))
    if max_failed is not None and per_index is None:
        out.add("api.job", "maxFailedIndexes requires backoffLimitPerIndex", path + ("maxFailedIndexes",))
    if (isinstance(max_failed, int) and isinstance(completions, int) and not isinstance(max_failed, bool)
            and max_failed > completions):
        out.add("api.job", f"maxFailedIndexes ({max_failed}) must be at most completions ({completions})",
                path + ("maxFailedIndexes",))
    if spec.get("successPolicy") is not None and not indexed:
        out.add("api.job", "successPolicy requires completionMode: Indexed", path + ("successPolicy",))
    if spec.get("podFailurePolicy") is None:
        return
    if spec.get("podReplacementPolicy") not in (None, "Failed"):
        out.add("api.job", "podReplacementPolicy must be Failed when podFailurePolicy is set",
                path + ("podReplacementPolicy",))
    restart = as_dict(as_dict(as_dict(spec.get("template")).get("spec"))).get("restartPolicy")
    if restart is not None and restart != "Never":
        out.add("api.job", f"podFailurePolicy requires the pod's restartPolicy Never, got {restart!r}",
                path + ("template", "spec", "restartPolicy"), "set restartPolicy: Never")


def _cronjob_spec(out: Collector, spec: dict, path: tuple) -> None:
    schedule = spec.get("schedule")
    if isinstance(schedule, str) and not schedule.strip():
        out.add("api.cronjob", "schedule must not be empty", path + ("schedule",))
    elif isinstance(schedule, str) and "TZ=" in schedule:
        out.add("api.cronjob", "CRON_TZ/TZ in schedule is not supported; use spec.timeZone", path + ("schedule",))
    elif isinstance(schedule, str) and not schedule.startswith("@") and len(schedule.split()) != 5:
        out.add("api.cronjob", f"schedule {schedule!r} must have 5 fields (minute hour day month weekday)",
                path + ("schedule",), 'e.g. "*/15 * * * *" or "@hourly"')
    out.enum(spec.get("concurrencyPolicy"), CONCURRENCY_POLICIES, "concurrencyPolicy", path + ("concurrencyPolicy",))
    out.min_ints(spec, (("startingDeadlineSeconds", 0), ("successfulJobsHistoryLimit", 0),
                        ("failedJobsHistoryLimit", 0)), path)
    job = as_dict(spec.get("jobTemplate"))
    _object_meta(out, job.get("metadata"), path + ("jobTemplate", "metadata"), None, top_level=False)
    if isinstance(job.get("spec"), dict):
        _job_spec(out, job["spec"], path + ("jobTemplate", "spec"))


def _controller_spec(out: Collector, kind: str, spec: dict, path: tuple) -> None:
    out.min_ints(spec, (("replicas", 0), ("minReadySeconds", 0), ("revisionHistoryLimit", 0)), path)
    template = _template(out, spec.get("template"), path + ("template",), ("Always",))
    selector = spec.get("selector")
    if kind == "ReplicationController":
        selector_labels = as_dict(selector)
        check_labels(out, selector, path + ("selector",))
        expressions: list = []
    else:
        check_label_selector(out, selector, path + ("selector",))
        selector_labels = as_dict(as_dict(selector).get("matchLabels"))
        expressions = as_list(as_dict(selector).get("matchExpressions"))
        if isinstance(selector, dict) and not selector_labels and not expressions:
            out.add("api.selector", f"{kind} selector must not be empty", path + ("selector",))
    labels = as_dict(as_dict(template.get("metadata")).get("labels"))
    missing = {k: v for k, v in selector_labels.items() if labels.get(k) != v}
    if template and missing:
        shown = ", ".join(f"{k}={v}" for k, v in missing.items())
        out.add("api.selector", f"selector does not match the template labels (missing {shown})",
                path + ("template", "metadata", "labels"), "copy spec.selector.matchLabels into template.metadata.labels")
