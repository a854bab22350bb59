//go:build proxyspec_faults

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// faultFlags holds the fault-injection flags of tagged builds.
type faultFlags struct {
	faults listFlag
	list   bool
}

func registerFaultFlags(fs *flag.FlagSet) *faultFlags {
	f := &faultFlags{}
	fs.Var(&f.faults, "fault", "inject the named fault (repeatable; see -list-faults). FAULT-INJECTION BUILD: never deploy")
	fs.BoolVar(&f.list, "list-faults", false, "print the fault catalogue as JSON and exit")
	return f
}

// listed prints the catalogue as a JSON array if -list-faults was given.
func (f *faultFlags) listed(w io.Writer) (bool, error) {
	if !f.list {
		return false, nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fault.List()); err != nil {
		return true, fmt.Errorf("-list-faults: %w", err)
	}
	return true, nil
}

func (f *faultFlags) names() []string { return f.faults }
