package main

import (
	"context"
	"net"
	"strconv"

	"github.com/pppoed/pppoed/client"
	"github.com/urfave/cli/v3"
)

func killCommand() *cli.Command {
	return &cli.Command{
		Name:         "kill",
		Usage:        "end a PPPoE session at the access concentrator by sending it a PADT (rp-pppoe's pppoe -k)",
		OnUsageError: onUsageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "the Ethernet interface facing the access concentrator", Required: true},
			&cli.StringFlag{Name: "session-id", Usage: "the session's id (decimal, or hex with 0x; /proc/net/pppoe and `pppoed status` show it)", Required: true},
			&cli.StringFlag{Name: "ac-mac", Usage: "the access concentrator's MAC address", Required: true},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("kill takes no arguments: %q", cmd.Args().Slice())
			}
			s := cmd.String("session-id")
			id, err := strconv.ParseUint(s, 0, 16)
			if err != nil {
				return usageError("--session-id %q: not a number from 1 to 0xfffe", s)
			}
			m := cmd.String("ac-mac")
			mac, err := net.ParseMAC(m)
			if err != nil || len(mac) != 6 {
				return usageError("--ac-mac %q: not an Ethernet MAC address", m)
			}
			return client.Kill(client.KillConfig{Interface: cmd.String("interface"), SessionID: uint16(id), AC: mac})
		},
	}
}
