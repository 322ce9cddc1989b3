// Command kube-apiserver is upstream's kube-apiserver main, built from the Go module proxy
// so tests get a real API server without a container runtime.
package main

import (
	"os"
	_ "time/tzdata" // for timeZone support in CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	// NewAPIServerCommand sets up its own signal context; do not add another.
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
