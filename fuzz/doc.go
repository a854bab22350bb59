// Package fuzz holds proxyspec's native Go fuzz targets. Seeds come from the corpus: every case's
// client bytes and origin answers. Run one with
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzProxyNoDesync$' -fuzztime 60s
//
// A crasher lands in fuzz/testdata/fuzz/<Target>/ and stays there as a regression input that
// plain `go test ./fuzz` replays; turn the interesting ones into corpus cases.
package fuzz
