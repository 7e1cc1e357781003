// Package secrets reads pppd's secrets files, /etc/ppp/chap-secrets and
// /etc/ppp/pap-secrets, as pppd(8) describes them under "AUTHENTICATION" and
// as pppd's auth.c (scan_authfile, set_allowed_addrs, auth_ip_addr) and
// options.c (getword) read them: for the server that authenticates its
// peers (ParseFile, Lookup, Entry.Allows) and for the client that
// authenticates itself, as the pppd drop-in does (LoadClient,
// ClientSecret).
//
// A file is a sequence of words, split as pppd's getword splits them
// (internal/pppword): words are separated by white space; "..." or '...'
// quotes a section of a word, anywhere in it; a backslash escapes the next
// character (\a \b \f \n \r \s \t, \ooo octal, \xHH hex, anything else
// stands for itself) and a backslash before a newline joins two lines; #
// starts a comment that runs to the end of the line. An entry starts with
// the first word of a line and runs until the next word that starts a line:
//
//	client server secret [address ...]
//
// client and server are names or "*" (any name). A secret written "@/path"
// is indirect, as in pppd's scan_authfile: the secret is the first word of
// the file /path (read with getword's rules; the rest of that file is
// ignored). Only an absolute path is indirect: "@name" is the secret
// "@name", as in pppd. The addresses, checked in order with the first match
// deciding, are IPv4 addresses, a.b.c.d/n prefixes, either negated with a
// leading "!"; "*" allows any address not refused before it, and "-" (or no
// address at all) allows none.
//
// This package is stricter than pppd where pppd would silently do something
// the author of the file did not mean: a line with fewer than three words,
// an unterminated quote, a NUL byte, an over-long word or an empty quoted
// word ending the file without a newline, a host or network name, pppd's
// "a.b.c.d/n+" unit-offset form, extra options after "--", words after "*"
// or "-", and the secret "@login" (pppd's check against the system's
// password database, which would otherwise be taken as the password
// "@login") are errors naming the file and line (LoadClient, which reads
// neither the addresses nor @login, refuses only the short lines and the
// words). An indirect secret whose
// file cannot be read is an error too, where pppd skips the entry with a
// warning and may use a less specific one. Errors never quote a word of the
// file, or of an indirect secret's file: a misplaced word may be (part of)
// a secret.
package secrets

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pppoed/pppoed/internal/pppword"
)

// Wildcard, as client or server, matches any name (pppd's ISWILD: the word
// is exactly "*").
const Wildcard = "*"

// maxFileSize bounds what Parse reads, so a wrong path (a device, a huge log)
// cannot exhaust memory.
const maxFileSize = 16 << 20

// Entry is one line of a secrets file.
type Entry struct {
	Client, Server string // a name or Wildcard; never empty from Parse (LoadClient keeps pppd's empty ones)
	Secret         string // may be empty (pap-secrets with pppd's login option)
	// SecretFile is set when the secret is indirect ("@/path" in the file)
	// and has not been read: it is the path, and Secret is empty and not
	// the secret. ResolveSecret reads it; ParseFile reads every one and
	// clears SecretFile, so its entries never have it set.
	SecretFile string
	// Addresses are the address rules in the file's order: the first whose
	// Prefix contains an address decides (pppd's ip_addr_check).
	Addresses []Address
	// AnyAddress is set by a "*" in the address list: an address no rule
	// before it decided is allowed.
	AnyAddress bool
	Line       int // the line the entry starts on
}

// Address is one rule of an Entry's address list.
type Address struct {
	Prefix netip.Prefix // IPv4, masked; a single address is a /32
	Deny   bool         // written with a leading "!"
}

// String describes e without its secret, so an Entry that reaches a log by
// accident does not leak it.
func (e Entry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d: client=%q server=%q", e.Line, e.Client, e.Server)
	if e.SecretFile != "" {
		fmt.Fprintf(&b, " secret=@%s", e.SecretFile) // the path is not the secret
	} else {
		b.WriteString(" secret=<hidden>")
	}
	for _, a := range e.Addresses {
		if a.Deny {
			b.WriteString(" !" + a.Prefix.String())
		} else {
			b.WriteString(" " + a.Prefix.String())
		}
	}
	if e.AnyAddress {
		b.WriteString(" *")
	}
	return b.String()
}

