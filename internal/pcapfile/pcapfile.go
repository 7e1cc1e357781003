// Package pcapfile reads classic libpcap capture files (the format tcpdump
// -w writes), so tests can decode frames recorded from real sessions.
package pcapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LinkTypeEthernet is LINKTYPE_ETHERNET.
const LinkTypeEthernet = 1

// Packet is one captured frame.
type Packet struct {
	Time time.Time
	Data []byte // the captured octets (possibly fewer than on the wire)
	Len  int    // the frame's length on the wire
}

// File is a parsed capture.
type File struct {
	LinkType uint32
	Packets  []Packet
}

// Parse reads a whole capture.
func Parse(b []byte) (*File, error) {
	if len(b) < 24 {
		return nil, errors.New("pcapfile: shorter than the 24-octet file header")
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("pcapfile: unknown magic %#08x", binary.LittleEndian.Uint32(b))
	}
	f := &File{LinkType: bo.Uint32(b[20:])}
	for off := 24; off < len(b); {
		if len(b)-off < 16 {
			return nil, fmt.Errorf("pcapfile: record header truncated at offset %d", off)
		}
		sec, frac := bo.Uint32(b[off:]), bo.Uint32(b[off+4:])
		incl, orig := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		off += 16
		if incl < 0 || incl > len(b)-off {
			return nil, fmt.Errorf("pcapfile: record at offset %d runs past the end", off-16)
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		f.Packets = append(f.Packets, Packet{Time: time.Unix(int64(sec), ns), Data: b[off : off+incl], Len: orig})
		off += incl
	}
	return f, nil
}

// Read parses a capture from r.
func Read(r io.Reader) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("pcapfile: %w", err)
	}
	return Parse(b)
}

// Reference is a capture of a session between the reference peers and
// the debug log pppd wrote for it (make capture writes NAME.pcap and
// NAME.pppd.log side by side).
type Reference struct {
	Name string // the capture's file name
	File *File
	Log  string
}

// References reads every NAME.pcap in dir with its NAME.pppd.log. No
// capture at all is an error: a decoder test over none would prove nothing.
func References(dir string) ([]Reference, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if err != nil {
		return nil, fmt.Errorf("pcapfile: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("pcapfile: no captures in %s (make capture)", dir)
	}
	var refs []Reference
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("pcapfile: %w", err)
		}
		f, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("pcapfile: %s: %w", p, err)
		}
		log, err := os.ReadFile(strings.TrimSuffix(p, ".pcap") + ".pppd.log")
		if err != nil {
			return nil, fmt.Errorf("pcapfile: %w", err)
		}
		refs = append(refs, Reference{Name: filepath.Base(p), File: f, Log: string(log)})
	}
	return refs, nil
}
