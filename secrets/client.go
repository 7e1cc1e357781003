package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
)

// DefaultPAPFile and DefaultCHAPFile are the files pppd 2.4.9 reads
// (pathnames.h: _PATH_UPAPFILE, _PATH_CHAPFILE).
const (
	DefaultPAPFile  = "/etc/ppp/pap-secrets"
	DefaultCHAPFile = "/etc/ppp/chap-secrets"
)

// pppd's limits on what it sends (pppd.h): a PAP password is copied into
// passwd[MAXSECRETLEN] (255 bytes and a NUL; PAP's Passwd-Length is one
// octet anyway), a CHAP secret is cut to MAXSECRETLEN (get_secret: "Secret
// for %s on %s is too long"); a challenge's name into rname[MAXNAMELEN+1].
const (
	maxPAPSecret  = 255
	maxCHAPSecret = 256
	maxName       = 256
)

// lookup is pppd's scan_authfile over entries: an entry matches when its
// client is client or "*" and its server is server or "*" (any server at
// all when anyServer, pppd's NULL server); a non-wildcard client
// (NONWILD_CLIENT = 2) outranks a non-wildcard server (NONWILD_SERVER = 1),
// both outrank either alone, and a later entry replaces an earlier one only
// with a strictly higher rank. A named server ranks as non-wildcard under
// anyServer too (got_flag |= NONWILD_SERVER for any non-"*" word).
func lookup(entries []Entry, client, server string, anyServer bool) (Entry, bool) {
	const nonwildServer, nonwildClient = 1, 2
	best, found := -1, Entry{}
	for _, e := range entries {
		rank := 0
		if e.Client != Wildcard {
			if e.Client != client {
				continue
			}
			rank |= nonwildClient
		}
		if e.Server != Wildcard {
			if !anyServer && e.Server != server {
				continue
			}
			rank |= nonwildServer
		}
		if rank > best {
			best, found = rank, e
		}
	}
	return found, best >= 0
}

// ClientSecret finds the entry pppd uses to authenticate us, named ourName,
// to a peer whose name we may not know: scan_authfile with client = ourName
// and server = remoteName, or, when remoteName is "", no server (NULL),
// which any entry's server matches. That is the lookup of pppd's
// get_pap_passwd (pap-secrets, for the PAP password: server = the
// remotename option, NULL when not given) and of auth_reset, which decides
// whether we agree to authenticate with PAP (get_pap_passwd) or CHAP
// (have_chap_secret(user, remotename or NULL) over chap-secrets) at all.
// The precedence is Lookup's, and with no remoteName an entry naming a
// server still outranks one with "*": "user isp pw1" wins over an earlier
// "user * pw2".
//
// ourName is pppd's user option, which defaults to the name option, which
// defaults to the host name (auth_check_options); it compares exactly.
// The address fields play no part: pppd does not check them for the
// client. pppd looks nothing up when the password option is given (it is
// used for PAP and CHAP alike), and asks its pap_passwd_hook or
// chap_passwd_hook first when a plugin set one.
func ClientSecret(entries []Entry, ourName, remoteName string) (Entry, bool) {
	return lookup(entries, ourName, remoteName, remoteName == "")
}

// Client holds the secrets pppd reads to authenticate itself to its peer:
// pap-secrets for PAP (get_pap_passwd), chap-secrets for CHAP-MD5, MS-CHAP
// and MS-CHAPv2 (get_secret, from chap_respond) and for EAP-MD5 (also
// get_secret). Indirect secrets are read when looked up, as pppd reads
// them, and only the one looked up.
type Client struct {
	PAPFile, CHAPFile string
	// PAP and CHAP are the files' entries in order (nil for a missing
	// file). As pppd ignores the address fields for the client, they are
	// not read (Addresses is empty), and empty names (pppd's `"" * ""`
	// entries, for peers that do not authenticate) are kept.
	PAP, CHAP []Entry
	log       *slog.Logger
}