// GoString is String, for %#v.
func (e Entry) GoString() string { return "secrets.Entry{" + e.String() + "}" }

// Allows reports whether the peer of e may use addr, as pppd's auth_ip_addr
// decides for an authenticated peer: never a loopback, multicast or class E
// address (bad_ip_adrs); otherwise the first rule containing addr decides,
// and an address no rule decides is allowed only after a "*". With no rules
// pppd allows nothing when it required authentication (auth_ip_addr returns
// 0 when addresses[unit] is NULL and auth_required is set).
func (e Entry) Allows(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.Is4() || badAddr(addr) {
		return false
	}
	for _, r := range e.Addresses {
		if r.Prefix.Contains(addr) {
			return !r.Deny
		}
	}
	return e.AnyAddress
}

// badAddr is pppd's bad_ip_adrs: the loopback net, multicast and class E.
func badAddr(a netip.Addr) bool {
	b := a.As4()
	return b[0] == 127 || b[0] >= 224
}

// Lookup finds the secret for authenticating client on server with pppd's
// precedence (auth.c scan_authfile): an entry matches when each of its
// client and server is the given name or "*"; a non-wildcard client
// (NONWILD_CLIENT = 2) outranks a non-wildcard server (NONWILD_SERVER = 1),
// both outrank either alone, and among equals the first entry wins (a later
// one must have a strictly higher rank to replace it). Names compare exactly.
//
// It is the server's lookup (check_passwd, get_secret with am_server) and
// the client's once it knows the peer's name (CHAPSecret); ClientSecret is
// the client's before.
func Lookup(entries []Entry, client, server string) (Entry, bool) {
	return lookup(entries, client, server, false)
}

// ParseFile reads the secrets file at path, and the file of each indirect
// secret in it (see ResolveSecret), so that every entry it returns holds
// its secret. Like pppd's check_access it only warns (through log, which
// may be nil) when a file is accessible to its group or others, once a
// file: refusing would break a pppd setup that works today. A file that is
// not a regular file is refused.
func ParseFile(path string, log *slog.Logger) ([]Entry, error) {
	data, err := readFile(path, log)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	entries, err := parseFor(data, path, false)
	if err != nil {
		return nil, err
	}
	// pppd reads an indirect secret's file each time it looks the entry
	// up; here once a load (a reload reads it again). Each file once, for
	// one warning.
	read := map[string]string{}
	for i := range entries {
		e := &entries[i]
		if e.SecretFile == "" {
			continue
		}
		secret, ok := read[e.SecretFile]
		if !ok {
			if secret, err = e.ResolveSecret(path, log); err != nil {
				return nil, err
			}
			read[e.SecretFile] = secret
		}
		e.Secret, e.SecretFile = secret, ""
	}
	return entries, nil
}

// Parse reads a secrets file from r; name is the file's name for errors.
// It returns the entries in the file's order, or the first error, of the
// form "secrets: NAME:LINE: what is wrong".
//
// Parse reads nothing else: an indirect secret ("@/path") is left in the
// entry's SecretFile for ResolveSecret (or use ParseFile).
func Parse(r io.Reader, name string) ([]Entry, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("secrets: %s: %w", name, err)
	}
	return parseFor(data, name, false)
}

