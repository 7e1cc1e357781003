package ppp

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMessages(t *testing.T) {
	// Each row: the data of a packet, its parse, and that it re-encodes.
	t.Run("echo", func(t *testing.T) {
		data := []byte{0x65, 0x1b, 0x31, 0x53, 'x'} // Magic-Number, then data
		e, err := ParseEcho(data)
		if err != nil || e.Magic != 0x651b3153 || string(e.Data) != "x" {
			t.Fatalf("ParseEcho = %+v, %v", e, err)
		}
		if b := e.Append(nil); !bytes.Equal(b, data) {
			t.Errorf("Append = % x", b)
		}
		if _, err := ParseEcho(data[:3]); !errors.Is(err, errTruncated) {
			t.Errorf("ParseEcho(3 octets) = %v", err)
		}
	})
	t.Run("protocol-reject", func(t *testing.T) {
		data := []byte{0x80, 0x57, 1, 1, 0, 14} // IPv6CP, start of its ConfReq
		r, err := ParseProtocolReject(data)
		if err != nil || r.Protocol != ProtoIPv6CP || !bytes.Equal(r.Info, data[2:]) {
			t.Fatalf("ParseProtocolReject = %+v, %v", r, err)
		}
		if b := r.Append(nil); !bytes.Equal(b, data) {
			t.Errorf("Append = % x", b)
		}
		if _, err := ParseProtocolReject(data[:1]); !errors.Is(err, errTruncated) {
			t.Errorf("ParseProtocolReject(1 octet) = %v", err)
		}
	})
	t.Run("identification", func(t *testing.T) {
		data := []byte{0, 0, 0, 1, 'p', 'p', 'p', 'o', 'e', 'd'}
		id, err := ParseIdentification(data)
		if err != nil || id.Magic != 1 || string(id.Message) != "pppoed" {
			t.Fatalf("ParseIdentification = %+v, %v", id, err)
		}
		if b := id.Append(nil); !bytes.Equal(b, data) {
			t.Errorf("Append = % x", b)
		}
		if _, err := ParseIdentification(data[:2]); err == nil {
			t.Error("ParseIdentification accepted 2 octets")
		}
	})
	t.Run("time-remaining", func(t *testing.T) {
		data := []byte{0, 0, 0, 1, 0, 0, 0x0e, 0x10, 'b', 'y', 'e'}
		tr, err := ParseTimeRemaining(data)
		if err != nil || tr.Magic != 1 || tr.Seconds != 3600 || string(tr.Message) != "bye" {
			t.Fatalf("ParseTimeRemaining = %+v, %v", tr, err)
		}
		if b := tr.Append(nil); !bytes.Equal(b, data) {
			t.Errorf("Append = % x", b)
		}
		if _, err := ParseTimeRemaining(data[:7]); err == nil {
			t.Error("ParseTimeRemaining accepted 7 octets")
		}
	})
}

