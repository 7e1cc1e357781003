package ppp

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/ppp/mschap"
)

// AuthMethod is an authentication protocol (with CHAP's algorithm).
type AuthMethod uint8

const (
	AuthNone     AuthMethod = iota
	AuthPAP                 // RFC 1334
	AuthCHAPMD5             // RFC 1994
	AuthMSCHAPv1            // RFC 2433
	AuthMSCHAPv2            // RFC 2759
)

var authNames = [...]string{"none", "pap", "chap", "mschap1", "mschap2"}

// DefaultAuth is the methods a client accepts when Config.Allow is nil,
// most preferred first, as pppd: MS-CHAPv2, MS-CHAPv1, CHAP-MD5, PAP. The
// slice is the caller's.
func DefaultAuth() []AuthMethod {
	return []AuthMethod{AuthMSCHAPv2, AuthMSCHAPv1, AuthCHAPMD5, AuthPAP}
}

// String is the method's name on pppoed's command line.
func (m AuthMethod) String() string {
	if int(m) < len(authNames) {
		return authNames[m]
	}
	return fmt.Sprintf("AuthMethod(%d)", uint8(m))
}

// ParseAuthMethod reads a method's name: pap, chap, mschap1 or mschap2
// (also mschap-v2 and mschapv2, as pppd and RouterOS spell them).
func ParseAuthMethod(s string) (AuthMethod, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pap":
		return AuthPAP, nil
	case "chap", "chap-md5", "md5":
		return AuthCHAPMD5, nil
	case "mschap1", "mschap", "mschap-v1", "mschapv1":
		return AuthMSCHAPv1, nil
	case "mschap2", "mschap-v2", "mschapv2":
		return AuthMSCHAPv2, nil
	}
	return AuthNone, fmt.Errorf("ppp: unknown authentication method %q (want pap, chap, mschap1 or mschap2)", s)
}

// option is the LCP Authentication-Protocol option asking for m.
func (m AuthMethod) option() AuthProtocol {
	switch m {
	case AuthPAP:
		return AuthProtocol{Protocol: ProtoPAP}
	case AuthMSCHAPv1:
		return AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMSCHAPv1}
	case AuthMSCHAPv2:
		return AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMSCHAPv2}
	}
	return AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMD5}
}

func authMethodOf(o AuthProtocol) (AuthMethod, bool) {
	if len(o.Data) > 0 {
		return AuthNone, false
	}
	switch o.Protocol {
	case ProtoPAP:
		return AuthPAP, true
	case ProtoCHAP:
		switch o.Algorithm {
		case CHAPMD5:
			return AuthCHAPMD5, true
		case CHAPMSCHAPv1:
			return AuthMSCHAPv1, true
		case CHAPMSCHAPv2:
			return AuthMSCHAPv2, true
		}
	}
	return AuthNone, false
}

func (m AuthMethod) protocol() Protocol {
	if m == AuthPAP {
		return ProtoPAP
	}
	return ProtoCHAP
}

// SecretStore gives an authenticator the users' passwords.
type SecretStore interface {
	// Secret returns user's password, or false when the user is unknown.
	Secret(user string) (password string, ok bool)
}

// Secrets is a SecretStore in memory: user name to password.
type Secrets map[string]string

// Secret implements SecretStore.
func (s Secrets) Secret(user string) (string, bool) {
	p, ok := s[user]
	return p, ok
}

// Authorization is what Config.Authorize grants a peer for its session.
type Authorization struct {
	// IPv4, when not nil, is the session's IPCP configuration in place
	// of Config.IPv4 (our Local address, the DNS handed out, the Pool or
	// fixed Remote address the peer is given): the AC learns the user's
	// profile only once the user is known, and IPCP starts only after
	// authentication (RFC 1661 §3.5), so it negotiates with these from
	// its first packet. Ignored when Config.IPv4 is nil: whether IPCP
	// runs at all is decided by NewSession. Its slices are only read.
	IPv4 *IPv4Config
}

// Messages the authenticator sends, as pppd does.
const (
	msgPAPOK     = "Login ok"
	msgPAPFail   = "Login incorrect"
	msgCHAPOK    = "Access granted"
	msgCHAPFail  = "Access denied"
	md5Challenge = 16 // octets of an MD5 challenge
)

