//go:build !proxyspec_faults

package main

import (
	"flag"
	"io"
)

// faultFlags is empty in default builds: -fault and -list-faults exist only
// in builds with the proxyspec_faults tag, so a production refproxy cannot
// be made faulty from its command line.
type faultFlags struct{}

func registerFaultFlags(*flag.FlagSet) *faultFlags { return &faultFlags{} }

// listed reports whether -list-faults was given (never, here).
func (*faultFlags) listed(io.Writer) (bool, error) { return false, nil }

// names returns the faults given with -fault (none, here).
func (*faultFlags) names() []string { return nil }
