package lab

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// These need no kernel: what the measuring helpers parse.

// timestampCmsg is the control message recvmsg returns with
// SO_TIMESTAMPNS: a struct timespec.
func timestampCmsg(sec, nsec int64) []byte {
	b := make([]byte, unix.CmsgSpace(16))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS
	h.SetLen(unix.CmsgLen(16))
	binary.NativeEndian.PutUint64(b[unix.CmsgLen(0):], uint64(sec))
	binary.NativeEndian.PutUint64(b[unix.CmsgLen(0)+8:], uint64(nsec))
	return b
}

// padi is a PADI as pppoed sends it, with its Ethernet header.
var padi = []byte{
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
	0x88, 0x63, // EtherType: PPPoE Discovery
	0x11,       // version 1, type 1
	0x09,       // code: PADI
	0x00, 0x00, // session id 0
	0x00, 0x04, // length
	0x01, 0x01, 0x00, 0x00, // Service-Name, empty
}

func TestParseFrame(t *testing.T) {
	at := time.Unix(1796022558, 637267000)
	tests := []struct {
		name   string
		frame  []byte
		oob    []byte
		ok     bool
		code   uint8
		wantAt time.Time // zero: about now
	}{
		{"PADI with its timestamp", padi, timestampCmsg(at.Unix(), int64(at.Nanosecond())), true, CodePADI, at},
		{"no timestamp: now", padi, nil, true, CodePADI, time.Time{}},
		{"PADS", append(append([]byte(nil), padi[:15]...), append([]byte{CodePADS}, padi[16:]...)...), nil, true, CodePADS, time.Time{}},
		{"Ethernet header only", padi[:14], nil, false, 0, time.Time{}},
		{"one octet short of the PPPoE header", padi[:19], nil, false, 0, time.Time{}},
		{"empty", nil, nil, false, 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			f, ok := parseFrame(tt.frame, tt.oob)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if f.Code != tt.code {
				t.Errorf("code = %#x, want %#x", f.Code, tt.code)
			}
			if f.Src.String() != "02:00:00:00:00:01" {
				t.Errorf("source = %s", f.Src)
			}
			switch {
			case !tt.wantAt.IsZero() && !f.At.Equal(tt.wantAt):
				t.Errorf("at = %v, want %v", f.At, tt.wantAt)
			case tt.wantAt.IsZero() && (f.At.Before(before) || f.At.After(time.Now())):
				t.Errorf("at = %v, want the time of parsing", f.At)
			}
		})
	}
}

// The tap's filter passes Discovery frames only: a session's data,
// iperf3's included, must not reach it.
func TestDiscoveryFilter(t *testing.T) {
	raw := make([]bpf.RawInstruction, discoveryFilter.Len)
	for i, ins := range unsafe.Slice(discoveryFilter.Filter, discoveryFilter.Len) {
		raw[i] = bpf.RawInstruction{Op: ins.Code, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("filter does not disassemble: %v", prog)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	withType := func(hi, lo byte) []byte {
		f := append([]byte(nil), padi...)
		f[12], f[13] = hi, lo
		return f
	}
	tests := []struct {
		name  string
		frame []byte
		pass  bool
	}{
		{"PPPoE Discovery", padi, true},
		{"PPPoE Session", withType(0x88, 0x64), false},
		{"IPv4", withType(0x08, 0x00), false},
		{"ARP", withType(0x08, 0x06), false},
		{"Discovery's type byte-swapped", withType(0x63, 0x88), false},
	}
	for _, tt := range tests {
		n, err := vm.Run(tt.frame)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := n > 0; got != tt.pass {
			t.Errorf("%s: passed %d octets, want pass=%v", tt.name, n, tt.pass)
		}
		if tt.pass && n < len(tt.frame) {
			t.Errorf("%s: cut to %d octets", tt.name, n)
		}
	}
}

func TestKbFields(t *testing.T) {
	status := "Name:\tpppoed\nVmPeak:\t 1245000 kB\nVmRSS:\t    8012 kB\nRssAnon:\t    4524 kB\nRssFile:\t    3488 kB\nThreads:\t7\nSigQ:\t0/3841\nOdd:\t12 pages\n"
	rollup := "00400000-7ffd0fe8b000 ---p 00000000 00:00 0                  [rollup]\nRss:                8012 kB\nPss:                7621 kB\nPss_Anon:           4524 kB\nAnonymous:          4530 kB\nAnonHugePages:         0 kB\n"
	kb := kbFields(status)
	if kb["VmRSS"] != 8012 || kb["RssAnon"] != 4524 || kb["RssFile"] != 3488 {
		t.Errorf("status: %v", kb)
	}
	if _, ok := kb["Threads"]; ok {
		t.Errorf("Threads (no kB) read as a size: %v", kb)
	}
	if _, ok := kb["SigQ"]; ok {
		t.Errorf("SigQ read as a size: %v", kb)
	}
	if _, ok := kb["Odd"]; ok {
		t.Errorf("a count of pages read as kB: %v", kb)
	}
	kb = kbFields(rollup)
	if kb["Pss"] != 7621 || kb["Pss_Anon"] != 4524 || kb["Rss"] != 8012 || kb["Anonymous"] != 4530 || kb["AnonHugePages"] != 0 {
		t.Errorf("smaps_rollup: %v", kb)
	}
}

func TestParseStatCPU(t *testing.T) {
	// proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags
	// minflt cminflt majflt cmajflt utime stime ...
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr string
	}{
		{"plain", "4242 (pppoed) S 1 4242 4242 0 -1 4194560 612 0 0 0 7 5 0 0 20 0 7 0", 120 * time.Millisecond, ""},
		{"a name with spaces and parentheses", "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 612 0 0 0 300 1 0 0 20 0 7 0", 3010 * time.Millisecond, ""},
		{"no name", "4242 pppoed S 1", 0, "without a command name"},
		{"cut before stime", "4242 (pppoed) S 1 4242 4242 0 -1 4194560 612 0 0 0 7", 0, "fields after the name"},
		{"not a number", "4242 (pppoed) S 1 4242 4242 0 -1 4194560 612 0 0 0 x 5 0", 0, "invalid syntax"},
	}
	for _, tt := range tests {
		got, err := parseStatCPU(tt.stat)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
