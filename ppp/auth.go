package ppp

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
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

// Credentials are what a peer authenticated with, for Config.Verify.
// Slices are the Verify call's own (copies).
type Credentials struct {
	Method AuthMethod
	User   string // the name the peer gave, raw from the wire
	// PAP: the password given.
	Password []byte
	// CHAP-MD5 and MS-CHAP: the Identifier of our Challenge, its Value
	// (ours) and the Value field of the peer's Response.
	ID        uint8
	Challenge []byte
	Response  []byte
}

// Verdict is Config.Verify's answer.
type Verdict struct {
	// Accept: the verifier checked the credentials and they are good.
	Accept bool
	// Local (with Accept false): check the credentials here against
	// Password, as if Secrets held it: the verifier's fallback to a local
	// user (e.g. no RADIUS server answered).
	Local    bool
	Password string
	// Message, when not nil, is the text sent in place of ppp's own:
	// PAP Ack/Nak message; CHAP-MD5 Success/Failure message; for
	// MS-CHAPv2 on Accept the whole Success text ("S=<40 hex> M=...",
	// the authenticator response computed by the verifier: required,
	// an MS-CHAPv2 Accept without a valid-looking "S=" fails the
	// authentication), and on a refusal the whole Failure text
	// ("E=691 R=0 C=<32 hex> V=3 M=...") or nil for ppp's own.
	Message []byte
	// Detail says why, for the log and the Down detail only (never sent).
	Detail string
}

// authServer authenticates the peer.
type authServer struct {
	s         *Session
	method    AuthMethod
	retry     *sessionTimer
	deadline  *sessionTimer
	id        uint8 // of our Challenge; PAP: of the latest request
	challenge []byte
	tries     int
	done, ok  bool
	success   []byte // the Success or Ack data, resent on duplicates
	// verifying is the Config.Verify call under way, nil when none: its
	// verdict counts only while it is still this one (stop clears it).
	verifying *verifyCall
}

// verifyCall is one Config.Verify call: its context's cancel, and the
// credentials it was asked about.
type verifyCall struct {
	cancel context.CancelFunc
	at     attempt
}

