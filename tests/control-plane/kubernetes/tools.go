//go:build tools

// Package tools pins the Kubernetes commands the test cluster runs; it is
// never compiled into anything (build tag "tools"), it only makes `go mod
// tidy` keep their dependencies and lets `go build` find the packages.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
