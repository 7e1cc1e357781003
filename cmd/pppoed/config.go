package main

import (
	"path/filepath"
	"strings"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/config"
	"github.com/urfave/cli/v3"
)

// applyConfigFile reads --config (a TOML file whose keys are the long flag
// names) into every flag the command line did not set, and names the link
// after the file (/etc/pppoed/wan.toml: "wan") unless --name or the file
// does. It must run before urfave/cli checks the required flags (a Before
// hook), since the file may give them. Running it again changes nothing:
// every flag it set counts as set.
func applyConfigFile(cmd *cli.Command) error {
	path := cmd.String("config")
	if path == "" {
		return nil
	}
	settings, err := config.Load(path, configSchema(cmd.Flags))
	if err != nil {
		return &client.ExitError{Code: client.ExitOptionError, Err: err}
	}
	for _, s := range settings {
		if cmd.IsSet(s.Key.Name) {
			continue // the command line wins
		}
		if err := cmd.Set(s.Key.Name, s.Value); err != nil {
			// config.Load checked the value as the flag parses it; the
			// flag's error is not quoted, as it may hold the value.
			return usageError("%s:%d: key %q: not a value for --%s", path, s.Line, s.Key.Name, s.Key.Name)
		}
	}
	if !cmd.IsSet("name") {
		name := strings.TrimSuffix(filepath.Base(path), ".toml")
		if err := cmd.Set("name", name); err != nil {
			return usageError("--config %s: cannot name the link %q: %v", path, name, err)
		}
	}
	return nil
}

// configSchema is the keys a config file may set: every flag by its long
// name, but --config itself. A password in the file is a secret: it is
// refused unless the file is private (config.Key.Secret).
func configSchema(flags []cli.Flag) []config.Key {
	var keys []config.Key
	for _, f := range flags {
		var kind config.Kind
		switch f.(type) {
		case *cli.StringFlag:
			kind = config.String
		case *cli.BoolFlag:
			kind = config.Bool
		case *cli.IntFlag:
			kind = config.Int
		case *cli.DurationFlag:
			kind = config.Duration
		default:
			continue // no other kind of flag is a setting of a link
		}
		name := f.Names()[0]
		if name == "config" {
			continue
		}
		keys = append(keys, config.Key{Name: name, Kind: kind, Secret: name == "password"})
	}
	return keys
}
