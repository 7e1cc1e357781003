package radius

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/vendors/microsoft"
)

// NAS identifies us to the servers. RFC 2865 §4.1: an Access-Request
// carries NAS-IP-Address or NAS-Identifier (or both).
type NAS struct {
	Identifier string     // NAS-Identifier; "" omits it
	IPAddress  netip.Addr // NAS-IP-Address; the zero Addr omits it
}

func (n NAS) valid() error {
	if n.Identifier == "" && !n.IPAddress.IsValid() {
		return errors.New("radius: NAS needs an Identifier or an IPv4 IPAddress (RFC 2865 §4.1)")
	}
	if n.IPAddress.IsValid() && !n.IPAddress.Is4() {
		return errors.New("radius: NAS-IP-Address must be IPv4")
	}
	return nil
}

// Port describes the subscriber's line, for the NAS attributes of every
// request about a session.
type Port struct {
	// ID is NAS-Port-Id (RFC 2869 §5.17): the interface the session is on.
	ID string
	// ClientMAC is sent as Calling-Station-Id in RFC 3580 §3.21's form,
	// "AA-BB-CC-DD-EE-FF", which FreeRADIUS's rewrite_calling_station_id
	// and most servers' policies expect.
	ClientMAC net.HardwareAddr
	// CalledStationID is Called-Station-Id ("" omits it); an AC usually
	// puts its own MAC there (same form) or the service name.
	CalledStationID string
}

// FormatMAC renders a MAC as RFC 3580 §3.21 recommends: upper-case hex
// octets separated by "-".
func FormatMAC(mac net.HardwareAddr) string {
	var sb strings.Builder
	for i, b := range mac {
		if i > 0 {
			sb.WriteByte('-')
		}
		fmt.Fprintf(&sb, "%02X", b)
	}
	return sb.String()
}

// PAP is a PAP login: the password is hidden in User-Password (RFC 2865
// §5.2).
type PAP struct {
	Password Secret
}

// CHAP is a CHAP-MD5 login (RFC 1994): the Identifier and Challenge we
// sent and the peer's 16-octet Response, sent as CHAP-Password and
// CHAP-Challenge (RFC 2865 §5.3, §5.40).
type CHAP struct {
	ID        byte
	Challenge []byte
	Response  []byte
}

// MSCHAPv2 is an MS-CHAPv2 login (RFC 2759), sent as MS-CHAP-Challenge and
// MS-CHAP2-Response (RFC 2548 §2.3.2).
type MSCHAPv2 struct {
	ID                     byte     // the CHAP Identifier
	AuthenticatorChallenge [16]byte // ours
	PeerChallenge          [16]byte
	NTResponse             [24]byte
	Flags                  byte // RFC 2759 §4: zero
}

// Request is one login to authenticate. Exactly one of PAP, CHAP and
// MSCHAPv2 is set.
type Request struct {
	UserName string
	PAP      *PAP
	CHAP     *CHAP
	MSCHAPv2 *MSCHAPv2
	Port     Port
}

