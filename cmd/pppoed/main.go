// Command pppoed is a PPPoE client and access concentrator for Linux whose
// data path is the kernel's. This file only parses the command line; the
// work is done by the library packages.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v3"
)

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func newApp() *cli.Command {
	return &cli.Command{
		Name:    "pppoed",
		Usage:   "PPPoE client and access concentrator on the kernel's data path",
		Version: version(),
	}
}

func main() {
	if err := newApp().Run(context.Background(), os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "pppoed: %v\n", err)
		os.Exit(1)
	}
}