func (s *Session) authInput(proto Protocol, b []byte) {
	p, err := Parse(proto, b)
	if err != nil {
		s.plog.Debug("ppp: dropped malformed packet", "protocol", proto.String(), "err", err)
		return
	}
	// Requests go to the authenticator, answers to the authenticatee
	// (RFC 1334 §2.2, RFC 1994 §4): a protocol that was not negotiated in
	// that direction finds no taker and is dropped.
	toServer := (proto == ProtoPAP && p.Code == CodePAPAuthReq) || (proto == ProtoCHAP && p.Code == CodeCHAPResponse)
	if toServer {
		if s.authServer != nil && s.authServer.method.protocol() == proto {
			s.authServer.input(p)
			return
		}
	} else if s.authClient != nil && s.authClient.method.protocol() == proto {
		s.authClient.input(p)
		return
	}
	s.plog.Debug("ppp: authentication packet not negotiated: dropped", "packet", p.String())
}

// authPeer authenticates us to the peer.
type authPeer struct {
	s             *Session
	method        AuthMethod
	retry         *sessionTimer
	deadline      *sessionTimer
	id            uint8
	tries         int
	done          bool
	respID        uint8
	answered      bool
	response      []byte // our last CHAP Response, resent until answered
	lastChallenge []byte
	nudged        bool
	peerName      string
	pass          string // the password our last CHAP Response used
	// MS-CHAPv2, to check the authenticator's response.
	authChallenge, peerChallenge [16]byte
	ntResponse                   [24]byte
}

func newAuthPeer(s *Session, m AuthMethod) *authPeer {
	a := &authPeer{s: s, method: m}
	a.retry = s.newTimer(a.resend)
	a.deadline = s.newTimer(func() {
		a.fail(fmt.Sprintf("no %s answer within %s", a.method, s.cfg.AuthTimeout))
	})
	return a
}

func (a *authPeer) start() {
	a.deadline.start(a.s.cfg.AuthTimeout)
	if a.method == AuthPAP {
		var id [1]byte
		a.s.random(id[:])
		a.id = id[0]
		a.sendPAP()
	}
}

func (a *authPeer) stop() {
	a.retry.stop()
	a.deadline.stop()
}

// resend repeats our last request on the retry timer. PAP's peer
// retransmits by design (RFC 1334 §2.2.1); for CHAP only the authenticator
// does (it repeats its Challenge), so a lost Success would leave us waiting
// for ever: we repeat our Response instead, which authenticators answer by
// repeating their result (RFC 1994 §4.1; pppd does).
func (a *authPeer) resend() {
	if a.method == AuthPAP {
		a.sendPAP()
		return
	}
	if a.done || !a.answered {
		return
	}
	if a.tries >= a.s.cfg.Timers.MaxConfigure {
		a.fail(fmt.Sprintf("no answer to %d CHAP responses", a.tries))
		return
	}
	a.tries++
	a.s.send(ProtoCHAP, CodeCHAPResponse, a.respID, a.response)
	a.retry.start(a.s.cfg.Timers.Restart)
}

// nudge is called when the peer's NCP packets arrive while we still wait
// for its verdict: it has moved on, so its Success or Ack was lost.
// Repeating our request now fetches it without waiting a restart time.
func (a *authPeer) nudge() {
	if a.done || a.nudged || (a.method != AuthPAP && !a.answered) {
		return
	}
	a.nudged = true
	a.resend()
}

// sendPAP sends (or resends) our Authenticate-Request (RFC 1334 §2.2.1).
func (a *authPeer) sendPAP() {
	if a.done {
		return
	}
	if a.tries >= a.s.cfg.Timers.MaxConfigure {
		a.fail(fmt.Sprintf("no answer to %d PAP requests", a.tries))
		return
	}
	a.tries++
	a.id++
	data, err := PAPRequest{PeerID: []byte(a.s.cfg.User), Password: []byte(a.s.cfg.Password)}.Append(nil)
	if err != nil {
		a.fail("user name or password over 255 octets")
		return
	}
	a.s.send(ProtoPAP, CodePAPAuthReq, a.id, data)
	a.retry.start(a.s.cfg.Timers.Restart)
}

