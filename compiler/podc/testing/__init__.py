"""podc.testing: a local Kubernetes API emulator for testing Job runners without a cluster.

    from podc.testing import LocalCluster, SimNode

    with LocalCluster() as cluster:
        api = cluster.api_client()          # an official kubernetes.client.ApiClient
        ...

Standard library only (plus ``kubernetes`` for :meth:`LocalCluster.api_client`). ``import podc``
never imports this package.
"""

from podc.testing.cluster import LocalCluster, SimNode
from podc.testing.outcomes import ANNOTATION as OUTCOME_ANNOTATION
from podc.testing.outcomes import Outcome, parse_outcome

__all__ = ["LocalCluster", "SimNode", "OUTCOME_ANNOTATION", "Outcome", "parse_outcome"]
