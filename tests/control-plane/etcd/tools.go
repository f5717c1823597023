//go:build tools

// Package tools pins the etcd server the test cluster runs; it is never
// compiled into anything (build tag "tools"), it only makes `go mod tidy`
// keep its dependencies. The module root of go.etcd.io/etcd/server/v3 is the
// etcd command itself.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
