package server

import (
	"fmt"
	"net/netip"

	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/secrets"
)

// directory is who may log in: the static users, then the secrets files'
// entries. It is replaced whole on Reload, never changed in place, so a
// session holds the one it authenticated against.
type directory struct {
	users   map[string]User
	entries []secrets.Entry
	server  string // our name, the server column of the secrets files
}

func newDirectory(users []User, entries []secrets.Entry, server string) *directory {
	d := &directory{users: make(map[string]User, len(users)), entries: entries, server: server}
	for _, u := range users {
		d.users[u.Name] = u
	}
	return d
}

// account is what the directory says of one user.
type account struct {
	name     string
	password string
	user     *User          // a static user, or nil
	entry    *secrets.Entry // a secrets file's entry, or nil
	radius   *radius.Accept // what RADIUS accepted the name with, or nil
}

// lookup finds name: a static user first, then the secrets files with
// pppd's precedence for (client name, our name).
func (d *directory) lookup(name string) (account, bool) {
	if u, ok := d.users[name]; ok {
		return account{name: name, password: u.Password, user: &u}, true
	}
	if e, ok := secrets.Lookup(d.entries, name, d.server); ok {
		return account{name: name, password: e.Secret, entry: &e}, true
	}
	return account{}, false
}

// fixedAddress is the account's own remote address: a static user's, or a
// secrets entry's single allowed host address (pppd hands out an entry's
// only address, as its ipcp does with a one-address list).
func (a account) fixedAddress() netip.Addr {
	if a.user != nil {
		return a.user.RemoteAddress
	}
	if a.radius != nil {
		return framedAddress(a.radius)
	}
	if a.entry != nil && len(a.entry.Addresses) == 1 && !a.entry.AnyAddress {
		r := a.entry.Addresses[0]
		if !r.Deny && r.Prefix.IsSingleIP() && r.Prefix.Addr().Is4() {
			return r.Prefix.Addr()
		}
	}
	return netip.Addr{}
}

// allows checks an address handed out against a secrets entry's address
// rules (pppd's auth_ip_addr: an entry without rules allows nothing when
// authentication is required, as it always is here).
func (a account) allows(addr netip.Addr) error {
	if a.entry == nil || a.entry.Allows(addr) {
		return nil
	}
	if len(a.entry.Addresses) == 0 && !a.entry.AnyAddress {
		return fmt.Errorf("server: the secrets entry of %q allows no address (give * or the addresses in its fourth column)", a.name)
	}
	return fmt.Errorf("server: the secrets entry of %q does not allow %s", a.name, addr)
}

// profileName is the account's profile, or def.
func (a account) profileName(def string) string {
	if a.user != nil && a.user.Profile != "" {
		return a.user.Profile
	}
	return def
}

// ifname is the pppN name the account asks for ("": the kernel's).
func (a account) ifname() string {
	if a.user != nil {
		return a.user.Ifname
	}
	return ""
}