// Accept is what an Access-Accept granted. Strings are raw from the wire:
// escape them (peerlog.Text) before logging.
type Accept struct {
	// FramedIP is Framed-IP-Address (RFC 2865 §5.8), zero if absent.
	// 255.255.255.254 means "NAS chooses" and 255.255.255.255 "let the
	// user choose"; the caller decides what to do with them.
	FramedIP   netip.Addr
	FramedPool string // Framed-Pool (RFC 2869 §5.18)
	FramedMTU  uint32 // Framed-MTU, 0 if absent
	// SessionTimeout, IdleTimeout and InterimInterval are 0 if absent.
	SessionTimeout  time.Duration
	IdleTimeout     time.Duration
	InterimInterval time.Duration // Acct-Interim-Interval (RFC 2869 §5.16)
	// Class holds every Class attribute in order, echoed in every
	// accounting record of the session (RFC 2865 §5.25).
	Class [][]byte
	// PrimaryDNS and SecondaryDNS are MS-Primary/Secondary-DNS-Server
	// (RFC 2548 §2.2.3, §2.2.4), zero if absent.
	PrimaryDNS, SecondaryDNS netip.Addr
	// ReplyMessage is every Reply-Message in order (RFC 2865 §5.18).
	ReplyMessage []string
	// MSCHAP2Success is MS-CHAP2-Success (RFC 2548 §2.3.3) as received:
	// the CHAP Identifier then "S=<40 hex>", the authenticator response
	// the client checks. An MS-CHAPv2 Accept without it is refused.
	MSCHAP2Success []byte
	// MPPESendKey and MPPERecvKey are MS-MPPE-Send-Key and -Recv-Key
	// (RFC 2548 §2.4.2, §2.4.3) still encrypted with the secret and the
	// request authenticator (MPPEAuth), nil if absent.
	MPPESendKey, MPPERecvKey []byte
	MPPEAuth                 [16]byte
	// Server is the address of the server that answered.
	Server string
}

// ErrRejected is returned (wrapped in a *RejectError) when the server
// refused the login.
var ErrRejected = errors.New("radius: access rejected")

// RejectError is an Access-Reject (or an Access-Challenge, which a NAS
// without challenge support treats as a reject: RFC 2865 §4.4).
type RejectError struct {
	// ReplyMessage is every Reply-Message in order, raw.
	ReplyMessage []string
	// MSCHAPError is MS-CHAP-Error (RFC 2548 §2.1.5) raw (Identifier then
	// "E=691 R=0 ..."), for the MS-CHAPv2 Failure packet; nil if absent.
	MSCHAPError []byte
	Server      string
}

func (e *RejectError) Error() string { return "radius: access rejected by " + e.Server }

// Is makes errors.Is(err, ErrRejected) hold.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }

// Authenticate sends an Access-Request for r and returns the Accept, or an
// error wrapping ErrRejected (a *RejectError) or ErrNoServer.
func (a *Client) Authenticate(ctx context.Context, r Request) (*Accept, error) {
	if err := r.valid(); err != nil {
		return nil, err
	}
	var reqAuth [16]byte
	reply, s, err := a.exchange(ctx, func(s *server) (*radius.Packet, error) {
		p, err := a.build(r, s.Secret)
		if err == nil {
			reqAuth = p.Authenticator
		}
		return p, err
	}, true, radius.CodeAccessAccept, radius.CodeAccessReject, radius.CodeAccessChallenge)
	if err != nil {
		return nil, err
	}
	if reply.Code != radius.CodeAccessAccept {
		rej := &RejectError{Server: s.Addr}
		rej.ReplyMessage, _ = rfc2865.ReplyMessage_GetStrings(reply)
		rej.MSCHAPError = vendorAttr(reply, msCHAPError)
		return nil, rej
	}
	acc, err := decodeAccept(reply)
	if err != nil {
		return nil, fmt.Errorf("radius: Access-Accept from %s: %w", s.Addr, err)
	}
	if r.MSCHAPv2 != nil && acc.MSCHAP2Success == nil {
		// Without it the client cannot authenticate us (RFC 2759 §5)
		// and hangs up; better to refuse now, saying why.
		return nil, fmt.Errorf("radius: Access-Accept from %s for MS-CHAPv2 without MS-CHAP2-Success", s.Addr)
	}
	acc.MPPEAuth = reqAuth
	acc.Server = s.Addr
	return acc, nil
}

