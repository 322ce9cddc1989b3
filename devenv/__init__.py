"""Developer and test tooling: a local Kubernetes control plane with the real CloudNativePG operator.

Nothing under app/ imports this package; it exists so tests and `python -m devenv.run`
can talk to a real Kubernetes API without a cluster. Modules:

- binaries: build (once) and locate etcd, kube-apiserver, kube-controller-manager
  (tools/controlplane/build.sh) and the CloudNativePG operator (tools/operator/build.sh)
- crds: find the pinned CloudNativePG module in the Go module cache and install its CRDs
- controlplane: LocalControlPlane, etcd + kube-apiserver + kube-controller-manager on loopback
  with TLS, RBAC and tokens, and the operator
- operator: LocalOperator, the real operator and its admission webhooks, from the release manifest
- netns: runs the operator in a private network namespace joined to the host's loopback by relays
- kubelet_sim: SIMULATOR of what only a kubelet and the instance manager in a Pod would report
- demo: a sample namespace and Cluster for `make run` without a cluster
- run: `python -m devenv.run`, gunicorn against a real or a local control plane
"""
