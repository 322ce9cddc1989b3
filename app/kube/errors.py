"""Domain errors of the Kubernetes layer.

Each carries a message fit for a model (the API Status message plus context),
never the raw API response. The tool registry is the one place that turns them
into `isError` results.
"""


class KubeError(Exception):
    """Base of every error the Kubernetes layer raises."""


class KubeNotConfigured(KubeError):
    """Neither in-cluster credentials nor a kubeconfig were found."""


class KubeUnavailable(KubeError):
    """The Kubernetes API did not answer within the timeout."""