func (a *authPeer) input(p Packet) {
	if p.Protocol == ProtoPAP {
		// Only an Ack or Nak of our latest request counts (RFC 1334
		// §2.2.2).
		if p.Code != CodePAPAuthAck && p.Code != CodePAPAuthNak || a.done || p.ID != a.id {
			return
		}
		r, _ := ParsePAPResponse(p.Data)
		if p.Code == CodePAPAuthAck {
			a.succeed(r.Message)
		} else {
			a.fail(wireText(r.Message))
		}
		return
	}
	switch p.Code {
	case CodeCHAPChallenge:
		a.challenge(p)
	case CodeCHAPSuccess:
		if !a.answered || p.ID != a.respID || a.done {
			return
		}
		if a.method == AuthMSCHAPv2 {
			// RFC 2759 §5: the peer MUST check the authenticator knows the
			// password too, and hang up if not.
			ok, err := mschap.ParseSuccess(p.Data)
			if err != nil || !mschap.CheckAuthenticatorResponse(ok.AuthResponse, a.pass, a.ntResponse, a.peerChallenge, a.authChallenge, a.s.cfg.User) {
				a.fail("the authenticator's response is wrong: it does not know our password (" + wireText(p.Data) + ")")
				return
			}
			a.succeed([]byte(ok.Message))
			return
		}
		a.succeed(p.Data)
	case CodeCHAPFailure:
		if !a.answered || p.ID != a.respID || a.done {
			return
		}
		detail := wireText(p.Data)
		if a.method == AuthMSCHAPv1 || a.method == AuthMSCHAPv2 {
			if f, err := mschap.ParseFailure(p.Data); err == nil {
				detail += " (" + f.Reason() + ")"
			}
		}
		a.fail(detail)
	}
}

// challenge answers a CHAP Challenge (RFC 1994 §4.1; RFC 2433, RFC 2759).
func (a *authPeer) challenge(p Packet) {
	c, err := ParseCHAPChallenge(p.Data)
	if err != nil {
		return
	}
	if a.answered && p.ID == a.respID && bytes.Equal(c.Value, a.lastChallenge) {
		// The same challenge again (our Response was lost, or the link
		// duplicated it): the same answer. A new MS-CHAPv2 response would
		// carry a new peer challenge, and the authenticator's response to
		// the first would then look wrong to us.
		if !a.done {
			a.s.send(ProtoCHAP, CodeCHAPResponse, p.ID, a.response)
		}
		return
	}
	user, pass := a.s.cfg.User, a.s.cfg.Password
	if a.s.cfg.CHAPPassword != nil {
		var err error
		if pass, err = a.s.cfg.CHAPPassword(c.Name); err != nil {
			a.fail(err.Error())
			return
		}
	}
	a.lastChallenge = append([]byte(nil), c.Value...)
	var value []byte
	switch a.method {
	case AuthCHAPMD5:
		h := md5.New()
		h.Write([]byte{p.ID})
		h.Write([]byte(pass))
		h.Write(c.Value)
		value = h.Sum(nil)
	case AuthMSCHAPv1:
		if len(c.Value) != mschap.V1ChallengeLen {
			a.s.plog.Debug("ppp: MS-CHAPv1 challenge of the wrong size", "octets", len(c.Value))
			return
		}
		value = mschap.V1Response{NTResponse: mschap.NTChallengeResponse([8]byte(c.Value), pass), Flags: 1}.Marshal()
	case AuthMSCHAPv2:
		if len(c.Value) != mschap.V2ChallengeLen {
			a.s.plog.Debug("ppp: MS-CHAPv2 challenge of the wrong size", "octets", len(c.Value))
			return
		}
		a.authChallenge = [16]byte(c.Value)
		a.s.random(a.peerChallenge[:])
		a.ntResponse = mschap.GenerateNTResponse(a.authChallenge, a.peerChallenge, user, pass)
		value = mschap.V2Response{PeerChallenge: a.peerChallenge, NTResponse: a.ntResponse}.Marshal()
	default:
		return
	}
	data, err := CHAPChallenge{Value: value, Name: []byte(user)}.Append(nil)
	if err != nil {
		return
	}
	a.peerName, a.pass = string(c.Name), pass
	a.respID, a.answered, a.response = p.ID, true, data
	a.tries = 1
	a.nudged = false
	a.s.send(ProtoCHAP, CodeCHAPResponse, p.ID, data)
	a.retry.start(a.s.cfg.Timers.Restart)
}

func (a *authPeer) succeed(msg []byte) {
	a.done = true
	a.stop()
	a.s.log.Info("ppp: authenticated to the peer", "method", a.method.String(), "message", wireText(msg))
	a.s.clientOK = true
	if a.s.cfg.Role == RoleClient {
		a.s.peerName = a.peerName
	}
	a.s.authDone()
}

func (a *authPeer) fail(detail string) {
	if a.done {
		return
	}
	a.done = true
	a.stop()
	a.s.authFailed(ReasonAuthFailed, detail)
}

// authServer authenticates the peer.
type authServer struct {
	s         *Session
	method    AuthMethod
	retry     *sessionTimer
	deadline  *sessionTimer
	id        uint8
	challenge []byte
	tries     int
	done, ok  bool
	success   []byte // the Success or Ack message, resent on duplicates
}

