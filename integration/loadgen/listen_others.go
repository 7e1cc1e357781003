//go:build !linux

package loadgen

import (
	"errors"

	"github.com/mdlayher/packet"
)

// Listen needs Linux's packet sockets.
func Listen(ifname string) (*packet.Conn, error) {
	return nil, errors.New("loadgen: packet sockets need Linux")
}