func TestPAP(t *testing.T) {
	data := cat([]byte{5}, []byte("user1"), []byte{5}, []byte("pass1"))
	r, err := ParsePAPRequest(data)
	if err != nil || string(r.PeerID) != "user1" || string(r.Password) != "pass1" {
		t.Fatalf("ParsePAPRequest = %+v, %v", r, err)
	}
	if b, err := r.Append(nil); err != nil || !bytes.Equal(b, data) {
		t.Errorf("Append = % x, %v", b, err)
	}
	if s := r.String(); strings.Contains(s, "pass1") || !strings.Contains(s, "user1") {
		t.Errorf("String() = %q: must show the user and hide the password", s)
	}
	// pppd ignores octets after the password; so do we.
	if r2, err := ParsePAPRequest(append(data, 9, 9)); err != nil || !reflect.DeepEqual(r2, r) {
		t.Errorf("ParsePAPRequest(trailing octets) = %+v, %v", r2, err)
	}
	empty, err := ParsePAPRequest([]byte{0, 0})
	if err != nil || len(empty.PeerID) != 0 || len(empty.Password) != 0 {
		t.Errorf("ParsePAPRequest(empty fields) = %+v, %v", empty, err)
	}
	bad := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errTruncated},
		{"peer-id past the end", []byte{5, 'u', 's'}, errFormat},
		{"no password length", cat([]byte{2}, []byte("ab")), errFormat},
		{"password past the end", cat([]byte{1}, []byte("a"), []byte{4}, []byte("pw")), errFormat},
	}
	for _, tt := range bad {
		if _, err := ParsePAPRequest(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("ParsePAPRequest(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := (PAPRequest{PeerID: make([]byte, 256)}).Append(nil); !errors.Is(err, errTooLong) {
		t.Errorf("Append(256-octet peer-id) = %v", err)
	}

	resp := cat([]byte{8}, []byte("Login ok"))
	a, err := ParsePAPResponse(resp)
	if err != nil || string(a.Message) != "Login ok" {
		t.Fatalf("ParsePAPResponse = %+v, %v", a, err)
	}
	if b, err := a.Append(nil); err != nil || !bytes.Equal(b, resp) {
		t.Errorf("Append = % x, %v", b, err)
	}
	if _, err := ParsePAPResponse(nil); !errors.Is(err, errTruncated) {
		t.Errorf("ParsePAPResponse(empty) = %v", err)
	}
	if _, err := ParsePAPResponse([]byte{3, 'a'}); !errors.Is(err, errFormat) {
		t.Errorf("ParsePAPResponse(short message) = %v", err)
	}
	if _, err := (PAPResponse{Message: make([]byte, 256)}).Append(nil); !errors.Is(err, errTooLong) {
		t.Errorf("Append(256-octet message) = %v", err)
	}
}

func TestCHAP(t *testing.T) {
	data := cat([]byte{4, 1, 2, 3, 4}, []byte("lab-ac"))
	c, err := ParseCHAPChallenge(data)
	if err != nil || !bytes.Equal(c.Value, []byte{1, 2, 3, 4}) || string(c.Name) != "lab-ac" {
		t.Fatalf("ParseCHAPChallenge = %+v, %v", c, err)
	}
	if b, err := c.Append(nil); err != nil || !bytes.Equal(b, data) {
		t.Errorf("Append = % x, %v", b, err)
	}
	if c, err := ParseCHAPChallenge([]byte{0}); err != nil || c.Value != nil || c.Name != nil {
		t.Errorf("ParseCHAPChallenge(empty value and name) = %+v, %v", c, err)
	}
	if _, err := ParseCHAPChallenge(nil); !errors.Is(err, errTruncated) {
		t.Errorf("ParseCHAPChallenge(empty) = %v", err)
	}
	if _, err := ParseCHAPChallenge([]byte{5, 1, 2}); !errors.Is(err, errFormat) {
		t.Errorf("ParseCHAPChallenge(value past the end) = %v", err)
	}
	if _, err := (CHAPChallenge{Value: make([]byte, 256)}).Append(nil); !errors.Is(err, errTooLong) {
		t.Errorf("Append(256-octet value) = %v", err)
	}
}

// Each decoder takes data of exactly its minimum length, nothing
// following, and refuses one octet less; each encoder takes fields of
// exactly 255 octets where a length octet counts them.
func TestMessagesAtTheirBounds(t *testing.T) {
	parse := []struct {
		name string
		fn   func([]byte) (any, error)
		min  []byte
		want any
	}{
		{"echo: magic only", func(b []byte) (any, error) { return ParseEcho(b) }, []byte{0, 0, 0, 7}, Echo{Magic: 7}},
		{"protocol-reject: protocol only", func(b []byte) (any, error) { return ParseProtocolReject(b) }, []byte{0x80, 0x21}, ProtocolReject{Protocol: ProtoIPCP}},
		{"identification: magic only", func(b []byte) (any, error) { return ParseIdentification(b) }, []byte{0, 0, 0, 7}, Identification{Magic: 7}},
		{"time-remaining: magic and seconds only", func(b []byte) (any, error) { return ParseTimeRemaining(b) }, []byte{0, 0, 0, 7, 0, 0, 0, 9}, TimeRemaining{Magic: 7, Seconds: 9}},
		{"PAP request: empty peer-id and password", func(b []byte) (any, error) { return ParsePAPRequest(b) }, []byte{0, 0}, PAPRequest{}},
		{"PAP response: empty message", func(b []byte) (any, error) { return ParsePAPResponse(b) }, []byte{0}, PAPResponse{}},
		{"CHAP: empty value and name", func(b []byte) (any, error) { return ParseCHAPChallenge(b) }, []byte{0}, CHAPChallenge{}},
	}
	for _, tt := range parse {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.fn(tt.min); err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("% x: %+v, %v; want %+v", tt.min, got, err, tt.want)
			}
			if got, err := tt.fn(tt.min[:len(tt.min)-1]); err == nil {
				t.Errorf("% x (one octet short): %+v", tt.min[:len(tt.min)-1], got)
			}
		})
	}
	// A PAP request with no password length after an empty peer-id is
	// malformed, as one after a non-empty peer-id is.
	if _, err := ParsePAPRequest([]byte{0}); !errors.Is(err, errFormat) {
		t.Errorf("ParsePAPRequest(empty peer-id, no password length) = %v, want %v", err, errFormat)
	}
	full := bytes.Repeat([]byte{'x'}, 255)
	if b, err := (PAPRequest{PeerID: full, Password: full}).Append(nil); err != nil || len(b) != 2+2*255 {
		t.Errorf("PAPRequest.Append(255-octet fields) = %d octets, %v", len(b), err)
	}
	if _, err := (PAPRequest{PeerID: []byte("u"), Password: make([]byte, 256)}).Append(nil); !errors.Is(err, errTooLong) {
		t.Errorf("PAPRequest.Append(256-octet password) = %v", err)
	}
	if b, err := (PAPResponse{Message: full}).Append(nil); err != nil || len(b) != 1+255 {
		t.Errorf("PAPResponse.Append(255-octet message) = %d octets, %v", len(b), err)
	}
	if b, err := (CHAPChallenge{Value: full}).Append(nil); err != nil || len(b) != 1+255 {
		t.Errorf("CHAPChallenge.Append(255-octet value) = %d octets, %v", len(b), err)
	}
	if _, err := (CHAPChallenge{Value: make([]byte, 256)}).Append(nil); !errors.Is(err, errTooLong) {
		t.Errorf("CHAPChallenge.Append(256-octet value) = %v", err)
	}
}