// parseFor is Parse on the file's bytes; forClient reads it as the client
// does (see Client).
func parseFor(data []byte, name string, forClient bool) ([]Entry, error) {
	lx := pppword.NewScanner(data)
	var entries []Entry
	var cur []pppword.Word
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		e, err := entry(cur, name, forClient)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		cur = cur[:0]
		return nil
	}
	for {
		w, ok, err := lx.Next()
		if err != nil {
			var we *pppword.Error
			if errors.As(err, &we) {
				return nil, fmt.Errorf("secrets: %s:%d: %s", name, we.Line, we.Msg)
			}
			return nil, fmt.Errorf("secrets: %s: %w", name, err)
		}
		if !ok {
			break
		}
		// scan_authfile: a word at the start of a line starts an entry
		// (and the file's first word is taken to start one).
		if w.Newline {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		cur = append(cur, w)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return entries, nil
}

// entry builds an Entry from one line's words; forClient skips what pppd
// does not read for the client. Its errors name fields by position and
// never quote a word.
func entry(ws []pppword.Word, name string, forClient bool) (Entry, error) {
	fail := func(line int, format string, a ...any) (Entry, error) {
		return Entry{}, fmt.Errorf("secrets: %s:%d: "+format, append([]any{name, line}, a...)...)
	}
	line := ws[0].Line
	// pppd skips a line without a server or a secret silently (scan_authfile
	// "if (newline) continue"); a line the admin wrote is never meant to be
	// ignored, so it is an error here.
	switch {
	case len(ws) < 2:
		return fail(line, "missing server and secret (an entry is: client server secret [addresses])")
	case len(ws) < 3:
		return fail(line, "missing secret (an entry is: client server secret [addresses])")
	}
	e := Entry{Client: ws[0].Text, Server: ws[1].Text, Secret: ws[2].Text, Line: line}
	// scan_authfile: word[0] == '@' && word[1] == '/'.
	if path, ok := strings.CutPrefix(e.Secret, "@"); ok && strings.HasPrefix(path, "/") {
		e.Secret, e.SecretFile = "", path
	}
	if forClient {
		// get_pap_passwd and get_secret (not am_server) read neither the
		// addresses nor anything of @login; an empty name is pppd's own
		// syntax (null_login's `"" * ""`) and only matches an empty one.
		return e, nil
	}
	if e.Client == "" {
		return fail(line, "empty client name (use \"*\" for any client)")
	}
	if e.Server == "" {
		return fail(ws[1].Line, "empty server name (use \"*\" for any server)")
	}
	if e.Secret == "@login" {
		// pppd's check_passwd checks the PAP password against the system's
		// password database; taken literally it would be a password anyone
		// could guess.
		return fail(ws[2].Line, "the secret @login (check the system's password database) is not supported")
	}
	addrs := ws[3:]
	for i, w := range addrs {
		n := i + 1 // the address's position, for errors
		switch w.Text {
		case "--":
			return fail(w.Line, "extra options after \"--\" are not supported")
		case "-", Wildcard:
			if i+1 < len(addrs) {
				return fail(addrs[i+1].Line, "address %d follows %q, which ends the list (pppd ignores it)", n+1, w.Text)
			}
			e.AnyAddress = w.Text == Wildcard
			continue
		}
		a, err := parseAddress(w.Text)
		if err != nil {
			return fail(w.Line, "address %d: %v", n, err)
		}
		e.Addresses = append(e.Addresses, a)
	}
	return e, nil
}

// parseAddress reads [!]a.b.c.d[/n] as set_allowed_addrs does, without its
// host and network name lookups and its "/n+" unit offset. Its errors do not
// quote s.
func parseAddress(s string) (Address, error) {
	var a Address
	if rest, ok := strings.CutPrefix(s, "!"); ok {
		a.Deny, s = true, rest
	}
	addrText, bitsText, hasBits := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrText)
	if err != nil || !addr.Is4() {
		return a, fmt.Errorf("not an IPv4 address in dotted decimal (host and network names are not supported)")
	}
	bits := 32
	if hasBits {
		if strings.HasSuffix(bitsText, "+") {
			return a, fmt.Errorf("the /n+ interface-unit offset is not supported")
		}
		// set_allowed_addrs refuses a length <= 0 or > 32.
		n, err := strconv.Atoi(bitsText)
		if err != nil || n < 1 || n > 32 || bitsText[0] == '+' {
			return a, fmt.Errorf("prefix length is not a number from 1 to 32")
		}
		bits = n
	}
	// set_allowed_addrs keeps base = a & mask.
	a.Prefix = netip.PrefixFrom(addr, bits).Masked()
	return a, nil
}
