//go:build !proxyspec_faults

package proxy

import (
	"context"
	"errors"
	"testing"
)

// TestFaultsRejectedInDefaultBuild: Options.Faults cannot make a default
// build faulty; Start refuses with a clear error.
func TestFaultsRejectedInDefaultBuild(t *testing.T) {
	if FaultInjection {
		t.Fatal("FaultInjection is true in a default build")
	}
	p, err := Start(context.Background(), Options{
		Listeners: []ListenerOptions{{Addr: "127.0.0.1:0"}},
		Upstream:  UpstreamOptions{Addr: "127.0.0.1:1"},
		Faults:    []string{"via-missing"},
	})
	if err == nil {
		p.Close()
		t.Fatal("Start accepted a fault in a default build")
	}
	if !errors.Is(err, ErrFaultsDisabled) {
		t.Errorf("Start: %v; want ErrFaultsDisabled", err)
	}
}
