"""Offline ValidatingAdmissionPolicy evaluation (``podc check --admission PATH``,
``policies.admission`` in podc.yaml): the cluster's own policies, in CEL, run before submission
so CI rejects what the API server would reject, at the source line.

* :mod:`~podc.check.admission.loader` / :mod:`~podc.check.admission.reading`: policies,
  bindings, param objects and Namespaces from files, validated with located errors;
* :mod:`~podc.check.admission.matching`: matchConstraints / matchResources;
* :mod:`~podc.check.admission.objects`: what is admitted for a document (the Job, the Pod its
  controller creates) with the API server's defaults;
* :mod:`~podc.check.admission.evaluate`: matchConditions, variables, validations, messages,
  failurePolicy and the cost budget;
* :mod:`~podc.check.admission.checker`: params, namespaces and violations.

The CEL environment is :mod:`podc.check.cel` with the Kubernetes libraries.
"""

from podc.check.admission.checker import AdmissionChecker
from podc.check.admission.loader import AdmissionInputs, expand_paths, load_admission_inputs
from podc.errors import Diagnostics, Pos

__all__ = ["AdmissionChecker", "load_admission"]


def load_admission(paths: list[str], diags: Diagnostics, where: Pos | None = None) -> AdmissionChecker | None:
    """An AdmissionChecker for the policies in ``paths`` (files or folders), or None when there
    are none to load. Problems go to ``diags`` (errors, and notices such as unbound policies)."""
    if not paths:
        return None
    files = expand_paths(paths, diags, where)
    return AdmissionChecker(load_admission_inputs(files, diags))


__all__ += ["AdmissionInputs", "expand_paths", "load_admission_inputs"]
