// Command corpuscheck validates a corpus directory and prints one line per problem (file:line: msg).
//
//	go run ./corpus/cmd/corpuscheck [corpus-dir]
package main

import (
	"fmt"
	"os"

	"github.com/proxyspec/proxyspec/corpus"
)

func main() {
	dir := "corpus"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	cases, err := corpus.LoadDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d cases OK\n", len(cases))
}
