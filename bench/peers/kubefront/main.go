// kubefront: a TLS front for the local kube-apiserver that sends every request on as one identity.
//
// kubernetes-mcp-server with require_oauth forwards each caller's bearer token to the Kubernetes
// API (cluster_auth_mode "passthrough"; it refuses "kubeconfig" together with require_oauth), and
// the bench's local apiserver does not trust the bench's OpenID Provider. This front replaces the
// Authorization header with the token in -token-file, so every server in the peer comparison
// reaches the same apiserver through the same hop, as the same identity.
//
// It also counts the requests it sends on: GET /_kubefront/requests answers the count so far, so
// the bench can report how many API calls each server makes per tool call (no apiserver path
// starts with "/_").
//
// Standard library only; built once by bench/peers/cache.py with the local Go toolchain.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve TLS on (loopback)")
	upstream := flag.String("upstream", "", "the kube-apiserver URL (https://127.0.0.1:port)")
	upstreamCA := flag.String("upstream-ca", "", "CA bundle that verifies the apiserver's certificate")
	certFile := flag.String("cert", "", "this front's serving certificate (PEM)")
	keyFile := flag.String("key", "", "this front's serving key (PEM)")
	tokenFile := flag.String("token-file", "", "file holding the bearer token sent upstream")
	flag.Parse()

	target, err := url.Parse(*upstream)
	if err != nil || target.Scheme != "https" {
		log.Fatalf("-upstream must be an https URL: %q", *upstream)
	}
	caPEM, err := os.ReadFile(*upstreamCA)
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		log.Fatalf("no certificate in %s", *upstreamCA)
	}
	tokenBytes, err := os.ReadFile(*tokenFile)
	if err != nil {
		log.Fatal(err)
	}
	bearer := "Bearer " + strings.TrimSpace(string(tokenBytes))

	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
			r.Out.Header.Set("Authorization", bearer)
		},
		Transport:     transport,
		FlushInterval: -1, // watches stream
	}
	var sent atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_kubefront/requests" {
			_, _ = w.Write([]byte(strconv.FormatInt(sent.Load(), 10)))
			return
		}
		sent.Add(1)
		proxy.ServeHTTP(w, r)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("kubefront serving https://%s for %s", listener.Addr(), target)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = server.Close()
	}()
	if err := server.ServeTLS(listener, *certFile, *keyFile); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