func (r *Request) valid() error {
	n := 0
	if r.PAP != nil {
		n++
		// RFC 2865 §5.2: at most 128 octets.
		if len(r.PAP.Password) > 128 {
			return errors.New("radius: PAP password longer than 128 octets")
		}
	}
	if r.CHAP != nil {
		n++
		if len(r.CHAP.Response) != 16 {
			return errors.New("radius: CHAP-MD5 response is not 16 octets")
		}
		if len(r.CHAP.Challenge) == 0 || len(r.CHAP.Challenge) > 253 {
			return errors.New("radius: CHAP challenge length out of range")
		}
	}
	if r.MSCHAPv2 != nil {
		n++
	}
	if n != 1 {
		return errors.New("radius: request needs exactly one of PAP, CHAP, MSCHAPv2")
	}
	if r.UserName == "" || len(r.UserName) > 253 {
		return errors.New("radius: user name empty or longer than 253 octets")
	}
	return nil
}

// build makes the Access-Request for one server: the User-Password is
// hidden with that server's secret and a fresh Request Authenticator.
func (a *Client) build(r Request, secret Secret) (*radius.Packet, error) {
	p := radius.New(radius.CodeAccessRequest, secret)
	err := errors.Join(
		rfc2865.UserName_SetString(p, r.UserName),
		a.nas.add(p),
		r.Port.add(p),
		rfc2865.ServiceType_Set(p, rfc2865.ServiceType_Value_FramedUser),
		rfc2865.FramedProtocol_Set(p, rfc2865.FramedProtocol_Value_PPP),
	)
	if err != nil {
		return nil, fmt.Errorf("radius: %w", err)
	}
	switch {
	case r.PAP != nil:
		v, err := radius.NewUserPassword(r.PAP.Password, secret, p.Authenticator[:])
		if err != nil {
			return nil, fmt.Errorf("radius: hiding the password: %w", err)
		}
		p.Add(rfc2865.UserPassword_Type, v)
	case r.CHAP != nil:
		v := append([]byte{r.CHAP.ID}, r.CHAP.Response...)
		p.Add(rfc2865.CHAPPassword_Type, v)
		p.Add(rfc2865.CHAPChallenge_Type, append(radius.Attribute(nil), r.CHAP.Challenge...))
	case r.MSCHAPv2 != nil:
		m := r.MSCHAPv2
		// RFC 2548 §2.3.2: Ident, Flags, Peer-Challenge, Reserved (8
		// zero octets), Response.
		v := make([]byte, 0, 50)
		v = append(v, m.ID, m.Flags)
		v = append(v, m.PeerChallenge[:]...)
		v = append(v, make([]byte, 8)...)
		v = append(v, m.NTResponse[:]...)
		if err := errors.Join(
			microsoft.MSCHAPChallenge_Add(p, m.AuthenticatorChallenge[:]),
			microsoft.MSCHAP2Response_Add(p, v),
		); err != nil {
			return nil, fmt.Errorf("radius: %w", err)
		}
	}
	return p, nil
}

func (n NAS) add(p *radius.Packet) error {
	var errs []error
	if n.Identifier != "" {
		errs = append(errs, rfc2865.NASIdentifier_SetString(p, n.Identifier))
	}
	if n.IPAddress.IsValid() {
		errs = append(errs, rfc2865.NASIPAddress_Set(p, n.IPAddress.AsSlice()))
	}
	return errors.Join(errs...)
}

func (pt Port) add(p *radius.Packet) error {
	// RFC 2865 §5.41: Ethernet (15), the port type of PPPoE.
	errs := []error{rfc2865.NASPortType_Set(p, rfc2865.NASPortType_Value_Ethernet)}
	if pt.ID != "" {
		errs = append(errs, rfc2869.NASPortID_SetString(p, pt.ID))
	}
	if len(pt.ClientMAC) > 0 {
		errs = append(errs, rfc2865.CallingStationID_SetString(p, FormatMAC(pt.ClientMAC)))
	}
	if pt.CalledStationID != "" {
		errs = append(errs, rfc2865.CalledStationID_SetString(p, pt.CalledStationID))
	}
	return errors.Join(errs...)
}