// LoadClient reads pap-secrets and chap-secrets (DefaultPAPFile,
// DefaultCHAPFile) for the client. A missing file is no error: it holds no
// secrets, as for pppd. Like pppd's check_access, a file its group or
// others may access gets a warning through log (which may be nil), one
// for each file; so does an indirect secret's file when it is read. A
// file that is not a regular file, or one pppd's getword would misread
// (see Parse), is an error.
func LoadClient(papFile, chapFile string, log *slog.Logger) (*Client, error) {
	c := &Client{PAPFile: papFile, CHAPFile: chapFile, log: log}
	var err error
	if c.PAP, err = loadClientFile(papFile, log); err != nil {
		return nil, err
	}
	if c.CHAP, err = loadClientFile(chapFile, log); err != nil {
		return nil, err
	}
	return c, nil
}

func loadClientFile(path string, log *slog.Logger) ([]Entry, error) {
	data, err := readFile(path, log)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // get_pap_passwd and get_secret: no file, no secret
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return parseFor(data, path, true)
}

// PAPSecret is pppd's get_pap_passwd: the password with which user
// authenticates with PAP, from pap-secrets, looked up by ClientSecret
// (server = remoteName, any server when it is ""). false when no entry
// matches (pppd then refuses PAP in LCP; if PAP is negotiated anyway it
// logs "No secret found for PAP login" and sends an empty password). An
// indirect secret is read now (ResolveSecret); a secret longer than PAP
// can carry (255 bytes, where pppd cuts it) is an error. No error quotes a
// secret.
func (c *Client) PAPSecret(user, remoteName string) (string, bool, error) {
	e, ok := ClientSecret(c.PAP, user, remoteName)
	if !ok {
		return "", false, nil
	}
	return c.resolve(e, c.PAPFile, maxPAPSecret)
}

// CHAPSecret is pppd's get_secret as chap_respond calls it to answer a
// Challenge (and eap.c an EAP MD5-Challenge): the secret with which user
// authenticates to the server named remoteName (the remotename option)
// when it is given, else to the name in the peer's Challenge,
// challengeName, as the peer sent it (chap_respond's rule: the remotename
// option when given, or when the Challenge has no name). The name is
// looked up as pppd has it: its %v form (a byte from 0x80 up is "M-" and
// the byte less 0x80; a control character but tab is "^" and the
// character xor 0x40), ended at a NUL, cut to 256 bytes. Unlike
// ClientSecret, the server is always a name, compared exactly: an entry
// for another server does not match, and an empty one matches only "*".
//
// false when no entry matches (pppd then warns "No CHAP secret found for
// authenticating us to NAME" and answers with an empty secret). An
// indirect secret is read now; a secret longer than 256 bytes (which pppd
// cuts, with an error) is an error. No error quotes a secret.
func (c *Client) CHAPSecret(user, remoteName string, challengeName []byte) (string, bool, error) {
	server := remoteName
	if server == "" {
		server = visible(challengeName)
	}
	e, ok := Lookup(c.CHAP, user, server)
	if !ok {
		return "", false, nil
	}
	return c.resolve(e, c.CHAPFile, maxCHAPSecret)
}

func (c *Client) resolve(e Entry, file string, limit int) (string, bool, error) {
	s, err := e.ResolveSecret(file, c.log)
	if err != nil {
		return "", false, err
	}
	if len(s) > limit {
		return "", false, fmt.Errorf("secrets: %s:%d: secret longer than %d bytes (pppd would cut it)", file, e.Line, limit)
	}
	return s, true, nil
}

// visible is name as pppd's "%.*v" (utils.c vslprintf) writes it into
// chap_respond's rname[MAXNAMELEN+1]: the name ends at a NUL (the format
// takes strlen, bounded by the length); a byte from 0x80 up is written
// "M-" and the byte less 0x80; then a control character or DEL, but tab,
// is "^" and the character xor 0x40; at most 256 bytes are written.
func visible(name []byte) string {
	b := make([]byte, 0, len(name))
	for _, c := range name {
		if c == 0 {
			break
		}
		if c >= 0x80 {
			b = append(b, 'M', '-')
			c -= 0x80
		}
		if (c < 0x20 || c == 0x7f) && c != '\t' {
			b = append(b, '^', c^0x40)
		} else {
			b = append(b, c)
		}
	}
	return string(b[:min(len(b), maxName)])
}
