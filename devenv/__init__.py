"""Developer and test tooling: a local kube-apiserver + etcd with the CloudNativePG CRDs.

Nothing under app/ imports this package; it exists so tests and `python -m devenv.run`
can talk to a real Kubernetes API without a cluster. Modules:

- binaries: build (once) and locate etcd and kube-apiserver (tools/controlplane/build.sh)
- crds: find the CNPG CRDs in the Go module cache and install them
- controlplane: LocalControlPlane, etcd + kube-apiserver on loopback with TLS, RBAC and tokens
- operator_sim: what the CNPG operator would create/report, since no operator runs
- demo: a sample namespace and Cluster for `make run` without a cluster
- run: `python -m devenv.run`, gunicorn against a real or a local control plane
"""