// Microsoft (vendor 311) attribute types (RFC 2548).
const (
	msVendor       = 311
	msCHAPError    = 2
	msMPPESendKey  = 16
	msMPPERecvKey  = 17
	msCHAP2Success = 26
	msPrimaryDNS   = 28
	msSecondaryDNS = 29
)

// vendorAttr returns the first Microsoft attribute typ, raw (the
// dictionary's MPPE getters decrypt; we keep the keys as they came).
// Malformed Vendor-Specific attributes are skipped.
func vendorAttr(p *radius.Packet, typ byte) []byte {
	for _, avp := range p.Attributes {
		if avp.Type != rfc2865.VendorSpecific_Type {
			continue
		}
		id, v, err := radius.VendorSpecific(avp.Attribute)
		if err != nil || id != msVendor {
			continue
		}
		for len(v) >= 2 {
			l := int(v[1])
			if l < 2 || l > len(v) {
				break
			}
			if v[0] == typ {
				return append([]byte(nil), v[2:l]...)
			}
			v = v[l:]
		}
	}
	return nil
}

func ipv4Attr(v []byte) (netip.Addr, error) {
	if len(v) != 4 {
		return netip.Addr{}, errors.New("address attribute is not 4 octets")
	}
	return netip.AddrFrom4([4]byte(v)), nil
}

func seconds(p *radius.Packet, t radius.Type) (time.Duration, error) {
	v, ok := p.Lookup(t)
	if !ok {
		return 0, nil
	}
	n, err := radius.Integer(v)
	if err != nil {
		return 0, fmt.Errorf("attribute %d: %w", t, err)
	}
	return time.Duration(n) * time.Second, nil
}

// decodeAccept reads what an Access-Accept grants. A malformed value of an
// attribute we use makes the whole Accept untrusted: a session must not
// run with half its limits.
func decodeAccept(p *radius.Packet) (*Accept, error) {
	a := &Accept{}
	var err error
	if v, ok := p.Lookup(rfc2865.FramedIPAddress_Type); ok {
		if a.FramedIP, err = ipv4Attr(v); err != nil {
			return nil, fmt.Errorf("Framed-IP-Address: %w", err)
		}
	}
	if v, ok := p.Lookup(rfc2869.FramedPool_Type); ok {
		a.FramedPool = string(v)
	}
	if v, ok := p.Lookup(rfc2865.FramedMTU_Type); ok {
		if a.FramedMTU, err = radius.Integer(v); err != nil {
			return nil, fmt.Errorf("Framed-MTU: %w", err)
		}
	}
	if a.SessionTimeout, err = seconds(p, rfc2865.SessionTimeout_Type); err != nil {
		return nil, err
	}
	if a.IdleTimeout, err = seconds(p, rfc2865.IdleTimeout_Type); err != nil {
		return nil, err
	}
	if a.InterimInterval, err = seconds(p, rfc2869.AcctInterimInterval_Type); err != nil {
		return nil, err
	}
	for _, avp := range p.Attributes {
		switch avp.Type {
		case rfc2865.Class_Type:
			a.Class = append(a.Class, append([]byte(nil), avp.Attribute...))
		case rfc2865.ReplyMessage_Type:
			a.ReplyMessage = append(a.ReplyMessage, string(avp.Attribute))
		}
	}
	if v := vendorAttr(p, msPrimaryDNS); v != nil {
		if a.PrimaryDNS, err = ipv4Attr(v); err != nil {
			return nil, fmt.Errorf("MS-Primary-DNS-Server: %w", err)
		}
	}
	if v := vendorAttr(p, msSecondaryDNS); v != nil {
		if a.SecondaryDNS, err = ipv4Attr(v); err != nil {
			return nil, fmt.Errorf("MS-Secondary-DNS-Server: %w", err)
		}
	}
	a.MSCHAP2Success = vendorAttr(p, msCHAP2Success)
	a.MPPESendKey = vendorAttr(p, msMPPESendKey)
	a.MPPERecvKey = vendorAttr(p, msMPPERecvKey)
	return a, nil
}