func newAuthServer(s *Session, m AuthMethod) *authServer {
	a := &authServer{s: s, method: m}
	a.retry = s.newTimer(a.sendChallenge)
	a.deadline = s.newTimer(func() {
		a.fail(fmt.Sprintf("the peer did not authenticate within %s", s.cfg.AuthTimeout))
	})
	return a
}

func (a *authServer) start() {
	a.deadline.start(a.s.peerAuthDeadline())
	if a.method == AuthPAP {
		return // the peer speaks first
	}
	n := md5Challenge
	switch a.method {
	case AuthMSCHAPv1:
		n = mschap.V1ChallengeLen
	case AuthMSCHAPv2:
		n = mschap.V2ChallengeLen
	}
	a.challenge = make([]byte, n)
	a.s.random(a.challenge)
	var id [1]byte
	a.s.random(id[:])
	a.id = id[0]
	a.sendChallenge()
}

// peerAuthDeadline is how long the peer has left to authenticate. Until
// it first has, AuthTimeout runs from the first authentication phase:
// an LCP renegotiation (which starts authentication over, RFC 1661
// §3.5) does not give a peer with no credentials a new one, or it could
// hold the link (an AC's session slot) for ever by renegotiating every
// AuthTimeout. A peer that did authenticate gets the whole AuthTimeout
// at each renegotiation.
func (s *Session) peerAuthDeadline() time.Duration {
	if s.authorized {
		return s.cfg.AuthTimeout
	}
	if s.peerAuthBy.IsZero() {
		s.peerAuthBy = time.Now().Add(s.cfg.AuthTimeout)
	}
	return max(time.Until(s.peerAuthBy), 0)
}

func (a *authServer) stop() {
	a.retry.stop()
	a.deadline.stop()
}

// sendChallenge sends (or resends, unchanged) our CHAP Challenge.
func (a *authServer) sendChallenge() {
	if a.done {
		return
	}
	if a.tries >= a.s.cfg.Timers.MaxConfigure {
		a.fail(fmt.Sprintf("no response to %d challenges", a.tries))
		return
	}
	a.tries++
	data, _ := CHAPChallenge{Value: a.challenge, Name: []byte(a.s.cfg.Name)}.Append(nil)
	a.s.send(ProtoCHAP, CodeCHAPChallenge, a.id, data)
	a.retry.start(a.s.cfg.Timers.Restart)
}

func (a *authServer) secret(user string) (string, bool) {
	if a.s.cfg.Secrets == nil {
		return "", false
	}
	return a.s.cfg.Secrets.Secret(user)
}

func (a *authServer) input(p Packet) {
	if a.method == AuthPAP {
		a.pap(p)
		return
	}
	if p.ID != a.id {
		return // an answer to another challenge
	}
	if a.done {
		if a.ok {
			// Our Success was lost: the peer answers again (RFC 1994 §4.1).
			a.s.send(ProtoCHAP, CodeCHAPSuccess, p.ID, a.success)
		}
		return
	}
	r, err := ParseCHAPChallenge(p.Data)
	if err != nil {
		return
	}
	user := string(r.Name)
	pass, known := a.secret(user)
	good := false
	var okMsg, failMsg []byte
	switch a.method {
	case AuthCHAPMD5:
		h := md5.New()
		h.Write([]byte{p.ID})
		h.Write([]byte(pass))
		h.Write(a.challenge)
		good = known && subtle.ConstantTimeCompare(r.Value, h.Sum(nil)) == 1
		okMsg, failMsg = []byte(msgCHAPOK), []byte(msgCHAPFail)
	case AuthMSCHAPv1:
		resp, err := mschap.ParseV1Response(r.Value)
		want := mschap.NTChallengeResponse([8]byte(a.challenge), pass)
		good = known && err == nil && resp.Flags&1 == 1 && subtle.ConstantTimeCompare(resp.NTResponse[:], want[:]) == 1
		okMsg = []byte(msgCHAPOK)
		failMsg = []byte(mschap.Failure{Code: mschap.ErrAuthenticationFailed}.String())
	case AuthMSCHAPv2:
		resp, err := mschap.ParseV2Response(r.Value)
		if err == nil {
			// Worked out for an unknown user too (with an empty
			// password), as the other methods do: an unknown user then
			// takes as long to refuse as a wrong password.
			want := mschap.GenerateNTResponse([16]byte(a.challenge), resp.PeerChallenge, user, pass)
			good = known && subtle.ConstantTimeCompare(resp.NTResponse[:], want[:]) == 1
			auth := mschap.GenerateAuthenticatorResponse(pass, resp.NTResponse, resp.PeerChallenge, [16]byte(a.challenge), user)
			okMsg = []byte(mschap.Success{AuthResponse: auth, Message: msgCHAPOK}.String())
		}
		next := make([]byte, mschap.V2ChallengeLen)
		a.s.random(next)
		failMsg = []byte(mschap.Failure{Code: mschap.ErrAuthenticationFailed, Challenge: next, Version: 3, Message: msgCHAPFail}.String())
	}
	detail := fmt.Sprintf(`%s authentication of "%s" failed`, a.method, wireText(r.Name))
	if good {
		err := a.authorize(user)
		if err == nil {
			a.success = okMsg
			a.s.send(ProtoCHAP, CodeCHAPSuccess, p.ID, okMsg)
			a.succeed(user)
			return
		}
		detail = refused(a.method, r.Name, err)
	}
	a.s.send(ProtoCHAP, CodeCHAPFailure, p.ID, failMsg)
	a.fail(detail)
}

