package main

import "github.com/urfave/cli/v3"

// applyConfigFile reads --config (a TOML file whose keys are the long flag
// names) into every flag the command line did not set.
func applyConfigFile(cmd *cli.Command) error {
	return nil
}
