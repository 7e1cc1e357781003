package pppdcompat

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/secrets"
)

// credentials are what we authenticate with, found as pppd finds them.
type credentials struct {
	// password serves PAP (and CHAP when chap is nil).
	password string
	// chap, when set, picks CHAP's password by the challenger's name.
	chap func(name []byte) (string, error)
	// allow are the methods we agree to: pppd's auth_reset agrees to PAP
	// only with a PAP secret, to CHAP and MS-CHAP only with a CHAP one.
	allow []ppp.AuthMethod
}

// credentials reads them: the password option serves every method (pppd
// looks nothing up then); otherwise pap-secrets gives PAP's and
// chap-secrets CHAP's, by the user name and the remotename option
// (secrets.Client). A secrets file others may read gets a warning.
func (o *Options) credentials(papFile, chapFile string, log *slog.Logger) (credentials, error) {
	if o.Password != "" {
		return credentials{password: o.Password}, nil
	}
	c, err := secrets.LoadClient(papFile, chapFile, log)
	if err != nil {
		return credentials{}, err
	}
	var cr credentials
	pw, havePAP, err := c.PAPSecret(o.User, o.RemoteName)
	if err != nil {
		return credentials{}, err
	}
	_, haveCHAP := secrets.ClientSecret(c.CHAP, o.User, o.RemoteName)
	if havePAP {
		cr.password = pw
		cr.allow = append(cr.allow, ppp.AuthPAP)
	}
	if haveCHAP {
		user, remote := o.User, o.RemoteName
		cr.chap = func(name []byte) (string, error) {
			pw, ok, err := c.CHAPSecret(user, remote, name)
			if err != nil {
				return "", err
			}
			if !ok {
				// pppd answers with an empty secret, and fails.
				return "", fmt.Errorf("no CHAP secret found for authenticating %q to the peer", user)
			}
			return pw, nil
		}
		// The CHAP family, in the default order, before PAP.
		chap := slices.DeleteFunc(ppp.DefaultAuth(), func(m ppp.AuthMethod) bool { return m == ppp.AuthPAP })
		cr.allow = append(chap, cr.allow...)
	}
	if !havePAP && !haveCHAP {
		log.Warn(fmt.Sprintf("pppd: no secret for %q in %s or %s, and no password option: authentication will fail", o.User, papFile, chapFile))
	}
	return cr, nil
}