// pap checks an Authenticate-Request (RFC 1334 §2.2.1).
func (a *authServer) pap(p Packet) {
	req, err := ParsePAPRequest(p.Data)
	if err != nil {
		return
	}
	if a.done {
		if a.ok {
			// Our Ack was lost and the peer asks again, with a new
			// Identifier: acknowledge it too, as pppd does.
			a.s.send(ProtoPAP, CodePAPAuthAck, p.ID, a.success)
		}
		return
	}
	a.id = p.ID
	user := string(req.PeerID)
	pass, known := a.secret(user)
	detail := fmt.Sprintf(`PAP authentication of "%s" failed`, wireText(req.PeerID))
	if known && subtle.ConstantTimeCompare(req.Password, []byte(pass)) == 1 {
		err := a.authorize(user)
		if err == nil {
			a.success, _ = PAPResponse{Message: []byte(msgPAPOK)}.Append(nil)
			a.s.send(ProtoPAP, CodePAPAuthAck, p.ID, a.success)
			a.succeed(user)
			return
		}
		detail = refused(AuthPAP, req.PeerID, err)
	}
	nak, _ := PAPResponse{Message: []byte(msgPAPFail)}.Append(nil)
	a.s.send(ProtoPAP, CodePAPAuthNak, p.ID, nak)
	a.fail(detail)
}

// authorize decides, for a peer whose credentials are good, whether it
// may have the session (Config.Authorize), and takes what it is granted;
// a non-nil error refuses it. Only the first authentication of a
// session is put to Authorize: after an LCP renegotiation the peer must
// authenticate again (RFC 1661 §3.5 puts authentication after each
// Establish phase), and under the name it had, for the session's
// identity (its only-one slot, its address, its log lines) is that
// name's.
func (a *authServer) authorize(user string) error {
	s := a.s
	if s.authorized {
		if user != s.authorizedPeer {
			return fmt.Errorf(`the peer authenticated as "%s" earlier in the session`, peerlog.Text(s.authorizedPeer))
		}
		return nil
	}
	if s.cfg.Authorize != nil {
		az, err := s.cfg.Authorize(user)
		if err != nil {
			return err
		}
		if az != nil && az.IPv4 != nil && s.ipcpL != nil {
			s.ipcpL.cfg = *az.IPv4
		}
	}
	s.authorized, s.authorizedPeer = true, user
	return nil
}

// refused is the Down detail of a peer whose credentials were good but
// whose session was refused: the refusal's text is the AC's own, told
// only to its log (escaped, should it quote the peer).
func refused(m AuthMethod, name []byte, err error) string {
	return fmt.Sprintf(`%s authentication of "%s" refused: %s`, m, wireText(name), peerlog.Printable(err.Error()))
}

func (a *authServer) succeed(user string) {
	a.done, a.ok = true, true
	a.stop()
	a.s.log.Info("ppp: peer authenticated", "method", a.method.String(), "user", peerlog.Text(user))
	a.s.serverOK = true
	a.s.peerName = user
	a.s.authDone()
}

func (a *authServer) fail(detail string) {
	if a.done {
		return
	}
	a.done = true
	a.stop()
	a.s.authFailed(ReasonPeerAuthFailed, detail)
}

// wireText renders text from the peer (a message, a name) for a log line
// or an error: escaped as peerlog.Text does, so that no control character
// or escape sequence of the peer's reaches a terminal or forges a log
// line. Packet dumps print it as pppd does instead (writeString); events
// carry it raw, as data.
func wireText(b []byte) string { return peerlog.Text(string(b)) }