// attempt is what the peer authenticated with: its name and its PAP
// password or CHAP Response value (copies of the packet's).
type attempt struct {
	name, value []byte
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

// stop ends the authentication: its timers, and the verifier's call,
// whose context is cancelled and whose verdict will be dropped.
func (a *authServer) stop() {
	a.retry.stop()
	a.deadline.stop()
	if a.verifying != nil {
		a.verifying.cancel()
		a.verifying = nil
	}
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
	if a.verifying != nil {
		// A repeat while the verifier works (it carries our
		// Challenge's Identifier, which the verdict's answer will too).
		return
	}
	r, err := ParseCHAPChallenge(p.Data)
	if err != nil {
		return
	}
	a.check(attempt{name: r.Name, value: r.Value})
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
	// The answer carries the latest request's Identifier, the only one
	// the peer still takes (RFC 1334 §2.2.2), also when a verifier's
	// verdict answers a request repeated while it worked.
	a.id = p.ID
	if a.verifying != nil {
		return
	}
	a.check(attempt{name: req.PeerID, value: req.Password})
}

// check decides on the peer's credentials: here for a name Secrets holds
// (or for any name without Config.Verify), else by the verifier.
func (a *authServer) check(at attempt) {
	pass, known := a.secret(string(at.name))
	if !known && a.s.cfg.Verify != nil && a.wellFormed(at.value) {
		a.verify(at)
		return
	}
	a.checkLocal(at, pass, known, "")
}

// wellFormed reports whether an MS-CHAP Response value has the size and
// form of one (RFC 2433 §2.1.2: the "use Windows NT compatible" flag set;
// RFC 2759 §4): one that has not cannot be right, and a verifier is not
// asked about it.
func (a *authServer) wellFormed(value []byte) bool {
	switch a.method {
	case AuthMSCHAPv1:
		r, err := mschap.ParseV1Response(value)
		return err == nil && r.Flags&1 == 1
	case AuthMSCHAPv2:
		_, err := mschap.ParseV2Response(value)
		return err == nil
	}
	return true
}

// checkLocal checks the credentials against pass, the user's password
// (known false: the user is unknown, and the credentials fail), and
// answers. why, when not empty, is the verifier's detail for the Down
// detail.
func (a *authServer) checkLocal(at attempt, pass string, known bool, why string) {
	user := string(at.name)
	good := false
	var okMsg, failMsg []byte
	switch a.method {
	case AuthPAP:
		good = known && subtle.ConstantTimeCompare(at.value, []byte(pass)) == 1
		okMsg, failMsg = []byte(msgPAPOK), []byte(msgPAPFail)
	case AuthCHAPMD5:
		h := md5.New()
		h.Write([]byte{a.id})
		h.Write([]byte(pass))
		h.Write(a.challenge)
		good = known && subtle.ConstantTimeCompare(at.value, h.Sum(nil)) == 1
		okMsg, failMsg = []byte(msgCHAPOK), []byte(msgCHAPFail)
	case AuthMSCHAPv1:
		resp, err := mschap.ParseV1Response(at.value)
		want := mschap.NTChallengeResponse([8]byte(a.challenge), pass)
		good = known && err == nil && resp.Flags&1 == 1 && subtle.ConstantTimeCompare(resp.NTResponse[:], want[:]) == 1
		okMsg, failMsg = []byte(msgCHAPOK), a.failure()
	case AuthMSCHAPv2:
		resp, err := mschap.ParseV2Response(at.value)
		if err == nil {
			// Worked out for an unknown user too (with an empty
			// password), as the other methods do: an unknown user then
			// takes as long to refuse as a wrong password.
			want := mschap.GenerateNTResponse([16]byte(a.challenge), resp.PeerChallenge, user, pass)
			good = known && subtle.ConstantTimeCompare(resp.NTResponse[:], want[:]) == 1
			auth := mschap.GenerateAuthenticatorResponse(pass, resp.NTResponse, resp.PeerChallenge, [16]byte(a.challenge), user)
			okMsg = []byte(mschap.Success{AuthResponse: auth, Message: msgCHAPOK}.String())
		}
		failMsg = a.failure()
	}
	a.answer(at, good, okMsg, failMsg, why)
}

// failure is ppp's own failure message for the method: pppd's text, for
// MS-CHAPv2 with a new challenge (RFC 2759 §6).
func (a *authServer) failure() []byte {
	switch a.method {
	case AuthPAP:
		return []byte(msgPAPFail)
	case AuthMSCHAPv1:
		return []byte(mschap.Failure{Code: mschap.ErrAuthenticationFailed}.String())
	case AuthMSCHAPv2:
		next := make([]byte, mschap.V2ChallengeLen)
		a.s.random(next)
		return []byte(mschap.Failure{Code: mschap.ErrAuthenticationFailed, Challenge: next, Version: 3, Message: msgCHAPFail}.String())
	}
	return []byte(msgCHAPFail)
}

// answer ends the authentication of at: credentials that are good, and
// that Authorize accepts, get okMsg in an Ack or a Success; any other
// gets failMsg (nil: ppp's own) in a Nak or a Failure. why, when not
// empty, is added to the Down detail of a failure.
func (a *authServer) answer(at attempt, good bool, okMsg, failMsg []byte, why string) {
	proto := a.method.protocol()
	okCode, failCode := CodeCHAPSuccess, CodeCHAPFailure
	if proto == ProtoPAP {
		okCode, failCode = CodePAPAuthAck, CodePAPAuthNak
	}
	name := a.method.String()
	if a.method == AuthPAP {
		name = "PAP" // as it always said
	}
	detail := fmt.Sprintf(`%s authentication of "%s" failed`, name, wireText(at.name))
	if why != "" {
		detail += ": " + why
	}
	if good {
		err := a.authorize(string(at.name))
		if err == nil {
			a.success = a.message(okMsg)
			a.s.send(proto, okCode, a.id, a.success)
			a.succeed(string(at.name))
			return
		}
		detail = refused(a.method, at.name, err)
	}
	if failMsg == nil {
		failMsg = a.failure()
	}
	a.s.send(proto, failCode, a.id, a.message(failMsg))
	a.fail(detail)
}

// message is the data of an Ack, Nak, Success or Failure saying msg, cut
// to what the packet can carry: a PAP message has a one-octet length
// (RFC 1334 §2.2.2), and no packet may exceed the peer's MRU (RFC 1661
// §6.1). ppp's own messages are short; a verifier's may not be.
func (a *authServer) message(msg []byte) []byte {
	room := a.s.peerMRU() - HeaderLen
	if a.method == AuthPAP {
		room = min(room-1, 0xff)
	}
	msg = msg[:min(len(msg), max(room, 0))]
	if a.method == AuthPAP {
		b, _ := PAPResponse{Message: msg}.Append(nil)
		return b
	}
	return msg
}

// verify asks Config.Verify about at on a goroutine of its own; its
// verdict comes back as one of the session's events (verified). The
// Challenge is not resent meanwhile: the peer's Response is in hand, and
// a new Challenge's Response would be to a challenge the verifier was
// not asked about. The deadline keeps running.
func (a *authServer) verify(at attempt) {
	ctx, cancel := context.WithCancel(context.Background())
	call := &verifyCall{cancel: cancel, at: at}
	a.verifying = call
	a.retry.stop()
	c := Credentials{Method: a.method, User: string(at.name)}
	if a.method == AuthPAP {
		c.Password = bytes.Clone(at.value)
	} else {
		c.ID, c.Challenge, c.Response = a.id, bytes.Clone(a.challenge), bytes.Clone(at.value)
	}
	a.s.plog.Debug("ppp: asking the verifier", "method", a.method.String(), "user", wireText(at.name))
	s, verify := a.s, a.s.cfg.Verify
	go func() {
		v := verify(ctx, c)
		// post returns once the session is over (the verdict is then
		// dropped), so this goroutine never outlives Verify's return.
		s.post(func() { a.verified(call, v) })
	}()
}

// verified takes the verifier's verdict on call, on the session's
// goroutine, unless the authentication was abandoned since.
func (a *authServer) verified(call *verifyCall, v Verdict) {
	if a.verifying != call {
		return // stopped since: a late verdict, dropped
	}
	a.verifying = nil
	call.cancel()
	at := call.at
	why := peerlog.Printable(v.Detail)
	verdict := "refused"
	if v.Accept {
		verdict = "accepted"
	} else if v.Local {
		verdict = "check locally"
	}
	a.s.plog.Info("ppp: verifier's verdict", "method", a.method.String(), "user", wireText(at.name), "verdict", verdict, "detail", why)
	switch {
	case v.Accept:
		msg := v.Message
		if a.method == AuthMSCHAPv2 && !looksLikeSuccess(msg) {
			// RFC 2759 §5: the peer checks our authenticator response;
			// without one it would hang up, or be fooled by ours.
			bad := "the verifier's MS-CHAPv2 Success lacks S=<40 hex digits>"
			if why != "" {
				bad += " (" + why + ")"
			}
			a.answer(at, false, nil, nil, bad)
			return
		}
		if msg == nil {
			msg = []byte(msgCHAPOK)
			if a.method == AuthPAP {
				msg = []byte(msgPAPOK)
			}
		}
		a.answer(at, true, msg, nil, why)
	case v.Local:
		a.checkLocal(at, v.Password, true, why)
	default:
		a.answer(at, false, nil, v.Message, why)
	}
}

// looksLikeSuccess reports whether msg begins as an MS-CHAPv2 Success
// message must: "S=" and the authenticator response in 40 hex digits
// (RFC 2759 §5).
func looksLikeSuccess(msg []byte) bool {
	if len(msg) < 42 || !bytes.HasPrefix(msg, []byte("S=")) {
		return false
	}
	_, err := hex.Decode(make([]byte, 20), msg[2:42])
	return err == nil
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
